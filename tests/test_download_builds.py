"""Downloads are safe and bounded: CSV cells cannot run as formulas, Excel writes text as
text, files are built in a worker process (one at a time, killed past its time), one
build per session and a few in all, and built files are kept in a cache bounded in
bytes. The Map's download holds exactly the sites its map draws."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from critmin import queries
from critmin.catalog import load_catalog
from critmin.db import open_database
from critmin.settings import Settings
from critmin.ui import downloads, file_formats
from critmin.ui.downloads import BUSY_SERVER, BUSY_SESSION, Builds, DownloadRefused, Worker
from critmin.ui.lru import BytesLRU
from critmin.views import map as sites_map

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok", None]


def hostile_rows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "name": HOSTILE,
            "value_usd": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, None],
            "series": [["=cmd|' /C calc'!A0", "b"], [], None, ["x"], ["y"], ["z"], ["-1"], []],
        }
    )


def test_csv_cells_that_would_run_as_formulas_are_neutralised() -> None:
    csv = pl.read_csv(io.BytesIO(file_formats.to_csv(hostile_rows())), infer_schema=False)
    assert csv["name"].to_list() == [
        '\'=HYPERLINK("http://x","y")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ok",
        None,
    ]
    assert csv["series"][0] == "'=cmd|' /C calc'!A0;b" and csv["series"][6] == "'-1"
    # Numbers stay numbers: a negative value is not text that starts with '-'.
    assert csv["value_usd"].to_list()[:3] == ["-1.5", "2.0", "-3.0"]


def test_excel_writes_text_as_text_never_as_a_formula() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(file_formats.to_excel(hostile_rows()))).active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows(min_row=2, max_col=1)]
    assert [c.value for c in cells[:4]] == HOSTILE[:4]
    assert all(c.data_type == "s" for c in cells[:7])  # strings, not formulas ("f")


def test_the_worker_process_builds_each_format(tmp_path: Path) -> None:
    rows = hostile_rows().with_columns(pl.col("value_usd").fill_null(0.0))
    worker = Worker()
    try:
        for fmt in ("csv", "xlsx", "parquet"):
            assert (
                worker.build(fmt, rows, timeout=120) == file_formats.build(fmt, rows)
                or fmt == "xlsx"
            )
        book = openpyxl.load_workbook(io.BytesIO(worker.build("xlsx", rows, timeout=120)))
        assert book.active is not None and book.active.max_row == rows.height + 1
        first = worker.pid
        assert first is not None
        # A build that fails says so and leaves the worker serving.
        with pytest.raises(DownloadRefused, match="could not be prepared"):
            worker.build("nonsense", rows, timeout=60)
        assert worker.pid == first
    finally:
        worker.close()


def test_a_build_past_its_time_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    worker = Worker()
    many = pl.DataFrame({"x": [f"text {i}" for i in range(60_000)], "y": range(60_000)})
    try:
        with pytest.raises(DownloadRefused, match="took too long"):
            worker.build("xlsx", many, timeout=0.5)
        assert worker.pid is None  # stopped; the next build starts a fresh worker
        assert worker.build("csv", many.head(3), timeout=120).startswith(b"x,y\n")
    finally:
        worker.close()


def test_the_worker_runs_at_a_lower_priority() -> None:
    code = (
        "import io, os, sys, threading\n"
        "from critmin.ui import file_formats\n"
        "r, w = os.pipe()\n"
        "os.close(w)\n"
        "file_formats.serve(os.fdopen(r, 'rb'), io.BytesIO(), niceness=7)\n"
        "print(os.nice(0))\n"
    )
    before = int(
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.nice(0))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    after = int(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    assert after == min(19, before + 7)


class SlowWorker:
    """Stands in for the worker: each build waits for `release`, and is counted."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.builds = 0

    def build(
        self, fmt: str, rows: pl.DataFrame, timeout: float, about: pl.DataFrame | None = None
    ) -> bytes:
        self.builds += 1
        assert self.release.wait(30)
        return file_formats.build(fmt, rows, about)

    def close(self) -> None:
        pass


