"""Shared fixtures: a demo warehouse built once per test session, and the real
public files of ../shared/data (tests using them skip when it is absent)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
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


def _shared_data() -> Path:
    override = os.environ.get("CRITMIN_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _api_sources_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in API_BASE_ENVS:
        monkeypatch.setenv(env, CLOSED_PORT)
    for env in ("COMTRADE_API_KEY", "CENSUS_API_KEY"):
        monkeypatch.delenv(env, raising=False)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = _shared_data()
    if not path.is_dir():
        pytest.skip(f"real public files not found at {path} (set CRITMIN_SHARED_DATA)")
    return path


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
def app_env(demo_warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at the session's demo warehouse."""
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(demo_warehouse_dir))
    return demo_warehouse_dir
