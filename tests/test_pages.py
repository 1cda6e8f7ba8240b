"""AppTest over every page: the default view, a changed filter reaching the URL,
a shared link restoring the view, and an empty result said in words. (Bad and
hostile links: test_fuzz_pages.py.)"""

import pytest
from conftest import run_page
from streamlit.testing.v1 import AppTest

from critmin.ui.registry import NAMES as PAGES


def texts(elements) -> str:  # type: ignore[no-untyped-def]
    return " ".join(str(e.value) for e in elements)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_default_view_renders(page, app_env):
    at = run_page(page)
    assert_clean(at)
    assert at.title, "every page has a title"
    if page != "about":
        assert "Synthetic trade flows" in texts(at.warning)
    if page in {"overview", "growth", "partners", "suppliers", "mirror", "latest"}:
        assert at.get("vega_lite_chart"), "charts are drawn"


EXPECTED_TITLES = {
    "overview": "Kazakhstan: critical-mineral exports",
    "growth": "Export growth: Kazakhstan",
    "partners": "Partners: where Kazakhstan's exports go",
    "suppliers": "Suppliers: the world market for manganese sulfate",
    "diversification": "Diversification: United States — manganese sulfate",
    "latest": "Latest months: Kazakhstan's exports",
    "mirror": "Reported vs mirror: Kazakhstan's exports",
    "map": "Map: sites in Central Asia and Kazakhstan's exports",
    "explorer": "Data explorer",
    "about": "About the data",
}


@pytest.mark.parametrize("page", PAGES)
def test_default_titles_name_the_default_view(page, app_env):
    assert run_page(page).title[0].value == EXPECTED_TITLES[page]


# page -> (widget kind, key, new value, URL parameter, URL value)
CHANGES = {
    "overview": ("selectbox", "overview:country", "UZB", "country", "UZB"),
    "growth": ("multiselect", "growth:minerals", ["lithium"], "minerals", "lithium"),
    "partners": ("selectbox", "partners:country", "KGZ", "country", "KGZ"),
    "suppliers": ("selectbox", "suppliers:mineral", "gallium", "mineral", "gallium"),
    "diversification": ("slider", "diversification:replace_pct", 80, "replace_pct", "80"),
    "latest": ("radio", "latest:window", "24", "window", "24"),
    "mirror": ("selectbox", "mirror:country", "UZB", "country", "UZB"),
    "map": ("multiselect", "map:statuses", ["producing"], "statuses", "producing"),
    "explorer": ("selectbox", "explorer:sort", "year", "sort", "year"),
}


@pytest.mark.parametrize("page", sorted(CHANGES))
def test_changed_filter_is_reflected_in_the_url(page, app_env):
    kind, key, value, param, expected = CHANGES[page]
    at = run_page(page)
    getattr(at, kind)(key=key).set_value(value).run()
    assert_clean(at)
    assert at.query_params[param] == [expected] or at.query_params[param] == expected


RESTORE = {
    "overview": (
        {"country": "UZB", "year_from": "2015", "year_to": "2020"},
        "Uzbekistan: critical-mineral exports",
    ),
    "growth": (
        {"country": "KGZ", "minerals": "copper", "measure": "unit_value", "view": "indexed"},
        "Export growth: Kyrgyzstan",
    ),
    "partners": (
        {"country": "RUS", "minerals": "zinc", "compare": "CHN,KAZ"},
        "Partners: where Russia's exports go",
    ),
    "suppliers": (
        {"mineral": "uranium", "highlight": "UZB", "importer": "EU27"},
        "Suppliers: the world market for uranium",
    ),
    "diversification": (
        {"importer": "EU27", "mineral": "chromium", "replace_pct": "30", "replace_from": "RUS"},
        "Diversification: European Union (27) — chromium",
    ),
    "latest": (
        {"country": "UZB", "minerals": "copper", "window": "24", "declared_by": "own"},
        "Latest months: Uzbekistan's exports",
    ),
    "mirror": (
        {"country": "TJK", "minerals": "alumina"},
        "Reported vs mirror: Tajikistan's exports",
    ),
    "map": (
        {"country": "CHN", "sites_in": "UZB"},
        "Map: sites in Central Asia and China's exports",
    ),
    "explorer": (
        {"exporters": "CHN", "minerals": "graphite", "sort": "year", "order": "asc"},
        "Data explorer",
    ),
}


