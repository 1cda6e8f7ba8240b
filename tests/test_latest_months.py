"""The latest months as a user sees them (AppTest on the demo warehouse, whose months are
synthetic): the Latest months page with its nowcast, backtest and who-has-published
table; the provisional years dashed on Export growth and Overview and never summed with
BACI; the exactness grade at the top of the pages; and the exact product on
Diversification and Suppliers, said so."""

from __future__ import annotations

from pathlib import Path

import conftest
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from critmin.catalog import load_catalog
from critmin.db import open_database
from critmin.settings import Settings
from critmin.views import growth, latest, overview


def run_page(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = conftest.run_page(page, params)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def texts(elements) -> str:  # type: ignore[no-untyped-def]
    return " ".join(str(e.value) for e in elements)


@pytest.fixture(scope="module")
def db(demo_warehouse_dir: Path):  # type: ignore[no-untyped-def]
    database = open_database(Settings(data_dir=demo_warehouse_dir, data_dir_is_default=False))
    yield database
    database.close()


def test_latest_months_page_shows_months_nowcast_and_backtest(app_env: Path) -> None:
    at = run_page("latest")
    assert "Provisional." in texts(at.warning)
    captions = texts(at.caption)
    assert "Method." in captions and "divided by 1.08" in captions
    assert "Partners of the last reconciled year with no month published this year" in captions
    assert "Russia" in captions  # publishes no monthly data: said, not imputed
    assert ":orange-badge[basket]" in captions  # the grade at the top
    tables = [t.value for t in at.dataframe]
    assert any("Backtest error on 2024 %" in t.columns for t in tables)
    assert any("Months missing inside" in t.columns for t in tables)
    assert len(at.get("vega_lite_chart")) == 2


def test_exact_lines_on_latest_months_are_the_us_and_eu_declarations(app_env: Path) -> None:
    at = run_page("latest", {"minerals": "gallium", "product": "exact"})
    assert "8112921000" in texts(at.caption)
    # The EU's CN8 gallium line is graded proxy until its CN text is confirmed: not read
    # as the exact product.
    assert "81129289" not in texts(at.caption)
    assert "estimated from the partners' declarations of the HS6" in texts(at.info)


def test_own_declarations_of_exact_lines_are_explained(app_env: Path) -> None:
    at = run_page("latest", {"declared_by": "own", "product": "exact"})
    assert "own declarations are at HS6" in texts(at.info)


def test_view_totals_count_each_declaration_once(db) -> None:  # type: ignore[no-untyped-def]
    """The months chart's total equals the declarations straight from the warehouse
    (a code two chosen minerals share counted once)."""
    catalog = load_catalog(db)
    state = latest.State("KAZ", ("gallium", "germanium"), "24", "mirror", "basket")
    view = latest.build(db, catalog, state)
    from critmin import queries
    from critmin.filters import MonthlyFilter

    latest_ym = catalog.latest_month()
    assert latest_ym is not None
    first = latest._ym(latest_ym, -23)
    rows = queries.monthly_by_partner(
        db, MonthlyFilter(("gallium", "germanium"), first, latest_ym), "KAZ"
    ).frame
    assert float(view.months["value_musd"].sum()) * 1e6 == pytest.approx(
        float(rows["value_usd"].sum())
    )
    assert view.months["month_start"].n_unique() == 24


def test_provisional_years_are_apart_from_baci(db) -> None:  # type: ignore[no-untyped-def]
    catalog = load_catalog(db)
    last = catalog.years[1]
    state = growth.State(
        "KAZ", ("gallium",), (), (), catalog.years[0], last, "reconciled", "value", "absolute"
    )
    view = growth.build(db, catalog, state)
    assert view.table["year"].max() == last  # the reconciled table never holds them
    provisional = view.provisional
    assert set(provisional.filter(pl.col("basis") == "reconciled")["year"]) == {last}
    assert provisional["year"].max() > last
    start = provisional.filter(pl.col("year") == last)["value_musd"][0]
    assert start == pytest.approx(view.table.filter(pl.col("year") == last)["value_musd"][0])
    indexed = growth.build(db, catalog, growth.State(**{**state.__dict__, "view": "indexed"}))
    assert indexed.provisional.is_empty() and "value, absolute view" in (
        indexed.provisional_note or ""
    )
    total = overview.build(db, catalog, overview.State("KAZ", catalog.years[0], last))
    assert total.provisional["year"].min() == last and total.provisional.height > 1


def test_growth_and_overview_draw_the_provisional_years_dashed(app_env: Path) -> None:
    for page in ("growth", "overview"):
        at = run_page(page)
        assert "Dashed, provisional" in texts(at.caption), page
        specs = [c.proto.spec for c in at.get("vega_lite_chart")]
        assert any('"strokeDash": [6, 4]' in spec for spec in specs), page


def test_diversification_uses_the_exact_product_and_says_so(app_env: Path) -> None:
    basket = run_page("diversification", {"importer": "USA", "mineral": "gallium"})
    exact = run_page(
        "diversification", {"importer": "USA", "mineral": "gallium", "product": "exact"}
    )
    assert "Exact product: imports by United States of HTS10 8112921000" in texts(exact.info)
    assert "choose **Product: exact national lines**" in texts(basket.caption)
    assert texts(basket.metric) != texts(exact.metric)  # other figures, not a relabelled basket
    eu = run_page("suppliers", {"importer": "EU27", "mineral": "gallium", "product": "exact"})
    assert "No exact national line of European Union (27) for gallium" in texts(eu.info)
    none = run_page(
        "diversification", {"importer": "JPN", "mineral": "gallium", "product": "exact"}
    )
    assert "No exact national line of Japan" in texts(none.info) + texts(none.caption)


def test_hostile_values_of_the_new_fields_fall_back_with_a_warning(app_env: Path) -> None:
    """The fields Latest months, Diversification and Suppliers added (their keys are kept
    out of the fuzz test's shared list, whose longest link is at the server's URL limit)."""
    hostile = "KAZ'; DROP VIEW monthly_flows; -- \" OR 1=1"
    for page in ("latest", "diversification", "suppliers"):
        at = run_page(page, {"window": hostile, "declared_by": "🦆", "product": "x" * 5000})
        warnings = texts(at.warning)
        assert "Link problem" in warnings, page
        assert "'product' is too long" in warnings, page
