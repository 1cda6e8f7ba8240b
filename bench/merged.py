"""Fewer statements per page: the app's merged statements against the queries they replaced.

DuckDB pays a fixed cost per statement (parsing, binding the views, planning, a
parallel pipeline: a few milliseconds), so a page that runs several queries over the
same selection pays it several times. Two pages now run one statement instead:

- Overview: `exports_overview` (one `GROUPING SETS` statement) for `exports_total`,
  `exports_by_stage` and the last year's `exports_by_partner`;
- Suppliers: `suppliers_market` (one statement with a `FILTER` on the buyers) for
  `exporters_by_series` and the buyers' `imports_by_supplier`;
- Diversification: the same `suppliers_market` for the importer's `imports_by_supplier`
  and the C5 sources' `exporters_by_series` in the scenario's year.

For every recorded page that ran one of them, this module times the merged call
against the separate queries it replaced (still in `queries/sql`, other pages use
them) and checks each part of the merged answer equals the separate query's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from bench import baselines
from bench.pages import Call
from critmin import queries
from critmin.db import Database
from critmin.domain import C5
from critmin.views.overview import overview_parts


@dataclass(frozen=True)
class Separate:
    name: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Merge:
    """One of the app's merged statements: the queries it replaced, with their
    parameters, and its rows split back into their answers."""

    page: str
    statement: str
    replaced: Callable[[dict[str, Any]], list[Separate]]
    split: Callable[[pl.DataFrame, dict[str, Any]], list[pl.DataFrame]]


def _overview_replaced(p: dict[str, Any]) -> list[Separate]:
    return [
        Separate("exports_total", p),
        Separate("exports_by_stage", p),
        Separate("exports_by_partner", {**p, "year_from": p["year_to"]}),
    ]


def _suppliers_replaced(p: dict[str, Any]) -> list[Separate]:
    world = {k: v for k, v in p.items() if k != "buyers"}
    return [
        Separate("exporters_by_series", world),
        Separate("imports_by_supplier", {**world, "importers": list(p["buyers"])}),
    ]


def _suppliers_split(rows: pl.DataFrame, p: dict[str, Any]) -> list[pl.DataFrame]:
    market = queries.split_suppliers_market(rows)
    return [market.world, market.purchases]


def _c5_sources(p: dict[str, Any]) -> list[str]:
    return [c for c in C5 if c not in p["buyers"]]  # as views.diversification.build


def _diversification_replaced(p: dict[str, Any]) -> list[Separate]:
    f = {k: v for k, v in p.items() if k != "buyers"}
    return [
        Separate("imports_by_supplier", {**f, "importers": list(p["buyers"])}),
        Separate(
            "exporters_by_series", {**f, "year_from": p["year_to"], "exporters": _c5_sources(p)}
        ),
    ]


def _diversification_split(rows: pl.DataFrame, p: dict[str, Any]) -> list[pl.DataFrame]:
    market = queries.split_suppliers_market(rows)
    offered = (pl.col("year") == p["year_to"]) & pl.col("exporter").is_in(_c5_sources(p))
    return [market.purchases, market.world.filter(offered)]


MERGES = (
    Merge("Overview", "exports_overview", _overview_replaced, lambda r, p: list(overview_parts(r))),
    Merge("Suppliers", "suppliers_market", _suppliers_replaced, _suppliers_split),
    Merge(
        "Diversification",
        "suppliers_market",
        _diversification_replaced,
        _diversification_split,
    ),
)


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] * 1000


def measure(db: Database, recorded: dict[str, list[Call]], repeat: int) -> dict[str, Any]:
    """Per scenario and page that ran a merged statement: the separate queries' time,
    the merged statement's, and whether its parts answer as the separate queries."""
    out: dict[str, Any] = {}
    for key, calls in recorded.items():
        page = key.split("/", 1)[1]
        for merge in MERGES:
            call = next((c for c in calls if c.name == merge.statement), None)
            if merge.page != page or call is None:
                continue
            separate = merge.replaced(call.params)
            parts = merge.split(db.query(call.name, **call.params).frame, call.params)
            problems = [
                problem
                for s, part in zip(separate, parts, strict=True)
                if (problem := baselines.compare(s.name, db.query(s.name, **s.params).frame, part))
            ]
            out[key] = {
                "statement": merge.statement,
                "replaces": [s.name for s in separate],
                "separate_ms": _median_ms(
                    lambda s=separate: [db.query(q.name, **q.params) for q in s],  # type: ignore[misc]
                    repeat,
                ),
                "merged_ms": _median_ms(
                    lambda c=call: db.query(c.name, **c.params),  # type: ignore[misc]
                    repeat,
                ),
                "same_answers": not problems,
                "problems": problems,
            }
    return out
