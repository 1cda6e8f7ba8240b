"""Cached access to the warehouse for the pages.

`database()` opens the process-wide DuckDB connection once (`st.cache_resource`);
`catalog()` reads what the warehouse holds (countries, minerals, years); and
`view(build, state)` runs a page's view function (`critmin.views`) through
`st.cache_data`, keyed on the function, the state and the warehouse's version, so a
re-ingest invalidates what was cached; `drawn(make, view, state)` keeps what a page
builds from a view (the map's deck) the same way. Every cache is bounded in bytes (and
in time), so that no sequence of visits grows the process past the memory the hosted
demo is given (docs/deploying.md): views VIEW_CACHE_BYTES (pickled), decks
DRAWN_CACHE_BYTES, download files `downloads.FILES_CACHE_BYTES`; the catalog and the
DuckDB connection are a few per warehouse version, DuckDB itself held to
CRITMIN_MEMORY_LIMIT.

    view = data.view(growth.build, state)   # typed: mypy follows state and view
"""

from __future__ import annotations

import ctypes
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from critmin.catalog import Catalog, load_catalog
from critmin.db import Database, QueryTimeout, TableUnavailable, open_database
from critmin.settings import load_settings
from critmin.ui.lru import BytesLRU
from critmin.warehouse import Warehouse, WarehouseError

S = TypeVar("S")
V = TypeVar("V")
R = TypeVar("R")

# Views cached per process: most are a few small frames (a page's figures); the
# explorer's rows at the row cap are about 12 MB (docs/performance.md §16), so the
# bound is in bytes.
VIEW_CACHE_ENTRIES = 256
VIEW_CACHE_BYTES = 256 << 20
CACHE_TTL_S = 3 * 3600
# Decks kept for the Map page: one is its JSON (at most about 1 MB: sites past 3,000 are
# grid cells; docs/performance.md item 3) and its layers, counted as three times the JSON.
DRAWN_CACHE_BYTES = 64 << 20


@st.cache_resource(show_spinner=False, max_entries=4)
def _open(data_dir: str, version: str) -> Database:
    return open_database(load_settings())


# The embedded demo warehouse is built by `make run` (`critmin demo --if-missing`) before
# the server starts. A server started on a fresh clone with `streamlit run app.py` builds
# it once, in a thread of its own outside any visitor's session (`build_missing_demo`,
# called by app.py once per process); pages wait for that build, never run it.
DEMO_WAIT_S = 120.0
_demo_lock = threading.Lock()
_demo_build: threading.Thread | None = None
_demo_error: list[str] = []


def build_missing_demo() -> threading.Thread | None:
    """Start building the embedded demo warehouse when the default one does not exist
    (as `critmin demo --if-missing`), once per process; the build's thread, or None when
    there is nothing to build. A warehouse chosen with CRITMIN_DATA_DIR is never built."""
    global _demo_build
    with _demo_lock:
        if _demo_build is not None:
            return _demo_build
        settings = load_settings()
        if not settings.data_dir_is_default or settings.data_dir.exists():
            return None

        def build() -> None:
            from critmin.demo import build_demo

            try:
                build_demo(settings.data_dir)
            except Exception as error:  # said on every page, with the command that builds it
                _demo_error.append(f"{type(error).__name__}: {error}")
                logging.getLogger(__name__).exception("the embedded demo could not be built")

        _demo_build = threading.Thread(target=build, name="critmin-demo-build", daemon=True)
        _demo_build.start()
        return _demo_build


def _await_demo() -> None:
    """Wait for a demo build under way (first start only), then say if it failed."""
    building = _demo_build
    if building is not None and building.is_alive():
        with st.spinner("Building the embedded demo data (first start only, a few seconds)..."):
            building.join(DEMO_WAIT_S)
    if _demo_error:
        raise WarehouseError(
            f"The embedded demo warehouse could not be built ({_demo_error[0]}). "
            "Build it with `make run` or `.venv/bin/critmin demo`."
        )


def warehouse_version() -> tuple[str, str]:
    """(data dir, manifest timestamp): the cache key of everything read from it."""
    _await_demo()
    warehouse = Warehouse(load_settings().data_dir)
    try:
        seen = warehouse.manifest_path.stat()
    except OSError:
        warehouse.manifest()  # absent or unreadable: raises with what to do
        raise
    # The manifest is read again only when its file changes (an ingest replaces it), not
    # at each of the several calls a rerun makes.
    return _version(str(warehouse.root), seen.st_mtime_ns, seen.st_size, seen.st_ino)


@functools.lru_cache(maxsize=8)
def _version(root: str, mtime_ns: int, size: int, inode: int) -> tuple[str, str]:
    return root, str(Warehouse(root).manifest().get("updated_at", ""))


def database() -> Database:
    return _open(*warehouse_version())


