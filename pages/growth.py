"""Export growth: how a country's exports of each mineral grew, in value, tonnes
and USD/kg; year on year, CAGR, indexed; with policy events on the time axis."""

import polars as pl
import streamlit as st

from critmin import metrics, reference
from critmin.domain import DEFAULT_MINERALS, FOCUS_COUNTRY, TRADE_SIDES
from critmin.ui import charts, data, page, tables
from critmin.ui import format as fmt
from critmin.ui.state import Field

PAGE = "growth"
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

# --- state ---------------------------------------------------------------------------
if not data.open_or_explain():
    st.stop()
ref = data.reference()
SPEC = page.spec(
    Field("country", "str", FOCUS_COUNTRY, choices=ref.country_names),
    Field("minerals", "list", list(DEFAULT_MINERALS), choices=ref.mineral_labels),
    page.codes_field(),
    *page.year_fields(ref),
    Field("measure", "str", "value", choices=MEASURES),
    Field("view", "str", "absolute", choices=VIEWS),
    Field("side", "str", page.default_side(ref), choices=TRADE_SIDES),
)
page.bind(PAGE, SPEC)
st.sidebar.header("Export growth")
country = page.country_select(PAGE, ref, label="Exporter")
minerals = page.minerals_select(PAGE, ref)
codes = page.clean_codes(page.codes_input(PAGE))
year_from, year_to = page.years_slider(PAGE, ref)
measure = str(
    st.sidebar.radio(
        "Measure", list(MEASURES), key=f"{PAGE}:measure", format_func=MEASURES.__getitem__
    )
)
view = str(st.sidebar.radio("View", list(VIEWS), key=f"{PAGE}:view", format_func=VIEWS.__getitem__))
side = page.side_select(PAGE, ref)
page.sync_url(PAGE, SPEC)
name = ref.country_names.get(country, country)

# --- data ----------------------------------------------------------------------------
series = data.frame("exports_by_series", country, minerals, codes, year_from, year_to, side)
events = data.frame("events")

# --- render --------------------------------------------------------------------------
st.title(f"Export growth: {name}")
st.caption(page.codes_used(ref, minerals) + " · " + page.side_caption(side))
page.data_banner(ref)

if not minerals and not codes:
    page.empty("Choose at least one mineral or HS6 code in the sidebar.")
    st.stop()
if series.is_empty():
    page.empty(
        f"No exports of the chosen products from {name} ({country}) in "
        f"{year_from}–{year_to} in the loaded data ({page.side_phrase(side)}). Try another declaration in the sidebar."
    )
    st.stop()

ranges = reference.load_unit_value_ranges()
table = metrics.with_unit_value(series).with_columns(
    pl.col("series").replace_strict(ref.mineral_labels, default=pl.col("series")).alias("label"),
    (pl.col("value_usd") / 1e6).alias("value_musd"),
    (pl.col("quantity_kg") / 1e3).alias("quantity_t"),
)
flagged = []
for mineral, (low, high) in ranges.items():
    part = metrics.flag_unit_values(table.filter(pl.col("series") == mineral), low, high)
    flagged.append(part)
others = table.filter(~pl.col("series").is_in(list(ranges))).with_columns(
    pl.lit(None, dtype=pl.String).alias("unit_value_flag")
)
table = pl.concat([*flagged, others]).sort("label", "year")

column = {"value": "value_musd", "quantity": "quantity_t", "unit_value": "unit_value_usd_per_kg"}[
    measure
]
plot = table
if measure == "unit_value":
    outliers = table.filter(pl.col("unit_value_flag").is_not_null())
    if outliers.height:
        st.warning(
            "Unit values outside the plausible range for the product are left out of the "
            "chart (estimated quantities or another good in a shared basket): "
            + "; ".join(
                f"{r['label']} {r['year']}: {fmt.usd_per_kg(r['unit_value_usd_per_kg'])}"
                f" ({r['unit_value_flag']})"
                for r in outliers.head(8).to_dicts()
            )
        )
    plot = table.filter(pl.col("unit_value_flag").is_null())
