"""What the trade-flow ingests (BACI, UN Comtrade) share: dropping the demo flows
when real ones arrive, reading what an existing part holds, and the vectorised
schema checks run on Parquet files written straight by DuckDB (too large to load
into one polars frame)."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import polars as pl

from critmin.ingest.common import IngestError
from critmin.schema import TABLES, validate_frame
from critmin.warehouse import Transaction, Warehouse

log = logging.getLogger(__name__)

TABLE = "trade_flows"
DEMO_PART = "demo"


def drop_demo_flows(tx: Transaction, warehouse: Warehouse) -> str | None:
    """Drop the synthetic `demo` parts of trade_flows and monthly_flows in this
    transaction (synthetic months beside real years would pass for a real nowcast); a
    note if dropped."""
    if warehouse.exists() and DEMO_PART in warehouse.parts(TABLE):
        tx.drop_part(TABLE, DEMO_PART)
        if DEMO_PART in warehouse.parts("monthly_flows"):
            tx.drop_part("monthly_flows", DEMO_PART)
        return (
            "the synthetic demo trade flows were removed (real trade data loaded), "
            "and the synthetic months with them"
        )
    return None


def part_editions(warehouse: Warehouse, part: str) -> list[str]:
    """The HS editions found in an existing trade_flows part ([] if there is none)."""
    if not warehouse.exists():
        return []
    existing = warehouse.parts(TABLE).get(part)
    if not existing or not existing.files:
        return []
    files = [str(warehouse.root / f) for f in existing.files]
    cursor = duckdb.connect()
    rows = cursor.execute(
        "SELECT DISTINCT hs_edition FROM read_parquet($files) ORDER BY 1", {"files": files}
    ).fetchall()
    return [r[0] for r in rows]


def check_parquet_files(files: list[Path], where: str) -> None:
    """The trade_flows schema rules, checked on Parquet files with DuckDB in one scan;
    a small sample also goes through `schema.validate_frame` for names and types."""
    if not files:
        return
    paths = [str(f) for f in files]
    con = duckdb.connect()
    sample = con.sql(
        "SELECT * FROM read_parquet($files, hive_partitioning = true) LIMIT 1000",
        params={"files": paths},
    ).pl()
    sample = sample.with_columns(pl.col("year").cast(pl.Int32))
    validate_frame(TABLE, sample, where=where)
    spec = TABLES[TABLE]
    strings = [c for c, t in spec.columns.items() if t == pl.String()]
    select = ", ".join(
        [f"list(DISTINCT {c})" for c in strings]
        + [
            f"count(*) FILTER (WHERE {c} IS NULL)"
            for c in spec.file_columns
            if c not in spec.nullable
        ]
        + ["count(*) FILTER (WHERE value_usd < 0)", "count(*) FILTER (WHERE quantity_kg < 0)"]
    )
    row = con.execute(
        f"SELECT {select} FROM read_parquet($files)",  # noqa: S608 - schema column names only
        {"files": paths},
    ).fetchone()
    assert row is not None
    distinct = dict(zip(strings, row[: len(strings)], strict=True))
    counts = list(row[len(strings) :])
    not_null = [c for c in spec.file_columns if c not in spec.nullable]
    problems = [(c, "is empty") for c in not_null] + [
        ("value_usd", "is negative"),
        ("quantity_kg", "is negative"),
    ]
    for (column, what), count in zip(problems, counts, strict=True):
        if count:
            raise IngestError(f"{where}: column {column} {what} in {count:,} row(s)")
    # The value rules of the schema, applied to each distinct value once.
    for column, (message, rule) in spec.rules.items():
        if column not in distinct:
            continue
        values = pl.DataFrame({column: pl.Series(distinct[column], dtype=pl.String)})
        bad = rule(values).fill_null(False)
        if bad.any():
            value = values[column][int(bad.arg_true()[0])]
            raise IngestError(f"{where}: column {column}: value {value!r} {message}")
