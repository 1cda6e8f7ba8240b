"""Data explorer: ad-hoc questions about the flows for non-programmers. Filter, then
list the flows or group and sum them (a pivot, a chart); counts beside every choice;
the query in words and in SQL; downloads of exactly what is shown."""

import streamlit as st

from critmin.settings import load_settings
from critmin.ui import charts, data, downloads, notes, sidebar
from critmin.ui import explorer as page
from critmin.views import explorer

catalog = data.catalog_or_stop()
head = st.container()
controls = st.columns(4)
state = sidebar.render(
    page.PAGE,
    "Filter the flows",
    explorer.State,
    catalog,
    page.declared(catalog),
    main=controls,
    counts=lambda current: page.facet_notes(catalog, current),
)
view = data.view(explorer.build, state)
cap = load_settings().row_cap

with head:
    st.title("Data explorer")
    notes.data_banner(catalog)
    # How exact each chosen basket is about its mineral (not listed for all minerals).
    notes.exactness(catalog, () if state.products == explorer.ALL_MINERALS else state.minerals)
link = page.share_link()
page.in_words(view)
if not view.card.params.get("minerals") and not state.codes:
    notes.empty(
        "Choose “All minerals”, a mineral basket or an HS6 code in the sidebar "
        "(an empty Mineral baskets box with “Minerals chosen below” means no product)."
    )
    page.sql_box(data.database())
    st.stop()
if view.rows.is_empty():
    notes.empty("No flows match these filters. Widen the years, clear the importers, or add sides.")
    page.query_card(view, link)
    page.sql_box(data.database())
    st.stop()
if view.truncated:
    st.warning(
        f"The result holds the first {cap:,} rows in this order (the app's row cap); narrow "
        "the filters to see the rest. Downloads hold the same rows."
    )
for note in view.notes:
    st.caption(note)
drawn = page.chart(view)
page.table(view, state)
if view.grouped:
    st.caption(
        "Values in USD millions, quantities in tonnes; the last row is the total (each flow "
        "once). Share: of the total of the row's year when years are grouped, else of "
        "the whole."
    )
else:
    shown = (
        f" · the table shows the first {page.SHOWN_ROWS:,} in this order, the downloads all "
        f"{view.rows.height:,}"
        if view.rows.height > page.SHOWN_ROWS
        else ""
    )
    st.caption(
        f"{view.rows.height:,} rows, each flow once (its minerals name every chosen basket "
        "that holds its code) · value in USD millions, quantity in tonnes, unit value in "
        f"USD/kg{shown}."
    )
# Downloads: files are built only when a button is clicked, off the page (clicking does
# not rerun it); the Excel file adds a sheet about the query.
name = "critmin_grouped" if view.grouped else "critmin_flows"
downloads.offer(
    explorer.build,
    state,
    lambda shown: shown.rows,
    name=name,
    rows=view.rows.height,
    about=lambda shown: explorer.about_sheet(shown, link),
)
if drawn is not None:
    picture = drawn
    st.download_button(
        "Download chart (SVG)",
        lambda: charts.svg(picture),
        f"{name}.svg",
        "image/svg+xml",
        on_click="ignore",
    )
st.caption(
    f"Downloads hold every row of this result in the table's order (at most {cap:,}, the "
    "app's row cap); the Excel file adds a sheet with the question, the data's release, the "
    "SQL and the sources."
)
page.query_card(view, link)
page.sql_box(data.database())
