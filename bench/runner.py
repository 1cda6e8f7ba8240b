"""The benchmark's measurements: warm and cold page timings on DuckDB, the pandas
and polars-lazy versions of the same pages, answer checks, memory, ingest and
app start-up. `run_benchmark` returns one JSON-able dict that `report.py` prints.
"""

from __future__ import annotations

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

from bench import baselines, synth
from bench.pages import PAGES, Filters, run_page, scenarios
from critmin import derive
from critmin.db import Database
from critmin.schema import DERIVED_TABLES
from critmin.settings import load_settings
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)


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


def warehouse_facts(root: Path) -> dict[str, Any]:
    wh = Warehouse(root)
    files = wh.files("trade_flows")
    import pyarrow.parquet as pq

    row_groups = sum(pq.ParquetFile(p).metadata.num_row_groups for p in files)
    return {
        "path": str(root),
        "trade_rows": sum(p.rows for p in wh.parts("trade_flows").values()),
        "trade_files": len(files),
        "row_groups": row_groups,
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


def warm_duckdb(root: Path, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each page's queries repeated in one process (after one untimed run)."""
    settings = load_settings()
    open_s, db = _timed(lambda: Database(Warehouse(root), settings))
    timings: dict[str, Any] = {"open_ms": open_s * 1000, "pages": {}}
    answers: dict[str, Any] = {}
    for filters in scenarios():
        for page in PAGES:
            first_s, answer = _timed(lambda p=page, f=filters: run_page(db, p, f))  # type: ignore[misc]
            answers[f"{filters.name}/{page}"] = answer
            runs = [
                _timed(lambda p=page, f=filters: run_page(db, p, f))[0]  # type: ignore[misc]
                for _ in range(repeat)
            ]
            # A Streamlit cache hit (st.cache_data) costs unpickling the stored frames.
            stored = pickle.dumps(answer)
            hits = [_timed(lambda b=stored: pickle.loads(b))[0] for _ in range(repeat)]  # type: ignore[misc]
            timings["pages"][f"{filters.name}/{page}"] = {
                "first_ms": first_s * 1000,
                **stats(runs),
                "cache_hit_ms": float(np.median(hits) * 1000),
                "rows": {k: v.height for k, v in answer.items()},
            }
    db.connection.close()
    return timings, answers


def cold_duckdb(root: Path, repeat: int) -> dict[str, Any]:
    """Each page's queries once in a new process; the wall time from spawn to exit."""
    out: dict[str, Any] = {}
    for filters in scenarios():
        for page in PAGES:
            walls, inner = [], []
            for _ in range(repeat):
                t0 = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "bench.cold", str(root), page, filters.name],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                walls.append(time.perf_counter() - t0)
                inner.append(json.loads(done.stdout.strip().splitlines()[-1]))
            out[f"{filters.name}/{page}"] = {
                **stats(walls),
                "import_ms": float(np.median([r["import_s"] for r in inner]) * 1000),
                "open_ms": float(np.median([r["open_s"] for r in inner]) * 1000),
                "queries_ms": float(np.median([r["queries_s"] for r in inner]) * 1000),
            }
    return out


def all_pages_process(root: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cold", str(root), "ALL", "ALL"],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def engine_pages(
    engine: baselines.PandasApp | baselines.PolarsLazy, repeat: int, reference: dict[str, Any]
) -> dict[str, Any]:
    """Time each page on a baseline engine and check its answers against DuckDB's."""
    out: dict[str, Any] = {}
    for filters in scenarios():
        for page in PAGES:
            key = f"{filters.name}/{page}"
            runs: list[float] = []
            answer: dict[str, pl.DataFrame] = {}
            for _ in range(repeat):
                seconds, answer = _timed(lambda p=page, f=filters: engine.run_page(p, f))  # type: ignore[misc]
                runs.append(seconds)
            problems = [
                problem
                for name, frame in answer.items()
                if (problem := baselines.compare(name, reference[key][name], frame))
            ]
            out[key] = {**stats(runs), "same_answers": not problems, "problems": problems}
    return out


def run_benchmark(
    out: Path,
    rows: int,
    repeat: int,
    seed: int = synth.DEFAULT_SEED,
    cold_repeat: int = 3,
    baseline_repeat: int = 3,
    skip: set[str] | None = None,
    progress: Callable[[str], None] = print,
    checkpoint: Callable[[dict[str, Any]], None] = lambda report: None,
) -> dict[str, Any]:
    """Run every step; `checkpoint` receives the report so far after each heavy step."""
    skip = skip or set()
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    report: dict[str, Any] = {
        "machine": machine(),
        "rows_requested": rows,
        "seed": seed,
        "repeat": repeat,
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
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

    progress(f"DuckDB warm: {len(PAGES)} pages x 2 filter states x {repeat} runs")
    report["duckdb_warm"], answers = warm_duckdb(root, repeat)
    if "cold" not in skip:
        progress(f"DuckDB cold: a new process per page, {cold_repeat} times")
        report["duckdb_cold"] = cold_duckdb(root, cold_repeat)
    progress("memory: one process running every page")
    report["all_pages_process"] = all_pages_process(root)

    checkpoint(report)
    if "polars" not in skip:
        progress("polars lazy scans of trade_flows")
        lazy = baselines.PolarsLazy(Warehouse(root))
        report["polars_lazy"] = engine_pages(lazy, baseline_repeat, answers)
        progress("polars lazy scans of the derived mineral_flows files")
        lazy = baselines.PolarsLazy(Warehouse(root), derived=True)
        report["polars_lazy_derived"] = engine_pages(lazy, max(baseline_repeat, repeat), answers)
    if "pandas" not in skip:
        checkpoint(report)
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
                "pages": engine_pages(app, baseline_repeat, answers),
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
        progress("app: streamlit start-up to first page in headless Chromium")
        from bench.app_startup import measure_app

        report["app"] = measure_app(root).as_dict()
    report["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    # The machine is shared: the load average says how much the figures were disturbed.
    report["load_average"] = {"start": load_before, "end": os.getloadavg()}
    return report


def scenario_names() -> list[str]:
    return [f.name for f in scenarios()]


__all__ = ["Filters", "run_benchmark", "scenario_names", "stats"]
