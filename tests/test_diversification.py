"""The Diversification page: golden tests of `views.diversification.build` on a tiny
warehouse whose answers are computed by hand, and AppTest runs of the page on the
demo warehouse."""

from __future__ import annotations

import io

import conftest
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from critmin import derive, queries
from critmin.catalog import Catalog, load_catalog
from critmin.db import Database
from critmin.filters import TradeFilter
from critmin.schema import empty_frame
from critmin.settings import Settings
from critmin.ui import downloads
from critmin.ui import format as fmt
from critmin.views import diversification as div
from critmin.views import usgs
from critmin.warehouse import Warehouse

RELIANCE_STAT = "Net import reliance as a percentage of apparent consumption"

# Chromium spans two stages (ore and ferrochrome), whose tonnes never add up; a
# ferrochrome-only basket of the same flows is one stage and shows its tonnes.
BASKETS = pl.DataFrame(
    {
        "mineral": ["chromium", "chromium", "ferrochrome"],
        "label": ["Chromium", "Chromium", "Ferrochrome"],
        "hs_edition": ["HS17", "HS17", "HS17"],
        "hs6": ["261000", "720241", "720241"],
        "stage": ["ore", "intermediate", "intermediate"],
        "shared_basket": [False, False, False],
        "note": ["", "", ""],
        "lists": [["USGS2025"], ["USGS2025"], ["USGS2025"]],
        "citation": ["HS 2017", "HS 2017", "HS 2017"],
    }
)


def flow(year, hs6, exporter, importer, value, tonnes):
    return {
        "year": year,
        "hs_edition": "HS17",
        "hs6": hs6,
        "exporter": exporter,
        "importer": importer,
        "value_usd": value,
        "quantity_kg": None if tonnes is None else tonnes * 1000.0,
        "source": "baci",
        "side": "reconciled",
        "release": "V1",
    }


# 2024, the USA buys 100 t from China (USD 1,000), 50 t from Russia (400) and 50 t from
# Kazakhstan (600, in two codes). Kazakhstan exports 80 t (900) to the world, 50 t of it
# to the USA. Uzbekistan sells 4 t to Germany; Kyrgyzstan sells to Japan without a
# quantity. The EU (Germany, France) buys from China, Kazakhstan and Uzbekistan, and
# Germany sells to France (trade among members, not EU imports).
FLOWS = pl.DataFrame(
    [
        flow(2023, "720241", "CHN", "USA", 1000.0, 100.0),
        flow(2023, "720241", "KAZ", "USA", 1000.0, 100.0),
        flow(2024, "720241", "CHN", "USA", 1000.0, 100.0),
        flow(2024, "720241", "RUS", "USA", 400.0, 50.0),
        flow(2024, "720241", "KAZ", "USA", 400.0, 30.0),
        flow(2024, "261000", "KAZ", "USA", 200.0, 20.0),
        flow(2024, "720241", "KAZ", "CHN", 200.0, 20.0),
        flow(2024, "720241", "KAZ", "FRA", 100.0, 10.0),
        flow(2024, "720241", "UZB", "DEU", 50.0, 4.0),
        flow(2024, "720241", "KGZ", "JPN", 20.0, None),
        flow(2024, "720241", "CHN", "DEU", 100.0, 10.0),
        flow(2024, "720241", "DEU", "FRA", 50.0, 5.0),
        flow(2024, "999999", "KAZ", "USA", 7777.0, 777.0),  # another good, outside the basket
    ],
    schema_overrides={"quantity_kg": pl.Float64, "year": pl.Int32},
)

COUNTRIES = {
    "CHN": ("China", ["BRICS"]),
    "DEU": ("Germany", ["EU27"]),
    "FRA": ("France", ["EU27"]),
    "JPN": ("Japan", ["G7"]),
    "KAZ": ("Kazakhstan", ["C5"]),
    "KGZ": ("Kyrgyzstan", ["C5"]),
    "RUS": ("Russia", ["BRICS"]),
    "TJK": ("Tajikistan", ["C5"]),
    "TKM": ("Turkmenistan", ["C5"]),
    "USA": ("United States", ["G7"]),
    "UZB": ("Uzbekistan", ["C5"]),
}


def production_row(country, statistic, year, value, flag=None):
    return {
        "country": country,
        "commodity": "Chromium",
        "statistic": statistic,
        "year": year,
        "value": value,
        "unit": "percent" if "reliance" in statistic else "metric tons",
        "value_flag": flag,
        "source": "usgs_mcs",
    }


