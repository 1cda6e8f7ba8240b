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
