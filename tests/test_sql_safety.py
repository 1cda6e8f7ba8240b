"""The app's DuckDB connection cannot write, cannot read other files or the network,
runs under a memory limit and a query timeout, and no parameter changes the SQL
that runs (only the static texts of queries/sql, wrapped with the row cap)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from critmin import queries
from critmin.db import SQL_DIR, Database, QueryTimeout, order_variants, query_variants
from critmin.filters import FACETS, DepositFilter, Grouping, Sort, TradeFilter
from critmin.settings import Settings
from critmin.sql_guard import ForbiddenStatement, run_with_timeout
from critmin.warehouse import Warehouse

WRAPPED = re.compile(
    r"SELECT \* FROM \((?P<sql>.*)\)(?P<order>(?: ORDER BY [^()]*)?) LIMIT (?P<limit>\d+)",
    re.DOTALL,
)
STATIC_TEXTS = {text for p in SQL_DIR.glob("*.sql") for text in query_variants(p.stem)}
# The ORDER BY clauses built from the files' sort allow-lists.
STATIC_ORDERS = {text for p in SQL_DIR.glob("*.sql") for text in order_variants(p.stem)}
HOSTILE = [
    "'; DROP VIEW trade_flows; --",
    "KAZ' OR '1'='1",
    "$exporter",
    "\x00",
    "🦆" * 50,
    "COPY trade_flows TO '/tmp/x.csv'",
    "x" * 3_000,
    "",
]


def _settings(root: Path, **overrides: object) -> Settings:
    return replace(Settings(data_dir=root, data_dir_is_default=False), **overrides)


@pytest.fixture(scope="module")
def db(demo_warehouse_dir: Path) -> Database:
    return Database(Warehouse(demo_warehouse_dir), _settings(demo_warehouse_dir))


def _a_warehouse_file(db: Database) -> Path:
    return db.warehouse.files("events")[0]


def forbidden_statements(db: Database, tmp_path: Path) -> list[str]:
    inside = _a_warehouse_file(db)
    return [
        f"COPY (SELECT 1 AS x) TO '{inside}' (FORMAT parquet, USE_TMP_FILE false)",
        f"COPY (SELECT 1 AS x) TO '{inside}' (FORMAT csv)",
        f"COPY events TO '{tmp_path / 'events.csv'}'",
        f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
        "SELECT * FROM read_csv('/etc/passwd', sep = ':')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_parquet('https://example.com/data.parquet')",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET memory_limit",
        "CREATE TABLE stolen AS SELECT 1",
        "CREATE OR REPLACE VIEW events AS SELECT 1 AS x",
        "EXPORT DATABASE '/tmp/critmin-export'",
        "SELECT 1; COPY (SELECT 1) TO '/tmp/x.csv'",
        "PRAGMA enable_profiling",
    ]


def test_every_write_read_or_setting_escape_fails(db: Database, tmp_path: Path) -> None:
    target = _a_warehouse_file(db)
    before = target.read_bytes()
    for statement in forbidden_statements(db, tmp_path):
        for runner in (db.connection, db.connection.cursor()):
            with pytest.raises(duckdb.Error):
                runner.sql(statement).fetchall()
            with pytest.raises(duckdb.Error):
                runner.execute(statement).fetchall()
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == []
    assert not Path("/tmp/critmin-export").exists()
    # The views are intact and queries still run.
    assert db.connection.sql("SELECT count(*) FROM events").fetchall()[0][0] > 0  # type: ignore[index]
    assert queries.events(db).frame.height > 0


def test_checked_texts_are_bounded_and_a_refused_text_stays_refused(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from critmin import sql_guard

    monkeypatch.setattr(sql_guard, "CHECKED_MAX", 8)
    monkeypatch.setattr(sql_guard, "_checked", {})
    for n in range(20):
        assert db.connection.sql(f"SELECT {n} AS n").fetchall() == [(n,)]
    assert 0 < len(sql_guard._checked) <= 8
    for statement in forbidden_statements(db, tmp_path):
        for _ in range(2):  # refused again: by the guard, or by DuckDB's sandbox
            with pytest.raises(duckdb.Error):
                db.connection.sql(statement).fetchall()
    raw = db.connection.cursor()._cursor
    for text in sql_guard._checked:  # only ever single SELECTs
        (statement,) = raw.extract_statements(text)
        assert statement.type == duckdb.StatementType.SELECT


def test_duckdb_sandbox_holds_behind_the_guard(db: Database) -> None:
    """Defence in depth: the raw connection refuses other files and config changes too."""
    raw = db.connection.cursor()._cursor
    for statement in [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    ]:
        with pytest.raises(duckdb.PermissionException):
            raw.sql(statement).fetchall()
    with pytest.raises(duckdb.Error, match="locked"):
        raw.execute("SET enable_external_access = true")


def test_small_tables_are_held_in_memory_with_the_same_rows(
    db: Database, demo_warehouse_dir: Path
) -> None:
    """Once the background copy is done, every table but trade_flows is a DuckDB table
    that its view reads (not Parquet), holding the rows its files hold; a database that
    does not hold them reads the files from the start."""
    assert db.held.wait(60), "the small tables were copied within a minute"
    raw = db.connection.cursor()._cursor
    held = {row[0] for row in raw.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    views = dict(raw.sql("SELECT view_name, sql FROM duckdb_views()").fetchall())
    assert "trade_flows" not in held and "held.main" not in views["trade_flows"]
    assert {"mineral_flows", "trade_summary", "mineral_baskets", "countries", "deposits"} <= held
    assert all(f"held.main.{table}" in views[table] for table in held)
    from_files = Database(
        Warehouse(demo_warehouse_dir),
        _settings(demo_warehouse_dir, small_tables_in_memory=False),
    )
    assert from_files.held.is_set() and not from_files.notes
    files = from_files.connection.cursor()._cursor
    assert not files.sql("SELECT table_name FROM duckdb_tables()").fetchall()
    for table in ("mineral_flows", "deposits", "products"):
        query = f"SELECT * FROM {table} ORDER BY ALL"  # noqa: S608 (names from this test)
        assert raw.sql(query).pl().equals(files.sql(query).pl()), table


def test_pages_get_the_same_rows_while_the_small_tables_are_being_copied(
    demo_warehouse_dir: Path,
) -> None:
    """A query that runs while the copy is under way reads the files, and gets what it
    gets afterwards from memory; the copy does not fail because queries are running."""
    db = Database(Warehouse(demo_warehouse_dir), _settings(demo_warehouse_dir))
    during = []
    while not db.held.is_set() and len(during) < 200:
        during.append(db.query("mineral_baskets").frame)
    assert db.held.wait(60) and not db.notes, db.notes
    after = db.query("mineral_baskets").frame
    assert during, "at least one query ran before the copy was done"
    assert all(frame.equals(after) for frame in during)


def test_memory_limit_is_in_force(demo_warehouse_dir: Path) -> None:
    db = Database(
        Warehouse(demo_warehouse_dir), _settings(demo_warehouse_dir, memory_limit="300MB")
    )
    shown = db.connection.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    expected = (
        duckdb.connect(config={"memory_limit": "300MB"})
        .sql("SELECT current_setting('memory_limit')")
        .fetchall()[0][0]
    )
    default = duckdb.connect().sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert shown == expected != default


def test_a_slow_query_is_interrupted_with_a_clear_error(db: Database) -> None:
    cursor = db.connection.cursor()
    slow = "SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3"
    with pytest.raises(QueryTimeout, match="took longer than 0.2 s"):
        run_with_timeout(cursor, 0.2, lambda: cursor.sql(slow).fetchall(), "slow.sql")
    # The cursor and the connection keep working afterwards.
    assert cursor.sql("SELECT 42").fetchall() == [(42,)]
    assert queries.events(db).frame.height > 0


def test_database_query_times_out(demo_warehouse_dir: Path) -> None:
    tiny = Database(
        Warehouse(demo_warehouse_dir), _settings(demo_warehouse_dir, query_timeout_s=1e-6)
    )
    with pytest.raises(QueryTimeout, match=r"flows_explorer\.sql took longer"):
        codes = tuple(f"{c:06d}" for c in range(0, 999_999, 997))
        queries.flows_explorer(tiny, TradeFilter((), codes, 1900, 2100, sides=()))


def test_no_parameter_changes_the_sql(db: Database, sql_texts: list[str]) -> None:
    ran = sql_texts
    for value in HOSTILE:
        many = (value, "KAZ", value)
        # TradeFilter refuses malformed codes, sides and years before any SQL; names of
        # countries and minerals go through as bound values.
        f = TradeFilter(many, ("811292",), 2015, 2020, exporters=many, importers=many)
        queries.exports_by_series(db, f)
        queries.exports_by_partner(db, f)
        queries.exporters_by_series(db, f.only(exporters=()))
        queries.imports_by_supplier(db, f)
        queries.mirror_flows(db, f.only(sides=()))
        queries.flows_explorer(db, f, Sort("value_usd"), limit=7)
        # The explorer's grouping: dimensions are flags and values, never identifiers.
        groups = ((value, value), ("KAZ", value))
        queries.flows_grouped(
            db,
            f,
            Grouping(("partner_group", "year"), "mineral", groups, value),
            Sort("share_pct"),
            limit=7,
        )
        queries.flows_grouped(
            db, f.only(codes=()), Grouping(("importer",)), Sort("tonnes"), limit=7
        )
        for facet in FACETS:
            queries.flows_facet(db, f, facet)
        queries.deposits(db, DepositFilter(many, many, many))
        queries.deposit_facets(db, many)
        queries.production(db, many)
        queries.products(db, many)
        # Bypassing the filter, hostile codes and sides are still only bound values.
        db.query(
            "exports_by_series", limit=7, **{**f.params(), "codes": list(many), "sides": list(many)}
        )
        queries.site_points(db, DepositFilter(many, many, many))
        queries.deposits(db, DepositFilter(many, many, many), limit=7)
    assert len(ran) == (15 + len(FACETS)) * len(HOSTILE)
    limited = 0
    for text in ran:
        # A page's sort or limit wraps the file's text; otherwise it runs as it is and
        # the row cap is kept by reading (db.Database.query).
        match = WRAPPED.fullmatch(text)
        if match is None:
            assert text in STATIC_TEXTS, text[:200]
            continue
        limited += 1
        assert match["sql"] in STATIC_TEXTS
        assert match["order"] in STATIC_ORDERS
        assert int(match["limit"]) == 8
    # the explorer's list and its two groupings, the Map table's, the one above
    assert limited == 5 * len(HOSTILE)


def test_a_grouping_or_facet_that_is_not_allowed_never_reaches_sql(db: Database) -> None:
    f = TradeFilter(("gallium",), (), 2015, 2020)
    for bad in ('year"; DROP VIEW trade_flows; --', "value_usd", "", "YEAR"):
        with pytest.raises(ValueError):
            Grouping((bad,))
        with pytest.raises(ValueError):
            Grouping(("year",), bad or "x")
        with pytest.raises(ValueError):
            queries.flows_facet(db, f, bad)
    with pytest.raises(ValueError, match="used twice"):
        Grouping(("year", "importer"), "year")
    with pytest.raises(ValueError, match="cannot be sorted"):
        queries.flows_grouped(db, f, Grouping(("year",)), Sort('part" DESC; --'))


def test_a_process_that_exits_during_the_copy_exits_cleanly(demo_warehouse_dir: Path) -> None:
    """The copy runs in a thread; a process that ends before it is done (a one-off CLI
    command, a cold benchmark run) interrupts and waits for it instead of aborting
    inside DuckDB."""
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from critmin.db import Database; "
        "from critmin.settings import Settings; from critmin.warehouse import Warehouse; "
        "root = Path(sys.argv[1]); "
        "db = Database(Warehouse(root), Settings(data_dir=root, data_dir_is_default=False)); "
        "print('copying' if not db.held.is_set() else 'done')"
    )
    for _ in range(3):
        ran = subprocess.run(
            [sys.executable, "-c", script, str(demo_warehouse_dir)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ran.returncode == 0, ran.stderr[-2000:]


def test_a_copy_that_runs_out_of_memory_leaves_the_files_and_says_so(
    demo_warehouse_dir: Path,
) -> None:
    """Under a memory limit too small for the copy, the views keep reading the files,
    the pages get their rows, and the About page's notes say why and what to do."""
    db = Database(Warehouse(demo_warehouse_dir), _settings(demo_warehouse_dir, memory_limit="4MB"))
    assert db.held.wait(60)
    assert len(db.notes) == 1 and "could not be copied into memory" in db.notes[0], db.notes
    assert "CRITMIN_MEMORY_LIMIT" in db.notes[0] and "\n" not in db.notes[0]
    raw = db.connection.cursor()._cursor
    assert not raw.sql(
        "SELECT database_name FROM duckdb_databases() WHERE database_name = 'held'"
    ).fetchall()
    assert db.query("mineral_baskets").frame.height > 0


