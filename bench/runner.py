"""The benchmark's measurements, as one JSON-able dict that `report.py` prints.

For each scenario and page (`bench.pages`): the page's view function warm (first
run, p50/p95 over repeats, a Streamlit cache hit = unpickling the view), the same
page's recorded query set replayed on DuckDB with the small tables (all but trade_flows) in memory (the
default) and read from their Parquet files (`CRITMIN_SMALL_TABLES_IN_MEMORY=0`), and
answered by polars lazy scans (of the same derived files, and of the trade files)
and by pandas, with every answer checked against DuckDB's; cold runs in a new process
(`bench/cold.py`); one process running every page (memory); merged statements
(`bench/merged.py`); BACI ingest; app start-up; and the browser phase
(`bench/browser.py`).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import os
import pickle
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import psutil

from bench import baselines, merged, synth
from bench.pages import Call, UnknownField, pages, recording, replay, run_view, scenarios, state_for
from critmin import derive
from critmin.catalog import load_catalog
from critmin.db import Database
from critmin.schema import DERIVED_TABLES
from critmin.settings import Settings, load_settings
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

STEPS = ("cold", "polars", "pandas", "merged", "ingest", "app", "browser")


def stats(seconds: list[float]) -> dict[str, float]:
    values = np.array(seconds) * 1000.0
    return {
        "median_ms": float(np.median(values)),
        "p95_ms": float(np.percentile(values, 95)),
        "min_ms": float(values.min()),
        "n": int(values.size),
    }


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = call()
    return time.perf_counter() - t0, result


def _repeat(call: Callable[[], Any], times: int) -> list[float]:
    return [_timed(call)[0] for _ in range(times)]


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    import duckdb
    import pandas

    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": pl.__version__,
        "pandas": pandas.__version__,
    }


def settings_for(root: Path, **changes: Any) -> Settings:
    """The app's settings (environment included) on this warehouse, with changes."""
    return dataclasses.replace(load_settings(), data_dir=root, data_dir_is_default=False, **changes)


def warehouse_facts(root: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    wh = Warehouse(root)
    files = wh.files("trade_flows")
    return {
        "path": str(root),
        "trade_rows": sum(p.rows for p in wh.parts("trade_flows").values()),
        "trade_files": len(files),
        "row_groups": sum(pq.ParquetFile(p).metadata.num_row_groups for p in files),
        "trade_mb": round(sum(p.stat().st_size for p in files) / 2**20, 1),
        "derived": {
            table: {
                "rows": sum(p.rows for p in wh.parts(table).values()),
                "files": len(wh.files(table)),
                "mb": round(sum(p.stat().st_size for p in wh.files(table)) / 2**20, 2),
            }
            for table in DERIVED_TABLES
        },
    }


def derive_seconds(root: Path) -> float:
    """Seconds to compute every derived part from scratch (into a scratch directory,
    the warehouse untouched): what each ingest adds for the parts it changes."""
    import tempfile

    wh = Warehouse(root)
    baskets = wh.parts(derive.BASKETS)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="critmin-derive-") as scratch:
        for table in DERIVED_TABLES:
            for name, part in wh.parts(derive.TRADE).items():
                derive._materialise(
                    root, table, part, baskets, Path(scratch) / f"{table}-{name}.parquet"
                )
    return time.perf_counter() - started


def duckdb_memory_mb(db: Database) -> dict[str, float]:
    """DuckDB's own memory by tag (IN_MEMORY_TABLE holds the derived tables)."""
    rows = db.connection.sql(
        "SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0"
    ).fetchall()
    return {str(tag): round(float(size) / 2**20, 1) for tag, size in rows}


def _frame_rows(view: Any) -> dict[str, int]:
    if not dataclasses.is_dataclass(view):
        return {}
    out = {}
    for f in dataclasses.fields(view):
        value = getattr(view, f.name)
        if isinstance(value, pl.DataFrame):
            out[f.name] = value.height
    return out


