"""UN Comtrade -> the `comtrade` part of trade_flows, both declarations kept.

`critmin ingest comtrade PATH` reads UN Comtrade API JSON responses
(`{"elapsedTime", "count", "data": [...]}`) and Comtrade+ CSV downloads (columns
reporterCode, partnerCode, cmdCode, flowCode, primaryValue, netWgt, period,
classificationCode, ...), a file or a folder of them. `critmin fetch comtrade`
loads its cached responses through the same code.

- Exports and re-exports (X, RX) are the exporter's declaration
  (side exporter_reported, exporter = reporter, importer = partner); imports and
  re-imports (M, RM) the importer's (side importer_reported, exporter = partner,
  importer = reporter). Exports and re-exports of the same pair, year and code are
  summed per side (a quantity is null when one of the summed rows has none).
- Only six-digit codes are kept (HS2/HS4/TOTAL rows are skipped and counted),
  only totals (partner2 World, customs C00, transport 0), only annual data.
  Partner World (0) and other aggregates without an ISO3 code are skipped and
  counted by code.
- hs_edition comes from classificationCode (H0 -> HS92 ... H6 -> HS22); a CSV
  without that column needs `--hs-edition` (an edition, or `by-year`).
- value_usd = primaryValue; quantity_kg = netWgt, null when missing or when a zero
  weight stands for "not reported" next to a positive value; estimated weights
  (isNetWgtEstimated) are kept and counted in the summary.
- The same declaration found in two files is counted once; two different values
  for one declaration stop the load, naming both files.

A new load replaces, in the existing `comtrade` part, the declarations it brings
(same year, side, reporter and code) and keeps the others, so loading another
reporter adds to the part and re-loading the same files changes nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import polars as pl

from critmin import derive, reference, sources
from critmin.domain import (
    COMTRADE_EXPORT_FLOWS,
    COMTRADE_IMPORT_FLOWS,
    COMTRADE_WORLD_PARTNER,
    HS_EDITIONS,
)
from critmin.ingest.common import (
    MAX_TABLE_BYTES,
    IngestError,
    Summary,
    check_table_file,
    check_utf8,
    ensure_reference_tables,
    excerpt,
    human_bytes,
    iso3_by_numeric,
    listed,
    refuse_symlink,
    regular_files,
)
from critmin.ingest.trade_parts import TABLE, drop_demo_flows
from critmin.warehouse import Provenance, Warehouse

log = logging.getLogger(__name__)

SOURCE = "comtrade"
PART = "comtrade"
RELEASE = "Comtrade API v1"
# Publisher, licence, citation and addresses: ingest/sources/comtrade.toml.
SOURCE_FILE = "comtrade"

# Comtrade classification codes of the HS editions.
CLASSIFICATION_EDITIONS = {
    "H0": "HS92",
    "H1": "HS96",
    "H2": "HS02",
    "H3": "HS07",
    "H4": "HS12",
    "H5": "HS17",
    "H6": "HS22",
}
REQUIRED = ("period", "reporterCode", "partnerCode", "flowCode", "cmdCode", "primaryValue")
OPTIONAL_TEXT = (
    "classificationCode",
    "freqCode",
    "customsCode",
    "partnerDesc",
    "reporterDesc",
    "aggrLevel",
    "partner2Code",
    "motCode",
    "isNetWgtEstimated",
    "netWgt",
)
RAW_SCHEMA = {
    "file": pl.String,
    "row": pl.Int64,
    **{c: pl.String for c in REQUIRED if c != "primaryValue"},
    "primaryValue": pl.Float64,
    "netWgt": pl.Float64,
    **{c: pl.String for c in OPTIONAL_TEXT if c != "netWgt"},
}
BY_YEAR = "by-year"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_reading_arguments(parser)
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace the whole comtrade part instead of merging into it",
    )


def add_reading_arguments(parser: argparse.ArgumentParser) -> None:
    """--all-products and --hs-edition, shared by the annual and monthly Comtrade ingests."""
    parser.add_argument(
        "--all-products",
        action="store_true",
        help="keep every six-digit code (default: only the mineral baskets)",
    )
    parser.add_argument(
        "--hs-edition",
        choices=[*HS_EDITIONS, BY_YEAR],
        help="HS edition of a CSV without classificationCode; 'by-year' takes "
        "the edition in force in each year",
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    path = Path(args.path)
    refuse_symlink(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder (Comtrade JSON or CSV expected)")
    files = (
        [p for p in regular_files(path, recursive=True) if p.suffix.lower() in (".json", ".csv")]
        if path.is_dir()
        else [path]
    )
    if not files:
        raise IngestError(f"{path}: no .json or .csv file found")
    summary = load_comtrade(
        files,
        warehouse,
        all_products=getattr(args, "all_products", False),
        hs_edition=getattr(args, "hs_edition", None),
        replace=getattr(args, "replace", False),
        strict=not path.is_dir(),
    )
    summary.print()
    return 0


# --- reading ------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _number(value: Any, file: Path, row: int, column: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise IngestError(f"{file} record {row}, {column}: {value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise IngestError(
            f"{file} record {row}, {column}: {excerpt(value)!r} is not a number"
        ) from error


def read_json_response(path: Path) -> pl.DataFrame | None:
    """The rows of one API response; None when the JSON is not a trade-data response."""
    refuse_symlink(path)
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise IngestError(
            f"{path}: {human_bytes(size)}, more than the {human_bytes(MAX_TABLE_BYTES)} a "
            "Comtrade response may hold (the API answers at most 100,000 rows)"
        )
    check_utf8(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise IngestError(
            f"{path}: line {error.lineno}: not valid JSON ({error.msg}); a truncated download?"
        ) from error
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        return None
    if payload.get("error"):
        raise IngestError(
            f"{path}: the API answered with an error: {excerpt(payload['error'], 200)}"
        )
    records = payload["data"]
    if records and not all(isinstance(r, dict) and "cmdCode" in r for r in records[:5]):
        return None  # e.g. publication metadata, a bulk-file listing
    rows = []
    for index, record in enumerate(records, start=1):
        missing = [c for c in REQUIRED if c not in record]
        if missing:
            raise IngestError(f"{path} record {index}: missing field(s) {listed(missing)}")
        row: dict[str, Any] = {"file": str(path), "row": index}
        for column in RAW_SCHEMA:
            if column in ("file", "row"):
                continue
            value = record.get(column)
            if column in ("primaryValue", "netWgt"):
                row[column] = _number(value, path, index, column)
            else:
                row[column] = _text(value)
        rows.append(row)
    return pl.DataFrame(rows, schema=RAW_SCHEMA)


def read_csv_download(path: Path) -> pl.DataFrame:
    """The rows of a Comtrade+ CSV download (original column names)."""
    check_table_file(path, "Comtrade CSV")
    check_utf8(path)
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise IngestError(f"{path}: not a readable CSV ({excerpt(error)})") from error
    raw = raw.rename({c: c.lstrip("\ufeff") for c in raw.columns})
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        hint = (
            " It looks like a BACI file: use `critmin ingest baci`."
            if {"t", "i", "k", "v"} <= set(raw.columns)
            else ""
        )
        raise IngestError(
            f"{path}: missing column(s) {', '.join(missing)} — not a Comtrade "
            f"file? Found: {listed(raw.columns)}.{hint}"
        )
    if raw.height == 0:
        raise IngestError(f"{path}: the file has a header but no data rows")
    frame = raw.with_row_index("row", offset=2).select(
        pl.lit(str(path)).alias("file"),
        pl.col("row").cast(pl.Int64),
        *[
            (pl.col(c).str.strip_chars() if c in raw.columns else pl.lit(None, pl.String)).alias(c)
            for c in RAW_SCHEMA
            if c not in ("file", "row")
        ],
    )
    for column in ("primaryValue", "netWgt"):
        text = pl.col(column).replace("", None)
        bad = frame.filter(text.is_not_null() & text.cast(pl.Float64, strict=False).is_null())
        if bad.height:
            raise IngestError(
                f"{path} line {bad['row'][0]}, column {column}: {excerpt(bad[column][0])!r} "
                "is not a number"
            )
        frame = frame.with_columns(text.cast(pl.Float64, strict=False).alias(column))
    # Codes written as floats by some tools ("156.0") are codes all the same.
    return frame.with_columns(
        pl.col(c).str.replace(r"\.0$", "")
        for c in ("period", "reporterCode", "partnerCode", "aggrLevel", "partner2Code", "motCode")
    ).select(list(RAW_SCHEMA))


def read_files(
    files: list[Path], summary: Summary, strict: bool
) -> tuple[pl.DataFrame, list[Path]]:
    frames, used = [], []
    for path in files:
        if path.suffix.lower() == ".json":
            frame = read_json_response(path)
            if frame is None:
                if strict:
                    raise IngestError(
                        f"{path}: not a UN Comtrade data response (no data rows with cmdCode)"
                    )
                summary.notes.append(f"{path.name}: not a Comtrade data response, skipped")
                continue
        else:
            frame = read_csv_download(path)
        frames.append(frame)
        used.append(path)
    if not frames:
        raise IngestError(f"{files[0].parent}: no Comtrade data response or CSV among the files")
    return pl.concat(frames), used


# --- harmonising --------------------------------------------------------------------


def _edition_for_year(year: int) -> str:
    edition = "HS92"
    for name, start in HS_EDITIONS.items():
        if year >= start:
            edition = name
    return edition


def _skip(
    frame: pl.DataFrame, mask: pl.Expr, summary: Summary, reason: str, rejected: bool = False
) -> pl.DataFrame:
    """Drop the rows where mask is true, counting them in the summary under reason."""
    count = frame.select(mask.fill_null(False).sum()).item()
    if count:
        if rejected:
            summary.reject(reason, int(count))
        else:
            summary.notes.append(f"{count:,} {reason}")
    return frame.filter(~mask.fill_null(False))


def harmonise(
    raw: pl.DataFrame,
    summary: Summary,
    *,
    all_products: bool = False,
    hs_edition: str | None = None,
    frequency: str = "A",
) -> pl.DataFrame:
    """Raw Comtrade rows -> trade_flows rows (both sides, summed per side).

    With `frequency="M"` the monthly rows (freqCode M, period YYYYMM) are kept instead
    of the annual ones, and the result has a `month` column beside `year`
    (`critmin.ingest.comtrade_monthly` writes them to monthly_flows). Each step below
    takes the rows left by the one before and says in the summary what it dropped."""
    summary.rows_in += raw.height
    monthly = frequency == "M"
    frame = periods(raw, summary, monthly=monthly)
    frame = totals_of_the_flows_kept(frame, summary)
    frame = six_digit_codes(frame, summary)
    frame = with_hs_editions(frame, summary, hs_edition)
    frame = with_countries(frame, summary)
    if not all_products:
        frame = in_the_baskets(frame, summary)
    frame = checked_values(frame, summary)
    frame = declared_once(frame, summary)
    return by_side(frame, summary, monthly=monthly)


def periods(raw: pl.DataFrame, summary: Summary, *, monthly: bool) -> pl.DataFrame:
    """`year` (and, monthly, `month`) from `period`; the rows of the other frequency
    skipped. A period that is no year (or no month) stops the load."""
    frame = raw.with_columns(
        pl.col("period").str.slice(0, 4).cast(pl.Int32, strict=False).alias("year"),
        (
            pl.when(pl.col("period").str.len_chars() == 6)
            .then(pl.col("period").str.slice(4, 2).cast(pl.Int32, strict=False))
            .otherwise(None)
            if monthly
            else pl.lit(None, pl.Int32)
        ).alias("month"),
    )
    bad = frame.filter(pl.col("year").is_null())
    if bad.height:
        raise IngestError(
            f"{bad['file'][0]} row {bad['row'][0]}: period {excerpt(bad['period'][0])!r} is not a year"
        )
    if not monthly:
        return _skip(
            frame,
            pl.col("freqCode").is_not_null() & (pl.col("freqCode") != "A"),
            summary,
            "monthly rows skipped (only annual data are loaded; monthly ones with "
            "`critmin ingest comtrade-monthly`)",
        )
    frame = _skip(
        frame,
        pl.col("freqCode").is_not_null() & (pl.col("freqCode") != "M"),
        summary,
        "annual rows skipped (load them with `critmin ingest comtrade`)",
    )
    bad = frame.filter(~pl.col("month").is_between(1, 12).fill_null(False))
    if bad.height:
        raise IngestError(
            f"{bad['file'][0]} row {bad['row'][0]}, period: {bad['period'][0]!r} is not "
            "a month (YYYYMM, month 01-12)"
        )
    return frame


def totals_of_the_flows_kept(frame: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """Exports, imports and their re- flows only, and only the totals: rows broken down
    by a second partner, a customs procedure or a transport mode are skipped."""
    flow_codes = (*COMTRADE_EXPORT_FLOWS, *COMTRADE_IMPORT_FLOWS)
    frame = _skip(
        frame,
        ~pl.col("flowCode").is_in(flow_codes),
        summary,
        f"rows of other flows than {', '.join(flow_codes)} skipped",
    )
    return _skip(
        frame,
        (pl.col("partner2Code").is_not_null() & (pl.col("partner2Code") != "0"))
        | (pl.col("customsCode").is_not_null() & (pl.col("customsCode") != "C00"))
        | (pl.col("motCode").is_not_null() & (pl.col("motCode") != "0")),
        summary,
        "breakdown rows (second partner, customs or transport mode) skipped; totals kept",
    )


def six_digit_codes(frame: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """Six-digit codes only: aggregates (TOTAL, HS2, HS4) skipped and counted; a code
    that lost its leading zero or is no HS code stops the load."""
    level = pl.coalesce(
        pl.col("aggrLevel").cast(pl.Int32, strict=False), pl.col("cmdCode").str.len_chars()
    )
    lost_zero = frame.filter(
        pl.col("aggrLevel").is_null() & pl.col("cmdCode").str.contains(r"^\d{5}$")
    )
    if lost_zero.height:
        raise IngestError(
            f"{lost_zero['file'][0]} row {lost_zero['row'][0]}, cmdCode: "
            f"{excerpt(lost_zero['cmdCode'][0])!r} has 5 digits (a leading zero lost?); "
            "keep cmdCode as text"
        )
    aggregates = frame.filter(level != 6)
    if aggregates.height:
        levels = aggregates.with_columns(level.alias("lvl")).group_by("lvl").len().sort("lvl")
        for lvl, count in levels.iter_rows():
            name = "TOTAL" if lvl in (0, 5) else f"HS{lvl}"
            summary.notes.append(f"{count:,} {name} aggregate rows skipped (six-digit codes only)")
        frame = frame.filter(level == 6)
    bad_code = frame.filter(~pl.col("cmdCode").str.contains(r"^\d{6}$"))
    if bad_code.height:
        raise IngestError(
            f"{bad_code['file'][0]} row {bad_code['row'][0]}, cmdCode: "
            f"{excerpt(bad_code['cmdCode'][0])!r} is not a six-digit HS code"
        )
    return frame


def with_hs_editions(
    frame: pl.DataFrame, summary: Summary, hs_edition: str | None = None
) -> pl.DataFrame:
    """`hs_edition` from `classificationCode` (rows of other classifications rejected);
    a file without one needs `hs_edition`: an edition, or `by-year` for the edition in
    force each year."""
    if frame["classificationCode"].null_count() == frame.height and frame.height:
        if not hs_edition:
            raise IngestError(
                f"{frame['file'][0]}: no classificationCode column; give "
                "--hs-edition (e.g. HS17, or by-year for the edition in force "
                "each year)"
            )
        if hs_edition != BY_YEAR:
            return frame.with_columns(pl.lit(hs_edition).alias("hs_edition"))
        summary.notes.append(
            "hs_edition set to the edition in force in each year (--hs-edition by-year)"
        )
        years = frame["year"].unique().drop_nulls().to_list()
        return frame.with_columns(
            pl.col("year")
            .replace_strict(
                years, [_edition_for_year(y) for y in years], default=None, return_dtype=pl.String
            )
            .alias("hs_edition")
        )
    frame = frame.with_columns(
        pl.col("classificationCode")
        .replace_strict(
            list(CLASSIFICATION_EDITIONS),
            list(CLASSIFICATION_EDITIONS.values()),
            default=None,
            return_dtype=pl.String,
        )
        .alias("hs_edition")
    )
    unknown = frame.filter(pl.col("hs_edition").is_null())
    for code, count in unknown.group_by("classificationCode").len().sort("len").iter_rows():
        summary.reject(f"classificationCode {code} is not an HS edition", int(count))
    return frame.filter(pl.col("hs_edition").is_not_null())


def with_countries(frame: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """`reporter` and `partner` as ISO3 codes; rows with partner World skipped, rows
    of aggregates or codes without ISO3 rejected, named with their count."""
    mapping = iso3_by_numeric()

    def iso3(column: str) -> pl.Expr:
        return (
            pl.col(column)
            .cast(pl.Int32, strict=False)
            .replace_strict(
                list(mapping), list(mapping.values()), default=None, return_dtype=pl.String
            )
        )

    frame = frame.with_columns(
        iso3("reporterCode").alias("reporter"), iso3("partnerCode").alias("partner")
    )
    world = pl.col("partnerCode") == str(COMTRADE_WORLD_PARTNER)
    frame = _skip(frame, world, summary, "rows with partner World (0) skipped")
    for column, desc, role in (
        ("reporterCode", "reporterDesc", "reporter"),
        ("partnerCode", "partnerDesc", "partner"),
    ):
        unknown = frame.filter(pl.col(role).is_null())
        grouped = (
            unknown.group_by(column)
            .agg(pl.col(desc).first(), pl.len())
            .sort(["len", column], descending=[True, False])
        )
        for code, name, count in grouped.iter_rows():
            label = f" {name}" if name else ""
            summary.reject(
                f"{role} code {code}{label} is an aggregate or has no ISO3 code", int(count)
            )
        frame = frame.filter(pl.col(role).is_not_null())
    return frame


def in_the_baskets(frame: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """The rows of the mineral baskets' codes, in their edition."""
    baskets = reference.load_mineral_baskets().select("hs_edition", "hs6").unique()
    before = frame.height
    frame = frame.join(
        baskets, left_on=["hs_edition", "cmdCode"], right_on=["hs_edition", "hs6"], how="semi"
    )
    if before - frame.height:
        summary.notes.append(
            f"{before - frame.height:,} rows outside the mineral baskets "
            "skipped (use --all-products to keep them)"
        )
    return frame


