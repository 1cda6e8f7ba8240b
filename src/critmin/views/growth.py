"""Export growth: how a country's exports of each mineral grew, in value, tonnes and
USD/kg; absolute, indexed or year on year; CAGR over the window; policy events on the
time axis with the year before and after each."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from critmin import metrics, queries, reference
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.views.common import ExportsState, events_for, musd

MEASURES = {
    "value": "Value (USD million)",
    "quantity": "Quantity (tonnes)",
    "unit_value": "Unit value (USD/kg)",
}
VIEWS = {
    "absolute": "Absolute",
    "indexed": "Indexed (first year = 100)",
    "yoy": "Year-on-year change (%)",
}
MEASURE_COLUMNS = {
    "value": "value_musd",
    "quantity": "quantity_t",
    "unit_value": "unit_value_usd_per_kg",
}


@dataclass(frozen=True)
class State(ExportsState):
    measure: str
    view: str


@dataclass(frozen=True)
class Chart:
    frame: pl.DataFrame  # year, label, <y>
    y: str
    y_title: str
    format: str


@dataclass(frozen=True)
class View:
    name: str
    table: pl.DataFrame  # year, series, label, value/quantity/unit value, flag, flows
    chart: Chart
    outliers: pl.DataFrame  # label, year, unit_value_usd_per_kg, unit_value_flag
    events: pl.DataFrame  # the events that concern the chosen minerals
    # Series, Exports <first> (USD), Exports <last> (USD), CAGR %, Change %, Shared code
    summary: pl.DataFrame
    before_after: pl.DataFrame  # Event, Series, Year before (USD), Year after (USD), Change %
    quantity_coverage: float | None  # share of the value that has a quantity (where shown)
    tonnes_note: str | None  # the series without tonnes because their codes span stages
    # Past the last reconciled year: the last reconciled point and the provisional years
    # (year, label, value_musd, basis), drawn dashed; empty with the reason in the note.
    provisional: pl.DataFrame = field(default_factory=pl.DataFrame)
    provisional_note: str | None = None


def build(db: Database, catalog: Catalog, state: State) -> View:
    name = catalog.country_name(state.country)
    f = state.trade_filter()
    series = queries.exports_by_series(db, f).frame if f.has_products else _empty()
    events = events_for(catalog.events(), state.minerals)
    table = flagged(catalog, series)
    chart = measure_chart(table, state)
    # Coverage of the series that show tonnes (one stage); the others say why they show none.
    shown = table.filter(pl.col("value_with_quantity_usd").is_not_null())
    total = float(shown["value_usd"].sum())
    provisional, provisional_note = provisional_line(db, catalog, state, table)
    return View(
        name=name,
        table=table,
        chart=chart,
        outliers=table.filter(pl.col("unit_value_flag").is_not_null()).select(
            "label", "year", "unit_value_usd_per_kg", "unit_value_flag"
        ),
        events=events,
        summary=with_shared_codes(catalog, growth_summary(table, state.year_from, state.year_to)),
        before_after=before_after(table, events),
        quantity_coverage=float(shown["value_with_quantity_usd"].sum()) / total if total else None,
        tonnes_note=tonnes_note(catalog, state),
        provisional=provisional,
        provisional_note=provisional_note,
    )


def tonnes_note(catalog: Catalog, state: State) -> str | None:
    """Which chosen minerals show no tonnes or USD/kg, and why: their codes (of the chosen
    stages) span several value-chain stages, whose gross tonnes are never added."""
    baskets = catalog.baskets_in_data(state.minerals)
    if state.stages:
        baskets = baskets.filter(pl.col("stage").is_in(list(state.stages)))
    spans = (
        baskets.group_by("mineral")
        .agg(pl.col("stage").n_unique().alias("stages"))
        .filter(pl.col("stages") > 1)["mineral"]
        .to_list()
    )
    if not spans:
        return None
    names = ", ".join(sorted(catalog.mineral_label(m) for m in spans))
    return (
        f"No tonnes or USD/kg for {names}: the codes span several value-chain stages (ore, "
        "intermediate, refined, scrap), and a tonne of ore is not a tonne of metal, so "
        "their gross weights are never added. Choose one *Value-chain stage* in the "
        "sidebar to see tonnes."
    )


def provisional_line(
    db: Database, catalog: Catalog, state: State, table: pl.DataFrame
) -> tuple[pl.DataFrame, str | None]:
    """The provisional years past the last reconciled one (views.latest.nowcast_for, per
    mineral), starting from the chart's own last reconciled point; never added to it."""
    from critmin.views.latest import nowcast_for, provisional_frame

    empty = pl.DataFrame()
    now = nowcast_for(db, catalog, state.country, state.minerals) if state.minerals else None
    if now is None or table.is_empty():
        return empty, None
    years = ", ".join(str(y) for y in now.years)
    if state.year_to < now.last_year:
        return empty, f"Provisional years ({years}) lie past the chosen years."
    if state.measure != "value" or state.view != "absolute":
        return empty, (
            f"Provisional years ({years}) are drawn for the value, absolute view (Latest months "
            "page: the method and its backtest)."
        )
    annual = table.filter(pl.col("series").is_in(list(state.minerals))).select(
        "year", pl.col("label").alias("Mineral"), "value_musd"
    )
    frame = provisional_frame(catalog, now, annual).rename({"Mineral": "label"})
    basis = pl.col("basis")
    reconciled = basis.str.starts_with("reconciled")
    return frame.with_columns(
        pl.when(reconciled).then(pl.lit("reconciled")).otherwise(basis).alias("basis")
    ), None


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "year": pl.Int32,
            "series": pl.String,
            "value_usd": pl.Float64,
            "quantity_kg": pl.Float64,
            "value_with_quantity_usd": pl.Float64,
            "flows": pl.Int64,
        }
    )