# A resource, not data: the catalog is frozen and read at every rerun, and st.cache_data
# would unpickle a copy of it at each read (a tenth of a loaded server's time).
@st.cache_resource(show_spinner=False, max_entries=4, ttl=CACHE_TTL_S)
def _catalog(data_dir: str, version: str) -> Catalog:
    return load_catalog(_open(data_dir, version))


def catalog() -> Catalog:
    return _catalog(*warehouse_version())


@st.cache_data(
    show_spinner=False, max_entries=VIEW_CACHE_ENTRIES, max_size=VIEW_CACHE_BYTES, ttl=CACHE_TTL_S
)
def _view(data_dir: str, version: str, name: str, state: Any, _build: Callable[..., Any]) -> Any:
    # `name` (module and function) keys the cache; `_build` itself is not hashed.
    return _build(_open(data_dir, version), _catalog(data_dir, version), state)


def view(build: Callable[[Database, Catalog, S], V], state: S) -> V:
    """`build(db, catalog, state)`, cached. A query that times out or a table that
    cannot be read stops the page with the reason; other pages keep working."""
    data_dir, version = warehouse_version()
    try:
        result: V = _view(
            data_dir, version, f"{build.__module__}.{build.__qualname__}", state, build
        )
    except (QueryTimeout, TableUnavailable) as error:
        st.error(str(error), icon=":material/error:")
        st.stop()
    return result


def cached_view(data_dir: str, version: str, build: Callable[..., V], state: Any) -> V:
    """`build(db, catalog, state)` of a given warehouse version, through the same cache
    as `view` and without drawing anything: for work done off a page's script thread
    (a download's rows, at its click)."""
    result: V = _view(data_dir, version, f"{build.__module__}.{build.__qualname__}", state, build)
    return result


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
TRIM_EVERY_S = 15.0
_trimming = threading.Event()


def return_freed_memory() -> None:
    """Make the C allocator give freed memory back to the system (once per process).

    glibc serves blocks over its mmap threshold (128 kB) from fresh mappings and unmaps
    them when freed, but after the first such free it raises the threshold, up to 32 MB,
    and keeps later blocks of a few MB (a view's frames, a page's messages, a pickled
    cache entry) in its heaps for reuse; and the heaps of the server's many threads keep
    their free pages. Memory taken by a wave of visitors was never given back. The
    thresholds are fixed, and a thread hands free pages back every TRIM_EVERY_S
    (`malloc_trim`, a few milliseconds). Elsewhere than glibc (macOS, musl) this does
    nothing."""
    if _trimming.is_set():
        return
    _trimming.set()
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return

    def keep_trimming() -> None:
        while True:
            time.sleep(TRIM_EVERY_S)
            trim(0)

    threading.Thread(target=keep_trimming, name="critmin-malloc-trim", daemon=True).start()


def _approx_bytes(value: Any) -> int:
    """What a drawn object holds in memory, roughly: three times its JSON (a deck's
    layers and the JSON itself)."""
    to_json = getattr(value, "to_json", None)
    return 3 * len(to_json()) if callable(to_json) else 1 << 20


_DRAWN: BytesLRU[Any] = BytesLRU(DRAWN_CACHE_BYTES, _approx_bytes)


def drawn(make: Callable[[V, S], R], view: V, state: S) -> R:
    """`make(view, state)`, kept between reruns and sessions: what a page builds from
    its view that costs more than drawing it (the map's layers and their JSON). Keyed
    like the view, on the state and the warehouse's version (the view follows from
    them). The result is shared, not copied: it must not be changed once made."""
    data_dir, version = warehouse_version()
    key = (data_dir, version, f"{make.__module__}.{make.__qualname__}", state)
    result: R | None = _DRAWN.get(key)
    if result is None:
        result = make(view, state)
        _DRAWN.put(key, result)
    return result


def largest_exports(country: str) -> list[str]:
    """A country's largest mineral exports in the last year (the mineral picker's
    "largest exports" choice), cached like any view."""
    from critmin.views import common

    return view(common.largest_exports, common.LargestExports(country, catalog().default_side()))


def catalog_or_stop() -> Catalog:
    """The catalog if the warehouse opens; otherwise say what is wrong and how to fix
    it, and stop the page. Every page calls this first."""
    from critmin.ui.router import ensure_router

    ensure_router()
    try:
        database()
        return catalog()
    except WarehouseError as error:
        st.error(f"**The data could not be opened.** {error}")
        st.info(
            "Set `CRITMIN_DATA_DIR` to a warehouse folder, or unset it to use the "
            "embedded demo (built by `make run`)."
        )
    except QueryTimeout as error:
        st.error(str(error), icon=":material/error:")
    st.stop()
    raise AssertionError("st.stop() returned")  # for type checkers: never reached


def manifest() -> dict[str, Any]:
    data_dir, _ = warehouse_version()
    return Warehouse(data_dir).manifest()
