"""DuckDB over the warehouse: one connection per process, one cursor per running query.

The connection holds views over the warehouse's Parquet files; every table but
trade_flows and monthly_flows (`NOT_HELD`) is then copied into a compressed in-memory database in the background
and its view pointed there (`_Holder`). Once the views exist it is locked down:
external access is off except for the exact files of the manifest, configuration
is locked, and a memory limit and thread count keep one heavy request from
starving the rest. Queries are the `.sql`
files of `critmin/queries/sql`, run with bound parameters only.

`Database.connection` is guarded (`critmin.sql_guard`): it runs single
SELECT statements only, so nothing can write through it, and every query is
interrupted after `settings.query_timeout_s` (`QueryTimeout`). A table whose
files are unreadable does not take the others down: its view is empty and a
query that reads it raises `TableUnavailable`, naming the file.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import warnings
import weakref
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import duckdb
import polars as pl
import pyarrow as pa

from critmin import derive
from critmin.filters import Sort
from critmin.schema import BUNDLED_PART, TABLES, typed_empty_select
from critmin.settings import Settings
from critmin.sql_guard import (
    ForbiddenStatement,
    GuardedConnection,
    GuardedCursor,
    QueryTimeout,
    check_user_select,
    run_with_timeout,
)
from critmin.sqltext import literal, literal_list
from critmin.warehouse import Warehouse, WarehouseError

log = logging.getLogger(__name__)

SQL_DIR = Path(str(resources.files("critmin") / "queries" / "sql"))

# Results come through the DB-API path (`execute(...).to_arrow_table()`), not a relation
# (`sql(...).pl()`): DuckDB 2.0 binds a relation's statement once to describe it and again
# to run it. It warns that this path copies the rows once more; a page's result is at
# most the row cap, and the copy costs less than the bind it saves (see
# docs/performance.md §1).
warnings.filterwarnings(
    "ignore", message="Arrow output on a DB-API result makes an extra copy", category=UserWarning
)

__all__ = [
    "Database",
    "QueryResult",
    "QueryTimeout",
    "TableUnavailable",
    "load_sql",
    "order_variants",
    "open_database",
]


class TableUnavailable(WarehouseError):
    """A query needs a table whose files are unreadable; the message names the file."""


@dataclass(frozen=True)
class QueryResult:
    frame: pl.DataFrame
    truncated: bool
    query: str  # the .sql file's name, shown to users as "the query behind the table"
    # The statement that ran and the values bound to it (the explorer shows both).
    sql: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@cache
def load_sql(name: str) -> str:
    """The text of queries/sql/<name>.sql, with `-- include: other` lines expanded."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name}")
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("-- include:"):
            lines.append(load_sql(line.split(":", 1)[1].strip()))
        else:
            lines.append(line)
    return "\n".join(lines)


# An optional block holds no other block: blocks nest, and the innermost go first.
_OPTIONAL_BLOCK = re.compile(
    r"^[ \t]*-- only with \$(\w+)\n"
    r"((?:(?!^[ \t]*-- only with \$)(?!^[ \t]*-- end$).)*?)"
    r"^[ \t]*-- end(?:\n|\Z)",  # a block may end the text (an included file's last)
    re.M | re.S,
)
_SORT_HEADER = re.compile(r"^-- Sort by: (.+)$", re.M)
_SORT_FIRST_HEADER = re.compile(r"^-- Sort first by: (.+)$", re.M)


