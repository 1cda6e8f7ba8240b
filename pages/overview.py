"""Overview: a country's critical-mineral exports at a glance (default Kazakhstan)."""

import polars as pl
import streamlit as st

from critmin import metrics
from critmin.domain import FOCUS_COUNTRY
from critmin.ui import charts, data, page, tables
from critmin.ui import format as fmt
from critmin.ui.state import Field

PAGE = "overview"

# --- state ---------------------------------------------------------------------------
if not data.open_or_explain():
    st.stop()
ref = data.reference()
SPEC = page.spec(
    Field("country", "str", FOCUS_COUNTRY, choices=ref.country_names), *page.year_fields(ref)
)
page.bind(PAGE, SPEC)
st.sidebar.header("Country profile")
country = page.country_select(PAGE, ref)
year_from, year_to = page.years_slider(PAGE, ref)
page.sync_url(PAGE, SPEC)
name = ref.country_names.get(country, country)
side = page.default_side(ref)
minerals = list(ref.mineral_labels)

# --- data ----------------------------------------------------------------------------
series = data.frame("exports_by_series", country, minerals, [], year_from, year_to, side)
world = data.frame("exporters_by_series", minerals, [], year_to, year_to, side)
partners = data.frame("exports_by_partner", country, minerals, [], year_to, year_to, side)
production = data.frame("production", country)

# --- render --------------------------------------------------------------------------
st.title(f"{name}: critical-mineral exports")
st.caption(f"{year_from}–{year_to} · all mineral baskets · {page.side_caption(side)}")
page.data_banner(ref)

if series.is_empty():
    page.empty(
        f"No critical-mineral exports from {name} ({country}) in {year_from}–{year_to} "
        f"in the loaded data ({page.side_phrase(side)})."
    )
else:
    by_year = series.group_by("year").agg(pl.col("value_usd").sum()).sort("year")
    latest = by_year.filter(pl.col("year") == year_to)["value_usd"].sum()
    previous = by_year.filter(pl.col("year") == year_to - 1)["value_usd"].sum()
    change = latest / previous - 1 if previous else None
    first_value = by_year["value_usd"][0]
    growth = metrics.cagr(first_value, latest, year_to - int(by_year["year"][0]))
    top = (
        partners.group_by("partner")
        .agg(pl.col("value_usd").sum())
        .sort("value_usd", descending=True)
    )
    top_share = top["value_usd"][0] / top["value_usd"].sum() if top.height else None

    a, b, c, d = st.columns(4)
    a.metric(
        f"Exports {year_to}",
        fmt.usd(latest),
        delta=f"{fmt.change(change)} on {year_to - 1}" if change is not None else None,
    )
    b.metric(f"CAGR {int(by_year['year'][0])}–{year_to}", fmt.change(growth))
    c.metric(
        "Largest destination",
        ref.country_names.get(top["partner"][0], "–") if top.height else "–",
        delta=f"{fmt.percent(top_share)} of {year_to}" if top_share else None,
        delta_color="off",
    )
    d.metric(
        "Minerals exported", f"{series.filter(pl.col('year') == year_to)['series'].n_unique()}"
    )

    named = series.with_columns(
        pl.col("series")
        .replace_strict(ref.mineral_labels, default=pl.col("series"))
        .alias("mineral"),
        (pl.col("value_usd") / 1e6).alias("value_musd"),
    )
    st.altair_chart(
        charts.stacked_area(
            named,
            "value_musd",
            "mineral",
            f"{name}: exports by mineral, USD million",
            "USD million",
            ",.1f",
            color_title="Mineral",
        )
    )

    left, right = st.columns(2)
    with left:
        st.subheader(f"Share of world exports, {year_to}")
        ranked = metrics.with_rank(
            metrics.with_shares(world, "value_usd", ["series"]), "value_usd", ["series"]
        )
        mine = (
            ranked.filter(pl.col("exporter") == country)
            .select(
                pl.col("series")
                .replace_strict(ref.mineral_labels, default=pl.col("series"))
                .alias("Mineral"),
                pl.col("value_usd").alias("Exports (USD)"),
                (pl.col("share") * 100).round(2).alias("World share %"),
                pl.col("rank").alias("Rank among exporters"),
            )
            .sort("World share %", descending=True)
        )
        if mine.is_empty():
            page.empty(f"{name} has no exports in {year_to}.")
        else:
            st.dataframe(
                mine,
                hide_index=True,
                width="stretch",
                column_config=tables.usd_columns("Exports (USD)"),
            )
    with right:
        st.subheader(f"Top destinations, {year_to}")
        if top.is_empty():
            page.empty(f"No exports from {name} in {year_to}.")
        else:
            top8 = top.head(8).with_columns(
                pl.col("partner")
                .replace_strict(ref.country_names, default=pl.col("partner"))
                .alias("Partner"),
                (pl.col("value_usd") / 1e6).alias("USD million"),
            )
            st.altair_chart(
                charts.bars(
                    top8,
                    "USD million",
                    "Partner",
                    f"Destinations of {name}'s critical-mineral exports, {year_to}",
                    "USD million",
                    ",.1f",
                )
            )

st.subheader("Production and reserves (USGS)")
if production.is_empty():
    page.empty(
        f"No USGS production figures for {name} are loaded. Load the Mineral Commodity "
        "Summaries with `critmin ingest usgs-mcs PATH`."
    )
else:
    latest_years = sorted(set(production["year"].to_list()))[-2:]
    table = (
        production.filter(pl.col("year").is_in(latest_years))
        .with_columns(
            pl.when(pl.col("value").is_not_null())
            .then(fmt.thousands(pl.col("value")))
            .otherwise(pl.col("value_flag"))
            .alias("shown"),
            pl.col("year").cast(pl.String),
        )
        .pivot(
            on="year",
            index=["commodity", "statistic", "unit"],
            values="shown",
            aggregate_function="first",
        )
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(
        "Production beside exports: a country can export more than it mines (re-exports, "
        "stocks) or less (domestic use). W = withheld, NA = not available."
    )
