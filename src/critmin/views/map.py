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
TABLE_ROWS = 200  # the page's table; each row costs every rerun ~0.2 kB
SITE_COLUMNS = (  # the table's and the download's
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
    stages: tuple[str, ...] = ()  # value-chain stages of the flows' codes; () = all


@dataclass(frozen=True)
class View:
    name: str
    sites: pl.DataFrame  # every matching site: site_points' columns (the map, the counts)
    table: pl.DataFrame  # the first TABLE_ROWS of them with SITE_COLUMNS
    sites_filter: DepositFilter  # what the download asks for (`all_sites`)
    arcs: pl.DataFrame  # from_lon, from_lat, to_lon, to_lat, value_usd, partner
    partner_values: dict[str, float]  # ISO3 -> value received
    exports_usd: float
    partners: int


def build(db: Database, catalog: Catalog, state: State) -> View:
    # The map and the counts need a few columns of every site; the long text (source
    # references) only the table's first rows and the download, which asks at a click.
    sites_filter = DepositFilter(state.sites_in, state.commodities, state.statuses)
    sites = queries.site_points(db, sites_filter).frame
    table = queries.deposits(db, sites_filter, limit=TABLE_ROWS).frame.select(SITE_COLUMNS)
    f = TradeFilter(
        state.minerals,
        (),
        state.year,
        state.year,
        sides=(catalog.default_side(),),
        exporters=(state.country,),
        stages=state.stages,
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
        table=table,
        sites_filter=sites_filter,
        arcs=arcs(catalog, by_partner, catalog.country_points, state.country),
        partner_values=dict(by_partner.iter_rows()),
        exports_usd=float(by_partner["value_usd"].sum()),
        partners=by_partner.height,
    )


def all_sites(db: Database, f: DepositFilter) -> pl.DataFrame:
    """Every site `f` matches with SITE_COLUMNS (the download), in the table's order."""
    return queries.deposits(db, f).frame.select(SITE_COLUMNS)


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
