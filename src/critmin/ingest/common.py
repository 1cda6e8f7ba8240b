"""What every ingest shares: the run summary, progress bars, country-code mapping,
clear input errors, the bounds every file from outside is held to, and making sure a
fresh warehouse gets its reference tables.

Files from outside are untrusted: before anything is read into memory their size, the
length of their lines, the number of their columns and, inside a zip, each member's
declared size and compression ratio are checked (`check_table_file`,
`release_members`); symbolic links are refused; error messages quote at most a short,
printable excerpt of what a file holds (`excerpt`, `listed`).
"""

from __future__ import annotations

import functools
import re
import shutil
import stat
import sys
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from tqdm import tqdm

from critmin import reference, reference_tables
from critmin.warehouse import Transaction, Warehouse

T = TypeVar("T")


class IngestError(ValueError):
    """Bad input: the message names the file, and the line or column where it can."""


@dataclass
class Summary:
    """Rows in, rows kept, rows rejected and why; printed at the end of every ingest."""

    source: str
    rows_in: int = 0
    rows_kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def reject(self, reason: str, count: int = 1) -> None:
        if count:
            self.rejected[reason] += count

    def render(self) -> str:
        lines = [
            f"{self.source}: {self.rows_in:,} rows read, {self.rows_kept:,} kept, "
            f"{sum(self.rejected.values()):,} rejected"
        ]
        for reason, count in self.rejected.most_common():
            lines.append(f"  rejected {count:,}: {reason}")
        lines += [f"  note: {note}" for note in self.notes]
        # Notes and reasons quote the input; no line of a summary runs on for pages.
        return "\n".join(excerpt(line, 400) for line in lines)

    def print(self) -> None:
        print(self.render())


def progress(
    items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it"
) -> Iterator[T]:
    """A progress bar on stderr (hidden when stderr is not a terminal and not forced)."""
    yield from tqdm(
        items, total=total, desc=desc, unit=unit, file=sys.stderr, disable=None, leave=False
    )


# ISO numeric codes that CEPII BACI and UN Comtrade use in place of the ISO 3166 ones.
NUMERIC_ALIASES: dict[int, str] = {
    251: "FRA",  # France incl. Monaco
    579: "NOR",  # Norway incl. Svalbard
    699: "IND",  # India incl. Sikkim (historic)
    757: "CHE",  # Switzerland incl. Liechtenstein
    842: "USA",  # USA incl. Puerto Rico and US Virgin Islands
    490: "TWN",  # "Other Asia, not elsewhere specified" is Taiwan in BACI and Comtrade
    58: "BEL",  # Belgium-Luxembourg (before 1999)
    711: "ZAF",  # Southern African Customs Union (before 2000)
}


def iso3_by_numeric() -> dict[int, str]:
    """ISO numeric (and the BACI/Comtrade aliases) -> ISO3."""
    mapping = dict(reference.countries_base().select("iso_numeric", "iso3").iter_rows())
    mapping.update(NUMERIC_ALIASES)
    return mapping


def numeric_to_iso3(codes: pl.Expr) -> pl.Expr:
    """A polars expression mapping integer country codes to ISO3 (null if unknown)."""
    mapping = iso3_by_numeric()
    return codes.replace_strict(
        list(mapping), list(mapping.values()), default=None, return_dtype=pl.String
    )


def ensure_reference_tables(tx: Transaction, warehouse: Warehouse) -> None:
    """Give a warehouse the reference tables the app needs (countries, baskets, products,
    events, national lines, curated sites) where they are missing or came from other
    versions of the bundled reference files (an upgrade of critmin); current ones are
    kept, as are those an earlier step of the same batch (`critmin fetch all`) wrote."""
    reference_tables.ensure_current(tx)


# --- bounds on files from outside -------------------------------------------------------

