"""The pages' cache keys: the warehouse's version is read from its manifest once per
change of the file, not at every call a rerun makes, and a re-ingest (a new manifest)
is a new version."""

import json
from pathlib import Path

import pytest

from critmin.ui import data
from critmin.warehouse import Warehouse, WarehouseError


def test_the_manifest_is_read_again_only_when_it_changes(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(demo_copy))
    reads = []
    original = Warehouse.manifest

    def counted(self: Warehouse) -> dict:  # type: ignore[type-arg]
        reads.append(self.root)
        return original(self)

    monkeypatch.setattr(Warehouse, "manifest", counted)
    first = data.warehouse_version()
    for _ in range(5):
        assert data.warehouse_version() == first
    assert len(reads) <= 1

    # What an ingest does: a new manifest file (written aside, then renamed over).
    path = demo_copy / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["updated_at"] = "2099-01-01T00:00:00+00:00"
    aside = path.with_suffix(".tmp")
    aside.write_text(json.dumps(manifest), encoding="utf-8")
    aside.replace(path)
    assert data.warehouse_version() == (str(demo_copy.resolve()), "2099-01-01T00:00:00+00:00")


def test_a_warehouse_removed_while_running_is_said(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(demo_copy))
    data.warehouse_version()
    (demo_copy / "manifest.json").unlink()
    with pytest.raises(WarehouseError, match="no manifest.json"):
        data.warehouse_version()


# --- the demo data of a fresh clone: built once, off every visitor's session -------------


@pytest.fixture
def fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default data directory of a clone where `make run` has not built the demo."""
    from critmin.settings import Settings

    root = tmp_path / "data" / "warehouse"
    monkeypatch.setattr(data, "load_settings", lambda: Settings(root, data_dir_is_default=True))
    monkeypatch.setattr(data, "_demo_build", None)
    monkeypatch.setattr(data, "_demo_error", [])
    return root


def test_a_fresh_clone_builds_its_demo_once_outside_any_session(
    fresh_clone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from critmin import demo

    builds: list[tuple[str, object]] = []
    real = demo.build_demo

    def recorded(root: Path) -> Warehouse:
        builds.append((threading.current_thread().name, get_script_run_ctx()))
        return real(root, last_year=2024)

    monkeypatch.setattr(demo, "build_demo", recorded)
    first = data.build_missing_demo()
    assert first is not None and data.build_missing_demo() is first  # once per process
    root, version = data.warehouse_version()  # a page waits for the build, never runs it
    assert Path(root) == fresh_clone.resolve() and version
    assert builds == [("critmin-demo-build", None)]
    assert Warehouse(fresh_clone).parts("trade_flows")


def test_a_failed_demo_build_says_how_to_build_it(
    fresh_clone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from critmin import demo

    def broken(root: Path) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(demo, "build_demo", broken)
    thread = data.build_missing_demo()
    assert thread is not None
    thread.join()
    with pytest.raises(WarehouseError, match=r"No space left.*`\.venv/bin/critmin demo`"):
        data.warehouse_version()


def test_a_chosen_data_dir_is_never_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setattr(data, "_demo_build", None)
    assert data.build_missing_demo() is None
    with pytest.raises(WarehouseError, match="No warehouse at"):
        data.warehouse_version()
    assert not (tmp_path / "elsewhere").exists()