PRODUCTION = pl.DataFrame(
    [
        production_row("KAZ", "Mine production", 2023, 5_000_000.0),
        production_row("KAZ", "Mine production", 2024, 6_100_000.0, "e"),
        production_row("KAZ", "Reserves: Ore", 2024, 230_000_000.0),
        production_row("KAZ", "Import sources 2021-2024: Total imports", 2024, 11.0),
        production_row("USA", RELIANCE_STAT, 2023, 76.0),
        production_row("USA", RELIANCE_STAT, 2024, 77.0),
        production_row("USA", RELIANCE_STAT, 2025, 80.0, "e"),
        production_row("USA", "Mine production", 2024, None, "—"),
    ],
    schema_overrides={"year": pl.Int32, "value_flag": pl.String},
)

MINERAL_USGS = pl.DataFrame(
    {
        "mineral": ["chromium"] * 3,
        "mcs_commodity": ["Chromium"] * 3,
        "statistic": ["Mine production", "Reserves: Ore", RELIANCE_STAT],
        "measure": [
            "gross weight of marketable chromite ore",
            "gross weight of chromite ore",
            "percent of US apparent consumption, chromium content",
        ],
        "note": ["Ferrochrome is alloy weight, not ore.", "", ""],
    }
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, Catalog]:
    root = tmp_path_factory.mktemp("diversification") / "wh"
    warehouse = Warehouse(root)
    countries = pl.DataFrame(
        {
            "iso3": list(COUNTRIES),
            "iso_numeric": list(range(1, len(COUNTRIES) + 1)),
            "name": [name for name, _ in COUNTRIES.values()],
            "continent": ["x"] * len(COUNTRIES),
            "region": ["x"] * len(COUNTRIES),
            "groups": [groups for _, groups in COUNTRIES.values()],
            "lat": [0.0] * len(COUNTRIES),
            "lon": [0.0] * len(COUNTRIES),
        },
        schema_overrides={"iso_numeric": pl.Int32},
    )
    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.write_frame("trade_flows", "test", FLOWS, source="baci", release="V1")
        tx.write_frame("mineral_baskets", "reference", BASKETS, source="t", release="1")
        tx.write_frame("countries", "reference", countries, source="t", release="1")
        tx.write_frame("production", "usgs", PRODUCTION, source="t", release="1")
        tx.write_frame("products", "reference", empty_frame("products"), source="t", release="1")
        tx.write_frame("events", "reference", empty_frame("events"), source="t", release="1")
    db = Database(warehouse, Settings(data_dir=root, data_dir_is_default=False, row_cap=1000))
    return db, load_catalog(db)


@pytest.fixture
def usgs_map(monkeypatch: pytest.MonkeyPatch) -> None:
    """The view reads this small mapping instead of the curated mineral_usgs.csv."""
    monkeypatch.setattr(usgs, "load_mineral_usgs", lambda: MINERAL_USGS)


def build(tiny, importer="USA", year=2024, pct=50, source="both", mineral="chromium") -> div.View:
    db, catalog = tiny
    return div.build(db, catalog, div.State(importer, mineral, year, "reconciled", pct, source))


def redirect_row(view: div.View, country: str) -> dict[str, object]:
    return view.scenario.redirect.filter(pl.col("Country") == country).row(0, named=True)


# --- the importer's suppliers -----------------------------------------------------------


def test_suppliers_their_shares_and_concentration(tiny, usgs_map):
    view = build(tiny)
    assert not view.imports.no_imports
    assert view.imports.total_usd == pytest.approx(2000.0)  # the other good's 7,777 left out
    # Kazakhstan's 50 t were 30 t of ferrochrome and 20 t of chromite ore: no tonnes.
    assert view.imports.total_kg is None
    assert "2 value-chain stages" in (view.scenario.tonnes_note or "")
    expected = pl.DataFrame(
        {
            "Rank": [1, 2, 3],
            "Supplier": ["China", "Kazakhstan", "Russia"],
            "Imports (USD)": [1000.0, 600.0, 400.0],
            "Imports (t)": [None, None, None],
            "Share of value %": [50.0, 30.0, 20.0],
            "Share of tonnes %": [None, None, None],
        },
        schema_overrides={
            "Rank": pl.Int32,
            "Imports (t)": pl.Float64,
            "Share of tonnes %": pl.Float64,
        },
    )
    assert_frame_equal(view.imports.suppliers, expected)
    # 50² + 30² + 20² on the 0-10,000 scale
    assert view.imports.hhi == pytest.approx(3800.0)
    assert view.imports.band == "highly concentrated"
    assert view.imports.china_share == pytest.approx(0.5)
    assert view.imports.russia_share == pytest.approx(0.2)
    assert view.imports.c5_share == pytest.approx(0.3)


