"""Work done once per server, before its first visitor: the imports every page needs,
the warehouse opened, the catalog read and the default page's view built, each into the
same process-wide cache a visitor's page reads (ui/data.py). Started by the server's
entry (`serve.py`) when Streamlit's runtime is up, in a thread of its own, so the
server answers at once; a visitor who comes before it has finished waits only for what
is left (the caches let one computation run and the others wait for it).

The warm-up never builds a warehouse (a server without one says how to get one on its
first page) and never stops the server: what fails here is logged, and the first
visitor's page meets the same problem and says it.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)

# The libraries and modules the pages import, so none is imported inside a visitor's run.
MODULES = (
    "pandas",
    "pyarrow",
    "pydeck",
    "polars",
    "duckdb",
    "critmin.ui.charts",
    "critmin.ui.downloads",
    "critmin.ui.explorer",
    "critmin.ui.maps",
    "critmin.ui.notes",
    "critmin.ui.sidebar",
    "critmin.ui.tables",
    # Streamlit's emoji catalogue, read by set_page_config for the page icon (a few
    # hundred milliseconds of regular expressions, once per process).
    "streamlit.emojis",
)

_started = threading.Lock()
done = threading.Event()  # set once the warm-up has finished (or failed)
steps: dict[str, float] = {}  # what it did, in seconds, for the logs and the tests


def warm() -> dict[str, float]:
    """Do the warm-up now, in this thread; the seconds each step took."""
    from critmin.settings import load_settings
    from critmin.warehouse import Warehouse

    took: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        took[name] = time.perf_counter() - started
        started = time.perf_counter()

    from critmin.ui.registry import PAGES

    for name in (*MODULES, *(f"critmin.views.{p.name}" for p in PAGES)):
        try:
            importlib.import_module(name)
        except ImportError:  # a page without a view module
            continue
    _streamlit_first_element()
    lap("imports_s")
    if not Warehouse(load_settings().data_dir).exists():
        return took  # the first page says how to get one; nothing is built here
    from critmin.ui import data, fields, sidebar
    from critmin.views import overview

    data.database()
    lap("database_s")
    catalog = data.catalog()
    lap("catalog_s")
    data.view(overview.build, sidebar.defaults(overview.State, fields.overview(catalog)))
    lap("default_view_s")
    return took


def _streamlit_first_element() -> None:
    """Streamlit checks once per process, at the first element a page draws, whether it
    runs in a Python shell, by walking every frame of the calling thread's stack with
    their source lines (`inspect.stack()`, docs/performance.md item 16). Done here, on
    this thread's short stack, the pages skip it. Skipped if Streamlit no longer has it."""
    from streamlit import delta_generator

    check = getattr(delta_generator, "_maybe_print_use_warning", None)
    if callable(check):
        check()


def start() -> bool:
    """Start the warm-up in a thread of its own, once per process; False if it was
    started before."""
    if not _started.acquire(blocking=False):
        return False

    def run() -> None:
        try:
            steps.update(warm())
            log.info("warmed up: %s", ", ".join(f"{k} {v:.2f}" for k, v in steps.items()))
        except Exception:  # the first visitor's page meets the same problem and says it
            log.exception("the warm-up failed; pages will do its work on their first run")
        finally:
            done.set()

    threading.Thread(target=run, name="critmin-warm-up", daemon=True).start()
    return True


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """The server's lifespan (`st.App(..., lifespan=...)`): the warm-up starts once
    Streamlit's runtime is up, the server answers meanwhile."""
    start()
    yield
