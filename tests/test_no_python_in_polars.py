"""No Python function runs inside polars or DuckDB on any path the app serves.

polars runs expressions on a thread pool as large as the machine has cores (two
here). A Python callback (`map_elements`, `map_batches`, `fold` ...) makes a pool
worker wait for the GIL, while a script thread that holds the GIL waits for the
pool: under a few concurrent sessions the whole server froze, health checks and
signal handlers included. The rule is checked on the source, so it cannot come back
unnoticed: pages, the package (ui, views, queries, metrics and everything they
import) and app.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Methods that run a Python callable inside polars or register one with DuckDB.
CALLBACK_METHODS = {
    "map_elements",
    "map_rows",
    "map_batches",
    "map_groups",
    "apply",
    "rolling_map",
    "cumulative_eval",
    "create_function",
}
# polars functions that take a Python callable.
CALLBACK_FUNCTIONS = {"fold", "reduce", "cum_fold", "cum_reduce", "map_batches", "map_groups"}


def served_files() -> list[Path]:
    files = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]
    return files + sorted((REPO / "src" / "critmin").rglob("*.py"))


def callbacks(source: str, name: str = "<source>") -> list[str]:
    """Where `source` hands a Python callable to polars or DuckDB, as 'file:line call'."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        attribute = node.func.attr
        owner = node.func.value
        is_polars_function = isinstance(owner, ast.Name) and owner.id in {"pl", "polars"}
        if attribute in CALLBACK_METHODS or (
            is_polars_function and attribute in CALLBACK_FUNCTIONS
        ):
            found.append((node.lineno, f"{name}:{node.lineno} {attribute}"))
    return [where for _, where in sorted(found)]


def test_the_checker_finds_callbacks() -> None:
    planted = (
        "import polars as pl\n"
        "df.with_columns(pl.col('v').map_elements(str, return_dtype=pl.String))\n"
        "pl.fold(pl.lit(0), lambda a, b: a + b, pl.all())\n"
        "con.create_function('f', f)\n"
        "df.select(pl.col('v').round(1))\n"
    )
    assert callbacks(planted) == [
        "<source>:2 map_elements",
        "<source>:3 fold",
        "<source>:4 create_function",
    ]


def test_no_python_callbacks_on_served_paths() -> None:
    files = served_files()
    assert len(files) > 20, "the package and the pages were found"
    offending = [
        hit for f in files for hit in callbacks(f.read_text("utf-8"), str(f.relative_to(REPO)))
    ]
    assert not offending, (
        "Python callbacks inside polars/DuckDB deadlock the shared server under concurrent "
        "sessions; use native expressions or st.column_config formatting: " + ", ".join(offending)
    )