def test_shares_from_china_russia_and_central_asia_over_time(tiny, usgs_map):
    shares = build(tiny).imports.shares_over_time
    got = {
        (r["Supplier"], r["year"]): round(r["share_pct"], 6) for r in shares.iter_rows(named=True)
    }
    assert got == {
        ("China", 2023): 50.0,
        ("China", 2024): 50.0,
        ("Russia", 2023): 0.0,
        ("Russia", 2024): 20.0,
        ("Central Asia (C5)", 2023): 50.0,
        ("Central Asia (C5)", 2024): 30.0,
    }


# --- the scenario -----------------------------------------------------------------------


def test_gap_and_what_each_c5_country_could_redirect(tiny, usgs_map):
    view = build(tiny)
    # 50% of (1,000 + 400) USD; no tonnes for a mineral of two stages
    assert view.scenario.gap_kg is None
    assert view.scenario.gap_usd == pytest.approx(700.0)
    kaz = redirect_row(view, "Kazakhstan")
    assert kaz["To the world (USD)"] == pytest.approx(900.0)
    assert kaz["To the importer (USD)"] == pytest.approx(600.0)
    assert kaz["Redirectable (USD)"] == pytest.approx(300.0)
    assert kaz["Covers gap % (USD)"] == pytest.approx(300 / 700 * 100)
    tonnes = [c for c in div.REDIRECT_COLUMNS if "(t)" in c]
    assert view.scenario.redirect.select(tonnes).null_count().row(0) == (5,) * len(tonnes)
    kgz = redirect_row(view, "Kyrgyzstan")
    assert kgz["Redirectable (USD)"] == pytest.approx(20.0)
    tjk = redirect_row(view, "Tajikistan")
    assert tjk["To the world (USD)"] == 0.0 and tjk["Redirectable (t)"] is None
    assert view.scenario.redirect["Country"].to_list() == [
        "Kazakhstan",
        "Kyrgyzstan",
        "Tajikistan",
        "Turkmenistan",
        "Uzbekistan",
    ]
    # All five together: 300 + 20 + 50 USD; the share of the gap is by value.
    assert view.scenario.redirect_usd == pytest.approx(370.0)
    assert view.scenario.redirect_kg is None and view.scenario.covers_kg is None
    assert view.scenario.covers_usd == pytest.approx(370 / 700)
    assert (view.scenario.covers, view.scenario.covers_by) == (view.scenario.covers_usd, "by value")
    assert view.scenario.c5_exports


def test_one_stage_shows_tonnes_and_still_covers_by_value(tiny, usgs_map):
    """Ferrochrome alone is one stage: tonnes add up, the headline share stays by value."""
    view = build(tiny, mineral="ferrochrome")
    assert view.scenario.tonnes_note is None
    assert view.imports.total_kg == pytest.approx(180_000.0)  # 100 + 50 + 30 t, the ore left out
    # 50% of (100 t + 50 t) and of (1,000 + 400) USD
    assert view.scenario.gap_kg == pytest.approx(75_000.0)
    assert view.scenario.gap_usd == pytest.approx(700.0)
    kaz = redirect_row(view, "Kazakhstan")
    assert kaz["To the world (t)"] == pytest.approx(60.0)
    assert kaz["To the importer (t)"] == pytest.approx(30.0)
    assert kaz["Redirectable (t)"] == pytest.approx(30.0)
    assert kaz["Covers gap % (t)"] == pytest.approx(30 / 75 * 100)
    assert kaz["Redirectable (USD)"] == pytest.approx(300.0)
    uzb = redirect_row(view, "Uzbekistan")
    assert uzb["Redirectable (t)"] == pytest.approx(4.0)
    # Kyrgyzstan's flow has no quantity: its tonnes are unknown, not zero.
    kgz = redirect_row(view, "Kyrgyzstan")
    assert kgz["Redirectable (t)"] is None and kgz["Covers gap % (t)"] is None
    assert redirect_row(view, "Tajikistan")["Redirectable (t)"] == 0.0
    assert view.scenario.redirect_kg == pytest.approx(34_000.0)
    assert view.scenario.covers_kg == pytest.approx(34 / 75)
    assert (view.scenario.covers, view.scenario.covers_by) == (view.scenario.covers_usd, "by value")
    assert view.scenario.covers_usd == pytest.approx((300 + 20 + 50) / 700)