MAX_HEADER_BYTES = 64 << 10  # a CSV's first line
MAX_LINE_BYTES = 1 << 20  # any physical line of a CSV read whole into memory
MAX_COLUMNS = 1_000  # the sources' files have a few dozen columns at most
MAX_TABLE_BYTES = 1 << 30  # a CSV or JSON file read whole into memory
MAX_MEMBER_BYTES = 8 << 30  # one zip member, extracted to scratch (BACI's yearly CSVs < 1 GB)
MAX_RATIO = 100  # uncompressed / compressed size of a large zip member (CSV: 4-15)
RATIO_FROM_BYTES = 64 << 20  # small members may compress further (a file of zeros)
EXCERPT_CHARS = 80
# Members a re-zip adds that are no part of any release: macOS resource forks and
# Finder metadata, Windows thumbnails.
_NOT_OF_ANY_RELEASE = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$)", re.I)


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable quote of untrusted text for a message: control characters
    shown as '?', cut at `limit` characters with '…'."""
    value = str(text)
    cut = value[: limit + 1]
    clean = "".join(ch if ch.isprintable() else "?" for ch in cut)
    return clean[:limit] + "…" if len(value) > limit else clean


def listed(names: Iterable[object], limit: int = 12, each: int = 40) -> str:
    """Some of a file's names (columns, members) for a message, each excerpted, with the
    count when there are more."""
    items = list(names)
    shown = ", ".join(excerpt(n, each) for n in items[:limit])
    return f"{shown}, … ({len(items):,} in all)" if len(items) > limit else shown


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB"):
        if value < 1024:
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GB"


def refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise IngestError(
            f"{path}: a symbolic link; critmin reads only regular files and folders "
            "(give the file or folder itself)"
        )


def regular_files(folder: Path, pattern: str = "*", recursive: bool = False) -> list[Path]:
    """The regular files of a folder (hidden files skipped), sorted; a symbolic link
    among them is refused rather than followed."""
    found = []
    for path in sorted(folder.rglob(pattern) if recursive else folder.glob(pattern)):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        refuse_symlink(path)
        if path.is_file():
            found.append(path)
    return found


def read_first_line(path: Path, what: str, limit: int = MAX_HEADER_BYTES) -> bytes:
    """The file's first line, without reading past `limit` bytes."""
    with path.open("rb") as handle:
        line = handle.readline(limit + 1)
    if len(line) > limit:
        raise IngestError(
            f"{path}: line 1 is longer than {human_bytes(limit)} — not a {what} "
            "(whose header is a short list of column names)"
        )
    return line


def count_columns(header: bytes) -> int:
    return max(header.count(sep) for sep in (b",", b";", b"\t")) + 1


def check_table_file(
    path: Path, what: str, *, max_bytes: int = MAX_TABLE_BYTES, lines: bool = True
) -> None:
    """Before a CSV is read whole into memory: a regular file, not empty, at most
    `max_bytes`, a header of at most MAX_COLUMNS columns and (with `lines`) no line
    longer than MAX_LINE_BYTES. IngestError names the file, the line and the bound."""
    refuse_symlink(path)
    if not path.is_file():
        raise IngestError(f"{path}: no such file ({what} expected)")
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{path}: the file is empty ({what} expected)")
    if size > max_bytes:
        raise IngestError(
            f"{path}: {human_bytes(size)}, more than the {human_bytes(max_bytes)} a {what} "
            "may hold; is this the right file?"
        )
    columns = count_columns(read_first_line(path, what))
    if columns > MAX_COLUMNS:
        raise IngestError(
            f"{path}: line 1 has {columns:,} columns, more than {MAX_COLUMNS:,} — not a {what}"
        )
    if lines:
        number, length = longest_line(path)
        if length > MAX_LINE_BYTES:
            raise IngestError(
                f"{path}: line {number:,} is longer than {human_bytes(MAX_LINE_BYTES)} — "
                f"not a {what}, or a damaged one"
            )


def longest_line(path: Path, block: int = 4 << 20) -> tuple[int, int]:
    """(line number, length in bytes) of the file's longest physical line, read in
    blocks so that memory stays flat."""
    best = (1, 0)
    number, current = 1, 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(block), b""):
            pieces = chunk.split(b"\n")
            for index, piece in enumerate(pieces):
                current += len(piece)
                if current > best[1]:
                    best = (number, current)
                if index < len(pieces) - 1:  # a newline ends this line
                    number, current = number + 1, 0
    return best


def release_members(
    archive: zipfile.ZipFile, label: str, scratch: Path | None = None
) -> tuple[list[zipfile.ZipInfo], list[str]]:
    """The files of a zip that can be part of a release, and the names skipped (macOS
    `__MACOSX/` forks, `._*` and `.DS_Store`, folders). Checked from the zip's directory
    before anything is extracted: a member that is a symbolic link, larger than
    MAX_MEMBER_BYTES, compressed more than MAX_RATIO times (a zip bomb) or, with
    `scratch`, larger than the free space there, stops with a message."""
    members, skipped = [], []
    for info in archive.infolist():
        name = info.filename
        if info.is_dir():
            continue
        if _NOT_OF_ANY_RELEASE.search(name):
            skipped.append(name)
            continue
        shown = excerpt(name, 60)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise IngestError(f"{label}: {shown} is a symbolic link; a release holds files only")
        if info.file_size > MAX_MEMBER_BYTES:
            raise IngestError(
                f"{label}: {shown} expands to {human_bytes(info.file_size)}, more than "
                f"{human_bytes(MAX_MEMBER_BYTES)}; not a release file"
            )
        if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise IngestError(
                f"{label}: {shown} expands {info.file_size // max(info.compress_size, 1):,} "
                f"times ({human_bytes(info.compress_size)} to {human_bytes(info.file_size)}); "
                "a data file compresses far less, so the zip is refused"
            )
        members.append(info)
    if scratch is not None and members:
        largest = max(members, key=lambda i: i.file_size)
        free = shutil.disk_usage(scratch).free
        if largest.file_size > free:
            raise IngestError(
                f"{label}: {excerpt(largest.filename, 60)} needs "
                f"{human_bytes(largest.file_size)} of scratch space in {scratch}, "
                f"which has {human_bytes(free)} free; set TMPDIR to a larger disk"
            )
    return members, skipped


