"""One cold run, in a fresh process: open the warehouse, run one page's queries once.

`python -m bench.cold DATA_DIR PAGE SCENARIO` prints one JSON line with
the seconds spent importing, opening the database and running the queries, and
the process's peak RSS. PAGE may be ALL (every page of every scenario, for the
memory figure). The parent times the whole process from spawn to exit.
"""

from __future__ import annotations

import json
import sys
import time

STARTED = time.perf_counter()


def peak_rss_kb() -> int:
    """This process's peak RSS (VmHWM). Not ru_maxrss: on Linux a spawned child
    inherits its parent's maximum across exec."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main(argv: list[str]) -> int:
    from pathlib import Path

    from bench.pages import PAGES, run_page, scenarios
    from critmin.db import Database
    from critmin.settings import load_settings
    from critmin.warehouse import Warehouse

    imported = time.perf_counter()
    data_dir, page, scenario = argv
    settings = load_settings()
    db = Database(Warehouse(Path(data_dir)), settings)
    opened = time.perf_counter()
    rows = 0
    chosen = [f for f in scenarios() if scenario in ("ALL", f.name)]
    for filters in chosen:
        for name in PAGES if page == "ALL" else [page]:
            rows += sum(frame.height for frame in run_page(db, name, filters).values())
    done = time.perf_counter()
    peak_kb = peak_rss_kb()
    print(
        json.dumps(
            {
                "import_s": imported - STARTED,
                "open_s": opened - imported,
                "queries_s": done - opened,
                "rows": rows,
                "peak_rss_mb": peak_kb / 1024,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
