"""The server's warm-up: what it does before the first visitor is what that visitor's
page would otherwise do, into the same caches (ui/warmup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from conftest import run_page

from critmin.ui import data, warmup
from critmin.views import overview


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the Overview view's and the catalog's computations (cache misses)."""
    calls = {"view": 0, "catalog": 0}
    build, load = overview.build, data.load_catalog

    def counted_build(*args: Any) -> Any:
        calls["view"] += 1
        return build(*args)

    def counted_load(*args: Any) -> Any:
        calls["catalog"] += 1
        return load(*args)

    counted_build.__module__, counted_build.__qualname__ = build.__module__, build.__qualname__
    monkeypatch.setattr(overview, "build", counted_build)
    monkeypatch.setattr(data, "load_catalog", counted_load)
    return calls


@pytest.mark.parametrize("warmed", [False, True])
def test_the_first_visitor_finds_the_default_page_built(
    warmed: bool, demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(demo_copy))
    st.cache_data.clear()
    st.cache_resource.clear()
    calls = _count_builds(monkeypatch)
    if warmed:
        took = warmup.warm()
        assert set(took) == {"imports_s", "database_s", "catalog_s", "default_view_s"}
        assert calls == {"view": 1, "catalog": 1}
    at = run_page("overview")
    assert not at.exception and at.title[0].value.startswith("Kazakhstan")
    # Warmed, the visitor's page reads the catalog and its view from the caches.
    assert calls == {"view": 1, "catalog": 1}


def test_a_server_without_a_warehouse_builds_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(tmp_path / "nowhere"))
    assert set(warmup.warm()) == {"imports_s"}
    assert not (tmp_path / "nowhere").exists()


def test_streamlits_once_per_process_check_is_done_by_the_warm_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The warm-up calls a private Streamlit function (the check, at a page's first element,
    of whether it runs in a shell) so the first visitor's page skips it. This pins what it
    relies on: the function is there, the first element of a page calls it, and it does its
    work once per process."""
    from streamlit import delta_generator, env_util

    assert callable(delta_generator._maybe_print_use_warning)
    monkeypatch.setattr(delta_generator, "_use_warning_has_been_displayed", False)
    checks = {"n": 0}
    is_repl = env_util.is_repl

    def counted() -> bool:
        checks["n"] += 1
        return is_repl()

    monkeypatch.setattr(env_util, "is_repl", counted)
    warmup._streamlit_first_element()
    assert checks["n"] == 1
    st.caption("a first element")  # what a page's first element does: nothing more
    warmup._streamlit_first_element()
    assert checks["n"] == 1