def require_file(path: Path, what: str) -> Path:
    refuse_symlink(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder ({what} expected)")
    if path.is_file() and path.stat().st_size == 0:
        raise IngestError(f"{path}: the file is empty ({what} expected)")
    return path


def check_utf8(path: Path, sample_bytes: int = 1 << 20) -> None:
    """Raise IngestError naming the line if the start of a file is not UTF-8."""
    data = path.open("rb").read(sample_bytes)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start > len(data) - 4:
            return  # a multi-byte character cut by the sample boundary
        line = data[: error.start].count(b"\n") + 1
        raise IngestError(
            f"{path}: line {line} is not UTF-8 (byte {data[error.start]:#x}); "
            "save the file as UTF-8 or use the source's original download"
        ) from error


def require_columns(
    path: Path, columns: Iterable[str], expected: Iterable[str], source: str
) -> None:
    present = set(columns)
    missing = [c for c in expected if c not in present]
    if missing:
        raise IngestError(
            f"{path}: missing column(s) {', '.join(missing)} — is this a {source} file? "
            f"Found: {listed(sorted(present))}"
        )


# --- country names -> ISO3 (USGS MCS, deposit compilations, MRDS) -------------------------

COUNTRY_ALIASES_FILE = reference.REFERENCE_DIR / "country_aliases.csv"


def _name_key(name: str) -> str:
    return " ".join(name.replace("\u2019", "'").split()).casefold()


def load_country_aliases(path: Path | None = None) -> dict[str, str | None]:
    """Spelling -> ISO3 (or None for names that are not one country) from the alias file
    (columns name, iso3, reason; every row needs a reason)."""
    path = path or COUNTRY_ALIASES_FILE
    raw = pl.read_csv(path, infer_schema=False)
    missing = {"name", "iso3", "reason"} - set(raw.columns)
    if missing:
        raise reference.ReferenceError(f"{path.name}: missing columns {sorted(missing)}")
    aliases: dict[str, str | None] = {}
    for line, (name, iso3, reason) in enumerate(
        raw.select("name", "iso3", "reason").iter_rows(), start=2
    ):
        if not name or not reason:
            raise reference.ReferenceError(f"{path.name} line {line}: name and reason are required")
        if iso3 and not re.fullmatch(r"[A-Z]{3}", iso3):
            raise reference.ReferenceError(
                f"{path.name} line {line}: iso3 {iso3!r} is not 3 letters"
            )
        aliases[_name_key(name)] = iso3 or None
    return aliases


@functools.cache
def _country_matchers() -> tuple[dict[str, str | None], dict[str, str], list[tuple[Any, str]]]:
    aliases = load_country_aliases()
    current = set(reference.countries_base()["iso3"].to_list())
    table = pl.read_csv(reference._country_converter_table(), separator="\t", infer_schema=False)
    exact: dict[str, str] = {}
    patterns: list[tuple[Any, str]] = []
    for short, official, regex, iso3 in table.select(
        "name_short", "name_official", "regex", "ISO3"
    ).iter_rows():
        if iso3 not in current:
            continue
        for name in (short, official, iso3):
            if name:
                exact.setdefault(_name_key(name), iso3)
        if regex:
            patterns.append((re.compile(regex, re.IGNORECASE), iso3))
    return aliases, exact, patterns


def country_names_to_iso3(names: Iterable[str | None]) -> dict[str, str | None]:
    """Map each distinct country name to ISO3: first the alias file
    (reference/country_aliases.csv, which also holds aggregates such as "World total" ->
    WLD), then exact short/official names and ISO3 codes of current countries, then
    country_converter's regular expressions when exactly one country matches.
    None means unknown or not a single country: callers report those names."""
    aliases, exact, patterns = _country_matchers()
    result: dict[str, str | None] = {}
    for name in {n for n in names if n is not None}:
        key = _name_key(name)
        if key in aliases:
            result[name] = aliases[key]
        elif key in exact:
            result[name] = exact[key]
        else:
            hits = {iso3 for pattern, iso3 in patterns if pattern.search(name.strip())}
            result[name] = hits.pop() if len(hits) == 1 else None
    return result


def read_text_detect_encoding(path: Path) -> tuple[str, str]:
    """The file's text and the encoding it was read with: UTF-8 (with or without a BOM)
    if it decodes as such, else cp1252 (what USGS and many Windows exports use)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise IngestError(
            f"{path}: line {line} is neither UTF-8 nor cp1252 (byte {data[error.start]:#x})"
        ) from error
