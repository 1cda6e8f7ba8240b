"""What a first-time analyst hit on a real BACI release, checked in AppTest on releases
of our own in CEPII's layout loaded with `critmin ingest baci`:

- headline figures that count a shared code say so beside them, and "minerals
  exported" counts each code once (811292 is one code, not seven minerals);
- the About page says what is loaded, read from the warehouse (no demo flows left,
  the release and when it was published, the years, the quantity coverage), and every
  page has a plain "data as of" line;
- typed HS codes are checked the moment they are typed;
- the Map finds chromium by its name, says what its colours mean and lists its arcs;
- numbers read plainly (tonnes in the explorer, no "Try another declaration" when
  only one is loaded, no stray separator in a caption, coverage by value and tonnes).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl
import pytest
from baci_release import write_release
from streamlit.testing.v1 import AppTest

from critmin.cli import main
from critmin.demo import build_demo

pytestmark = pytest.mark.slow  # builds two warehouses from releases of our own
APP = str(Path(__file__).resolve().parents[1] / "app.py")
RELEASE = "V202601"
# (t, i, j, k, v in thousand USD, q in tons); i/j are BACI's country codes.
FLOWS = [
    (2023, 398, 156, "720241", 1200.0, 1000.0),  # KAZ -> CHN ferrochrome: chromium's own
    (2024, 398, 156, "720241", 1500.0, 1100.0),
    (2024, 398, 842, "811292", 2900.0, 0.5),  # KAZ -> USA: the minor metals' one code
    (2024, 398, 251, "283329", 64.0, 80.0),  # KAZ -> FRA: "other sulphates"
    (2023, 156, 842, "811292", 150000.0, 30.0),  # CHN -> USA
    (2024, 156, 842, "811292", 180000.0, 35.0),
    (2024, 276, 842, "811292", 135000.0, 25.0),  # DEU -> USA
]
COUNTRIES = [
    (156, "China", "CN", "CHN"),
    (251, "France", "FR", "FRA"),
    (276, "Germany", "DE", "DEU"),
    (398, "Kazakhstan", "KZ", "KAZ"),
    (842, "USA", "US", "USA"),
]
PRODUCTS = [
    ("720241", "Ferro-alloys; ferro-chromium, containing by weight more than 4% of carbon"),
    ("811292", "Gallium, germanium, hafnium, indium, niobium, rhenium, vanadium: unwrought"),
    ("283329", "Sulphates; n.e.c. in item no. 2833.2"),
]


def crafted_release(root: Path) -> Path:
    path = root / f"BACI_HS17_{RELEASE}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for year in sorted({row[0] for row in FLOWS}):
            lines = ["t,i,j,k,v,q"] + [
                f"{t},{i},{j},{k},{v:.3f},{q:.3f}" for t, i, j, k, v, q in FLOWS if t == year
            ]
            archive.writestr(f"BACI_HS17_Y{year}_{RELEASE}.csv", "\n".join(lines) + "\n")
        countries = ["country_code,country_name,country_iso2,country_iso3"]
        countries += [f'{c},"{n}",{a2},{a3}' for c, n, a2, a3 in COUNTRIES]
        archive.writestr(f"country_codes_{RELEASE}.csv", "\n".join(countries) + "\n")
        products = ["code,description"] + [f'{c},"{d}"' for c, d in PRODUCTS]
        archive.writestr(f"product_codes_HS17_{RELEASE}.csv", "\n".join(products) + "\n")
    return path


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crafted")
    data_dir = root / "warehouse"
    assert main(["--data-dir", str(data_dir), "ingest", "baci", str(crafted_release(root))]) == 0
    return data_dir


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded default, then a real-shaped release loaded over it (the demo flows
    go): quantities for every flow but in the last, provisional year."""
    root = tmp_path_factory.mktemp("released")
    data_dir = root / "warehouse"
    build_demo(data_dir, last_year=2024)
    release = write_release(root, years=range(2017, 2025), rows_per_year=4_000)
    assert main(["--data-dir", str(data_dir), "ingest", "baci", str(release)]) == 0
    return data_dir


def run(data_dir: Path, monkeypatch: pytest.MonkeyPatch, page: str, **params: str) -> AppTest:
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(data_dir))
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(e.value) for e in elements]


# --- shared codes -----------------------------------------------------------------------


def test_minerals_exported_counts_each_code_once(crafted, monkeypatch):
    at = run(crafted, monkeypatch, "overview", country="KAZ", year_from="2023", year_to="2024")
    exported = next(m for m in at.metric if m.label.startswith("Minerals exported"))
    # Chromium (its own code), the minor metals' 811292 once, manganese sulfate's 283329.
    assert exported.value == "3"
    assert exported.delta == "2 of them through shared codes"
    world = next(t.value for t in at.dataframe if "World share %" in t.value.columns)
    assert len(world) == 3  # one row per code group: no flow counted under two rows
    metals = world[world["Mineral"].str.contains("Gallium")].iloc[0]
    assert "Vanadium" in metals["Mineral"] and "Germanium" in metals["Mineral"]
    assert metals["Shared code"].startswith("One code for all of them: HS 811292")
    assert metals["Exports (USD)"] == pytest.approx(2_900_000)
    sulphates = world[world["Mineral"] == "Manganese sulfate"].iloc[0]
    assert "HS 283329 holds other goods too" in sulphates["Shared code"]
    assert pd_missing(world[world["Mineral"] == "Chromium"].iloc[0]["Shared code"])


