"""CEPII BACI -> the `baci` part of trade_flows (and the `baci` part of products).

`critmin ingest baci PATH` reads a BACI release as downloaded: the zip
(`BACI_HS17_V202501.zip`), a folder of its files, or one yearly CSV
(`BACI_HS17_Y2017_V202501.csv`). Columns t, i, j, k, v, q: v is thousands of
USD (stored as value_usd = v * 1000), q metric tons (quantity_kg = q * 1000,
empty or NA -> null), i and j BACI country codes mapped to ISO3 with the
release's country_codes dictionary (or the ISO numeric table when the
dictionary is absent), k the HS6 code kept as a six-character string.

Each yearly file is streamed through DuckDB (typed `read_csv` -> checks ->
`COPY` to a sorted, zstd-compressed Parquet file per year), so memory stays flat
whatever the size of the release. Bad input stops the load with a message naming
the file, the line and the column, and the warehouse stays as it was. Rows with
country codes that have no ISO3 code (BACI's "N/A" groups, unknown codes) are
rejected and counted per code in the summary. A code that lost its leading zero
(5 digits) and a duplicated (t, i, j, k) are errors.

One release and one HS edition at a time: loading another release over the
`baci` part needs `--replace`; more years of the same release merge with the
years already loaded (a re-loaded year replaces itself).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from critmin import derive, reference, sources
from critmin.domain import HS_EDITIONS
from critmin.ingest.common import (
    MAX_COLUMNS,
    MAX_HEADER_BYTES,
    MAX_LINE_BYTES,
    NUMERIC_ALIASES,
    IngestError,
    Summary,
    check_table_file,
    ensure_reference_tables,
    excerpt,
    human_bytes,
    iso3_by_numeric,
    listed,
    progress,
    refuse_symlink,
    regular_files,
    release_members,
)
from critmin.ingest.trade_parts import TABLE, check_parquet_files, drop_demo_flows, part_editions
from critmin.schema import TABLES, check_release_label
from critmin.settings import load_settings
from critmin.sqltext import literal
from critmin.warehouse import ROW_GROUP_SIZE, Provenance, Warehouse

log = logging.getLogger(__name__)

SOURCE = "baci"
PART = "baci"
COLUMNS = ("t", "i", "j", "k", "v", "q")
# Publisher, licence, citation and addresses: ingest/sources/baci.toml.
SOURCE_FILE = "baci"

_RELEASE = r"V(?P<release>\d{6}[a-z]?)"
FLOW_NAME = re.compile(rf"^BACI_(?P<edition>HS\d\d)_Y(?P<year>\d{{4}})_{_RELEASE}\.csv$", re.I)
RELEASE_NAME = re.compile(rf"^BACI_(?P<edition>HS\d\d)_{_RELEASE}(?:\.zip)?$", re.I)
COUNTRY_NAME = re.compile(rf"^country_codes(?:_{_RELEASE})?\.csv$", re.I)
PRODUCT_NAME = re.compile(rf"^product_codes(?:_(?P<edition>HS\d\d))?(?:_{_RELEASE})?\.csv$", re.I)
COMTRADE_HINTS = {"reporterCode", "partnerCode", "cmdCode", "primaryValue", "flowCode"}

# The typed read of a yearly file; q stays text because BACI pads it and writes NA.
CSV_TYPES = {
    "t": "INTEGER",
    "i": "INTEGER",
    "j": "INTEGER",
    "k": "VARCHAR",
    "v": "DOUBLE",
    "q": "VARCHAR",
}
Q_VALUE = "TRY_CAST(trim(q) AS DOUBLE)"
Q_BLANK = "(q IS NULL OR trim(q) IN ('', 'NA'))"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all-products",
        action="store_true",
        help="keep every HS6 code (default: only the mineral baskets)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace a loaded BACI part of another release or HS edition",
    )
    parser.add_argument(
        "--release",
        help="release label such as V202501, when the file "
        "names do not carry it (e.g. a renamed yearly CSV)",
    )
    parser.add_argument(
        "--hs-edition",
        choices=list(HS_EDITIONS),
        help="HS edition such as HS17, when the file names do not carry it",
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    summary = load_baci(
        Path(args.path),
        warehouse,
        all_products=getattr(args, "all_products", False),
        replace=getattr(args, "replace", False),
        release=getattr(args, "release", None),
        hs_edition=getattr(args, "hs_edition", None),
    )
    summary.print()
    return 0


# --- the input: a zip, a folder or one CSV ------------------------------------------


@dataclass
class Member:
    """One file of the input, on disk or inside the release zip."""

    name: str  # the file's own name
    label: str  # what error messages call it
    path: Path | None = None
    archive: Path | None = None
    size: int = 0  # a zip member's declared uncompressed size (checked by release_members)

    def first_line(self) -> bytes:
        """The first line, read without going past MAX_HEADER_BYTES (from the zip
        without extracting the member)."""
        try:
            if self.path is not None:
                with self.path.open("rb") as handle:
                    line = handle.readline(MAX_HEADER_BYTES + 1)
            else:
                assert self.archive is not None
                with zipfile.ZipFile(self.archive) as archive, archive.open(self.name) as src:
                    line = src.readline(MAX_HEADER_BYTES + 1)
        except (zipfile.BadZipFile, EOFError, zlib.error) as error:
            raise IngestError(
                f"{self.label}: cannot be read ({excerpt(error)}); the zip is damaged or "
                "truncated, download it again"
            ) from error
        if len(line) > MAX_HEADER_BYTES:
            raise IngestError(
                f"{self.label}: line 1 is longer than {human_bytes(MAX_HEADER_BYTES)} — not "
                "a BACI file (whose header is t,i,j,k,v,q)"
            )
        return line

    @contextlib.contextmanager
    def on_disk(self, scratch: Path) -> Iterator[Path]:
        """The file as a path; a zip member is extracted to scratch and removed after."""
        if self.path is not None:
            yield self.path
            return
        assert self.archive is not None
        target = scratch / Path(self.name).name
        free = shutil.disk_usage(scratch).free
        if self.size > free:
            raise IngestError(
                f"{self.label}: needs {human_bytes(self.size)} of scratch space in {scratch}, "
                f"which has {human_bytes(free)} free; set TMPDIR to a larger disk"
            )
        try:
            with (
                zipfile.ZipFile(self.archive) as archive,
                archive.open(self.name) as src,
                target.open("wb") as dst,
            ):
                shutil.copyfileobj(src, dst, 1 << 22)
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error) as error:
            target.unlink(missing_ok=True)
            raise IngestError(
                f"{self.label}: cannot be extracted ({excerpt(error)}); the zip is damaged or "
                "truncated, download it again"
            ) from error
        try:
            yield target
        finally:
            target.unlink(missing_ok=True)


@dataclass
class BaciInput:
    flows: list[Member] = field(default_factory=list)
    countries: Member | None = None
    products: Member | None = None
    edition: str = ""
    release: str = ""
    files: list[Path] = field(default_factory=list)  # what provenance records describe
    name_years: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # zip members that are no release file


def _members(path: Path) -> tuple[list[Member], list[Path], list[str]]:
    """The input's files, the files provenance describes, and the zip members skipped."""
    refuse_symlink(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder (a BACI zip, folder or CSV expected)")
    if path.is_dir():
        files = regular_files(path)
        return (
            [Member(p.name, str(p), path=p) for p in files],
            [p for p in files if p.suffix.lower() == ".csv"],
            [],
        )
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: the file is empty (a BACI zip or CSV expected)")
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                infos, skipped = release_members(archive, path.name)
        except zipfile.BadZipFile as error:
            raise IngestError(
                f"{path}: not a readable zip archive ({excerpt(error)}); the download is "
                "probably truncated, download it again"
            ) from error
        members = [
            Member(i.filename, f"{path.name}:{i.filename}", archive=path, size=i.file_size)
            for i in infos
        ]
        return members, [path], skipped
    # One yearly CSV: the release's dictionaries may sit next to it.
    siblings = [
        p
        for p in regular_files(path.parent)
        if p != path and (COUNTRY_NAME.match(p.name) or PRODUCT_NAME.match(p.name))
    ]
    return (
        [Member(path.name, str(path), path=path)]
        + [Member(p.name, str(p), path=p) for p in siblings],
        [path, *siblings],
        [],
    )


def collect_inputs(
    path: Path, release: str | None = None, hs_edition: str | None = None
) -> BaciInput:
    """Sort the input's files into yearly flows and dictionaries, and settle the
    release and HS edition (file names first, options when names lack them)."""
    members, files, skipped = _members(path)
    found = BaciInput(files=files, skipped=skipped)
    editions: dict[str, str] = {}  # edition -> file that says so
    releases: dict[str, str] = {}
    if match := RELEASE_NAME.match(path.name if path.is_file() else path.name.rstrip("/")):
        editions.setdefault(match["edition"].upper(), path.name)
        releases.setdefault("V" + match["release"], path.name)
    in_zip = any(m.archive is not None for m in members)
    for member in members:
        base = Path(member.name).name
        if match := COUNTRY_NAME.match(base):
            found.countries = member
        elif match := PRODUCT_NAME.match(base):
            found.products = member
            if match["edition"]:
                editions.setdefault(match["edition"].upper(), base)
        elif match := FLOW_NAME.match(base):
            found.flows.append(member)
            found.name_years[member.label] = int(match["year"])
            editions.setdefault(match["edition"].upper(), base)
        elif base.lower().endswith(".csv") and in_zip:
            # A release zip holds its files under their own names: a CSV named otherwise
            # (perhaps another release's flows, renamed) is not loaded under this one's.
            raise IngestError(
                f"{member.label}: not a file of a BACI release (a release zip holds "
                "BACI_HS17_Y2017_V202501.csv, country_codes_V202501.csv and "
                "product_codes_HS17_V202501.csv); load a renamed yearly file on its own or "
                "from a folder, with --release and --hs-edition"
            )
        elif base.lower().endswith(".csv"):
            found.flows.append(member)  # a renamed yearly file: options give release/edition
            continue
        else:
            continue
        if match and match.groupdict().get("release"):
            releases.setdefault("V" + match["release"], base)
    if not found.flows:
        raise IngestError(
            f"{path}: no BACI yearly CSV found (expected files like BACI_HS17_Y2017_V202501.csv)"
        )
    found.flows.sort(key=lambda m: m.name)
    for member in found.flows:  # a file of another kind is named before any option is asked
        check_columns(member.first_line(), member.label)
    if len(editions) > 1:
        raise IngestError(
            f"{path}: files of several HS editions ({_which(editions)}); "
            "load one BACI release at a time"
        )
    if len(releases) > 1:
        raise IngestError(
            f"{path}: files of several BACI releases ({_which(releases)}); "
            "load one release at a time"
        )
    edition = next(iter(editions), None)
    found_release = next(iter(releases), None)
    if hs_edition and edition and hs_edition != edition:
        raise IngestError(
            f"{editions[edition]}: the file name says {edition}, --hs-edition says {hs_edition}"
        )
    if release and found_release and release != found_release:
        raise IngestError(
            f"{releases[found_release]}: the file name says release "
            f"{found_release}, --release says {release}"
        )
    edition = edition or hs_edition
    found_release = found_release or release
    unnamed = next((m for m in found.flows if m.label not in found.name_years), found.flows[0])
    if not edition:
        raise IngestError(
            f"{unnamed.label}: cannot tell the HS edition from the file name "
            "(expected BACI_HS17_Y2017_V202501.csv); give --hs-edition HS17"
        )
    if not found_release:
        raise IngestError(
            f"{unnamed.label}: cannot tell the BACI release from the file name "
            "(expected BACI_HS17_Y2017_V202501.csv); give --release V202501"
        )
    if edition not in HS_EDITIONS:
        raise IngestError(f"{path}: {edition} is not an HS edition ({', '.join(HS_EDITIONS)})")
    found.edition = edition
    found.release = check_release_label(found_release)
    return found


def _which(named: dict[str, str]) -> str:
    return ", ".join(f"{key} in {name}" for key, name in named.items())


# --- dictionaries -------------------------------------------------------------------


def _read_dictionary(path: Path, label: str, summary: Summary) -> pl.DataFrame:
    """A release dictionary (country_codes, product_codes): UTF-8, or cp1252 as some
    releases were saved (said in the summary); bytes neither can read are replaced with
    U+FFFD and counted in the summary."""
    check_table_file(path, "BACI dictionary", max_bytes=64 << 20)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
            summary.notes.append(f"{label}: not UTF-8, read as cp1252 (Windows Latin-1)")
        except UnicodeDecodeError:
            text = data.decode("utf-8", errors="replace")
            summary.notes.append(
                f"{label}: neither UTF-8 nor cp1252; {text.count(chr(0xFFFD)):,} unreadable "
                "byte(s) stored as U+FFFD (�) in names and descriptions"
            )
    head = text.split("\n", 1)[0]
    separator = ";" if head.count(";") > head.count(",") else ","
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            separator=separator,
            infer_schema=False,
            quote_char='"',
        )
    except pl.exceptions.PolarsError as error:
        raise IngestError(f"{label}: not a readable CSV ({excerpt(error)})") from error
    return frame.rename({c: c.lstrip("\ufeff").strip().strip('"') for c in frame.columns})


