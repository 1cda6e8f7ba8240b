"""Map: deposits, mines and plants next to the export flows of a country."""

import streamlit as st

from critmin import reference
from critmin.domain import C5
from critmin.settings import load_settings
from critmin.ui import data, downloads, fields, maps, notes, sidebar, tables
from critmin.ui import format as fmt
from critmin.views import map as sites_map

catalog = data.catalog_or_stop()
# Commodities by the names users know, with the symbol where it helps ("Chromium (Cr)");
# elements first, then the mineral and rock names the sources give.
named = sorted(
    (c for c in catalog.deposit_commodities if c in reference.load_commodity_names()),
    key=reference.commodity_label,
)
others = sorted(
    (c for c in catalog.deposit_commodities if c not in named), key=reference.commodity_label
)
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
        fields.multichoice(
            "commodities",
            "Commodities",
            catalog.deposit_commodities,
            help="Type a name (chromium) or a symbol (Cr). Elements come first, then the "
            "mineral and rock names the sources list. Empty = all.",
            labels={c: reference.commodity_label(c) for c in [*named, *others]},
        ),
        fields.multichoice("statuses", "Status", catalog.deposit_statuses),
    ],
)
view = data.view(sites_map.build, state)
cap = load_settings().row_cap

st.title(f"Map: sites in Central Asia and {view.name}'s exports")
notes.data_banner(catalog)
notes.exactness(catalog, state.minerals)
if view.truncated:
    st.warning(
        f"More than {cap:,} site records match: the map, the counts and the download hold "
        f"the first {cap:,} by country and name ({view.sites.height:,} sites). Narrow the "
        "countries, commodities or statuses to see the rest."
    )
st.pydeck_chart(data.drawn(maps.for_view, view, state), height=560)
st.markdown(
    maps.legend_html(maps.legend(view.sites), maps.aggregated(view.sites)),
    unsafe_allow_html=True,
)
minerals = ", ".join(catalog.mineral_label(m).lower() for m in state.minerals) or "no mineral"
cells = (
    f"Sites are grouped into {maps.GRID_DEG:g}° cells (more than {maps.MAX_POINTS:,} match): size "
    "= number of sites; narrow the countries to see single sites. "
    if maps.aggregated(view.sites)
    else ""
)
st.caption(
    cells + f"Arcs: {view.name}'s exports of {minerals} in {state.year} (the 25 largest partners). "
    "Country shapes: Natural Earth."
)

if view.sites.is_empty():
    notes.empty(
        "No sites match the filters. Clear the commodity or status filter, or add countries."
    )
else:
    flagged = view.sites.filter(view.sites["location_check"] != "ok")
    a, b, c = st.columns(3)
    a.metric(
        "Sites shown",
        f"{view.sites.height:,}",
        f"{view.records:,} records" if view.records != view.sites.height else None,
        "off",
        delta_arrow="off",
        help="A site that several compilations list (same name, same place) is shown once.",
    )
    b.metric("Sources", f"{view.sites['source'].str.split('; ').explode().n_unique()}")
    c.metric(
        "Location flags",
        f"{flagged.height:,}",
        help="Points outside their country, swapped coordinates (corrected) or missing.",
    )
    tables.show(
        view.table,
        column_config={
            "records": st.column_config.NumberColumn(
                "records", help="How many records of the compilations this site merges"
            )
        },
    )
    if view.records > view.table["records"].sum():
        st.caption(
            f"The table shows the sites of the first {view.table['records'].sum():,} records; "
            f"the download holds the {view.sites.height:,} sites on the map."
        )
    # Built at the click, off the page: the cached view keeps no copy of every site's
    # references.
    downloads.offer(
        sites_map.sites_download,
        state,
        lambda rows: rows,
        name="critmin_sites",
        rows=view.sites.height,
        formats=("csv",),
        what=f"the {view.sites.height:,} sites",
    )

st.subheader(f"{view.name}'s exports of {minerals}, {state.year}: the arcs")
if view.partners:
    tables.show(view.flows, column_config=tables.number_columns(view.flows))
    st.caption(
        f"{fmt.usd(view.exports_usd)} to {view.partners} partners; the map draws the 25 "
        "largest. " + view.tonnes_note
    )
else:
    notes.empty(f"No exports of the chosen minerals from {view.name} in {state.year}.")
