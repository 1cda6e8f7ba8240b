"""Downloads hold exactly the rows shown, capped, and the Data explorer says so."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

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
    assert any("Showing the first 40 rows" in str(w.value) for w in at.warning)
    captions = " ".join(str(c.value) for c in at.caption)
    assert "at most 40" in captions and "Downloads hold exactly the rows shown" in captions
    assert len(at.get("download_button")) == 3
