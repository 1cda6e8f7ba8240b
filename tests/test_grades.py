"""The exactness grade of every mineral, read as a person would read mineral_baskets.csv:
a mineral is a basket when one of its codes (in the newest edition loaded) is shared with
other goods, and the other goods are those codes' notes."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from critmin import grades
from critmin.catalog import load_catalog
from critmin.db import open_database
from critmin.settings import Settings


def test_every_minerals_grade_follows_its_codes(demo_warehouse_dir: Path) -> None:
    db = open_database(Settings(data_dir=demo_warehouse_dir, data_dir_is_default=False))
    catalog = load_catalog(db)
    minerals = list(catalog.mineral_labels)
    newest = catalog.baskets.filter(pl.col("hs_edition") == catalog.editions[-1])
    got = {g.mineral: g for g in grades.basket_grades(catalog, [*minerals, "not a mineral"])}
    assert list(got) == [m for m in minerals if m in set(newest["mineral"])]
    shared_seen = 0
    for mineral, grade in got.items():
        rows = newest.filter(pl.col("mineral") == mineral).sort("hs6")
        codes = sorted(set(rows["hs6"]))
        shared = rows.filter(pl.col("shared_basket"))
        assert grade.codes == "HS " + ", ".join(codes), mineral
        assert grade.grade == ("basket" if shared.height else "exact"), mineral
        for hs6, note in shared.select("hs6", "note").iter_rows():
            assert f"HS {hs6}: {note.split('. ')[0].rstrip('.')[:100]}" in grade.other_goods
        shared_seen += shared.height > 0
    assert 0 < shared_seen < len(got)  # both grades occur
    # In the order asked, each once.
    order = [g.mineral for g in grades.basket_grades(catalog, ["zinc", "gallium", "zinc"])]
    assert order == ["zinc", "gallium"]
    db.close()
