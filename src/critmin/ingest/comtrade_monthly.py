"""UN Comtrade monthly -> the `comtrade` part of monthly_flows.

`critmin ingest comtrade-monthly PATH` reads UN Comtrade API responses of the monthly
frequency (`/data/v1/get/C/M/HS`, keyed, or `/public/v1/preview/C/M/HS`, keyless): the
same JSON as the annual API (`{"elapsedTime", "count", "data": [...]}`) whose rows
carry `freqCode` "M", `period` "YYYYMM" and `refMonth` 1-12, and Comtrade+ CSV
downloads with those columns. The annual ingest's reading and harmonising
(`critmin.ingest.comtrade`) is reused as it is, with the month kept: totals only
(partner2 World, customs C00, transport 0), six-digit codes, World and aggregate
partners skipped and counted, exports and re-exports summed as the exporter's
declaration, imports and re-imports as the importer's, the mineral baskets only unless
`--all-products`. Values are USD as published (primaryValue: imports mostly CIF,
exports FOB); net weight in kg.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import polars as pl

from critmin.ingest import comtrade
from critmin.ingest.common import IngestError, Summary
from critmin.ingest.monthly import (
    check_size,
    file_vintage,
    files_in,
    load_monthly,
    parse_vintage,
    provisional,
)
from critmin.warehouse import Warehouse

SOURCE = "comtrade"
RELEASE = "Comtrade API v1, monthly"
# A keyed call returns at most 100,000 rows (about 120 MB of JSON); a CSV download of
# a year of one reporter's monthly codes is far smaller.
MAX_FILE_BYTES = 256 * 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    comtrade.add_reading_arguments(parser)
    parser.add_argument(
        "--vintage",
        help="the date the responses were downloaded, YYYY-MM-DD (default: each file's date)",
    )
    parser.add_argument(
        "--replace", action="store_true", help="replace the whole comtrade monthly part"
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    files = files_in(Path(args.path), (".json", ".csv"), "UN Comtrade monthly JSON or CSV")
    summary = load_comtrade_monthly(
        files,
        warehouse,
        all_products=getattr(args, "all_products", False),
        hs_edition=getattr(args, "hs_edition", None),
        vintage=parse_vintage(getattr(args, "vintage", None)),
        replace=getattr(args, "replace", False),
        strict=not Path(args.path).is_dir(),
    )
    summary.print()
    return 0


def to_monthly(flows: pl.DataFrame, vintages: pl.DataFrame) -> pl.DataFrame:
    """comtrade.harmonise(frequency="M") rows -> monthly_flows rows. `vintages` gives
    each (year, month)'s vintage date (the newest file that holds it)."""
    exported = pl.col("side") == "exporter_reported"
    return flows.join(vintages, on=["year", "month"], how="left").select(
        pl.col("year").cast(pl.Int32),
        pl.col("month").cast(pl.Int32),
        (pl.col("year").cast(pl.String) + pl.col("month").cast(pl.String).str.zfill(2)).alias(
            "period"
        ),
        pl.when(exported).then(pl.col("exporter")).otherwise(pl.col("importer")).alias("reporter"),
        pl.when(exported).then(pl.col("importer")).otherwise(pl.col("exporter")).alias("partner"),
        pl.when(exported).then(pl.lit("export")).otherwise(pl.lit("import")).alias("flow"),
        "side",
        pl.lit("HS").alias("classification"),
        pl.col("hs6").alias("national_code"),
        "hs_edition",
        "hs6",
        "value_usd",
        pl.col("value_usd").alias("value_native"),
        pl.lit("USD").alias("currency"),
        "quantity_kg",
        pl.lit(None, pl.Float64).alias("supp_quantity"),
        pl.lit(None, pl.String).alias("supp_unit"),
        pl.lit(SOURCE).alias("source"),
        pl.lit(RELEASE).alias("release"),
        "vintage",
        provisional(pl.col("year"), pl.col("vintage")).alias("provisional"),
    )


def load_comtrade_monthly(
    files: list[Path],
    warehouse: Warehouse,
    *,
    all_products: bool = False,
    hs_edition: str | None = None,
    vintage: dt.date | None = None,
    replace: bool = False,
    strict: bool = True,
) -> Summary:
    """Read, harmonise and write Comtrade monthly files into monthly_flows, atomically."""
    for path in files:
        check_size(path, MAX_FILE_BYTES, "UN Comtrade response")
    summary = Summary(source="UN Comtrade monthly")
    raw, used = comtrade.read_files(files, summary, strict)
    dated = pl.DataFrame(
        {"file": [str(p) for p in used], "vintage": [file_vintage(p, vintage) for p in used]},
        schema={"file": pl.String, "vintage": pl.Date},
    )
    flows = comtrade.harmonise(
        raw, summary, all_products=all_products, hs_edition=hs_edition, frequency="M"
    )
    periods = (
        raw.join(dated, on="file")
        .select(
            pl.col("period").str.slice(0, 4).cast(pl.Int32, strict=False).alias("year"),
            pl.col("period").str.slice(4, 2).cast(pl.Int32, strict=False).alias("month"),
            "vintage",
        )
        .drop_nulls()
        .group_by("year", "month")
        .agg(pl.col("vintage").max())
    )
    if flows.is_empty() and raw.height and (raw["freqCode"] == "A").all():
        raise IngestError(
            f"{files[0]}: annual Comtrade responses; load them with `critmin ingest comtrade`"
        )
    return load_monthly(
        to_monthly(flows, periods) if flows.height else flows.clear(),
        warehouse,
        source=SOURCE,
        files=used,
        summary=summary,
        source_file="comtrade_monthly",
        replace=replace,
    )
