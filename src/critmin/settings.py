"""Where the warehouse lives and the limits the app runs under.

`CRITMIN_DATA_DIR` chooses the warehouse; by default the embedded one under
`data/warehouse` of the checkout, which `critmin demo` builds offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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


def load_settings() -> Settings:
    configured = os.environ.get("CRITMIN_DATA_DIR", "").strip()
    data_dir = Path(configured).expanduser() if configured else EMBEDDED_DATA_DIR
    return Settings(
        data_dir=data_dir.resolve(),
        data_dir_is_default=not configured,
        memory_limit=os.environ.get("CRITMIN_MEMORY_LIMIT", "2GB"),
        threads=int(os.environ.get("CRITMIN_THREADS", "2")),
    )
