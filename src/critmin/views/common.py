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
