"""Latest months: a country's exports of the chosen minerals month by month, by partner,
for the last 24 or 36 months loaded, as its partners declare them (their imports: the
mirror, the default) or as it declares them itself; the year to date against the same
months a year earlier; the policy events of those months; which partners have published
up to which month; and the provisional nowcast past the last reconciled year with its
backtest (`views.nowcast`). Pure: no Streamlit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from critmin import derive, queries
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.domain import MONTHLY_SOURCE_LABELS
from critmin.filters import MonthlyFilter, TradeFilter
from critmin.views import nowcast as nc
from critmin.views.common import events_for

WINDOWS = {"24": "24 months", "36": "36 months"}
DECLARED_BY = {
    "mirror": "the partners (their imports: the mirror)",
    "own": "the exporter itself (its exports)",
}
PRODUCTS = {
    "basket": "HS6 codes of the mineral baskets",
    "exact": "exact national lines (US HTS10, EU CN8)",
}
TOP_PARTNERS = 7
OTHER = "Other partners"
SIDE_OF = {"mirror": "importer_reported", "own": "exporter_reported"}


@dataclass(frozen=True)
class State:
    country: str
    minerals: tuple[str, ...]
    window: str
    declared_by: str
    product: str

    def __post_init__(self) -> None:
        if self.window not in WINDOWS or self.declared_by not in DECLARED_BY:
            raise ValueError("unknown window or declaration")
        if self.product not in PRODUCTS:
            raise ValueError(f"product must be one of {sorted(PRODUCTS)}")


@dataclass(frozen=True)
class View:
    name: str
    has_monthly: bool  # any monthly declaration loaded at all
    first: dt.date | None  # first month shown
    last: dt.date | None  # newest month shown
    months: pl.DataFrame  # month_start, Partner, order, value_musd, provisional
    by_mineral: pl.DataFrame  # month_start, Mineral, value_usd (each mineral's own codes)
    ytd: pl.DataFrame  # Partner, Through, YTD (USD), Same months a year earlier (USD), Change %
    reporting: pl.DataFrame  # Partner, Source, First month, Last month, Missing months, Vintage
    not_reported: tuple[str, ...]  # partners of the last reconciled year without any month
    events: pl.DataFrame
    in_euros: int  # declarations left out: euros without an exchange rate
    sources: str  # "US Census Bureau to 2026-10; ..."
    nowcast: nc.Nowcast | None  # mirror + basket only
    nowcast_table: (
        pl.DataFrame
    )  # Mineral, Year, YTD (USD), Annualised (USD), Coverage %, Backtest error %
    nowcast_partners: pl.DataFrame  # Mineral, Year, Partner, Months, YTD, Annualised, Backtest...
    annual: pl.DataFrame  # year, Mineral, value_musd, basis (reconciled years)
    provisional: pl.DataFrame  # year, Mineral, value_musd, basis (last reconciled + provisional)
    note: str | None  # why there are no monthly rows, in words
    nowcast_note: str | None = None  # why there is no nowcast, in words


def _ym(value: int, months: int) -> int:
    """year * 100 + month moved by `months`."""
    index = (value // 100) * 12 + value % 100 - 1 + months
    return (index // 12) * 100 + index % 12 + 1


def _date(column: str = "year", month: str = "month") -> pl.Expr:
    return pl.date(pl.col(column), pl.col(month), 1)


def _label_ym(ym: int) -> str:
    return f"{ym // 100}-{ym % 100:02d}"


def build(db: Database, catalog: Catalog, state: State) -> View:
    name = catalog.country_name(state.country)
    latest = catalog.latest_month()
    empty = _empty_view(name, catalog, state, latest is not None)
    if latest is None or not state.minerals:
        return empty
    ym_from = _ym(latest, -int(state.window) + 1)
    side = SIDE_OF[state.declared_by]
    f = MonthlyFilter(state.minerals, ym_from, latest, state.product == "exact", (side,))
    rows = queries.monthly_by_partner(db, f, state.country).frame
    in_euros = int(rows["value_usd"].null_count())
    priced = rows.filter(pl.col("value_usd").is_not_null())
    reporting = catalog.reporting(ym_from, latest, (side,))
    once = priced.unique(
        ["year", "month", "partner", "reporter", "side", "source", "national_code"]
    )
    ranked = (
        once.group_by("partner")
        .agg(pl.col("value_usd").sum())
        .sort("value_usd", "partner", descending=[True, False])
    )
    top = ranked.head(TOP_PARTNERS)["partner"].to_list()
    label = (
        pl.when(pl.col("partner").is_in(top))
        .then(catalog.country("partner"))
        .otherwise(pl.lit(OTHER))
    )
    order = {p: i for i, p in enumerate(top)}
    months = (
        once.with_columns(_date().alias("month_start"), label.alias("Partner"))
        .group_by("month_start", "Partner")
        .agg(
            (pl.col("value_usd").sum() / 1e6).alias("value_musd"),
            pl.col("provisional").any(),
            pl.col("partner").first().replace_strict(order, default=len(top)).alias("order"),
        )
        .sort("month_start", "order")
    )
    by_mineral = (
        priced.explode("minerals")
        .filter(pl.col("minerals").is_in(list(state.minerals)))
        .group_by(_date().alias("month_start"), pl.col("minerals").alias("mineral"))
        .agg(pl.col("value_usd").sum())
        .with_columns(catalog.mineral("mineral", "Mineral"))
        .sort("month_start", "Mineral")
    )
    first_ym = int(rows.select((pl.col("year") * 100 + pl.col("month")).min()).item() or ym_from)
    events = events_for(catalog.events(), state.minerals)
    annual, provisional, now, table, partners, not_reported, nowcast_note = _nowcast(
        db, catalog, state, latest
    )
    return View(
        name=name,
        has_monthly=True,
        first=dt.date(first_ym // 100, first_ym % 100, 1),
        last=dt.date(latest // 100, latest % 100, 1),
        months=months,
        by_mineral=by_mineral,
        ytd=year_to_date(catalog, once, reporting, latest),
        reporting=reporting_table(catalog, reporting, once, state),
        not_reported=not_reported,
        events=events,
        in_euros=in_euros,
        sources=sources_line(catalog),
        nowcast=now,
        nowcast_table=table,
        nowcast_partners=partners,
        annual=annual,
        provisional=provisional,
        note=_why_empty(state, name) if rows.is_empty() else None,
        nowcast_note=nowcast_note,
    )


def _why_empty(state: State, name: str) -> str:
    if state.product == "exact" and state.declared_by == "own":
        return (
            f"{name}'s own declarations are at HS6 (UN Comtrade): no national line. Choose "
            "the HS6 codes, or the partners' declarations."
        )
    if state.product == "exact":
        return (
            "Exact national lines are declared only by the United States (HTS10) and EU "
            f"members (CN8): none of them declared imports of these minerals from {name} "
            "in these months."
        )
    return f"No monthly declarations of these minerals from {name} in these months."


def _empty_view(name: str, catalog: Catalog, state: State, has_monthly: bool) -> View:
    schema_months = {
        "month_start": pl.Date,
        "Partner": pl.String,
        "value_musd": pl.Float64,
        "provisional": pl.Boolean,
        "order": pl.Int64,
    }
    return View(
        name=name,
        has_monthly=has_monthly,
        first=None,
        last=None,
        months=pl.DataFrame(schema=schema_months),
        by_mineral=pl.DataFrame(),
        ytd=pl.DataFrame(),
        reporting=pl.DataFrame(),
        not_reported=(),
        events=pl.DataFrame(),
        in_euros=0,
        sources=sources_line(catalog),
        nowcast=None,
        nowcast_table=pl.DataFrame(),
        nowcast_partners=pl.DataFrame(),
        annual=pl.DataFrame(),
        provisional=pl.DataFrame(),
        note=None if state.minerals else "Choose at least one mineral in the sidebar.",
    )


def sources_line(catalog: Catalog) -> str:
    """'US Census Bureau: 2024-01 to 2026-10 (vintage 2026-12-07); ...' for a caption."""
    if catalog.monthly.is_empty():
        return ""
    per = (
        catalog.monthly.group_by("source")
        .agg(pl.col("first_ym").min(), pl.col("last_ym").max(), pl.col("vintage").max())
        .sort("source")
    )
    shaped = "synthetic, shaped like " if catalog.monthly_synthetic else ""
    return "; ".join(
        f"{shaped}{MONTHLY_SOURCE_LABELS.get(s, s)}: {_label_ym(a)} to {_label_ym(b)} (vintage {v})"
        for s, a, b, v in per.iter_rows()
    )


def year_to_date(
    catalog: Catalog, once: pl.DataFrame, reporting: pl.DataFrame, latest: int
) -> pl.DataFrame:
    """Per partner: this year's months so far (to the last month it has published) against
    the same months a year earlier."""
    year = latest // 100
    reached = (
        nc.reported_months(reporting)
        .filter(pl.col("year") == year)
        .group_by("partner")
        .agg(pl.col("month").max().alias("through"))
    )
    data = once.join(reached, on="partner", how="inner").filter(
        pl.col("month") <= pl.col("through")
    )
    this = data.filter(pl.col("year") == year).group_by("partner").agg(pl.col("value_usd").sum())
    before = (
        data.filter(pl.col("year") == year - 1)
        .group_by("partner")
        .agg(pl.col("value_usd").sum().alias("before"))
    )
    table = (
        reached.join(this, on="partner", how="left")
        .join(before, on="partner", how="left")
        .filter(pl.col("value_usd").is_not_null() | pl.col("before").is_not_null())
        .with_columns(pl.col("value_usd").fill_null(0.0), pl.col("before").fill_null(0.0))
    )
    return table.sort("value_usd", "partner", descending=[True, False]).select(
        catalog.country("partner", "Partner"),
        (pl.lit(f"{year}-01 to {year}-") + pl.col("through").cast(pl.String).str.zfill(2)).alias(
            "Months"
        ),
        pl.col("value_usd").alias("Year to date (USD)"),
        pl.col("before").alias("Same months a year earlier (USD)"),
        pl.when(pl.col("before") > 0)
        .then((pl.col("value_usd") / pl.col("before") - 1) * 100)
        .alias("Change %"),
    )


def reporting_table(
    catalog: Catalog, reporting: pl.DataFrame, once: pl.DataFrame, state: State
) -> pl.DataFrame:
    """Who has published up to which month: the reporters of the declarations shown (the
    partners for the mirror, the exporter for its own), with the months missing inside
    their range."""
    wanted = (
        once["reporter"].unique().to_list() if state.declared_by == "mirror" else [state.country]
    )
    rows = reporting.filter(pl.col("reporter").is_in(wanted))
    if rows.is_empty():
        return pl.DataFrame()
    expected = pl.int_ranges(
        pl.col("first_ym") // 100 * 12 + pl.col("first_ym") % 100 - 1,
        pl.col("last_ym") // 100 * 12 + pl.col("last_ym") % 100,
    )
    return (
        rows.with_columns(
            (expected.list.len() - pl.col("months").list.len()).alias("missing"),
        )
        .sort("last_ym", "reporter", descending=[True, False])
        .select(
            catalog.country("reporter", "Reporter"),
            pl.col("source")
            .replace_strict(MONTHLY_SOURCE_LABELS, default=pl.col("source"))
            .alias("Source"),
            (pl.col("first_ym") // 100)
            .cast(pl.String)
            .add("-")
            .add((pl.col("first_ym") % 100).cast(pl.String).str.zfill(2))
            .alias("First month"),
            (pl.col("last_ym") // 100)
            .cast(pl.String)
            .add("-")
            .add((pl.col("last_ym") % 100).cast(pl.String).str.zfill(2))
            .alias("Last month"),
            pl.col("missing").cast(pl.Int64).alias("Months missing inside"),
            pl.col("vintage").alias("Vintage"),
        )
    )


def _nowcast(
    db: Database, catalog: Catalog, state: State, latest: int
) -> tuple[
    pl.DataFrame,
    pl.DataFrame,
    nc.Nowcast | None,
    pl.DataFrame,
    pl.DataFrame,
    tuple[str, ...],
    str | None,
]:
    """The nowcast on the mirror at HS6 (the only basis BACI can be compared with)."""
    empty = pl.DataFrame()
    if state.declared_by != "mirror" or state.product != "basket":
        return (
            empty,
            empty,
            None,
            empty,
            empty,
            (),
            "The provisional years are estimated from the partners' declarations of the HS6 "
            "codes (the basis the reconciled data use): choose those to see them.",
        )
    built = provisional_years(db, catalog, state.country, state.minerals, latest)
    if built is None:
        return empty, empty, None, empty, empty, (), None
    now, annual, provisional = built
    table = nowcast_table(catalog, now)
    partners = nowcast_partners(catalog, now)
    last = now.years[-1] if now.years else None
    not_reported = tuple(
        sorted(
            {
                catalog.country_name(p)
                for p in now.missing.filter(pl.col("year") == last)["partner"].to_list()
            }
        )
    )
    return annual, provisional, now, table, partners, not_reported, None


ALL = "all"  # the series of every chosen mineral together, each declaration once


def nowcast_for(
    db: Database,
    catalog: Catalog,
    exporter: str,
    minerals: tuple[str, ...],
    latest: int | None = None,
    combined: bool = False,
    reconciled: pl.DataFrame | None = None,
) -> nc.Nowcast | None:
    """The nowcast of an exporter's minerals per mineral, or with `combined` one series
    (`ALL`) of every mineral of the baskets together (`minerals` must then be all of
    them), each declaration and flow counted once (a code shared by two minerals is not
    added twice); None when no monthly declaration reaches past the last reconciled
    year. `reconciled` (series, partner, value_usd of the last reconciled year) may come
    from the caller's own query; otherwise it is asked for."""
    latest = latest or catalog.latest_month()
    last_year = catalog.years[1]
    if latest is None or latest // 100 <= last_year or not minerals:
        return None
    if combined and set(minerals) != set(catalog.mineral_labels):
        raise ValueError("the combined nowcast is of every mineral of the baskets")
    # Summed per mineral (or every basket code together) when the data change: the
    # partners' declarations of the exporter's goods, each declaration once.
    series = [derive.ALL_MINERALS] if combined else list(minerals)
    declared = queries.monthly_mirror(
        db, exporter, series, last_year * 100 + 1, latest
    ).frame.select(
        "year",
        "month",
        "partner",
        "source",
        pl.lit(ALL).alias("series") if combined else pl.col("series"),
        "value_usd",
    )
    reporting = catalog.reporting(last_year * 100 + 1, latest)
    if reconciled is None:
        side = "reconciled" if "reconciled" in catalog.trade_sides else catalog.default_side()
        trade = TradeFilter(
            minerals, (), last_year, last_year, sides=(side,), exporters=(exporter,)
        )
        reconciled = (
            queries.exports_by_partner(db, trade).frame.select(
                pl.lit(ALL).alias("series"), "partner", "value_usd"
            )
            if combined
            else queries.exports_by_series_partner(db, trade).frame.select(
                "series", "partner", "value_usd"
            )
        )
    now = nc.nowcast(declared, reporting, reconciled, last_year)
    return None if now.empty else now


