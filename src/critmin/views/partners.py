"""Partners: where a country's mineral exports go, how the partner mix shifted, and how
concentrated the destinations are (HHI)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import metrics, queries
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.domain import PARTNER_GROUPS, REST_OF_WORLD
from critmin.views.common import (
    ExportsState,
    by_stage,
    musd,
    one_stage_note,
    tonnes_of_one_stage,
)

SCALES = {"10000": "0–10,000 (shares in %)", "1": "0–1 (shares as fractions, WITS)"}
GROUPINGS = {"group": "Partner groups", "partner": "Top 8 partners"}
TOP_PARTNERS = 8


@dataclass(frozen=True)
class State(ExportsState):
    compare: tuple[str, ...]
    scale: str
    by: str


@dataclass(frozen=True)
class View:
    name: str
    by_partner: pl.DataFrame  # year, partner, value_usd (each flow once)
    shares: pl.DataFrame  # year, group, value_usd, order, share, share_pct
    compared: pl.DataFrame  # year, Partner, value_musd
    hhi: pl.DataFrame  # year, hhi, members, measure
    latest_hhi: float | None  # on the chosen scale
    latest_band: str | None  # US merger-guidance band
    # Rank, Partner, ISO3, Exports (USD), Share %, Change on <y-1> %[, Tonnes, USD/kg
    # when the flows are of one value-chain stage]
    ranked: pl.DataFrame
    by_stage: pl.DataFrame  # Partner, Stage, Exports (USD), Tonnes, USD/kg (several stages)
    tonnes_note: str  # what the tonnes are (one stage, or per stage)


def build(db: Database, catalog: Catalog, state: State) -> View:
    f = state.trade_filter()
    flows = queries.exports_by_partner(db, f).frame if f.has_products else _empty()
    staged = (
        queries.exports_by_partner_and_stage(db, f.years(state.year_to)).frame
        if f.has_products
        else _empty_staged()
    )
    by_partner = flows.select("year", "partner", "value_usd")
    concentration = metrics.hhi_by(by_partner, "value_usd", ["year"], state.scale)
    latest = concentration.filter(pl.col("year") == state.year_to)["hhi"]
    latest_hhi = float(latest[0]) if latest.len() else None
    table = ranked(catalog, by_partner, state.year_to)
    on_10000 = (
        None if latest_hhi is None else latest_hhi * (1 if state.scale == "10000" else 10_000)
    )
    return View(
        name=catalog.country_name(state.country),
        by_partner=by_partner,
        shares=partner_shares(catalog, by_partner, state.by),
        compared=by_partner.filter(pl.col("partner").is_in(list(state.compare))).select(
            "year", catalog.country("partner", "Partner"), musd()
        ),
        hhi=concentration.with_columns(pl.lit("HHI").alias("measure")),
        latest_hhi=latest_hhi,
        latest_band=None if on_10000 is None else metrics.hhi_band(on_10000),
        ranked=with_tonnes(table, staged),
        by_stage=stage_table(catalog, table, staged),
        tonnes_note=one_stage_note(staged),
    )


def with_tonnes(table: pl.DataFrame, staged: pl.DataFrame) -> pl.DataFrame:
    """The ranked partners with their tonnes and USD/kg, when of one stage."""
    tonnes = tonnes_of_one_stage(staged, "partner")
    if tonnes is None:
        return table
    return table.join(tonnes.rename({"partner": "ISO3"}), on="ISO3", how="left")


def stage_table(catalog: Catalog, table: pl.DataFrame, staged: pl.DataFrame) -> pl.DataFrame:
    """The ranked partners' value, tonnes and USD/kg per value-chain stage."""
    return by_stage(staged, "partner", table["ISO3"].to_list()).select(
        catalog.country("partner", "Partner"), pl.exclude("partner")
    )


def _empty_staged() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "year": pl.Int32,
            "partner": pl.String,
            "stage": pl.String,
            "value_usd": pl.Float64,
            "quantity_kg": pl.Float64,
            "value_with_quantity_usd": pl.Float64,
        }
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "year": pl.Int32,
            "partner": pl.String,
            "value_usd": pl.Float64,
            "quantity_kg": pl.Float64,
        }
    )


def group_of(catalog: Catalog, column: str = "partner") -> pl.Expr:
    """Each partner's group (China, Russia, ..., EU27, C5 neighbours, Rest of world)."""
    mapping: dict[str, str] = {}
    for group, members in PARTNER_GROUPS.items():
        for iso3 in members or catalog.country_groups.get(group, ()):
            mapping.setdefault(iso3, group)
    return pl.col(column).replace_strict(mapping, default=REST_OF_WORLD).alias("group")


def partner_shares(catalog: Catalog, by_partner: pl.DataFrame, by: str) -> pl.DataFrame:
    if by == "group":
        grouped = by_partner.with_columns(group_of(catalog))
        order = {g: i for i, g in enumerate([*PARTNER_GROUPS, REST_OF_WORLD])}
    else:
        top = (
            by_partner.group_by("partner")
            .agg(pl.col("value_usd").sum())
            .sort("value_usd", descending=True)
            .head(TOP_PARTNERS)["partner"]
            .to_list()
        )
        grouped = by_partner.with_columns(
            pl.when(pl.col("partner").is_in(top))
            .then(catalog.country("partner"))
            .otherwise(pl.lit(REST_OF_WORLD))
            .alias("group")
        )
        order = {
            g: i for i, g in enumerate([*(catalog.country_name(p) for p in top), REST_OF_WORLD])
        }
    groups = (
        grouped.group_by("year", "group")
        .agg(pl.col("value_usd").sum())
        .with_columns(pl.col("group").replace_strict(order, default=99).alias("order"))
    )
    return (
        metrics.with_shares(groups, "value_usd", ["year"])
        .with_columns((pl.col("share") * 100).alias("share_pct"))
        .sort("order", "year")
    )


def ranked(catalog: Catalog, by_partner: pl.DataFrame, year_to: int) -> pl.DataFrame:
    latest = metrics.with_rank(
        metrics.with_shares(by_partner.filter(pl.col("year") == year_to), "value_usd", []),
        "value_usd",
        [],
    )
    previous = by_partner.filter(pl.col("year") == year_to - 1).select(
        "partner", pl.col("value_usd").alias("previous")
    )
    return (
        latest.join(previous, on="partner", how="left")
        .sort("rank", "partner")
        .select(
            pl.col("rank").alias("Rank"),
            catalog.country("partner", "Partner"),
            pl.col("partner").alias("ISO3"),
            pl.col("value_usd").alias("Exports (USD)"),
            (pl.col("share") * 100).round(1).alias("Share %"),
            ((pl.col("value_usd") / pl.col("previous") - 1) * 100)
            .round(1)
            .alias(f"Change on {year_to - 1} %"),
        )
    )
