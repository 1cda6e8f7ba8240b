"""Golden tests of the metrics on small hand-computed cases (DOMAIN.md §4)."""

import math

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from critmin import metrics


def test_cagr_matches_hand_computation():
    # 100 -> 121 over two years is 10% a year.
    assert metrics.cagr(100.0, 121.0, 2) == pytest.approx(0.10)
    assert metrics.cagr(200.0, 100.0, 1) == pytest.approx(-0.5)


@pytest.mark.parametrize(
    "first,last,years",
    [(0.0, 50.0, 3), (None, 5.0, 2), (10.0, 20.0, 0), (10.0, None, 2), (-5.0, 10.0, 2)],
)
def test_cagr_is_undefined_without_a_positive_start(first, last, years):
    assert metrics.cagr(first, last, years) is None


def test_yoy_per_series_and_gap_years():
    df = pl.DataFrame(
        {
            "series": ["a", "a", "a", "b", "b"],
            "year": [2020, 2021, 2023, 2020, 2021],
            "v": [100.0, 150.0, 300.0, 0.0, 10.0],
        }
    )
    out = metrics.with_yoy(df, "v", by=["series"])
    # 2023 follows a missing 2022: no change; b's base is zero: no change.
    assert out["v_yoy"].to_list() == [None, 0.5, None, None, None]


def test_index_first_year_is_100():
    df = pl.DataFrame(
        {"s": ["a", "a", "b", "b"], "year": [2012, 2013, 2012, 2013], "v": [50.0, 75.0, 0.0, 5.0]}
    )
    out = metrics.with_index(df, "v", by=["s"])
    assert out["v_index"].to_list() == [100.0, 150.0, None, None]


def test_shares_sum_to_one_per_group():
    df = pl.DataFrame({"year": [1, 1, 2], "p": ["x", "y", "x"], "v": [30.0, 10.0, 0.0]})
    out = metrics.with_shares(df, "v", ["year"])
    assert out["share"].to_list() == [0.75, 0.25, None]


def test_hhi_on_both_scales():
    shares = [0.5, 0.3, 0.2]  # 0.25 + 0.09 + 0.04 = 0.38
    assert metrics.hhi(shares, "1") == pytest.approx(0.38)
    assert metrics.hhi(shares, "10000") == pytest.approx(3800.0)
    assert metrics.hhi([1.0]) == pytest.approx(10_000.0)
    with pytest.raises(ValueError):
        metrics.hhi(shares, "100")


def test_hhi_by_group_and_bands():
    df = pl.DataFrame({"year": [1, 1, 2, 2, 2, 2], "v": [60.0, 40.0, 25.0, 25.0, 25.0, 25.0]})
    out = metrics.hhi_by(df, "v", ["year"])
    assert out["hhi"].to_list() == pytest.approx([5200.0, 2500.0])
    assert metrics.hhi_band(1000) == "unconcentrated"
    assert metrics.hhi_band(2000) == "moderately concentrated"
    assert metrics.hhi_band(2500) == "highly concentrated"


def test_unit_value_and_flags():
    df = pl.DataFrame({"value_usd": [1000.0, 500.0, 10.0], "quantity_kg": [500.0, None, 0.0]})
    out = metrics.flag_unit_values(metrics.with_unit_value(df), low=1.0, high=1.5)
    assert out["unit_value_usd_per_kg"].to_list() == [2.0, None, None]
    assert out["unit_value_flag"].to_list() == ["above plausible range", None, None]
    low = metrics.flag_unit_values(pl.DataFrame({"unit_value_usd_per_kg": [0.5]}), 1.0, 2.0)
    assert low["unit_value_flag"][0] == "below plausible range"


def test_mirror_gap():
    df = pl.DataFrame(
        {
            "exporter_reported": [100.0, None, 0.0, 50.0],
            "importer_reported": [108.0, 5.0, 5.0, None],
        }
    )
    out = metrics.mirror_gap(df)
    assert out["gap_usd"].to_list() == [pytest.approx(8.0), None, 5.0, None]
    assert out["gap_pct"].to_list() == [pytest.approx(8.0), None, None, None]


def test_rank_with_ties():
    df = pl.DataFrame({"year": [1, 1, 1, 2], "e": ["a", "b", "c", "a"], "v": [5.0, 9.0, 5.0, 1.0]})
    out = metrics.with_rank(df, "v", ["year"])
    assert out["rank"].to_list() == [2, 1, 2, 1]


def test_window_cagr_per_series():
    df = pl.DataFrame(
        {
            "s": ["a", "a", "b", "b"],
            "year": [2010, 2012, 2010, 2012],
            "v": [100.0, 144.0, 0.0, 10.0],
        }
    )
    out = metrics.window_cagr(df, "v", 2010, 2012, by=["s"]).sort("s")
    expected = pl.DataFrame(
        {"s": ["a", "b"], "first": [100.0, 0.0], "last": [144.0, 10.0], "cagr": [0.2, None]}
    )
    assert_frame_equal(out, expected, check_exact=False)
    assert not math.isnan(out["cagr"][0])


@pytest.mark.parametrize("years", [0, 1, 2, 5])
def test_cagr_expression_agrees_with_the_scalar_rule(years):
    firsts = [100.0, 0.0, None, 10.0, -5.0, 3.0, 250.0]
    lasts = [121.0, 50.0, 5.0, None, 10.0, 0.0, 100.0]
    df = pl.DataFrame({"first": firsts, "last": lasts})
    out = df.select(metrics.cagr_expr(pl.col("first"), pl.col("last"), years))["cagr"].to_list()
    expected = [metrics.cagr(f, last, years) for f, last in zip(firsts, lasts, strict=True)]
    assert [v is None for v in out] == [v is None for v in expected]
    for got, want in zip(out, expected, strict=True):
        if want is not None:
            assert got == pytest.approx(want)
