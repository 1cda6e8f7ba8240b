"""What every ingest shares: the run summary, progress bars, country-code mapping,
clear input errors, and making sure a fresh warehouse gets its reference tables."""

from __future__ import annotations

import functools
import re
import sys
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
        return "\n".join(lines)

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


def require_file(path: Path, what: str) -> Path:
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
            f"Found: {', '.join(sorted(present)[:12])}"
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
