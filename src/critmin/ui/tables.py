"""How tables show numbers: as numbers that the browser formats, never as strings
formatted in Python. A number column stays sortable by a click on its header, and
no Python function runs inside polars while a page is served (that deadlocked the
shared server under concurrent sessions: polars' small thread pool waited for the
GIL that the waiting script threads held).

Money is shown in whole US dollars with thousands separators (2,512,345,678), never
rounded to two figures; an empty cell shows a dash, not "None"."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

USD_HELP = "US dollars, current prices, whole dollars"
MISSING = "–"  # what an empty cell shows


def usd_columns(*names: str) -> dict[str, Any]:
    """Column settings that show each named column's US dollars in full (2,512,345,678)."""
    return {
        name: st.column_config.NumberColumn(name, format="localized", help=USD_HELP)
        for name in names
    }


def tonnes_columns(*names: str) -> dict[str, Any]:
    """Column settings for metric tonnes (one decimal, with separators)."""
    return {
        name: st.column_config.NumberColumn(name, format="localized", help="Metric tonnes")
        for name in names
    }


def show(frame: pl.DataFrame, where: Any = st, **options: Any) -> None:
    """A table of a polars frame, without its row numbers, as wide as its column.

    Money columns (ending in "(USD)") are rounded to whole dollars, tonnes ("(t)",
    "Tonnes...") to one decimal and unit values ("USD/kg...") to two, so the browser's
    separators show no false precision. The frame goes to Streamlit as an Arrow table: given a polars
    frame, Streamlit would first convert it to pandas and back to Arrow, a tenth of a
    page's server time on the shared demo (docs/performance.md)."""
    options = {"hide_index": True, "width": "stretch", "placeholder": MISSING, **options}
    rounded = [
        pl.col(c).round(digits)
        for c, kind in frame.schema.items()
        if kind.is_float() and (digits := _digits(c)) is not None
    ]
    if rounded:
        frame = frame.with_columns(rounded)
    where.dataframe(frame.to_arrow(compat_level=pl.CompatLevel.oldest()), **options)


def _digits(column: str) -> int | None:
    if "%" in column:  # a share keeps its own digits; "Covers gap % (USD)" one decimal
        return 1 if column.endswith(")") else None
    if column.endswith("(USD)"):
        return 0
    if column.endswith("(t)") or column.startswith("Tonnes"):
        return 1
    if column.startswith("USD/kg"):
        return 2
    return None


def number_columns(frame: pl.DataFrame) -> dict[str, Any]:
    """Column settings for every money, tonnes and unit-value column of a frame."""
    settings: dict[str, Any] = {}
    for column in frame.columns:
        if column.endswith("(USD)"):
            settings.update(usd_columns(column))
        elif column.endswith("(t)") or column.startswith("Tonnes"):
            settings.update(tonnes_columns(column))
        elif column.startswith("USD/kg"):
            settings[column] = st.column_config.NumberColumn(
                column, format="localized", help="US dollars per kilogram"
            )
    return settings
