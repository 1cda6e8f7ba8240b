"""Ingest timing: one full-size synthetic BACI yearly CSV through `critmin ingest baci`.

The CSV comes from `bench.baci_synth.generate_baci_csv` (BACI's exact
layout) and is cached in the output directory. The ingest runs as its own
process into a scratch warehouse, which is removed afterwards; its wall time and
peak RSS are reported. Skips with a reason while `critmin.ingest.baci` is absent.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.app_startup import RssSampler

BACI_YEAR_ROWS = 11_000_000


def measure_ingest(out: Path, rows: int = BACI_YEAR_ROWS, seed: int = 0) -> dict[str, Any]:
    if importlib.util.find_spec("critmin.ingest.baci") is None:
        return {"skipped": "critmin.ingest.baci does not exist yet"}
    try:
        from bench.baci_synth import generate_baci_csv
    except ImportError as error:
        return {"skipped": f"no BACI CSV generator ({error})"}
    folder = out / f"baci-csv-r{rows}-s{seed}"
    csv = folder / "BACI_HS17_Y2022_V202501.csv"
    generated_s = None
    if not csv.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        partial = folder / "partial.csv"
        generate_baci_csv(partial, rows, 2022, seed)
        partial.rename(csv)
        generated_s = time.perf_counter() - t0
    result: dict[str, Any] = {
        "rows": rows,
        "csv_mb": csv.stat().st_size / 2**20,
        "csv_generated_s": generated_s,
    }
    # The default keeps the mineral-basket codes only; --all-products keeps every row.
    for mode, extra in (("baskets", []), ("all_products", ["--all-products"])):
        result[mode] = _ingest_once(out / "ingest-scratch", csv, extra)
    return result


def _ingest_once(scratch: Path, csv: Path, extra: list[str]) -> dict[str, Any]:
    shutil.rmtree(scratch, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "critmin.cli",
        "--data-dir",
        str(scratch),
        "ingest",
        "baci",
        str(csv),
        *extra,
    ]
    t0 = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = RssSampler(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - t0
    peak = sampler.stop()
    shutil.rmtree(scratch, ignore_errors=True)
    result: dict[str, Any] = {
        "seconds": seconds,
        "peak_rss_mb": peak,
        "exit_code": process.returncode,
        "output": stdout.decode(errors="replace").strip().splitlines()[:1],
    }
    if process.returncode:
        result["error"] = stderr.decode(errors="replace").strip().splitlines()[-3:]
    return result
