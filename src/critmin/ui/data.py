"""Cached access to the warehouse for the pages.

`database()` opens the process-wide DuckDB connection once (`st.cache_resource`);
`query(name, *args)` runs a function of `critmin.queries` through
`st.cache_data`, keyed on plain values plus the warehouse's version, so a
re-ingest invalidates what was cached. Reference lookups (countries, baskets,
years) are cached the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st

from critmin import queries
from critmin.db import Database, QueryResult, QueryTimeout, TableUnavailable, open_database
from critmin.domain import HS_EDITIONS, latest_full_year
from critmin.settings import load_settings
from critmin.warehouse import Warehouse, WarehouseError


@st.cache_resource(show_spinner=False)
def _open(data_dir: str, version: str) -> Database:
    settings = load_settings()
    return open_database(settings)


def _ensure_warehouse() -> Warehouse:
    settings = load_settings()
    warehouse = Warehouse(settings.data_dir)
    if not warehouse.exists() and settings.data_dir_is_default and not settings.data_dir.exists():
        from critmin.demo import build_demo

        with st.spinner("Building the embedded demo warehouse (first start, a few seconds)..."):
            build_demo(settings.data_dir)
    return warehouse


def warehouse_version() -> tuple[str, str]:
    """(data dir, manifest timestamp): the cache key of everything read from it."""
    warehouse = _ensure_warehouse()
    manifest = warehouse.manifest()
    return str(warehouse.root), str(manifest.get("updated_at", ""))


def database() -> Database:
    data_dir, version = warehouse_version()
    return _open(data_dir, version)


@st.cache_data(show_spinner=False, max_entries=512, ttl=6 * 3600)
def _cached(data_dir: str, version: str, name: str, args: tuple[Any, ...]) -> QueryResult:
    function = getattr(queries, name)
    return function(_open(data_dir, version), *args)


def query(name: str, *args: Any) -> QueryResult:
    """Run critmin.queries.<name>(db, *args), cached; list arguments become tuples."""
    frozen = tuple(tuple(a) if isinstance(a, list | tuple) else a for a in args)
    data_dir, version = warehouse_version()
    try:
        return _cached(data_dir, version, name, frozen)
    except (QueryTimeout, TableUnavailable) as error:
        # Shown on the page that needs the query; other pages keep working.
        st.error(str(error), icon=":material/error:")
        st.stop()


def frame(name: str, *args: Any) -> pl.DataFrame:
    return query(name, *args).frame


@dataclass(frozen=True)
class Reference:
    country_names: dict[str, str]
    country_groups: dict[str, list[str]]
    mineral_labels: dict[str, str]
    basket_codes: pl.DataFrame
    years: tuple[int, int]
    trade_sources: tuple[str, ...]
    trade_sides: tuple[str, ...]
    editions: tuple[str, ...]
    exporters: tuple[str, ...]


@st.cache_data(show_spinner=False)
def _reference(data_dir: str, version: str) -> Reference:
    db = _open(data_dir, version)
    countries = queries.countries(db).frame
    baskets = queries.mineral_baskets(db).frame
    years = queries.trade_years(db).frame
    groups: dict[str, list[str]] = {}
    for iso3, members in countries.select("iso3", "groups").iter_rows():
        for group in members or []:
            groups.setdefault(group, []).append(iso3)
    first, last = (
        (int(years["year"].min()), int(years["year"].max()))  # type: ignore[arg-type]
        if years.height
        else (2012, latest_full_year())
    )
    labels = dict(baskets.select("mineral", "label").unique().iter_rows())
    return Reference(
        country_names=dict(countries.select("iso3", "name").iter_rows()),
        country_groups=groups,
        mineral_labels=dict(sorted(labels.items(), key=lambda kv: kv[1])),
        basket_codes=baskets,
        years=(first, last),
        trade_sources=tuple(sorted(set(years["source"].to_list()))),
        trade_sides=tuple(sorted(set(years["side"].to_list()))),
        editions=tuple(e for e in HS_EDITIONS if e in set(years["hs_edition"].to_list())),
        exporters=(),
    )


def reference() -> Reference:
    data_dir, version = warehouse_version()
    return _reference(data_dir, version)


def open_or_explain() -> bool:
    """True if the warehouse opens; otherwise show what is wrong and how to fix it.
    Every page calls this first."""
    from critmin.ui.router import ensure_router

    ensure_router()
    try:
        database()
        reference()
    except WarehouseError as error:
        st.error(f"**The data could not be opened.** {error}")
        st.info(
            "Set `CRITMIN_DATA_DIR` to a warehouse folder, or unset it to use the "
            "embedded demo (built by `make run`)."
        )
        return False
    except QueryTimeout as error:
        st.error(str(error), icon=":material/error:")
        return False
    return True


def manifest() -> dict[str, Any]:
    data_dir, _ = warehouse_version()
    return Warehouse(data_dir).manifest()
