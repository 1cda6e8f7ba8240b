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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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


def check_select(connection: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise ForbiddenStatement unless `sql` is exactly one SELECT statement."""
    if sql in _checked:
        return
    statements = connection.extract_statements(sql)
    if len(statements) != 1:
        raise ForbiddenStatement(f"one statement per query is allowed, got {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise ForbiddenStatement(f"only SELECT statements are allowed, not {kind.name}")
    with _checked_lock:
        if len(_checked) >= CHECKED_MAX:
            del _checked[next(iter(_checked))]  # the oldest
        _checked[sql] = None


class GuardedCursor:
    """A DuckDB cursor that only runs single SELECT statements."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection):
        self._cursor = cursor

    def sql(self, query: str, params: Any = None) -> duckdb.DuckDBPyRelation:
        check_select(self._cursor, query)
        return self._cursor.sql(query, params=params)

    def execute(self, query: str, parameters: Any = None) -> duckdb.DuckDBPyConnection:
        check_select(self._cursor, query)
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