def checked_values(frame: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """Rows without a value rejected; a negative value or weight stops the load; a zero
    weight beside a positive value read as not reported; estimated weights counted."""
    frame = _skip(
        frame, pl.col("primaryValue").is_null(), summary, "rows without primaryValue", rejected=True
    )
    negative = frame.filter((pl.col("primaryValue") < 0) | (pl.col("netWgt") < 0))
    if negative.height:
        raise IngestError(
            f"{negative['file'][0]} row {negative['row'][0]}: negative primaryValue or netWgt"
        )
    zero_weight = (pl.col("netWgt") == 0) & (pl.col("primaryValue") > 0)
    zeros = frame.select(zero_weight.fill_null(False).sum()).item()
    if zeros:
        summary.notes.append(
            f"{zeros:,} zero net weights next to a positive value read as "
            "'not reported' (quantity left empty)"
        )
    estimated = frame.select(
        (pl.col("isNetWgtEstimated").str.to_lowercase() == "true").fill_null(False).sum()
    ).item()
    if estimated:
        summary.notes.append(
            f"{estimated:,} net weights are estimated by UN Comtrade "
            "(isNetWgtEstimated); unit values from them are less reliable"
        )
    return frame.with_columns(
        pl.when(zero_weight).then(None).otherwise(pl.col("netWgt")).alias("netWgt")
    )


def declared_once(frame: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """The same declaration in two files counts once if identical; two different values
    for one declaration stop the load."""
    key = ["year", "month", "reporterCode", "partnerCode", "flowCode", "cmdCode", "hs_edition"]
    copies = frame.group_by(key).agg(
        pl.len().alias("n"),
        pl.col("primaryValue").n_unique().alias("values"),
        pl.col("netWgt").n_unique().alias("weights"),
        pl.col("file"),
        pl.col("row"),
    )
    conflict = copies.filter((pl.col("n") > 1) & ((pl.col("values") > 1) | (pl.col("weights") > 1)))
    if conflict.height:
        first = conflict.row(0, named=True)
        raise IngestError(
            f"{first['file'][0]} row {first['row'][0]} and {first['file'][1]} row "
            f"{first['row'][1]}: two different values for reporter {first['reporterCode']}, "
            f"partner {first['partnerCode']}, flow {first['flowCode']}, code {first['cmdCode']}, "
            f"{first['year']}{_month_suffix(first['month'])}; load one of them"
        )
    repeated = int(copies.filter(pl.col("n") > 1).select((pl.col("n") - 1).sum()).item() or 0)
    if not repeated:
        return frame
    summary.notes.append(
        f"{repeated:,} rows found twice (same declaration in several files) counted once"
    )
    return frame.unique(key, keep="first", maintain_order=True)


def by_side(frame: pl.DataFrame, summary: Summary, *, monthly: bool) -> pl.DataFrame:
    """trade_flows rows: exports (and re-exports) as the exporter's declaration, imports
    (and re-imports) as the importer's, summed per pair, period, code and side; a
    quantity only where every summed row has one."""
    exports = pl.col("flowCode").is_in(list(COMTRADE_EXPORT_FLOWS))
    sided = frame.select(
        "year",
        "month",
        "hs_edition",
        pl.col("cmdCode").alias("hs6"),
        pl.when(exports).then(pl.col("reporter")).otherwise(pl.col("partner")).alias("exporter"),
        pl.when(exports).then(pl.col("partner")).otherwise(pl.col("reporter")).alias("importer"),
        pl.when(exports)
        .then(pl.lit("exporter_reported"))
        .otherwise(pl.lit("importer_reported"))
        .alias("side"),
        "primaryValue",
        "netWgt",
    )
    summary.rows_kept += sided.height
    flows = sided.group_by(
        ["year", "month", "hs_edition", "hs6", "exporter", "importer", "side"]
    ).agg(
        pl.col("primaryValue").sum().alias("value_usd"),
        pl.when(pl.col("netWgt").null_count() == 0)
        .then(pl.col("netWgt").sum())
        .alias("quantity_kg"),
        pl.len().alias("_rows"),
    )
    summed = int(flows.select((pl.col("_rows") - 1).sum()).item() or 0)
    if summed:
        summary.notes.append(
            f"{summed:,} re-export/re-import rows summed with the exports/imports "
            f"of the same pair, {'month' if monthly else 'year'} and code"
        )
    period = ["year", *(["month"] if monthly else [])]
    return (
        flows.drop("_rows")
        .with_columns(
            pl.col("year").cast(pl.Int32),
            pl.col("value_usd").cast(pl.Float64),
            pl.col("quantity_kg").cast(pl.Float64),
            pl.lit(SOURCE).alias("source"),
            pl.lit(RELEASE).alias("release"),
        )
        .select(
            *period,
            "hs_edition",
            "hs6",
            "exporter",
            "importer",
            "value_usd",
            "quantity_kg",
            "source",
            "side",
            "release",
        )
        .sort(*period, "exporter", "hs6", "importer", "side")
    )


def _month_suffix(month: int | None) -> str:
    return "" if month is None else f"-{month:02d}"


def _reporter() -> pl.Expr:
    return (
        pl.when(pl.col("side") == "exporter_reported")
        .then(pl.col("exporter"))
        .otherwise(pl.col("importer"))
    )


def load_comtrade(
    files: list[Path],
    warehouse: Warehouse,
    *,
    all_products: bool = False,
    hs_edition: str | None = None,
    replace: bool = False,
    strict: bool = True,
    source_label: str = "UN Comtrade",
) -> Summary:
    """Read, harmonise and write Comtrade files into the `comtrade` part, atomically."""
    summary = Summary(source=source_label)
    raw, used = read_files(files, summary, strict)
    flows = harmonise(raw, summary, all_products=all_products, hs_edition=hs_edition)
    if flows.is_empty():
        scope = "" if all_products else " of the mineral baskets"
        skipped = "; ".join(summary.notes[:4])
        raise IngestError(
            f"{files[0] if len(files) == 1 else files[0].parent}: no six-digit "
            f"rows{scope} to load ({skipped}); the warehouse is unchanged"
        )
    existing = warehouse.parts(TABLE).get(PART) if warehouse.exists() else None
    with warehouse.transaction(derived=derive.refresh) as tx:
        ensure_reference_tables(tx, warehouse)
        merged = flows
        if existing and not replace:
            old = pl.read_parquet(
                [warehouse.root / f for f in existing.files], hive_partitioning=True
            )
            old = old.with_columns(pl.col("year").cast(pl.Int32))
            keys = ["year", "side", "_reporter", "hs6"]
            new_keys = flows.with_columns(_reporter().alias("_reporter")).select(keys)
            kept = (
                old.with_columns(_reporter().alias("_reporter"))
                .join(new_keys.unique(), on=keys, how="anti")
                .drop("_reporter")
            )
            if kept.height:
                summary.notes.append(
                    f"kept {kept.height:,} rows of other declarations already in the comtrade part"
                )
            merged = pl.concat([kept.select(flows.columns), flows])
        elif existing:
            summary.notes.append("replaced the whole comtrade part (--replace)")
        part = tx.write_frame(TABLE, PART, merged, source=SOURCE, release=RELEASE)
        summary.notes.append(
            f"trade_flows/{PART}: {part.rows:,} rows, years {min(part.years)}-{max(part.years)}"
        )
        if note := drop_demo_flows(tx, warehouse):
            summary.notes.append(note)
        accessed = dt.date.today().isoformat()
        fields = sources.source(SOURCE_FILE).record_fields()
        fields["citation"] += f" (accessed {accessed})"
        for path in used:
            tx.add_provenance(
                Provenance.for_file(
                    path,
                    source=SOURCE,
                    release=RELEASE,
                    table=TABLE,
                    **fields,
                )
            )
    summary.notes += [f"derived {line}" for line in tx.derived]
    return summary
