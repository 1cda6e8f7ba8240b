"""The real data committed with critmin (`data/embedded/`) and their loading into a warehouse.

The embedded default shows real USGS figures wherever the licence allows: production and
reserves from the USGS Mineral Commodity Summaries 2026 data release (CC0) and the sites of
the USGS deposit compilations (public domain). `scripts/build_embedded_data.py` makes these
files with critmin's own ingests from the public files; this module owns their layout and
writes them into a warehouse transaction as the parts the real ingests write
(`production/usgs_mcs`, `deposits/minmod`), so loading the real files later replaces them
cleanly.

Layout of `data/embedded/`:

    production.parquet   the production part, columns and types of schema.TABLES
    deposits.parquet     the deposits part
    provenance.json      one record per source file: the fields of warehouse.Provenance,
                         how the file was converted, and the embedded file's size,
                         rows and SHA-256 (checked before every load)

A missing, edited or damaged file stops the load with an `EmbeddedDataError` that names
the file and the fix.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from critmin.domain import DEPOSITS_TABLE, PRODUCTION_TABLE, USGS_MCS_SOURCE
from critmin.schema import SchemaError, validate_frame
from critmin.settings import PROJECT_ROOT
from critmin.warehouse import Provenance, Transaction, WarehouseError, file_sha256

log = logging.getLogger(__name__)

EMBEDDED_DIR = PROJECT_ROOT / "data" / "embedded"
PROVENANCE_FILE = "provenance.json"
BUILD_SCRIPT = "scripts/build_embedded_data.py"
FIX = (
    f"rebuild the files with `.venv/bin/python {BUILD_SCRIPT}` (needs the public files of "
    "../shared/data) or restore them with `git checkout data/embedded`"
)
PROVENANCE_FIELDS = tuple(f.name for f in dataclasses.fields(Provenance))
# What a record may leave out: when it was loaded, and a release's version and corrections.
OPTIONAL_FIELDS = ("loaded_at", "version", "version_date", "corrections_url")
REQUIRED_FIELDS = tuple(f for f in PROVENANCE_FIELDS if f not in OPTIONAL_FIELDS)


class EmbeddedDataError(WarehouseError):
    """An embedded file is missing, damaged or does not match its provenance record."""


@dataclass(frozen=True)
class EmbeddedPart:
    """One embedded file and the warehouse part it becomes."""

    table: str
    part: str
    source: str
    file: str


# The part and source names of the real ingests, so a later real load replaces these.
PARTS = (
    EmbeddedPart(PRODUCTION_TABLE, USGS_MCS_SOURCE, USGS_MCS_SOURCE, "production.parquet"),
    EmbeddedPart(DEPOSITS_TABLE, "minmod", "minmod", "deposits.parquet"),
)


@dataclass(frozen=True)
class EmbeddedFrame:
    """An embedded part read back and checked: its frame and its provenance."""

    spec: EmbeddedPart
    frame: pl.DataFrame
    provenance: Provenance
    record: dict[str, Any]


def _error(path: Path, problem: str) -> EmbeddedDataError:
    return EmbeddedDataError(f"Embedded data file {path} {problem}; {FIX}.")


def read_records(directory: Path = EMBEDDED_DIR) -> list[dict[str, Any]]:
    """The records of provenance.json, checked for the fields every record needs."""
    path = directory / PROVENANCE_FILE
    if not path.is_file():
        raise _error(path, "is missing")
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _error(path, f"is not readable JSON ({error})") from error
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise _error(path, "is not a list of provenance records")
    for record in records:
        missing = [key for key in (*REQUIRED_FIELDS, "embedded") if key not in record]
        if missing:
            raise _error(path, f"has a record without {', '.join(missing)}")
    return records


def record_for(records: list[dict[str, Any]], spec: EmbeddedPart, path: Path) -> dict[str, Any]:
    for record in records:
        embedded = record.get("embedded") or {}
        if embedded.get("file") == spec.file:
            return record
    raise _error(path.parent / PROVENANCE_FILE, f"has no record for {spec.file}")


def read_part(spec: EmbeddedPart, record: dict[str, Any], directory: Path) -> pl.DataFrame:
    """One embedded Parquet file, after checking its checksum, rows and schema."""
    path = directory / spec.file
    if not path.is_file():
        raise _error(path, "is missing")
    expected = record["embedded"].get("sha256", "")
    if file_sha256(path) != expected:
        raise _error(
            path, f"does not match the SHA-256 recorded in {PROVENANCE_FILE} (damaged or edited)"
        )
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise _error(path, f"is not readable Parquet ({error})") from error
    if frame.height != record["embedded"].get("rows"):
        raise _error(
            path,
            f"holds {frame.height:,} rows, {PROVENANCE_FILE} says {record['embedded'].get('rows')}",
        )
    try:
        return validate_frame(spec.table, frame, where=str(path))
    except SchemaError as error:
        raise EmbeddedDataError(f"{error}; {FIX}.") from error


def provenance_of(record: dict[str, Any]) -> Provenance:
    return Provenance(**{key: record.get(key, "") for key in PROVENANCE_FIELDS})


def load_embedded(directory: Path = EMBEDDED_DIR) -> list[EmbeddedFrame]:
    """Every embedded part, read and checked (nothing is written)."""
    records = read_records(directory)
    loaded = []
    for spec in PARTS:
        record = record_for(records, spec, directory / spec.file)
        frame = read_part(spec, record, directory)
        loaded.append(EmbeddedFrame(spec, frame, provenance_of(record), record))
    return loaded


def write_embedded(tx: Transaction, directory: Path = EMBEDDED_DIR) -> list[str]:
    """Write the embedded USGS production and deposits parts, with their provenance
    records, into a warehouse transaction; one summary line per part."""
    lines = []
    for item in load_embedded(directory):
        spec, provenance = item.spec, item.provenance
        tx.write_frame(
            spec.table, spec.part, item.frame, source=spec.source, release=provenance.release
        )
        tx.add_provenance(provenance)
        lines.append(
            f"{spec.table}/{spec.part}: {item.frame.height:,} rows of {provenance.file_name} "
            f"({provenance.release}; {provenance.licence})"
        )
        log.info("embedded %s/%s written from %s", spec.table, spec.part, directory / spec.file)
    return lines
