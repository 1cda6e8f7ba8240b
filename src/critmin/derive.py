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

The monthly declarations (`monthly_flows`, millions of rows once every reporter's
months are loaded) give two more, so no page reads every month of every reporter:

- `monthly_published`: the months each reporter has published per source, side and
  classification, with the rows and the newest vintage: a few thousand rows the
  catalog holds (who has reported up to which month; the latest month loaded).
- `monthly_mirror`: the partners' import declarations of each exporter's goods per
  month, reporter and source, summed per mineral basket and for every basket code
  together (series `*`), a customs office's figure kept before UN Comtrade's for the
  same reporter, month and code, as `monthly_by_partner.sql` keeps them: the inputs of
  the provisional nowcast (`views.nowcast`), one exporter's a few thousand rows.
- `monthly_exports`: the declarations of the codes a monthly page can ask for (the
  mineral baskets' HS6 codes and the national lines) keyed by the exporting country (the
  partner of an import, the reporter of an export) and sorted by it, so the Latest
  months page reads one exporter's row groups instead of every declaration. One part per
  monthly_flows part.

Each derived part of a trade table mirrors one trade_flows part (same name); the
monthly ones are one part (`all`) computed from every monthly_flows part together,
since a declaration of one source is kept or left out by the others'. Each records
a digest of the parts it was computed from (`Part.inputs`). `refresh` runs inside every
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
MONTHLY = "monthly_flows"
BASKETS = "mineral_baskets"
LINES = "national_lines"
SOURCE = "derived"
# Derived tables computed from every part of what they derive from together, as one
# part of this name (the others mirror their source's parts one to one).
WHOLE = {"monthly_published", "monthly_mirror"}
WHOLE_PART = "all"
ALL_MINERALS = "*"  # monthly_mirror's series of every basket code together
# The trade files' row-group size: a page's exporter is a few hundred rows of its
# minerals, and min/max statistics on (mineral, exporter) skip the rest. 1,024 and
# 4,096 rows were no faster at 100 million trade rows (docs/performance.md).
ROW_GROUP_SIZE = TRADE_ROW_GROUP_SIZE

# One definition of each derived table, as a SELECT over `{trade}` (or `{monthly}`) and
# `{baskets}`:
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
    # Every column the monthly queries read, for the codes monthly_lines.sql can give:
    # the baskets' HS6 codes (classification HS) and every national line.
    "monthly_exports": (
        "WITH codes AS ("
        " SELECT 'HS' AS classification, hs_edition, hs6 AS code FROM {baskets}"
        " UNION SELECT classification, hs_edition, code FROM {lines}"
        ") "
        "SELECT CASE m.side WHEN 'importer_reported' THEN m.partner ELSE m.reporter END"
        " AS exporter, m.year::INTEGER AS year, m.month::INTEGER AS month, m.reporter,"
        " m.partner, m.side, m.source, m.classification, m.national_code, m.hs_edition,"
        " m.hs6, m.value_usd, m.value_native, m.currency, m.quantity_kg, m.provisional,"
        " m.vintage"
        " FROM {monthly} AS m SEMI JOIN codes AS c"
        " ON m.classification = c.classification AND m.hs_edition = c.hs_edition"
        " AND m.national_code = c.code"
    ),
    "monthly_published": (
        "SELECT reporter, side, source, classification, year::INTEGER AS year, "
        "month::INTEGER AS month, count(*)::BIGINT AS rows, max(vintage) AS vintage "
        "FROM {monthly} GROUP BY ALL"
    ),
    # The rank and its partition are monthly_by_partner.sql's: within one reporter,
    # partner, month and code, a customs office's declaration before UN Comtrade's;
    # declarations without a USD value (euros without a rate) are then left out.
    "monthly_mirror": (
        "WITH declared AS ("
        " SELECT m.partner AS exporter, m.reporter, m.year, m.month, m.national_code,"
        " m.hs_edition, m.source, m.value_usd,"
        " CASE m.source WHEN 'comtrade' THEN 2 ELSE 1 END AS rank"
        " FROM {monthly} AS m"
        " WHERE m.side = 'importer_reported' AND m.classification = 'HS'"
        "), per_mineral AS ("
        " SELECT b.mineral AS series, d.* FROM declared AS d"
        " JOIN (SELECT DISTINCT mineral, hs_edition, hs6 FROM {baskets}) AS b"
        " ON d.hs_edition = b.hs_edition AND d.national_code = b.hs6"
        " QUALIFY rank = min(rank) OVER (PARTITION BY b.mineral, d.reporter, d.exporter,"
        " d.year, d.month, d.national_code)"
        "), every_mineral AS ("
        " SELECT '*' AS series, d.* FROM declared AS d"
        " SEMI JOIN (SELECT DISTINCT hs_edition, hs6 FROM {baskets}) AS b"
        " ON d.hs_edition = b.hs_edition AND d.national_code = b.hs6"
        " QUALIFY rank = min(rank) OVER (PARTITION BY d.reporter, d.exporter, d.year,"
        " d.month, d.national_code)"
        ") "
        "SELECT exporter, series, year::INTEGER AS year, month::INTEGER AS month, reporter,"
        " source, sum(value_usd) AS value_usd, count(*)::BIGINT AS declarations"
        " FROM (SELECT * FROM per_mineral UNION ALL SELECT * FROM every_mineral)"
        " WHERE value_usd IS NOT NULL GROUP BY ALL"
    ),
}

