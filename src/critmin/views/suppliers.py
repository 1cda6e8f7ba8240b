"""Suppliers: the world market for a mineral basket: top exporters, shares and ranks
over time, a country against its peers, and an importer's view of its suppliers."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import metrics, queries
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.filters import TradeFilter
from critmin.views.common import by_stage, one_stage_note, tonnes_of_one_stage
from critmin.views.exact import purchases as exact_purchases

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
    product: str = "basket"  # or "exact": the importer's exact national lines (views.exact)

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
    table: pl.DataFrame  # Rank, Supplier, Imports (USD), Share %[, Imports (t) of one stage]
    note: str | None = None  # what the exact product is read from, or why not


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
    # Rank, Exporter, Exports (USD), Share %, tonnes and USD/kg per stage: the top
    # exporters in the last year, and the highlighted country against its peers (with
    # CAGR over the window and the last year's change)
    leaders: pl.DataFrame
    peers_table: pl.DataFrame
    # Exporter, Stage, Exports (USD), Tonnes, USD/kg of the leaders and of the peers,
    # when the mineral's codes are of several stages (else empty: the tables hold them)
    leaders_by_stage: pl.DataFrame
    peers_by_stage: pl.DataFrame
    tonnes_note: str


def build(db: Database, catalog: Catalog, state: State) -> View:
    f = state.trade_filter()
    market = queries.suppliers_market(db, f, catalog.members(state.importer))
    staged = queries.exporters_by_stage(db, f).frame
    world, purchases = market.world, market.purchases
    note = None
    if state.product == "exact":
        exact, note = exact_purchases(
            db, catalog, state.importer, state.mineral, state.year_from, state.year_to
        )
        if exact is not None:
            purchases = exact.purchases
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
    one_stage = len(set(staged["stage"].to_list())) <= 1
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
        importer=importer_view(catalog, purchases, state, note, one_stage),
        empty=world.is_empty(),
        leaders=exporter_table(catalog, latest.head(TOP_EXPORTERS), staged, state.year_to),
        peers_table=peers(catalog, ranked, staged, state),
        leaders_by_stage=stage_table(
            catalog, staged, state.year_to, latest.head(TOP_EXPORTERS)["exporter"].to_list()
        ),
        peers_by_stage=stage_table(
            catalog, staged, state.year_to, list(dict.fromkeys([state.highlight, *state.peers]))
        ),
        tonnes_note=one_stage_note(staged),
    )


def exporter_table(
    catalog: Catalog, latest: pl.DataFrame, staged: pl.DataFrame, year: int
) -> pl.DataFrame:
    """Exporters of the last year with their value, share and rank, and beside them
    tonnes and USD/kg per value-chain stage."""
    tonnes = tonnes_of_one_stage(staged.filter(pl.col("year") == year), "exporter")
    if tonnes is not None:
        latest = latest.join(tonnes, on="exporter", how="left")
    return latest.sort("rank", "exporter").select(
        pl.col("rank").alias("Rank"),
        catalog.country("exporter", "Exporter"),
        pl.col("value_usd").alias(f"Exports {year} (USD)"),
        (pl.col("share") * 100).round(2).alias("Share %"),
        pl.exclude("rank", "exporter", "value_usd", "share", "year", "series", "quantity_kg"),
    )


def peers(
    catalog: Catalog, ranked: pl.DataFrame, staged: pl.DataFrame, state: State
) -> pl.DataFrame:
    """The highlighted country against its peers in the last year: value, share, rank,
    growth (CAGR over the window, change on the year before), tonnes and USD/kg per
    stage. A peer with no exports that year is listed with empty cells."""
    countries = list(dict.fromkeys([state.highlight, *state.peers]))
    mine = ranked.filter(pl.col("exporter").is_in(countries))
    growth = metrics.window_cagr(mine, "value_usd", state.year_from, state.year_to, ["exporter"])
    change = metrics.with_yoy(mine, "value_usd", ["exporter"]).filter(
        pl.col("year") == state.year_to
    )
    latest = mine.filter(pl.col("year") == state.year_to)
    tonnes = tonnes_of_one_stage(staged.filter(pl.col("year") == state.year_to), "exporter")
    order = {c: i for i, c in enumerate(countries)}
    table = (
        pl.DataFrame({"exporter": countries}, schema={"exporter": pl.String})
        .join(latest.select("exporter", "value_usd", "share", "rank"), on="exporter", how="left")
        .join(growth.select("exporter", "cagr"), on="exporter", how="left")
        .join(change.select("exporter", "value_usd_yoy"), on="exporter", how="left")
    )
    if tonnes is not None:
        table = table.join(tonnes, on="exporter", how="left")
    return table.sort(pl.col("exporter").replace_strict(order, default=len(order))).select(
        catalog.country("exporter", "Exporter"),
        pl.col("value_usd").alias(f"Exports {state.year_to} (USD)"),
        (pl.col("share") * 100).round(2).alias("World share %"),
        pl.col("rank").alias("Rank"),
        (pl.col("cagr") * 100).round(1).alias(f"CAGR {state.year_from}–{state.year_to} %"),
        (pl.col("value_usd_yoy") * 100).round(1).alias(f"Change on {state.year_to - 1} %"),
        pl.exclude("exporter", "value_usd", "share", "rank", "cagr", "value_usd_yoy"),
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


def stage_table(
    catalog: Catalog, staged: pl.DataFrame, year: int, exporters: list[str]
) -> pl.DataFrame:
    """These exporters' value, tonnes and USD/kg per value-chain stage in the year."""
    return by_stage(staged.filter(pl.col("year") == year), "exporter", exporters).select(
        catalog.country("exporter", "Exporter"), pl.exclude("exporter")
    )


def importer_view(
    catalog: Catalog,
    purchases: pl.DataFrame,
    state: State,
    note: str | None = None,
    one_stage: bool = True,
) -> Importer:
    """The importer's suppliers in the last year; their tonnes only when the mineral's
    codes are of one value-chain stage (tonnes of different stages are not added)."""
    one_stage = one_stage and "quantity_kg" in purchases.columns
    quantity = pl.col("quantity_kg").sum() if one_stage else pl.lit(None, dtype=pl.Float64)
    bought = purchases.group_by("year", "supplier").agg(
        pl.col("value_usd").sum(), quantity.alias("quantity_kg")
    )
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
            *(
                [
                    pl.when(pl.col("quantity_kg") > 0)
                    .then(pl.col("quantity_kg") / 1e3)
                    .alias("Imports (t)")
                ]
                if one_stage
                else []
            ),
        ),
        note=note,
    )
