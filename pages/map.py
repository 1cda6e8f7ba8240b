"""Map: deposits, mines and plants next to the export flows of a country."""

import streamlit as st

from critmin.domain import C5
from critmin.ui import data, downloads, fields, maps, notes, sidebar, tables
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
        fields.stages(),
        fields.year(catalog, label="Year (flows)"),
        fields.countries(catalog, "sites_in", "Sites in", C5, max_items=20),
        fields.multichoice("commodities", "Commodities", catalog.deposit_commodities),
        fields.multichoice("statuses", "Status", catalog.deposit_statuses),
    ],
)
view = data.view(sites_map.build, state)

st.title(f"Map: sites in Central Asia and {view.name}'s exports")
notes.data_banner(catalog)
st.pydeck_chart(data.drawn(maps.for_view, view, state), height=560)
minerals = ", ".join(catalog.mineral_label(m) for m in state.minerals) or "no mineral"
cells = (
    f"Sites are grouped into {maps.GRID_DEG:g}° cells (more than {maps.MAX_POINTS:,} match): size "
    "= number of sites; narrow the countries to see single sites. "
    if maps.aggregated(view.sites)
    else "Points: deposits, mines and plants (colour = first listed commodity; size = status). "
)
st.caption(
    cells + f"Arcs: {view.name}'s exports of {minerals} in {state.year} (the 25 largest partners; "
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
    tables.show(view.table)
    if view.sites.height > view.table.height:
        st.caption(
            f"The table shows the first {view.table.height:,} sites; the download holds all."
        )
    db = data.database()
    st.download_button(
        f"Download the {view.sites.height:,} sites (CSV)",
        # Asked at the click, on a thread of Streamlit's: the cached view keeps no copy
        # of every site's references.
        lambda: downloads.to_csv(sites_map.all_sites(db, view.sites_filter)),
        "critmin_sites.csv",
        "text/csv",
        on_click="ignore",
    )
if view.partners:
    st.caption(
        f"{view.name}'s exports in {state.year}: {fmt.usd(view.exports_usd)} to "
        f"{view.partners} partners."
    )
else:
    notes.empty(f"No exports of the chosen minerals from {view.name} in {state.year}.")
