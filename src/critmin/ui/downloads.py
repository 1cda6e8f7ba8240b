"""Downloads of exactly the rows a page shows: CSV, Excel and Parquet bytes."""

from __future__ import annotations

import io

import polars as pl

EXCEL_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header


def to_csv(df: pl.DataFrame) -> bytes:
    return _flatten(df).write_csv().encode("utf-8")


def to_parquet(df: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.write_parquet(buffer)
    return buffer.getvalue()


def to_excel(df: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    _flatten(df).head(EXCEL_MAX_ROWS).write_excel(buffer, worksheet="flows", autofit=True)
    return buffer.getvalue()


def _flatten(df: pl.DataFrame) -> pl.DataFrame:
    """CSV and Excel have no list columns: join lists with ';'."""
    return df.with_columns(
        pl.col(c).list.join(";") for c, t in df.schema.items() if isinstance(t, pl.List)
    )
