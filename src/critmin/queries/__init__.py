"""Typed functions in front of the SQL of `sql/`: one per file, same name.

Trade queries take a `TradeFilter` (critmin.filters) and bind its fields as the
file's named parameters; the others take the few plain values they need. Each
returns a `QueryResult` (a polars frame plus a `truncated` flag). None of them
imports Streamlit; `views/` call them, and `ui/data.py` caches the views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from critmin.db import Database, QueryResult
from critmin.filters import FACETS, DepositFilter, Grouping, MonthlyFilter, Sort, TradeFilter


@dataclass(frozen=True)
class SuppliersMarket:
    """suppliers_market's rows as the two tables it replaces."""

    world: pl.DataFrame  # as exporters_by_series
    purchases: pl.DataFrame  # as imports_by_supplier of the buyers
    truncated: bool


def exports_by_series(db: Database, f: TradeFilter) -> QueryResult:
    """Exports per year and series (mineral basket or HS6 code)."""
    return db.query("exports_by_series", **f.params())


def exports_total(db: Database, f: TradeFilter) -> QueryResult:
    """Exports per year over all the filter's series, each flow counted once, per group
    of baskets that share codes (the rows add up to the true total)."""
    return db.query("exports_total", **f.params())


def exports_by_stage(db: Database, f: TradeFilter) -> QueryResult:
    """Exports per year and value-chain stage, each flow counted once."""
    return db.query("exports_by_stage", **f.params())


def exports_overview(db: Database, f: TradeFilter) -> QueryResult:
    """exports_total, exports_by_stage and exports_by_partner of the last year in one
    statement, told apart by `part` ("series", "stage", "partner")."""
    return db.query("exports_overview", **f.params())


def exports_by_partner(db: Database, f: TradeFilter) -> QueryResult:
    """Exports per year and importing partner, each flow counted once."""
    return db.query("exports_by_partner", **f.params())


def exports_by_partner_and_stage(db: Database, f: TradeFilter) -> QueryResult:
    """Exports per year, importing partner and value-chain stage, each flow once."""
    return db.query("exports_by_partner_and_stage", **f.params())


def exporters_by_stage(db: Database, f: TradeFilter) -> QueryResult:
    """Every exporter's exports per year and value-chain stage, each flow once."""
    return db.query("exporters_by_stage", **f.params())


def exporters_total(db: Database, f: TradeFilter) -> QueryResult:
    """Every exporter's exports per year and group of baskets that share codes, each
    flow counted once (the world market of each group)."""
    return db.query("exporters_total", **f.params())


def exporters_by_series(db: Database, f: TradeFilter) -> QueryResult:
    """Every exporter's exports per year and series (the world market)."""
    return db.query("exporters_by_series", **f.params())


def imports_by_supplier(db: Database, f: TradeFilter) -> QueryResult:
    """The filter's importers' purchases per year, series and supplier (trade among
    the importers themselves left out)."""
    if not f.importers:
        raise ValueError("imports_by_supplier needs at least one importer")
    return db.query("imports_by_supplier", **f.params())


def suppliers_market(db: Database, f: TradeFilter, buyers: Sequence[str]) -> SuppliersMarket:
    """exporters_by_series over `f` and imports_by_supplier of `buyers` in one statement
    (the Suppliers page). `f` must read every importer: the buyers' purchases are counted
    among its flows."""
    if f.importers:
        raise ValueError("suppliers_market reads every importer; name the buyers instead")
    if not buyers:
        raise ValueError("suppliers_market needs at least one buyer")
    result = db.query("suppliers_market", buyers=list(buyers), **f.params())
    return split_suppliers_market(result.frame, result.truncated)


def split_suppliers_market(rows: pl.DataFrame, truncated: bool = False) -> SuppliersMarket:
    """suppliers_market's rows as exporters_by_series' and imports_by_supplier's, with
    their columns and order."""
    return SuppliersMarket(
        world=rows.select("year", "series", "exporter", "value_usd", "quantity_kg"),
        purchases=rows.filter(pl.col("bought_flows") > 0)
        .select(
            "year",
            "series",
            pl.col("exporter").alias("supplier"),
            pl.col("bought_usd").alias("value_usd"),
            pl.col("bought_kg").alias("quantity_kg"),
        )
        .sort(["series", "year", "value_usd", "supplier"], descending=[False, False, True, False]),
        truncated=truncated,
    )


def mirror_flows(db: Database, f: TradeFilter) -> QueryResult:
    """Exports per year, partner and declaration side, each flow counted once."""
    return db.query("mirror_flows", **f.params())


def flows_explorer(
    db: Database, f: TradeFilter, sort: Sort | None = None, limit: int | None = None
) -> QueryResult:
    """The flows themselves, each once, sorted in SQL before the row cap."""
    return db.query("flows_explorer", limit=limit, sort=sort, **f.params())


