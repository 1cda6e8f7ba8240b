"""Map: deposits, mines and plants next to the export flows of a country."""

import streamlit as st

from critmin.domain import C5
from critmin.ui import data, fields, maps, notes, sidebar
from critmin.ui import format as fmt
from critmin.views import map as sites_map

catalog = data.catalog_or_stop()
state = sidebar.render(
    "map",
    "Map",
    sites_map.State,
    catalog,
    [
        fields.country(catalog, label="Exporter (flows)"),
        fields.minerals(catalog, label="Minerals (flows)"),
        fields.year(catalog, label="Year (flows)"),
        fields.countries(catalog, "sites_in", "Sites in", C5, max_items=20),
        fields.multichoice("commodities", "Commodities", catalog.deposit_commodities),
        fields.multichoice("statuses", "Status", catalog.deposit_statuses),
    ],
)
view = data.view(sites_map.build, state)

st.title(f"Map: sites in Central Asia and {view.name}'s exports")
notes.data_banner(catalog)
st.pydeck_chart(
    maps.deck(
        sites=view.sites,
        arcs=view.arcs,
        partner_values=view.partner_values,
        focus=state.country,
    ),
    height=560,
)
minerals = ", ".join(catalog.mineral_label(m) for m in state.minerals) or "no mineral"
st.caption(
    f"Points: deposits, mines and plants (colour = first listed commodity; size = status). "
    f"Arcs: {view.name}'s exports of {minerals} in {state.year} (the 25 largest partners; "
    "width ∝ √value). Shading: value received. Country shapes: Natural Earth."
)

if view.sites.is_empty():
    notes.empty(
        "No sites match the filters. Clear the commodity or status filter, or add countries."
    )
else:
    flagged = view.sites.filter(view.sites["location_check"] != "ok")
    a, b, c = st.columns(3)
    a.metric("Sites shown", f"{view.sites.height:,}")
    b.metric("Sources", f"{view.sites['source'].n_unique()}")
    c.metric(
        "Location flags",
        f"{flagged.height:,}",
        help="Points outside their country, swapped coordinates (corrected) or missing.",
    )
    st.dataframe(
        view.sites.select(
            "name",
            "country",
            "commodities",
            "status",
            "deposit_type",
            "lat",
            "lon",
            "location_check",
            "source",
            "source_reference",
        ),
        hide_index=True,
        width="stretch",
    )
if view.partners:
    st.caption(
        f"{view.name}'s exports in {state.year}: {fmt.usd(view.exports_usd)} to "
        f"{view.partners} partners."
    )
else:
    notes.empty(f"No exports of the chosen minerals from {view.name} in {state.year}.")