def specialise(sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Drop each `-- only with $name` ... `-- end` block of a query whose list
    parameter `name` is empty, and the parameter with it (blocks may nest).

    An empty list means "any" for a filter, so its condition is simply left out; and
    a block that reads a big table for an optional filter (codes chosen directly
    read trade_flows) costs its binding even when the filter selects nothing (see
    docs/performance.md §2)."""
    text, unused = _specialised(sql, frozenset(name for name, value in params.items() if value))
    return text, {k: v for k, v in params.items() if k not in unused}


# The text depends only on the query and which of its parameters are given: a few
# variants per query, kept rather than re-matched at every query (docs/performance.md §2).
@lru_cache(maxsize=1024)
def _specialised(sql: str, given: frozenset[str]) -> tuple[str, frozenset[str]]:
    dropped: set[str] = set()

    def keep(block: re.Match[str]) -> str:
        if block.group(1) in given:
            return block.group(2)
        dropped.add(block.group(1))
        return ""

    while True:
        sql, count = _OPTIONAL_BLOCK.subn(keep, sql)
        if not count:
            break
    code = _code(sql)
    return sql, frozenset(name for name in dropped if not re.search(rf"\${name}\b", code))


def sort_columns(name: str, header: re.Pattern[str] = _SORT_HEADER) -> tuple[str, ...]:
    """The columns queries/sql/<name>.sql may be sorted by (its `-- Sort by:` line):
    sort columns are identifiers, so they come from this allow-list, never from a
    user's text."""
    path = SQL_DIR / f"{name}.sql"
    match = header.search(path.read_text(encoding="utf-8")) if path.is_file() else None
    return tuple(c.strip() for c in match.group(1).split(",")) if match else ()


def order_clause(name: str, sort: Sort | None) -> str:
    """` ORDER BY ...` for a sort on an allow-listed column, with every other sort
    column after it so the order (and the rows kept under the cap) is stable. Columns
    of a `-- Sort first by:` line come before it, ascending (a grouped result's totals
    before its rows, so the cap never cuts a total)."""
    if sort is None:
        return ""
    allowed = sort_columns(name)
    if sort.column not in allowed:
        raise ValueError(f"{name}.sql cannot be sorted by {sort.column!r}; allowed: {allowed}")
    direction = "DESC" if sort.descending else "ASC"
    first = "".join(f'"{c}" ASC, ' for c in sort_columns(name, _SORT_FIRST_HEADER))
    rest = ", ".join(f'"{c}"' for c in allowed if c != sort.column)
    return f' ORDER BY {first}"{sort.column}" {direction} NULLS LAST' + (
        f", {rest}" if rest else ""
    )


def query_variants(name: str) -> set[str]:
    """Every SQL text queries/sql/<name>.sql can run: one per combination of its
    optional blocks. Parameter values never change the text beyond that."""
    sql = load_sql(name)
    names = sorted(set(re.findall(r"-- only with \$(\w+)", sql)))
    return {
        specialise(sql, {n: ["x"] if (mask >> i) & 1 else [] for i, n in enumerate(names)})[0]
        for mask in range(2 ** len(names))
    }


def order_variants(name: str) -> set[str]:
    """Every ORDER BY clause a query can be wrapped with ("" for none)."""
    return {""} | {
        order_clause(name, Sort(column, descending))
        for column in sort_columns(name)
        for descending in (True, False)
    }


def _code(sql: str) -> str:
    """The SQL without its comments (our files put no `--` inside strings)."""
    return re.sub(r"--[^\n]*", "", sql)


HELD = "held"  # the in-memory database holding the small tables
# Read from their files: the trade flows (the pages read mineral_flows), and the monthly
# declarations whole (the pages read monthly_exports, the codes they can ask for).
NOT_HELD = frozenset({derive.TRADE, derive.MONTHLY})


class Database:
    """Read-only access to one warehouse."""

    def __init__(self, warehouse: Warehouse, settings: Settings):
        self.warehouse = warehouse
        self.settings = settings
        self._lock = threading.Lock()
        self._idle: queue.SimpleQueue[GuardedCursor] = queue.SimpleQueue()
        # table -> what is wrong with its files; such tables are empty views.
        self.unavailable: dict[str, str] = {}
        # What users should know about the warehouse as opened (shown on About).
        self.notes: list[str] = []
        self._holder: _Holder | None = None  # copies the small tables (_connect)
        self.connection = GuardedConnection(self._connect())
        # Set once the small tables are held in memory (or their copy failed, or none
        # were to be held): until then their views read the Parquet files.
        self.held = threading.Event()
        if self._holder is not None:
            self._holder.start(self.held, self.notes)
            # A copy still running when the database goes away (or the interpreter
            # exits) is interrupted and waited for: a thread killed inside DuckDB at
            # exit aborts the process.
            weakref.finalize(self, self._holder.stop)
        else:
            self.held.set()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        for problem in self.warehouse.check():
            # Warehouse.check names each problem "<table>/<part>: ...".
            table = problem.split("/", 1)[0]
            self.unavailable[table] = "; ".join(
                filter(None, [self.unavailable.get(table), problem])
            )
        if self.unavailable:
            log.error("unreadable tables: %s", self.unavailable)
        con = duckdb.connect(
            ":memory:",
            config={
                "threads": self.settings.threads,
                "memory_limit": self.settings.memory_limit,
                "enable_object_cache": True,
            },
        )
        # Keep parsed Parquet footers between queries: each query re-binds the views,
        # and re-reading every file's footer slowed small queries several times over
        # (see docs/performance.md §3). GLOBAL, or the cursors the queries run on do not
        # see it; not accepted in `config` (parquet loads later).
        con.execute("SET GLOBAL parquet_metadata_cache = true")
        files: list[str] = []
        stale = derive.stale(self.warehouse)
        if stale:
            log.warning("derived tables out of date (%s): run `critmin reindex`", "; ".join(stale))
            self.notes.append(
                "The warehouse's derived tables are out of date ("
                + "; ".join(stale)
                + "), so pages compute them from trade_flows at every query: correct, but "
                "slower. Run `critmin reindex` to write them."
            )
        in_memory: list[str] = []  # small tables held in DuckDB's memory
        for table, spec in TABLES.items():
            paths = (
                [] if table in self.unavailable else [str(p) for p in self.warehouse.files(table)]
            )
            columns = ", ".join(f'"{c}"' for c in spec.columns)
            if spec.derived_from and (
                table in self.unavailable or any(p.startswith(f"{table}/") for p in stale)
            ):
                # Same rows, computed from the views of what the table derives from.
                if problem := self.unavailable.pop(table, ""):
                    self.notes.append(
                        f"The derived {table} table cannot be read ({problem}), so pages "
                        "compute it from trade_flows at every query: correct, but slower. "
                        "Run `critmin reindex` to rewrite it."
                    )
                con.execute(f"CREATE VIEW {table} AS {derive.fallback_view_sql(table)}")
                continue
            if table not in NOT_HELD and paths and self.settings.small_tables_in_memory:
                in_memory.append(table)
            files += paths
            if paths and spec.one_row_per:
                # One row per key: a source's own part before the bundled one.
                ranked = [
                    f"SELECT {columns}, {int(name == BUNDLED_PART)} AS _bundled, "  # noqa: S608
                    f"{literal(name)} AS _part FROM read_parquet("
                    f"{literal_list([str(self.warehouse.root / f) for f in part.files])}, "
                    "union_by_name = true)"
                    for name, part in sorted(self.warehouse.parts(table).items())
                    if part.files
                ]
                key = ", ".join(f'"{c}"' for c in spec.one_row_per)
                con.execute(
                    f"CREATE VIEW {table} AS SELECT {columns} FROM ("  # noqa: S608
                    + " UNION ALL ".join(ranked)
                    + f") QUALIFY row_number() OVER (PARTITION BY {key} "
                    "ORDER BY _bundled, _part) = 1"
                )
            elif paths:
                # File paths come from our own manifest, never from a user; DuckDB
                # does not accept parameters in DDL.
                source = (
                    f"read_parquet({literal_list(paths)}, hive_partitioning = true, "
                    f"union_by_name = true)"
                )
                # Table and column names come from schema.TABLES, paths from the manifest.
                con.execute(f"CREATE VIEW {table} AS SELECT {columns} FROM {source}")  # noqa: S608
            else:
                con.execute(f"CREATE VIEW {table} AS {typed_empty_select(table)}")
        if in_memory:
            # A compressed in-memory database: after the checkpoint its tables take about
            # what their Parquet files take, far less than uncompressed (see
            # docs/performance.md §6), and scans use its zone maps. Attached now,
            # before external access is switched off; filled by _Holder once open.
            con.execute(f"ATTACH ':memory:' AS {HELD} (COMPRESS)")
            self._holder = _Holder(con.cursor(), in_memory)
        con.execute(f"SET allowed_paths = {literal_list(files)}")
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET lock_configuration = true")
        return con

    def close(self) -> None:
        """Stop a copy of the small tables still under way, then close the connection
        (DuckDB refuses to close one that a cursor is still using)."""
        if self._holder is not None:
            self._holder.stop()
        self.connection.close()

    def query(
        self, name: str, limit: int | None = None, sort: Sort | None = None, **params: Any
    ) -> QueryResult:
        """Run queries/sql/<name>.sql with bound parameters, sorted (before the cap) by
        an allow-listed column; cap the rows at `limit` (default: the row cap)."""
        order = order_clause(name, sort)
        sql, params = specialise(load_sql(name), params)
        for table, problem in self.unavailable.items():
            if re.search(rf"\b{table}\b", _code(sql)):
                raise TableUnavailable(
                    f"The {table} table cannot be read ({problem}). Rebuild it with "
                    "`critmin demo` or re-run the ingest that wrote it."
                )
        cap = limit if limit is not None else self.settings.row_cap
        if limit is not None or order:
            # A page's sort and limit (the explorer, the Map's table) go into the
            # statement: DuckDB then keeps the top rows instead of sorting them all.
            # `sql` is one of our .sql files, `order` built from its allow-list, the cap
            # an int. User values are bound below.
            sql = f"SELECT * FROM ({sql}){order} LIMIT {int(cap) + 1}"  # noqa: S608
        # Otherwise the row cap is kept by reading at most cap + 1 rows: a LIMIT around
        # a statement without ORDER BY made DuckDB gather its rows once more (see
        # docs/performance.md §4).
        cursor = self._take_cursor()
        try:
            frame = run_with_timeout(
                cursor,
                self.settings.query_timeout_s,
                lambda: _capped_frame(cursor, sql, params or None, int(cap) + 1),
                f"{name}.sql",
            )
        except BaseException:
            cursor.close()  # an interrupted or failed cursor is not reused
            raise
        self._idle.put(cursor)
        truncated = frame.height > cap
        return QueryResult(
            frame.head(cap) if truncated else frame, truncated, name, sql, dict(params or {})
        )

    def user_query(self, sql: str, limit: int | None = None) -> QueryResult:
        """A person's own SELECT (the explorer's SQL box, when `settings.sql_box` is on):
        checked by `check_user_select` against the warehouse's views, run under the
        query timeout, capped at `limit` rows (default: the row cap). Raises
        ForbiddenStatement with what is refused."""
        if not self.settings.sql_box:
            raise ForbiddenStatement("the SQL box is switched off (CRITMIN_SQL_BOX=1 turns it on)")
        check_user_select(sql, TABLES)
        cap = int(limit if limit is not None else self.settings.row_cap)
        cursor = self._take_cursor()
        try:
            frame = run_with_timeout(
                cursor,
                self.settings.query_timeout_s,
                lambda: _capped_frame(cursor, sql, None, cap + 1, remember=False),
                "typed in the SQL box",
            )
        except BaseException:
            cursor.close()
            raise
        self._idle.put(cursor)
        truncated = frame.height > cap
        return QueryResult(frame.head(cap) if truncated else frame, truncated, "", sql)

    def _take_cursor(self) -> GuardedCursor:
        """An idle cursor, or a new one. A cursor serves one query at a time, in one
        thread; it is kept for the next query because a new DuckDB cursor re-binds
        the views' files on its first query (see docs/performance.md §5)."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self.connection.cursor()

    def interrupt(self) -> None:
        self.connection.interrupt()


def _capped_frame(
    cursor: GuardedCursor, sql: str, params: Any, rows: int, remember: bool = True
) -> pl.DataFrame:
    """The first `rows` rows of the statement's result; the rest is never made. A text
    a person typed is not `remember`ed among the app's checked texts."""
    ran = cursor.execute(sql, params) if remember else cursor.execute(sql, params, remember=False)
    result = ran.to_arrow_reader(batch_size=rows)
    reader = cast(pa.RecordBatchReader, result)  # a SELECT always has a result
    batches, seen = [], 0
    for batch in reader:
        batches.append(batch)
        seen += batch.num_rows
        if seen >= rows:
            cursor.abort()  # rows beyond the cap: the frame says it is truncated
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    return cast(pl.DataFrame, pl.from_arrow(table)).head(rows)  # a table gives a frame


def open_database(settings: Settings) -> Database:
    return Database(Warehouse(settings.data_dir), settings)


class _Holder:
    """Copies the small tables into the compressed in-memory database, in a thread of
    its own once the database is open, then points their views there
    (`settings.small_tables_in_memory`).

    Every table but trade_flows is small and the pages read them at every query: from
    memory a query skips opening and decoding their files, most of a small query's
    time. The copy takes seconds on a large warehouse; done at open it made a new
    server's first page wait for it (see docs/performance.md §6). Until the views switch, queries read the same rows from the files.
    A stale warehouse's fallback views are left as views."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, tables: list[str]):
        self._cursor = cursor
        self.tables = tables
        self._lock = threading.Lock()
        self._stopped = False
        self._done = False
        self._thread: threading.Thread | None = None

    def start(self, held: threading.Event, notes: list[str]) -> None:
        self._thread = threading.Thread(
            target=self.run, args=(held, notes), name="critmin-hold-small-tables", daemon=True
        )
        self._thread.start()

    def run(self, held: threading.Event, notes: list[str]) -> None:
        cursor, tables = self._cursor, self.tables
        try:
            # Names come from schema.TABLES; the rows from the views _connect built.
            for table in tables:
                cursor.execute(f"CREATE TABLE {HELD}.main.{table} AS SELECT * FROM {table}")  # noqa: S608
            cursor.execute(f"CHECKPOINT {HELD}")
            cursor.execute("BEGIN TRANSACTION")
            for table in tables:
                cursor.execute(
                    f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {HELD}.main.{table}"  # noqa: S608
                )
            cursor.execute("COMMIT")
        except duckdb.Error as error:
            if not self._stopped:
                log.warning("small tables not held in memory: %s", error)
                reason = str(error).strip().splitlines()[0]
                notes.append(
                    f"The small tables could not be copied into memory ({reason}), so pages "
                    "read them from their files: correct, but slower. Raise "
                    "CRITMIN_MEMORY_LIMIT or set CRITMIN_SMALL_TABLES_IN_MEMORY=0."
                )
                with contextlib.suppress(duckdb.Error):
                    cursor.execute(f"DETACH {HELD}")  # what was copied is given back
        finally:
            with self._lock:
                self._done = True
                cursor.close()
            held.set()

    def stop(self) -> None:
        with self._lock:
            if not self._done:
                self._stopped = True
                self._cursor.interrupt()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
