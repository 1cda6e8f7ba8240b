"""The files a download holds, as bytes: CSV, Excel and Parquet of a polars frame.

Pure functions, no Streamlit: `critmin.ui.downloads` runs them in a worker process so
that a build never holds the server (an Excel workbook is Python code cell by cell).
`python -m critmin.ui.file_formats` is that worker (`serve`): it reads requests on its
standard input and answers on its standard output, one at a time.

- CSV cells that a spreadsheet would read as a formula (text starting with `=`, `+`,
  `-`, `@`, a tab or a carriage return) get a leading apostrophe, the usual guard
  against formula injection: a site or product name from a source file cannot run in a
  user's spreadsheet. Numbers are left as they are.
- Excel writes every text cell as a string (never a formula) and holds at most
  EXCEL_MAX_ROWS rows: a workbook costs about a quarter of a millisecond per row.
- List columns (a flow's series) are joined with ";" in CSV and Excel.
"""

from __future__ import annotations

import io
import os
import struct
import sys
from dataclasses import dataclass
from typing import IO, Literal

import polars as pl

FormatName = Literal["csv", "xlsx", "parquet"]
EXCEL_MAX_ROWS = 20_000
FORMULA_START = r"^[=+\-@\t\r]"


@dataclass(frozen=True)
class Format:
    label: str  # on the button: "Download CSV"
    extension: str
    mime: str


FORMATS: dict[str, Format] = {
    "csv": Format("CSV", ".csv", "text/csv"),
    "xlsx": Format(
        "Excel", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "parquet": Format("Parquet", ".parquet", "application/vnd.apache.parquet"),
}


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """Text cells that start like a formula get a leading apostrophe (shown as text by
    Excel, LibreOffice and Google Sheets)."""
    text = [c for c, t in df.schema.items() if t == pl.String]
    return df.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def to_csv(df: pl.DataFrame) -> bytes:
    return neutralise_formulas(_flatten(df)).write_csv().encode("utf-8")


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


def build(fmt: str, df: pl.DataFrame, about: pl.DataFrame | None = None) -> bytes:
    """The file of `df` in `fmt` ("csv", "xlsx" or "parquet"); Excel adds `about` as a
    second sheet."""
    if fmt == "xlsx":
        return to_excel(df, about)
    builders = {"csv": to_csv, "parquet": to_parquet}
    return builders[fmt](df)


def _flatten(df: pl.DataFrame) -> pl.DataFrame:
    """CSV and Excel have no list columns: join lists with ';'."""
    return df.with_columns(
        pl.col(c).list.join(";") for c, t in df.schema.items() if isinstance(t, pl.List)
    )


# --- the worker process -----------------------------------------------------------------
# A request: the format's name (one line), the frame as Arrow IPC (its length first, 8
# bytes), then the "about" frame the same way (length 0: none). An answer: one status
# byte (0 the file follows, 1 an error message follows), then the length and the bytes.
_LENGTH = struct.Struct("!Q")


def _ipc(df: pl.DataFrame | None) -> bytes:
    if df is None:
        return b""
    buffer = io.BytesIO()
    df.write_ipc(buffer)
    return buffer.getvalue()


def write_request(
    out: IO[bytes], fmt: str, df: pl.DataFrame, about: pl.DataFrame | None = None
) -> None:
    rows, extra = _ipc(df), _ipc(about)
    out.write(
        fmt.encode() + b"\n" + _LENGTH.pack(len(rows)) + rows + _LENGTH.pack(len(extra)) + extra
    )
    out.flush()


def _read_frame(requests: IO[bytes]) -> pl.DataFrame | None:
    (size,) = _LENGTH.unpack(_read_exactly(requests, _LENGTH.size))
    return pl.read_ipc(io.BytesIO(_read_exactly(requests, size))) if size else None


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the request ended early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def serve(requests: IO[bytes], answers: IO[bytes], niceness: int = 10) -> None:
    """Answer requests until the input closes, at a lower CPU priority than the server."""
    try:
        os.nice(niceness)
    except OSError:
        pass
    while True:
        fmt = requests.readline().strip().decode()
        if not fmt:
            return
        frame, about = _read_frame(requests), _read_frame(requests)
        try:
            status, body = b"\0", build(fmt, frame if frame is not None else pl.DataFrame(), about)
        except Exception as error:  # the parent shows it; the worker goes on
            status, body = b"\1", f"{type(error).__name__}: {error}".encode()[:2000]
        answers.write(status + _LENGTH.pack(len(body)) + body)
        answers.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
