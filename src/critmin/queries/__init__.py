"""Typed functions in front of the SQL of `sql/`: one per file, same name.

Each takes plain values (so Streamlit can cache on them), binds them as DuckDB
parameters and returns a `QueryResult` (a polars frame plus a `truncated` flag).
None of them imports Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence

from critmin.db import Database, QueryResult


def _list(values: Sequence[str] | None) -> list[str]:
    return [str(v) for v in (values or ())]


def exports_by_series(
    db: Database,
    exporter: str,
    minerals: Sequence[str],
    codes: Sequence[str],
    year_from: int,
    year_to: int,
    side: str = "reconciled",
) -> QueryResult:
    return db.query(
        "exports_by_series",
        exporter=exporter,
        minerals=_list(minerals),
        codes=_list(codes),
        year_from=year_from,
        year_to=year_to,
        side=side,
    )


def exports_by_partner(
    db: Database,
    exporter: str,
    minerals: Sequence[str],
    codes: Sequence[str],
    year_from: int,
    year_to: int,
    side: str = "reconciled",
) -> QueryResult:
    return db.query(
        "exports_by_partner",
        exporter=exporter,
        minerals=_list(minerals),
        codes=_list(codes),
        year_from=year_from,
        year_to=year_to,
        side=side,
    )


def exporters_by_series(
    db: Database,
    minerals: Sequence[str],
    codes: Sequence[str],
    year_from: int,
    year_to: int,
    side: str = "reconciled",
) -> QueryResult:
    return db.query(
        "exporters_by_series",
        minerals=_list(minerals),
        codes=_list(codes),
        year_from=year_from,
        year_to=year_to,
        side=side,
    )


def imports_by_supplier(
    db: Database,
    importers: Sequence[str],
    minerals: Sequence[str],
    codes: Sequence[str],
    year_from: int,
    year_to: int,
    side: str = "reconciled",
) -> QueryResult:
    return db.query(
        "imports_by_supplier",
        importers=_list(importers),
        minerals=_list(minerals),
        codes=_list(codes),
        year_from=year_from,
        year_to=year_to,
        side=side,
    )


def mirror_flows(
    db: Database,
    exporter: str,
    minerals: Sequence[str],
    codes: Sequence[str],
    year_from: int,
    year_to: int,
) -> QueryResult:
    return db.query(
        "mirror_flows",
        exporter=exporter,
        minerals=_list(minerals),
        codes=_list(codes),
        year_from=year_from,
        year_to=year_to,
    )


def flows_explorer(
    db: Database,
    exporters: Sequence[str],
    importers: Sequence[str],
    minerals: Sequence[str],
    codes: Sequence[str],
    year_from: int,
    year_to: int,
    sides: Sequence[str],
    limit: int | None = None,
) -> QueryResult:
    return db.query(
        "flows_explorer",
        limit=limit,
        exporters=_list(exporters),
        importers=_list(importers),
        minerals=_list(minerals),
        codes=_list(codes),
        year_from=year_from,
        year_to=year_to,
        sides=_list(sides),
    )


def trade_years(db: Database) -> QueryResult:
    return db.query("trade_years")


def deposits(
    db: Database,
    countries: Sequence[str] = (),
    commodities: Sequence[str] = (),
    statuses: Sequence[str] = (),
) -> QueryResult:
    return db.query(
        "deposits",
        countries=_list(countries),
        commodities=_list(commodities),
        statuses=_list(statuses),
    )


def deposit_facets(db: Database, countries: Sequence[str] = ()) -> QueryResult:
    return db.query("deposit_facets", countries=_list(countries))


def production(db: Database, country: str) -> QueryResult:
    return db.query("production", country=country)


def events(db: Database) -> QueryResult:
    return db.query("events")


def countries(db: Database) -> QueryResult:
    return db.query("countries", limit=10_000)


def mineral_baskets(db: Database) -> QueryResult:
    return db.query("mineral_baskets", limit=10_000)


def products(db: Database, codes: Sequence[str]) -> QueryResult:
    return db.query("products", codes=_list(codes))
