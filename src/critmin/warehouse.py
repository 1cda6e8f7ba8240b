"""The warehouse: Parquet files under one data directory and the manifest that
says which files make up each table.

Layout (see README, "The warehouse"):

    <data dir>/manifest.json
    <data dir>/<table>/<part>/<version>/[year=YYYY/]data.parquet

A table is a set of *parts*, one per source (trade_flows: `baci`, `comtrade`,
`demo`; deposits: `curated`, `minmod`, ...). Writers never touch live files:
a `Transaction` writes new part versions beside the old ones, validates them,
and swaps them in by replacing manifest.json atomically (`os.replace`). If
anything fails or the process dies, the manifest still points at the previous
files, which are left exactly as they were. Old versions are removed only after
the swap.

Several loads that must take effect together (`critmin fetch all`) run inside one
`batch()`: each load's own `transaction()` becomes a *step* of the batch's transaction.
A step that fails is rolled back alone; the steps that succeeded join the batch, which
commits once, with one swap of the manifest (or not at all).

Nothing loaded is ever removed while the manifest cannot say what is live: a
transaction refuses to start when manifest.json is unreadable, truncated or of a
format this version does not know (a newer critmin's), and the clean-up of a killed
writer's leftovers removes only part folders a readable manifest does not name, or,
in a folder with no manifest yet, only the folders the killed writer itself listed
in its journal (`.transaction`) before creating them.

Tables derived from others (`schema.Table.derived_from`) must change in the same
swap as what they come from. The rule that recomputes them lives above this module
(`critmin.derive.refresh`) and is passed in: `warehouse.transaction(derived=...)`.
A transaction that changes a derived table's sources without a rule is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from critmin.schema import DERIVED_TABLES, TABLES, SchemaError, validate_frame

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
JOURNAL = ".transaction"  # the part folders an unfinished transaction created
FORMAT_VERSION = 1
# Parquet layout of the partitioned (trade) tables, chosen with `python -m bench`
# (docs/performance.md): every trade query selects a few HS6 codes (a mineral basket),
# so files are sorted by hs6 first and cut into small row groups whose min/max
# statistics let DuckDB skip all but the selected codes' rows, with or without an
# exporter filter (exporter-first sorting left the world-market queries scanning
# every row). 16,384 rows (8 DuckDB vectors) was the fastest of 8k/16k/123k.
ROW_GROUP_SIZE = 16_384


class WarehouseError(RuntimeError):
    """The warehouse is missing, incomplete or corrupt; the message names the fix."""


@dataclass
class Provenance:
    """Where one loaded file came from."""

    source: str
    release: str
    file_name: str
    size_bytes: int
    sha256: str
    licence: str
    citation: str
    url: str = ""
    table: str = ""
    loaded_at: str = ""
    # Which version of the release the file is (a data release corrected after
    # publication, e.g. USGS MCS "1.3, May 2026"), when it was published, and the page
    # where the publisher lists its corrections; empty where the source has none.
    version: str = ""
    version_date: str = ""
    corrections_url: str = ""

    @classmethod
    def for_file(cls, path: Path, **fields: Any) -> Provenance:
        return cls(
            file_name=path.name,
            size_bytes=path.stat().st_size if path.is_file() else _dir_size(path),
            sha256=file_sha256(path) if path.is_file() else tree_sha256(path),
            loaded_at=_now(),
            **fields,
        )

    @classmethod
    def without_file(
        cls,
        *,
        source: str,
        release: str,
        table: str,
        licence: str,
        citation: str,
        file_name: str = "(generated)",
    ) -> Provenance:
        """A record for data that did not come from a downloaded file (generated,
        bundled with a package, or quoted by hand)."""
        return cls(
            source=source,
            release=release,
            file_name=file_name,
            size_bytes=0,
            sha256="",
            licence=licence,
            citation=citation,
            table=table,
        )


@dataclass
class Part:
    """One source's contribution to a table."""

    path: str  # relative to the data directory
    source: str
    release: str
    rows: int
    built_at: str
    checksum: str
    files: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    # For a derived table's part: a digest of the parts it was computed from
    # (critmin.derive); empty for data loaded from a source.
    inputs: str = ""


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def _dir_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


