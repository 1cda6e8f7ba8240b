"""US Census Bureau international trade API -> the `census` part of monthly_flows.

`critmin ingest census PATH` reads answers of the Census Bureau's time-series API
(`https://api.census.gov/data/timeseries/intltrade/imports/hs` and `/exports/hs`),
a file or a folder of them, as the API returns them: a JSON array of arrays whose
first row is the header and whose values are all strings, e.g.

    [["CTY_CODE","CTY_NAME","I_COMMODITY","GEN_VAL_MO","GEN_QY1_MO","UNIT_QY1","time"],
     ["4634","KAZAKHSTAN","8112921000","1523410","2210","KG","2025-06"], ...]

(columns used as predicates, such as `COMM_LVL` and `time`, come back as columns).
An empty answer (HTTP 204, the API's way of saying a month has no data) saved as an
empty file is skipped with a note.

- Imports: `I_COMMODITY` and `GEN_VAL_MO` (general imports, customs value in USD:
  the value at the foreign port, without US duties, freight and insurance); exports:
  `E_COMMODITY` and `ALL_VAL_MO` (FAS value). The reporter is the United States.
- Ten-digit commodities are HTS10 lines (imports) or Schedule B lines (exports); six-
  digit ones are HS6 (`COMM_LVL` HS6); two- and four-digit rows are skipped.
- Quantities: `GEN_QY1_MO` / `QTY_1_MO` with `UNIT_QY1`; KG (and T, converted) give
  the net weight in kg, other units are kept as a supplementary quantity.
- Countries: `CTY_NAME` mapped to ISO3 (with `CTY_CODE` "-" the total and codes starting
  with 0 or holding an X groups of countries, skipped and counted).
- Months: the `time` column (YYYY-MM), or `YEAR` and `MONTH`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl

from critmin import reference
from critmin.ingest.common import IngestError, Summary, check_utf8, country_names_to_iso3
from critmin.ingest.monthly import (
    check_size,
    edition_for_year,
    file_vintage,
    files_in,
    load_monthly,
    parse_vintage,
    provisional,
    reject_unknown_countries,
)
from critmin.warehouse import Warehouse

SOURCE = "census"
RELEASE = "US Census Bureau international trade API (intltrade)"
# Publisher, licence, citation and addresses: ingest/sources/census.toml.
# One answer is one month (or a few) of one or a few commodities by country: small.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ROWS = 500_000
KINDS = {
    "I_COMMODITY": ("import", "GEN_VAL_MO", "GEN_QY1_MO", "HTS10"),
    "E_COMMODITY": ("export", "ALL_VAL_MO", "QTY_1_MO", "SCHEDULE_B"),
}
KG_PER_UNIT = {"KG": 1.0, "T": 1000.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all-products",
        action="store_true",
        help="keep every code (default: only the codes of the mineral baskets)",
    )
    parser.add_argument(
        "--vintage",
        help="the date the answers were downloaded, YYYY-MM-DD (default: each file's date)",
    )
    parser.add_argument("--replace", action="store_true", help="replace the whole census part")


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    files = files_in(Path(args.path), (".json",), "US Census international trade API JSON")
    summary = load_census(
        files,
        warehouse,
        all_products=getattr(args, "all_products", False),
        vintage=parse_vintage(getattr(args, "vintage", None)),
        replace=getattr(args, "replace", False),
    )
    summary.print()
    return 0


def read_answer(path: Path) -> pl.DataFrame | None:
    """One API answer as text columns plus `line` (the row's line in the answer, the
    header being line 1); None for an empty answer (HTTP 204)."""
    if path.is_file() and path.stat().st_size == 0:
        return None
    check_size(path, MAX_FILE_BYTES, "US Census API answer")
    check_utf8(path)
    try:
        payload: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise IngestError(
            f"{path}: line {error.lineno}: not valid JSON ({error.msg}); a truncated download?"
        ) from error
    if isinstance(payload, dict) and "error" in payload:
        raise IngestError(f"{path}: the API answered with an error: {payload['error']}")
    if (
        not isinstance(payload, list)
        or not payload
        or not all(isinstance(row, list) for row in payload)
    ):
        raise IngestError(
            f"{path}: not a Census API answer (a JSON array of arrays, header row first)"
        )
    header = [str(c) for c in payload[0]]
    if len(payload) - 1 > MAX_ROWS:
        raise IngestError(f"{path}: more than {MAX_ROWS:,} rows; ask the API for fewer months")
    for index, row in enumerate(payload[1:], start=2):
        if len(row) != len(header):
            raise IngestError(
                f"{path} row {index}: {len(row)} values for {len(header)} columns "
                f"({', '.join(header)})"
            )
        for column, value in zip(header, row, strict=True):
            if value is not None and not isinstance(value, str | int | float):
                raise IngestError(f"{path} row {index}, column {column}: {value!r} is not a value")
    columns = {
        name: [None if r[i] is None else str(r[i]) for r in payload[1:]]
        for i, name in enumerate(header)
    }
    frame = pl.DataFrame(columns, schema={name: pl.String for name in header})
    return frame.with_row_index("line", offset=2).with_columns(pl.lit(path.name).alias("file"))


def _numbers(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    text = pl.col(column).str.strip_chars().replace("", None)
    bad = frame.filter(text.is_not_null() & text.cast(pl.Float64, strict=False).is_null())
    if bad.height:
        raise IngestError(
            f"{bad['file'][0]} row {bad['line'][0]}, column {column}: {bad[column][0]!r} "
            "is not a number"
        )
    negative = frame.filter(text.cast(pl.Float64, strict=False) < 0)
    if negative.height:
        raise IngestError(
            f"{negative['file'][0]} row {negative['line'][0]}, column {column}: negative value"
        )
    return frame.with_columns(text.cast(pl.Float64, strict=False).alias(column))


def shape(frame: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """One answer's columns -> a common shape: line, file, flow, classification, code,
    year, month, period, cty_code, cty_name, value, quantity, unit."""
    path = frame["file"][0]
    kind = next((c for c in KINDS if c in frame.columns), None)
    if kind is None:
        raise IngestError(
            f"{path}: no I_COMMODITY (imports) or E_COMMODITY (exports) column; ask the API "
            f"for the commodity. Found: {', '.join(c for c in frame.columns if c != 'line')}"
        )
    flow, value, quantity, ten_digit = KINDS[kind]
    if value not in frame.columns:
        raise IngestError(f"{path}: no {value} column (the monthly value in USD); ask for it")
    if "CTY_NAME" not in frame.columns:
        raise IngestError(f"{path}: no CTY_NAME column; ask the API for CTY_CODE,CTY_NAME")
    if "time" in frame.columns:
        period = pl.col("time")
    elif {"YEAR", "MONTH"} <= set(frame.columns):
        period = pl.col("YEAR") + "-" + pl.col("MONTH").str.zfill(2)
    else:
        raise IngestError(f"{path}: no time column (or YEAR and MONTH): which month is it?")
    frame = frame.with_columns(period.alias("period"))
    bad = frame.filter(~pl.col("period").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"))
    if bad.height:
        raise IngestError(
            f"{path} row {bad['line'][0]}, column time: {bad['period'][0]!r} is not a month "
            "(YYYY-MM)"
        )
    frame = _numbers(frame, value)
    if quantity in frame.columns:
        frame = _numbers(frame, quantity)
    code = pl.col(kind).str.strip_chars()
    level = (
        pl.col("COMM_LVL").str.strip_chars()
        if "COMM_LVL" in frame.columns
        else pl.lit("HS") + code.str.len_chars().cast(pl.String)
    )
    shaped = frame.select(
        "line",
        "file",
        pl.lit(flow).alias("flow"),
        pl.when(level == "HS10")
        .then(pl.lit(ten_digit))
        .when(level == "HS6")
        .then(pl.lit("HS"))
        .otherwise(None)
        .alias("classification"),
        code.alias("code"),
        pl.col("period").str.slice(0, 4).cast(pl.Int32).alias("year"),
        pl.col("period").str.slice(5, 2).cast(pl.Int32).alias("month"),
        "period",
        (pl.col("CTY_CODE") if "CTY_CODE" in frame.columns else pl.lit(None, pl.String)).alias(
            "cty_code"
        ),
        pl.col("CTY_NAME").str.strip_chars().alias("cty_name"),
        pl.col(value).alias("value"),
        (pl.col(quantity) if quantity in frame.columns else pl.lit(None, pl.Float64)).alias(
            "quantity"
        ),
        (pl.col("UNIT_QY1") if "UNIT_QY1" in frame.columns else pl.lit(None, pl.String)).alias(
            "unit"
        ),
    )
    other = shaped.filter(pl.col("classification").is_null())
    if other.height:
        summary.notes.append(
            f"{path}: {other.height:,} rows of two- or four-digit codes skipped (HS6 and "
            "ten-digit lines kept)"
        )
        shaped = shaped.filter(pl.col("classification").is_not_null())
    digits = {"HS": 6, "HTS10": 10, "SCHEDULE_B": 10}
    wrong = shaped.filter(
        ~pl.col("code").str.contains(r"^\d+$")
        | (pl.col("code").str.len_chars() != pl.col("classification").replace_strict(digits))
    )
    if wrong.height:
        raise IngestError(
            f"{path} row {wrong['line'][0]}: commodity {wrong['code'][0]!r} does not have the "
            "digits of its level (a leading zero lost?)"
        )
    return shaped


def harmonise(
    raw: pl.DataFrame, summary: Summary, *, vintage: pl.Expr, all_products: bool
) -> pl.DataFrame:
    summary.rows_in += raw.height
    aggregate = (
        pl.col("cty_code").is_in(["-"])
        | pl.col("cty_code").str.starts_with("0")
        | pl.col("cty_code").str.contains("X")
        | pl.col("cty_name").str.to_uppercase().str.contains("TOTAL")
    ).fill_null(False)
    groups = raw.filter(aggregate)
    if groups.height:
        summary.notes.append(f"{groups.height:,} rows of the total and groups of countries skipped")
    frame = raw.filter(~aggregate)
    names = country_names_to_iso3(frame["cty_name"].unique().to_list())
    frame = frame.with_columns(
        pl.col("cty_name")
        .replace_strict(names, default=None, return_dtype=pl.String)
        .alias("partner")
    )
    frame = reject_unknown_countries(frame, "partner", summary, pl.col("cty_name"))
    frame = frame.with_columns(
        edition_for_year(pl.col("year")).alias("hs_edition"),
        pl.col("code").str.slice(0, 6).alias("hs6"),
    )
    if not all_products:
        baskets = reference.load_mineral_baskets().select("hs_edition", "hs6").unique()
        before = frame.height
        frame = frame.join(baskets, on=["hs_edition", "hs6"], how="semi")
        if before - frame.height:
            summary.notes.append(
                f"{before - frame.height:,} rows outside the mineral baskets skipped "
                "(use --all-products to keep them)"
            )
    keys = ["partner", "flow", "classification", "code", "year", "month"]
    copies = frame.group_by(keys).agg(
        pl.len().alias("n"),
        pl.col("value").n_unique().alias("values"),
        pl.col("file"),
        pl.col("line"),
    )
    conflict = copies.filter((pl.col("n") > 1) & (pl.col("values") > 1))
    if conflict.height:
        row = conflict.row(0, named=True)
        raise IngestError(
            f"{row['file'][0]} row {row['line'][0]} and {row['file'][1]} row {row['line'][1]}: "
            f"two different values for {row['code']} from {row['partner']} in "
            f"{row['year']}-{row['month']:02d}; load one of them"
        )
    repeated = int(copies.filter(pl.col("n") > 1).select((pl.col("n") - 1).sum()).item() or 0)
    if repeated:
        summary.notes.append(
            f"{repeated:,} rows found twice (same month in several files) counted once"
        )
        frame = frame.unique(keys, keep="first", maintain_order=True)
    unit = pl.col("unit").str.strip_chars().str.to_uppercase()
    factor = unit.replace_strict(KG_PER_UNIT, default=None, return_dtype=pl.Float64)
    exported = pl.col("flow") == "export"
    return frame.select(
        "year",
        "month",
        "period",
        pl.lit("USA").alias("reporter"),
        "partner",
        "flow",
        pl.when(exported)
        .then(pl.lit("exporter_reported"))
        .otherwise(pl.lit("importer_reported"))
        .alias("side"),
        "classification",
        pl.col("code").alias("national_code"),
        "hs_edition",
        "hs6",
        pl.col("value").alias("value_usd"),
        pl.col("value").alias("value_native"),
        pl.lit("USD").alias("currency"),
        (pl.col("quantity") * factor).alias("quantity_kg"),
        pl.when(factor.is_null() & unit.is_not_null() & (unit != "X"))
        .then(pl.col("quantity"))
        .otherwise(None)
        .alias("supp_quantity"),
        pl.when(factor.is_null() & unit.is_not_null() & (unit != "X"))
        .then(unit)
        .otherwise(None)
        .alias("supp_unit"),
        pl.lit(SOURCE).alias("source"),
        pl.lit(RELEASE).alias("release"),
        vintage.alias("vintage"),
        provisional(pl.col("year"), vintage).alias("provisional"),
    ).sort("year", "month", "partner", "national_code")


def load_census(
    files: list[Path],
    warehouse: Warehouse,
    *,
    all_products: bool = False,
    vintage: dt.date | None = None,
    replace: bool = False,
) -> Summary:
    """Read, harmonise and write Census answers into monthly_flows, atomically."""
    summary = Summary(source="US Census Bureau")
    frames, used = [], []
    for path in files:
        answer = read_answer(path)
        if answer is None:
            if len(files) == 1:
                raise IngestError(
                    f"{path}: the file is empty (the API answers HTTP 204 with no body for a "
                    "month without data); nothing to load"
                )
            summary.notes.append(f"{path.name}: empty answer (no data for that month), skipped")
            continue
        if answer.height == 0:
            summary.notes.append(f"{path.name}: header only, no rows")
            continue
        frames.append(
            shape(answer, summary).with_columns(
                pl.lit(file_vintage(path, vintage)).alias("vintage")
            )
        )
        used.append(path)
    if not frames:
        raise IngestError(
            f"{files[0].parent}: no Census answer with rows; the warehouse is unchanged"
        )
    raw = pl.concat(frames, how="vertical_relaxed")
    flows = harmonise(raw, summary, vintage=pl.col("vintage"), all_products=all_products)
    return load_monthly(
        flows,
        warehouse,
        source=SOURCE,
        files=used,
        summary=summary,
        source_file="census",
        replace=replace,
    )