def warm_duckdb(root: Path, repeat: int) -> tuple[dict[str, Any], dict[str, list[Call]]]:
    """Each page's view function and its query set, repeated in one process (after
    one recorded run), on the app's default settings."""
    settings = settings_for(root)
    open_s, db = _timed(lambda: Database(Warehouse(root), settings))
    # The small tables are copied into memory in the background: the warm figures are
    # taken once they are held.
    held_s, _ = _timed(db.held.wait)
    catalog_s, catalog = _timed(lambda: load_catalog(db))
    out: dict[str, Any] = {
        "open_ms": open_s * 1000,
        "held_ms": (open_s + held_s) * 1000,
        "notes": list(db.notes),
        "catalog_ms": catalog_s * 1000,
        "small_tables_in_memory": settings.small_tables_in_memory,
        "duckdb_memory_mb": duckdb_memory_mb(db),
        "pages": {},
        "skipped": {},
    }
    recorded: dict[str, list[Call]] = {}
    for scenario in scenarios():
        for page in pages():
            key = f"{scenario.name}/{page.label}"
            try:
                state = state_for(page, scenario, catalog)
            except UnknownField as error:
                out["skipped"][key] = str(error)
                continue
            with recording(db) as calls:
                first_s, view = _timed(lambda p=page, s=state: run_view(db, catalog, p, s))  # type: ignore[misc]
            recorded[key] = calls
            builds = _repeat(lambda p=page, s=state: run_view(db, catalog, p, s), repeat)  # type: ignore[misc]
            queries = _repeat(lambda c=calls: replay(db, c), repeat)  # type: ignore[misc]
            stored = pickle.dumps(view)
            hits = _repeat(lambda b=stored: pickle.loads(b), repeat)  # type: ignore[misc]
            out["pages"][key] = {
                "state": repr(state),
                "first_ms": first_s * 1000,
                **stats(builds),
                "queries": stats(queries),
                "cache_hit_ms": float(np.median(hits) * 1000),
                "pickled_kb": len(stored) / 1024,
                "calls": [c.describe() for c in calls],
                "query_rows": [c.frame.height for c in calls],
                "view_rows": _frame_rows(view),
            }
    db.close()
    return out, recorded


def duckdb_variant(
    root: Path, recorded: dict[str, list[Call]], repeat: int, **changes: Any
) -> dict[str, Any]:
    """The recorded query sets replayed on a Database opened with other settings
    (derived tables from Parquet, one thread), answers checked."""
    settings = settings_for(root, **changes)
    open_s, db = _timed(lambda: Database(Warehouse(root), settings))
    db.held.wait()
    out: dict[str, Any] = {
        "settings": changes,
        "open_ms": open_s * 1000,
        "duckdb_memory_mb": duckdb_memory_mb(db),
        "pages": {},
    }
    for key, calls in recorded.items():
        answers = replay(db, calls)
        problems = [
            problem
            for call, frame in zip(calls, answers, strict=True)
            if (problem := baselines.compare(call.name, call.frame, frame))
        ]
        runs = _repeat(lambda c=calls: replay(db, c), repeat)  # type: ignore[misc]
        out["pages"][key] = {**stats(runs), "same_answers": not problems, "problems": problems}
    db.close()
    return out


def engine_pages(
    engine: baselines.Engine, repeat: int, recorded: dict[str, list[Call]]
) -> dict[str, Any]:
    """Each page's recorded query set answered by a baseline engine, timed, and every
    answer checked against DuckDB's."""
    out: dict[str, Any] = {}
    for key, calls in recorded.items():
        try:
            answers = [engine.answer(c) for c in calls]
        except baselines.NoBaseline as error:
            out[key] = {"skipped": str(error)}
            continue
        problems = [
            problem
            for call, frame in zip(calls, answers, strict=True)
            if (problem := baselines.compare(call.name, call.frame, frame))
        ]
        runs = _repeat(lambda c=calls: [engine.answer(x) for x in c], repeat)  # type: ignore[misc]
        out[key] = {**stats(runs), "same_answers": not problems, "problems": problems}
    return out


