"""What the monthly ingests (UN Comtrade monthly, Eurostat Comext, US Census) share:
bounded reading of untrusted files, the provisional rule, and writing the
`monthly_flows` part of a source atomically, merged with what it already holds.

Each source is one part of `monthly_flows` (`comtrade`, `comext`, `census`; the
embedded default's synthetic months are the `demo` part). A load replaces, in its
source's part, the declarations it brings, keyed by reporter, flow, month and code
(a revised month replaces the earlier vintage of that month, partners and all) and
keeps the others, so loading another month adds to the part and re-loading the same
files changes nothing. Loading real monthly data removes the synthetic `demo` part.

Provisional: a month is flagged provisional until its publisher's annual revision,
taken here as every month of the vintage's year and of the year before (UN Comtrade
revises without a fixed schedule; Eurostat and the US Census Bureau revise the
previous year's months once a year). A figure for 2025 downloaded in 2026 is
provisional; the same figure downloaded in 2027 is not.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import polars as pl

from critmin import derive, sources
from critmin.ingest import common
from critmin.ingest.common import IngestError, Summary, ensure_reference_tables
from critmin.schema import TABLES, validate_frame
from critmin.warehouse import Provenance, Warehouse

log = logging.getLogger(__name__)

TABLE = "monthly_flows"
DEMO_PART = "demo"
KEY = ["reporter", "flow", "year", "month", "classification", "national_code"]
# The longest line a monthly CSV may have (a Comext row is under 200 bytes); longer
# means a binary file or a file of another kind.
MAX_LINE_BYTES = 16_384


def check_size(path: Path, limit: int, what: str) -> None:
    """IngestError naming the file if it is empty or larger than `limit` bytes."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file ({what} expected)")
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{path}: the file is empty ({what} expected)")
    if size > limit:
        raise IngestError(
            f"{path}: {size:,} bytes, more than the {limit:,} a {what} may have; "
            "split it or check it is the right file"
        )


def check_line_lengths(path: Path, limit: int = MAX_LINE_BYTES) -> None:
    """IngestError naming the first line longer than `limit` bytes (read in blocks, so a
    file of any size costs little memory)."""
    line, run = 1, 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            pieces = block.split(b"\n")
            for index, piece in enumerate(pieces):
                run += len(piece)
                if run > limit:
                    raise IngestError(
                        f"{path}: line {line} is longer than {limit:,} bytes; not a text "
                        "file of this source (binary or another format?)"
                    )
                if index < len(pieces) - 1:
                    line += 1
                    run = 0


def file_vintage(path: Path, given: dt.date | None) -> dt.date:
    """When the figures were published or downloaded: `given` (--vintage), else the
    file's modification date (the day a download saved it)."""
    if given is not None:
        return given
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()


