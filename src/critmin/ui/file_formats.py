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


def to_excel(df: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    _flatten(df).head(EXCEL_MAX_ROWS).write_excel(buffer, worksheet="flows", autofit=True)
    return buffer.getvalue()


def build(fmt: str, df: pl.DataFrame) -> bytes:
    """The file of `df` in `fmt` ("csv", "xlsx" or "parquet")."""
    builders = {"csv": to_csv, "xlsx": to_excel, "parquet": to_parquet}
    return builders[fmt](df)


def _flatten(df: pl.DataFrame) -> pl.DataFrame:
    """CSV and Excel have no list columns: join lists with ';'."""
    return df.with_columns(
        pl.col(c).list.join(";") for c, t in df.schema.items() if isinstance(t, pl.List)
    )


# --- the worker process -----------------------------------------------------------------
# A request: the format's name (one line), the frame as Arrow IPC (its length first, 8
# bytes). An answer: one status byte (0 the file follows, 1 an error message follows),
# then the length and the bytes.
_LENGTH = struct.Struct("!Q")


def write_request(out: IO[bytes], fmt: str, df: pl.DataFrame) -> None:
    buffer = io.BytesIO()
    df.write_ipc(buffer)
    payload = buffer.getvalue()
    out.write(fmt.encode() + b"\n" + _LENGTH.pack(len(payload)) + payload)
    out.flush()


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
        (size,) = _LENGTH.unpack(_read_exactly(requests, _LENGTH.size))
        frame = pl.read_ipc(io.BytesIO(_read_exactly(requests, size)))
        try:
            status, body = b"\0", build(fmt, frame)
        except Exception as error:  # the parent shows it; the worker goes on
            status, body = b"\1", f"{type(error).__name__}: {error}".encode()[:2000]
        answers.write(status + _LENGTH.pack(len(body)) + body)
        answers.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