def flows_grouped(
    db: Database, f: TradeFilter, g: Grouping, sort: Sort, limit: int | None = None
) -> QueryResult:
    """The flows summed by the grouping's dimensions, with the totals first (`part`),
    sorted in SQL before the row cap."""
    return db.query("flows_grouped", limit=limit, sort=sort, **f.params(), **g.params())


def flows_facet(db: Database, f: TradeFilter, facet: str) -> QueryResult:
    """How many flows, and how much value, each value of one filter (`facet`) matches
    under `f`, whose own field for that filter the caller leaves empty."""
    if facet not in FACETS:
        raise ValueError(f"unknown facet {facet!r}; known: {FACETS}")
    return db.query("flows_facet", facet=facet, per_mineral=facet == "mineral", **f.params())


def trade_years(db: Database) -> QueryResult:
    return db.query("trade_years")


def deposits(db: Database, f: DepositFilter, limit: int | None = None) -> QueryResult:
    """The sites with every column, sorted by country and name; the first `limit`."""
    return db.query("deposits", limit=limit, **f.params())


def site_points(db: Database, f: DepositFilter) -> QueryResult:
    """The sites' columns the Map draws and counts, unsorted."""
    return db.query("site_points", **f.params())


def deposit_facets(db: Database, countries: tuple[str, ...] = ()) -> QueryResult:
    return db.query("deposit_facets", countries=list(countries))


def production(db: Database, countries: tuple[str, ...], limit: int | None = None) -> QueryResult:
    """USGS production, reserves and capacity figures of the given countries (of every
    country when none is given)."""
    return db.query("production", limit=limit, countries=list(countries))


def events(db: Database) -> QueryResult:
    return db.query("events")


def countries(db: Database) -> QueryResult:
    return db.query("countries", limit=10_000)


def mineral_baskets(db: Database) -> QueryResult:
    return db.query("mineral_baskets", limit=10_000)


def products(db: Database, codes: tuple[str, ...]) -> QueryResult:
    return db.query("products", codes=list(codes))


# Seven HS editions of about 5,400 codes each: every code of every edition loaded.
CODE_TEXTS_MAX = 100_000


def quantity_coverage(db: Database) -> QueryResult:
    """Flows and flows with a quantity per source, release, side and year."""
    return db.query("quantity_coverage")


def code_texts(db: Database, editions: Sequence[str]) -> QueryResult:
    """Every HS6 code of these editions with its text."""
    return db.query("code_texts", limit=CODE_TEXTS_MAX, editions=list(editions))


# --- monthly declarations ----------------------------------------------------------------


def monthly_by_partner(db: Database, f: MonthlyFilter, exporter: str) -> QueryResult:
    """An exporter's monthly exports of the filter's codes by partner, as declared by the
    partners (mirror) and/or the exporter, a customs office's figure before UN Comtrade's."""
    if not f.minerals:
        raise ValueError("monthly_by_partner needs at least one mineral")
    return db.query("monthly_by_partner", exporter=exporter, sides=list(f.sides), **f.params())


def monthly_imports(db: Database, f: MonthlyFilter, importers: Sequence[str]) -> QueryResult:
    """The importers' monthly purchases of the filter's codes by supplier (trade among
    the importers left out)."""
    if not f.minerals or not importers:
        raise ValueError("monthly_imports needs minerals and at least one importer")
    return db.query("monthly_imports", importers=list(importers), **f.params())


# Reporters x sources x classifications x months: about 200 x 3 x 2 x 36 when every
# reporter's last three years are loaded; past this the catalog says it holds too much.
MONTHLY_PUBLISHED_ROWS_MAX = 500_000


def monthly_published(db: Database) -> QueryResult:
    """The months each reporter has published per source, side and classification (the
    derived table whole: reporters x sources x months)."""
    return db.query("monthly_published", limit=MONTHLY_PUBLISHED_ROWS_MAX)


def monthly_mirror(
    db: Database, exporter: str, series: Sequence[str], ym_from: int, ym_to: int
) -> QueryResult:
    """An exporter's exports per month, partner and source as the partners declare them,
    for each series (a mineral, or derive.ALL_MINERALS for every basket code together)."""
    return db.query(
        "monthly_mirror", exporter=exporter, series=list(series), ym_from=ym_from, ym_to=ym_to
    )


def exports_by_series_partner(db: Database, f: TradeFilter) -> QueryResult:
    """Exports per year, series and partner (a shared code counts under each series)."""
    return db.query("exports_by_series_partner", **f.params())


def national_lines(db: Database) -> QueryResult:
    return db.query("national_lines", limit=10_000)
