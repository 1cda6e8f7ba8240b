"""A warehouse loaded by an earlier critmin holds that version's baskets, HS texts and
events: `critmin reindex` (run by `make run`) and the next ingest bring this version's,
with the derived tables recomputed; reference parts a user wrote are never replaced."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from critmin import cli, derive, reference_tables
from critmin.schema import empty_frame
from critmin.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[1]


def _age_baskets(root: Path) -> None:
    """Make the warehouse look written by an earlier critmin: an older basket file
    (no uranium) under an older release label."""
    warehouse = Warehouse(root)
    part = warehouse.parts("mineral_baskets")["reference"]
    files = [root / f for f in part.files]
    old = pl.read_parquet(files).filter(pl.col("mineral") != "uranium")
    # The derived tables are computed from the older baskets too, as they were then.
    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.write_frame("mineral_baskets", "reference", old, source="critmin", release="1")
    assert "uranium" not in set(pl.read_parquet(warehouse.files("mineral_flows"))["mineral"])


def _minerals(root: Path) -> set[str]:
    warehouse = Warehouse(root)
    return set(pl.read_parquet(warehouse.files("mineral_baskets"))["mineral"])


def test_reindex_brings_this_versions_baskets(demo_copy: Path, capsys) -> None:
    _age_baskets(demo_copy)
    assert "uranium" not in _minerals(demo_copy)
    assert reference_tables.outdated_in(Warehouse(demo_copy))

    assert cli.main(["--data-dir", str(demo_copy), "status"]) == 0
    assert "mineral_baskets/reference was written from other reference files" in (
        capsys.readouterr().out
    )

    assert cli.main(["--data-dir", str(demo_copy), "reindex"]) == 0
    assert "Reference tables rewritten" in capsys.readouterr().out
    warehouse = Warehouse(demo_copy)
    assert "uranium" in _minerals(demo_copy)
    assert reference_tables.outdated_in(warehouse) == []
    flows = pl.read_parquet(warehouse.files("mineral_flows"))
    assert "uranium" in set(flows["mineral"]), "the derived table follows the new baskets"

    # Once current, reindex writes nothing.
    before = json.loads(warehouse.manifest_path.read_text())
    assert cli.main(["--data-dir", str(demo_copy), "reindex"]) == 0
    assert json.loads(warehouse.manifest_path.read_text()) == before


def test_an_ingest_brings_this_versions_baskets(demo_copy: Path) -> None:
    _age_baskets(demo_copy)
    sample = REPO / "tests" / "data" / "deposits" / "generic_sample.csv"
    assert cli.main(["--data-dir", str(demo_copy), "ingest", "deposits", str(sample)]) == 0
    assert "uranium" in _minerals(demo_copy)
    assert reference_tables.outdated_in(Warehouse(demo_copy)) == []


def test_reference_parts_of_the_users_own_are_kept(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w")
    own = empty_frame("events")
    with warehouse.transaction() as tx:
        tx.write_frame("events", "reference", own, source="my-team", release="7")
    assert not any(line.startswith("events/") for line in reference_tables.outdated_in(warehouse))
    written = reference_tables.refresh(warehouse)
    assert "mineral_baskets/reference is missing" in written
    assert warehouse.parts("events")["reference"].release == "7", "the user's own part is kept"
    assert warehouse.parts("mineral_baskets")["reference"].release.startswith("bundled-")
    assert reference_tables.refresh(warehouse) == []


@pytest.mark.parametrize("changed", ["mineral_baskets.csv", "events.csv"])
def test_the_bundled_release_follows_the_files(changed: str, monkeypatch, tmp_path) -> None:
    from critmin import reference

    copy = tmp_path / "reference"
    copy.mkdir()
    for path in reference.REFERENCE_DIR.glob("*.csv"):
        (copy / path.name).write_bytes(path.read_bytes())
    reference_tables.bundled_release.cache_clear()
    monkeypatch.setattr(reference, "REFERENCE_DIR", copy)
    before = reference_tables.bundled_release()
    with (copy / changed).open("a", encoding="utf-8") as handle:
        handle.write("\n")
    reference_tables.bundled_release.cache_clear()
    try:
        assert reference_tables.bundled_release() != before
    finally:
        reference_tables.bundled_release.cache_clear()
