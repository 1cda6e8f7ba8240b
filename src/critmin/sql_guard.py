"""The SQL guard and the query timeout in front of DuckDB.

DuckDB's own sandbox (external access off, only the manifest's files allowed,
configuration locked) stops reads of other files, the network and extensions,
but a file in `allowed_paths` may still be *written* (`COPY ... TO` with
`USE_TMP_FILE false`), and a read-only database file does not stop `COPY TO`
either. So the connection the rest of the code sees is a `GuardedConnection`:
it runs exactly one `SELECT` statement per call and refuses every other
statement type (COPY, ATTACH, CREATE, SET, INSTALL, PRAGMA, EXPORT...) before
DuckDB sees it. In deployment the warehouse is also mounted read-only.

`run_with_timeout` runs a query in the calling thread and interrupts its cursor
when `timeout_s` passes, raising `QueryTimeout`, so one heavy request cannot
hold a core for the rest.

`check_user_select` is stricter, for SQL a person types (the Data explorer's optional
SQL box): one SELECT that reads only the app's views and its own CTEs, calls no
table function but `range`, `generate_series` and `unnest` (so no file, however
allowed, and no catalog of settings), and no function that reads settings. It reads
the statement's syntax tree from a DuckDB connection that holds nothing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")


class ForbiddenStatement(duckdb.PermissionException):
    """A statement other than a single SELECT was sent to the app's connection."""


class QueryTimeout(RuntimeError):
    """A query ran longer than the app allows; the message says what to do."""


# Texts already found to be one SELECT. The app sends a few hundred distinct texts at
# most (its .sql files, their sort orders and caps; values are bound, never in the text),
# and parsing each again to check it was a fifteenth of the time a loaded server held the
# GIL. Bounded all the same; a refused text is never kept.
CHECKED_MAX = 1024
_checked: dict[str, None] = {}
_checked_lock = threading.Lock()