def country_map(member_path: Path | None, label: str, summary: Summary) -> pl.DataFrame:
    """code (int) -> iso3 (null for groups) and name, from the release's dictionary or,
    without one, from the ISO numeric table plus the BACI/Comtrade aliases."""
    if member_path is None:
        mapping = iso3_by_numeric()
        summary.notes.append(
            "no country_codes dictionary in the input: codes mapped with the "
            "ISO numeric table and the BACI aliases (251 FRA, 842 USA, ...)"
        )
        return pl.DataFrame(
            {"code": list(mapping), "iso3": list(mapping.values()), "name": list(mapping.values())},
            schema={"code": pl.Int32, "iso3": pl.String, "name": pl.String},
        )
    frame = _read_dictionary(member_path, label, summary)
    iso_column = next(
        (c for c in ("iso_3digit_alpha", "country_iso3", "iso3") if c in frame.columns), None
    )
    name_column = next(
        (
            c
            for c in ("country_name_full", "country_name", "country_name_abbreviation")
            if c in frame.columns
        ),
        None,
    )
    if "country_code" not in frame.columns or iso_column is None:
        raise IngestError(
            f"{label}: missing column country_code or iso_3digit_alpha/country_iso3 "
            f"— not a BACI country_codes file? Found: {listed(frame.columns)}"
        )
    codes = frame.select(
        pl.col("country_code").str.strip_chars().cast(pl.Int32, strict=False).alias("code"),
        pl.col(iso_column).str.strip_chars().alias("iso3"),
        (pl.col(name_column) if name_column else pl.col(iso_column)).alias("name"),
    )
    bad = codes.filter(pl.col("code").is_null())
    if bad.height:
        raise IngestError(f"{label}: country_code is not a number in {bad.height} row(s)")
    valid = pl.col("iso3").str.contains(r"^[A-Z]{3}$").fill_null(False)
    aliased = codes.filter(~valid & pl.col("code").is_in(list(NUMERIC_ALIASES)))
    for code, name in aliased.select("code", "name").iter_rows():
        summary.notes.append(
            f"country code {code} ({name}) has no ISO3 in the dictionary; "
            f"mapped to {NUMERIC_ALIASES[code]} as BACI and Comtrade mean it"
        )
    alias = pl.col("code").replace_strict(
        list(NUMERIC_ALIASES), list(NUMERIC_ALIASES.values()), default=None, return_dtype=pl.String
    )
    return codes.with_columns(
        pl.when(valid).then(pl.col("iso3")).otherwise(alias).alias("iso3")
    ).unique("code", keep="first")


