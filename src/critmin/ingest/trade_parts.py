"""What the trade-flow ingests (BACI, UN Comtrade) share: dropping the demo flows
when real ones arrive, reading what an existing part holds, and the vectorised
schema checks run on Parquet files written straight by DuckDB (too large to load
into one polars frame)."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import polars as pl

from critmin.domain import HS_EDITIONS, TRADE_SIDES, TRADE_SOURCES
from critmin.ingest.common import IngestError
from critmin.schema import TABLES, validate_frame
from critmin.warehouse import Transaction, Warehouse

log = logging.getLogger(__name__)

TABLE = "trade_flows"
DEMO_PART = "demo"


def drop_demo_flows(tx: Transaction, warehouse: Warehouse) -> str | None:
    """Drop the synthetic `demo` part of trade_flows in this transaction; a note if dropped."""
    if warehouse.exists() and DEMO_PART in warehouse.parts(TABLE):
        tx.drop_part(TABLE, DEMO_PART)
        return "the synthetic demo trade flows were removed (real trade data loaded)"
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
    checks = {
        "hs_edition": "NOT list_contains($editions, hs_edition)",
        "hs6": "NOT regexp_full_match(hs6, '[0-9]{6}')",
        "exporter": "NOT regexp_full_match(exporter, '[A-Z]{3}')",
        "importer": "NOT regexp_full_match(importer, '[A-Z]{3}')",
        "value_usd": "value_usd < 0 OR value_usd IS NULL",
        "quantity_kg": "quantity_kg < 0",
        "source": "NOT list_contains($sources, source)",
        "side": "NOT list_contains($sides, side)",
    }
    assert set(checks) <= set(spec.columns)
    select = ", ".join(
        f"count(*) FILTER (WHERE coalesce({cond}, true))"
        if col not in spec.nullable
        else f"count(*) FILTER (WHERE coalesce({cond}, false))"
        for col, cond in checks.items()
    )
    counts = con.execute(
        f"SELECT {select} FROM read_parquet($files)",  # noqa: S608 - fixed expressions only
        {
            "files": paths,
            "editions": list(HS_EDITIONS),
            "sources": list(TRADE_SOURCES),
            "sides": list(TRADE_SIDES),
        },
    ).fetchone()
    assert counts is not None
    for column, count in zip(checks, counts, strict=True):
        if count:
            raise IngestError(f"{where}: {count:,} row(s) break the trade_flows rule on {column}")
