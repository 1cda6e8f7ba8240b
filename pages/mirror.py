"""Reported vs mirror: a country's exports as it declares them, as its partners
declare them (mirror), and as reconciled by BACI — with the gap between them."""

import streamlit as st

from critmin.domain import SIDE_LABELS
from critmin.ui import charts, data, fields, notes, sidebar, tables
from critmin.views import mirror

catalog = data.catalog_or_stop()
state = sidebar.render(
    "mirror",
    "Reported vs mirror",
    mirror.State,
    catalog,
    [
        fields.country(catalog, label="Exporter"),
        fields.mineral_pick(catalog),
        fields.minerals(catalog),
        fields.stages(),
        fields.codes(catalog),
        *fields.years(catalog),
    ],
)
view = data.view(mirror.build, state)
USD = tables.usd_columns(*[mirror.usd_column(s) for s in SIDE_LABELS], mirror.GAP)

st.title(f"Reported vs mirror: {view.name}'s exports")
st.caption(notes.figures_caption(catalog, state.minerals, state.codes, state.stages))
notes.data_banner(catalog)
notes.exactness(catalog, state.minerals)
st.markdown(
    "A flow can be read from the exporter's declaration or from the importer's (the *mirror*). "
    "Imports are valued CIF and exports FOB, so importers typically record 5–20% more; "
    "importers also record the origin, exporters only the last known destination."
)
if not state.minerals and not state.codes:
    notes.empty("Choose at least one mineral or HS6 code in the sidebar.")
    st.stop()
if view.empty:
    notes.empty(
        f"No flows of the chosen products from {view.name} ({state.country}) in "
        f"{state.year_from}–{state.year_to}."
    )
    st.stop()

if view.missing_sides:
    both = "exporter_reported" in view.missing_sides or "importer_reported" in view.missing_sides
    st.info(
        f"Not loaded for these flows: {', '.join(SIDE_LABELS[s] for s in view.missing_sides)}. "
        + (
            "Load UN Comtrade declarations with `critmin fetch comtrade --reporter "
            f"{state.country}` to compare both sides."
            if both
            else "Load a BACI release with `critmin fetch baci` for reconciled flows."
        )
    )

charts.show(
    charts.lines(
        view.by_side,
        "value_musd",
        "Declaration",
        f"{view.name}: exports by declaration, USD million",
        "USD million",
        ",.1f",
        color_title="Declaration",
    )
)
st.subheader("Side by side, per year")
tables.show(view.per_year, column_config=USD)
st.caption(
    "Where each figure comes from: "
    + "; ".join(f"{SIDE_LABELS.get(s, s)} — {src}" for s, src in sorted(view.sources.items()))
    + ". Gap % = importer-reported / exporter-reported − 1."
)

st.subheader(f"By partner, {state.year_to}")
if view.by_partner.is_empty():
    notes.empty(f"No flows in {state.year_to}.")
else:
    tables.show(view.by_partner, column_config=USD)
    st.caption(
        "A partner missing on one side means that side did not declare the flow: for "
        "Kazakhstan, flows through Russia (EAEU customs union) are often seen only by the "
        "importer."
    )