def provisional_frame(catalog: Catalog, now: nc.Nowcast, annual: pl.DataFrame) -> pl.DataFrame:
    """The dashed frame (year, Mineral, value_musd, basis): the last reconciled year of
    `annual` (year, Mineral, value_musd), then the provisional years, per mineral."""
    label = pl.lit("All minerals") if now.by_series["series"].eq(ALL).all() else None
    return pl.concat(
        [
            annual.filter(pl.col("year") == now.last_year).select(
                "year", "Mineral", "value_musd", pl.lit("reconciled (BACI)").alias("basis")
            ),
            now.by_series.select(
                "year",
                (label if label is not None else catalog.mineral("series")).alias("Mineral"),
                (pl.col("annualised_usd") / 1e6).alias("value_musd"),
                pl.lit("provisional: partners' declarations, annualised").alias("basis"),
            ),
        ]
    ).sort("Mineral", "year")


def provisional_years(
    db: Database,
    catalog: Catalog,
    exporter: str,
    minerals: tuple[str, ...],
    latest: int | None = None,
) -> tuple[nc.Nowcast, pl.DataFrame, pl.DataFrame] | None:
    """The nowcast of an exporter's minerals, with the reconciled years and the
    provisional ones as chart frames (year, Mineral, value_musd, basis); None when no
    monthly declaration reaches past the last reconciled year."""
    now = nowcast_for(db, catalog, exporter, minerals, latest)
    if now is None:
        return None
    side = "reconciled" if "reconciled" in catalog.trade_sides else catalog.default_side()
    every_year = TradeFilter(
        minerals, (), catalog.years[0], now.last_year, sides=(side,), exporters=(exporter,)
    )
    annual = (
        queries.exports_by_series(db, every_year)
        .frame.select(
            "year",
            catalog.mineral("series", "Mineral"),
            (pl.col("value_usd") / 1e6).alias("value_musd"),
            pl.lit("reconciled (BACI)").alias("basis"),
        )
        .sort("Mineral", "year")
    )
    return now, annual, provisional_frame(catalog, now, annual)


