"""Derived tables: what the pages read, recomputed whenever what they come from changes.

A whole BACI release holds about 5,000 HS6 codes; every page asks about a few
mineral baskets (under 30 codes). Scanning the release for them at every click
costs hundreds of milliseconds at 100 million rows, so two small tables are
computed when the data change instead (see docs/performance.md):

- `mineral_flows`: the trade_flows rows of the baskets' codes, one row per flow
  and mineral (a code in two baskets appears under both), sorted by mineral and
  exporter: about 0.5% of an all-products release.
- `trade_summary`: flows counted per year, HS edition, source, side and
  release: the years and sources the sidebar and the About page show.

Each derived part mirrors one trade_flows part (same name) and records a digest
of the parts it was computed from (`Part.inputs`). `refresh` runs inside every
`Transaction` commit: parts whose inputs changed are recomputed and parts whose
trade part is gone are dropped, in the same atomic swap, so a derived table
never disagrees with its sources. A warehouse written before these tables
existed is `stale`: the app then computes them on the fly (`fallback_view_sql`,
same answers, slower) and `critmin reindex` writes them.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from critmin.schema import DERIVED_TABLES, TABLES, SchemaError, typed_empty_select
from critmin.settings import load_settings
from critmin.sqltext import literal, literal_in, literal_list
from critmin.warehouse import ROW_GROUP_SIZE as TRADE_ROW_GROUP_SIZE
from critmin.warehouse import Part, Transaction, Warehouse

log = logging.getLogger(__name__)

TRADE = "trade_flows"
BASKETS = "mineral_baskets"
SOURCE = "derived"
# The trade files' row-group size: a page's exporter is a few hundred rows of its
# minerals, and min/max statistics on (mineral, exporter) skip the rest. 1,024 and
# 4,096 rows were no faster at 100 million trade rows (docs/performance.md).
ROW_GROUP_SIZE = TRADE_ROW_GROUP_SIZE

# One definition of each derived table, as a SELECT over `{trade}` and `{baskets}`:
# materialised from the parts' files by `refresh`, or run over the app's views when
# a warehouse predates the derived files (`fallback_view_sql`).
SELECTS: dict[str, str] = {
    "mineral_flows": (
        "SELECT b.mineral, b.stage, f.year::INTEGER AS year, f.hs_edition, f.hs6, f.exporter, "
        "f.importer, f.value_usd, f.quantity_kg, f.source, f.side, f.release "
        "FROM {trade} AS f JOIN {baskets} AS b ON f.hs6 = b.hs6 AND f.hs_edition = b.hs_edition"
    ),
    "trade_summary": (
        "SELECT year::INTEGER AS year, hs_edition, source, side, release, "
        "count(*)::BIGINT AS flows FROM {trade} GROUP BY ALL"
    ),
}

_HS6 = re.compile(r"^\d{6}$")


def _digest(*values: str) -> str:
    return hashlib.sha256("|".join(values).encode()).hexdigest()[:32]


def expected_inputs(table: str, trade_part: Part, baskets: dict[str, Part]) -> str:
    """The digest a derived part must carry to be current."""
    sources = [trade_part.checksum]
    if BASKETS in TABLES[table].derived_from:
        sources += [f"{name}:{part.checksum}" for name, part in sorted(baskets.items())]
    return _digest(table, SELECTS[table], str(ROW_GROUP_SIZE), *sources)


def stale(warehouse: Warehouse) -> list[str]:
    """Derived parts that are missing, outdated or left over, in words; [] if current."""
    trade = warehouse.parts(TRADE)
    baskets = warehouse.parts(BASKETS)
    problems = []
    for table in DERIVED_TABLES:
        derived = warehouse.parts(table)
        for name, part in trade.items():
            held = derived.get(name)
            if held is None:
                problems.append(f"{table}/{name} is missing")
            elif held.inputs != expected_inputs(table, part, baskets):
                problems.append(f"{table}/{name} is older than what it derives from")
        problems += [f"{table}/{name} is left over" for name in derived if name not in trade]
    return problems


def refresh(
    tx: Transaction,
    progress: Callable[[str], None] = log.info,
    damaged: frozenset[tuple[str, str]] = frozenset(),
) -> list[str]:
    """Recompute, within `tx`, the derived parts its changes made out of date (and the
    `damaged` (table, part) pairs); return what was done, one line per part."""
    trade = tx.final_parts(TRADE)
    baskets = tx.final_parts(BASKETS)
    done = []
    for table in DERIVED_TABLES:
        derived = tx.final_parts(table)
        for name in derived:
            if name not in trade:
                tx.drop_part(table, name)
                done.append(f"{table}/{name}: dropped with its trade part")
        for name, part in trade.items():
            key = expected_inputs(table, part, baskets)
            if name in derived and derived[name].inputs == key and (table, name) not in damaged:
                continue
            progress(f"deriving {table}/{name} from {part.rows:,} trade rows")
            directory = tx.new_part_dir(table, name)
            _materialise(tx.root, table, part, baskets, directory / "data.parquet")
            written = tx.set_part(
                table, name, directory, source=SOURCE, release=part.release, inputs=key
            )
            done.append(f"{table}/{name}: {written.rows:,} rows")
    return done


def _materialise(
    root: Path, table: str, trade: Part, baskets: dict[str, Part], target: Path
) -> None:
    """Write one derived part's file from one trade part's files."""
    settings = load_settings()
    con = duckdb.connect(config={"threads": max(1, settings.threads)})
    try:
        trade_files = [str(root / f) for f in trade.files]
        basket_files = [str(root / f) for p in baskets.values() for f in p.files]
        spec = TABLES[table]
        columns = ", ".join(spec.columns)
        if not trade_files or (BASKETS in spec.derived_from and not basket_files):
            # An empty part still gets a file, so its schema is there to read.
            select = f"SELECT {columns} FROM ({typed_empty_select(table)})"  # noqa: S608
        else:
            # Paths come from the manifest, never from a user; COPY takes no parameters.
            trade_sql = f"read_parquet({literal_list(trade_files)}, hive_partitioning = true, union_by_name = true)"
            baskets_sql = f"read_parquet({literal_list(basket_files)})" if basket_files else ""
            select = SELECTS[table].format(trade=trade_sql, baskets=baskets_sql)
            if BASKETS in spec.derived_from:
                # The codes as literals let the scan skip every row group of other codes
                # (trade files are sorted by hs6); schema rules make them six digits.
                codes = [
                    r[0]
                    for r in con.sql(
                        f"SELECT DISTINCT hs6 FROM {baskets_sql} ORDER BY 1"  # noqa: S608
                    ).fetchall()
                ]
                if not all(_HS6.match(code) for code in codes):
                    raise SchemaError(f"{BASKETS}: a code is not six digits: {codes}")
                select = f"SELECT * FROM ({select}) WHERE hs6 IN ({literal_in(codes)})"  # noqa: S608
        order = ", ".join(spec.sort_by)
        con.execute(
            f"COPY (SELECT {columns} FROM ({select}) ORDER BY {order}) "  # noqa: S608
            f"TO {literal(str(target))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
        )
    finally:
        con.close()


def fallback_view_sql(table: str) -> str:
    """The derived table computed over the app's views, for a warehouse that lacks
    current derived files: the same rows, read from trade_flows at every query."""
    columns = ", ".join(TABLES[table].columns)
    select = SELECTS[table].format(trade=TRADE, baskets=BASKETS)
    return f"SELECT {columns} FROM ({select})"  # noqa: S608 - schema names only


def damaged_parts(warehouse: Warehouse) -> frozenset[tuple[str, str]]:
    """Derived (table, part) pairs whose files are missing or unreadable."""
    pairs = set()
    for problem in warehouse.check():
        # Warehouse.check names each problem "<table>/<part>: ...".
        table, _, rest = problem.partition("/")
        if table in DERIVED_TABLES:
            pairs.add((table, rest.split(":", 1)[0]))
    return frozenset(pairs)


def reindex(warehouse: Warehouse, progress: Callable[[str], None] = log.info) -> list[str]:
    """Bring the derived tables up to date and rewrite damaged ones (nothing is
    written if all are current and readable)."""
    damaged = damaged_parts(warehouse)
    if not stale(warehouse) and not damaged:
        return []
    done: list[str] = []

    def rule(tx: Transaction) -> list[str]:
        done.extend(refresh(tx, progress, damaged))
        return done

    with warehouse.transaction(derived=rule):
        pass
    return done
