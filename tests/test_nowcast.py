"""The provisional nowcast and its backtest (views.nowcast) on tiny frames built in
code: FOB reading per source, annualising over the months a partner published, missing
months neither zero nor counted, partners not reported left out with their coverage,
and the backtest's error against the reconciled year, golden values throughout."""

from __future__ import annotations

import polars as pl
import pytest

from critmin.views.nowcast import CIF_MARGIN, nowcast

LAST = 2024


def declared(rows: list[tuple[int, int, str, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "year": pl.Int32,
            "month": pl.Int32,
            "partner": pl.String,
            "source": pl.String,
            "series": pl.String,
            "value_usd": pl.Float64,
        },
        orient="row",
    )


def reporting(months: dict[str, list[int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"reporter": list(months), "months": list(months.values())},
        schema={"reporter": pl.String, "months": pl.List(pl.Int32)},
    )


def reconciled(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"series": pl.String, "partner": pl.String, "value_usd": pl.Float64},
        orient="row",
    )


def months(year: int, *numbers: int) -> list[int]:
    return [year * 100 + m for m in numbers]


@pytest.fixture
def case():  # type: ignore[no-untyped-def]
    rows = [
        # China (UN Comtrade, CIF): every month of 2024, January-March 2025.
        *[(2024, m, "CHN", "comtrade", "gallium", 108.0) for m in range(1, 13)],
        (2025, 1, "CHN", "comtrade", "gallium", 216.0),
        (2025, 2, "CHN", "comtrade", "gallium", 108.0),
        (2025, 3, "CHN", "comtrade", "gallium", 324.0),
        # The United States (Census, customs value): 2024 all year, 2025 to June with
        # May missing and no gallium from the exporter in April (a zero, not a gap).
        *[(2024, m, "USA", "census", "gallium", 50.0) for m in range(1, 13)],
        *[(2025, m, "USA", "census", "gallium", 60.0) for m in (1, 2, 3, 6)],
    ]
    published = {
        "CHN": months(2024, *range(1, 13)) + months(2025, 1, 2, 3),
        "USA": months(2024, *range(1, 13)) + months(2025, 1, 2, 3, 4, 6),
    }
    baci = [("gallium", "CHN", 1300.0), ("gallium", "USA", 560.0), ("gallium", "RUS", 140.0)]
    return nowcast(declared(rows), reporting(published), reconciled(baci), LAST)


def test_partners_are_read_fob_and_annualised_over_their_published_months(case) -> None:  # type: ignore[no-untyped-def]
    assert case.years == (2025,)
    chn = case.by_partner.filter(pl.col("partner") == "CHN").row(0, named=True)
    assert chn["months"] == 3 and chn["last_month"] == 3
    assert chn["declared_usd"] == 648.0
    assert chn["ytd_usd"] == pytest.approx(648.0 / CIF_MARGIN)
    assert chn["annualised_usd"] == pytest.approx(648.0 / CIF_MARGIN * 12 / 3)
    usa = case.by_partner.filter(pl.col("partner") == "USA").row(0, named=True)
    # Census values are not CIF; April is a published month with nothing (zero), May a gap.
    assert (usa["months"], usa["ytd_usd"]) == (5, 240.0)
    assert usa["annualised_usd"] == pytest.approx(240.0 * 12 / 5)


def test_partners_not_reported_are_left_out_with_their_coverage(case) -> None:  # type: ignore[no-untyped-def]
    series = case.by_series.row(0, named=True)
    assert series["partners"] == 2
    assert series["annualised_usd"] == pytest.approx(648.0 / CIF_MARGIN * 4 + 240.0 * 12 / 5)
    assert series["coverage"] == pytest.approx((1300 + 560) / 2000)
    assert case.missing.select("year", "partner", "reconciled_usd").rows() == [(2025, "RUS", 140.0)]


def test_backtest_runs_the_method_on_the_last_reconciled_year(case) -> None:  # type: ignore[no-untyped-def]
    bt = {r["partner"]: r for r in case.backtest.iter_rows(named=True)}
    # China has reached March this year: January-March 2024, annualised, against BACI.
    assert bt["CHN"]["months"] == 3
    assert bt["CHN"]["estimate_usd"] == pytest.approx(324.0 / CIF_MARGIN * 4)
    assert bt["CHN"]["error_pct"] == pytest.approx((324.0 / CIF_MARGIN * 4 / 1300 - 1) * 100)
    # The United States has reached June: six months of 2024.
    assert bt["USA"]["months"] == 6
    assert bt["USA"]["estimate_usd"] == pytest.approx(600.0)
    assert bt["USA"]["error_pct"] == pytest.approx((600 / 560 - 1) * 100)
    # Russia publishes no month: no estimate, and the mineral's error counts it as missed.
    assert bt["RUS"]["estimate_usd"] is None
    total = case.backtest_series.row(0, named=True)
    assert total["reconciled_usd"] == 2000.0
    assert total["error_pct"] == pytest.approx(((324.0 / CIF_MARGIN * 4 + 600.0) / 2000 - 1) * 100)


def test_no_month_past_the_reconciled_year_is_no_nowcast() -> None:
    rows = declared([(2024, 1, "CHN", "comtrade", "gallium", 10.0)])
    result = nowcast(rows, reporting({"CHN": [202401]}), reconciled([]), LAST)
    assert result.empty and result.years == ()


def test_a_mineral_never_passes_for_reconciled_figures(case) -> None:  # type: ignore[no-untyped-def]
    """Provisional rows are apart from the reconciled ones: no reconciled year in them."""
    assert set(case.by_series["year"]) == {2025}
    assert set(case.by_partner["year"]) == {2025}