def pd_missing(value: object) -> bool:
    return value is None or value != value  # noqa: PLR0124 (NaN)


@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("diversification", {"importer": "USA", "mineral": "gallium", "year": "2024"}),
        ("suppliers", {"mineral": "gallium", "highlight": "KAZ", "importer": "USA"}),
        ("growth", {"country": "KAZ", "minerals": "gallium,chromium"}),
    ],
)
def test_a_headline_of_a_shared_code_says_so_beside_it(crafted, monkeypatch, page, params):
    at = run(crafted, monkeypatch, page, **params)
    if page == "growth":  # several minerals: each series' codes named at the top
        shared = [c for c in texts(at.caption) if "811292" in c and "germanium" in c]
    else:  # a headline: the warning right under it
        shared = [w for w in texts(at.warning) if w.startswith("**Shared codes**")]
        assert shared and "HS 811292" in shared[0], texts(at.warning)
    assert shared and "germanium" in shared[0], texts(at.caption)
    if page == "diversification":
        imports = next(m for m in at.metric if m.label == "Imports 2024")
        assert imports.value == "USD 317.9 m"  # all of 811292 into the USA, said beside
    if page == "growth":
        summary = next(t.value for t in at.dataframe if "Series" in t.value.columns)
        rows = dict(zip(summary["Series"], summary["Shared code"], strict=True))
        assert "germanium" in rows["Gallium"]
        assert pd_missing(rows["Chromium"])


# --- the About page and the line on every page ----------------------------------------


def test_about_says_what_is_loaded_read_from_the_warehouse(released, monkeypatch):
    at = run(released, monkeypatch, "about")
    said = " ".join(texts(at.markdown))
    assert "CEPII BACI release V202601 (released January 2026), HS2017 codes, 2017–2024" in said
    assert "given for every flow in 2017–2023" in said
    assert "of flows" in said and "in 2024" in said  # the provisional year lacks some
    assert "about 2%" not in said
    assert "Synthetic demo flows" not in said
    assert "2024 is the release's last year, provisional" in said
    provenance = next(t.value for t in at.dataframe if "licence" in t.value.columns)
    trade = provenance[provenance["table"] == "trade_flows"]
    assert list(trade["source"]) == ["baci"]  # the demo's record went with its flows


@pytest.mark.parametrize(
    "page", ["overview", "growth", "partners", "suppliers", "diversification", "about"]
)
def test_every_page_says_how_recent_its_data_are(released, monkeypatch, page):
    at = run(released, monkeypatch, page)
    line = [c for c in texts(at.caption) if c.startswith("Data as of:")]
    assert line and "Trade data to 2024, released January 2026" in line[0], texts(at.caption)
    assert "CEPII BACI V202601" in line[0]


def test_the_demo_says_its_flows_are_synthetic_in_the_same_line(app_env, monkeypatch):
    at = run(app_env, monkeypatch, "map")
    line = next(c for c in texts(at.caption) if c.startswith("Data as of:"))
    assert "Synthetic trade flows to 2024" in line


# --- typed codes ---------------------------------------------------------------------


def test_a_typed_code_is_checked_at_once(app_env, monkeypatch):
    at = run(app_env, monkeypatch, "growth")
    at.multiselect(key="growth:codes").set_value(["abc123"]).run()
    assert "“abc123” is not an HS6 code: codes have six digits, e.g. 811292." in texts(at.warning)
    assert at.multiselect(key="growth:codes").value == []
    assert "abc123" not in str(at.query_params.get("codes", ""))
    at.multiselect(key="growth:codes").set_value(["999998", "810820"]).run()
    # The embedded default has no HS2012 dictionary: the code is checked against every
    # edition known (the real-shaped release's own list is checked in the browser walk).
    assert any(
        w.startswith("999998 is not a code of the Harmonized System") for w in texts(at.warning)
    ), texts(at.warning)
    assert at.multiselect(key="growth:codes").value == ["810820"]
    assert any(c.startswith("810820: ") for c in texts(at.sidebar.caption))
    at.run()  # the next click: no link problem left behind
    assert not [w for w in texts(at.warning) if "Link problem" in w]


def test_a_link_with_an_unknown_code_says_so(app_env, monkeypatch):
    at = run(app_env, monkeypatch, "explorer", codes="999998,811292")
    assert any("Link problem" in w and "999998" in w for w in texts(at.warning))
    assert at.multiselect(key="explorer:codes").value == ["811292"]


# --- the Map -------------------------------------------------------------------------