def products_frame(member_path: Path, label: str, edition: str, summary: Summary) -> pl.DataFrame:
    """The release's product_codes dictionary as rows of the `products` table."""
    frame = _read_dictionary(member_path, label, summary)
    if not {"code", "description"} <= set(frame.columns):
        raise IngestError(
            f"{label}: missing column code or description — not a BACI "
            f"product_codes file? Found: {listed(frame.columns)}"
        )
    codes = frame.select(pl.col("code").str.strip_chars(), "description")
    short = codes.filter(pl.col("code").str.contains(r"^\d{5}$")).height
    if short:
        summary.notes.append(
            f"{label}: {short} product code(s) had lost their leading zero (5 digits); padded to 6"
        )
    codes = codes.with_columns(pl.col("code").str.zfill(6))
    bad = codes.filter(~pl.col("code").str.contains(r"^\d{6}$").fill_null(False))
    if bad.height:
        raise IngestError(f"{label}: code {excerpt(bad['code'][0])!r} is not a six-digit HS code")
    return (
        codes.select(
            pl.lit(edition).alias("hs_edition"),
            pl.col("code").alias("hs6"),
            pl.col("description").fill_null(""),
            pl.lit(SOURCE).alias("source"),
        )
        .unique("hs6", keep="first")
        .sort("hs6")
    )


