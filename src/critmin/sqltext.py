"""SQL literals for the few statements DuckDB will not bind parameters into.

File paths in `CREATE VIEW ... read_parquet([...])`, `SET allowed_paths`, `COPY ...
TO '<file>'` and the code lists that let a scan skip row groups are written into
the SQL text. Every such value comes from our own manifest, schema or reference
files, never from a user, and goes through one of these functions, so quoting is
done in one place. User values are always bound parameters (see `db.py`).
"""

from __future__ import annotations

from collections.abc import Iterable


def literal(text: str) -> str:
    """A single-quoted SQL string literal ('it''s')."""
    return "'" + text.replace("'", "''") + "'"


def literal_list(items: Iterable[str]) -> str:
    """A DuckDB list literal (['a', 'b']), e.g. the files of a view."""
    return "[" + ", ".join(literal(item) for item in items) + "]"


def literal_in(items: Iterable[str]) -> str:
    """The inside of an IN (...) list ('a', 'b'); NULL when empty, so IN matches nothing."""
    return ", ".join(literal(item) for item in items) or "NULL"