@pytest.mark.parametrize("page", sorted(RESTORE))
def test_shared_link_restores_the_view(page, app_env):
    params, title = RESTORE[page]
    at = run_page(page, params)
    assert_clean(at)
    assert at.title[0].value == title
    assert not [w for w in at.warning if "Link problem" in str(w.value)]
    for key, value in params.items():
        assert at.query_params[key] in (value, [value]), key


EMPTY = {
    "overview": {"country": "AND"},
    "growth": {"country": "AND"},
    "partners": {"country": "AND"},
    "suppliers": {"highlight": "AND"},
    "diversification": {"importer": "AND"},
    "latest": {"country": "AND"},
    "mirror": {"country": "AND"},
    "map": {"sites_in": "USA", "country": "AND"},
    "explorer": {"importers": "AND"},
}


@pytest.mark.parametrize("page", sorted(EMPTY))
def test_empty_result_is_said_in_words(page, app_env):
    at = run_page(page, EMPTY[page])
    assert_clean(at)
    message = texts(at.info)
    assert any(word in message for word in ("No ", "no exports", "bought no", "has no")), message


def test_missing_warehouse_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(tmp_path / "nowhere"))
    at = run_page("overview")
    assert not at.exception
    assert "critmin demo --data-dir" in texts(at.error)


def test_choices_carry_to_the_next_page_opened_from_the_sidebar(app_env):
    at = run_page("overview")
    at.selectbox(key="overview:country").set_value("UZB").run()
    at.query_params.clear()  # the sidebar opens a page without the previous page's link
    at.switch_page("pages/partners.py")
    at.run()
    assert_clean(at)
    assert at.title[0].value == "Partners: where Uzbekistan's exports go"
    assert not [w for w in at.warning if "Link problem" in str(w.value)]
    # A link's own value wins over the carried one.
    at.query_params["country"] = "KGZ"
    at.switch_page("pages/mirror.py")
    at.run()
    assert at.title[0].value == "Reported vs mirror: Kyrgyzstan's exports"


@pytest.mark.parametrize("page", PAGES)
def test_a_window_of_one_year_renders(page, app_env):
    """Dragging the start of the years to the end (or a link with year_from = year_to)
    shows that one year, with no growth figure invented and no crash."""
    at = run_page(page, {"year_from": "2024", "year_to": "2024"})
    assert_clean(at)
    assert not [w for w in at.warning if "Link problem" in str(w.value)]
    if page == "growth":
        summary = next(t.value for t in at.dataframe if "Series" in t.value.columns)
        assert [c for c in summary.columns if c.startswith("Exports")] == ["Exports 2024 (USD)"]
        assert "CAGR %" not in summary.columns


def test_a_shared_code_that_can_dominate_a_series_is_a_warning(app_env):
    """2617.90 (other ores) outweighs Kazakhstan's beryllium metal: wherever the
    beryllium basket is shown, its note is a warning, not a caption."""
    at = run_page("growth", {"minerals": "beryllium", "measure": "quantity"})
    assert_clean(at)
    warnings = texts(at.warning)
    assert "HS 261790" in warnings and "dominate the beryllium" in warnings
    # Tonnes of ore, metal and scrap are not added: the page says why there are none,
    # instead of an empty chart.
    assert "No tonnes or USD/kg for Beryllium" in texts(at.info)


def test_the_about_page_lists_the_minerals_trade_data_cannot_show(app_env):
    at = run_page("about")
    assert_clean(at)
    shown = " ".join(str(t.value) for t in at.dataframe)
    for mineral in ("Scandium", "Cesium", "Rubidium"):
        assert mineral in shown
