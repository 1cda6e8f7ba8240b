"""USGS Mineral Commodity Summaries (MCS) data release -> the `production` table.

`critmin ingest usgs-mcs PATH` reads the release's long CSV
(`MCS2026_Commodities_Data.csv`; columns MCS chapter, Section, Commodity, Country,
Statistics, Statistics_detail, Unit, Year, Value, Notes, ...) and writes the
`production` part `usgs_mcs`. Choices, documented in the README:

- Encoding: UTF-8 is tried first, then cp1252 (what USGS publishes); the summary
  says which was used.
- Country names -> ISO3 through `common.country_names_to_iso3` (alias file
  `reference/country_aliases.csv`). Aggregates keep a three-letter code that is not
  an ISO country: "World total" -> WLD, "Other countries" -> OTH. Names with no
  single ISO3 (e.g. "China, Germany, and Russia") are rejected and listed.
- statistic = Statistics_detail when it already names the statistic
  ("Mine production"), else "Statistics: Statistics_detail"
  ("Production: Ferrosilicon"), else Statistics.
- Year ranges ("2021–24", US import sources) are stored under their last year;
  the statistic ("Import sources 2021-2024") keeps the span.
- Values are text: "1,400" -> 1400; "W", "NA", "XX", "—", "E", "s" -> null with the
  token as value_flag; ">85,000" / "<1" -> the bound with flag ">" / "<"; ranges
  "50–300" -> midpoint with flag "range"; words ("Large") -> null with the word as
  flag; plain numbers whose note starts with "Estimated" get flag "e".
- Units: tonnages given in thousand or million metric tons (also "dry" tons) are
  converted to metric tons so figures compare across commodities; every other unit
  is kept as given (kilograms, percent, dollars per ...).
- Loading the real release drops the demo's hand-quoted `production/curated` part.
"""

from __future__ import annotations

import argparse
import io
import logging
import re
from pathlib import Path

import polars as pl

from critmin import derive, sources
from critmin.domain import USGS_MISSING_TOKENS
from critmin.ingest import common
from critmin.ingest.common import IngestError, Summary
from critmin.warehouse import Provenance, Warehouse

log = logging.getLogger(__name__)

SOURCE = "usgs_mcs"
PART = "usgs_mcs"
TABLE = "production"
CURATED_PART = "curated"
REQUIRED_COLUMNS = (
    "MCS chapter",
    "Section",
    "Commodity",
    "Country",
    "Statistics",
    "Statistics_detail",
    "Unit",
    "Year",
    "Value",
    "Notes",
)
# Publisher, licence, citation, addresses, and each release's DOI and known file versions:
# ingest/sources/usgs_mcs.toml.
SOURCE_FILE = "usgs_mcs"
UNKNOWN_VERSION = "unknown: not a version of the file critmin knows (see the corrections page)"

# MCS value tokens besides the shared missing-value ones (domain.USGS_MISSING_TOKENS).
EXTRA_TOKENS = {"E": "net exporter (net import reliance)", "s": "less than 1/2 unit"}
# Tonnage units converted to their base unit so figures compare.
UNIT_SCALE: dict[str, tuple[float, str]] = {
    "thousand metric tons": (1_000.0, "metric tons"),
    "million metric tons": (1_000_000.0, "metric tons"),
    "thousand metric dry tons": (1_000.0, "metric dry tons"),
}
UNIT_MISSING = "not stated"

