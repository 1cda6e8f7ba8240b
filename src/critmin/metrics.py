"""The explorer's metrics as pure functions on polars frames (DOMAIN.md §4).

Each takes a frame and column names and returns a new frame; none reads a
database or Streamlit. Golden tests in tests/test_metrics.py check each on
small hand-computed cases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

# HHI scales: shares in percent (0-10,000, US merger guidance bands) or in fractions
# (0-1, as the World Bank's WITS reports it).
HHI_SCALES = {"10000": 10_000.0, "1": 1.0}
HHI_BANDS_10000 = (
    (1_500.0, "unconcentrated"),
    (2_500.0, "moderately concentrated"),
    (math.inf, "highly concentrated"),
)


def cagr(first: float | None, last: float | None, years: int) -> float | None:
    """Compound annual growth rate; None when undefined (first value 0 or missing,
    a window under one year, or a negative ratio)."""
    if first is None or last is None or years <= 0 or first <= 0 or last < 0:
        return None
    return (last / first) ** (1.0 / years) - 1.0


def with_yoy(
    df: pl.DataFrame, value: str, by: Sequence[str] = (), year: str = "year"
) -> pl.DataFrame:
    """Add `<value>_yoy`: change on the previous year as a fraction (null where the
    previous year is missing or zero)."""
    over = list(by) or None
    previous = pl.col(value).shift(1)
    previous_year = pl.col(year).shift(1)
    if over:
        previous = previous.over(over, order_by=year)
        previous_year = previous_year.over(over, order_by=year)
    change = (
        pl.when((previous_year == pl.col(year) - 1) & (previous != 0))
        .then(pl.col(value) / previous - 1.0)
        .otherwise(None)
    )
    return df.sort([*by, year]).with_columns(change.alias(f"{value}_yoy"))


def with_index(
    df: pl.DataFrame, value: str, by: Sequence[str] = (), year: str = "year"
) -> pl.DataFrame:
    """Add `<value>_index`: the value as an index, first year of each series = 100
    (null for a series whose first value is 0)."""
    first = pl.col(value).sort_by(year).first()
    if by:
        first = first.over(list(by))
    return df.with_columns(
        pl.when(first != 0)
        .then(pl.col(value) / first * 100.0)
        .otherwise(None)
        .alias(f"{value}_index")
    )


def with_shares(df: pl.DataFrame, value: str, by: Sequence[str]) -> pl.DataFrame:
    """Add `share`: value over the total of its group (e.g. year and series)."""
    total = pl.col(value).sum().over(list(by)) if by else pl.col(value).sum()
    return df.with_columns(
        pl.when(total != 0).then(pl.col(value) / total).otherwise(None).alias("share")
    )


def hhi(shares: Sequence[float], scale: str = "10000") -> float:
    """Herfindahl-Hirschman index of fractional shares, on the 0-10,000 or 0-1 scale."""
    if scale not in HHI_SCALES:
        raise ValueError(f"HHI scale must be one of {sorted(HHI_SCALES)}")
    total = sum(s * s for s in shares)
    return total * HHI_SCALES[scale]


def hhi_by(df: pl.DataFrame, value: str, by: Sequence[str], scale: str = "10000") -> pl.DataFrame:
    """HHI per group from the values of its members (e.g. partners per year)."""
    if scale not in HHI_SCALES:
        raise ValueError(f"HHI scale must be one of {sorted(HHI_SCALES)}")
    share = pl.col(value) / pl.col(value).sum()
    return (
        df.filter(pl.col(value) > 0)
        .group_by(list(by))
        .agg((share.pow(2).sum() * HHI_SCALES[scale]).alias("hhi"), pl.len().alias("members"))
        .sort(list(by))
    )


def hhi_band(value: float) -> str:
    """The US merger-guidance band of an HHI on the 0-10,000 scale."""
    for limit, label in HHI_BANDS_10000:
        if value < limit:
            return label
    return HHI_BANDS_10000[-1][1]


def with_unit_value(
    df: pl.DataFrame, value: str = "value_usd", quantity: str = "quantity_kg"
) -> pl.DataFrame:
    """Add `unit_value_usd_per_kg` (null where quantity is missing or zero)."""
    return df.with_columns(
        pl.when(pl.col(quantity) > 0)
        .then(pl.col(value) / pl.col(quantity))
        .otherwise(None)
        .alias("unit_value_usd_per_kg")
    )


def flag_unit_values(
    df: pl.DataFrame, low: float, high: float, column: str = "unit_value_usd_per_kg"
) -> pl.DataFrame:
    """Add `unit_value_flag`: 'below plausible range', 'above plausible range' or null."""
    return df.with_columns(
        pl.when(pl.col(column) < low)
        .then(pl.lit("below plausible range"))
        .when(pl.col(column) > high)
        .then(pl.lit("above plausible range"))
        .otherwise(None)
        .alias("unit_value_flag")
    )


def mirror_gap(
    df: pl.DataFrame,
    exporter_reported: str = "exporter_reported",
    importer_reported: str = "importer_reported",
) -> pl.DataFrame:
    """Add the gap between the importer's and the exporter's declarations: `gap_usd`
    (importer minus exporter) and `gap_pct` (percent of the exporter's figure). Null
    where a side is missing; `gap_pct` also where the exporter declared zero."""
    exporter, importer = pl.col(exporter_reported), pl.col(importer_reported)
    gap = importer - exporter
    return df.with_columns(
        gap.alias("gap_usd"),
        pl.when(exporter != 0).then(gap / exporter * 100.0).otherwise(None).alias("gap_pct"),
    )


def with_rank(df: pl.DataFrame, value: str, by: Sequence[str]) -> pl.DataFrame:
    """Add `rank`: 1 for the largest value in each group (ties share the best rank)."""
    rank = pl.col(value).rank(method="min", descending=True)
    if by:
        rank = rank.over(list(by))
    return df.with_columns(rank.cast(pl.Int32).alias("rank"))


def window_cagr(
    df: pl.DataFrame, value: str, year_from: int, year_to: int, by: Sequence[str] = ()
) -> pl.DataFrame:
    """CAGR of each series between two years (null when undefined)."""
    start = df.filter(pl.col("year") == year_from).select([*by, pl.col(value).alias("first")])
    end = df.filter(pl.col("year") == year_to).select([*by, pl.col(value).alias("last")])
    joined = (
        start.join(end, on=list(by), how="full", coalesce=True)
        if by
        else pl.concat([start, end], how="horizontal")
    )
    return joined.with_columns(cagr_expr(pl.col("first"), pl.col("last"), year_to - year_from))


def cagr_expr(first: pl.Expr, last: pl.Expr, years: int) -> pl.Expr:
    """`cagr` as a native polars expression (null where undefined, by the same rules),
    so no Python function runs inside polars' thread pool."""
    defined = first.is_not_null() & last.is_not_null() & (first > 0) & (last >= 0)
    defined = defined & pl.lit(years > 0)
    growth = (last / first).pow(1.0 / max(years, 1)) - 1.0
    return pl.when(defined).then(growth).otherwise(None).cast(pl.Float64).alias("cagr")
