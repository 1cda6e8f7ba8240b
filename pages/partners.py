"""Partners: where a country's mineral exports go, how the mix shifted, and how
concentrated it is."""

import streamlit as st

from critmin.ui import charts, data, fields, notes, sidebar, tables
from critmin.views import partners

catalog = data.catalog_or_stop()
state = sidebar.render(
    "partners",
    "Partners",
    partners.State,
    catalog,
    [
        *fields.exports(catalog),
        fields.countries(
            catalog, "compare", "Compare partners (2–5)", ["CHN", "RUS", "USA"], max_items=5
        ),
        fields.choice("by", "Shares by", partners.GROUPINGS, "group"),
        fields.choice("scale", "HHI scale", partners.SCALES, "10000"),
        fields.side(catalog),
    ],
)
view = data.view(partners.build, state)

st.title(f"Partners: where {view.name}'s exports go")
st.caption(notes.figures_caption(catalog, state.minerals, state.codes, state.stages, state.side))
notes.data_banner(catalog)
notes.exactness(catalog, state.minerals)
if not state.minerals and not state.codes:
    notes.empty("Choose at least one mineral or HS6 code in the sidebar.")
    st.stop()
if view.by_partner.is_empty():
    notes.empty(
        f"No exports of the chosen products from {view.name} ({state.country}) in "
        f"{state.year_from}–{state.year_to} ({notes.side_phrase(state.side)})."
        + notes.try_another_side(catalog)
    )
    st.stop()

grouping = partners.GROUPINGS[state.by].lower()
charts.show(
    charts.stacked_area(
        view.shares,
        "share_pct",
        "group",
        f"Shares of {view.name}'s exports by {grouping}",
        "Share of exports",
        ".0%",
        color_title="Partner" if state.by == "partner" else "Partner group",
        normalize=True,
    )
)

left, right = st.columns(2)
with left:
    if not 2 <= len(state.compare) <= 5:
        notes.empty("Pick two to five partners in the sidebar to compare them side by side.")
    elif view.compared.is_empty():
        notes.empty("None of the compared partners bought these products.")
    else:
        charts.show(
            charts.lines(
                view.compared,
                "value_musd",
                "Partner",
                "Compared partners: exports received, USD million",
                "USD million",
                ",.1f",
                color_title="Partner",
            )
        )
with right:
    charts.show(
        charts.lines(
            view.hhi,
            "hhi",
            None,
            f"Concentration of destinations (HHI, {partners.SCALES[state.scale]})",
            "HHI",
            ",.0f" if state.scale == "10000" else ".2f",
        )
    )
    if view.latest_hhi is not None:
        digits = 0 if state.scale == "10000" else 3
        st.caption(
            f"HHI = sum of squared partner shares, exporter's destinations. {state.year_to}: "
            f"{view.latest_hhi:,.{digits}f} — {view.latest_band} by the US merger-guidance "
            "bands (1,500 and 2,500 on the 0–10,000 scale)."
        )

st.subheader(f"Partners ranked, {state.year_to}")
if view.ranked.is_empty():
    notes.empty(f"No exports in {state.year_to}.")
else:
    tables.show(view.ranked, column_config=tables.number_columns(view.ranked))
    if view.by_stage.height:
        st.markdown(f"**By value-chain stage, {state.year_to}: value, tonnes, USD/kg**")
        tables.show(view.by_stage, column_config=tables.number_columns(view.by_stage))
    st.caption(
        "Each flow is counted once, even when its code sits in two of the chosen baskets. "
        + view.tonnes_note
    )
notes.basket_notes(catalog, state.minerals)
