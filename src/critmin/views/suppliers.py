"""Suppliers: the world market for a mineral basket: top exporters, shares and ranks
over time, a country against its peers, and an importer's view of its suppliers."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import metrics, queries
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.filters import TradeFilter

TOP_EXPORTERS = 12
LEADERS = 8  # exporters with their own band in the shares over time
OTHERS = "Others"


@dataclass(frozen=True)
class State:
    mineral: str
    year_from: int
    year_to: int
    highlight: str
    peers: tuple[str, ...]
    importer: str
    side: str
    stages: tuple[str, ...] = ()  # value-chain stages of the mineral's codes; () = all

    def trade_filter(self) -> TradeFilter:
        return TradeFilter(
            (self.mineral,),
            (),
            self.year_from,
            self.year_to,
            sides=(self.side,),
            stages=self.stages,
        )


@dataclass(frozen=True)
class Importer:
    name: str
    total_usd: float | None
    hhi: float | None  # 0-10,000
    highlight_share: float | None
    table: pl.DataFrame  # Rank, Supplier, Imports (USD), Share %


@dataclass(frozen=True)
class View:
    label: str
    focus: str  # the highlighted country's name
    world_latest_usd: float
    focus_share: float | None
    focus_rank: int | None
    exporters_latest: int
    top3_share: float
    top: pl.DataFrame  # Exporter, Share % (top 12, plus the highlighted country)
    focus_ranks: pl.DataFrame  # year, rank, Exporter
    over_time: pl.DataFrame  # year, Exporter, value_usd, order
    compared: pl.DataFrame  # year, Exporter, share_pct
    importer: Importer
    empty: bool


def build(db: Database, catalog: Catalog, state: State) -> View:
    f = state.trade_filter()
    market = queries.suppliers_market(db, f, catalog.members(state.importer))
    world, purchases = market.world, market.purchases
    ranked = metrics.with_rank(
        metrics.with_shares(world, "value_usd", ["year"]), "value_usd", ["year"]
    )
    latest = ranked.filter(pl.col("year") == state.year_to).sort("rank", "exporter")
    mine = ranked.filter(pl.col("exporter") == state.highlight).sort("year")
    mine_latest = mine.filter(pl.col("year") == state.year_to)
    top = latest.head(TOP_EXPORTERS)
    if state.highlight not in top["exporter"].to_list() and mine_latest.height:
        top = pl.concat([top, mine_latest])
    focus = catalog.country_name(state.highlight)
    return View(
        label=catalog.mineral_label(state.mineral),
        focus=focus,
        world_latest_usd=float(latest["value_usd"].sum()),
        focus_share=float(mine_latest["share"][0]) if mine_latest.height else None,
        focus_rank=int(mine_latest["rank"][0]) if mine_latest.height else None,
        exporters_latest=latest.height,
        top3_share=float(latest.head(3)["share"].sum()),
        top=top.select(
            catalog.country("exporter", "Exporter"), (pl.col("share") * 100).alias("Share %")
        ),
        focus_ranks=mine.select("year", "rank", pl.lit(focus).alias("Exporter")),
        over_time=leaders_over_time(catalog, ranked, latest),
        compared=ranked.filter(pl.col("exporter").is_in([state.highlight, *state.peers])).select(
            "year",
            catalog.country("exporter", "Exporter"),
            (pl.col("share") * 100).alias("share_pct"),
        ),
        importer=importer_view(catalog, purchases, state),
        empty=world.is_empty(),
    )


def leaders_over_time(catalog: Catalog, ranked: pl.DataFrame, latest: pl.DataFrame) -> pl.DataFrame:
    leaders = latest.head(LEADERS)["exporter"].to_list()
    names = [catalog.country_name(e) for e in leaders]
    return (
        ranked.with_columns(
            pl.when(pl.col("exporter").is_in(leaders))
            .then(catalog.country("exporter"))
            .otherwise(pl.lit(OTHERS))
            .alias("Exporter")
        )
        .group_by("year", "Exporter")
        .agg(pl.col("value_usd").sum())
        .with_columns(
            pl.col("Exporter")
            .replace_strict({n: i for i, n in enumerate(names)}, default=99)
            .alias("order")
        )
        .sort("order", "year")
    )


def importer_view(catalog: Catalog, purchases: pl.DataFrame, state: State) -> Importer:
    bought = purchases.group_by("year", "supplier").agg(pl.col("value_usd").sum())
    hhi = metrics.hhi_by(bought, "value_usd", ["year"]).filter(pl.col("year") == state.year_to)
    shares = metrics.with_rank(
        metrics.with_shares(bought.filter(pl.col("year") == state.year_to), "value_usd", []),
        "value_usd",
        [],
    ).sort("rank", "supplier")
    mine = shares.filter(pl.col("supplier") == state.highlight)["share"]
    return Importer(
        name=catalog.country_name(state.importer),
        total_usd=float(shares["value_usd"].sum()) if shares.height else None,
        hhi=float(hhi["hhi"][0]) if hhi.height else None,
        highlight_share=float(mine[0]) if mine.len() else None,
        table=shares.head(15).select(
            pl.col("rank").alias("Rank"),
            catalog.country("supplier", "Supplier"),
            pl.col("value_usd").alias("Imports (USD)"),
            (pl.col("share") * 100).round(2).alias("Share %"),
        ),
    )
