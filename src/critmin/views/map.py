"""Map: deposits, mines and plants, next to a country's export flows in one year
(arcs to its partners, partners shaded by value, and the same flows as a table).

A site that several USGS compilations list (the same name, a bracketed note aside, in
the same country within a tenth of a degree) is one site, with the commodities and
sources of all its records; commodities are named as users know them
(reference/commodity_names.csv: "Cr" is chromium)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import queries, reference
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.filters import DepositFilter, TradeFilter
from critmin.views.common import one_stage_note, tonnes_of_one_stage

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
    "records",
)
SAME_SITE_DEG = 0.15  # how far (degrees, about 15 km) two records of one site may lie
UNNAMED = ("", "unnamed", "unknown", "no name")  # names that name no site


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
    # Every matching site once (site_points' columns and `records`): of at most the row
    # cap of records, the first by country and name (`truncated` says when more match).
    sites: pl.DataFrame
    records: int  # the records behind them (a site listed by several compilations)
    table: pl.DataFrame  # the first TABLE_ROWS records' sites with SITE_COLUMNS
    sites_filter: DepositFilter  # what the download asks for (`all_sites`)
    arcs: pl.DataFrame  # from_lon, from_lat, to_lon, to_lat, value_usd, partner
    partner_values: dict[str, float]  # ISO3 -> value received
    exports_usd: float
    partners: int
    # The arcs as a table: Rank, Partner, Exports (USD), Share %[, Tonnes, USD/kg of
    # one stage], and what its tonnes are
    flows: pl.DataFrame
    tonnes_note: str
    truncated: bool = False  # more sites match than the row cap: map and download say so


def build(db: Database, catalog: Catalog, state: State) -> View:
    # The map and the counts need a few columns of every site; the long text (source
    # references) only the table's first rows and the download, which asks at a click.
    sites_filter = DepositFilter(state.sites_in, state.commodities, state.statuses)
    points = queries.site_points(db, sites_filter)
    records = points.frame
    table = site_table(queries.deposits(db, sites_filter, limit=TABLE_ROWS).frame)
    f = TradeFilter(
        state.minerals,
        (),
        state.year,
        state.year,
        sides=(catalog.default_side(),),
        exporters=(state.country,),
        stages=state.stages,
    )
    staged = (
        queries.exports_by_partner_and_stage(db, f).frame
        if f.has_products
        else pl.DataFrame(
            schema={
                "partner": pl.String,
                "stage": pl.String,
                "value_usd": pl.Float64,
                "quantity_kg": pl.Float64,
                "value_with_quantity_usd": pl.Float64,
            }
        )
    )
    by_partner = staged.group_by("partner").agg(pl.col("value_usd").sum())
    return View(
        name=catalog.country_name(state.country),
        sites=one_per_site(records),
        records=records.height,
        table=table,
        sites_filter=sites_filter,
        arcs=arcs(catalog, by_partner, catalog.country_points, state.country),
        partner_values=dict(by_partner.iter_rows()),
        exports_usd=float(by_partner["value_usd"].sum()),
        partners=by_partner.height,
        flows=flow_table(catalog, by_partner, staged),
        tonnes_note=one_stage_note(staged)
        if tonnes_of_one_stage(staged, "partner") is not None
        else "Tonnes are shown for one value-chain stage at a time: choose one in the sidebar "
        "(a tonne of ore and a tonne of ferroalloy are different goods).",
        truncated=points.truncated,
    )


def all_sites(db: Database, f: DepositFilter) -> pl.DataFrame:
    """The sites `f` matches with SITE_COLUMNS, in the table's order and under the same
    row cap as the map's: exactly the sites the map draws."""
    return site_table(queries.deposits(db, f).frame)