def versus_polars(root: Path, recorded: dict[str, list[Call]], rounds: int) -> dict[str, Any]:
    """Each page's query set on DuckDB (the app's settings) and answered by polars lazy
    scans of the same derived files, run alternately, page by page: `rounds` runs each,
    the order swapped every round. Measured steps apart, the ratio moved by up to 0.5x
    between runs of this shared machine, whose speed drifts over minutes; run in the
    same seconds, both see the same machine. The answers are checked in engine_pages."""
    db = Database(Warehouse(root), settings_for(root))
    db.held.wait()
    engine = baselines.PolarsLazy(Warehouse(root), derived=True)
    out: dict[str, Any] = {}
    for key, calls in recorded.items():
        if not calls:
            continue

        def duck(c: list[Call] = calls) -> object:
            return replay(db, c)

        def polars(c: list[Call] = calls) -> object:
            return [engine.answer(x) for x in c]

        try:
            polars()
        except baselines.NoBaseline:
            continue  # engine_pages says which pages have no baseline
        duck()
        times: dict[str, list[float]] = {"duckdb": [], "polars": []}
        for i in range(rounds):
            order = [("duckdb", duck), ("polars", polars)]
            for name, run in order if i % 2 == 0 else order[::-1]:
                times[name].append(_timed(run)[0])
        out[key] = {name: stats(seconds) for name, seconds in times.items()}
    db.close()
    return out


