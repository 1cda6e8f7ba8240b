"""Where the warehouse lives and the limits the app runs under.

`CRITMIN_DATA_DIR` chooses the warehouse; by default the embedded one under
`data/warehouse` of the checkout, which `critmin demo` builds offline.

Environment:

- `CRITMIN_DATA_DIR`: the warehouse folder.
- `CRITMIN_MEMORY_LIMIT` (default `2GB`): DuckDB's memory limit for the process.
- `CRITMIN_THREADS` (default `2`): DuckDB threads per query.
- `CRITMIN_SMALL_TABLES_IN_MEMORY` (default `1`): copy every table but `trade_flows`
  into DuckDB's memory once the database is open, in the background: the derived
  tables the pages read (`mineral_flows`, `trade_summary`), the reference tables
  (baskets, countries, products, events) and the USGS tables (production, deposits).
  A query then skips opening and decoding their Parquet files, which is most of a
  small query's time; until the copy is done (about 2 s at 100 million trade rows)
  queries read the files. It costs their size in memory (tens of MB at 100 million
  trade rows, see docs/performance.md). `0` reads the files instead.
- `CRITMIN_SQL_BOX` (default `0`): `1` adds a read-only SQL box to the Data explorer
  for people who write SQL, over the app's views (single SELECT statements, no table
  functions or files, under the query timeout and the row cap). Off by default, and
  off on a hosted demo unless its operator switches it on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_DATA_DIR = PROJECT_ROOT / "data" / "warehouse"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    data_dir_is_default: bool
    row_cap: int = 50_000  # rows a query returns to a page at most
    download_row_cap: int = 200_000  # rows a download holds at most
    query_timeout_s: float = 20.0
    memory_limit: str = "2GB"
    threads: int = 2
    small_tables_in_memory: bool = True  # all tables but trade_flows held in DuckDB's memory
    sql_box: bool = False  # the Data explorer's read-only SQL box


def load_settings() -> Settings:
    configured = os.environ.get("CRITMIN_DATA_DIR", "").strip()
    return Settings(
        data_dir=_resolved(configured, "" if Path(configured).is_absolute() else os.getcwd()),
        data_dir_is_default=not configured,
        memory_limit=os.environ.get("CRITMIN_MEMORY_LIMIT", "2GB"),
        threads=int(os.environ.get("CRITMIN_THREADS", "2")),
        small_tables_in_memory=os.environ.get("CRITMIN_SMALL_TABLES_IN_MEMORY", "1").strip() != "0",
        sql_box=os.environ.get("CRITMIN_SQL_BOX", "0").strip() == "1",
    )


@lru_cache(maxsize=16)
def _resolved(configured: str, cwd: str) -> Path:
    # Resolving walks every component of the path (a system call each) and the pages ask
    # for the settings several times per rerun; a relative path is kept per working folder.
    # (A symlinked data folder pointed elsewhere is followed after a restart.)
    return (Path(configured).expanduser() if configured else EMBEDDED_DATA_DIR).resolve()
