"""The provisional nowcast past the last reconciled year, and its backtest.

For the years after the last year the reconciled data (CEPII BACI) cover, an exporter's
exports of each mineral are estimated from its partners' monthly import declarations
(the mirror), partner by partner:

1. **FOB, not CIF.** Importers value goods at their border, with freight and insurance
   (CIF); the reconciled data are FOB. Declarations valued CIF (UN Comtrade imports,
   Eurostat Comext imports) are divided by 1.08, the margin Open Trade Statistics uses
   to read a mirror import as an export; the US Census Bureau's customs value excludes
   freight and insurance and is taken as it is.
2. **Year to date, then annualised.** A partner's year to date is the sum of the months
   it has published; annualised = year to date x 12 / the number of those months.
   Seasonality is ignored: a partner that has published January to March stands for
   the whole year with its first quarter.
3. **Months missing.** A month a partner has not published (or critmin has not loaded)
   counts neither as zero nor as a month: the months it did publish are annualised.
   A published month without a declaration of the mineral from the exporter is zero.
4. **Partners not yet reported.** A partner that has published no month of the year is
   left out, never imputed; the page lists them with their share of the last reconciled
   year, and `coverage` is the reconciled share of the partners that are in.
5. **Never summed with BACI.** Provisional years are separate rows, drawn dashed.

The **backtest** runs the same method on the last reconciled year: for each partner,
its declarations of January to the month it has reached in the newest provisional year,
annualised, against the reconciled value of that year; per mineral, the sum over the
partners that declared against the reconciled total of every partner, so the error
includes the partners the method cannot see. Pure: no Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# How a source values the imports it declares: CIF (divide by the margin) or customs
# value without freight and insurance (as it is).
CIF_MARGIN = 1.08
FOB_FACTOR = {"comtrade": CIF_MARGIN, "comext": CIF_MARGIN, "census": 1.0}

METHOD = (
    "Provisional figures for the years after the last reconciled (BACI) year are built from "
    "the partners' own monthly import declarations (the mirror), partner by partner: imports "
    "declared CIF (UN Comtrade, Eurostat Comext) are divided by 1.08 to read them FOB, as "
    "Open Trade Statistics does; the US Census Bureau's customs value is taken as it is. "
    "Each partner's months so far are summed (year to date) and annualised (x 12 / months "
    "published); months a partner has not published are neither zero nor counted, and "
    "seasonality is ignored. Partners that have published no month of the year are left "
    "out, not imputed: the coverage says which share of the last reconciled year they "
    "stand for. The backtest runs the same method on the last reconciled year, on the "
    "months each partner has reached this year, against BACI."
)


@dataclass(frozen=True)
class Nowcast:
    last_year: int  # the last reconciled year
    years: tuple[int, ...]  # the provisional years, ascending
    by_partner: (
        pl.DataFrame
    )  # year, series, partner, months, last_month, declared_usd, ytd_usd, annualised_usd
    by_series: pl.DataFrame  # year, series, ytd_usd, annualised_usd, partners, coverage
    backtest: pl.DataFrame  # series, partner, months, estimate_usd, reconciled_usd, error_pct
    backtest_series: pl.DataFrame  # series, estimate_usd, reconciled_usd, error_pct
    missing: pl.DataFrame  # year, series, partner, reconciled_usd (partners not reported)

    @property
    def empty(self) -> bool:
        return self.by_series.is_empty()


def _fob(value: pl.Expr, source: pl.Expr) -> pl.Expr:
    return value / source.replace_strict(FOB_FACTOR, default=CIF_MARGIN, return_dtype=pl.Float64)


def reported_months(reporting: pl.DataFrame) -> pl.DataFrame:
    """reporter, year, month: every month a reporter has published (any source)."""
    if reporting.is_empty():
        return pl.DataFrame(schema={"partner": pl.String, "year": pl.Int32, "month": pl.Int32})
    return (
        reporting.select(pl.col("reporter").alias("partner"), pl.col("months"))
        .explode("months")
        .select(
            "partner",
            (pl.col("months") // 100).cast(pl.Int32).alias("year"),
            (pl.col("months") % 100).cast(pl.Int32).alias("month"),
        )
        .unique()
    )


def nowcast(
    declared: pl.DataFrame,
    reporting: pl.DataFrame,
    reconciled: pl.DataFrame,
    last_year: int,
) -> Nowcast:
    """The nowcast and its backtest (module docstring).

    declared: year, month, partner, source, series, value_usd (the partners' import
    declarations from the exporter, one row per declaration and series); rows without
    a USD value (euros without a rate) must be left out by the caller.
    reporting: reporter, months (Catalog.reporting, importer side).
    reconciled: series, partner, value_usd of `last_year` (BACI)."""
    months = reported_months(reporting)
    fob = declared.select(
        "year",
        "month",
        "partner",
        "series",
        pl.col("value_usd").alias("declared_usd"),
        _fob(pl.col("value_usd"), pl.col("source")).alias("fob_usd"),
    )
    years = tuple(sorted(y for y in fob["year"].unique().to_list() if y > last_year))
    pairs = pl.concat(
        [
            fob.select("series", "partner"),
            reconciled.filter(pl.col("value_usd") > 0).select("series", "partner"),
        ]
    ).unique()
    counted = months.group_by("partner", "year").agg(
        pl.len().cast(pl.Int32).alias("months"), pl.col("month").max().alias("last_month")
    )
    sums = fob.group_by("year", "series", "partner").agg(
        pl.col("declared_usd").sum(), pl.col("fob_usd").sum().alias("ytd_usd")
    )
    grid = pairs.join(pl.DataFrame({"year": list(years)}, schema={"year": pl.Int32}), how="cross")
    by_partner = (
        grid.join(counted, on=["partner", "year"], how="left")
        .join(sums, on=["year", "series", "partner"], how="left")
        .with_columns(
            pl.col("months").fill_null(0),
            pl.when(pl.col("months") > 0).then(pl.col("declared_usd").fill_null(0.0)),
            pl.when(pl.col("months") > 0).then(pl.col("ytd_usd").fill_null(0.0)),
        )
        .with_columns(
            (pl.col("ytd_usd") * 12 / pl.col("months")).alias("annualised_usd"),
        )
        .join(
            reconciled.select("series", "partner", pl.col("value_usd").alias("reconciled_usd")),
            on=["series", "partner"],
            how="left",
        )
        .sort("year", "series", "annualised_usd", "partner", descending=[False, False, True, False])
    )
    reported = by_partner.filter(pl.col("months") > 0)
    totals = reconciled.group_by("series").agg(pl.col("value_usd").sum().alias("_all"))
    by_series = (
        reported.group_by("year", "series")
        .agg(
            pl.col("ytd_usd").sum(),
            pl.col("annualised_usd").sum(),
            pl.len().cast(pl.Int32).alias("partners"),
            pl.col("reconciled_usd").fill_null(0.0).sum().alias("_in"),
        )
        .join(totals, on="series", how="left")
        .with_columns((pl.col("_in") / pl.col("_all")).alias("coverage"))
        .drop("_in", "_all")
        .sort("year", "series")
    )
    missing = (
        by_partner.filter((pl.col("months") == 0) & (pl.col("reconciled_usd") > 0))
        .select("year", "series", "partner", "reconciled_usd")
        .sort("year", "series", "reconciled_usd", descending=[False, False, True])
    )
    backtest, backtest_series = _backtest(fob, months, counted, reconciled, last_year, years)
    return Nowcast(
        last_year=last_year,
        years=years,
        by_partner=by_partner.drop("reconciled_usd"),
        by_series=by_series,
        backtest=backtest,
        backtest_series=backtest_series,
        missing=missing,
    )


def _backtest(
    fob: pl.DataFrame,
    months: pl.DataFrame,
    counted: pl.DataFrame,
    reconciled: pl.DataFrame,
    last_year: int,
    years: tuple[int, ...],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The method on the last reconciled year, to the month each partner has reached in
    the newest provisional year (all twelve when there is none or it has none)."""
    reach = (
        counted.filter(pl.col("year") == years[-1]).select("partner", "last_month")
        if years
        else pl.DataFrame(schema={"partner": pl.String, "last_month": pl.Int32})
    )
    window = (
        months.filter(pl.col("year") == last_year)
        .join(reach, on="partner", how="left")
        .filter(pl.col("month") <= pl.col("last_month").fill_null(12))
    )
    used = window.group_by("partner").agg(pl.len().cast(pl.Int32).alias("months"))
    sums = (
        fob.filter(pl.col("year") == last_year)
        .join(window.select("partner", "month"), on=["partner", "month"], how="semi")
        .group_by("series", "partner")
        .agg(pl.col("fob_usd").sum().alias("_ytd"))
    )
    pairs = pl.concat(
        [sums.select("series", "partner"), reconciled.select("series", "partner")]
    ).unique()
    rows = (
        pairs.join(used, on="partner", how="left")
        .join(sums, on=["series", "partner"], how="left")
        .join(
            reconciled.select("series", "partner", pl.col("value_usd").alias("reconciled_usd")),
            on=["series", "partner"],
            how="left",
        )
        .with_columns(
            pl.when(pl.col("months") > 0)
            .then(pl.col("_ytd").fill_null(0.0) * 12 / pl.col("months"))
            .alias("estimate_usd"),
            pl.col("reconciled_usd").fill_null(0.0),
        )
        .with_columns(
            pl.when(pl.col("reconciled_usd") > 0)
            .then((pl.col("estimate_usd") / pl.col("reconciled_usd") - 1) * 100)
            .alias("error_pct")
        )
        .select("series", "partner", "months", "estimate_usd", "reconciled_usd", "error_pct")
        .sort("series", "reconciled_usd", "partner", descending=[False, True, False])
    )
    series = (
        rows.group_by("series")
        .agg(
            pl.col("estimate_usd").sum(),
            pl.col("reconciled_usd").sum(),
            (pl.col("estimate_usd").is_not_null()).sum().cast(pl.Int32).alias("partners"),
        )
        .with_columns(
            pl.when(pl.col("reconciled_usd") > 0)
            .then((pl.col("estimate_usd") / pl.col("reconciled_usd") - 1) * 100)
            .alias("error_pct")
        )
        .sort("series")
    )
    return rows, series