# --- one yearly file ----------------------------------------------------------------


def check_header(path: Path, label: str) -> None:
    """The file must be a BACI flow file: columns exactly t, i, j, k, v, q."""
    if path.stat().st_size == 0:
        raise IngestError(f"{label}: the file is empty (a BACI yearly CSV expected)")
    check_columns(Member(path.name, label, path=path).first_line(), label)


def check_columns(first: bytes, label: str) -> None:
    """A BACI yearly file's first line names exactly t, i, j, k, v, q."""
    if not first.strip():
        raise IngestError(f"{label}: the file is empty (a BACI yearly CSV expected)")
    try:
        header = first.decode("utf-8-sig").strip()
    except UnicodeDecodeError as error:
        raise IngestError(f"{label}: line 1 is not UTF-8 (byte {first[error.start]:#x})") from error
    columns = [c.strip().strip('"') for c in header.split(",")]
    if len(columns) > MAX_COLUMNS:
        raise IngestError(
            f"{label}: line 1 has {len(columns):,} columns — not a BACI t,i,j,k,v,q file"
        )
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        hint = (
            " It looks like a UN Comtrade file: use `critmin ingest comtrade`."
            if COMTRADE_HINTS & set(columns)
            else ""
        )
        raise IngestError(
            f"{label}: missing column(s) {', '.join(missing)} — not a BACI "
            f"t,i,j,k,v,q file (found {listed(columns)}).{hint}"
        )
    extra = [c for c in columns if c not in COLUMNS]
    if extra:
        raise IngestError(
            f"{label}: unexpected column(s) {listed(extra)} — a BACI yearly "
            "file has exactly t,i,j,k,v,q"
        )


