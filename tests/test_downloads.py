"""Downloads hold exactly the rows of the page's result, capped, and the Data explorer says
so; its table shows the first rows of a long list of flows and says how many."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
import streamlit as st
from conftest import run_page
from polars.testing import assert_frame_equal

from critmin.settings import load_settings
from critmin.ui import downloads


@pytest.fixture
def rows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "year": [2020, 2021, 2022],
            "exporter": ["KAZ", "UZB", "KAZ"],
            "value_usd": [1.5, 2.0, None],
            "flags": [["a", "b"], [], None],
        },
        schema_overrides={"year": pl.Int32},
    )


def test_csv_and_parquet_hold_exactly_the_rows(rows: pl.DataFrame) -> None:
    csv = pl.read_csv(io.BytesIO(downloads.to_csv(rows)))
    assert csv.height == rows.height
    assert csv["flags"].to_list() == ["a;b", "", None]  # empty list vs missing list
    assert_frame_equal(pl.read_parquet(io.BytesIO(downloads.to_parquet(rows))), rows)


def test_excel_is_capped_at_the_sheet_limit(
    rows: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from critmin.ui import file_formats

    monkeypatch.setattr(file_formats, "EXCEL_MAX_ROWS", 2)
    book = openpyxl.load_workbook(io.BytesIO(downloads.to_excel(rows)))
    sheet = book["flows"]
    assert sheet.max_row == 1 + 2  # header + the capped rows
    assert [c.value for c in sheet[1]] == rows.columns


def test_explorer_caps_rows_and_states_the_cap(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import critmin.settings
    import critmin.ui.data as data

    def capped() -> critmin.settings.Settings:
        return replace(load_settings(), row_cap=40)

    monkeypatch.delenv("CRITMIN_PASSWORD", raising=False)
    monkeypatch.setattr(critmin.settings, "load_settings", capped)
    monkeypatch.setattr(data, "load_settings", capped)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        at = run_page("explorer", {"minerals": "copper", "exporters": ""})
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe[0].value.shape[0] == 40
    assert any("The result holds the first 40 rows" in str(w.value) for w in at.warning)
    captions = " ".join(str(c.value) for c in at.caption)
    assert "at most 40" in captions and "Downloads hold every row of this result" in captions
    assert len(at.get("download_button")) == 3


def test_explorer_table_shows_the_first_rows_of_a_long_list(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long flat list: the table sends its first rows only (every rerun sends the table
    again), says so, and the downloads still hold the whole result."""
    from critmin.ui import explorer as page

    offered: list[int] = []
    offer = downloads.offer

    def offer_and_note(*args: Any, **kwargs: Any) -> None:
        offered.append(kwargs["rows"])
        offer(*args, **kwargs)

    monkeypatch.delenv("CRITMIN_PASSWORD", raising=False)
    monkeypatch.setattr(page, "SHOWN_ROWS", 25)
    monkeypatch.setattr(downloads, "offer", offer_and_note)
    at = run_page("explorer", {"minerals": "copper", "exporters": ""})
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    captions = " ".join(str(c.value) for c in at.caption)
    found = re.search(r"([\d,]+) rows, each flow once", captions)
    assert found, captions
    rows = int(found[1].replace(",", ""))
    assert rows > 25 and table.shape[0] == 25
    assert f"the table shows the first 25 in this order, the downloads all {rows:,}" in captions
    assert offered == [rows]  # the downloads hold the result's rows, not the table's