_NUMBER = r"\d[\d,]*(?:\.\d+)?|\.\d+"
_PLAIN = re.compile(rf"^(?:{_NUMBER})$")
_BOUND = re.compile(rf"^([<>])\s*({_NUMBER})$")
_RANGE = re.compile(rf"^({_NUMBER})\s*[–\-]\s*({_NUMBER})$")
_YEAR = re.compile(r"^(\d{4})$")
_YEAR_RANGE = re.compile(r"^(\d{4})\s*[–\-]\s*(\d{2}|\d{4})$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--release",
        help="release label (default: from the file name, e.g. MCS2026, else MCS<last year + 1>)",
    )


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def parse_value(text: str | None) -> tuple[float | None, str | None]:
    """One MCS value cell -> (value, value_flag); see the module docstring."""
    raw = (text or "").strip()
    if raw in USGS_MISSING_TOKENS:
        return None, raw or "blank"
    if raw in EXTRA_TOKENS:
        return None, raw
    if _PLAIN.match(raw):
        return _number(raw), None
    if match := _BOUND.match(raw):
        return _number(match.group(2)), match.group(1)
    if match := _RANGE.match(raw):
        low, high = _number(match.group(1)), _number(match.group(2))
        return (low + high) / 2, "range"
    return None, raw[:60]


def parse_year(text: str | None) -> int | None:
    """ "2024" -> 2024; a span "2021–24" -> its last year, 2024; else None."""
    raw = (text or "").strip()
    if match := _YEAR.match(raw):
        return int(match.group(1))
    if match := _YEAR_RANGE.match(raw):
        first, last = match.group(1), match.group(2)
        return int(first[: 4 - len(last)] + last)
    return None


def statistic_label(statistics: str | None, detail: str | None) -> str:
    """The `statistic` column: the detail if it names the statistic, else both."""
    statistics = (statistics or "").strip()
    detail = (detail or "").strip()
    if not detail or detail.casefold() == statistics.casefold():
        return statistics or detail
    if not statistics or statistics.casefold() in detail.casefold():
        return detail
    return f"{statistics}: {detail}"


def release_from(path: Path, years: list[int]) -> str:
    match = re.search(r"mcs[_\- ]?(\d{4})", path.name, re.IGNORECASE)
    if match:
        return f"MCS{match.group(1)}"
    return f"MCS{max(years) + 1}" if years else "MCS"


def citation_for(release: str) -> str:
    return sources.source(SOURCE_FILE).cite(release)


def provenance(path: Path, release: str) -> Provenance:
    """The file's provenance record, with its version when the source file knows it by
    checksum (a corrected release's CSV is not the CSV as first posted)."""
    info = sources.source(SOURCE_FILE)
    record = Provenance.for_file(
        path, source=SOURCE, release=release, table=TABLE, **info.record_fields(release)
    )
    known = info.version_of(release, record.sha256)
    record.version = known.get("version", UNKNOWN_VERSION if info.release(release) else "")
    record.version_date = known.get("version_date", "")
    return record


def resolve_file(path: Path) -> Path:
    """The CSV itself, or the one *Commodities_Data*.csv inside a release folder."""
    common.refuse_symlink(path)
    if path.is_dir():
        found = [
            p for p in common.regular_files(path, "*.csv") if "commodities_data" in p.name.lower()
        ]
        if len(found) != 1:
            raise IngestError(
                f"{path}: expected one *Commodities_Data*.csv in the folder, found {len(found)}"
            )
        path = found[0]
    return common.require_file(path, "a USGS MCS data release CSV")


def read_raw(path: Path) -> tuple[pl.DataFrame, str]:
    """The CSV as text columns, and the encoding it was read with."""
    common.check_table_file(path, "USGS MCS data release CSV", max_bytes=256 << 20)
    text, encoding = common.read_text_detect_encoding(path)
    if not text.strip():
        raise IngestError(f"{path}: the file is empty (a USGS MCS data release CSV expected)")
    try:
        raw = pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise IngestError(f"{path}: not a readable CSV ({common.excerpt(error)})") from error
    raw = raw.rename({c: c.strip() for c in raw.columns})
    common.require_columns(path, raw.columns, REQUIRED_COLUMNS, "USGS MCS data release")
    if raw.height == 0:
        raise IngestError(f"{path}: the file has a header but no data rows")
    return raw, encoding


