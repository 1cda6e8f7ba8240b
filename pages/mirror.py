"""Reported vs mirror: a country's exports as it declares them, as its partners
declare them (mirror), and as reconciled by BACI — with the gap between them."""

import polars as pl
import streamlit as st

from critmin.domain import DEFAULT_MINERALS, FOCUS_COUNTRY, SIDE_LABELS
from critmin.ui import charts, data, page, tables
from critmin.ui.state import Field

PAGE = "mirror"
USD_COLUMNS = tables.usd_columns(
    *[f"{label} (USD)" for label in SIDE_LABELS.values()], "Gap, importer − exporter (USD)"
)

# --- state ---------------------------------------------------------------------------
if not data.open_or_explain():
    st.stop()
ref = data.reference()
SPEC = page.spec(
    Field("country", "str", FOCUS_COUNTRY, choices=ref.country_names),
    Field("minerals", "list", list(DEFAULT_MINERALS), choices=ref.mineral_labels),
    page.codes_field(),
    *page.year_fields(ref),
)
page.bind(PAGE, SPEC)
st.sidebar.header("Reported vs mirror")
country = page.country_select(PAGE, ref, label="Exporter")
minerals = page.minerals_select(PAGE, ref)
codes = page.clean_codes(page.codes_input(PAGE))
year_from, year_to = page.years_slider(PAGE, ref)
page.sync_url(PAGE, SPEC)
name = ref.country_names.get(country, country)

# --- data ----------------------------------------------------------------------------
flows = data.frame("mirror_flows", country, minerals, codes, year_from, year_to)

# --- render --------------------------------------------------------------------------
st.title(f"Reported vs mirror: {name}'s exports")
st.caption(page.codes_used(ref, minerals))
page.data_banner(ref)
st.markdown(
    "A flow can be read from the exporter's declaration or from the importer's (the *mirror*). "
    "Imports are valued CIF and exports FOB, so importers typically record 5–20% more; "
    "importers also record the origin, exporters only the last known destination."
)
if not minerals and not codes:
    page.empty("Choose at least one mineral or HS6 code in the sidebar.")
    st.stop()
if flows.is_empty():
    page.empty(f"No flows of the chosen products from {name} ({country}) in {year_from}–{year_to}.")
    st.stop()

sides = sorted(set(flows["side"].to_list()))
missing = [SIDE_LABELS[s] for s in SIDE_LABELS if s not in sides]
if missing:
    st.info(
        f"Not loaded for these flows: {', '.join(missing)}. "
        + (
            "Load UN Comtrade declarations with `critmin ingest comtrade PATH` or "
            "`critmin fetch comtrade --reporter " + country + "` to compare both sides."
            if "exporter_reported" not in sides or "importer_reported" not in sides
            else "Load a BACI release with `critmin ingest baci PATH` for reconciled flows."
        )
    )

by_side = flows.group_by("year", "side").agg(
    pl.col("value_usd").sum(), pl.col("source").unique().sort().str.join("+")
)
chart = by_side.with_columns(
    pl.col("side").replace_strict(SIDE_LABELS, default=pl.col("side")).alias("Declaration"),
    (pl.col("value_usd") / 1e6).alias("value_musd"),
)
st.altair_chart(
    charts.lines(
        chart,
        "value_musd",
        "Declaration",
        f"{name}: exports by declaration, USD million",
        "USD million",
        ",.1f",
        color_title="Declaration",
    )
)

wide = by_side.pivot(on="side", index="year", values="value_usd").sort("year")
for side in SIDE_LABELS:
    if side not in wide.columns:
        wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(side))
table = wide.with_columns(
    (pl.col("importer_reported") - pl.col("exporter_reported")).alias("gap_usd"),
    ((pl.col("importer_reported") / pl.col("exporter_reported") - 1) * 100).alias("gap_pct"),
)
sources = by_side.group_by("side").agg(pl.col("source").unique().str.join("+"))
st.subheader("Side by side, per year")
st.dataframe(
    table.select(
        pl.col("year").alias("Year"),
        *[pl.col(s).alias(f"{SIDE_LABELS[s]} (USD)") for s in SIDE_LABELS],
        pl.col("gap_usd").alias("Gap, importer − exporter (USD)"),
        pl.col("gap_pct").round(1).alias("Gap %"),
    ),
    hide_index=True,
    width="stretch",
    column_config=USD_COLUMNS,
)
st.caption(
    "Where each figure comes from: "
    + "; ".join(f"{SIDE_LABELS.get(s, s)} — {src}" for s, src in sources.iter_rows())
    + ". "
    "Gap % = importer-reported / exporter-reported − 1."
)

st.subheader(f"By partner, {year_to}")
partners = (
    flows.filter(pl.col("year") == year_to)
    .group_by("partner", "side")
    .agg(pl.col("value_usd").sum())
    .pivot(on="side", index="partner", values="value_usd")
)
for side in SIDE_LABELS:
    if side not in partners.columns:
        partners = partners.with_columns(pl.lit(None, dtype=pl.Float64).alias(side))
if partners.is_empty():
    page.empty(f"No flows in {year_to}.")
else:
    st.dataframe(
        partners.with_columns(
            (pl.col("importer_reported") - pl.col("exporter_reported")).alias("gap")
        )
        .sort("importer_reported", descending=True, nulls_last=True)
        .select(
            pl.col("partner")
            .replace_strict(ref.country_names, default=pl.col("partner"))
            .alias("Partner"),
            *[pl.col(s).alias(f"{SIDE_LABELS[s]} (USD)") for s in SIDE_LABELS],
            pl.col("gap").alias("Gap, importer − exporter (USD)"),
        ),
        hide_index=True,
        width="stretch",
        column_config=USD_COLUMNS,
    )
    st.caption(
        "A partner missing on one side means that side did not declare the flow: for "
        "Kazakhstan, flows through Russia (EAEU customs union) are often seen only by the "
        "importer."
    )
