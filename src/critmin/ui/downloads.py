"""Downloads of exactly the rows a page shows (CSV, Excel, Parquet), built so that no
visitor can hold the server for the others.

A page calls one function, with the view function and state its rows come from and
how to pick the rows out of the view:

    downloads.offer(explorer.build, state, lambda view: view.rows, name="critmin_flows",
                    rows=view.rows.height)

It draws one button per format. Nothing is built until a button is clicked, and the
page does not rerun; the click is served on a thread of Streamlit's, never on a page's
script thread:

1. from the files already built, shared by every session (FILES_CACHE_BYTES in all;
   keyed on the view function, its state, the warehouse's version and the format), or
2. built in a worker process (`python -m critmin.ui.file_formats`, one build at a
   time, at a lower CPU priority), so that the Python code of a workbook never holds
   the server's interpreter lock: the other sessions' pages and `/_stcore/health` keep
   answering while it runs.

Bounds: the rows are the view's (at most the app's row cap), Excel holds at most
`file_formats.EXCEL_MAX_ROWS` of them (and the page says so), a file larger than
MAX_FILE_BYTES is refused, and a build is given BUILD_TIMEOUT_S. While one build of a
session runs, that session's other clicks are refused with a message under the button;
so is any click that needs a build while MAX_BUILDS builds are under way.
`critmin.ui.guard` carries those messages to the button (Streamlit would show a generic
failure).

The file formats themselves (formula-safe CSV, Excel as strings, Parquet) are in
`critmin.ui.file_formats`.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import polars as pl
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from critmin.ui import data
from critmin.ui.file_formats import (
    EXCEL_MAX_ROWS,
    FORMATS,
    neutralise_formulas,
    to_csv,
    to_excel,
    to_parquet,
    write_request,
)
from critmin.ui.lru import BytesLRU

__all__ = [
    "EXCEL_MAX_ROWS",
    "DownloadRefused",
    "neutralise_formulas",
    "offer",
    "to_csv",
    "to_excel",
    "to_parquet",
]

log = logging.getLogger(__name__)

S = TypeVar("S")
V = TypeVar("V")

FILES_CACHE_BYTES = 128 << 20
MAX_FILE_BYTES = 64 << 20
MAX_BUILDS = 3  # builds under way at once (one runs, the others wait for the worker)
BUILD_TIMEOUT_S = 120.0


class DownloadRefused(RuntimeError):
    """A click that is not served; the message is shown under the button."""


BUSY_SESSION = (
    "Your other download is still being prepared: one file at a time. "
    "Click again once it has arrived."
)
BUSY_SERVER = "The server is preparing other visitors' files. Try again in a minute."


class Worker:
    """The process that builds files (`python -m critmin.ui.file_formats`), started at
    the first build and kept; one build at a time. A build past its time, or a worker
    that died, is stopped and the next build starts a fresh one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def build(
        self, fmt: str, rows: pl.DataFrame, timeout: float, about: pl.DataFrame | None = None
    ) -> bytes:
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            raise DownloadRefused(BUSY_SERVER)
        try:
            process = self._start()
            try:
                assert process.stdin is not None
                write_request(process.stdin, fmt, rows, about)
                status = self._read(process, 1, deadline)
                (size,) = struct.unpack("!Q", self._read(process, 8, deadline))
                body = self._read(process, size, deadline)
            except TimeoutError as error:  # before OSError, of which it is one
                self._stop()
                raise DownloadRefused(
                    "This file took too long to prepare; narrow the filters and try again."
                ) from error
            except (OSError, EOFError, ValueError) as error:
                self._stop()
                raise DownloadRefused("This file could not be prepared; try again.") from error
        finally:
            self._lock.release()
        if status != b"\0":
            log.error("a %s download failed: %s", fmt, body.decode(errors="replace")[:300])
            raise DownloadRefused("This file could not be prepared.")
        return body

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "critmin.ui.file_formats"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
            )
        return self._process

    @staticmethod
    def _read(process: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        chunks, left = [], size
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the worker stopped")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    def close(self) -> None:
        with self._lock:
            self._stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None


class Builds:
    """The files built for downloads, the builds under way and the worker."""

    def __init__(self, cache_bytes: int = FILES_CACHE_BYTES, max_builds: int = MAX_BUILDS):
        self.files: BytesLRU[bytes] = BytesLRU(cache_bytes, len)
        self.max_builds = max_builds
        self.worker = Worker()
        self._lock = threading.Lock()
        self._busy: dict[str, Hashable] = {}  # session id -> the file it waits for
        self._under_way: dict[Hashable, Future[bytes]] = {}

    def file(
        self,
        key: Hashable,
        session: str,
        rows: Callable[[], tuple[pl.DataFrame, pl.DataFrame | None]],
        fmt: str,
    ) -> bytes:
        """The file `key` (built from `rows()`, the rows and an optional second sheet, in
        `fmt` unless already built); raises
        DownloadRefused when this session already waits for a file or too many builds
        are under way."""
        cached = self.files.get(key)
        if cached is not None:
            return cached
        with self._lock:
            if session in self._busy:
                raise DownloadRefused(BUSY_SESSION)
            shared = self._under_way.get(key)
            if shared is None and len(self._under_way) >= self.max_builds:
                raise DownloadRefused(BUSY_SERVER)
            mine: Future[bytes] = Future()
            if shared is None:
                self._under_way[key] = mine
            self._busy[session] = key
        try:
            if shared is not None:  # the same file, asked for by another session
                try:
                    return shared.result(timeout=BUILD_TIMEOUT_S)
                except FutureTimeout as error:
                    raise DownloadRefused(BUSY_SERVER) from error
            try:
                frame, about = rows()
                content = self.worker.build(fmt, frame, BUILD_TIMEOUT_S, about)
                if len(content) > MAX_FILE_BYTES:
                    raise DownloadRefused(
                        f"This file would be larger than {MAX_FILE_BYTES >> 20} MB; "
                        "narrow the filters."
                    )
                self.files.put(key, content)
                mine.set_result(content)
                return content
            except BaseException as error:
                mine.set_exception(error)
                raise
            finally:
                with self._lock:
                    self._under_way.pop(key, None)
        finally:
            with self._lock:
                self._busy.pop(session, None)


BUILDS = Builds()
atexit.register(BUILDS.worker.close)


def _rows_of(
    data_dir: str,
    version: str,
    make: Callable[..., Any],
    state: Any,
    pick: Callable[[Any], pl.DataFrame],
    about: Callable[[Any], pl.DataFrame] | None,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    view = data.cached_view(data_dir, version, make, state)
    return pick(view), (about(view) if about is not None else None)


def offer(
    make: Callable[[Any, Any, S], V],
    state: S,
    pick: Callable[[V], pl.DataFrame],
    *,
    name: str,
    rows: int,
    formats: Sequence[str] = ("csv", "xlsx", "parquet"),
    what: str = "",
    about: Callable[[V], pl.DataFrame] | None = None,
) -> None:
    """Download buttons for the rows `pick(make(db, catalog, state))` (the rows a page
    shows, from its cached view), one per format, side by side, saved as `name` plus
    the format's extension; `rows` is how many there are (for the caption on Excel's
    cap); `what` names them on the buttons ("Download the scenario (CSV)"); `about`
    picks a second sheet for the Excel file (what the rows are, where they come from)."""
    ctx = get_script_run_ctx()
    session = ctx.session_id if ctx is not None else ""
    data_dir, version = data.warehouse_version()
    rows_of = functools.partial(_rows_of, data_dir, version, make, state, pick, about)
    columns = st.columns(len(formats))
    for column, fmt in zip(columns, formats, strict=True):
        spec = FORMATS[fmt]
        key = (data_dir, version, f"{make.__module__}.{make.__qualname__}", state, name, fmt)
        column.download_button(
            f"Download {what} ({spec.label})" if what else f"Download {spec.label}",
            functools.partial(BUILDS.file, key, session, rows_of, fmt),
            f"{name}{spec.extension}",
            spec.mime,
            on_click="ignore",
        )
    if "xlsx" in formats and rows > EXCEL_MAX_ROWS:
        others = " and ".join(FORMATS[f].label for f in formats if f != "xlsx")
        st.caption(
            f"Excel holds the first {EXCEL_MAX_ROWS:,} of these {rows:,} rows (a workbook is "
            f"slow to build); {others} hold them all."
        )
