"""The Data explorer's analysis: grouped sums, pivots, facets, charts, the query card
and its downloads, on a tiny warehouse built in code (golden frames), and the page
itself through AppTest on the demo warehouse."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import streamlit as st
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from critmin import derive, queries
from critmin.catalog import load_catalog
from critmin.db import Database
from critmin.filters import Grouping, Sort, TradeFilter
from critmin.schema import empty_frame
from critmin.settings import Settings
from critmin.ui import downloads
from critmin.views import explorer
from critmin.warehouse import Provenance, Warehouse

APP = str(Path(__file__).resolve().parents[1] / "app.py")

# 811292 sits in two baskets (gallium and vanadium), both refined; vanadium also has
# an intermediate code, chromium an ore and an intermediate one.
BASKETS = pl.DataFrame(
    {
        "mineral": ["chromium", "chromium", "gallium", "vanadium", "vanadium"],
        "label": ["Chromium", "Chromium", "Gallium", "Vanadium", "Vanadium"],
        "hs_edition": ["HS12"] * 5,
        "hs6": ["261000", "720241", "811292", "811292", "720292"],
        "stage": ["ore", "intermediate", "refined", "refined", "intermediate"],
        "shared_basket": [False, False, True, True, False],
        "note": [""] * 5,
        "lists": [["USGS2025"]] * 5,
        "citation": ["t"] * 5,
    }
)


def flow(year, hs6, exporter, importer, value, kg, side="reconciled", source="baci"):
    return {
        "year": year,
        "hs_edition": "HS12",
        "hs6": hs6,
        "exporter": exporter,
        "importer": importer,
        "value_usd": value,
        "quantity_kg": kg,
        "source": source,
        "side": side,
        "release": "V1",
    }


FLOWS = pl.DataFrame(
    [
        flow(2020, "811292", "KAZ", "CHN", 300.0, 3.0),
        flow(2021, "811292", "KAZ", "CHN", 600.0, 4.0),
        flow(2021, "811292", "KAZ", "DEU", 100.0, 1.0),
        flow(2021, "720292", "KAZ", "USA", 50.0, 10.0),
        flow(2020, "261000", "KAZ", "CHN", 1000.0, 100_000.0),
        flow(2021, "261000", "KAZ", "RUS", 2000.0, 200_000.0),
        flow(2021, "720241", "KAZ", "CHN", 500.0, 400.0),
        flow(2021, "720241", "UZB", "CHN", 70.0, 70.0),
        flow(2021, "720241", "KAZ", "CHN", 450.0, None, "exporter_reported", "comtrade"),
    ],
    schema_overrides={"quantity_kg": pl.Float64, "year": pl.Int32},
)
MINERALS = ("chromium", "gallium", "vanadium")
GROUPS = (("CHN", "China"), ("DEU", "EU27"), ("RUS", "Russia"), ("USA", "United States"))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    root = tmp_path_factory.mktemp("explorer") / "wh"
    countries = pl.DataFrame(
        {
            "iso3": ["CHN", "DEU", "KAZ", "RUS", "USA", "UZB"],
            "iso_numeric": [156, 276, 398, 643, 840, 860],
            "name": ["China", "Germany", "Kazakhstan", "Russia", "United States", "Uzbekistan"],
            "continent": ["Asia", "Europe", "Asia", "Europe", "America", "Asia"],
            "region": ["r"] * 6,
            "groups": [["BRICS"], ["EU27"], ["C5"], ["BRICS"], ["G7"], ["C5"]],
            "lat": [0.0] * 6,
            "lon": [0.0] * 6,
        },
        schema_overrides={"iso_numeric": pl.Int32},
    )
    products = pl.DataFrame(
        {
            "hs_edition": ["HS12"] * 2,
            "hs6": ["811292", "261000"],
            "description": ["Gallium, germanium, ...", "Chromium ores"],
            "source": ["baci"] * 2,
        }
    )
    warehouse = Warehouse(root)
    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.write_frame("trade_flows", "test", FLOWS, source="baci", release="V1")
        tx.write_frame("mineral_baskets", "reference", BASKETS, source="t", release="1")
        tx.write_frame("countries", "reference", countries, source="t", release="1")
        tx.write_frame("products", "reference", products, source="t", release="1")
        for table in ("deposits", "production", "events"):
            tx.write_frame(table, "reference", empty_frame(table), source="t", release="1")
        tx.add_provenance(
            Provenance.without_file(
                source="baci",
                release="V1",
                table="trade_flows",
                licence="Etalab 2.0",
                citation="A tiny release written by the test",
            )
        )
    return Database(
        warehouse, Settings(data_dir=root, data_dir_is_default=False, row_cap=100, sql_box=True)
    )


def kaz(minerals=MINERALS, year_from=2020, year_to=2021, **changes) -> TradeFilter:
    return TradeFilter(tuple(minerals), (), year_from, year_to, exporters=("KAZ",), **changes)


def grouped(
    db: Database, f: TradeFilter, g: Grouping, sort: str = "value_usd", descending: bool = True
) -> pl.DataFrame:
    return queries.flows_grouped(db, f, g, Sort(sort, descending)).frame


def test_grouped_by_mineral_counts_a_shared_code_under_each_and_once_in_the_total(db):
    out = grouped(db, kaz(), Grouping(("mineral",)))
    got = out.select("part", "mineral", "flows", "value_usd", "tonnes", "stages")
    expected = pl.DataFrame(
        {
            "part": [0, 3, 3, 3],
            "mineral": [None, "chromium", "vanadium", "gallium"],
            # 811292 under gallium and under vanadium; once in the total (4,550)
            "flows": [7, 3, 4, 3],
            "value_usd": [4550.0, 3500.0, 1050.0, 1000.0],
            # tonnes only within one stage: chromium and vanadium mix two
            "tonnes": [None, None, None, 0.008],
            "stages": [7, 3, 6, 4],
        },
        schema_overrides={"part": pl.Int64, "flows": pl.Int64, "stages": pl.Int32},
    )
    assert_frame_equal(got, expected)
    shares = dict(out.select("mineral", "share_pct").iter_rows())
    assert shares[None] == pytest.approx(100.0)
    assert shares["chromium"] == pytest.approx(100 * 3500 / 4550)
    # change of 2021 on 2020, per mineral and for the total
    change = dict(out.select("mineral", "change_pct").iter_rows())
    assert change["chromium"] == pytest.approx(150.0)  # 2,500 on 1,000
    assert change["gallium"] == pytest.approx(100 * (700 / 300 - 1))
    assert change[None] == pytest.approx(100 * (3250 / 1300 - 1))


def test_grouped_by_year_adds_every_flow_once_and_changes_on_the_previous_year(db):
    out = grouped(db, kaz(["gallium", "vanadium"]), Grouping(("year",)), "year", False)
    assert out.select("part", "year", "value_usd", "flows").rows() == [
        (0, None, 1050.0, 4),
        (3, 2020, 300.0, 1),
        (3, 2021, 750.0, 3),
    ]
    change = out.filter(pl.col("part") == 3)["change_pct"].to_list()
    assert change[0] is None and change[1] == pytest.approx(150.0)
    # share of its own year's total: 100% per year when only years are grouped
    assert out.filter(pl.col("part") == 3)["share_pct"].to_list() == pytest.approx([100.0] * 2)


def test_a_pivot_has_row_column_and_grand_totals(db):
    g = Grouping(("partner_group",), "year", GROUPS)
    out = grouped(db, kaz(["chromium"]), g)
    cells = {
        (part, group, across): value
        for part, group, across, value in out.select(
            "part", "partner_group", "across", "value_usd"
        ).iter_rows()
    }
    assert cells == {
        (0, None, None): 3500.0,
        (1, None, "2020"): 1000.0,
        (1, None, "2021"): 2500.0,
        (2, "Russia", None): 2000.0,
        (2, "China", None): 1500.0,
        (3, "Russia", "2021"): 2000.0,
        (3, "China", "2021"): 500.0,
        (3, "China", "2020"): 1000.0,
    }
    assert out["part"].to_list() == sorted(out["part"].to_list()), "totals come first"


def test_partners_in_no_group_are_the_rest(db):
    out = grouped(db, kaz(["gallium"]), Grouping(("partner_group",), "", GROUPS[:1], "Others"))
    assert dict(out.select("partner_group", "value_usd").iter_rows()) == {
        None: 1000.0,
        "China": 900.0,
        "Others": 100.0,
    }


def test_facets_count_each_value_under_the_other_filters(db):
    f = TradeFilter(("chromium",), (), 2021, 2021)
    exporters = queries.flows_facet(db, f, "exporter").frame
    assert exporters.rows() == [("KAZ", 2, 2500.0), ("UZB", 1, 70.0)]
    every = kaz(year_from=2021)
    minerals = queries.flows_facet(db, every, "mineral").frame
    assert minerals.rows() == [
        ("chromium", 2, 2500.0),
        ("vanadium", 3, 750.0),
        ("gallium", 2, 700.0),
    ]
    sides = queries.flows_facet(db, kaz(["chromium"], 2021, sides=()), "side").frame
    assert sides.rows() == [("reconciled", 2, 2500.0), ("exporter_reported", 1, 450.0)]
    stages = queries.flows_facet(db, every, "stage").frame
    assert stages.rows() == [("ore", 1, 2000.0), ("refined", 2, 700.0), ("intermediate", 2, 550.0)]


def state(**changes) -> explorer.State:
    base = explorer.State(
        ("KAZ",), (), MINERALS, (), 2020, 2021, ("reconciled",), "value_usd", "desc"
    )
    return replace(base, **changes)


def test_the_view_names_things_and_puts_the_total_last(db):
    catalog = load_catalog(db)
    view = explorer.build(db, catalog, state(group=("importer",)))
    assert view.grouped and not view.pivoted
    assert view.rows.columns[:2] == ["importer", "importer_iso3"]
    assert view.rows["importer"].to_list() == [
        "China",
        "Russia",
        "Germany",
        "United States",
        explorer.TOTAL,
    ]
    assert view.rows["value_usd_m"].to_list() == pytest.approx(
        [0.0024, 0.002, 0.0001, 0.00005, 0.00455]
    )
    # China mixes ore and intermediate chromium with refined gallium: no tonnes
    china = view.rows.row(0, named=True)
    assert china["tonnes"] is None and china["tonnes_note"] == "ore + intermediate + refined"
    assert any("Tonnes are added only within one value-chain stage" in n for n in view.notes)
    assert "summed by **importer (partner)**" in view.card.in_words
    assert view.chart is not None and view.chart.kind == "bars"


def test_the_pivot_table_and_its_chart(db):
    catalog = load_catalog(db)
    view = explorer.build(
        db, catalog, state(minerals=("chromium",), group=("importer",), across="year")
    )
    assert view.pivoted
    assert view.rows.columns == ["importer", "importer_iso3", "2020", "2021", explorer.TOTAL]
    assert view.rows.select("importer", "importer_iso3").rows() == [
        ("Russia", "RUS"),
        ("China", "CHN"),
        (explorer.TOTAL, None),
    ]
    assert view.rows["2020"].to_list() == [None, pytest.approx(0.001), pytest.approx(0.001)]
    assert view.rows["2021"].to_list() == pytest.approx([0.002, 0.0005, 0.0025])
    assert view.rows[explorer.TOTAL].to_list() == pytest.approx([0.002, 0.0015, 0.0035])
    assert view.chart is not None and (view.chart.kind, view.chart.x) == ("stacked", "year")
    lines = explorer.build(db, catalog, state(group=("year", "importer")))
    assert lines.chart is not None and (lines.chart.kind, lines.chart.color) == (
        "lines",
        "importer",
    )
    unit = explorer.build(
        db, catalog, state(group=("importer",), across="mineral", measure="unit_value")
    )
    assert unit.chart is None and any("No chart" in n for n in unit.notes)


def test_all_minerals_is_a_choice_of_its_own(db):
    catalog = load_catalog(db)
    every = explorer.build(db, catalog, state(minerals=(), products="all", group=("mineral",)))
    assert every.rows["value_usd_m"][-1] == pytest.approx(0.00455)
    none = explorer.build(db, catalog, state(minerals=(), group=("mineral",)))
    assert none.rows.is_empty()
    assert "**all minerals**" in every.card.in_words


def test_the_query_card_sql_gives_the_same_rows(db):
    """The SQL shown (with its values written in) runs in the SQL box to the rows the
    app got."""
    catalog = load_catalog(db)
    asked = state(group=("partner_group", "year"), across="mineral")
    view = explorer.build(db, catalog, asked)
    code = re.sub(r"--[^\n]*", "", view.card.sql)
    assert "flows_grouped" in view.card.sql and "$" not in code
    g = asked.grouping(catalog)
    assert g is not None
    direct = queries.flows_grouped(db, asked.trade_filter(catalog), g, Sort("value_usd"))
    assert_frame_equal(db.user_query(view.card.sql).frame, direct.frame)
    flat = explorer.build(db, catalog, state())
    again = db.user_query(flat.card.sql).frame
    assert again.height == flat.rows.height
    assert again["value_usd"].sum() / 1e6 == pytest.approx(flat.rows["value_usd_m"].sum())


def test_the_excel_download_has_a_sheet_about_the_query(db):
    catalog = load_catalog(db)
    view = explorer.build(db, catalog, state(group=("mineral",)))
    about = explorer.about_sheet(view, "http://localhost:8501/explorer?group=mineral")
    book = openpyxl.load_workbook(io.BytesIO(downloads.to_excel(view.rows, about)))
    assert book.sheetnames == ["flows", "about"]
    rows = [tuple(r) for r in book["flows"].iter_rows(values_only=True)]
    assert rows[0] == tuple(view.rows.columns) and len(rows) == view.rows.height + 1
    assert rows[-1][0] == explorer.TOTAL
    items = [tuple(r) for r in book["about"].iter_rows(min_row=2, values_only=True)]
    found = {item: detail for item, detail in items}
    assert found["Link"].endswith("group=mineral")
    assert "flows_grouped" in found["SQL"]
    assert any(item == "Data" and "release V1" in detail for item, detail in items)
    assert (
        "Source: baci",
        "release: V1; licence: Etalab 2.0; citation: A tiny release written by the test",
    ) in items


# --- the page ------------------------------------------------------------------------


def run_page(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("pages/explorer.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_page_groups_pivots_and_charts_from_a_link(app_env: Path) -> None:
    at = run_page(
        {"exporters": "KAZ", "products": "all", "group": "partner_group", "across": "year"}
    )
    table = at.dataframe[0].value
    assert list(table.columns)[0] == "partner_group" and list(table.columns)[-1] == "Total"
    assert table.iloc[-1, 0] == "Total"
    assert "China" in set(table["partner_group"])
    assert at.get("vega_lite_chart"), "the pivot is charted"
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download CSV", "Download Excel", "Download Parquet", "Download chart (SVG)"]
    words = " ".join(str(m.value) for m in at.markdown)
    assert "summed by **partner group**" in words and "**all minerals**" in words


def test_page_grouping_reaches_the_url(app_env: Path) -> None:
    at = run_page({"exporters": "KAZ", "minerals": "gallium"})
    assert not at.get("vega_lite_chart"), "a list of flows has no chart"
    at.multiselect(key="explorer:group").set_value(["year", "importer"]).run()
    at.selectbox(key="explorer:chart").set_value("stacked").run()
    assert not at.exception
    assert at.query_params["group"] in (["year,importer"], "year,importer")
    assert at.query_params["chart"] in (["stacked"], "stacked")
    assert at.dataframe[0].value.iloc[-1, 0] == "Total"
    assert at.get("vega_lite_chart")


def test_every_filter_shows_counts_and_keeps_options_with_none(app_env: Path) -> None:
    st.cache_data.clear()
    at = run_page({"exporters": "KAZ", "minerals": "gallium", "importers": "CHN"})
    importers = at.multiselect(key="explorer:importers")
    labels = importers.options
    assert any(label.startswith("China (CHN) · ") and " flows · USD " in label for label in labels)
    assert any(label.endswith(" (0)") for label in labels), "options with nothing stay, greyed"
    assert len(labels) == len(set(labels)) > 200, "every country is offered"
    # The exporters' counts ignore the exporters filter itself (Datasette's facets).
    exporters = at.multiselect(key="explorer:exporters").options
    assert sum(" flows · " in label for label in exporters) > 1
    for key in ("explorer:minerals", "explorer:stages", "explorer:sides"):
        assert any(" flows · " in label for label in at.multiselect(key=key).options), key


def test_the_readme_questions_open_as_written(app_env: Path) -> None:
    """The links of README's "Asking the Data explorer" open without a link problem
    and answer with a table that ends with its total."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Asking the Data explorer", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"\(`/explorer\?([^`]+)`\)", section)
    assert len(links) == 3
    for link in links:
        params = dict(pair.split("=", 1) for pair in link.split("&"))
        at = run_page(params)
        assert not [w for w in at.warning if "Link problem" in str(w.value)], link
        assert at.dataframe[0].value.iloc[-1, 0] == "Total", link
