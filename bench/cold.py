"""One cold run, in a fresh process: open the warehouse, read the catalog, build one
page's view once, as a newly started app process serving its first request would.

`python -m bench.cold DATA_DIR PAGE SCENARIO` prints one JSON line with the seconds
spent importing, opening the database, reading the catalog and building the view,
the rows the view's queries returned, and the process's peak RSS. PAGE (a page label
such as Overview) and SCENARIO may be ALL: every page of every scenario, for the
memory figure. The parent times the whole process from spawn to exit; the
environment (CRITMIN_SMALL_TABLES_IN_MEMORY, CRITMIN_THREADS) is the app's.
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

    from bench.pages import UnknownField, page, pages, recording, run_view, scenarios, state_for
    from critmin.catalog import load_catalog
    from critmin.db import Database
    from critmin.settings import load_settings
    from critmin.warehouse import Warehouse

    imported = time.perf_counter()
    data_dir, label, scenario = argv
    settings = load_settings()
    db = Database(Warehouse(Path(data_dir)), settings)
    opened = time.perf_counter()
    catalog = load_catalog(db)
    catalogued = time.perf_counter()
    rows = 0
    chosen = [s for s in scenarios() if scenario in ("ALL", s.name)]
    for s in chosen:
        for p in pages() if label == "ALL" else [page(label)]:
            try:
                state = state_for(p, s, catalog)
            except UnknownField:
                continue
            with recording(db) as calls:
                run_view(db, catalog, p, state)
            rows += sum(c.frame.height for c in calls)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": imported - STARTED,
                "open_s": opened - imported,
                "catalog_s": catalogued - opened,
                "view_s": done - catalogued,
                "rows": rows,
                "peak_rss_mb": peak_rss_kb() / 1024,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
