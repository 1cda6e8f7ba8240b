"""Reported vs mirror: a country's exports as it declares them, as its partners
declare them (mirror), and as reconciled by BACI, with the gap between them
(`metrics.mirror_gap`)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import metrics, queries
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.domain import SIDE_LABELS
from critmin.filters import TradeFilter
from critmin.views.common import musd

GAP = "Gap, importer − exporter (USD)"


@dataclass(frozen=True)
class State:
    country: str
    minerals: tuple[str, ...]
    codes: tuple[str, ...]
    year_from: int
    year_to: int
    stages: tuple[str, ...] = ()  # value-chain stages of the basket codes; () = all

    def trade_filter(self) -> TradeFilter:
        return TradeFilter(
            self.minerals,
            self.codes,
            self.year_from,
            self.year_to,
            sides=(),
            exporters=(self.country,),
            stages=self.stages,
        )


@dataclass(frozen=True)
class View:
    name: str
    missing_sides: tuple[str, ...]  # sides with no flows for this request
    by_side: pl.DataFrame  # year, Declaration, value_musd
    per_year: pl.DataFrame  # Year, <side> (USD) ..., Gap (USD), Gap %
    sources: dict[str, str]  # side -> sources that declared it
    by_partner: pl.DataFrame  # Partner, <side> (USD) ..., Gap (USD)
    empty: bool


def usd_column(side: str) -> str:
    return f"{SIDE_LABELS[side]} (USD)"


def build(db: Database, catalog: Catalog, state: State) -> View:
    f = state.trade_filter()
    flows = queries.mirror_flows(db, f).frame if f.has_products else _empty()
    sides = set(flows["side"].to_list())
    by_side = flows.group_by("year", "side").agg(pl.col("value_usd").sum())
    sources = flows.group_by("side").agg(pl.col("source").unique().sort().str.join("+"))
    per_partner = (
        flows.filter(pl.col("year") == state.year_to)
        .group_by("partner", "side")
        .agg(pl.col("value_usd").sum())
    )
    return View(
        name=catalog.country_name(state.country),
        missing_sides=tuple(s for s in SIDE_LABELS if s not in sides),
        by_side=by_side.select(
            "year",
            pl.col("side").replace_strict(SIDE_LABELS, default=pl.col("side")).alias("Declaration"),
            musd(),
        ).sort("Declaration", "year"),
        per_year=side_by_side(by_side, "year").select(
            pl.col("year").alias("Year"),
            *[pl.col(s).alias(usd_column(s)) for s in SIDE_LABELS],
            pl.col("gap_usd").alias(GAP),
            pl.col("gap_pct").round(1).alias("Gap %"),
        ),
        sources=dict(sources.iter_rows()),
        by_partner=side_by_side(per_partner, "partner")
        .sort(["importer_reported", "partner"], descending=[True, False], nulls_last=True)
        .select(
            catalog.country("partner", "Partner"),
            *[pl.col(s).alias(usd_column(s)) for s in SIDE_LABELS],
            pl.col("gap_usd").alias(GAP),
        ),
        empty=flows.is_empty(),
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "year": pl.Int32,
            "partner": pl.String,
            "side": pl.String,
            "source": pl.String,
            "value_usd": pl.Float64,
        }
    )


def side_by_side(frame: pl.DataFrame, index: str) -> pl.DataFrame:
    """One column per declaration side (null where a side has no flow), and the gap."""
    wide = frame.pivot(on="side", index=index, values="value_usd").sort(index)
    missing = [s for s in SIDE_LABELS if s not in wide.columns]
    wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(s) for s in missing)
    return metrics.mirror_gap(wide)
