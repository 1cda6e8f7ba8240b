"""Eurostat Comext (EU trade by CN8, monthly) -> the `comext` part of monthly_flows.

`critmin ingest comext PATH` reads, a file or a folder of them, either of Eurostat's
two current forms of the detailed data set (DS-045409, "EU trade since 2002 by CN8"):

- the **bulk files** of the dissemination API (`comext/COMEXT_DATA/PRODUCTS/
  full_v2_YYYYMM.7z`, extracted: `full_YYYYMM.dat`), comma-separated with the header
  REPORTER, PARTNER, TRADE_TYPE, PRODUCT_NC, PRODUCT_SITC, ..., FLOW, STAT_PROCEDURE,
  SUPPL_UNIT, PERIOD, VALUE_EUR, VALUE_NAC, QUANTITY_KG, QUANTITY_SUPPL_UNIT: one row
  per member state, partner, CN8 code, flow (1 import, 2 export) and statistical
  procedure, which are summed; PERIOD YYYYMM (YYYY52 is a year's total, skipped);
- the **SDMX-CSV** answers of the Comext dissemination API
  (`api/comext/dissemination/sdmx/2.1/data/DS-045409/M.<reporters>.<partners>.<products>.
  <flows>.<indicators>?format=SDMX-CSV`): DATAFLOW, LAST UPDATE, freq, reporter, partner,
  product, flow, indicators (VALUE_IN_EUROS, QUANTITY_IN_100KG), TIME_PERIOD (YYYY-MM),
  OBS_VALUE; the quantity in 100 kg is converted to kg, and LAST UPDATE is the vintage.

Reporters and partners are ISO 3166 alpha-2 codes (Greece EL or GR, the United
Kingdom's parts XU and XI counted as the United Kingdom); Eurostat's aggregates and
special partners (WORLD, EU27_2020_EXTRA, Q*, X* codes, stores and provisions,
confidential partners) are skipped and counted. Eight-digit products are CN8 lines
(`classification` CN8); six-digit ones, as the API can aggregate them, are HS6 (`HS`).
Values are euros as published (`value_native`, currency EUR; imports are valued CIF at
the EU border, exports FOB); with `--eur-usd` (the ECB's monthly reference rates,
series EXR.M.USD.EUR.SP00.A, as the ECB data portal's CSV) they are converted to USD,
otherwise `value_usd` stays empty and the pages say the EU figures are in euros.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import polars as pl

from critmin import reference
from critmin.ingest.common import IngestError, Summary, check_utf8
from critmin.ingest.monthly import (
    check_line_lengths,
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

SOURCE = "comext"
RELEASE = "Eurostat Comext DS-045409"
# Publisher, licence, citation and addresses: ingest/sources/comext.toml (and ecb_exr.toml
# for the rates of --eur-usd).
# A full monthly bulk file (every member state, partner and CN8 code) is about 400 MB.
MAX_FILE_BYTES = 2 * 1024**3
BULK_COLUMNS = ("REPORTER", "PARTNER", "PRODUCT_NC", "FLOW", "PERIOD", "VALUE_EUR")
SDMX_COLUMNS = ("reporter", "partner", "product", "flow", "indicators", "TIME_PERIOD", "OBS_VALUE")
FLOWS = {"1": "import", "2": "export"}
KG_PER_100KG = 100.0
RATE_SERIES = "EXR.M.USD.EUR.SP00.A"
MAX_HEADER_BYTES = 16_384


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all-products",
        action="store_true",
        help="keep every code (default: only the codes of the mineral baskets)",
    )
    parser.add_argument(
        "--eur-usd",
        help="the ECB's monthly EUR/USD reference rates as CSV (series EXR.M.USD.EUR.SP00.A) "
        "to convert the euro values to USD",
    )
    parser.add_argument(
        "--vintage",
        help="the date the bulk files were downloaded, YYYY-MM-DD (default: each file's date)",
    )
    parser.add_argument("--replace", action="store_true", help="replace the whole comext part")


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    files = files_in(Path(args.path), (".dat", ".csv"), "Eurostat Comext .dat or SDMX-CSV")
    rates_file = Path(args.eur_usd) if getattr(args, "eur_usd", None) else None
    summary = load_comext(
        files,
        warehouse,
        all_products=getattr(args, "all_products", False),
        rates=read_rates(rates_file) if rates_file else None,
        rates_file=rates_file,
        vintage=parse_vintage(getattr(args, "vintage", None)),
        replace=getattr(args, "replace", False),
    )
    summary.print()
    return 0


# --- reading ------------------------------------------------------------------------


def _header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline(MAX_HEADER_BYTES)
    if len(first) >= MAX_HEADER_BYTES:
        raise IngestError(
            f"{path}: line 1 is longer than {MAX_HEADER_BYTES:,} bytes; not a Comext file"
        )
    return [
        c.strip().strip('"').lstrip("\ufeff") for c in first.decode("utf-8", "replace").split(",")
    ]


def _scan(path: Path) -> pl.LazyFrame:
    return pl.scan_csv(path, infer_schema=False, truncate_ragged_lines=False).with_row_index(
        "line", offset=2
    )


def _numbers(frame: pl.DataFrame, path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    """Columns of text as numbers; IngestError naming the line and column of the first
    value that is not one."""
    for column in columns:
        if column not in frame.columns:
            continue
        text = pl.col(column).str.strip_chars().replace("", None)
        bad = frame.filter(text.is_not_null() & text.cast(pl.Float64, strict=False).is_null())
        if bad.height:
            raise IngestError(
                f"{path} line {bad['line'][0]}, column {column}: {bad[column][0]!r} is not a number"
            )
        negative = frame.filter(text.cast(pl.Float64, strict=False) < 0)
        if negative.height:
            raise IngestError(
                f"{path} line {negative['line'][0]}, column {column}: negative value "
                f"{negative[column][0]!r}"
            )
        frame = frame.with_columns(text.cast(pl.Float64, strict=False).alias(column))
    return frame


def _prefix_filter(codes: list[str] | None, column: str) -> pl.Expr:
    if codes is None:
        return pl.lit(True)
    return pl.col(column).str.slice(0, 6).is_in(codes)


def read_bulk(path: Path, codes: list[str] | None, summary: Summary) -> pl.DataFrame:
    """The rows of a bulk .dat file (the baskets' codes only when `codes` is given),
    in a common shape: line, reporter2, partner2, product, flow, period, value_eur,
    quantity_kg, supp_quantity, supp_unit, last_update (null)."""
    header = _header(path)
    missing = [c for c in BULK_COLUMNS if c not in header]
    if missing:
        raise IngestError(
            f"{path}: missing column(s) {', '.join(missing)} — not a Comext bulk file? "
            f"Found: {', '.join(header[:12])}"
        )
    check_line_lengths(path)
    try:
        frame = (
            _scan(path)
            .filter(_prefix_filter(codes, "PRODUCT_NC"))
            .select(
                "line",
                pl.col("REPORTER").alias("reporter2"),
                pl.col("PARTNER").alias("partner2"),
                pl.col("PRODUCT_NC").str.strip_chars().alias("product"),
                pl.col("FLOW").str.strip_chars().alias("flow_code"),
                pl.col("PERIOD").str.strip_chars().alias("period"),
                pl.col("VALUE_EUR").alias("value_eur"),
                (
                    pl.col("QUANTITY_KG") if "QUANTITY_KG" in header else pl.lit(None, pl.String)
                ).alias("quantity_kg"),
                (
                    pl.col("QUANTITY_SUPPL_UNIT")
                    if "QUANTITY_SUPPL_UNIT" in header
                    else pl.lit(None, pl.String)
                ).alias("supp_quantity"),
                (pl.col("SUPPL_UNIT") if "SUPPL_UNIT" in header else pl.lit(None, pl.String)).alias(
                    "supp_unit"
                ),
            )
            .collect()
        )
    except pl.exceptions.PolarsError as error:
        raise IngestError(f"{path}: not a readable CSV ({str(error).splitlines()[0]})") from error
    frame = _numbers(frame, path, ("value_eur", "quantity_kg", "supp_quantity"))
    annual = frame.filter(pl.col("period").str.slice(4, 2) == "52")
    if annual.height:
        summary.notes.append(
            f"{path.name}: {annual.height:,} rows of yearly totals (YYYY52) skipped"
        )
        frame = frame.filter(pl.col("period").str.slice(4, 2) != "52")
    bad = frame.filter(~pl.col("period").str.contains(r"^\d{4}(0[1-9]|1[0-2])$"))
    if bad.height:
        raise IngestError(
            f"{path} line {bad['line'][0]}, column PERIOD: {bad['period'][0]!r} is not YYYYMM"
        )
    return frame.with_columns(
        pl.col("period").str.slice(0, 4).cast(pl.Int32).alias("year"),
        pl.col("period").str.slice(4, 2).cast(pl.Int32).alias("month"),
        pl.col("supp_unit").replace("NO_SU", None),
        pl.lit(None, pl.Date).alias("last_update"),
        pl.lit(path.name).alias("file"),
    )


def read_sdmx(path: Path, codes: list[str] | None, summary: Summary) -> pl.DataFrame:
    """The rows of an SDMX-CSV answer of the Comext API, one per observation pivoted to
    one per (reporter, partner, product, flow, month), in read_bulk's shape."""
    header = _header(path)
    missing = [c for c in SDMX_COLUMNS if c not in header]
    if missing:
        raise IngestError(
            f"{path}: missing column(s) {', '.join(missing)} — not a Comext SDMX-CSV answer? "
            f"Found: {', '.join(header[:12])}"
        )
    check_line_lengths(path)
    check_utf8(path)
    frame = _scan(path).filter(_prefix_filter(codes, "product")).collect()
    if "freq" in frame.columns:
        annual = frame.filter(pl.col("freq") != "M")
        if annual.height:
            summary.notes.append(f"{path.name}: {annual.height:,} yearly observations skipped")
            frame = frame.filter(pl.col("freq") == "M")
    bad = frame.filter(~pl.col("TIME_PERIOD").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"))
    if bad.height:
        raise IngestError(
            f"{path} line {bad['line'][0]}, column TIME_PERIOD: {bad['TIME_PERIOD'][0]!r} "
            "is not YYYY-MM"
        )
    unknown = frame.filter(~pl.col("indicators").is_in(["VALUE_IN_EUROS", "QUANTITY_IN_100KG"]))
    if unknown.height:
        kinds = ", ".join(sorted(set(unknown["indicators"].to_list())))
        summary.notes.append(f"{path.name}: {unknown.height:,} observations of {kinds} skipped")
        frame = frame.filter(pl.col("indicators").is_in(["VALUE_IN_EUROS", "QUANTITY_IN_100KG"]))
    frame = _numbers(frame, path, ("OBS_VALUE",))
    empty = frame.filter(pl.col("OBS_VALUE").is_null())
    if empty.height:
        summary.notes.append(
            f"{path.name}: {empty.height:,} observations without a value (confidential or "
            "not available) skipped"
        )
        frame = frame.filter(pl.col("OBS_VALUE").is_not_null())
    keys = ["reporter", "partner", "product", "flow", "TIME_PERIOD"]
    twice = frame.select(keys + ["indicators"]).is_duplicated()
    if twice.any():
        row = frame.filter(twice).row(0, named=True)
        raise IngestError(
            f"{path} line {row['line']}: {row['indicators']} of {row['product']} from "
            f"{row['partner']} to {row['reporter']} in {row['TIME_PERIOD']} is given twice"
        )
    updated = (
        pl.col("LAST UPDATE").str.slice(0, 8).str.to_date("%d/%m/%y", strict=False)
        if "LAST UPDATE" in frame.columns
        else pl.lit(None, pl.Date)
    )
    wide = frame.group_by(keys).agg(
        pl.col("line").min(),
        pl.col("OBS_VALUE")
        .filter(pl.col("indicators") == "VALUE_IN_EUROS")
        .first()
        .alias("value_eur"),
        (
            pl.col("OBS_VALUE").filter(pl.col("indicators") == "QUANTITY_IN_100KG").first()
            * KG_PER_100KG
        ).alias("quantity_kg"),
        updated.max().alias("last_update"),
    )
    no_value = wide.filter(pl.col("value_eur").is_null())
    if no_value.height:
        summary.notes.append(
            f"{path.name}: {no_value.height:,} quantities without a value in euros skipped"
        )
        wide = wide.filter(pl.col("value_eur").is_not_null())
    return wide.select(
        "line",
        pl.col("reporter").alias("reporter2"),
        pl.col("partner").alias("partner2"),
        pl.col("product").str.strip_chars(),
        pl.col("flow").alias("flow_code"),
        pl.col("TIME_PERIOD").str.replace("-", "").alias("period"),
        "value_eur",
        "quantity_kg",
        pl.lit(None, pl.Float64).alias("supp_quantity"),
        pl.lit(None, pl.String).alias("supp_unit"),
        pl.col("TIME_PERIOD").str.slice(0, 4).cast(pl.Int32).alias("year"),
        pl.col("TIME_PERIOD").str.slice(5, 2).cast(pl.Int32).alias("month"),
        "last_update",
        pl.lit(path.name).alias("file"),
    )


def read_rates(path: Path) -> pl.DataFrame:
    """The ECB's monthly EUR/USD reference rates (USD per euro) as month -> rate, from the
    ECB data portal's CSV (columns KEY or CURRENCY/CURRENCY_DENOM, TIME_PERIOD, OBS_VALUE)."""
    check_size(path, 10 * 1024 * 1024, "ECB exchange-rate CSV")
    check_line_lengths(path)
    check_utf8(path)
    frame = pl.read_csv(path, infer_schema=False).with_row_index("line", offset=2)
    missing = [c for c in ("TIME_PERIOD", "OBS_VALUE") if c not in frame.columns]
    if missing:
        raise IngestError(f"{path}: missing column(s) {', '.join(missing)} (ECB CSV expected)")
    if "KEY" in frame.columns:
        other = frame.filter(pl.col("KEY") != RATE_SERIES)
        if other.height:
            raise IngestError(
                f"{path} line {other['line'][0]}, column KEY: {other['KEY'][0]!r} is not "
                f"{RATE_SERIES} (monthly average US dollars per euro)"
            )
    elif {"CURRENCY", "CURRENCY_DENOM"} <= set(frame.columns):
        other = frame.filter((pl.col("CURRENCY") != "USD") | (pl.col("CURRENCY_DENOM") != "EUR"))
        if other.height:
            raise IngestError(f"{path} line {other['line'][0]}: not a USD per EUR rate")
    bad = frame.filter(~pl.col("TIME_PERIOD").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"))
    if bad.height:
        raise IngestError(
            f"{path} line {bad['line'][0]}, column TIME_PERIOD: {bad['TIME_PERIOD'][0]!r} "
            "is not a month (YYYY-MM): give the monthly series"
        )
    rates = _numbers(frame, path, ("OBS_VALUE",)).filter(pl.col("OBS_VALUE").is_not_null())
    return rates.select(
        pl.col("TIME_PERIOD").str.slice(0, 4).cast(pl.Int32).alias("year"),
        pl.col("TIME_PERIOD").str.slice(5, 2).cast(pl.Int32).alias("month"),
        pl.col("OBS_VALUE").alias("usd_per_eur"),
    )


def read_file(path: Path, codes: list[str] | None, summary: Summary) -> pl.DataFrame:
    check_size(path, MAX_FILE_BYTES, "Comext file")
    header = _header(path)
    if "PRODUCT_NC" in header:
        return read_bulk(path, codes, summary)
    if "indicators" in header and "OBS_VALUE" in header:
        return read_sdmx(path, codes, summary)
    raise IngestError(
        f"{path}: neither a Comext bulk file (PRODUCT_NC, VALUE_EUR...) nor an SDMX-CSV "
        f"answer (indicators, OBS_VALUE...). Found: {', '.join(header[:12])}"
    )


# --- harmonising ----------------------------------------------------------------------


def harmonise(
    raw: pl.DataFrame,
    summary: Summary,
    *,
    vintage: pl.Expr,
    rates: pl.DataFrame | None,
    all_products: bool,
) -> pl.DataFrame:
    """Common-shape Comext rows -> monthly_flows rows."""
    summary.rows_in += raw.height
    frame = raw.filter(pl.col("flow_code").is_in(list(FLOWS)))
    if frame.height < raw.height:
        summary.notes.append(f"{raw.height - frame.height:,} rows of other flows than 1/2 skipped")
    products = pl.col("product")
    kind = (
        pl.when(products.str.contains(r"^\d{8}$"))
        .then(pl.lit("CN8"))
        .when(products.str.contains(r"^\d{6}$"))
        .then(pl.lit("HS"))
        .otherwise(None)
    )
    frame = frame.with_columns(kind.alias("classification"))
    other = frame.filter(pl.col("classification").is_null())
    if other.height:
        summary.notes.append(
            f"{other.height:,} rows of aggregate or confidential product codes skipped "
            "(eight-digit CN and six-digit HS codes kept)"
        )
        frame = frame.filter(pl.col("classification").is_not_null())
    iso3 = reference.iso3_by_iso2()
    frame = frame.with_columns(
        pl.col("reporter2")
        .replace_strict(iso3, default=None, return_dtype=pl.String)
        .alias("reporter"),
        pl.col("partner2")
        .replace_strict(iso3, default=None, return_dtype=pl.String)
        .alias("partner"),
        pl.col("year").cast(pl.Int32),
        pl.col("month").cast(pl.Int32),
    )
    frame = reject_unknown_countries(frame, "reporter", summary, pl.col("reporter2"))
    frame = reject_unknown_countries(frame, "partner", summary, pl.col("partner2"))
    frame = frame.with_columns(
        edition_for_year(pl.col("year")).alias("hs_edition"),
        products.str.slice(0, 6).alias("hs6"),
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
    # Statistical procedures (normal, inward and outward processing...) summed.
    keys = ["reporter", "partner", "flow_code", "classification", "product", "year", "month"]
    twice = frame.group_by(keys + ["file"]).len().group_by(keys).agg(pl.col("file").n_unique())
    if twice.filter(pl.col("file") > 1).height:
        summary.notes.append(
            "the same month is in several files: its rows are summed across them; load each "
            "month from one file"
        )
    summed = frame.group_by(keys).agg(
        pl.col("period").first(),
        pl.col("value_eur").sum(),
        pl.when(pl.col("quantity_kg").null_count() == 0)
        .then(pl.col("quantity_kg").sum())
        .alias("quantity_kg"),
        pl.col("supp_quantity").sum().alias("supp_quantity"),
        pl.col("supp_unit").drop_nulls().first().alias("supp_unit"),
        pl.col("hs_edition").first(),
        pl.col("hs6").first(),
        pl.col("last_update").max(),
    )
    if rates is not None:
        summed = summed.join(rates, on=["year", "month"], how="left")
        missing = summed.filter(pl.col("usd_per_eur").is_null())
        if missing.height:
            months = sorted(
                {f"{y}-{m:02d}" for y, m in missing.select("year", "month").iter_rows()}
            )
            summary.notes.append(
                f"no EUR/USD rate for {', '.join(months[:6])}: those values stay in euros only"
            )
    else:
        summed = summed.with_columns(pl.lit(None, pl.Float64).alias("usd_per_eur"))
        summary.notes.append(
            "values kept in euros (value_usd empty): give --eur-usd with the ECB's monthly "
            f"rates ({RATE_SERIES}) to convert them"
        )
    exported = pl.col("flow_code") == "2"
    vintage_date = pl.coalesce(pl.col("last_update"), vintage)
    return summed.select(
        "year",
        "month",
        "period",
        "reporter",
        "partner",
        pl.col("flow_code").replace_strict(FLOWS, return_dtype=pl.String).alias("flow"),
        pl.when(exported)
        .then(pl.lit("exporter_reported"))
        .otherwise(pl.lit("importer_reported"))
        .alias("side"),
        "classification",
        pl.col("product").alias("national_code"),
        "hs_edition",
        "hs6",
        (pl.col("value_eur") * pl.col("usd_per_eur")).alias("value_usd"),
        pl.col("value_eur").alias("value_native"),
        pl.lit("EUR").alias("currency"),
        pl.col("quantity_kg").cast(pl.Float64),
        pl.when(pl.col("supp_unit").is_not_null())
        .then(pl.col("supp_quantity"))
        .otherwise(None)
        .cast(pl.Float64)
        .alias("supp_quantity"),
        "supp_unit",
        pl.lit(SOURCE).alias("source"),
        pl.lit(RELEASE).alias("release"),
        vintage_date.alias("vintage"),
        provisional(pl.col("year"), vintage_date).alias("provisional"),
    ).sort("year", "month", "reporter", "partner", "national_code")


def load_comext(
    files: list[Path],
    warehouse: Warehouse,
    *,
    all_products: bool = False,
    rates: pl.DataFrame | None = None,
    vintage: dt.date | None = None,
    replace: bool = False,
    rates_file: Path | None = None,
) -> Summary:
    """Read, harmonise and write Comext files into monthly_flows, atomically."""
    summary = Summary(source="Eurostat Comext")
    codes = None if all_products else sorted(set(reference.load_mineral_baskets()["hs6"].to_list()))
    frames = [read_file(path, codes, summary) for path in files]
    if codes is not None:
        summary.notes.append(
            "only the mineral baskets' codes were read (--all-products reads every code)"
        )
    raw = pl.concat(frames, how="vertical_relaxed")
    flows = harmonise(
        raw,
        summary,
        vintage=pl.lit(max(file_vintage(path, vintage) for path in files)),
        rates=rates,
        all_products=all_products,
    )
    return load_monthly(
        flows,
        warehouse,
        source=SOURCE,
        files=files,
        summary=summary,
        source_file="comext",
        also=((rates_file, "ecb_exr"),) if rates_file else (),
        replace=replace,
    )
