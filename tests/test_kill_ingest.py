"""Failure recovery: an ingest killed at any moment leaves the previous warehouse
intact and the next writer removes its leftovers; a corrupt Parquet file is a
clear message on the pages that need it while the other pages keep working."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import streamlit as st
from conftest import run_page

from critmin import queries
from critmin.db import TableUnavailable, open_database
from critmin.filters import DepositFilter
from critmin.settings import Settings
from critmin.warehouse import MANIFEST, Warehouse

REPO = Path(__file__).resolve().parents[1]
BACI = REPO / "tests" / "data" / "baci"

# Runs `critmin ingest baci` in a child process that pauses (and writes a marker
# file) at the chosen moment, so the test can SIGKILL it exactly there.
CHILD = r"""
import os, sys, time
from pathlib import Path
import critmin.warehouse as warehouse
from critmin.cli import main

moment, marker, data_dir, source = sys.argv[1:5]

def pause():
    Path(marker).write_text(moment)
    time.sleep(120)

if moment == "before_any_write":
    def new_part_dir(self, table, part):
        pause()
    warehouse.Transaction.new_part_dir = new_part_dir
elif moment == "mid_parquet":
    # The yearly files are staged; tear the last one in half as a killed writer would.
    def set_part(self, table, part, directory, **kwargs):
        last = sorted(Path(directory).rglob("*.parquet"))[-1]
        last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
        pause()
    warehouse.Transaction.set_part = set_part
elif moment == "before_manifest_swap":
    real_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith("manifest.json"):
            pause()
        return real_replace(src, dst, *args, **kwargs)
    os.replace = replace
sys.exit(main(["--data-dir", data_dir, "ingest", "baci", source]))
"""


def _versions(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.glob("*/*/v-*")}


def _live(root: Path) -> set[str]:
    manifest = Warehouse(root).manifest()
    return {p["path"] for t in manifest["tables"].values() for p in t["parts"].values()}


def _kill_at(moment: str, root: Path, tmp_path: Path) -> None:
    marker = tmp_path / f"{moment}.marker"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, moment, str(marker), str(root), str(BACI)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None:
                raise AssertionError(f"ingest ended before {moment}: {child.stderr.read()!r}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise AssertionError(f"ingest never reached {moment}")
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("moment", ["before_any_write", "mid_parquet", "before_manifest_swap"])
def test_killed_ingest_leaves_the_warehouse_intact(
    moment: str, demo_copy: Path, tmp_path: Path
) -> None:
    root = demo_copy
    manifest_before = (root / MANIFEST).read_text(encoding="utf-8")
    settings = Settings(data_dir=root, data_dir_is_default=False)
    years_before = queries.trade_years(open_database(settings)).frame

    _kill_at(moment, root, tmp_path)

    assert (root / MANIFEST).read_text(encoding="utf-8") == manifest_before
    assert Warehouse(root).check(verify_checksums=True) == []
    db = open_database(settings)
    assert db.unavailable == {}
    assert queries.trade_years(db).frame.equals(years_before)
    orphans = _versions(root) - _live(root)
    if moment == "before_any_write":
        assert orphans == set()
    else:
        assert any(o.startswith("trade_flows/baci/") for o in orphans), orphans

    with Warehouse(root).transaction():  # the next writer, e.g. another ingest
        pass
    assert _versions(root) == _live(root)
    assert Warehouse(root).check(verify_checksums=True) == []


def test_a_corrupt_file_names_itself_and_spares_other_tables(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = Warehouse(demo_copy).files("deposits")[0]
    broken.write_bytes(b"this is not parquet at all" * 10)
    db = open_database(Settings(data_dir=demo_copy, data_dir_is_default=False))
    assert set(db.unavailable) == {"deposits"}
    with pytest.raises(TableUnavailable, match=str(broken)):
        queries.deposits(db, DepositFilter())
    assert queries.trade_years(db).frame.height > 0  # trade tables still answer

    monkeypatch.setenv("CRITMIN_DATA_DIR", str(demo_copy))
    monkeypatch.delenv("CRITMIN_PASSWORD", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        pages = {}
        for page in ("map", "overview", "partners"):
            pages[page] = run_page(page)
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
    for at in pages.values():
        assert not at.exception, [e.value for e in at.exception]
    map_errors = " ".join(str(e.value) for e in pages["map"].error)
    assert "deposits table cannot be read" in map_errors and broken.name in map_errors
    for page in ("overview", "partners"):
        assert not pages[page].error, [e.value for e in pages[page].error]
        assert pages[page].title
