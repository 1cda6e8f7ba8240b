"""Bad and hostile links against every page (AppTest): no exception, a warning for the
bad values, the page's default view instead, only the static SQL texts run; a query
that runs too long is a message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import streamlit as st
from conftest import run_page

from critmin.db import SQL_DIR, order_variants, query_variants
from critmin.settings import load_settings
from critmin.ui.registry import NAMES

KEYS = [
    "country",
    "exporters",
    "importers",
    "minerals",
    "mineral",
    "codes",
    "year_from",
    "year_to",
    "year",
    "sides",
    "side",
    "sort",
    "order",
    "compare",
    "scale",
    "by",
    "measure",
    "view",
    "highlight",
    "peers",
    "importer",
    "sites_in",
    "commodities",
    "statuses",
    "replace_pct",
    "replace_from",
]
HOSTILE_LINKS = {
    "one bad value per key": {
        "country": "XX'; DROP TABLE trade_flows; --",
        "minerals": "unobtainium",
        "year_from": "-3",
        "year_to": "abc",
        "mineral": "<script>",
        "sort": "value_usd desc",
        "importer": "ATLANTIS",
        "compare": "A,B,C",
        "sites_in": "ZZZ",
        "exporters": "??",
    },
    "sql and quotes": {k: "KAZ'; DROP VIEW trade_flows; -- \" OR 1=1" for k in KEYS},
    "unicode, negative years, unknown codes": {
        **{k: "🦆\u202eÄ,XXX,999999,<script>" for k in KEYS},
        "year_from": "-2024",
        "year_to": "１e9",
        "year": "-1",
    },
    "long and repeated": {
        **{k: ["x" * 5_000, "KAZ"] for k in KEYS},
        "year_from": ["2030", "2012"],
        "codes": ["1234567", "abcdef"],
    },
}
# The Data explorer's own fields, hostile, sent to the explorer (not in the server stress
# test's links, whose longest form sits at the size a server accepts in one request).
EXPLORER_KEYS = ["stages", "products", "group", "across", "chart"]
EXPLORER_LINKS = {
    "explorer fields, sql and quotes": {
        k: "year'; DROP VIEW trade_flows; --" for k in EXPLORER_KEYS
    },
    "explorer fields, long and repeated": {k: ["x" * 5_000, "year"] for k in EXPLORER_KEYS},
}
WRAPPED = re.compile(
    r"SELECT \* FROM \((?P<sql>.*)\)(?P<order>(?: ORDER BY [^()]*)?) LIMIT \d+", re.DOTALL
)
STATIC_TEXTS = {text for p in SQL_DIR.glob("*.sql") for text in query_variants(p.stem)}
# The ORDER BY clauses built from the files' sort allow-lists.
STATIC_ORDERS = {text for p in SQL_DIR.glob("*.sql") for text in order_variants(p.stem)}


@pytest.fixture
def ran_sql(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, sql_texts: list[str]
) -> Iterator[list[str]]:
    """Every SQL text the pages run (caches cleared so the queries run)."""
    monkeypatch.delenv("CRITMIN_PASSWORD", raising=False)
    st.cache_data.clear()
    yield sql_texts
    st.cache_data.clear()


@pytest.mark.parametrize("page", NAMES)
def test_hostile_links_are_warnings_not_crashes(page: str, ran_sql: list[str]) -> None:
    default_title = run_page(page).title[0].value
    links = {**HOSTILE_LINKS, **(EXPLORER_LINKS if page == "explorer" else {})}
    for label, params in links.items():
        at = run_page(page, params)
        assert not at.exception, (label, [e.value for e in at.exception])
        assert not at.error, (label, [e.value for e in at.error])
        assert at.title[0].value == default_title, label  # the default view instead
        if page != "about":
            warnings = " ".join(str(w.value) for w in at.warning)
            assert "Link problem" in warnings, (label, warnings[:300])
    # About asks nothing of its own: its events come with the catalog, which another
    # test may already have read (it is cached per warehouse version).
    assert ran_sql or page == "about", "the page ran queries"
    for text in ran_sql:
        # Wrapped when the page sorts or limits (the explorer, the Map's table).
        match = WRAPPED.fullmatch(text)
        sql, order = (match["sql"], match["order"]) if match else (text, "")
        assert sql in STATIC_TEXTS, text[:300]
        assert order in STATIC_ORDERS, order


def test_a_query_timeout_is_a_message(ran_sql: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import critmin.ui.data as data

    # Both caches: a view another test cached for these filters would run no query.
    st.cache_resource.clear()
    st.cache_data.clear()
    monkeypatch.setattr(
        data, "load_settings", lambda: replace(load_settings(), query_timeout_s=1e-6)
    )
    try:
        at = run_page("explorer", {"minerals": "copper,gallium,lithium,zinc"})
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(str(e.value) for e in at.error)
    assert "took longer than" in errors and "Narrow the filters" in errors


def test_hostile_filters_under_a_grouping_run_only_static_sql(ran_sql: list[str]) -> None:
    """A valid grouping, pivot and chart with hostile filters: the grouped query and the
    facet counts run their static texts; the bad values are warnings."""
    hostile = "KAZ'; DROP VIEW trade_flows; --"
    params: dict[str, str | list[str]] = {
        "group": "partner_group,year",
        "across": "mineral",
        "chart": "stacked",
        "measure": "tonnes",
        "exporters": f"KAZ,{hostile}",
        "importers": hostile,
        "minerals": f"gallium,{hostile}",
        "stages": f"ore,{hostile}",
        "codes": "811292,1 OR 1=1",
    }
    at = run_page("explorer", params)
    assert not at.exception, [e.value for e in at.exception]
    assert "Link problem" in " ".join(str(w.value) for w in at.warning)
    assert any("flows_grouped" in text for text in ran_sql)
    assert any("flows_facet" in text for text in ran_sql)
    for text in ran_sql:
        match = WRAPPED.fullmatch(text)
        sql, order = (match["sql"], match["order"]) if match else (text, "")
        assert sql in STATIC_TEXTS, text[:300]
        assert order in STATIC_ORDERS, order


def test_the_explorer_has_no_sql_box_unless_switched_on(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filters only by default (codes are a multiselect whose new options must be six
    digits; the query card's SQL is read-only text): no box that takes SQL. With
    CRITMIN_SQL_BOX=1 a box runs one read-only SELECT and refuses the rest."""
    monkeypatch.delenv("CRITMIN_PASSWORD", raising=False)
    monkeypatch.delenv("CRITMIN_SQL_BOX", raising=False)
    at = run_page("explorer", {})
    assert not at.exception
    assert not at.text_area and not at.text_input
    monkeypatch.setenv("CRITMIN_SQL_BOX", "1")
    # AppTest starts each run on a fresh pages manager, so the router's one-time rerun
    # (ui/router.py) would happen at every run and swallow the form's submit.
    import critmin.ui.router

    monkeypatch.setattr(critmin.ui.router, "ensure_router", lambda: None)
    st.cache_resource.clear()  # the database is opened with the settings of its start
    at = run_page("explorer", {})
    assert not at.exception
    box = at.text_area(key="explorer:sql")
    box.input("SELECT iso3, name FROM countries WHERE iso3 = 'KAZ'")
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = at.dataframe[-1].value
    assert list(shown.columns) == ["iso3", "name"] and shown["name"].tolist() == ["Kazakhstan"]
    at.text_area(key="explorer:sql").input("COPY countries TO '/tmp/critmin-box.csv'")
    at.button[0].click().run()
    assert "Not run" in " ".join(str(e.value) for e in at.error)
    assert not Path("/tmp/critmin-box.csv").exists()
    st.cache_resource.clear()