class Warehouse:
    """A data directory holding the app's tables."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self._batch: Transaction | None = None

    # --- reading -------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self) -> dict[str, Any]:
        """The parsed manifest; WarehouseError with the fix if absent or unreadable."""
        if not self.root.exists():
            raise WarehouseError(
                f"No warehouse at {self.root}. Build the demo with `critmin demo --data-dir "
                f"{self.root}` or load real data with `critmin ingest ...`."
            )
        if not self.exists():
            raise WarehouseError(
                f"{self.root} has no {MANIFEST}: it is not a critmin warehouse (or it is empty). "
                f"Run `critmin demo --data-dir {self.root}` or a `critmin ingest` command."
            )
        try:
            manifest = json.loads(self.manifest_path.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as error:  # JSON and UTF-8 errors are ValueErrors
            raise WarehouseError(
                f"{self.manifest_path} is corrupt ({_short(error)}); nothing was changed. "
                "Restore it from a backup, or move the folder aside and rebuild with "
                "`critmin demo` or the ingest commands."
            ) from error
        if not isinstance(manifest, dict):
            raise WarehouseError(f"{self.manifest_path} is corrupt (not a JSON object).")
        version = manifest.get("format")
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise WarehouseError(
                f"{self.manifest_path} was written by a newer critmin (format {version}; "
                f"this one reads format {FORMAT_VERSION}): upgrade critmin. Nothing was changed."
            )
        if version != FORMAT_VERSION or not isinstance(manifest.get("tables"), dict):
            raise WarehouseError(
                f"{self.manifest_path} has an unknown format; nothing was changed. Move the "
                "folder aside and rebuild the warehouse."
            )
        return manifest

    def live_paths(self) -> set[str]:
        """The part folders the manifest names (relative to the data directory);
        WarehouseError when the manifest cannot be read or is malformed."""
        live = set()
        try:
            for entry in self.manifest()["tables"].values():
                for part in entry.get("parts", {}).values():
                    live.add(str(part["path"]))
        except (AttributeError, KeyError, TypeError) as error:
            raise WarehouseError(
                f"{self.manifest_path} is malformed ({_short(error)}); nothing was changed."
            ) from error
        return live

    def parts(self, table: str) -> dict[str, Part]:
        entries = self.manifest()["tables"].get(table, {}).get("parts", {})
        return {name: Part(**entry) for name, entry in entries.items()}

    def files(self, table: str) -> list[Path]:
        return [self.root / f for part in self.parts(table).values() for f in part.files]

    def check(self, verify_checksums: bool = False) -> list[str]:
        """Problems found in the warehouse, each naming a file and the fix; [] if sound.

        Reads Parquet footers (cheap) and, with verify_checksums, every byte.
        """
        problems = []
        manifest = self.manifest()
        for table, entry in manifest["tables"].items():
            if table not in TABLES:
                continue
            for name, raw in entry.get("parts", {}).items():
                part = Part(**raw)
                for rel in part.files:
                    path = self.root / rel
                    if not path.is_file():
                        problems.append(f"{table}/{name}: file {path} is missing")
                        continue
                    try:
                        schema = pq.read_schema(path)
                    except Exception as error:  # pyarrow raises several types here
                        problems.append(f"{table}/{name}: {path} is not readable Parquet ({error})")
                        continue
                    expected = set(TABLES[table].file_columns)
                    if not expected <= set(schema.names):
                        problems.append(
                            f"{table}/{name}: {path} lacks columns "
                            f"{sorted(expected - set(schema.names))}"
                        )
                if verify_checksums and not problems:
                    if tree_sha256(self.root / part.path) != part.checksum:
                        problems.append(f"{table}/{name}: checksum mismatch under {part.path}")
        return problems

    def table_summary(self) -> list[dict[str, Any]]:
        """Per table and part: source, release, rows, years, built_at, checksum."""
        rows = []
        for table, entry in sorted(self.manifest()["tables"].items()):
            for name, raw in sorted(entry.get("parts", {}).items()):
                part = Part(**raw)
                rows.append(
                    {
                        "table": table,
                        "part": name,
                        "source": part.source,
                        "release": part.release,
                        "rows": part.rows,
                        "years": _year_span(part.years),
                        "built_at": part.built_at,
                        "checksum": part.checksum[:12],
                    }
                )
        return rows

    def provenance(self) -> list[Provenance]:
        return [Provenance(**p) for p in self.manifest().get("provenance", [])]

    # --- writing -------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, *, derived: DerivedRule | None = None) -> Iterator[Transaction]:
        """Stage new parts and swap them in atomically on success. `derived` recomputes,
        within the transaction, the derived tables its changes make out of date (pass
        `critmin.derive.refresh`); it is required when the transaction changes their
        sources. Inside a `batch()` it is a step of the batch's transaction instead (the
        batch's rule recomputes the derived tables once, at its commit). Refused
        (WarehouseError, nothing touched) when the manifest cannot be read: what is live
        would be unknown."""
        if self._batch is not None:
            with self._batch.step() as step:
                yield step
            return
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.root / ".lock"
        with lock_path.open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise WarehouseError(
                    f"Another critmin command is writing to {self.root}; wait for it to finish."
                ) from error
            try:
                self._remove_orphans()
                tx = Transaction(self, derived)
                try:
                    yield tx
                    tx._commit()
                except BaseException:
                    tx._rollback()
                    raise
                finally:
                    (self.root / JOURNAL).unlink(missing_ok=True)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def batch(self, *, derived: DerivedRule) -> Iterator[Transaction]:
        """One transaction that several loads join: every `transaction()` opened on this
        Warehouse object until the batch ends is a step of it. A step that raises is
        rolled back alone (its error still reaches its caller); the batch commits the
        steps that ended well, together, when it ends without an error."""
        with self.transaction(derived=derived) as tx:
            self._batch = tx
            try:
                yield tx
            finally:
                self._batch = None

    def _remove_orphans(self) -> None:
        """Delete part versions no manifest points at (left by a killed writer).

        Only what is known to be dead goes: with a manifest, the folders it does not
        name (an unreadable manifest raises before anything is removed); without one,
        only the folders a killed transaction listed in its journal. Any other part
        folder in a warehouse without a manifest stops the transaction."""
        journal = self.root / JOURNAL
        staged = set()
        if journal.is_file():
            staged = {
                line.strip()
                for line in journal.read_text(encoding="utf-8", errors="replace").splitlines()
                if line.strip()
            }
        live = self.live_paths() if self.exists() else None  # raises if unreadable
        versions = [
            version
            for table in TABLES
            if (self.root / table).is_dir()
            for version in (self.root / table).glob("*/v-*")
        ]
        unknown = [
            str(v.relative_to(self.root))
            for v in versions
            if live is None and str(v.relative_to(self.root)) not in staged
        ]
        if unknown:
            raise WarehouseError(
                f"{self.root} holds loaded data ({unknown[0]}, {len(unknown)} folder(s) in all) "
                f"but no {MANIFEST}: restore the manifest from a backup, or move the folder "
                "aside and load again. Nothing was changed."
            )
        for leftover in self.root.glob(f".{MANIFEST}.*.tmp"):
            leftover.unlink(missing_ok=True)  # a manifest never swapped in
        for version in versions:
            rel = str(version.relative_to(self.root))
            if (live is not None and rel not in live) or (live is None and rel in staged):
                shutil.rmtree(version, ignore_errors=True)
        journal.unlink(missing_ok=True)


def _short(error: BaseException, limit: int = 160) -> str:
    """An error's first line, cut to `limit` characters."""
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _year_span(years: list[int]) -> str:
    return f"{min(years)}-{max(years)}" if years else ""


