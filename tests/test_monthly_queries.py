"""The monthly queries on tiny data built in code: a customs office's declaration kept
before UN Comtrade's for the same reporter, month and code (and Comtrade's kept where
the office has none), exact national lines within their years, an importer group's
own trade left out, which months each reporter has published; and the grades pages
show for a series."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from conftest import monthly_row

from critmin import derive, grades, queries
from critmin.catalog import load_catalog
from critmin.db import open_database
from critmin.filters import MonthlyFilter
from critmin.reference_tables import BUNDLED_PARTS, write_reference_tables
from critmin.schema import TABLES
from critmin.settings import Settings
from critmin.warehouse import Warehouse

ROWS = [
    # The same month and code from Comtrade and the US Census: Census kept.
    monthly_row("comtrade", "USA", "KAZ", "811292", 1, 999.0),
    monthly_row("census", "USA", "KAZ", "811292", 1, 100.0),
    # Comtrade alone for February (Census has not that month): Comtrade kept.
    monthly_row("comtrade", "USA", "KAZ", "811292", 2, 70.0),
    # China only in Comtrade; manganese sulfate code too.
    monthly_row("comtrade", "CHN", "KAZ", "811292", 1, 40.0),
    monthly_row("comtrade", "CHN", "KAZ", "283329", 1, 5.0),
    # The exact gallium line, and germanium's, as the Census declares them.
    monthly_row("census", "USA", "KAZ", "8112921000", 1, 60.0),
    monthly_row("census", "USA", "CHN", "8112921000", 1, 30.0),
    monthly_row("census", "USA", "KAZ", "8112926000", 1, 20.0),
    # A gallium line before its years of validity (2022 on): not read.
    {**monthly_row("census", "USA", "KAZ", "8112921000", 3, 9.0, year=2021), "hs_edition": "HS17"},
    # EU members' declarations: intra-EU left out of the EU27's imports.
    monthly_row("comext", "DEU", "KAZ", "81129289", 1, 15.0),
    monthly_row("comext", "DEU", "FRA", "81129289", 1, 11.0),
    # Another reporter with a later month (for the reporting table).
    monthly_row("comtrade", "JPN", "USA", "283329", 4, 3.0),
]


def lines_with_eu_exact() -> pl.DataFrame:
    """The bundled national lines, with the EU's gallium line graded exact as it will be
    once its CN text is confirmed (the bundled file grades it proxy until then), so the
    queries are tested on an exact line of each importer."""
    from critmin import reference

    eu = pl.col("code") == "81129289"
    return reference.load_national_lines().with_columns(
        pl.when(eu).then(pl.lit("exact")).otherwise(pl.col("grade")).alias("grade"),
        pl.when(eu)
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("other_goods"))
        .alias("other_goods"),
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("monthly") / "warehouse"
    warehouse = Warehouse(root)
    frame = pl.DataFrame(ROWS, schema=TABLES["monthly_flows"].columns)
    lines_key = ("national_lines", "reference")
    with warehouse.transaction(derived=derive.refresh) as tx:
        write_reference_tables(tx, only={key for key in BUNDLED_PARTS if key != lines_key})
        tx.write_frame(
            "national_lines", "reference", lines_with_eu_exact(), source="critmin", release="test"
        )
        for source in ("comtrade", "census", "comext"):
            part = frame.filter(pl.col("source") == source)
            tx.write_frame("monthly_flows", source, part, source=source, release="test")
    database = open_database(Settings(data_dir=root, data_dir_is_default=False))
    yield database
    database.close()


def test_a_customs_office_is_kept_before_comtrade(db) -> None:  # type: ignore[no-untyped-def]
    f = MonthlyFilter(("gallium",), 202501, 202512)
    rows = queries.monthly_by_partner(db, f, "KAZ").frame
    got = sorted(rows.select("partner", "month", "source", "value_usd").rows())
    assert got == [
        ("CHN", 1, "comtrade", 40.0),
        ("USA", 1, "census", 100.0),
        ("USA", 2, "comtrade", 70.0),
    ]
    # Each row names the chosen minerals its code holds.
    both = MonthlyFilter(("gallium", "germanium", "manganese_sulfate"), 202501, 202512)
    minerals = queries.monthly_by_partner(db, both, "KAZ").frame.select("national_code", "minerals")
    assert dict(minerals.unique("national_code").rows()) == {
        "811292": ["gallium", "germanium"],
        "283329": ["manganese_sulfate"],
    }


def test_exact_lines_hold_only_the_mineral_within_their_years(db) -> None:  # type: ignore[no-untyped-def]
    f = MonthlyFilter(("gallium",), 202001, 202512, exact=True)
    rows = queries.monthly_by_partner(db, f, "KAZ").frame
    assert sorted(rows.select("reporter", "national_code", "value_usd").rows()) == [
        ("DEU", "81129289", 15.0),
        ("USA", "8112921000", 60.0),
    ]


def test_an_importer_groups_own_trade_is_left_out(db) -> None:  # type: ignore[no-untyped-def]
    catalog = load_catalog(db)
    f = MonthlyFilter(("gallium",), 202501, 202512, exact=True)
    eu = queries.monthly_imports(db, f, catalog.members("EU27")).frame
    assert eu.select("supplier", "value_usd").rows() == [("KAZ", 15.0)]
    usa = queries.monthly_imports(db, f, ("USA",)).frame
    assert sorted(usa.select("supplier", "value_usd").rows()) == [("CHN", 30.0), ("KAZ", 60.0)]


def test_which_months_each_reporter_published(db) -> None:  # type: ignore[no-untyped-def]
    frame = load_catalog(db).reporting(202501, 202512)
    got = {
        (r, s): (a, b, m)
        for r, s, a, b, m in frame.select(
            "reporter", "source", "first_ym", "last_ym", "months"
        ).rows()
    }
    assert got[("USA", "census")] == (202501, 202501, [202501])
    assert got[("USA", "comtrade")] == (202501, 202502, [202501, 202502])
    assert got[("JPN", "comtrade")] == (202504, 202504, [202504])


def test_catalog_names_the_latest_month_and_sources(db) -> None:  # type: ignore[no-untyped-def]
    catalog = load_catalog(db)
    assert catalog.latest_month() == 202504
    assert not catalog.monthly_synthetic
    assert set(catalog.monthly["source"]) == {"comtrade", "census", "comext"}


def test_grades_name_the_other_goods_and_the_exact_lines(db) -> None:  # type: ignore[no-untyped-def]
    catalog = load_catalog(db)
    (gallium,) = grades.basket_grades(catalog, ["gallium"])
    assert gallium.grade == "basket" and "811292" in gallium.codes
    assert "indium" in gallium.other_goods
    (lithium,) = grades.basket_grades(catalog, ["lithium"])
    us = grades.line_grades(catalog, ["gallium", "manganese_sulfate"], "USA")
    assert [(g.mineral, g.grade) for g in us] == [("gallium", "exact")]
    assert "8112921000" in us[0].codes and us[0].other_goods == ""
    assert grades.line_grades(catalog, ["gallium"], "JPN") == []
    assert grades.exact_lines(catalog, "gallium", "EU27")["code"].to_list() == ["81129289"]
    assert lithium.grade in ("exact", "basket")


def test_an_unconfirmed_line_is_never_graded_exact() -> None:
    """A line whose text was not seen in the tariff itself is proxy, naming why; the EU's
    CN8 lines for gallium and germanium are such lines until their CN text is confirmed."""
    from critmin import reference

    lines = reference.load_national_lines()
    for row in lines.iter_rows(named=True):
        if row["grade"] == "exact":
            assert "not seen" not in row["evidence"] and "not checked" not in row["label"], row
    eu = lines.filter(pl.col("classification") == "CN8")
    assert set(eu["grade"]) == {"proxy"} and all("graded proxy" in e for e in eu["evidence"])


def test_monthly_filter_refuses_odd_months() -> None:
    with pytest.raises(ValueError, match="year \\* 100 \\+ month"):
        MonthlyFilter(("gallium",), 202513, 202601)
    with pytest.raises(ValueError, match="reversed"):
        MonthlyFilter(("gallium",), 202602, 202601)


def test_national_lines_reference_rejects_a_bad_row(tmp_path: Path) -> None:
    from critmin import reference

    good = (reference.REFERENCE_DIR / "national_lines.csv").read_text().splitlines()
    bad = tmp_path / "national_lines.csv"
    bad.write_text("\n".join([good[0], good[1].replace("8112921000", "811292100", 1)]) + "\n")
    with pytest.raises(reference.ReferenceError, match="line 2: HTS10 code '811292100' must be 10"):
        reference.load_national_lines.__wrapped__(bad)


def test_pages_read_the_declarations_of_their_codes_not_every_declaration(db) -> None:  # type: ignore[no-untyped-def]
    """monthly_flows (every code every reporter declared: millions of rows) stays in its
    files; the pages' monthly queries read the derived tables, which are held in memory."""
    db.held.wait()
    cursor = db.connection.cursor()
    held = {
        row[0]
        for row in cursor.sql(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'held'"
        ).fetchall()
    }
    cursor.close()
    assert "monthly_flows" not in held
    assert {"monthly_exports", "monthly_mirror", "monthly_published"} <= held
    f = MonthlyFilter(("gallium",), 202501, 202512)
    results = [
        queries.monthly_by_partner(db, f, "KAZ"),
        queries.monthly_imports(db, f, ("USA",)),
        queries.monthly_mirror(db, "KAZ", ["gallium"], 202501, 202512),
        queries.monthly_published(db),
    ]
    for result in results:
        code = re.sub(r"--[^\n]*", "", result.sql)  # the statement without its comments
        assert "monthly_flows" not in code, result.query