def check_utf8_start(path: Path, label: str, sample_bytes: int = 1 << 20) -> None:
    with path.open("rb") as handle:
        data = handle.read(sample_bytes)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start > len(data) - 4:
            return  # a multi-byte character cut by the sample boundary
        line = data[: error.start].count(b"\n") + 1
        raise IngestError(
            f"{label}: line {line} is not UTF-8 (byte {data[error.start]:#x})"
        ) from error


_DUCK_LINE = re.compile(r"CSV Error on Line: (\d+)")
_DUCK_CONVERT = re.compile(
    r'converting column "(\w+)"\. Could not convert string "(.*?)" to '
    r"'(\w+)'"
)


def csv_error(label: str, error: duckdb.Error) -> IngestError:
    """A one-line message from DuckDB's multi-line CSV error: file, line, column, reason."""
    text = str(error)
    line = _DUCK_LINE.search(text)
    where = f"{label} line {line.group(1)}" if line else label
    convert = _DUCK_CONVERT.search(text)
    if convert:
        column, value, kind = convert.groups()
        what = "a whole number" if kind in ("INTEGER", "BIGINT") else "a number"
        return IngestError(f"{where}, column {column}: {excerpt(value)!r} is not {what}")
    lines = [s.strip() for s in text.splitlines() if s.strip()]
    reason = next(
        (s for s in lines[1:] if not s.startswith(("Original Line", "Possible"))),
        lines[0] if lines else text,
    )
    if "unicode" in reason.lower() or "utf-8" in reason.lower():
        reason = "is not UTF-8; use the original BACI download"
    elif "maximum line size" in reason.lower():
        reason = f"a line is longer than {human_bytes(MAX_LINE_BYTES)}; not a BACI file"
    return IngestError(f"{where}: {excerpt(reason, 200)}")


@dataclass
class YearResult:
    years: list[int]
    rows_in: int
    rows_kept: int


