"""`Warehouse.batch`: several loads that take effect together (`critmin fetch all`) as
steps of one transaction: a failed step rolled back alone, one commit for the rest, the
derived tables computed once, nothing visible before the commit."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from critmin import derive
from critmin.warehouse import Warehouse, file_sha256


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): file_sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def production(value: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "country": ["KAZ"],
            "commodity": ["Zinc"],
            "statistic": ["Mine production"],
            "year": [2024],
            "value": [value],
            "unit": ["metric tons"],
            "value_flag": [None],
            "source": ["test"],
        },
        schema_overrides={"year": pl.Int32, "value_flag": pl.String},
    )


def write_step(warehouse: Warehouse, part: str, value: float) -> None:
    """What an ingest does: open a transaction on the warehouse and write a part."""
    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.write_frame("production", part, production(value), source="test", release=part)


def read(warehouse: Warehouse, part: str) -> list[float]:
    files = [warehouse.root / f for f in warehouse.parts("production")[part].files]
    return pl.read_parquet(files)["value"].to_list()


def test_steps_take_effect_together_at_the_end(demo_copy: Path) -> None:
    warehouse = Warehouse(demo_copy)
    before = (demo_copy / "manifest.json").read_text()
    with warehouse.batch(derived=derive.refresh) as batch:
        write_step(warehouse, "first", 1.0)
        write_step(warehouse, "second", 2.0)
        # Nothing is visible before the batch commits.
        assert (demo_copy / "manifest.json").read_text() == before
        assert set(batch.final_parts("production")) >= {"first", "second"}
        assert batch.changed_parts() == ["production/first", "production/second"]
    assert read(Warehouse(demo_copy), "first") == [1.0]
    assert read(Warehouse(demo_copy), "second") == [2.0]
    assert Warehouse(demo_copy).check() == []


def test_a_failed_step_is_rolled_back_alone(demo_copy: Path) -> None:
    warehouse = Warehouse(demo_copy)
    with warehouse.batch(derived=derive.refresh):
        write_step(warehouse, "kept", 1.0)
        with pytest.raises(ValueError, match="bad input"):
            with warehouse.transaction(derived=derive.refresh) as tx:
                tx.write_frame("production", "lost", production(2.0), source="t", release="x")
                raise ValueError("bad input")
    parts = Warehouse(demo_copy).parts("production")
    assert "kept" in parts and "lost" not in parts
    assert not (demo_copy / "production" / "lost").exists() or not any(
        (demo_copy / "production" / "lost").iterdir()
    )


def test_a_batch_that_raises_changes_nothing(demo_copy: Path) -> None:
    before = snapshot(demo_copy)
    warehouse = Warehouse(demo_copy)
    with pytest.raises(RuntimeError), warehouse.batch(derived=derive.refresh):
        write_step(warehouse, "first", 1.0)
        write_step(warehouse, "second", 2.0)
        raise RuntimeError("stop before the commit")
    assert snapshot(demo_copy) == before


def test_a_later_step_replaces_what_an_earlier_one_staged(demo_copy: Path) -> None:
    warehouse = Warehouse(demo_copy)
    with warehouse.batch(derived=derive.refresh):
        write_step(warehouse, "same", 1.0)
        staged = next((demo_copy / "production" / "same").iterdir())
        write_step(warehouse, "same", 2.0)
        assert not staged.exists()  # the superseded version is gone at once
    assert read(Warehouse(demo_copy), "same") == [2.0]
    assert len(list((demo_copy / "production" / "same").iterdir())) == 1


def test_a_step_sees_what_earlier_steps_staged(demo_copy: Path) -> None:
    warehouse = Warehouse(demo_copy)
    with warehouse.batch(derived=derive.refresh):
        write_step(warehouse, "first", 1.0)
        with warehouse.transaction() as step:
            assert "first" in step.final_parts("production")
            step.drop_part("production", "first")
    assert "first" not in Warehouse(demo_copy).parts("production")