def test_a_database_closed_during_the_copy_closes(demo_warehouse_dir: Path) -> None:
    """DuckDB refuses to close a connection a cursor is still using: close() stops the
    copy first (the benchmark opens and closes databases in quick succession)."""
    for _ in range(3):
        db = Database(Warehouse(demo_warehouse_dir), _settings(demo_warehouse_dir))
        db.close()
        assert db.held.is_set()


class _RecordingCursor:
    """Stands in for a cursor: counts the watchdog's interrupts."""

    def __init__(self) -> None:
        self.interrupts = 0

    def interrupt(self) -> None:
        self.interrupts += 1


def test_one_watchdog_thread_interrupts_late_queries_and_only_while_they_run() -> None:
    """Every query's deadline is kept by one thread. A late query's cursor is
    interrupted again and again until the query ends; once it has ended (the cursor
    goes back to the pool for the next query) it is interrupted no more."""
    import threading
    import time

    from critmin.sql_guard import _WATCHDOG

    on_time, late = _RecordingCursor(), _RecordingCursor()
    quick = _WATCHDOG.add(on_time, 0.05)  # type: ignore[arg-type]
    _WATCHDOG.remove(quick)
    slow = _WATCHDOG.add(late, 0.01)  # type: ignore[arg-type]
    time.sleep(0.1)
    assert slow.fired and late.interrupts >= 3  # every 5 ms past the deadline
    _WATCHDOG.remove(slow)
    seen = late.interrupts
    time.sleep(0.1)
    assert late.interrupts == seen
    assert on_time.interrupts == 0 and not quick.fired
    for _ in range(20):
        _WATCHDOG.remove(_WATCHDOG.add(_RecordingCursor(), 1.0))  # type: ignore[arg-type]
    watchdogs = [t for t in threading.enumerate() if t.name == "critmin-query-timeout"]
    assert len(watchdogs) == 1