def load_flow_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    label: str,
    *,
    edition: str,
    release: str,
    name_year: int | None,
    all_products: bool,
    out_dir: Path,
    summary: Summary,
) -> YearResult:
    """Check one yearly CSV and write its kept rows as out_dir/year=YYYY/data.parquet.

    Expects tables `cmap(code, iso3, name)` and `keep(hs6)` in the connection.
    """
    check_header(path, label)
    check_utf8_start(path, label)
    columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in CSV_TYPES.items()) + "}"
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM read_csv($path, header = true, "  # noqa: S608 - fixed column types
            f"auto_detect = false, delim = ',', quote = '\"', columns = {columns}, "
            f"max_line_size = {MAX_LINE_BYTES})",
            {"path": str(path)},
        )
    except duckdb.Error as error:
        raise csv_error(label, error) from error
    rows = _scalar(con, "SELECT count(*) FROM raw")
    if rows == 0:
        raise IngestError(f"{label}: the file has a header but no data rows")

    # Value checks, in the order a reader fixes them; each names its first line.
    problems = [
        (
            "k",
            "NOT regexp_full_match(k, '[0-9]{6}') OR k IS NULL",
            "is not a six-digit HS code (a code that lost its leading zero has 5 digits: "
            "re-export the file keeping k as text)",
        ),
        ("t", "t IS NULL", "is empty"),
        ("i", "i IS NULL", "is empty"),
        ("j", "j IS NULL", "is empty"),
        ("v", "v IS NULL", "is empty"),
        ("v", "v < 0", "is negative"),
        ("q", f"NOT {Q_BLANK} AND {Q_VALUE} IS NULL", "is not a number"),
        ("q", f"NOT {Q_BLANK} AND {Q_VALUE} < 0", "is negative"),
    ]
    if name_year is not None:
        problems.append(
            ("t", f"t <> {int(name_year)}", f"differs from the year {name_year} in the file name")
        )
    counts_sql = ", ".join(f"count(*) FILTER (WHERE {cond})" for _, cond, _ in problems)
    # One scan: the problems, and how many (t, i, j, k) keys repeat (k is six digits here
    # unless the k check fails, which is reported first).
    key = "(i::BIGINT * 1000 + j) * 1000000 + TRY_CAST(k AS INTEGER)"
    counts = con.execute(
        f"SELECT {counts_sql}, count(*) - count(DISTINCT ({key}) * 10000 + t) FROM raw"  # noqa: S608
    ).fetchone()
    assert counts is not None
    repeated = counts[-1]
    for (column, cond, message), count in zip(problems, counts[:-1], strict=True):
        if count:
            first = con.execute(
                f"SELECT rowid + 2, CAST({column} AS VARCHAR) FROM raw WHERE {cond} "  # noqa: S608
                "ORDER BY rowid LIMIT 1"
            ).fetchone()
            assert first is not None
            raise IngestError(
                f"{label} line {first[0]}, column {column}: value {excerpt(first[1])!r} "
                f"{message} ({count:,} row(s) in all)"
            )
    duplicate = (
        repeated
        and con.execute(
            "SELECT t, i, j, k, min(rowid) + 2, max(rowid) + 2, count(*) FROM raw "
            "GROUP BY t, i, j, k HAVING count(*) > 1 ORDER BY 5 LIMIT 1"
        ).fetchone()
    )
    if duplicate:
        t, i, j, k, first_line, last_line, count = duplicate
        raise IngestError(
            f"{label} lines {first_line} and {last_line}: t={t}, i={i}, j={j}, "
            f"k={k} appears {count} times; a BACI file has one row per flow"
        )

    scope = "" if all_products else "WHERE k IN (SELECT hs6 FROM keep)"
    con.execute(f"CREATE OR REPLACE TEMP VIEW scoped AS SELECT * FROM raw {scope}")  # noqa: S608
    in_scope = _scalar(con, "SELECT count(*) FROM scoped")
    if not all_products and rows - in_scope:
        summary.notes.append(
            f"{label}: {rows - in_scope:,} rows outside the mineral baskets "
            "skipped (use --all-products to keep them)"
        )
    unknown = con.execute(
        "SELECT code, any_value(name), count(*) FROM ("
        "  SELECT CASE WHEN e.iso3 IS NULL THEN s.i ELSE s.j END AS code,"
        "         CASE WHEN e.iso3 IS NULL THEN e.name ELSE m.name END AS name"
        "  FROM scoped s LEFT JOIN cmap e ON s.i = e.code LEFT JOIN cmap m ON s.j = m.code"
        "  WHERE e.iso3 IS NULL OR m.iso3 IS NULL"
        ") GROUP BY code ORDER BY 3 DESC, 1"
    ).fetchall()
    for code, name, count in unknown:
        what = f"{name}, no ISO3 code" if name else "not in the country dictionary"
        summary.reject(f"country code {code} ({what})", int(count))

    years = [int(r[0]) for r in con.execute("SELECT DISTINCT t FROM scoped ORDER BY 1").fetchall()]
    kept = 0
    for year in years:
        target = out_dir / f"year={year}"
        if target.exists():
            raise IngestError(
                f"{label}: year {year} was already read from another file of "
                "this input; give each year once"
            )
        # Sorting on integer ranks (iso3 order, code order) is faster than on strings and
        # gives the same order; a sorted table then COPY lets DuckDB write in parallel.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE sorted AS "  # noqa: S608 - fixed expressions
            "SELECT s.k AS hs6, e.iso3 AS exporter, m.iso3 AS importer, "
            "round(s.v * 1000, 3) AS value_usd, "
            f"round({Q_VALUE} * 1000, 3) AS quantity_kg "
            "FROM scoped s JOIN cmap e ON s.i = e.code JOIN cmap m ON s.j = m.code "
            f"WHERE e.iso3 IS NOT NULL AND m.iso3 IS NOT NULL AND s.t = {year} "
            f"ORDER BY {sort_key()}, value_usd, quantity_kg"
        )
        count = _scalar(con, "SELECT count(*) FROM sorted")
        if count:
            target.mkdir(parents=True)
            destination = literal(str(target / "data.parquet"))
            con.execute(
                f"COPY (SELECT {literal(edition)} AS hs_edition, hs6, exporter, importer, "  # noqa: S608
                f"value_usd, quantity_kg, {literal(SOURCE)} AS source, "
                f"'reconciled' AS side, {literal(release)} AS release FROM sorted) "
                f"TO {destination} (FORMAT parquet, COMPRESSION zstd, "
                f"ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
            )
            kept += count
        con.execute("DROP TABLE sorted")
    con.execute("DROP VIEW scoped")
    con.execute("DROP TABLE raw")
    return YearResult(years=years, rows_in=rows, rows_kept=kept)


