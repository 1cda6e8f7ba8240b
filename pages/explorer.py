"""Data explorer: ad-hoc filtering of the flows for non-programmers, with the
query in words and downloads of exactly the rows shown."""

import streamlit as st

from critmin.domain import FOCUS_COUNTRY
from critmin.settings import load_settings
from critmin.ui import data, downloads, fields, notes, sidebar, tables
from critmin.views import explorer

catalog = data.catalog_or_stop()
state = sidebar.render(
    "explorer",
    "Filter the flows",
    explorer.State,
    catalog,
    [
        fields.countries(
            catalog,
            "exporters",
            "Exporters (reporter)",
            [FOCUS_COUNTRY],
            help="Empty = any",
            carry="country",
        ),
        fields.countries(catalog, "importers", "Importers (partner)", help="Empty = any"),
        fields.minerals(catalog, ["gallium"], label="Mineral baskets"),
        fields.stages(),
        fields.codes(catalog),
        *fields.years(catalog),
        fields.sides(catalog),
        fields.choice("sort", "Sort by", explorer.SORTS, "value_usd", widget="select"),
        fields.choice("order", "Order", explorer.ORDERS, "desc"),
    ],
)
view = data.view(explorer.build, state)
cap = load_settings().row_cap

st.title("Data explorer")
notes.data_banner(catalog)
notes.exactness(catalog, state.minerals)
st.markdown(f"**The query in words:** {view.in_words}. Query file: `{view.query}.sql`.")
if not state.minerals and not state.codes:
    notes.empty("Choose a mineral basket or an HS6 code in the sidebar.")
    st.stop()
if view.rows.is_empty():
    notes.empty("No flows match these filters. Widen the years, clear the importers, or add sides.")
    st.stop()
if view.truncated:
    st.warning(
        f"Showing the first {cap:,} rows in this order; narrow the filters to see the rest. "
        "Downloads hold the same rows."
    )
tables.show(
    view.rows,
    height=480,
    column_config={
        "value_usd": st.column_config.NumberColumn("value_usd", format="localized"),
        "quantity_t": st.column_config.NumberColumn(
            "quantity_t", format="localized", help="Metric tonnes"
        ),
        "unit_value_usd_per_kg": st.column_config.NumberColumn(
            "unit_value_usd_per_kg", format="localized", help="US dollars per kilogram"
        ),
    },
)
st.caption(
    f"{view.rows.height:,} rows, each flow once (its series names every chosen basket that "
    "holds its code) · value in USD, quantity in metric tonnes, unit value in USD/kg."
)
a, b, c = st.columns(3)
# Files are built only when a button is clicked, and clicking does not rerun the page.
a.download_button(
    "Download CSV",
    lambda: downloads.to_csv(view.rows),
    "critmin_flows.csv",
    "text/csv",
    on_click="ignore",
)
b.download_button(
    "Download Excel",
    lambda: downloads.to_excel(view.rows),
    "critmin_flows.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
)
c.download_button(
    "Download Parquet",
    lambda: downloads.to_parquet(view.rows),
    "critmin_flows.parquet",
    "application/vnd.apache.parquet",
    on_click="ignore",
)
st.caption(f"Downloads hold exactly the rows shown (at most {cap:,}, the app's row cap).")