_HS6 = re.compile(r"^\d{6}$")


def _digest(*values: str) -> str:
    return hashlib.sha256("|".join(values).encode()).hexdigest()[:32]


def _base(table: str) -> str:
    """The table a derived table's parts follow (the first it derives from)."""
    return TABLES[table].derived_from[0]


def _groups(table: str, base: dict[str, Part]) -> dict[str, list[Part]]:
    """The derived table's parts and the base parts each is computed from: one per base
    part (same name), or for a WHOLE table one part from every base part."""
    if table in WHOLE:
        return {WHOLE_PART: [base[name] for name in sorted(base)]} if base else {}
    return {name: [part] for name, part in base.items()}


def _others(table: str, parts_of: Callable[[str], dict[str, Part]]) -> dict[str, dict[str, Part]]:
    """The parts of every table a derived table reads beside its base (whole)."""
    return {other: parts_of(other) for other in TABLES[table].derived_from[1:]}


def expected_inputs(
    table: str, parts: Part | list[Part], others: dict[str, dict[str, Part]]
) -> str:
    """The digest a derived part must carry to be current: its base parts' checksums and
    those of every part of the other tables it reads (`_others`)."""
    sources = [p.checksum for p in (parts if isinstance(parts, list) else [parts])]
    for other in TABLES[table].derived_from[1:]:
        prefix = "" if other == BASKETS else f"{other}/"  # the baskets' digests as before
        sources += [f"{prefix}{name}:{p.checksum}" for name, p in sorted(others[other].items())]
    return _digest(table, SELECTS[table], str(ROW_GROUP_SIZE), *sources)


def stale(warehouse: Warehouse) -> list[str]:
    """Derived parts that are missing, outdated or left over, in words; [] if current."""
    problems = []
    for table in DERIVED_TABLES:
        others = _others(table, warehouse.parts)
        groups = _groups(table, warehouse.parts(_base(table)))
        derived = warehouse.parts(table)
        for name, parts in groups.items():
            held = derived.get(name)
            if held is None:
                problems.append(f"{table}/{name} is missing")
            elif held.inputs != expected_inputs(table, parts, others):
                problems.append(f"{table}/{name} is older than what it derives from")
        problems += [f"{table}/{name} is left over" for name in derived if name not in groups]
    return problems


def refresh(
    tx: Transaction,
    progress: Callable[[str], None] = log.info,
    damaged: frozenset[tuple[str, str]] = frozenset(),
) -> list[str]:
    """Recompute, within `tx`, the derived parts its changes made out of date (and the
    `damaged` (table, part) pairs); return what was done, one line per part."""
    done = []
    for table in DERIVED_TABLES:
        others = _others(table, tx.final_parts)
        groups = _groups(table, tx.final_parts(_base(table)))
        derived = tx.final_parts(table)
        for name in derived:
            if name not in groups:
                tx.drop_part(table, name)
                done.append(f"{table}/{name}: dropped with its {_base(table)} part")
        for name, parts in groups.items():
            key = expected_inputs(table, parts, others)
            if name in derived and derived[name].inputs == key and (table, name) not in damaged:
                continue
            rows = sum(p.rows for p in parts)
            progress(f"deriving {table}/{name} from {rows:,} {_base(table)} rows")
            directory = tx.new_part_dir(table, name)
            _materialise(tx.root, table, parts, others, directory / "data.parquet")
            release = parts[0].release if len(parts) == 1 else SOURCE
            written = tx.set_part(
                table, name, directory, source=SOURCE, release=release, inputs=key
            )
            done.append(f"{table}/{name}: {written.rows:,} rows")
    return done


def _materialise(
    root: Path,
    table: str,
    parts: list[Part],
    others: dict[str, dict[str, Part]],
    target: Path,
) -> None:
    """Write one derived part's file from its base parts' files (and the other tables'
    it reads)."""
    settings = load_settings()
    con = duckdb.connect(config={"threads": max(1, settings.threads)})
    try:
        base_files = [str(root / f) for p in parts for f in p.files]
        basket_files = [str(root / f) for p in others.get(BASKETS, {}).values() for f in p.files]
        line_files = [str(root / f) for p in others.get(LINES, {}).values() for f in p.files]
        spec = TABLES[table]
        columns = ", ".join(spec.columns)
        if not base_files or (BASKETS in spec.derived_from and not basket_files):
            # An empty part still gets a file, so its schema is there to read.
            select = f"SELECT {columns} FROM ({typed_empty_select(table)})"  # noqa: S608
        else:
            # Paths come from the manifest, never from a user; COPY takes no parameters.
            base_sql = f"read_parquet({literal_list(base_files)}, hive_partitioning = true, union_by_name = true)"
            baskets_sql = f"read_parquet({literal_list(basket_files)})" if basket_files else ""
            lines_sql = (
                f"read_parquet({literal_list(line_files)})"
                if line_files
                else f"({typed_empty_select(LINES)})"
            )
            select = SELECTS[table].format(
                trade=base_sql, monthly=base_sql, baskets=baskets_sql, lines=lines_sql
            )
            if BASKETS in spec.derived_from and _base(table) == TRADE:
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
    current derived files: the same rows, read from its sources at every query."""
    columns = ", ".join(TABLES[table].columns)
    select = SELECTS[table].format(trade=TRADE, monthly=MONTHLY, baskets=BASKETS, lines=LINES)
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