# Integer stand-ins that sort like the string columns: the iso3 rank (dense, in iso3
# order, < 1000) and the six-digit code as a number.
_RANKS = {
    "exporter": ("e.rank", 1_000),
    "importer": ("m.rank", 1_000),
    "hs6": ("CAST(s.k AS INTEGER)", 1_000_000),
}


def file_sort_order() -> tuple[str, ...]:
    """The column order of the trade_flows files, as `warehouse.write_table_files` uses."""
    return TABLES[TABLE].sort_by


def sort_key() -> str:
    """One BIGINT expression that orders rows as file_sort_order() does."""
    expression = ""
    for column in file_sort_order():
        part, width = _RANKS[column]
        expression = f"({expression}) * {width} + {part}" if expression else f"{part}::BIGINT"
    return expression


def _scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    row = con.execute(query).fetchone()
    assert row is not None
    return int(row[0])


# --- the load -----------------------------------------------------------------------


def _connect(scratch: Path) -> duckdb.DuckDBPyConnection:
    settings = load_settings()
    con = duckdb.connect()
    con.execute(f"SET threads = {max(1, settings.threads)}")
    con.execute(f"SET memory_limit = {literal(os.environ.get('CRITMIN_INGEST_MEMORY', '3GB'))}")
    con.execute(f"SET temp_directory = {literal(str(scratch / 'duckdb_tmp'))}")
    con.execute("SET preserve_insertion_order = true")
    return con


def _year_of(file: str) -> int | None:
    for segment in Path(file).parts:
        if segment.startswith("year="):
            return int(segment.split("=", 1)[1])
    return None


