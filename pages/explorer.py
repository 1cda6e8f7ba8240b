"""Data explorer: ad-hoc filtering of the flows for non-programmers, with the
query in words and downloads of exactly the rows shown."""

import streamlit as st

from critmin.domain import FOCUS_COUNTRY, SIDE_LABELS
from critmin.settings import load_settings
from critmin.ui import data, downloads, page
from critmin.ui.state import Field

PAGE = "explorer"
SORTS = {
    "year": "Year",
    "value_usd": "Value (USD)",
    "quantity_kg": "Quantity (kg)",
    "unit_value_usd_per_kg": "Unit value (USD/kg)",
    "exporter": "Exporter",
    "importer": "Importer",
    "hs6": "HS6 code",
}

# --- state ---------------------------------------------------------------------------
if not data.open_or_explain():
    st.stop()
ref = data.reference()
SPEC = page.spec(
    Field("exporters", "list", [FOCUS_COUNTRY], choices=ref.country_names),
    Field("importers", "list", [], choices=ref.country_names),
    Field("minerals", "list", ["gallium"], choices=ref.mineral_labels),
    page.codes_field(),
    *page.year_fields(ref),
    Field("sides", "list", [page.default_side(ref)], choices=SIDE_LABELS),
    Field("sort", "str", "value_usd", choices=SORTS),
    Field("order", "str", "desc", choices=("asc", "desc")),
)
page.bind(PAGE, SPEC)
st.sidebar.header("Filter the flows")
exporters = page.countries_select(
    PAGE, ref, "exporters", "Exporters (reporter)", help="Empty = any"
)
importers = page.countries_select(PAGE, ref, "importers", "Importers (partner)", help="Empty = any")
minerals = page.minerals_select(PAGE, ref, label="Mineral baskets")
codes = page.clean_codes(page.codes_input(PAGE))
year_from, year_to = page.years_slider(PAGE, ref)
sides = list(
    st.sidebar.multiselect(
        "Declarations",
        list(SIDE_LABELS),
        key=f"{PAGE}:sides",
        format_func=SIDE_LABELS.__getitem__,
        help="Empty = all",
    )
)
sort = str(
    st.sidebar.selectbox("Sort by", list(SORTS), key=f"{PAGE}:sort", format_func=SORTS.__getitem__)
)
order = str(
    st.sidebar.radio(
        "Order",
        ["desc", "asc"],
        key=f"{PAGE}:order",
        horizontal=True,
        format_func={"desc": "Largest first", "asc": "Smallest first"}.__getitem__,
    )
)
page.sync_url(PAGE, SPEC)
cap = load_settings().row_cap

# --- data ----------------------------------------------------------------------------
result = data.query(
    "flows_explorer", exporters, importers, minerals, codes, year_from, year_to, sides
)
rows = result.frame.sort(sort, descending=order == "desc", nulls_last=True).select(
    "year",
    "exporter",
    "importer",
    "hs6",
    "series",
    "value_usd",
    "quantity_kg",
    "unit_value_usd_per_kg",
    "side",
    "source",
    "release",
    "hs_edition",
    "description",
)


def _names(items: list[str], mapping: dict[str, str], anything: str) -> str:
    return ", ".join(mapping.get(i, i) for i in items) if items else anything


# --- render --------------------------------------------------------------------------
st.title("Data explorer")
page.data_banner(ref)
products = [ref.mineral_labels.get(m, m) for m in minerals] + [f"HS {c}" for c in codes]
st.markdown(
    f"**The query in words:** flows of **{', '.join(products) or 'no product'}** exported by "
    f"**{_names(exporters, ref.country_names, 'any country')}** to "
    f"**{_names(importers, ref.country_names, 'any country')}**, {year_from}–{year_to}, "
    f"declared as **{_names(sides, SIDE_LABELS, 'any side')}**; sorted by {SORTS[sort].lower()}, "
    f"{'largest' if order == 'desc' else 'smallest'} first. "
    f"Query file: `{result.query}.sql`."
)
if not products:
    page.empty("Choose a mineral basket or an HS6 code in the sidebar.")
    st.stop()
if rows.is_empty():
    page.empty("No flows match these filters. Widen the years, clear the importers, or add sides.")
    st.stop()
if result.truncated:
    st.warning(
        f"Showing the first {cap:,} rows (by year, then value); narrow the filters to see "
        "the rest. Downloads hold the same rows."
    )
st.dataframe(
    rows,
    hide_index=True,
    width="stretch",
    height=480,
    column_config={
        "value_usd": st.column_config.NumberColumn("value_usd", format="localized"),
        "quantity_kg": st.column_config.NumberColumn("quantity_kg", format="localized"),
    },
)
st.caption(f"{rows.height:,} rows · value in USD, quantity in kg, unit value in USD/kg.")
a, b, c = st.columns(3)
# Files are built only when a button is clicked, and clicking does not rerun the page.
a.download_button(
    "Download CSV",
    lambda: downloads.to_csv(rows),
    "critmin_flows.csv",
    "text/csv",
    on_click="ignore",
)
b.download_button(
    "Download Excel",
    lambda: downloads.to_excel(rows),
    "critmin_flows.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
)
c.download_button(
    "Download Parquet",
    lambda: downloads.to_parquet(rows),
    "critmin_flows.parquet",
    "application/vnd.apache.parquet",
    on_click="ignore",
)
st.caption(f"Downloads hold exactly the rows shown (at most {cap:,}, the app's row cap).")
