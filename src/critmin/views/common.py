"""Pieces several views share: a country's largest mineral exports (for the mineral
picker), the events that concern some minerals, and frame helpers for the labels
and units pages show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from critmin import queries
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.filters import TradeFilter


@dataclass(frozen=True)
class ExportsState:
    """What pages about one exporter's exports share: the exporter, the products
    (baskets, codes, stages), the years and the declaration side."""

    country: str
    minerals: tuple[str, ...]
    codes: tuple[str, ...]
    stages: tuple[str, ...]
    year_from: int
    year_to: int
    side: str

    def trade_filter(self) -> TradeFilter:
        return TradeFilter(
            self.minerals,
            self.codes,
            self.year_from,
            self.year_to,
            sides=(self.side,),
            exporters=(self.country,),
            stages=self.stages,
        )


@dataclass(frozen=True)
class LargestExports:
    """A country's mineral exports, ranked, for the picker's "largest exports"."""

    country: str
    side: str
    top: int = 15


def largest_exports(db: Database, catalog: Catalog, ask: LargestExports) -> list[str]:
    """The country's `top` minerals by export value in the last year loaded."""
    last = catalog.years[1]
    f = TradeFilter(
        tuple(catalog.mineral_labels), (), last, last, sides=(ask.side,), exporters=(ask.country,)
    )
    series = queries.exports_by_series(db, f).frame
    ranked = series.sort("value_usd", descending=True)["series"].to_list()
    return ranked[: ask.top]


def events_for(events: pl.DataFrame, minerals: Iterable[str]) -> pl.DataFrame:
    """Events that name one of these minerals, or critical minerals in general ("all")."""
    wanted = [*minerals, "all"]
    return events.filter(pl.col("minerals").list.set_intersection(pl.lit(wanted)).list.len() > 0)


def musd(column: str = "value_usd", alias: str = "value_musd") -> pl.Expr:
    """US dollars as USD million, for charts."""
    return (pl.col(column) / 1e6).alias(alias)


def thousands(values: pl.Expr) -> pl.Expr:
    """Whole numbers as text with thousands separators ("1,400,000"), as a native
    polars expression (no Python function runs per row)."""
    whole = values.round(0).cast(pl.Int64)
    digits = whole.abs().cast(pl.String).str.reverse().str.extract_all(r"\d{1,3}")
    grouped = digits.list.join(",").str.reverse()
    return pl.when(whole < 0).then(pl.lit("-") + grouped).otherwise(grouped)


# How a stage is named in a column header ("Tonnes, ores"); codes chosen directly have
# no stage.
STAGE_SHORT = {
    "ore": "ores",
    "intermediate": "intermediates",
    "refined": "refined",
    "scrap": "waste and scrap",
}
NO_STAGE = "codes chosen"


def stage_names(stages: pl.Series) -> list[str | None]:
    """The stages present, in value-chain order (None last: codes chosen directly)."""
    present = set(stages.to_list())
    return [s for s in (*STAGE_SHORT, None) if s in present]


def _tonnes_and_unit_value(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return (
        frame.group_by(by)
        .agg(pl.col("value_usd", "quantity_kg", "value_with_quantity_usd").sum())
        .with_columns(
            pl.when(pl.col("quantity_kg") > 0)
            .then(pl.col("quantity_kg") / 1e3)
            .otherwise(None)
            .alias("Tonnes"),
            pl.when(pl.col("quantity_kg") > 0)
            .then(pl.col("value_with_quantity_usd") / pl.col("quantity_kg"))
            .otherwise(None)
            .alias("USD/kg"),
        )
    )


def tonnes_of_one_stage(frame: pl.DataFrame, key: str) -> pl.DataFrame | None:
    """Per `key` (a partner, an exporter): "Tonnes" and "USD/kg" when every row is of
    one value-chain stage, to stand beside the value; None when there are several
    (see `by_stage`). `frame` has key, stage, value_usd, quantity_kg and
    value_with_quantity_usd (the value of the flows that report a quantity, so the
    unit value is theirs alone)."""
    if len(stage_names(frame["stage"])) > 1:
        return None
    return _tonnes_and_unit_value(frame, [key]).select(key, "Tonnes", "USD/kg")


def by_stage(frame: pl.DataFrame, key: str, keys: list[str]) -> pl.DataFrame:
    """Per `key` in the order of `keys` and per value-chain stage: the stage's value,
    tonnes and USD/kg, never added across stages (a tonne of ore and a tonne of
    ferroalloy are different goods). Empty when the rows are of one stage."""
    if len(stage_names(frame["stage"])) <= 1:
        return frame.clear().select(key)
    order = {k: i for i, k in enumerate(keys)}
    stage_order = {s: i for i, s in enumerate(STAGE_SHORT)}
    return (
        _tonnes_and_unit_value(frame.filter(pl.col(key).is_in(keys)), [key, "stage"])
        .sort(
            pl.col(key).replace_strict(order, default=len(order)),
            pl.col("stage").replace_strict(stage_order, default=len(stage_order)),
        )
        .select(
            key,
            pl.col("stage")
            .replace_strict(STAGE_SHORT, default=NO_STAGE, return_dtype=pl.String)
            .alias("Stage"),
            pl.col("value_usd").alias("Exports (USD)"),
            "Tonnes",
            "USD/kg",
        )
    )


def one_stage_note(frame: pl.DataFrame) -> str:
    """Under a table of tonnes: what they are (one stage, or per stage)."""
    stages = stage_names(frame["stage"]) if frame.height else []
    if len(stages) == 1:
        name = STAGE_SHORT.get(stages[0] or "", NO_STAGE)
        return (
            f"Tonnes of one stage only ({name}): gross weight of the goods, of the flows "
            "that report a quantity; USD/kg = their value over their weight."
        )
    return (
        "Tonnes and USD/kg are given per value-chain stage, in the table by stage, never "
        "added across stages (a tonne of ore and a tonne of ferroalloy are different "
        "goods); of the flows that report a quantity."
    )