def test_the_map_finds_chromium_by_its_name(app_env, monkeypatch):
    at = run(app_env, monkeypatch, "map", sites_in="KAZ")
    box = at.multiselect(key="map:commodities")
    typed = [o for o in box.options if "chrom" in o.lower()]
    assert typed[0] == "Chromium (Cr)", typed
    box.set_value(["Cr"]).run()
    shown = next(m for m in at.metric if m.label == "Sites shown")
    assert int(shown.value.replace(",", "")) > 100  # Kazakhstan's chromium sites
    legend = " ".join(texts(at.markdown))
    assert "Chromium (Cr)" in legend and "<b>Arcs</b>" in legend
    table = next(t.value for t in at.dataframe if "commodities" in t.value.columns)
    assert table["commodities"].str.contains("Chromium").all()
    # One row per site: no two rows of one name lie within a site's reach of each other.
    named = table[~table["name"].str.lower().isin(["(unnamed)", "unnamed"])]
    for _, rows in named.groupby(["name", "country"]):
        lat, lon = rows["lat"].tolist(), rows["lon"].tolist()
        for i in range(len(lat)):
            for j in range(i + 1, len(lat)):
                assert max(abs(lat[i] - lat[j]), abs(lon[i] - lon[j])) > 0.15, rows
    arcs = next(t.value for t in at.dataframe if "Partner" in t.value.columns)
    assert list(arcs.columns[:4]) == ["Rank", "Partner", "Exports (USD)", "Share %"]
    assert arcs["Share %"].sum() == pytest.approx(100, abs=0.5)


# --- numbers that read plainly ---------------------------------------------------------


def test_no_advice_to_try_a_declaration_that_is_not_loaded(crafted, monkeypatch):
    at = run(crafted, monkeypatch, "growth", country="FRA")
    said = " ".join(texts(at.info))
    assert "No exports of the chosen products" in said
    assert "Try another declaration" not in said


def test_a_caption_has_no_stray_separator(crafted, monkeypatch):
    at = run(crafted, monkeypatch, "growth", minerals="")
    assert not [c for c in texts(at.caption) if c.startswith(" ·") or c.startswith("·")]


def test_the_explorer_shows_tonnes(crafted, monkeypatch):
    at = run(crafted, monkeypatch, "explorer", exporters="KAZ", minerals="chromium")
    rows = next(t.value for t in at.dataframe if "tonnes" in t.value.columns)
    assert "quantity_kg" not in rows.columns
    assert sorted(rows["tonnes"]) == [1000.0, 1100.0]


def test_diversification_gives_the_coverage_by_value_and_by_tonnes(crafted, monkeypatch):
    at = run(
        crafted, monkeypatch, "diversification", importer="USA", mineral="gallium", year="2024"
    )
    covers = next(m for m in at.metric if m.label == "Share of the gap it could cover")
    assert covers.value.endswith("by value")
    assert "by tonnes" in covers.delta


def test_a_one_year_window_on_a_real_release(released, monkeypatch):
    at = run(released, monkeypatch, "growth", year_from="2024", year_to="2024")
    summary = next(t.value for t in at.dataframe if "Series" in t.value.columns)
    assert "Exports 2024 (USD)" in summary.columns


def test_tables_show_whole_dollars_and_a_dash_for_nothing(crafted, monkeypatch):
    at = run(crafted, monkeypatch, "partners", country="KAZ", minerals="chromium")
    ranked = next(t for t in at.dataframe if "Exports (USD)" in t.value.columns)
    config = ranked.proto
    assert config.placeholder == "–"
    assert '"format": "localized"' in config.columns
    assert ranked.value["Tonnes"].tolist() == [1100.0]  # one stage: tonnes beside value
    assert ranked.value["USD/kg"].tolist() == [pytest.approx(1.36, abs=0.01)]


def test_the_sites_download_holds_the_sites_shown(app_env):
    from critmin.db import open_database
    from critmin.filters import DepositFilter
    from critmin.settings import Settings
    from critmin.views import map as sites_map

    db = open_database(Settings(data_dir=app_env, data_dir_is_default=False))
    sites = sites_map.all_sites(db, DepositFilter(("KAZ",), ("Cr",)))
    assert (
        sites.height
        == sites_map.one_per_site(
            db.query("site_points", countries=["KAZ"], commodities=["Cr"], statuses=[]).frame
        ).height
    )
    assert sites.filter(pl.col("commodities").str.contains(r"\bCr\b")).is_empty()


def test_every_commodity_symbol_has_the_one_name_users_know():
    """The symbol-to-name table names every symbol the ingest writes, once each."""
    from critmin import reference

    aliases = pl.read_csv(reference.REFERENCE_DIR / "commodity_aliases.csv", infer_schema=False)
    names = pl.read_csv(reference.REFERENCE_DIR / "commodity_names.csv", infer_schema=False)
    assert names["symbol"].is_unique().all()
    assert set(aliases["symbol"]) == set(names["symbol"])
    assert reference.commodity_label("Cr") == "Chromium (Cr)"
    assert reference.commodity_label("REE") == "Rare earths (REE)"
    assert reference.commodity_label("Graphite") == "Graphite"
    assert reference.commodity_label("chromite") == "Chromite"
