"""Data explorer: the flows behind a figure, each once, filtered and sorted in SQL
before the row cap (so "smallest first" is the true smallest), for the table and its
CSV, Excel and Parquet downloads."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import queries
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.domain import SIDE_LABELS
from critmin.filters import Sort, TradeFilter

SORTS = {
    "year": "Year",
    "value_usd": "Value (USD)",
    "quantity_kg": "Quantity (tonnes)",
    "unit_value_usd_per_kg": "Unit value (USD/kg)",
    "exporter": "Exporter",
    "importer": "Importer",
    "hs6": "HS6 code",
}
ORDERS = {"desc": "Largest first", "asc": "Smallest first"}
# The columns the table and the downloads hold, in this order: quantities in metric
# tonnes (BACI's own unit), unit values in USD per kg.
COLUMNS = (
    "year",
    "exporter",
    "importer",
    "hs6",
    "series",
    "value_usd",
    "quantity_t",
    "unit_value_usd_per_kg",
    "side",
    "source",
    "release",
    "hs_edition",
    "description",
)


@dataclass(frozen=True)
class State:
    exporters: tuple[str, ...]
    importers: tuple[str, ...]
    minerals: tuple[str, ...]
    codes: tuple[str, ...]
    year_from: int
    year_to: int
    sides: tuple[str, ...]
    sort: str
    order: str
    stages: tuple[str, ...] = ()  # value-chain stages of the basket codes; () = all

    def trade_filter(self) -> TradeFilter:
        return TradeFilter(
            self.minerals,
            self.codes,
            self.year_from,
            self.year_to,
            sides=self.sides,
            exporters=self.exporters,
            importers=self.importers,
            stages=self.stages,
        )


@dataclass(frozen=True)
class View:
    rows: pl.DataFrame  # COLUMNS
    truncated: bool
    query: str  # the .sql file behind the table
    in_words: str


def build(db: Database, catalog: Catalog, state: State, limit: int | None = None) -> View:
    f = state.trade_filter()
    sort = Sort(state.sort, descending=state.order == "desc")
    if f.has_products:
        result = queries.flows_explorer(db, f, sort, limit)
        rows = result.frame.with_columns((pl.col("quantity_kg") / 1e3).alias("quantity_t"))
        rows, truncated, query = rows.select(COLUMNS), result.truncated, result.query
    else:
        rows, truncated, query = pl.DataFrame(), False, "flows_explorer"
    return View(rows, truncated, query, in_words(catalog, state))


def in_words(catalog: Catalog, state: State) -> str:
    def names(items: tuple[str, ...], anything: str) -> str:
        return ", ".join(catalog.country_name(i) for i in items) if items else anything

    products = [catalog.mineral_label(m) for m in state.minerals] + [f"HS {c}" for c in state.codes]
    sides = ", ".join(SIDE_LABELS[s] for s in state.sides) if state.sides else "any side"
    stages = f" (value-chain stage: {', '.join(state.stages)} only)" if state.stages else ""
    return (
        f"flows of **{', '.join(products) or 'no product'}**{stages} exported by "
        f"**{names(state.exporters, 'any country')}** to "
        f"**{names(state.importers, 'any country')}**, {state.year_from}–{state.year_to}, "
        f"declared as **{sides}**; sorted by {SORTS[state.sort].lower()}, "
        f"{'largest' if state.order == 'desc' else 'smallest'} first"
    )
