"""Partners: where a country's mineral exports go, how the mix shifted, and how
concentrated it is."""

import polars as pl
import streamlit as st

from critmin import metrics
from critmin.domain import DEFAULT_MINERALS, FOCUS_COUNTRY, TRADE_SIDES
from critmin.ui import charts, data, page, tables
from critmin.ui.state import Field

PAGE = "partners"
SCALES = {"10000": "0–10,000 (shares in %)", "1": "0–1 (shares as fractions, WITS)"}
GROUPINGS = {"group": "Partner groups", "partner": "Top 8 partners"}

# --- state ---------------------------------------------------------------------------
if not data.open_or_explain():
    st.stop()
ref = data.reference()
SPEC = page.spec(
    Field("country", "str", FOCUS_COUNTRY, choices=ref.country_names),
    Field("minerals", "list", list(DEFAULT_MINERALS), choices=ref.mineral_labels),
    page.codes_field(),
    *page.year_fields(ref),
    Field("compare", "list", ["CHN", "RUS", "USA"], choices=ref.country_names, max_items=5),
    Field("scale", "str", "10000", choices=SCALES),
    Field("by", "str", "group", choices=GROUPINGS),
    Field("side", "str", page.default_side(ref), choices=TRADE_SIDES),
)
page.bind(PAGE, SPEC)
st.sidebar.header("Partners")
country = page.country_select(PAGE, ref, label="Exporter")
minerals = page.minerals_select(PAGE, ref)
codes = page.clean_codes(page.codes_input(PAGE))
year_from, year_to = page.years_slider(PAGE, ref)
compare = page.countries_select(PAGE, ref, "compare", "Compare partners (2–5)", max_selections=5)
by = str(
    st.sidebar.radio(
        "Shares by", list(GROUPINGS), key=f"{PAGE}:by", format_func=GROUPINGS.__getitem__
    )
)
scale = str(
    st.sidebar.radio("HHI scale", list(SCALES), key=f"{PAGE}:scale", format_func=SCALES.__getitem__)
)
side = page.side_select(PAGE, ref)
page.sync_url(PAGE, SPEC)
name = ref.country_names.get(country, country)

# --- data ----------------------------------------------------------------------------
flows = data.frame("exports_by_partner", country, minerals, codes, year_from, year_to, side)

# --- render --------------------------------------------------------------------------
st.title(f"Partners: where {name}'s exports go")
st.caption(page.codes_used(ref, minerals) + " · " + page.side_caption(side))
page.data_banner(ref)
if not minerals and not codes:
    page.empty("Choose at least one mineral or HS6 code in the sidebar.")
    st.stop()
if flows.is_empty():
    page.empty(
        f"No exports of the chosen products from {name} ({country}) in {year_from}–{year_to} "
        f"({page.side_phrase(side)}). Try another declaration in the sidebar."
    )
    st.stop()

by_partner = flows.group_by("year", "partner").agg(pl.col("value_usd").sum())
if by == "group":
    grouped = by_partner.with_columns(page.partner_group_expr(ref))
    order = {g: i for i, g in enumerate(page.GROUP_ORDER)}
else:
    # The eight largest partners over the whole window, the rest together.
    top = (
        by_partner.group_by("partner")
        .agg(pl.col("value_usd").sum())
        .sort("value_usd", descending=True)
        .head(8)["partner"]
        .to_list()
    )
    names = [ref.country_names.get(p, p) for p in top]
    grouped = by_partner.with_columns(
        pl.when(pl.col("partner").is_in(top))
        .then(pl.col("partner").replace_strict(ref.country_names, default=pl.col("partner")))
        .otherwise(pl.lit("Rest of world"))
        .alias("group")
    )
    order = {g: i for i, g in enumerate([*names, "Rest of world"])}
groups = (
    grouped.group_by("year", "group")
    .agg(pl.col("value_usd").sum())
    .with_columns(pl.col("group").replace_strict(order, default=99).alias("order"))
)
groups = metrics.with_shares(groups, "value_usd", ["year"]).with_columns(
    (pl.col("share") * 100).alias("share_pct")
)
st.altair_chart(
    charts.stacked_area(
        groups,
        "share_pct",
        "group",
        f"Shares of {name}'s exports by {GROUPINGS[by].lower()}",
        "Share of exports",
        ".0%",
        color_title="Partner" if by == "partner" else "Partner group",
        normalize=True,
    )
)

left, right = st.columns(2)
with left:
    if 2 <= len(compare) <= 5:
        chosen = by_partner.filter(pl.col("partner").is_in(compare)).with_columns(
            pl.col("partner")
            .replace_strict(ref.country_names, default=pl.col("partner"))
            .alias("Partner"),
            (pl.col("value_usd") / 1e6).alias("value_musd"),
        )
        if chosen.is_empty():
            page.empty("None of the compared partners bought these products.")
        else:
            st.altair_chart(
                charts.lines(
                    chosen,
                    "value_musd",
                    "Partner",
                    "Compared partners: exports received, USD million",
                    "USD million",
                    ",.1f",
                    color_title="Partner",
                )
            )
    else:
        page.empty("Pick two to five partners in the sidebar to compare them side by side.")
with right:
    concentration = metrics.hhi_by(by_partner, "value_usd", ["year"], scale)
    st.altair_chart(
        charts.lines(
            concentration.with_columns(pl.lit("HHI").alias("measure")),
            "hhi",
            "measure",
            f"Concentration of destinations (HHI, {SCALES[scale]})",
            "HHI",
            ",.0f" if scale == "10000" else ".2f",
            color_title="",
        )
    )
    latest_hhi = concentration.filter(pl.col("year") == year_to)["hhi"]
    if latest_hhi.len():
        on_10000 = float(latest_hhi[0]) * (1 if scale == "10000" else 10_000)
        st.caption(
            f"HHI = sum of squared partner shares, exporter's destinations. {year_to}: "
            f"{float(latest_hhi[0]):,.{0 if scale == '10000' else 3}f} — "
            f"{metrics.hhi_band(on_10000)} by the US merger-guidance bands "
            "(1,500 and 2,500 on the 0–10,000 scale)."
        )

st.subheader(f"Partners ranked, {year_to}")
latest = metrics.with_rank(
    metrics.with_shares(by_partner.filter(pl.col("year") == year_to), "value_usd", []),
    "value_usd",
    [],
)
previous = by_partner.filter(pl.col("year") == year_to - 1).select(
    "partner", pl.col("value_usd").alias("previous")
)
ranked = (
    latest.join(previous, on="partner", how="left")
    .sort("rank")
    .select(
        pl.col("rank").alias("Rank"),
        pl.col("partner")
        .replace_strict(ref.country_names, default=pl.col("partner"))
        .alias("Partner"),
        pl.col("partner").alias("ISO3"),
        pl.col("value_usd").alias("Exports (USD)"),
        (pl.col("share") * 100).round(1).alias("Share %"),
        ((pl.col("value_usd") / pl.col("previous") - 1) * 100)
        .round(1)
        .alias(f"Change on {year_to - 1} %"),
    )
)
if ranked.is_empty():
    page.empty(f"No exports in {year_to}.")
else:
    st.dataframe(
        ranked, hide_index=True, width="stretch", column_config=tables.usd_columns("Exports (USD)")
    )
page.basket_notes(ref, minerals)
