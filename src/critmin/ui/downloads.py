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


def to_excel(df: pl.DataFrame, about: pl.DataFrame | None = None) -> bytes:
    """The rows on a first sheet ("flows"); `about` (what they are and where they come
    from: the explorer's query card and sources) on a second sheet ("about")."""
    buffer = io.BytesIO()
    if about is None:
        _flatten(df).head(EXCEL_MAX_ROWS).write_excel(buffer, worksheet="flows", autofit=True)
        return buffer.getvalue()
    import xlsxwriter

    with xlsxwriter.Workbook(buffer) as book:
        _flatten(df).head(EXCEL_MAX_ROWS).write_excel(book, worksheet="flows", autofit=True)
        _flatten(about).write_excel(book, worksheet="about", column_widths={"detail": 900})
    return buffer.getvalue()


def _flatten(df: pl.DataFrame) -> pl.DataFrame:
    """CSV and Excel have no list columns: join lists with ';'."""
    return df.with_columns(
        pl.col(c).list.join(";") for c, t in df.schema.items() if isinstance(t, pl.List)
    )