def _cold_process(root: Path, page: str, scenario: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cold", str(root), page, scenario],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def cold_duckdb(root: Path, repeat: int, keys: list[str]) -> dict[str, Any]:
    """Each page once in a new process; the wall time from spawn to exit."""
    out: dict[str, Any] = {}
    for key in keys:
        scenario, label = key.split("/", 1)
        walls, inner = [], []
        for _ in range(repeat):
            wall, figures = _timed(lambda s=scenario, p=label: _cold_process(root, p, s, {}))  # type: ignore[misc]
            walls.append(wall)
            inner.append(figures)
        out[key] = {
            **stats(walls),
            **{
                f"{step}_ms": float(np.median([r[f"{step}_s"] for r in inner]) * 1000)
                for step in ("import", "open", "catalog", "view")
            },
        }
    return out


def run_benchmark(
    out: Path,
    rows: int,
    repeat: int,
    seed: int = synth.DEFAULT_SEED,
    cold_repeat: int = 3,
    baseline_repeat: int = 3,
    browser_repeat: int = 5,
    skip: set[str] | None = None,
    progress: Callable[[str], None] = print,
    checkpoint: Callable[[dict[str, Any]], None] = lambda report: None,
) -> dict[str, Any]:
    """Run every step; `checkpoint` receives the report so far after each heavy step."""
    skip = skip or set()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "machine": machine(),
        "rows_requested": rows,
        "seed": seed,
        "repeat": repeat,
        "baseline_repeat": baseline_repeat,
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average": {"start": os.getloadavg()},
    }
    progress(f"warehouse: {rows:,} rows (seed {seed}) under {out}")
    root, generated_s = synth.ensure_warehouse(out, rows, seed)
    report["warehouse"] = {
        **warehouse_facts(root),
        "generated_s": generated_s,
        "derive_s": derive_seconds(root),
    }
    how = f"generated in {generated_s:.0f} s" if generated_s else "cached"
    progress(f"  {how}: {report['warehouse']['trade_rows']:,} trade rows")

    progress(f"DuckDB warm: {len(pages())} pages x {len(scenarios())} scenarios x {repeat} runs")
    report["duckdb_warm"], recorded = warm_duckdb(root, repeat)
    progress("DuckDB, small tables read from Parquet (CRITMIN_SMALL_TABLES_IN_MEMORY=0)")
    report["duckdb_parquet"] = duckdb_variant(root, recorded, repeat, small_tables_in_memory=False)
    progress("DuckDB, one thread")
    report["duckdb_one_thread"] = duckdb_variant(root, recorded, repeat, threads=1)
    if "merged" not in skip:
        progress("merged statements (Overview, Suppliers) against the queries they replaced")
        db = Database(Warehouse(root), settings_for(root))
        report["merged"] = merged.measure(db, recorded, repeat)
        db.close()
    keys = list(report["duckdb_warm"]["pages"])
    if "cold" not in skip:
        progress(f"DuckDB cold: a new process per page, {cold_repeat} times")
        report["duckdb_cold"] = cold_duckdb(root, cold_repeat, keys)
    progress("memory: one process running every page, small tables in memory and not")
    report["all_pages_process"] = _cold_process(root, "ALL", "ALL", {})
    report["all_pages_process_parquet"] = _cold_process(
        root, "ALL", "ALL", {"CRITMIN_SMALL_TABLES_IN_MEMORY": "0"}
    )
    checkpoint(report)

    if "polars" not in skip:
        rounds = 3 * max(baseline_repeat, repeat)
        progress(f"DuckDB and polars lazy on the same derived files, alternately, {rounds} runs")
        report["versus_polars"] = versus_polars(root, recorded, rounds)
        progress("polars lazy scans of the derived mineral_flows files")
        engine = baselines.PolarsLazy(Warehouse(root), derived=True)
        report["polars_lazy_derived"] = engine_pages(engine, max(baseline_repeat, repeat), recorded)
        progress("polars lazy scans of trade_flows")
        engine = baselines.PolarsLazy(Warehouse(root))
        report["polars_lazy"] = engine_pages(engine, baseline_repeat, recorded)
        checkpoint(report)
    if "pandas" not in skip:
        # A plain-string frame takes ~100 bytes a row and twice that while concatenating;
        # past 60% of the free memory the app would have to use categoricals.
        rows_in = report["warehouse"]["trade_rows"]
        free = psutil.virtual_memory().available
        categorical = rows_in * 100 * 2 > 0.6 * free
        if rows_in * 40 * 2 > 0.6 * free:
            report["pandas"] = {"skipped": f"{rows_in:,} rows do not fit in memory as pandas"}
        else:
            how = " (strings as categoricals: plain strings would not fit)" if categorical else ""
            progress(f"pandas: load the table{how}, then filter in memory")
            load_s, app = _timed(lambda: baselines.PandasApp(Warehouse(root), categorical))
            report["pandas"] = {
                "load_ms": load_s * 1000,
                "frame_mb": app.memory_bytes / 2**20,
                "categorical": categorical,
                "pages": engine_pages(app, baseline_repeat, recorded),
            }
            del app
            gc.collect()
        checkpoint(report)
    if "ingest" not in skip:
        progress("ingest: a full-size BACI yearly CSV through `critmin ingest baci`")
        from bench.ingest_timing import measure_ingest

        report["ingest"] = measure_ingest(out)
        checkpoint(report)
    if "app" not in skip:
        progress("app: streamlit start-up to the first page in headless Chromium")
        from bench.app_startup import measure_app

        report["app"] = measure_app(root).as_dict()
        checkpoint(report)
    if "browser" not in skip:
        from bench.browser import measure_browser

        progress(f"browser: every page in headless Chromium, {browser_repeat} runs, demo warehouse")
        report["browser"] = {
            "demo": measure_browser(out / "demo-warehouse", browser_repeat, demo=True)
        }
        checkpoint(report)
        progress(
            f"browser: every page in headless Chromium, {browser_repeat} runs, benchmark warehouse"
        )
        report["browser"]["benchmark"] = measure_browser(root, browser_repeat)
    report["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    report["duration_s"] = time.perf_counter() - started
    # The machine is shared: the load average says how much the figures were disturbed.
    report["load_average"]["end"] = os.getloadavg()
    return report