if view == "indexed":
    plot = metrics.with_index(plot, column, by=["label"])
    y, y_title, y_format = (
        f"{column}_index",
        f"{MEASURES[measure]}, index {year_from} = 100",
        ",.0f",
    )
elif view == "yoy":
    plot = metrics.with_yoy(plot, column, by=["label"]).with_columns(pl.col(f"{column}_yoy") * 100)
    y, y_title, y_format = (
        f"{column}_yoy",
        f"{MEASURES[measure]}: change on previous year, %",
        "+,.1f",
    )
else:
    y, y_title, y_format = column, MEASURES[measure], ",.1f" if measure != "quantity" else ",.0f"

relevant = events.filter(pl.col("minerals").list.set_intersection(pl.lit(minerals)).list.len() > 0)
st.altair_chart(
    charts.lines(
        plot,
        y,
        "label",
        f"{name}: exports, {MEASURES[measure]}",
        y_title,
        y_format,
        events=relevant,
        year_span=(year_from, year_to),
        color_title="Series",
    )
)
legend = charts.event_legend(relevant, year_from, year_to)
if legend:
    st.caption("Dashed lines mark policy events:\n" + legend)
if measure == "quantity":
    coverage = table["value_with_quantity_usd"].sum() / table["value_usd"].sum()
    if coverage < 0.99:
        st.caption(
            f"Quantities are reported for {fmt.percent(coverage)} of the value; the rest "
            "has no quantity and is left out of tonnes and unit values."
        )
page.basket_notes(ref, minerals)

st.subheader(f"Growth {year_from}–{year_to}")
growth = metrics.window_cagr(table, "value_usd", year_from, year_to, by=["label"])
latest = metrics.with_yoy(table, "value_usd", by=["label"]).filter(pl.col("year") == year_to)
summary = growth.join(latest.select("label", "value_usd_yoy"), on="label", how="left").select(
    pl.col("label").alias("Series"),
    pl.col("first").alias(f"Exports {year_from} (USD)"),
    pl.col("last").alias(f"Exports {year_to} (USD)"),
    (pl.col("cagr") * 100).round(1).alias("CAGR %"),
    (pl.col("value_usd_yoy") * 100).round(1).alias(f"Change {year_to - 1}→{year_to} %"),
)
st.dataframe(
    summary,
    hide_index=True,
    width="stretch",
    column_config=tables.usd_columns(f"Exports {year_from} (USD)", f"Exports {year_to} (USD)"),
)
st.caption("CAGR = (last / first)^(1 / years) − 1; empty where the first year has no exports.")

if relevant.height:
    st.subheader("Before and after policy events")
    rows = []
    totals = table.group_by("label", "year").agg(pl.col("value_usd").sum())
    for event in relevant.to_dicts():
        year = event["date"].year
        for label in totals["label"].unique().sort().to_list():
            mine = totals.filter(pl.col("label") == label)
            before = mine.filter(pl.col("year") == year - 1)["value_usd"].sum()
            after = mine.filter(pl.col("year") == year + 1)["value_usd"].sum()
            if before or after:
                rows.append(
                    {
                        "Event": f"{event['date']}: {event['title']}",
                        "Series": label,
                        "Year before": fmt.usd(before) if before else "–",
                        "Year after": fmt.usd(after) if after else "–",
                        "Change %": round((after / before - 1) * 100, 1)
                        if before and after
                        else None,
                    }
                )
    if rows:
        st.dataframe(pl.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(
            "Year before = calendar year before the event; year after = calendar year after. "
            "Events: DOMAIN notes §5 (see About the data)."
        )

with st.expander("Rows behind the chart"):
    st.dataframe(
        table.select(
            "year",
            "label",
            "value_usd",
            "quantity_kg",
            "unit_value_usd_per_kg",
            "unit_value_flag",
            "flows",
        ),
        hide_index=True,
        width="stretch",
    )
