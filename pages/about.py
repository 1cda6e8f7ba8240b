"""About the data: sources, releases, licences and citations from the provenance
records; coverage per table; the baskets, the events and the caveats every figure
carries."""

import streamlit as st

from critmin.ui import data, notes, tables
from critmin.views import about

catalog = data.catalog_or_stop()
view = data.view(about.build, about.State())

st.title("About the data")
notes.data_banner(catalog)
st.markdown(f"Warehouse: `{view.data_dir}` (set `CRITMIN_DATA_DIR` to use another).")

st.subheader("What is loaded")
for note in view.notes:
    st.warning(note, icon=":material/speed:")
st.markdown("\n".join(f"- {line}" for line in [*view.loaded, *view.quantities]))
st.caption("Read from the warehouse as loaded: the table below is its manifest.")
tables.show(view.coverage)
st.caption(
    "One row per table and source (part). Checksums are SHA-256 of the part's files; "
    "`critmin status --verify` re-computes them. Parts whose source is *derived* are "
    "computed from trade_flows and the mineral baskets whenever those change."
)

st.subheader("Sources, licences and citations")
if view.provenance.is_empty():
    notes.empty("No provenance records: this warehouse was built by an older version.")
else:
    tables.show(
        view.provenance,
        column_config={
            "url": st.column_config.LinkColumn("url"),
            "version": st.column_config.TextColumn("version", width="large"),
            "corrections_url": st.column_config.LinkColumn("corrections"),
        },
    )
    st.caption(
        "A release's *version* says which version of the publisher's file was loaded, with "
        "its date; a corrected release is not the release as first posted (the *corrections* "
        "page lists what the publisher changed)."
    )

st.subheader("Mineral baskets")
st.markdown(
    "Each mineral maps to HS6 codes **per HS edition**: gallium is 811291 in HS1992/1996 "
    "data and 811292 from HS2002 on. Codes flagged *shared* hold other goods too. Lists: "
    "USGS2025 = the USGS 2025 List of Critical Minerals, EU2023 = the EU's 2023 critical "
    "raw materials (docs/baskets.md says how the baskets were built)."
)
tables.show(view.baskets)
st.markdown(
    "**Minerals of the lists that trade data cannot show.** They have no HS6 code of their "
    "own in any edition, so no page offers them as a series:"
)
tables.show(view.not_showable)

st.subheader("Policy events on the charts")
tables.show(
    view.events,
    column_config={"url": st.column_config.LinkColumn("Source page")},
)
st.caption("Each event has its exact date and a page that confirms it (docs/events.md).")

st.subheader("Caveats")
if view.provisional:
    st.markdown("\n".join(f"- **Provisional.** {line}" for line in view.provisional))
st.markdown("""
- **Baskets.** No HS6 code isolates manganese sulfate (283329 is "other sulphates") or gallium
  (811292 also holds germanium, indium, niobium, vanadium). Small flows can be dominated by
  another good; unit values (USD/kg) are the clue, and the Export growth page flags
  implausible ones.
- **Mirror data.** Exporters declare FOB, importers CIF (typically 5–20% more). Kazakhstan and
  China diverge strongly; Kazakhstan and Russia share the EAEU customs union, so transit and
  re-exports through Russia are hard to see. The *Reported vs mirror* page shows both sides.
- **Provisional last year.** BACI's and Comtrade's most recent year is revised in later releases.
  Releases are never mixed: loading a new BACI release replaces the old one.
- **Quantities.** Tonnes and USD/kg count only the flows that report a quantity (coverage of
  the loaded flows above); Comtrade sometimes estimates them from standard unit values.
- **Thresholds.** BACI drops flows of USD 1,000 or less.
- **Deposits.** Coordinates come as published; points outside their country are flagged and
  obviously swapped latitude/longitude are corrected and flagged (see the Map page).
""")
