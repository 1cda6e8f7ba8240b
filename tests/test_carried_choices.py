"""One choice, carried everywhere: a mineral, a value-chain stage, a country and years
chosen on any page are what every other page opens with, whether it shows one mineral
or several, one year or a window. Every ordered pair of pages is walked in AppTest:
change the choices on the first, open the second from the sidebar (no link), read its
widgets."""

from __future__ import annotations

from itertools import permutations
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
FIRST_YEAR = 2012  # the demo warehouse's years: 2012-2024

# Each page's widgets for the carried choices: kind and key, by choice.
PAGES: dict[str, dict[str, tuple[str, str]]] = {
    "overview": {"country": ("selectbox", "country"), "years": ("slider", "years")},
    "growth": {
        "country": ("selectbox", "country"),
        "minerals": ("multiselect", "minerals"),
        "stages": ("multiselect", "stages"),
        "years": ("slider", "years"),
    },
    "partners": {
        "country": ("selectbox", "country"),
        "minerals": ("multiselect", "minerals"),
        "stages": ("multiselect", "stages"),
        "years": ("slider", "years"),
    },
    "suppliers": {
        "country": ("selectbox", "highlight"),
        "minerals": ("selectbox", "mineral"),
        "stages": ("multiselect", "stages"),
        "years": ("slider", "years"),
    },
    "diversification": {
        "minerals": ("selectbox", "mineral"),
        "stages": ("multiselect", "stages"),
        "years": ("selectbox", "year"),
    },
    "mirror": {
        "country": ("selectbox", "country"),
        "minerals": ("multiselect", "minerals"),
        "stages": ("multiselect", "stages"),
        "years": ("slider", "years"),
    },
    "map": {
        "country": ("selectbox", "country"),
        "minerals": ("multiselect", "minerals"),
        "stages": ("multiselect", "stages"),
        "years": ("selectbox", "year"),
    },
    "latest": {
        "country": ("selectbox", "country"),
        "minerals": ("multiselect", "minerals"),
    },
    "explorer": {
        "country": ("multiselect", "exporters"),
        "minerals": ("multiselect", "minerals"),
        "stages": ("multiselect", "stages"),
        "years": ("slider", "years"),
    },
}
CHOSEN = {"country": "UZB", "minerals": "titanium", "stages": "intermediate"}
WINDOW = (2015, 2020)


def widget(at: AppTest, page: str, choice: str) -> Any:
    kind, name = PAGES[page][choice]
    return getattr(at, kind)(key=f"{page}:{name}")


def choose(at: AppTest, page: str) -> None:
    for choice in PAGES[page]:
        kind, _ = PAGES[page][choice]
        if choice == "years":
            value: Any = WINDOW if kind == "slider" else WINDOW[1]
        elif kind == "multiselect":
            value = [CHOSEN[choice]]
        else:
            value = CHOSEN[choice]
        widget(at, page, choice).set_value(value)
    at.run()


def expected(source: str, target: str, choice: str) -> Any:
    kind, _ = PAGES[target][choice]
    if choice == "years":
        # A window carries as it is; one year ends the window that was there.
        start = WINDOW[0] if PAGES[source]["years"][0] == "slider" else FIRST_YEAR
        return (start, WINDOW[1]) if kind == "slider" else WINDOW[1]
    return [CHOSEN[choice]] if kind == "multiselect" else CHOSEN[choice]


@pytest.mark.slow  # every ordered pair of pages: 90 AppTest walks
@pytest.mark.parametrize(("source", "target"), list(permutations(PAGES, 2)))
def test_a_choice_made_on_one_page_is_what_the_next_opens_with(app_env, source, target):
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page(f"pages/{source}.py")
    at.run()
    choose(at, source)
    assert not at.exception, [e.value for e in at.exception]
    at.query_params.clear()  # the sidebar opens a page without the previous page's link
    at.switch_page(f"pages/{target}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [w for w in at.warning if "Link problem" in str(w.value)]
    for choice in PAGES[target]:
        if choice not in PAGES[source]:
            continue
        got = widget(at, target, choice).value
        got = tuple(got) if isinstance(got, tuple) else got
        assert got == expected(source, target, choice), (choice, got)


def test_a_mineral_added_to_several_is_the_one_a_page_of_one_mineral_opens_with(app_env):
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("pages/growth.py")
    at.run()
    shown = list(at.multiselect(key="growth:minerals").value)
    at.multiselect(key="growth:minerals").set_value([*shown, "titanium"]).run()
    at.query_params.clear()
    at.switch_page("pages/suppliers.py")
    at.run()
    assert at.selectbox(key="suppliers:mineral").value == "titanium"
    assert at.title[0].value == "Suppliers: the world market for titanium"
    # Back on a page of several minerals: none of them was lost.
    at.query_params.clear()
    at.switch_page("pages/partners.py")
    at.run()
    assert sorted(at.multiselect(key="partners:minerals").value) == sorted([*shown, "titanium"])


def test_the_importer_carries_between_suppliers_and_diversification(app_env):
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("pages/suppliers.py")
    at.run()
    at.selectbox(key="suppliers:importer").set_value("EU27").run()
    at.query_params.clear()
    at.switch_page("pages/diversification.py")
    at.run()
    assert at.selectbox(key="diversification:importer").value == "EU27"


def test_a_link_wins_over_the_carried_choice_and_is_carried_on(app_env):
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("pages/growth.py")
    at.run()
    at.multiselect(key="growth:minerals").set_value(["titanium"]).run()
    at.query_params.clear()
    at.query_params["mineral"] = "uranium"
    at.switch_page("pages/suppliers.py")
    at.run()
    assert at.selectbox(key="suppliers:mineral").value == "uranium"
    at.query_params.clear()
    at.switch_page("pages/growth.py")
    at.run()
    assert list(at.multiselect(key="growth:minerals").value) == ["uranium"]


def test_how_a_choice_is_merged():
    from critmin.ui.state import Field
    from critmin.ui.url import implied, merged

    several = Field("minerals", "list", [], carry="minerals")
    one = Field("mineral", "str", "", carry="minerals")
    assert merged(several, ["a", "b"], ["a", "b", "c"]) == ["c", "a", "b"]
    assert merged(several, ["a", "b"], ["b"]) == ["b"]
    assert merged(one, ["a", "b", "c"], "b") == ["b", "a", "c"]  # among them: in focus
    assert merged(one, ["a", "b"], "z") == ["z"]  # a new one: the only one
    assert implied(one, {"minerals": ["c", "a"]}) == "c"
    assert implied(several, {"minerals": ["c", "a"]}) == ["c", "a"]
    assert implied(one, {}) is None

    start = Field("year_from", "int", 2012, carry="years")
    end = Field("year_to", "int", 2024, carry="years")
    year = Field("year", "int", 2024, carry="years")
    assert merged(year, [], 2020) == ["", "2020"]
    assert implied(start, {"years": ["", "2020"]}) is None  # the page's own first year
    assert merged(year, ["2015", "2024"], 2020) == ["2015", "2020"]
    assert merged(year, ["2015", "2024"], 2013) == ["2013", "2013"]
    assert merged(start, ["2015", "2024"], 2016) == ["2016", "2024"]
    assert merged(end, ["2015", "2024"], 2022) == ["2015", "2022"]
    assert implied(year, {"years": ["2015", "2022"]}) == "2022"
