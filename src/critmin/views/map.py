"""Map: deposits, mines and plants, next to a country's export flows in one year
(arcs to its partners, partners shaded by value)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import queries
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.filters import DepositFilter, TradeFilter

MAX_ARCS = 25
SITE_COLUMNS = (
    "name",
    "country",
    "commodities",
    "status",
    "deposit_type",
    "lat",
    "lon",
    "location_check",
    "source",
    "source_reference",
)


@dataclass(frozen=True)
class State:
    country: str
    sites_in: tuple[str, ...]
    commodities: tuple[str, ...]
    statuses: tuple[str, ...]
    minerals: tuple[str, ...]
    year: int


@dataclass(frozen=True)
class View:
    name: str
    sites: pl.DataFrame  # the deposits table's columns
    arcs: pl.DataFrame  # from_lon, from_lat, to_lon, to_lat, value_usd, partner
    partner_values: dict[str, float]  # ISO3 -> value received
    exports_usd: float
    partners: int


def build(db: Database, catalog: Catalog, state: State) -> View:
    sites = queries.deposits(
        db, DepositFilter(state.sites_in, state.commodities, state.statuses)
    ).frame
    f = TradeFilter(
        state.minerals,
        (),
        state.year,
        state.year,
        sides=(catalog.default_side(),),
        exporters=(state.country,),
    )
    flows = queries.exports_by_partner(db, f).frame if f.has_products else None
    by_partner = (
        flows.group_by("partner").agg(pl.col("value_usd").sum())
        if flows is not None
        else pl.DataFrame(schema={"partner": pl.String, "value_usd": pl.Float64})
    )
    return View(
        name=catalog.country_name(state.country),
        sites=sites,
        arcs=arcs(catalog, by_partner, catalog.country_points, state.country),
        partner_values=dict(by_partner.iter_rows()),
        exports_usd=float(by_partner["value_usd"].sum()),
        partners=by_partner.height,
    )


def arcs(
    catalog: Catalog, by_partner: pl.DataFrame, points: pl.DataFrame, country: str
) -> pl.DataFrame:
    """From the exporter's map point to each of its largest partners'."""
    origin = points.filter(pl.col("iso3") == country)
    if origin.is_empty() or by_partner.is_empty():
        return pl.DataFrame(
            schema={
                "from_lon": pl.Float64,
                "from_lat": pl.Float64,
                "to_lon": pl.Float64,
                "to_lat": pl.Float64,
                "value_usd": pl.Float64,
                "partner": pl.String,
            }
        )
    o = origin.row(0, named=True)
    return (
        by_partner.join(points, left_on="partner", right_on="iso3", how="inner")
        .filter(pl.col("lat").is_not_null())
        .select(
            pl.lit(o["lon"]).alias("from_lon"),
            pl.lit(o["lat"]).alias("from_lat"),
            pl.col("lon").alias("to_lon"),
            pl.col("lat").alias("to_lat"),
            "value_usd",
            catalog.country("partner"),
        )
        .sort("value_usd", descending=True)
        .head(MAX_ARCS)
    )