DerivedRule = Callable[["Transaction"], list[str]]


class Transaction:
    """Changes to a warehouse that take effect together, or not at all."""

    def __init__(
        self,
        warehouse: Warehouse,
        derived: DerivedRule | None = None,
        parent: Transaction | None = None,
    ):
        self.warehouse = warehouse
        self._derived_rule = derived
        self._parent = parent  # the transaction a step belongs to
        self.root = warehouse.root
        self._new: dict[tuple[str, str], Part] = {}
        self._drop: set[tuple[str, str]] = set()
        self._provenance: list[Provenance] = []
        self._staged_dirs: list[Path] = []
        # What the commit recomputed in the derived tables, one line per part.
        self.derived: list[str] = []

    def new_part_dir(self, table: str, part: str) -> Path:
        """A fresh, empty directory for a new version of a part."""
        if table not in TABLES:
            raise SchemaError(f"unknown table {table}")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        path = self.root / table / part / f"v-{stamp}-{uuid.uuid4().hex[:8]}"
        # Listed before it exists: a killed writer's folders are known as its own.
        with (self.root / JOURNAL).open("a", encoding="utf-8") as journal:
            journal.write(f"{path.relative_to(self.root)}\n")
            journal.flush()
            os.fsync(journal.fileno())
        path.mkdir(parents=True)
        self._staged_dirs.append(path)
        return path

    def write_frame(
        self, table: str, part: str, df: pl.DataFrame, *, source: str, release: str
    ) -> Part:
        """Validate and write a whole table part from one frame."""
        directory = self.new_part_dir(table, part)
        write_table_files(table, validate_frame(table, df, where=f"{table}/{part}"), directory)
        return self.set_part(table, part, directory, source=source, release=release)

    def set_part(
        self,
        table: str,
        part: str,
        directory: Path,
        *,
        source: str,
        release: str,
        inputs: str = "",
    ) -> Part:
        """Register files written into `directory` as the new version of a part."""
        spec = TABLES[table]
        files = sorted(p for p in directory.rglob("*.parquet"))
        rows = 0
        years: set[int] = set()
        for path in files:
            metadata = pq.read_metadata(path)
            names = set(pq.read_schema(path).names)
            if not set(spec.file_columns) <= names:
                raise SchemaError(
                    f"{path}: missing columns {sorted(set(spec.file_columns) - names)}"
                )
            rows += metadata.num_rows
            if spec.partition_by:
                segment = path.parent.name
                if not segment.startswith(f"{spec.partition_by}="):
                    raise SchemaError(f"{path}: expected a {spec.partition_by}=... directory")
                years.add(int(segment.split("=", 1)[1]))
        if "year" in spec.columns and not spec.partition_by and files:
            years = set(
                pl.scan_parquet(files).select(pl.col("year").unique()).collect()["year"].to_list()
            )
        entry = Part(
            path=str(directory.relative_to(self.root)),
            source=source,
            release=release,
            rows=rows,
            built_at=_now(),
            checksum=tree_sha256(directory),
            files=[str(p.relative_to(self.root)) for p in files],
            years=sorted(y for y in years if y is not None),
            inputs=inputs,
        )
        self._new[(table, part)] = entry
        return entry

    def drop_part(self, table: str, part: str) -> None:
        self._drop.add((table, part))

    def final_parts(self, table: str) -> dict[str, Part]:
        """A table's parts as they will be once this transaction commits (for a step:
        once it joins its batch and the batch commits)."""
        if self._parent is not None:
            parts = self._parent.final_parts(table)
        else:
            parts = self.warehouse.parts(table) if self.warehouse.exists() else {}
        for dropped_table, name in self._drop:
            if dropped_table == table:
                parts.pop(name, None)
        for (new_table, name), entry in self._new.items():
            if new_table == table:
                parts[name] = entry
        return parts

    def add_provenance(self, record: Provenance) -> None:
        self._provenance.append(record)

    def changed_tables(self) -> set[str]:
        """The tables this transaction writes or drops parts of."""
        return {table for table, _ in self._new} | {table for table, _ in self._drop}

    def changed_parts(self) -> list[str]:
        """The parts this transaction writes or drops, as "table/part"."""
        return sorted(f"{table}/{part}" for table, part in set(self._new) | self._drop)

    @contextlib.contextmanager
    def step(self) -> Iterator[Transaction]:
        """A step of this transaction: its changes join this one when it ends without an
        error; a step that raises is rolled back alone and the error goes on."""
        child = Transaction(self.warehouse, parent=self)
        try:
            yield child
        except BaseException:
            child._rollback()
            raise
        self._absorb(child)

    def _absorb(self, step: Transaction) -> None:
        for key in step._drop:
            self._forget_new(key)
            self._drop.add(key)
        for key, entry in step._new.items():
            self._forget_new(key, keep=entry.path)
            self._new[key] = entry
        self._provenance += step._provenance
        self._staged_dirs += step._staged_dirs

    def _forget_new(self, key: tuple[str, str], keep: str = "") -> None:
        """A part an earlier step staged and a later one replaces or drops: its files go."""
        old = self._new.pop(key, None)
        if old is not None and old.path != keep:
            shutil.rmtree(self.root / old.path, ignore_errors=True)

    def _commit(self) -> None:
        # Derived tables follow what they derive from in the same swap.
        if self._derived_rule is not None:
            self.derived = self._derived_rule(self)
        else:
            sources = {s for t in DERIVED_TABLES for s in TABLES[t].derived_from}
            if touched := sorted(self.changed_tables() & sources):
                raise WarehouseError(
                    f"this change to {', '.join(touched)} needs its derived tables "
                    "recomputed in the same transaction: open it with "
                    "transaction(derived=critmin.derive.refresh)"
                )
        manifest: dict[str, Any] = (
            self.warehouse.manifest()
            if self.warehouse.exists()
            else {"format": FORMAT_VERSION, "tables": {}, "provenance": []}
        )
        replaced = []
        for table, part in self._drop:
            old = manifest["tables"].get(table, {}).get("parts", {}).pop(part, None)
            if old:
                replaced.append(old["path"])
        for (table, part), entry in self._new.items():
            parts = manifest["tables"].setdefault(table, {}).setdefault("parts", {})
            if part in parts:
                replaced.append(parts[part]["path"])
            parts[part] = asdict(entry)
        # A re-loaded file replaces its earlier provenance record instead of piling up.
        new_keys = {(p.source, p.file_name, p.table) for p in self._provenance}
        manifest["provenance"] = [
            p
            for p in manifest.get("provenance", [])
            if (p["source"], p["file_name"], p.get("table", "")) not in new_keys
        ] + [asdict(p) for p in self._provenance]
        manifest["updated_at"] = _now()
        tmp = self.root / f".{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.warehouse.manifest_path)  # the atomic swap
        for rel in replaced:
            if rel not in {e.path for e in self._new.values()}:
                shutil.rmtree(self.root / rel, ignore_errors=True)

    def _rollback(self) -> None:
        for directory in self._staged_dirs:
            shutil.rmtree(directory, ignore_errors=True)


def write_table_files(table: str, df: pl.DataFrame, directory: Path) -> None:
    """Write a validated frame as the table's Parquet files, partitioned as the schema
    says and sorted by the schema's sort_by, so min/max statistics
    prune by product and exporter."""
    spec = TABLES[table]
    sort_by = spec.sort_by
    if sort_by:
        df = df.sort(list(sort_by))
    if spec.partition_by:
        for (key,), group in df.group_by([spec.partition_by], maintain_order=True):
            target = directory / f"{spec.partition_by}={key}"
            target.mkdir(parents=True, exist_ok=True)
            group.drop(spec.partition_by).write_parquet(
                target / "data.parquet",
                row_group_size=ROW_GROUP_SIZE,
                statistics=True,
                compression="zstd",
            )
    else:
        df.write_parquet(directory / "data.parquet", statistics=True, compression="zstd")