def parse_vintage(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise IngestError(f"--vintage {text!r} is not a date (YYYY-MM-DD)") from error


def provisional(year: pl.Expr, vintage: pl.Expr) -> pl.Expr:
    """True for months of the vintage's year and the year before (module docstring)."""
    return year >= vintage.dt.year() - 1


def edition_for_year(year: pl.Expr) -> pl.Expr:
    """The HS edition national tariffs (CN, HTS) follow in a year (HS2022 from 2022...)."""
    from critmin.domain import HS_EDITIONS

    expr = pl.lit("HS92")
    for name, start in HS_EDITIONS.items():
        expr = pl.when(year >= start).then(pl.lit(name)).otherwise(expr)
    return expr


def reject_unknown_countries(
    frame: pl.DataFrame, column: str, summary: Summary, label: pl.Expr
) -> pl.DataFrame:
    """Drop rows whose `column` (ISO3) is null, counting them by `label` in the summary."""
    unknown = frame.filter(pl.col(column).is_null())
    if unknown.height:
        counts = (
            unknown.group_by(label.alias("_label"))
            .len()
            .sort(["len", "_label"], descending=[True, False])
        )
        for name, count in counts.iter_rows():
            summary.reject(f"{column} {name} is an aggregate or has no ISO3 code", int(count))
    return frame.filter(pl.col(column).is_not_null())


def load_monthly(
    flows: pl.DataFrame,
    warehouse: Warehouse,
    *,
    source: str,
    files: list[Path],
    summary: Summary,
    source_file: str,
    replace: bool = False,
    also: tuple[tuple[Path, str], ...] = (),
) -> Summary:
    """Validate `flows` (monthly_flows columns) and write them into the source's part,
    merged with the declarations it already holds, in one transaction; provenance from
    the source's file (`ingest/sources/<source_file>.toml`), and for each other file read
    (`also`: path and source file, e.g. the exchange rates) from its own."""
    if flows.is_empty():
        skipped = "; ".join(summary.notes[:4] + [f"{r}: {n}" for r, n in summary.rejected.items()])
        where = files[0] if len(files) == 1 else files[0].parent
        raise IngestError(
            f"{where}: no monthly rows to load ({skipped or 'none found'}); "
            "the warehouse is unchanged"
        )
    flows = validate_frame(TABLE, flows, where=str(files[0]))
    duplicated = flows.select(KEY + ["partner"]).is_duplicated()
    if duplicated.any():
        row = flows.filter(duplicated).row(0, named=True)
        raise IngestError(
            f"{files[0]}: reporter {row['reporter']}, partner {row['partner']}, {row['flow']} "
            f"of {row['national_code']} in {row['year']}-{row['month']:02d} appears twice "
            "with different sources or files; load one of them"
        )
    existing = warehouse.parts(TABLE).get(source) if warehouse.exists() else None
    with warehouse.transaction(derived=derive.refresh) as tx:
        ensure_reference_tables(tx, warehouse)
        merged = flows
        if existing and existing.files and not replace:
            old = pl.read_parquet([warehouse.root / f for f in existing.files])
            kept = old.join(flows.select(KEY).unique(), on=KEY, how="anti")
            if kept.height:
                summary.notes.append(
                    f"kept {kept.height:,} rows of other months, reporters or codes already "
                    f"in the {source} part"
                )
            merged = pl.concat([kept.select(flows.columns), flows])
        elif existing:
            summary.notes.append(f"replaced the whole {source} part (--replace)")
        part = tx.write_frame(
            TABLE, source, merged, source=source, release=str(flows["release"][0])
        )
        first = merged.select((pl.col("year") * 100 + pl.col("month")).min()).item()
        last = merged.select((pl.col("year") * 100 + pl.col("month")).max()).item()
        summary.notes.append(
            f"{TABLE}/{source}: {part.rows:,} rows, months {first // 100}-{first % 100:02d} "
            f"to {last // 100}-{last % 100:02d}"
        )
        if warehouse.exists() and DEMO_PART in warehouse.parts(TABLE):
            tx.drop_part(TABLE, DEMO_PART)
            summary.notes.append(
                "the synthetic demo months were removed (real monthly data loaded)"
            )
        accessed = f" (accessed {dt.date.today().isoformat()})"
        for path, name in [*((p, source_file) for p in files), *also]:
            fields = sources.source(name).record_fields()
            fields["citation"] += accessed
            tx.add_provenance(
                Provenance.for_file(
                    path, source=source, release=str(flows["release"][0]), table=TABLE, **fields
                )
            )
    summary.rows_kept = flows.height
    summary.notes += [f"derived {line}" for line in tx.derived]
    return summary


def empty_monthly() -> pl.DataFrame:
    return pl.DataFrame(schema=TABLES[TABLE].columns)


def files_in(path: Path, suffixes: tuple[str, ...], what: str) -> list[Path]:
    """The files to read: `path` itself, or the files of a folder with these suffixes."""
    common.refuse_symlink(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder ({what} expected)")
    if path.is_file():
        return [path]
    found = [p for p in common.regular_files(path, recursive=True) if p.suffix.lower() in suffixes]
    if not found:
        raise IngestError(f"{path}: no {' or '.join(suffixes)} file found ({what} expected)")
    return found
