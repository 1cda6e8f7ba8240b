"""How tables show money: as numbers that the browser formats, never as strings
formatted in Python. A number column stays sortable by a click on its header, and
no Python function runs inside polars while a page is served (that deadlocked the
shared server under concurrent sessions: polars' small thread pool waited for the
GIL that the waiting script threads held)."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

USD_HELP = "US dollars (current prices); 1.2M = 1.2 million, 3.4B = 3.4 billion"


def usd_columns(*names: str) -> dict[str, Any]:
    """Column settings that show each named column's US dollars compactly (12.3M)."""
    return {
        name: st.column_config.NumberColumn(name, format="compact", help=USD_HELP) for name in names
    }


def show(frame: pl.DataFrame, where: Any = st, **options: Any) -> None:
    """A table of a polars frame, without its row numbers, as wide as its column.

    The frame goes to Streamlit as an Arrow table: given a polars frame, Streamlit
    would first convert it to pandas and back to Arrow (see docs/performance.md §10)."""
    options = {"hide_index": True, "width": "stretch", **options}
    where.dataframe(frame.to_arrow(compat_level=pl.CompatLevel.oldest()), **options)
