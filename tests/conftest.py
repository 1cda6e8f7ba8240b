"""Shared fixtures and helpers: a demo warehouse built once per test session, the real
public files of ../shared/data (tests using them skip when it is absent), and
`run_page`, how a test opens one of the app's pages in Streamlit's AppTest.

Lanes: `make test-fast` leaves out the tests marked `slow`, `browser` and `load`
(pyproject.toml); `make test` runs them all."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from critmin.ui.registry import PAGES
from critmin.warehouse import Warehouse, file_sha256

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
# The real public files: $CRITMIN_SHARED_DATA, else ../shared/data beside the checkout.
SHARED_DATA = Path(os.environ.get("CRITMIN_SHARED_DATA") or REPO.parent / "shared" / "data")
# The servers of the API sources, pointed at a closed local port for every test, so that a
# test that forgets to serve one fails at once instead of reaching the internet; the fetch
# tests point them at their local servers.
API_BASE_ENVS = (
    "COMTRADE_BASE_URL",
    "CRITMIN_COMEXT_BASE_URL",
    "CRITMIN_ECB_BASE_URL",
    "CRITMIN_CENSUS_BASE_URL",
)
CLOSED_PORT = "http://127.0.0.1:9"
MONTHLY_VINTAGE = dt.date(2026, 11, 1)  # when the test declarations were "downloaded"


def run_page(page: str, params: Mapping[str, str | Sequence[str]] | None = None) -> AppTest:
    """Open pages/<page>.py through app.py's router, as a link with these query
    parameters would, and run it once."""
    file = next((p.file for p in PAGES if p.name == page), None)
    if file is None:
        raise ValueError(f"no page {page!r} in critmin.ui.registry")
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.switch_page(file)
    at.run()
    return at


@pytest.fixture(autouse=True)
def _api_sources_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in API_BASE_ENVS:
        monkeypatch.setenv(env, CLOSED_PORT)
    for env in ("COMTRADE_API_KEY", "CENSUS_API_KEY"):
        monkeypatch.delenv(env, raising=False)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public files not found at {SHARED_DATA} (set CRITMIN_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_warehouse_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo warehouse, built once; tests must not modify it (copy it instead)."""
    from critmin.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "warehouse"
    build_demo(path, last_year=2024)
    return path


@pytest.fixture
def demo_copy(demo_warehouse_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo warehouse that a test may change."""
    target = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse_dir, target)
    return target


@pytest.fixture
def data_dir(demo_copy: Path) -> Path:
    """The warehouse a command under test writes to: a private copy of the demo."""
    return demo_copy


def snapshot(root: Path) -> dict[str, str]:
    """Every warehouse file (not the download cache or the lock) and its checksum: what
    a command that fails must leave exactly as it was."""
    return {
        str(p.relative_to(root)): file_sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] not in ("cache", ".lock")
    }


def part_frame(data_dir: Path, table: str, part: str) -> pl.DataFrame:
    """The rows of one part of a warehouse table, with its hive columns (year=...)."""
    files = [data_dir / f for f in Warehouse(data_dir).parts(table)[part].files]
    return pl.read_parquet(files, hive_partitioning=True)


def one_row(frame: pl.DataFrame, **where: object) -> dict[str, object]:
    """The one row of a frame with these column values (fails unless exactly one)."""
    rows = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def monthly_row(
    source: str,
    reporter: str,
    partner: str,
    code: str,
    month: int,
    value: float,
    year: int = 2025,
    classification: str | None = None,
) -> dict[str, object]:
    """One monthly_flows row of an importer's declaration (its columns of schema.TABLES);
    the classification follows the code's length unless given."""
    kind = classification or ("HS" if len(code) == 6 else "HTS10" if len(code) == 10 else "CN8")
    return {
        "year": year,
        "month": month,
        "period": f"{year}{month:02d}",
        "reporter": reporter,
        "partner": partner,
        "flow": "import",
        "side": "importer_reported",
        "classification": kind,
        "national_code": code,
        "hs_edition": "HS22",
        "hs6": code[:6],
        "value_usd": value,
        "value_native": value,
        "currency": "USD",
        "quantity_kg": None,
        "supp_quantity": None,
        "supp_unit": None,
        "source": source,
        "release": "test",
        "vintage": MONTHLY_VINTAGE,
        "provisional": True,
    }


@pytest.fixture
def app_env(demo_warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at the session's demo warehouse."""
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(demo_warehouse_dir))
    return demo_warehouse_dir


@pytest.fixture
def sql_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL text run from now on, through the path every query takes
    (db.Database.query -> GuardedCursor.execute)."""
    from critmin.sql_guard import GuardedCursor

    ran: list[str] = []
    original = GuardedCursor.execute

    def recording(self: GuardedCursor, query: str, params: object = None) -> object:
        ran.append(query)
        return original(self, query, params)

    monkeypatch.setattr(GuardedCursor, "execute", recording)
    return ran