@pytest.mark.parametrize(
    ("pct", "source", "gap_t", "gap_usd"),
    [(100, "CHN", 100.0, 1000.0), (10, "RUS", 5.0, 40.0), (0, "both", 0.0, 0.0)],
)
def test_the_gap_follows_the_share_and_the_countries_replaced(
    tiny, usgs_map, pct, source, gap_t, gap_usd
):
    view = build(tiny, pct=pct, source=source, mineral="ferrochrome")
    assert view.scenario.gap_kg == pytest.approx(gap_t * 1000)
    assert view.scenario.gap_usd == pytest.approx(gap_usd)
    assert view.replaced == div.REPLACE_FROM[source]


def test_coverage_is_capped_at_the_whole_gap(tiny, usgs_map):
    # a 5 t gap; Kazakhstan could redirect 30 t
    view = build(tiny, pct=10, source="RUS", mineral="ferrochrome")
    assert redirect_row(view, "Kazakhstan")["Covers gap % (t)"] == 100.0
    assert view.scenario.covers_kg == 1.0


def test_chart_sets_the_gap_against_each_exporting_c5_country(tiny, usgs_map):
    chromium = {source: t for source, _, t in build(tiny).scenario.chart.iter_rows()}
    assert set(chromium.values()) == {None}  # two stages: no tonnes to chart
    view = build(tiny, mineral="ferrochrome")
    chart = {source: (usd, t) for source, usd, t in view.scenario.chart.iter_rows()}
    assert chart[view.gap_label] == pytest.approx((700 / 1e6, 75.0))
    assert chart["Kazakhstan"] == pytest.approx((300 / 1e6, 30.0))
    assert chart["Kyrgyzstan"][1] is None
    assert "Tajikistan" not in chart  # exports nothing of it
    assert build(tiny, pct=0).scenario.chart.is_empty()  # no gap, no chart


def test_an_eu_importer_leaves_out_trade_among_its_members(tiny, usgs_map):
    view = build(tiny, importer="EU27", mineral="ferrochrome")
    assert view.imports.suppliers["Supplier"].to_list() == ["China", "Kazakhstan", "Uzbekistan"]
    assert view.imports.total_usd == pytest.approx(250.0)  # Germany's sale to France left out
    assert view.scenario.gap_kg == pytest.approx(5_000.0)
    kaz = redirect_row(view, "Kazakhstan")
    assert kaz["To the importer (t)"] == pytest.approx(10.0)
    assert kaz["Redirectable (t)"] == pytest.approx(50.0)
    assert redirect_row(view, "Uzbekistan")["Redirectable (USD)"] == 0.0
    assert any("2 members" in line for line in view.assumptions)


def test_a_c5_importer_is_not_its_own_source(tiny, usgs_map):
    view = build(tiny, importer="KAZ")
    assert "KAZ" not in view.sources
    assert "Kazakhstan" not in view.scenario.redirect["Country"].to_list()
    assert any("Kazakhstan is the importer" in line for line in view.assumptions)


@pytest.mark.parametrize("importer", ["USA", "EU27", "KAZ"])
def test_one_trade_statement_gives_the_two_queries_answers(tiny, usgs_map, monkeypatch, importer):
    """The page reads the importer's purchases and the C5 sources' exports in one
    statement (suppliers_market); its tables are those the two separate queries give."""
    db, catalog = tiny
    asked: list[str] = []
    original = Database.query

    def recording(self, name, *args, **kwargs):
        asked.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(Database, "query", recording)
    view = build(tiny, importer=importer, mineral="ferrochrome")
    assert asked == ["suppliers_market"]  # the USGS figures come with the catalog

    members = catalog.members(importer)
    f = TradeFilter(("ferrochrome",), (), min(catalog.years[0], 2024), 2024, sides=("reconciled",))
    purchases = queries.imports_by_supplier(db, f.only(importers=members)).frame.drop("series")
    world = queries.exporters_by_series(db, f.years(2024).only(exporters=view.sources)).frame
    in_year = purchases.filter(pl.col("year") == 2024)
    assert world.height > 0
    assert (in_year.height > 0) == (importer != "KAZ")  # Kazakhstan buys none here
    assert_frame_equal(view.imports.suppliers, div.supplier_table(catalog, in_year))
    assert_frame_equal(view.imports.shares_over_time, div.shares_over_time(purchases, view.sources))
    expected = div.redirectable(
        catalog, world, in_year, view.sources, view.scenario.gap_usd, view.scenario.gap_kg
    )
    assert_frame_equal(view.scenario.redirect, expected)