def transform(raw: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """Raw MCS rows -> `production` rows (without `source`), counting rejections."""
    summary.rows_in = raw.height
    names = common.country_names_to_iso3(raw["Country"].to_list())
    rows = []
    for row in raw.iter_rows(named=True):
        country_name = (row["Country"] or "").strip()
        iso3 = names.get(row["Country"]) if row["Country"] is not None else None
        if iso3 is None:
            summary.reject(
                f"country {common.excerpt(country_name or '(blank)', 40)!r} has no ISO3 code "
                "(add it to reference/country_aliases.csv)"
            )
            continue
        year = parse_year(row["Year"])
        if year is None:
            summary.reject(
                f"year {common.excerpt(row['Year'], 20)!r} is not a year or a span like 2021–24"
            )
            continue
        commodity = (row["Commodity"] or "").strip()
        statistic = statistic_label(row["Statistics"], row["Statistics_detail"])
        if not commodity or not statistic:
            summary.reject("no commodity or statistic")
            continue
        value, flag = parse_value(row["Value"])
        notes = (row["Notes"] or "").strip()
        if flag is None and notes.startswith("Estimated"):
            flag = "e"
        unit = " ".join((row["Unit"] or "").split()) or UNIT_MISSING
        if unit in UNIT_SCALE:
            factor, unit = UNIT_SCALE[unit]
            value = value * factor if value is not None else None
        rows.append((iso3, commodity, statistic, year, value, unit, flag))
    frame = pl.DataFrame(
        rows,
        schema={
            "country": pl.String,
            "commodity": pl.String,
            "statistic": pl.String,
            "year": pl.Int32,
            "value": pl.Float64,
            "unit": pl.String,
            "value_flag": pl.String,
        },
        orient="row",
    )
    before = frame.height
    frame = frame.unique(maintain_order=True)
    summary.reject("exact duplicate of another row", before - frame.height)
    summary.rows_kept = frame.height
    return frame


def load(path: Path, release: str | None = None) -> tuple[pl.DataFrame, Summary, str]:
    """Read and transform a release CSV: (production frame, summary, release label)."""
    path = resolve_file(path)
    raw, encoding = read_raw(path)
    summary = Summary(source=f"USGS MCS ({path.name})")
    frame = transform(raw, summary)
    if frame.height == 0:
        raise IngestError(f"{path}: no usable rows ({summary.render()})")
    release = release or release_from(path, frame["year"].unique().to_list())
    common_release = release.strip()
    summary.notes.append(f"read as {encoding}")
    flags = frame["value_flag"].drop_nulls().value_counts(sort=True)
    if flags.height:
        listed = ", ".join(f"{flag} {count:,}" for flag, count in flags.head(8).iter_rows())
        summary.notes.append(f"value flags: {listed}")
    converted = raw["Unit"].str.strip_chars().is_in(list(UNIT_SCALE)).sum()
    summary.notes.append(
        f"{converted:,} values converted from thousand/million metric tons to metric tons"
    )
    return frame.with_columns(pl.lit(SOURCE).alias("source")), summary, common_release


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    path = Path(args.path)
    frame, summary, release = load(path, getattr(args, "release", None))
    csv_path = resolve_file(path)
    had_curated = warehouse.exists() and CURATED_PART in warehouse.parts(TABLE)
    with warehouse.transaction(derived=derive.refresh) as tx:
        common.ensure_reference_tables(tx, warehouse)
        tx.write_frame(TABLE, PART, frame, source=SOURCE, release=release)
        if had_curated:
            tx.drop_part(TABLE, CURATED_PART)
            summary.notes.append(f"dropped the demo's hand-quoted {TABLE}/{CURATED_PART} part")
        record = provenance(csv_path, release)
        tx.add_provenance(record)
        if record.version:
            summary.notes.append(f"version: {record.version}")
    years = sorted(int(y) for y in frame["year"].unique().to_list())
    summary.notes.append(
        f"release {release}; {frame['country'].n_unique()} countries, "
        f"{frame['commodity'].n_unique()} commodities, years "
        f"{years[0]}-{years[-1]}"
    )
    summary.print()
    return 0