def load_baci(
    path: Path,
    warehouse: Warehouse,
    *,
    all_products: bool = False,
    replace: bool = False,
    release: str | None = None,
    hs_edition: str | None = None,
) -> Summary:
    """Load a BACI release (zip, folder or yearly CSV) into the warehouse, atomically."""
    found = collect_inputs(path, release, hs_edition)
    summary = Summary(source=f"BACI {found.release} ({found.edition})")
    if found.skipped:
        summary.notes.append(
            f"{len(found.skipped)} zip member(s) that are no part of a release skipped "
            f"(macOS or Windows additions: {listed(found.skipped, 3)})"
        )
    existing = warehouse.parts(TABLE).get(PART) if warehouse.exists() else None
    if existing and not replace:
        held = part_editions(warehouse, PART)
        if existing.release != found.release or held not in ([], [found.edition]):
            raise IngestError(
                f"{path}: the warehouse holds BACI {existing.release} "
                f"({', '.join(held) or '?'}), this is {found.release} ({found.edition}); "
                "releases are never mixed — add --replace to replace it"
            )
    keep = reference.load_mineral_baskets().filter(pl.col("hs_edition") == found.edition)
    with (
        tempfile.TemporaryDirectory(prefix="critmin-baci-") as tmp,
        warehouse.transaction(derived=derive.refresh) as tx,
    ):
        scratch = Path(tmp)
        ensure_reference_tables(tx, warehouse)
        con = _connect(scratch)
        if found.countries is not None:
            with found.countries.on_disk(scratch) as dictionary:
                cmap = country_map(dictionary, found.countries.label, summary)
        else:
            cmap = country_map(None, "", summary)
        cmap = cmap.with_columns(pl.col("iso3").rank("dense").cast(pl.Int32).alias("rank"))
        con.register("cmap_frame", cmap)
        con.execute("CREATE TEMP TABLE cmap AS SELECT * FROM cmap_frame")
        con.register("keep_frame", keep.select("hs6").unique())
        con.execute("CREATE TEMP TABLE keep AS SELECT * FROM keep_frame")

        out_dir = tx.new_part_dir(TABLE, PART)
        new_years: set[int] = set()
        for member in progress(found.flows, desc="BACI", unit="file"):
            with member.on_disk(scratch) as csv_path:
                result = load_flow_file(
                    con,
                    csv_path,
                    member.label,
                    edition=found.edition,
                    release=found.release,
                    name_year=found.name_years.get(member.label),
                    all_products=all_products,
                    out_dir=out_dir,
                    summary=summary,
                )
            summary.rows_in += result.rows_in
            summary.rows_kept += result.rows_kept
            new_years.update(result.years)
        con.close()
        if summary.rows_kept == 0:
            scope = "" if all_products else " of the mineral baskets (use --all-products)"
            raise IngestError(f"{path}: no rows{scope} to load; the warehouse is unchanged")
        if existing and not replace:
            kept_years = []
            for rel in existing.files:
                year = _year_of(rel)
                if year is None or year in new_years:
                    continue
                target = out_dir / f"year={year}" / Path(rel).name
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(warehouse.root / rel, target)  # Parquet files are never modified
                except OSError:
                    shutil.copy2(warehouse.root / rel, target)
                kept_years.append(year)
            if kept_years:
                summary.notes.append(
                    f"kept the years already loaded from {existing.release}: {_span(kept_years)}"
                )
        elif existing:
            summary.notes.append(f"replaced BACI {existing.release} (--replace)")
        check_parquet_files(sorted(out_dir.rglob("*.parquet")), f"{TABLE}/{PART}")
        part = tx.set_part(TABLE, PART, out_dir, source=SOURCE, release=found.release)
        summary.notes.append(f"trade_flows/{PART}: {part.rows:,} rows, years {_span(part.years)}")

        if found.products is not None:
            with found.products.on_disk(scratch) as dictionary:
                products = products_frame(dictionary, found.products.label, found.edition, summary)
            tx.write_frame("products", PART, products, source=SOURCE, release=found.release)
            summary.notes.append(
                f"products/{PART}: {products.height:,} {found.edition} descriptions"
            )
        elif replace and warehouse.exists() and PART in warehouse.parts("products"):
            tx.drop_part("products", PART)  # descriptions of the replaced release
            summary.notes.append(f"products/{PART}: removed with the replaced release")
        if note := drop_demo_flows(tx, warehouse):
            summary.notes.append(note)
        for file in found.files:
            tx.add_provenance(
                Provenance.for_file(
                    file,
                    source=SOURCE,
                    release=f"{found.release} ({found.edition})",
                    version=found.release,  # a BACI release is its version (V202401b corrected V202401)
                    table=TABLE,
                    **sources.source(SOURCE_FILE).record_fields(),
                )
            )
    summary.notes += [f"derived {line}" for line in tx.derived]
    return summary


def _span(years: list[int]) -> str:
    return f"{min(years)}-{max(years)}" if years else "none"
