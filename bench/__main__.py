"""`python -m bench`: the performance benchmark (what `make bench` runs).

Generates (or reuses) a synthetic BACI-shaped warehouse, times every page's view
and its queries warm and cold on DuckDB (small tables in memory and not), answers
the same questions with pandas and polars lazy scans, checks the answers agree,
times merged statements, measures memory, BACI ingest and app start-up, and opens
every page in headless Chromium on the demo and the benchmark warehouse (navigation
and filter changes, with where the time goes). Prints the figures and writes
bench-<rows>.json and .md into the output directory.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from bench import report as report_module
from bench.runner import STEPS, run_benchmark
from bench.synth import DEFAULT_SEED

DEFAULT_ROWS = 30_000_000
DEFAULT_OUT = Path(tempfile.gettempdir()) / "critmin-bench"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=DEFAULT_ROWS,
        help=f"trade rows in the synthetic warehouse (default {DEFAULT_ROWS:,})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"where the warehouse is cached and reports go (default {DEFAULT_OUT})",
    )
    parser.add_argument("--repeat", type=int, default=10, help="warm runs per page (default 10)")
    parser.add_argument(
        "--cold-repeat",
        type=int,
        default=3,
        help="new processes per page for cold timings (default 3)",
    )
    parser.add_argument(
        "--baseline-repeat",
        type=int,
        default=3,
        help="runs per page for pandas and polars (default 3)",
    )
    parser.add_argument(
        "--browser-repeat",
        type=int,
        default=5,
        help="rounds of every page in the browser phase (default 5)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--skip", action="append", default=[], choices=STEPS, help="leave out a step (repeatable)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    report = run_benchmark(
        args.out.resolve(),
        args.rows,
        args.repeat,
        seed=args.seed,
        cold_repeat=args.cold_repeat,
        baseline_repeat=args.baseline_repeat,
        browser_repeat=args.browser_repeat,
        skip=set(args.skip),
        progress=lambda m: print(m, flush=True),
        checkpoint=lambda partial: (args.out.resolve() / "bench-partial.json").write_text(
            json.dumps(partial, indent=2, default=str), encoding="utf-8"
        ),
    )
    json_path, md_path = report_module.write(report, args.out.resolve())
    print()
    print(report_module.render_markdown(report))
    print(f"Report: {md_path}\nRaw figures: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
