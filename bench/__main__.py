"""`python -m bench`: the performance benchmark (what `make bench` runs).

Generates (or reuses) a synthetic BACI-shaped warehouse, times every page's view warm
and in a new process, `critmin ingest baci` on a full-size yearly CSV, and every page in
headless Chromium on the demo warehouse and on the benchmark's. Prints the report and
writes bench-<rows>.json (every figure) and bench-<rows>.md into --out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import report, runner, synth
from bench.browser import measure_browser
from critmin.demo import build_demo

STEPS = ("cold", "ingest", "browser")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=30_000_000, help="trade rows (default 30M)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "critmin-bench")
    parser.add_argument("--repeat", type=int, default=10, help="warm runs per page")
    parser.add_argument("--cold-repeat", type=int, default=3, help="new processes per page")
    parser.add_argument("--browser-repeat", type=int, default=5, help="rounds of every page")
    parser.add_argument("--seed", type=int, default=synth.DEFAULT_SEED)
    parser.add_argument("--skip", action="append", default=[], choices=STEPS)
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    import duckdb
    import polars
    import psutil
    import streamlit

    cpu = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line]
    result: dict[str, Any] = {
        "machine": {
            "nproc": os.cpu_count(),
            "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "cpu": cpu[0].split(":", 1)[1].strip() if cpu else "?",
            **{m.__name__: m.__version__ for m in (duckdb, polars, streamlit)},
            "python": sys.version.split()[0],
        },
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average": {"start": os.getloadavg()[0]},
    }

    def step(name: str, run: Any) -> None:
        print(f"{name}...", flush=True)
        result[name] = run()
        (out / "bench-partial.json").write_text(json.dumps(result, default=str), encoding="utf-8")

    print(f"warehouse: {args.rows:,} rows (seed {args.seed}) under {out}", flush=True)
    root, generated_s = synth.ensure_warehouse(out, args.rows, args.seed)
    result["warehouse"] = {**runner.warehouse_facts(root), "generated_s": generated_s}
    step("warm", lambda: runner.warm(root, args.repeat))
    if "cold" not in args.skip:
        step("cold", lambda: runner.cold(root, args.cold_repeat, list(result["warm"]["pages"])))
    if "ingest" not in args.skip:
        step("ingest", lambda: runner.ingest(out))
    if "browser" not in args.skip:
        demo = out / "demo-warehouse"
        build_demo(demo)
        step("browser", lambda: {"demo": measure_browser(demo, args.browser_repeat)})
        result["browser"]["benchmark"] = measure_browser(root, args.browser_repeat)
    result["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    result["load_average"]["end"] = os.getloadavg()[0]
    json_path, md_path = report.write(result, out)
    print("\n" + report.render_markdown(result))
    print(f"Report: {md_path}\nEvery figure: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