def flagged(catalog: Catalog, series: pl.DataFrame) -> pl.DataFrame:
    """Series with labels, units for the chart and unit values outside the mineral's
    plausible range flagged (reference/unit_value_ranges.csv)."""
    ranges = reference.load_unit_value_ranges()
    low = pl.col("series").replace_strict({m: r[0] for m, r in ranges.items()}, default=None)
    high = pl.col("series").replace_strict({m: r[1] for m, r in ranges.items()}, default=None)
    unit_value = pl.col("unit_value_usd_per_kg")
    return (
        metrics.with_unit_value(series)
        .with_columns(
            catalog.mineral("series", "label"),
            musd(),
            (pl.col("quantity_kg") / 1e3).alias("quantity_t"),
            pl.when(unit_value < low.cast(pl.Float64))
            .then(pl.lit("below plausible range"))
            .when(unit_value > high.cast(pl.Float64))
            .then(pl.lit("above plausible range"))
            .otherwise(None)
            .alias("unit_value_flag"),
        )
        .sort("label", "year")
    )


def measure_chart(table: pl.DataFrame, state: State) -> Chart:
    column = MEASURE_COLUMNS[state.measure]
    label = MEASURES[state.measure]
    plot = table
    if state.measure == "unit_value":
        plot = table.filter(pl.col("unit_value_flag").is_null())
    if state.year_from == state.year_to:  # one year: nothing to index or compare with
        return Chart(plot, column, label, ",.0f" if state.measure == "quantity" else ",.1f")
    if state.view == "indexed":
        plot = metrics.with_index(plot, column, by=["label"])
        return Chart(plot, f"{column}_index", f"{label}, index {state.year_from} = 100", ",.0f")
    if state.view == "yoy":
        plot = metrics.with_yoy(plot, column, by=["label"]).with_columns(
            pl.col(f"{column}_yoy") * 100
        )
        return Chart(plot, f"{column}_yoy", f"{label}: change on previous year, %", "+,.1f")
    return Chart(plot, column, label, ",.0f" if state.measure == "quantity" else ",.1f")


def growth_summary(table: pl.DataFrame, year_from: int, year_to: int) -> pl.DataFrame:
    """Per series: exports in the first and the last year, CAGR between them and the
    last year's change. A window of one year has one exports column and no growth
    (there is nothing to compare it with inside the window)."""
    if year_from == year_to:
        return (
            table.filter(pl.col("year") == year_to)
            .select(
                pl.col("label").alias("Series"),
                pl.col("value_usd").alias(f"Exports {year_to} (USD)"),
            )
            .sort("Series")
        )
    growth = metrics.window_cagr(table, "value_usd", year_from, year_to, by=["label"])
    latest = metrics.with_yoy(table, "value_usd", by=["label"]).filter(pl.col("year") == year_to)
    return (
        growth.join(latest.select("label", "value_usd_yoy"), on="label", how="left")
        .select(
            pl.col("label").alias("Series"),
            pl.col("first").alias(f"Exports {year_from} (USD)"),
            pl.col("last").alias(f"Exports {year_to} (USD)"),
            (pl.col("cagr") * 100).round(1).alias("CAGR %"),
            (pl.col("value_usd_yoy") * 100).round(1).alias(f"Change {year_to - 1}→{year_to} %"),
        )
        .sort("Series")
    )


def with_shared_codes(catalog: Catalog, summary: pl.DataFrame) -> pl.DataFrame:
    """A "Shared code" column: what else each series' codes hold (empty: nothing)."""
    notes = {catalog.mineral_label(m): note for m, note in catalog.shared_notes.items()}
    return summary.with_columns(
        pl.col("Series")
        .replace_strict(notes, default=None, return_dtype=pl.String)
        .alias("Shared code")
    )


def before_after(table: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """For each event and series: exports in the calendar year before and after."""
    totals = table.group_by("label", "year").agg(pl.col("value_usd").sum())
    marks = events.select(
        (pl.col("date").cast(pl.String) + ": " + pl.col("title")).alias("Event"),
        pl.col("date").dt.year().cast(pl.Int32).alias("event_year"),
    )
    before = totals.rename({"year": "before_year", "value_usd": "before"})
    after = totals.rename({"year": "after_year", "value_usd": "after"})
    rows = (
        marks.join(totals.select("label").unique(), how="cross")
        .with_columns(
            (pl.col("event_year") - 1).alias("before_year"),
            (pl.col("event_year") + 1).alias("after_year"),
        )
        .join(before, on=["label", "before_year"], how="left")
        .join(after, on=["label", "after_year"], how="left")
        .filter(pl.col("before").is_not_null() | pl.col("after").is_not_null())
    )
    return rows.select(
        "Event",
        pl.col("label").alias("Series"),
        pl.col("before").alias("Year before (USD)"),
        pl.col("after").alias("Year after (USD)"),
        ((pl.col("after") / pl.col("before") - 1) * 100).round(1).alias("Change %"),
    ).sort("Event", "Series")