def nowcast_table(catalog: Catalog, now: nc.Nowcast) -> pl.DataFrame:
    """Per mineral and provisional year: the year to date, annualised, coverage, and the
    backtest's error on the last reconciled year beside it."""
    return (
        now.by_series.join(
            now.backtest_series.select("series", pl.col("error_pct").alias("backtest")),
            on="series",
            how="left",
        )
        .sort("series", "year")
        .select(
            catalog.mineral("series", "Mineral"),
            pl.col("year").alias("Year (provisional)"),
            pl.col("ytd_usd").alias("Year to date, FOB (USD)"),
            pl.col("annualised_usd").alias("Annualised (USD)"),
            pl.col("partners").alias("Partners in"),
            (pl.col("coverage") * 100).alias(f"Coverage of {now.last_year} %"),
            pl.col("backtest").alias(f"Backtest error on {now.last_year} %"),
        )
    )


def nowcast_partners(catalog: Catalog, now: nc.Nowcast) -> pl.DataFrame:
    """Per mineral, provisional year and partner, with the backtest of that partner."""
    return (
        now.by_partner.filter(pl.col("months") > 0)
        .join(
            now.backtest.select(
                "series",
                "partner",
                pl.col("estimate_usd").alias("bt_estimate"),
                pl.col("reconciled_usd").alias("bt_reconciled"),
                pl.col("error_pct").alias("bt_error"),
            ),
            on=["series", "partner"],
            how="left",
        )
        .sort("series", "year", "annualised_usd", descending=[False, False, True])
        .select(
            catalog.mineral("series", "Mineral"),
            pl.col("year").alias("Year"),
            catalog.country("partner", "Partner"),
            pl.col("months").alias("Months"),
            pl.col("ytd_usd").alias("Year to date, FOB (USD)"),
            pl.col("annualised_usd").alias("Annualised (USD)"),
            pl.col("bt_estimate").alias(f"Backtest: estimate {now.last_year} (USD)"),
            pl.col("bt_reconciled").alias(f"Backtest: BACI {now.last_year} (USD)"),
            pl.col("bt_error").alias("Backtest error %"),
        )
    )