def one_per_site(records: pl.DataFrame) -> pl.DataFrame:
    """One row per site: records with the same name (case, punctuation and a bracketed
    note such as "(Kempirsai group)" aside) in the same country, within SAME_SITE_DEG
    of the first of them (by name, then position), are one site, with the commodities
    of all of them (in the order first listed), the first known status, their sources,
    and how many records they are. Records without coordinates stay apart; unnamed ones
    are one site only at the very same point with the same commodities."""
    key = (
        pl.col("name")
        .fill_null("")
        .str.to_lowercase()
        .str.replace_all(r"\([^)]*\)", " ")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )
    located = pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
    unnamed = (
        pl.lit("~")
        + pl.col("lat").round(4).cast(pl.String)
        + pl.col("lon").round(4).cast(pl.String)
        + pl.col("commodities").list.join(",").fill_null("")
    )
    row = pl.lit("#") + pl.col("_row").cast(pl.String)
    # Sorted first, so the sites are the same whatever order the records come in (the
    # map's points and the table's and download's rows).
    ordered = records.sort("country", "name", "lat", "lon", nulls_last=True, maintain_order=True)
    keyed = ordered.with_row_index("_row").with_columns(
        pl.when(~located)
        .then(row)
        .when(key.is_in(list(UNNAMED)))
        .then(unnamed)
        .otherwise(key)
        .alias("_key")
    )
    group = ["country", "_key"]
    near = ((pl.col("lat") - pl.col("lat").first().over(group)).abs() <= SAME_SITE_DEG) & (
        (pl.col("lon") - pl.col("lon").first().over(group)).abs() <= SAME_SITE_DEG
    )
    clustered = keyed.with_columns(pl.when(near).then(pl.lit("")).otherwise(row).alias("_far"))
    known = pl.col("status").filter(pl.col("status").fill_null("unknown") != "unknown")
    texts = [c for c in ("deposit_type", "location_check") if c in records.columns]
    joined = [c for c in ("source", "source_reference") if c in records.columns]
    return (
        clustered.group_by("country", "_key", "_far", maintain_order=True)
        .agg(
            pl.col("name").first(),
            pl.col("lat").first(),
            pl.col("lon").first(),
            pl.col("commodities")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique(maintain_order=True),
            known.first().fill_null(pl.col("status").first()).alias("status"),
            *[pl.col(c).drop_nulls().first() for c in texts],
            *[pl.col(c).drop_nulls().unique(maintain_order=True).str.join("; ") for c in joined],
            pl.len().cast(pl.Int64).alias("records"),
        )
        .drop("_key", "_far")
    )


def site_table(records: pl.DataFrame) -> pl.DataFrame:
    """The sites of these records (one row per site) with SITE_COLUMNS, commodities
    named ("Chromium, Iron"), in the records' order."""
    return (
        one_per_site(records)
        .with_columns(reference.commodity_names_expr().list.join(", ").alias("commodities"))
        .select(SITE_COLUMNS)
    )


def flow_table(catalog: Catalog, by_partner: pl.DataFrame, staged: pl.DataFrame) -> pl.DataFrame:
    """The flows the arcs draw, as a table: partners by value, with their share and,
    when the flows are of one value-chain stage, tonnes and USD/kg."""
    total = float(by_partner["value_usd"].sum())
    table = by_partner.sort(["value_usd", "partner"], descending=[True, False]).with_row_index(
        "Rank", offset=1
    )
    tonnes = tonnes_of_one_stage(staged, "partner")
    if tonnes is not None:
        table = table.join(tonnes, on="partner", how="left")
    return table.select(
        pl.col("Rank").cast(pl.Int32),
        catalog.country("partner", "Partner"),
        pl.col("value_usd").alias("Exports (USD)"),
        (pl.col("value_usd") / total * 100 if total else pl.lit(None, dtype=pl.Float64))
        .round(1)
        .alias("Share %"),
        pl.exclude("Rank", "partner", "value_usd"),
    )


def sites_download(db: Database, catalog: Catalog, state: State) -> pl.DataFrame:
    """The Map's download (a view function, built at the click): `all_sites` of the
    page's filters."""
    return all_sites(db, DepositFilter(state.sites_in, state.commodities, state.statuses))


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