def test_the_sql_box_is_off_unless_switched_on(db: Database) -> None:
    with pytest.raises(ForbiddenStatement, match="switched off"):
        db.user_query("SELECT 1 AS x")


@pytest.fixture(scope="module")
def box(demo_warehouse_dir: Path) -> Database:
    return Database(
        Warehouse(demo_warehouse_dir), _settings(demo_warehouse_dir, sql_box=True, row_cap=50)
    )


def test_the_sql_box_reads_the_app_views_only(box: Database, tmp_path: Path) -> None:
    """One SELECT over the app's views and its own CTEs: what a person types cannot
    write, read a file (even one of the warehouse), read the settings or another
    catalog, or run longer than the timeout, and its rows are capped."""
    ok = box.user_query(
        "WITH kz AS (SELECT * FROM mineral_flows WHERE exporter = 'KAZ') "
        "SELECT mineral, count(*) AS n FROM kz JOIN countries c ON c.iso3 = kz.importer "
        "GROUP BY ALL ORDER BY n DESC"
    )
    assert ok.frame.height > 0 and set(ok.frame.columns) == {"mineral", "n"}
    capped = box.user_query("SELECT * FROM range(1000) t(i)")
    assert capped.truncated and capped.frame.height == 50
    inside = _a_warehouse_file(box)
    refused = [
        *forbidden_statements(box, tmp_path),
        f"SELECT * FROM read_parquet('{inside}')",  # noqa: S608 (the test's own file)
        f"SELECT * FROM '{inside}'",  # noqa: S608
        "SELECT current_setting('allowed_paths')",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM held.main.countries",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM events; SELECT 1",
        "SELECT 1 -- " + "x" * 50_000,
    ]
    for statement in refused:
        with pytest.raises(duckdb.Error):
            box.user_query(statement)
    assert list(tmp_path.iterdir()) == []
    # A text typed in the box is not kept among the app's own checked texts.
    from critmin import sql_guard

    assert not any("kz AS" in text for text in sql_guard._checked)


def test_the_sql_box_has_the_timeout(demo_warehouse_dir: Path) -> None:
    slow = Database(
        Warehouse(demo_warehouse_dir),
        _settings(demo_warehouse_dir, sql_box=True, query_timeout_s=0.2),
    )
    try:
        with pytest.raises(QueryTimeout, match="SQL box took longer"):
            slow.user_query("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3")
        assert slow.user_query("SELECT 42 AS x").frame["x"].to_list() == [42]
    finally:
        slow.close()
