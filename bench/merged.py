"""Fewer statements per page: what merging a view's queries that share a filter would save.

DuckDB pays a fixed cost per statement (parsing, binding the views, planning, a
parallel pipeline: a few milliseconds), so a page that runs several queries over the
same selection pays it several times. This module measures, without changing the
app, what one statement would cost instead, and checks it gives the same numbers:

- Suppliers: `exporters_by_series` and `imports_by_supplier` (the same filter, the
  importer's purchases) as one query over `selected` with a `FILTER` on the
  importer's members.

Overview's `exports_total`, `exports_by_stage` and `exports_by_partner` were measured
here first (one `GROUPING SETS` statement took half the time of the three); the app now
runs that statement (`queries/sql/exports_overview.sql`).

The statements are built from the app's own `selected_once.sql` / `selected.sql`
(`db.load_sql`, `db.specialise`) and run on a guarded cursor (SELECT only). They
are measurements for docs/performance.md, not queries the app runs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from bench import baselines
from bench.pages import Call
from critmin.db import Database, load_sql, specialise

SUPPLIERS_SQL = """
SELECT f.year::INTEGER AS year, f.series, f.exporter,
       sum(f.value_usd) AS value_usd,
       sum(f.quantity_kg) AS quantity_kg,
       sum(f.value_usd) FILTER (
           WHERE list_contains($buyers, f.importer) AND NOT list_contains($buyers, f.exporter)
       ) AS bought_usd,
       sum(f.quantity_kg) FILTER (
           WHERE list_contains($buyers, f.importer) AND NOT list_contains($buyers, f.exporter)
       ) AS bought_kg
FROM selected AS f
GROUP BY ALL
"""


@dataclass(frozen=True)
class Merge:
    """One page's merged statement: which recorded calls it replaces, and how."""

    page: str
    replaces: tuple[str, ...]
    run: Callable[[Database, dict[str, Call]], dict[str, pl.DataFrame]]


def _statement(cte: str, body: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    sql, params = specialise(f"WITH\n{load_sql(cte)}\n{body}", params)
    code = re.sub(r"--[^\n]*", "", sql)
    return sql, {k: v for k, v in params.items() if re.search(rf"\${k}\b", code)}


def _run(db: Database, sql: str, params: dict[str, Any]) -> pl.DataFrame:
    cursor = db.connection.cursor()
    try:
        return cursor.sql(sql, params=params).pl()
    finally:
        cursor.close()


def _suppliers(db: Database, calls: dict[str, Call]) -> dict[str, pl.DataFrame]:
    world = calls["exporters_by_series"]
    buyers = list(calls["imports_by_supplier"].params["importers"])
    sql, params = _statement("selected", SUPPLIERS_SQL, {**world.params, "buyers": buyers})
    rows = _run(db, sql, params)
    return {
        "exporters_by_series": rows.select(
            "year", "series", "exporter", "value_usd", "quantity_kg"
        ),
        "imports_by_supplier": rows.filter(pl.col("bought_usd").is_not_null()).select(
            "year",
            "series",
            pl.col("exporter").alias("supplier"),
            pl.col("bought_usd").alias("value_usd"),
            pl.col("bought_kg").alias("quantity_kg"),
        ),
    }


MERGES = (Merge("Suppliers", ("exporters_by_series", "imports_by_supplier"), _suppliers),)


def _applies(merge: Merge, calls: list[Call]) -> dict[str, Call] | None:
    """The calls a merge replaces, if the view ran each of them once with one filter."""
    by_name = {c.name: c for c in calls if c.name in merge.replaces}
    if sorted(by_name) != sorted(merge.replaces) or len(by_name) != sum(
        c.name in merge.replaces for c in calls
    ):
        return None
    shared = ("minerals", "codes", "stages", "sides")
    first = by_name[merge.replaces[0]].params
    if any(c.params.get(k) != first.get(k) for c in by_name.values() for k in shared):
        return None
    return by_name


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
    """Per scenario and page that a merge applies to: the separate queries' time, the
    merged statement's, and whether the merged one answers the same."""
    out: dict[str, Any] = {}
    for key, calls in recorded.items():
        page = key.split("/", 1)[1]
        for merge in MERGES:
            if merge.page != page or (chosen := _applies(merge, calls)) is None:
                continue
            separate = [chosen[name] for name in merge.replaces]
            answers = merge.run(db, chosen)
            problems = [
                problem
                for name in merge.replaces
                if (problem := baselines.compare(name, chosen[name].frame, answers[name]))
            ]
            out[key] = {
                "replaces": list(merge.replaces),
                "separate_ms": _median_ms(
                    lambda s=separate: [  # type: ignore[misc]
                        db.query(c.name, limit=c.limit, sort=c.sort, **c.params) for c in s
                    ],
                    repeat,
                ),
                "merged_ms": _median_ms(lambda c=chosen, m=merge: m.run(db, c), repeat),  # type: ignore[misc]
                "same_answers": not problems,
                "problems": problems,
            }
    return out
