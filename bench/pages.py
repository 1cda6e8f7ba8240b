"""What each page asks the warehouse, as the benchmark replays it.

A `Filters` value is one state of the pages (exporter, minerals, importer,
years); `PAGES` lists, for each page, the query functions of
`critmin.queries` it runs with those filters. `run_page` runs one page's set on
an open `Database` and returns the frames by query name, so the same page can
be timed warm, cold (in a fresh process, see `cold.py`) and compared with the
pandas and polars versions in `baselines.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from critmin import queries
from critmin.db import Database
from critmin.domain import DEFAULT_MINERALS, FIRST_YEAR, latest_full_year

EXPLORER_LIMIT = 10_000


@dataclass(frozen=True)
class Filters:
    """One state of the pages' filters."""

    name: str
    exporter: str
    minerals: tuple[str, ...]
    importer: str
    year_from: int
    year_to: int
    side: str = "reconciled"


def scenarios(last_year: int | None = None) -> list[Filters]:
    """The pages' default view and a changed one (another exporter, minerals, importer)."""
    last = last_year or latest_full_year()
    return [
        Filters("default", "KAZ", tuple(DEFAULT_MINERALS), "USA", FIRST_YEAR, last),
        Filters("changed", "CHN", ("copper", "rare_earths"), "KOR", FIRST_YEAR, last),
    ]


Call = tuple[str, Callable[[Database, Filters], pl.DataFrame]]


def _series(db: Database, f: Filters) -> pl.DataFrame:
    return queries.exports_by_series(
        db, f.exporter, f.minerals, (), f.year_from, f.year_to, f.side
    ).frame


def _partner(db: Database, f: Filters) -> pl.DataFrame:
    return queries.exports_by_partner(
        db, f.exporter, f.minerals, (), f.year_from, f.year_to, f.side
    ).frame


def _exporters(db: Database, f: Filters) -> pl.DataFrame:
    return queries.exporters_by_series(db, f.minerals, (), f.year_from, f.year_to, f.side).frame


def _suppliers(db: Database, f: Filters) -> pl.DataFrame:
    return queries.imports_by_supplier(
        db, [f.importer], f.minerals, (), f.year_from, f.year_to, f.side
    ).frame


def _mirror(db: Database, f: Filters) -> pl.DataFrame:
    return queries.mirror_flows(db, f.exporter, f.minerals, (), f.year_from, f.year_to).frame


def _explorer(db: Database, f: Filters) -> pl.DataFrame:
    return queries.flows_explorer(
        db, [f.exporter], [], f.minerals, (), f.year_from, f.year_to, [f.side], limit=EXPLORER_LIMIT
    ).frame


def _production(db: Database, f: Filters) -> pl.DataFrame:
    return queries.production(db, f.exporter).frame


def _events(db: Database, f: Filters) -> pl.DataFrame:
    return queries.events(db).frame


def _deposits(db: Database, f: Filters) -> pl.DataFrame:
    return queries.deposits(db, [f.exporter]).frame


PAGES: dict[str, list[Call]] = {
    "Overview": [
        ("exports_by_series", _series),
        ("exports_by_partner", _partner),
        ("exporters_by_series", _exporters),
        ("production", _production),
    ],
    "Growth": [("exports_by_series", _series), ("events", _events)],
    "Partners": [("exports_by_partner", _partner)],
    "Suppliers": [("exporters_by_series", _exporters), ("imports_by_supplier", _suppliers)],
    "Mirror": [("mirror_flows", _mirror)],
    "Map": [("deposits", _deposits), ("exports_by_partner", _partner)],
    "Explorer": [("flows_explorer", _explorer)],
}


def run_page(db: Database, page: str, filters: Filters) -> dict[str, pl.DataFrame]:
    return {name: call(db, filters) for name, call in PAGES[page]}
