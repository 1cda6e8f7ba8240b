"""Overview: a country's critical-mineral exports at a glance (default Kazakhstan)."""

import streamlit as st

from critmin.ui import charts, data, fields, notes, sidebar, tables
from critmin.ui import format as fmt
from critmin.views import overview

catalog = data.catalog_or_stop()
state = sidebar.render(
    "overview",
    "Country profile",
    overview.State,
    catalog,
    fields.overview(catalog),
)
view = data.view(overview.build, state)

st.title(f"{view.name}: critical-mineral exports")
st.caption(
    f"{state.year_from}–{state.year_to} · every mineral basket · {notes.side_caption(view.side)}"
)
notes.data_banner(catalog)
notes.exactness(catalog, catalog.mineral_labels)

if view.headline is None:
    notes.empty(
        f"No critical-mineral exports from {view.name} ({state.country}) in "
        f"{state.year_from}–{state.year_to} in the loaded data ({notes.side_phrase(view.side)})."
    )
else:
    h = view.headline
    a, b, c, d = st.columns(4)
    a.metric(
        f"Exports {state.year_to}",
        fmt.usd(h.latest_usd),
        delta=f"{fmt.change(h.change)} on {state.year_to - 1}" if h.change is not None else None,
    )
    b.metric(f"CAGR {h.first_year}–{state.year_to}", fmt.change(h.cagr))
    c.metric(
        "Largest destination",
        catalog.country_name(h.top_partner) if h.top_partner else "–",
        delta=f"{fmt.percent(h.top_share)} of {state.year_to}" if h.top_share else None,
        delta_color="off",
    )
    d.metric(
        f"Minerals exported {state.year_to}",
        f"{h.minerals_exported}",
        delta=f"{len(h.shared)} of them through shared codes" if h.shared else None,
        delta_color="off",
        delta_arrow="off",
        help="Each HS code is counted once: a code that holds several minerals (811292: "
        "gallium, germanium, indium, niobium, vanadium) counts as one, not as each of them.",
    )
    if h.shared:
        st.caption(
            "Counted once each, as one code holds them all: "
            + "; ".join(h.shared)
            + ". Which other goods each code holds: the table *Share of world exports* below."
        )
    charts.show(
        charts.with_provisional(
            charts.stacked_area(
                view.by_mineral,
                "value_musd",
                "mineral",
                f"{view.name}: exports by mineral, USD million",
                "USD million",
                ",.1f",
                color_title="Mineral",
            ),
            view.provisional,
            "value_musd",
            None,
            "USD million, all minerals",
            ",.1f",
        )
    )
    notes.provisional(view.provisional, view.provisional_note)
    st.caption(
        "Each flow is counted once: a code that several baskets share (811292 holds "
        "gallium, germanium, indium, niobium and vanadium) is one band named after all of them."
    )

    st.subheader("The value chain: does the country move up it?")
    left, right = st.columns(2)
    charts.show(
        charts.stacked_area(
            view.stages,
            "value_musd",
            "stage",
            "Exports by stage, USD million",
            "USD million",
            ",.1f",
            color_title="Stage",
        ),
        left,
    )
    charts.show(
        charts.lines(
            view.processed,
            "processed_share",
            None,
            "Share processed (intermediate + refined, scrap left out)",
            "Share of export value",
            ".0%",
        ),
        right,
    )
    st.caption(
        "Stage of each HS code (mineral_baskets.csv): ores and concentrates; intermediates "
        "such as ferroalloys, oxides, mattes and unrefined metal; refined metals (unwrought "
        "metal and powders included) and chemicals; waste and scrap, which the share "
        "processed leaves out."
    )

    st.subheader(f"Share of world exports, {state.year_to}")
    if view.world.is_empty():
        notes.empty(f"{view.name} has no exports in {state.year_to}.")
    else:
        tables.show(
            view.world,
            column_config={
                **tables.usd_columns("Exports (USD)"),
                "Mineral": st.column_config.TextColumn("Mineral", width="medium"),
                "Shared code": st.column_config.TextColumn(
                    "Shared code", help="What else the row's codes hold", width="large"
                ),
            },
        )
        st.caption(
            "One row per group of codes, each flow counted once: minerals that share a code "
            "are one row, and a row whose codes hold other goods says which."
        )
    left, _ = st.columns(2)
    with left:
        st.subheader(f"Top destinations, {state.year_to}")
        if view.destinations.is_empty():
            notes.empty(f"No exports from {view.name} in {state.year_to}.")
        else:
            charts.show(
                charts.bars(
                    view.destinations,
                    "USD million",
                    "Partner",
                    f"Destinations of {view.name}'s critical-mineral exports, {state.year_to}",
                    "USD million",
                    ",.1f",
                )
            )

st.subheader("Production and reserves (USGS)")
if view.production.is_empty():
    notes.empty(
        f"No USGS production figures for {view.name} are loaded. Load the Mineral Commodity "
        "Summaries with `critmin fetch usgs-mcs`."
    )
else:
    tables.show(view.production)
    st.caption(
        "Production beside exports: a country can export more than it mines (re-exports, "
        "stocks) or less (domestic use); USGS counts contained metal or ore as each row's "
        "unit says. W = withheld, NA = not available."
    )