def check_select(connection: duckdb.DuckDBPyConnection, sql: str, remember: bool = True) -> None:
    """Raise ForbiddenStatement unless `sql` is exactly one SELECT statement. A text
    that passes is remembered (not parsed again) unless `remember` is False."""
    if sql in _checked:
        return
    statements = connection.extract_statements(sql)
    if len(statements) != 1:
        raise ForbiddenStatement(f"one statement per query is allowed, got {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise ForbiddenStatement(f"only SELECT statements are allowed, not {kind.name}")
    if not remember:
        return
    with _checked_lock:
        if len(_checked) >= CHECKED_MAX:
            del _checked[next(iter(_checked))]  # the oldest
        _checked[sql] = None


USER_SQL_MAX_CHARS = 50_000
USER_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
USER_DENIED_FUNCTIONS = frozenset({"current_setting", "getvariable"})


def check_user_select(sql: str, tables: Collection[str]) -> None:
    """Raise ForbiddenStatement unless `sql` is one SELECT over `tables` (and the CTEs
    it declares), with no table function beyond USER_TABLE_FUNCTIONS and no function of
    USER_DENIED_FUNCTIONS. The message says what is refused."""
    if len(sql) > USER_SQL_MAX_CHARS:
        raise ForbiddenStatement(f"the query is longer than {USER_SQL_MAX_CHARS:,} characters")
    parser = duckdb.connect(":memory:")  # parses only: it holds no table and runs nothing
    try:
        statements = parser.extract_statements(sql)
        if len(statements) != 1:
            raise ForbiddenStatement(f"write one statement, not {len(statements)}")
        if statements[0].type != duckdb.StatementType.SELECT:
            raise ForbiddenStatement(f"only SELECT statements, not {statements[0].type.name}")
        row = parser.execute("SELECT json_serialize_sql($1::VARCHAR)", [sql]).fetchone()
    finally:
        parser.close()
    tree = json.loads(row[0]) if row else {"error": True, "error_message": "no statement"}
    if tree.get("error"):
        raise ForbiddenStatement(f"only plain SELECT statements: {tree.get('error_message')}")
    nodes = list(_nodes(tree["statements"]))
    declared = {
        str(entry.get("key", "")).lower()
        for node in nodes
        for ctes in [node.get("cte_map")]
        if isinstance(ctes, dict)
        for entry in ctes.get("map", [])
    }
    allowed = {t.lower() for t in tables} | declared
    for node in nodes:
        if node.get("type") == "BASE_TABLE":
            name = str(node.get("table_name", "")).lower()
            where = (str(node.get("catalog_name") or ""), str(node.get("schema_name") or ""))
            if name not in allowed or where[0] or where[1] not in ("", "main"):
                raise ForbiddenStatement(
                    f"the table {'.'.join(filter(None, (*where, name)))!r} is not one of the "
                    f"app's views ({', '.join(sorted(tables))})"
                )
        elif node.get("type") == "TABLE_FUNCTION":
            function = node.get("function")
            name = str(function.get("function_name", "") if isinstance(function, dict) else "")
            name = name.lower()
            if name not in USER_TABLE_FUNCTIONS:
                raise ForbiddenStatement(f"the table function {name}() is not allowed")
        elif node.get("class") == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if name in USER_DENIED_FUNCTIONS:
                raise ForbiddenStatement(f"the function {name}() is not allowed")


def _nodes(value: object) -> Iterator[dict[str, Any]]:
    """Every dictionary in a syntax tree, depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


class GuardedCursor:
    """A DuckDB cursor that only runs single SELECT statements."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection):
        self._cursor = cursor

    def sql(self, query: str, params: Any = None) -> duckdb.DuckDBPyRelation:
        check_select(self._cursor, query)
        return self._cursor.sql(query, params=params)

    def execute(
        self, query: str, parameters: Any = None, remember: bool = True
    ) -> duckdb.DuckDBPyConnection:
        check_select(self._cursor, query, remember)
        return self._cursor.execute(query, parameters)

    query = sql

    def abort(self) -> None:
        """Drop the rest of the result of `execute` (a capped read stops early)."""
        self._cursor.abort()

    def interrupt(self) -> None:
        self._cursor.interrupt()

    def close(self) -> None:
        self._cursor.close()


class GuardedConnection(GuardedCursor):
    """The app's connection: SELECT only; cursors are guarded too."""

    def cursor(self) -> GuardedCursor:
        return GuardedCursor(self._cursor.cursor())


class _Watch:
    """One running query's deadline."""

    __slots__ = ("cursor", "deadline", "fired")

    def __init__(self, cursor: GuardedCursor, deadline: float):
        self.cursor = cursor
        self.deadline = deadline
        self.fired = False


class _Watchdog:
    """One thread for the deadlines of every running query in the process.

    A thread per query cost 0.17 ms to start and join, and under load more: starting a
    thread waits until the new one holds the GIL, behind every script thread of the
    server. Here a query adds its deadline under a lock and removes it when it ends;
    the thread sleeps until the nearest deadline, then interrupts the late queries'
    cursors and again every 5 ms until each has stopped, so an interrupt that lands
    between two phases of a query is not lost."""

    REPEAT_S = 0.005

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watches: set[_Watch] = set()
        self._thread: threading.Thread | None = None

    def add(self, cursor: GuardedCursor, timeout_s: float) -> _Watch:
        watch = _Watch(cursor, time.monotonic() + timeout_s)
        with self._cond:
            earliest = min((w.deadline for w in self._watches), default=None)
            self._watches.add(watch)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="critmin-query-timeout", daemon=True
                )
                self._thread.start()
            elif earliest is None or watch.deadline < earliest:
                self._cond.notify()  # the thread sleeps until a later deadline
        return watch

    def remove(self, watch: _Watch) -> None:
        """Once this returns, the watchdog interrupts the query's cursor no more (it
        interrupts under the same lock), so the cursor can serve the next query."""
        with self._cond:
            self._watches.discard(watch)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                late = [w for w in self._watches if w.deadline <= now]
                if not late:
                    wait = min((w.deadline for w in self._watches), default=now + 60) - now
                    self._cond.wait(max(wait, 0.0))
                    continue
                for w in late:
                    w.fired = True
                    w.cursor.interrupt()  # a C call that sets a flag; takes no lock of ours
            time.sleep(self.REPEAT_S)


_WATCHDOG = _Watchdog()


def run_with_timeout(cursor: GuardedCursor, timeout_s: float, run: Callable[[], T], what: str) -> T:
    """`run()` (which uses `cursor`) in this thread; interrupt it after timeout_s seconds
    (the process's one watchdog thread, `_Watchdog`)."""
    watch = _WATCHDOG.add(cursor, timeout_s)
    try:
        return run()
    except duckdb.InterruptException as error:
        if watch.fired:
            raise QueryTimeout(
                f"The query {what} took longer than {timeout_s:g} s and was stopped. "
                "Narrow the filters (fewer years, countries or products) and try again."
            ) from error
        raise
    finally:
        _WATCHDOG.remove(watch)
