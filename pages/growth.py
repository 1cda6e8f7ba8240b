"""Export growth: how a country's exports of each mineral grew, in value, tonnes
and USD/kg; year on year, CAGR, indexed; with policy events on the time axis."""

import streamlit as st

from critmin.ui import charts, data, fields, notes, sidebar, tables
from critmin.ui import format as fmt
from critmin.views import growth

catalog = data.catalog_or_stop()
state = sidebar.render(
    "growth",
    "Export growth",
    growth.State,
    catalog,
    [
        *fields.exports(catalog),
        fields.choice("measure", "Measure", growth.MEASURES, "value"),
        fields.choice("view", "View", growth.VIEWS, "absolute"),
        fields.side(catalog),
    ],
)
view = data.view(growth.build, state)

st.title(f"Export growth: {view.name}")
st.caption(notes.figures_caption(catalog, state.minerals, state.codes, state.stages, state.side))
notes.data_banner(catalog)
notes.exactness(catalog, state.minerals)
if not state.minerals and not state.codes:
    notes.empty("Choose at least one mineral or HS6 code in the sidebar.")
    st.stop()
if view.table.is_empty():
    notes.empty(
        f"No exports of the chosen products from {view.name} ({state.country}) in "
        f"{state.year_from}–{state.year_to} in the loaded data ({notes.side_phrase(state.side)})."
        + notes.try_another_side(catalog)
    )
    st.stop()

if state.measure == "unit_value" and view.outliers.height:
    st.warning(
        "Unit values outside the plausible range for the product are left out of the "
        "chart (estimated quantities or another good in a shared basket): "
        + "; ".join(
            f"{r['label']} {r['year']}: {fmt.usd_per_kg(r['unit_value_usd_per_kg'])}"
            f" ({r['unit_value_flag']})"
            for r in view.outliers.head(8).to_dicts()
        )
    )
chart = view.chart
one_year = state.year_from == state.year_to
no_tonnes = state.measure != "value" and chart.frame[chart.y].null_count() == chart.frame.height
if no_tonnes:
    # No series has tonnes (all span value-chain stages): say why instead of an empty axis.
    notes.empty(view.tonnes_note or "No quantities are reported for these flows.")
elif one_year:  # one point per series: bars read better than lines, and no event marks
    charts.show(
        charts.bars(
            chart.frame,
            chart.y,
            "label",
            f"{view.name}: exports in {state.year_to}, {growth.MEASURES[state.measure]}",
            chart.y_title,
            chart.format,
        )
    )
else:
    charts.show(
        charts.with_provisional(
            charts.lines(
                chart.frame,
                chart.y,
                "label",
                f"{view.name}: exports, {growth.MEASURES[state.measure]}",
                chart.y_title,
                chart.format,
                events=view.events,
                year_span=(state.year_from, state.year_to),
            ),
            view.provisional,
            chart.y,
            "label",
            chart.y_title,
            chart.format,
        )
    )
notes.provisional(view.provisional, view.provisional_note)
legend = charts.event_legend(view.events, state.year_from, state.year_to)
if legend and not no_tonnes and not one_year:
    st.caption("Dashed lines mark policy events:\n" + legend)
if state.measure in ("quantity", "unit_value") and view.tonnes_note and not no_tonnes:
    st.caption(view.tonnes_note)
if (
    state.measure == "quantity"
    and view.quantity_coverage is not None
    and view.quantity_coverage < 0.99
):
    st.caption(
        f"Quantities are reported for {fmt.percent(view.quantity_coverage)} of the value; the "
        "rest has no quantity and is left out of tonnes and unit values."
    )
notes.basket_notes(catalog, state.minerals)

st.subheader(
    f"Exports {state.year_to}" if one_year else f"Growth {state.year_from}–{state.year_to}"
)
tables.show(
    view.summary,
    column_config=tables.usd_columns(*[c for c in view.summary.columns if "(USD)" in c]),
)
if state.year_from == state.year_to:
    st.caption(
        f"One year chosen: widen the years in the sidebar to see growth from {state.year_to}."
    )
else:
    st.caption("CAGR = (last / first)^(1 / years) − 1; empty where the first year has no exports.")

if view.before_after.height and not one_year:
    st.subheader("Before and after policy events")
    tables.show(
        view.before_after,
        column_config=tables.usd_columns("Year before (USD)", "Year after (USD)"),
    )
    st.caption(
        "Year before = calendar year before the event; year after = calendar year after. "
        "Each event's source is in the legend above and on the About page."
    )

with st.expander("Rows behind the chart"):
    tables.show(
        view.table.select(
            "year",
            "label",
            "value_usd",
            "quantity_kg",
            "unit_value_usd_per_kg",
            "unit_value_flag",
            "flows",
        ),
    )