def test_no_imports_is_said(tiny, usgs_map):
    view = build(tiny, importer="JPN", year=2023)
    assert view.imports.no_imports
    assert (
        view.imports.suppliers.is_empty()
        and view.imports.hhi is None
        and view.imports.china_share is None
    )


def test_download_holds_the_scenario_on_every_row(tiny, usgs_map):
    view = build(tiny, mineral="ferrochrome")
    table = pl.read_csv(io.BytesIO(downloads.to_csv(view.scenario.download)))
    assert table.height == 5
    assert set(table["Importer"]) == {"United States"}
    assert set(table["Replace %"]) == {50}
    assert set(table["Replace supply from"]) == {"China and Russia"}
    assert table["Gap (t)"].to_list() == pytest.approx([75.0] * 5)
    kaz = table.filter(pl.col("Country") == "Kazakhstan")
    assert kaz["Redirectable (USD)"].item() == pytest.approx(300.0)


def test_assumptions_are_stated(tiny, usgs_map):
    text = " ".join(build(tiny).assumptions)
    for words in ("2024", "Reconciled (BACI)", "other buyers", "transit through Russia"):
        assert words in text
    assert "ferrochrome is not a tonne of chromite ore" in text


def test_state_rejects_unknown_choices():
    with pytest.raises(ValueError, match="replace_from"):
        div.State("USA", "chromium", 2024, "reconciled", 50, "Mars")
    with pytest.raises(ValueError, match="percentage"):
        div.State("USA", "chromium", 2024, "reconciled", 150, "both")


# --- USGS production, reserves and reliance ---------------------------------------------


def test_production_and_reserves_carry_what_they_measure(tiny, usgs_map):
    view = build(tiny)
    table = view.usgs.production.select("Country", "Statistic", "Year", "Value", "Flag", "Measure")
    assert table.rows() == [
        (
            "Kazakhstan",
            "Mine production",
            2024,
            6_100_000.0,
            "estimated",
            "gross weight of marketable chromite ore",
        ),
        ("Kazakhstan", "Reserves: Ore", 2024, 230_000_000.0, "", "gross weight of chromite ore"),
    ]
    assert view.usgs.notes == ("Ferrochrome is alloy weight, not ore.",)
    assert view.usgs.production_note == (
        "Not listed by USGS for chromium: Kyrgyzstan, Tajikistan, Turkmenistan, Uzbekistan."
    )


def test_production_of_the_chosen_year_else_the_latest(tiny, usgs_map):
    view = build(tiny, year=2023)
    assert view.usgs.production.select("Statistic", "Year").rows() == [
        ("Mine production", 2023),
        ("Reserves: Ore", 2024),
    ]
    assert [(r.year, r.shown) for r in view.usgs.reliance] == [(2023, "76%")]


def test_us_net_import_reliance_with_its_year(tiny, usgs_map):
    (reliance,) = build(tiny).usgs.reliance
    assert (reliance.year, reliance.value, reliance.shown) == (2024, 77.0, "77%")
    assert reliance.measure == "percent of US apparent consumption, chromium content"
    eu = build(tiny, importer="EU27")
    assert eu.usgs.reliance == () and "United States only" in (eu.usgs.reliance_note or "")


@pytest.mark.parametrize(
    ("value", "flag", "shown"),
    [
        (95.0, ">", ">95%"),
        (80.0, "e", "80% (estimated)"),
        (None, "E", "net exporter"),
        (None, "W", "withheld"),
        (12.4, None, "12%"),
    ],
)
def test_reliance_flags_in_words(value, flag, shown):
    assert usgs.reliance_text(value, flag) == shown


def test_a_mineral_usgs_does_not_cover_is_said(tiny, monkeypatch):
    monkeypatch.setattr(usgs, "load_mineral_usgs", lambda: MINERAL_USGS.clear())
    view = build(tiny)
    assert view.usgs.production.is_empty()
    assert "no production or reserves figure matched to chromium" in (
        view.usgs.production_note or ""
    )
    assert view.usgs.reliance == ()