def _in_thread(call: Callable[[], bytes]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []

    def run() -> None:
        try:
            out.append(call())
        except Exception as error:
            out.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_one_build_per_session_a_few_in_all_and_each_file_built_once() -> None:
    builds = Builds(max_builds=2)
    slow = SlowWorker()
    builds.worker = slow  # type: ignore[assignment]
    rows = pl.DataFrame({"a": [1, 2, 3]})

    def ask(key: str, session: str, fmt: str = "csv") -> Callable[[], bytes]:
        return lambda: builds.file(key, session, lambda: (rows, None), fmt)

    first, first_out = _in_thread(ask("view-1", "alice"))
    _wait_for(lambda: slow.builds == 1)
    # Alice's second click, on another file, while hers is built: refused politely.
    with pytest.raises(DownloadRefused) as refused:
        builds.file("view-2", "alice", lambda: (rows, None), "parquet")
    assert str(refused.value) == BUSY_SESSION
    # Bob asks for the same file: he waits for the same build, not a second one.
    same, same_out = _in_thread(ask("view-1", "bob"))
    # Carol's file is a second build; Dan's would be a third: refused.
    other, other_out = _in_thread(ask("view-3", "carol"))
    _wait_for(lambda: slow.builds == 2)
    with pytest.raises(DownloadRefused) as busy:
        builds.file("view-4", "dan", lambda: (rows, None), "csv")
    assert str(busy.value) == BUSY_SERVER
    slow.release.set()
    for thread in (first, same, other):
        thread.join(10)
    assert first_out == same_out == [b"a\n1\n2\n3\n"] and other_out == first_out
    assert slow.builds == 2
    # Built once, then served from the cache to anyone.
    assert builds.file("view-1", "erin", lambda: (rows, None), "csv") == b"a\n1\n2\n3\n"
    assert slow.builds == 2


def test_built_files_are_kept_within_their_byte_bound() -> None:
    builds = Builds(cache_bytes=1000)
    builds.worker = SlowWorker()  # type: ignore[assignment]
    builds.worker.release.set()  # type: ignore[attr-defined]
    for n in range(20):
        rows = pl.DataFrame({"text": ["x" * 90] * 2, "n": [n, n]})
        builds.file(f"view-{n}", "s", lambda rows=rows: (rows, None), "csv")
        assert builds.files.bytes <= 1000
    assert 1 < len(builds.files) < 20


def test_a_file_larger_than_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(downloads, "MAX_FILE_BYTES", 10)
    builds = Builds()
    builds.worker = SlowWorker()  # type: ignore[assignment]
    builds.worker.release.set()  # type: ignore[attr-defined]
    with pytest.raises(DownloadRefused, match="larger than"):
        builds.file("big", "s", lambda: (pl.DataFrame({"a": list(range(100))}), None), "csv")
    assert len(builds.files) == 0


def test_bytes_lru_keeps_the_most_recently_used() -> None:
    cache: BytesLRU[bytes] = BytesLRU(10, len)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recent
    cache.put("c", b"1234")  # over 10 bytes: b goes
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    cache.put("huge", b"x" * 11)  # larger than the bound: not kept, nothing evicted
    assert cache.get("huge") is None and len(cache) == 2 and cache.bytes == 8


def test_the_map_and_its_download_hold_the_same_capped_sites(demo_warehouse_dir: Path) -> None:
    """More sites than the row cap: the map draws the first by country and name, says it
    is truncated, and the download holds exactly those sites."""
    settings = Settings(data_dir=demo_warehouse_dir, data_dir_is_default=False)
    every = sites_map.all_sites(open_database(settings), sites_map.DepositFilter())
    cap = every.height // 3
    db = open_database(replace(settings, row_cap=cap))
    catalog = load_catalog(db)
    state = sites_map.State("KAZ", (), (), (), ("gallium",), 2024)
    view = sites_map.build(db, catalog, state)
    download = sites_map.sites_download(db, catalog, state)
    # The cap counts records; a site listed by several compilations is one row.
    assert view.truncated and view.sites.height == download.height <= cap
    key = ["name", "country", "lat", "lon", "status", "source"]
    assert_frame_equal(view.sites.select(key), download.select(key))
    first_records = queries.deposits(open_database(settings), sites_map.DepositFilter())
    assert_frame_equal(download, sites_map.site_table(first_records.frame.head(cap)))
    whole = sites_map.build(open_database(settings), catalog, state)
    assert not whole.truncated and whole.sites.height == every.height


def test_the_map_page_says_when_it_caps_the_sites(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import critmin.settings
    from critmin.settings import load_settings

    def capped() -> Settings:
        return replace(load_settings(), row_cap=100)

    monkeypatch.delenv("CRITMIN_PASSWORD", raising=False)
    monkeypatch.setattr(critmin.settings, "load_settings", capped)
    monkeypatch.setattr("critmin.ui.data.load_settings", capped)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(
            str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=90
        )
        at.query_params["sites_in"] = ""
        at.switch_page("pages/map.py")
        at.run()
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
    assert not at.exception, [e.value for e in at.exception]
    warnings = " ".join(str(w.value) for w in at.warning)
    assert (
        "More than 100 site records match: the map, the counts and the download hold the "
        "first 100 by country and name" in warnings
    )
    shown = re.search(r"\(([\d,]+) sites\)", warnings)
    assert shown and 0 < int(shown[1]) <= 100, warnings
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [f"Download the {shown[1]} sites (CSV)"]


def test_the_worker_builds_an_excel_file_with_its_about_sheet() -> None:
    """The explorer's Excel file carries a second sheet about the query: it crosses the
    worker's pipe with the rows."""
    import openpyxl

    rows = pl.DataFrame({"year": [2023, 2024], "value_usd_m": [1.5, 2.5]})
    about = pl.DataFrame({"item": ["Question", "SQL"], "detail": ["exports of KAZ", "SELECT 1"]})
    worker = downloads.Worker()
    try:
        book = openpyxl.load_workbook(io.BytesIO(worker.build("xlsx", rows, 60, about)))
        plain = worker.build("csv", rows, 60)
    finally:
        worker.close()
    assert book.sheetnames == ["flows", "about"]
    assert [c.value for c in book["about"]["B"]][1:] == ["exports of KAZ", "SELECT 1"]
    assert [c.value for c in book["flows"]["B"]][1:] == [1.5, 2.5]
    assert plain == b"year,value_usd_m\n2023,1.5\n2024,2.5\n"
