"""Map: deposits, mines and plants next to the export flows of a country."""

import polars as pl
import streamlit as st

from critmin.domain import C5, DEFAULT_MINERALS, FOCUS_COUNTRY
from critmin.ui import data, maps, page
from critmin.ui import format as fmt
from critmin.ui.state import Field

PAGE = "map"

# --- state ---------------------------------------------------------------------------
if not data.open_or_explain():
    st.stop()
ref = data.reference()
facets = data.frame("deposit_facets", [])
commodity_choices = facets.filter(pl.col("facet") == "commodity")["value"].to_list()
status_choices = facets.filter(pl.col("facet") == "status")["value"].to_list()
first, last = ref.years
SPEC = page.spec(
    Field("country", "str", FOCUS_COUNTRY, choices=ref.country_names),
    Field("sites_in", "list", list(C5), choices=ref.country_names, max_items=20),
    Field("commodities", "list", [], choices=commodity_choices, max_items=20),
    Field("statuses", "list", [], choices=status_choices),
    Field("minerals", "list", list(DEFAULT_MINERALS), choices=ref.mineral_labels),
    Field("year", "int", last, minimum=first, maximum=last),
)
page.bind(PAGE, SPEC)
st.sidebar.header("Map")
country = page.country_select(PAGE, ref, label="Exporter (flows)")
minerals = page.minerals_select(PAGE, ref, label="Minerals (flows)")
year = int(
    st.sidebar.number_input(
        "Year (flows)", min_value=first, max_value=last, step=1, key=f"{PAGE}:year"
    )
)
sites_in = page.countries_select(PAGE, ref, "sites_in", "Sites in", max_selections=20)
commodities = list(
    st.sidebar.multiselect(
        "Commodities", commodity_choices, key=f"{PAGE}:commodities", help="Empty = all"
    )
)
statuses = list(
    st.sidebar.multiselect("Status", status_choices, key=f"{PAGE}:statuses", help="Empty = all")
)
page.sync_url(PAGE, SPEC)
name = ref.country_names.get(country, country)

# --- data ----------------------------------------------------------------------------
sites = data.frame("deposits", sites_in, commodities, statuses)
flows = data.frame("exports_by_partner", country, minerals, [], year, year, page.default_side(ref))
points = data.frame("countries").select("iso3", "lat", "lon")

# --- render --------------------------------------------------------------------------
st.title(f"Map: sites in Central Asia and {name}'s exports")
page.data_banner(ref)
by_partner = flows.group_by("partner").agg(pl.col("value_usd").sum())
origin = points.filter(pl.col("iso3") == country)
arcs = None
if origin.height and by_partner.height:
    o = origin.row(0, named=True)
    arcs = (
        by_partner.join(points, left_on="partner", right_on="iso3", how="inner")
        .filter(pl.col("lat").is_not_null())
        .select(
            pl.lit(o["lon"]).alias("from_lon"),
            pl.lit(o["lat"]).alias("from_lat"),
            pl.col("lon").alias("to_lon"),
            pl.col("lat").alias("to_lat"),
            "value_usd",
            pl.col("partner")
            .replace_strict(ref.country_names, default=pl.col("partner"))
            .alias("partner"),
        )
        .sort("value_usd", descending=True)
        .head(25)
    )
st.pydeck_chart(
    maps.deck(sites=sites, arcs=arcs, partner_values=dict(by_partner.iter_rows()), focus=country),
    height=560,
)
legend = " · ".join(f"{c}" for c in list(maps.COMMODITY_COLOURS)[:10])
st.caption(
    f"Points: deposits, mines and plants (colour = first listed commodity: {legend}; size = "
    f"status). Arcs: {name}'s exports of {', '.join(ref.mineral_labels.get(m, m) for m in minerals)} "
    f"in {year} (the 25 largest partners; width ∝ √value). Shading: value received. "
    "Country shapes: Natural Earth."
)

if sites.is_empty():
    page.empty(
        "No sites match the filters. Clear the commodity or status filter, or add countries."
    )
else:
    flagged = sites.filter(pl.col("location_check") != "ok")
    a, b, c = st.columns(3)
    a.metric("Sites shown", f"{sites.height:,}")
    b.metric("Sources", ", ".join(sorted(set(sites["source"].to_list()))))
    c.metric(
        "Location flags",
        f"{flagged.height:,}",
        help="Points outside their country, swapped coordinates (corrected) or missing.",
    )
    st.dataframe(
        sites.select(
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
if by_partner.height:
    st.caption(
        f"{name}'s exports in {year}: {fmt.usd(by_partner['value_usd'].sum())} to "
        f"{by_partner.height} partners."
    )
else:
    page.empty(f"No exports of the chosen minerals from {name} in {year}.")
