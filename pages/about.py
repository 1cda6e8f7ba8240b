"""About the data: sources, releases, licences and citations from the provenance
records; coverage per table; the caveats every figure carries."""

import polars as pl
import streamlit as st

from critmin.ui import data, page
from critmin.warehouse import Warehouse

if not data.open_or_explain():
    st.stop()
ref = data.reference()
data_dir, _ = data.warehouse_version()
warehouse = Warehouse(data_dir)

st.title("About the data")
page.data_banner(ref)
st.markdown(f"Warehouse: `{data_dir}` (set `CRITMIN_DATA_DIR` to use another).")

st.subheader("What is loaded")
for note in data.database().notes:
    st.warning(note, icon=":material/speed:")
coverage = pl.DataFrame(warehouse.table_summary())
st.dataframe(coverage, hide_index=True, width="stretch")
st.caption(
    "One row per table and source (part). Checksums are SHA-256 of the part's files; "
    "`critmin status --verify` re-computes them. Parts whose source is *derived* are "
    "computed from trade_flows and the mineral baskets whenever those change."
)

st.subheader("Sources, licences and citations")
records = pl.DataFrame([p.__dict__ for p in warehouse.provenance()])
if records.is_empty():
    page.empty("No provenance records: this warehouse was built by an older version.")
else:
    st.dataframe(
        records.select(
            "table",
            "source",
            "release",
            "file_name",
            "licence",
            "citation",
            "url",
            "size_bytes",
            "sha256",
            "loaded_at",
        ),
        hide_index=True,
        width="stretch",
    )

st.subheader("Mineral baskets")
st.markdown(
    "Each mineral maps to HS6 codes **per HS edition**: gallium is 811291 in HS1992/1996 "
    "data and 811292 from HS2002 on. Codes flagged *shared* hold other goods too."
)
st.dataframe(
    ref.basket_codes.filter(pl.col("hs_edition").is_in(list(ref.editions) or ["HS22"])).select(
        "mineral", "hs_edition", "hs6", "stage", "shared_basket", "note"
    ),
    hide_index=True,
    width="stretch",
)

st.subheader("Caveats")
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
- **Estimated quantities.** Quantities are missing for about 2% of BACI flows and are sometimes
  estimated from standard unit values in Comtrade; tonnes and USD/kg inherit that.
- **Thresholds.** BACI drops flows of USD 1,000 or less.
- **Deposits.** Coordinates come as published; points outside their country are flagged and
  obviously swapped latitude/longitude are corrected and flagged (see the Map page).
""")
