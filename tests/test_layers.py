"""The package's arrows run one way: each module imports only modules of a lower layer
(or its own folder), so the data flow of the README's "How it is built" holds in the
code: the ingests never reach for a fetcher, the views never draw, the pages never load."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "critmin"

# Lower first. A module (or folder of modules) imports only from its own layer's folder
# or from lower layers; a new module is given its place here.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__version__", "domain", "settings", "sqltext", "sources"),
    ("schema", "filters", "reference", "sql_guard", "metrics", "loaded"),
    ("warehouse", "synthetic"),
    ("derive",),
    ("reference_tables", "embedded", "db"),
    ("queries",),
    ("catalog",),
    ("grades",),
    ("ingest", "views"),
    ("fetch", "demo"),
    ("ui", "cli"),
    ("pages",),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def unit(module: str) -> str:
    """critmin.ingest.baci -> ingest; critmin.db -> db; pages.map -> pages."""
    parts = module.split(".")
    if parts[0] == "pages" or parts[0] == "app":
        return "pages"
    if len(parts) == 1:
        return "__version__"  # `from critmin import x`: x is named again, as critmin.x
    return parts[1]


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m == "critmin" or m.startswith("critmin.")}


def sources() -> dict[str, Path]:
    files = {
        ".".join(p.relative_to(ROOT / "src").with_suffix("").parts): p
        for p in PACKAGE.rglob("*.py")
    }
    files |= {f"pages.{p.stem}": p for p in (ROOT / "pages").glob("*.py")}
    files["app"] = ROOT / "app.py"
    return files


def arrows() -> list[tuple[str, str, str]]:
    """(module, imported unit, its unit) for every import across units."""
    found = []
    for module, path in sources().items():
        here = unit(module.removesuffix(".__init__"))
        for imported in imports(path):
            there = unit(imported)
            if there != here:
                found.append((module, imported, there))
    return found


def test_every_module_has_a_layer():
    units = {unit(m.removesuffix(".__init__")) for m in sources()} - {"__init__"}
    assert units <= set(RANK), f"give these a layer in LAYERS: {sorted(units - set(RANK))}"


def test_no_arrow_runs_back_up():
    upward = [
        f"{module} imports {imported} ({unit(module)} is below {there})"
        for module, imported, there in arrows()
        if there in RANK and RANK[there] >= RANK[unit(module.removesuffix(".__init__"))]
    ]
    assert upward == []


def test_the_check_sees_an_upward_arrow(tmp_path):
    bad = tmp_path / "m.py"
    bad.write_text("from critmin.fetch import http\nimport critmin.ui.data\n")
    assert imports(bad) == {"critmin.fetch", "critmin.fetch.http", "critmin.ui.data"}
    assert RANK[unit("critmin.fetch.http")] > RANK[unit("critmin.ingest.baci")]