def test_c5_countries_usgs_does_not_list_are_said(tiny, monkeypatch):
    gallium_like = MINERAL_USGS.with_columns(
        pl.lit("Gallium").alias("mcs_commodity"), pl.lit("Only China is listed.").alias("note")
    )
    monkeypatch.setattr(usgs, "load_mineral_usgs", lambda: gallium_like)
    note = build(tiny).usgs.production_note or ""
    assert note.startswith("USGS lists none of the Central Asian countries for chromium")
    assert "Only China is listed." in note


def test_a_missing_mapping_file_is_a_sentence_not_a_crash(tiny, monkeypatch):
    def missing() -> pl.DataFrame:
        raise FileNotFoundError("mineral_usgs.csv")

    monkeypatch.setattr(usgs, "load_mineral_usgs", missing)
    view = build(tiny)
    assert view.usgs.production.is_empty() and view.usgs.reliance == ()
    assert "not available yet" in (view.usgs.production_note or "")
    assert view.scenario.gap_usd == pytest.approx(700.0)  # the trade figures are unaffected


def test_the_curated_mapping_names_statistics_the_production_table_uses(tiny):
    """With the project's own mineral_usgs.csv, chromium finds the tiny table's rows."""
    view = build(tiny)
    assert set(view.usgs.production["Statistic"]) <= {"Mine production", "Reserves: Ore"}
    assert view.usgs.production.height >= 1
    assert all(view.usgs.production["Measure"].str.len_chars() > 0)


# --- the page (AppTest on the demo warehouse) -------------------------------------------


def run_page(params: dict[str, str] | None = None) -> AppTest:
    return conftest.run_page("diversification", params)


def clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def param(at: AppTest, key: str) -> str:
    value = at.query_params[key]
    return value if isinstance(value, str) else value[0]


def metrics_of(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_default_view_shows_the_scenario_built_by_the_view(app_env):
    at = clean(run_page())
    assert at.title[0].value.startswith("Diversification: United States — ")
    assert "Synthetic trade flows" in " ".join(str(w.value) for w in at.warning)
    assert at.get("vega_lite_chart"), "charts are drawn"
    assert at.get("download_button"), "the scenario can be downloaded"
    shown = metrics_of(at)
    from critmin.ui import data

    state = div.State("USA", "manganese_sulfate", int(param(at, "year")), "reconciled", 50, "both")
    view = div.build(data.database(), data.catalog(), state)
    assert shown["Supply that needs a new source"] == fmt.usd(view.scenario.gap_usd)
    assert shown["Central Asia could redirect"] == fmt.usd(view.scenario.redirect_usd)
    assert "Assumptions" in " ".join(str(m.value) for m in at.markdown)


def test_page_changed_scenario_reaches_the_url(app_env):
    at = clean(run_page())
    at.slider(key="diversification:replace_pct").set_value(80).run()
    at.radio(key="diversification:replace_from").set_value("CHN").run()
    clean(at)
    assert (param(at, "replace_pct"), param(at, "replace_from")) == ("80", "CHN")
    assert "Replace 80% of the supply from China" in [s.value for s in at.subheader]


def test_page_restores_a_shared_link(app_env):
    params = {
        "importer": "EU27",
        "mineral": "chromium",
        "year": "2020",
        "replace_pct": "30",
        "replace_from": "RUS",
    }
    at = clean(run_page(params))
    assert at.title[0].value == "Diversification: European Union (27) — chromium"
    assert not [w for w in at.warning if "Link problem" in str(w.value)]
    for key, value in params.items():
        assert param(at, key) == value, key


def test_page_invalid_link_falls_back_with_a_warning(app_env):
    at = clean(run_page({"replace_pct": "150", "replace_from": "Mars", "importer": "ATLANTIS"}))
    warnings = " ".join(str(w.value) for w in at.warning)
    assert "Link problem" in warnings
    assert param(at, "replace_pct") == "50"
    assert at.title[0].value.startswith("Diversification: United States")


def test_page_empty_result_is_said_in_words(app_env):
    at = clean(run_page({"importer": "AND"}))
    message = " ".join(str(i.value) for i in at.info)
    assert "No imports of manganese sulfate by Andorra" in message
    assert not at.get("vega_lite_chart")
