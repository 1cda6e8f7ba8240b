"""The optional password gate: off by default, and when on no page runs before
the right password is typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import APP, run_page
from streamlit.testing.v1 import AppTest

from critmin.ui.access import password_matches


def test_password_comparison() -> None:
    assert password_matches("s3cret phrase", "s3cret phrase")
    assert not password_matches("s3cret", "s3cret phrase")
    assert not password_matches("", "x")
    assert password_matches("ключ🦆", "ключ🦆")


def test_gate_is_off_by_default(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRITMIN_PASSWORD", raising=False)
    at = run_page("about")
    assert not at.exception
    assert at.title[0].value == "About the data"
    assert not at.text_input


def test_gate_blocks_deep_links(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMIN_PASSWORD", "correct horse")
    at = run_page("explorer")
    assert not at.exception
    assert [t.value for t in at.title] == ["critmin"]
    assert not at.dataframe and not at.get("download_button")


def test_gate_opens_only_for_the_right_password(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (AppTest does not submit forms after switch_page, so this runs the default
    # page; in headless Chromium a deep link to /explorer behaved the same.)
    monkeypatch.setenv("CRITMIN_PASSWORD", "correct horse")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert [t.value for t in at.title] == ["critmin"]
    at.text_input[0].input("wrong")
    at.button[0].click()
    at.run()
    assert "not right" in " ".join(str(e.value) for e in at.error)
    assert [t.value for t in at.title] == ["critmin"]
    at.text_input[0].input("correct horse")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Kazakhstan: critical-mineral exports"]
