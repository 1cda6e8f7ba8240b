"""Suppliers: the world market for a mineral basket — top exporters, shares and
ranks over time, Kazakhstan against its peers, and an importer's view."""

import polars as pl
import streamlit as st

from critmin import metrics
from critmin.domain import C5, FOCUS_COUNTRY, TRADE_SIDES
from critmin.ui import charts, data, page, tables
from critmin.ui import format as fmt
from critmin.ui.state import Field

PAGE = "suppliers"

# --- state ---------------------------------------------------------------------------
if not data.open_or_explain():
    st.stop()
ref = data.reference()
importer_choices = {"EU27": "European Union (27)", **ref.country_names}
SPEC = page.spec(
    Field("mineral", "str", "manganese_sulfate", choices=ref.mineral_labels),
    *page.year_fields(ref),
    Field("highlight", "str", FOCUS_COUNTRY, choices=ref.country_names),
    Field("peers", "list", [*C5[1:], "CHN", "RUS"], choices=ref.country_names, max_items=8),
    Field("importer", "str", "USA", choices=importer_choices),
    Field("side", "str", page.default_side(ref), choices=TRADE_SIDES),
)
page.bind(PAGE, SPEC)
st.sidebar.header("World market")
mineral = str(
    st.sidebar.selectbox(
        "Mineral",
        list(ref.mineral_labels),
        key=f"{PAGE}:mineral",
        format_func=lambda m: ref.mineral_labels.get(m, m),
    )
)
year_from, year_to = page.years_slider(PAGE, ref)
highlight = page.country_select(PAGE, ref, name="highlight", label="Highlight")
peers = page.countries_select(PAGE, ref, "peers", "Peers to compare", max_selections=8)
importer = str(
    st.sidebar.selectbox(
        "Importer's view",
        list(importer_choices),
        key=f"{PAGE}:importer",
        format_func=lambda c: importer_choices.get(c, c),
    )
)
side = page.side_select(PAGE, ref)
page.sync_url(PAGE, SPEC)
label = ref.mineral_labels.get(mineral, mineral)
focus_name = ref.country_names.get(highlight, highlight)
importers = ref.country_groups.get("EU27", []) if importer == "EU27" else [importer]

# --- data ----------------------------------------------------------------------------
world = data.frame("exporters_by_series", [mineral], [], year_from, year_to, side)
purchases = data.frame("imports_by_supplier", importers, [mineral], [], year_from, year_to, side)

# --- render --------------------------------------------------------------------------
st.title(f"Suppliers: the world market for {label.lower()}")
st.caption(page.codes_used(ref, [mineral]) + " · " + page.side_caption(side))
page.data_banner(ref)
if world.is_empty():
    page.empty(
        f"No exports of {label.lower()} by any country in {year_from}–{year_to} "
        f"({page.side_phrase(side)}). Try another declaration in the sidebar."
    )
    st.stop()

ranked = metrics.with_rank(metrics.with_shares(world, "value_usd", ["year"]), "value_usd", ["year"])
latest = ranked.filter(pl.col("year") == year_to).sort("rank")
named = pl.col("exporter").replace_strict(ref.country_names, default=pl.col("exporter"))
mine = ranked.filter(pl.col("exporter") == highlight).sort("year")

a, b, c = st.columns(3)
world_latest = latest["value_usd"].sum()
a.metric(f"World exports {year_to}", fmt.usd(world_latest))
if mine.filter(pl.col("year") == year_to).height:
    row = mine.filter(pl.col("year") == year_to).row(0, named=True)
    b.metric(f"{focus_name}: share {year_to}", fmt.percent(row["share"], 2))
    c.metric(f"{focus_name}: rank {year_to}", f"{row['rank']} of {latest.height}")
else:
    b.metric(f"{focus_name}: share {year_to}", "no exports")
top3 = latest.head(3)["share"].sum()
st.caption(
    f"Top three exporters hold {fmt.percent(top3)} of world exports in {year_to} "
    "(the IEA's concentration measure)."
)

left, right = st.columns(2)
with left:
    top = latest.head(12)
    if highlight not in top["exporter"].to_list() and mine.filter(pl.col("year") == year_to).height:
        top = pl.concat([top, latest.filter(pl.col("exporter") == highlight)])
    st.altair_chart(
        charts.bars(
            top.with_columns(named.alias("Exporter"), (pl.col("share") * 100).alias("Share %")),
            "Share %",
            "Exporter",
            f"Top exporters of {label.lower()}, {year_to}",
            "Share of world exports, %",
            ",.1f",
            highlight=focus_name,
        )
    )
with right:
    if mine.is_empty():
        page.empty(f"{focus_name} has no exports of {label.lower()} in {year_from}–{year_to}.")
    else:
        st.altair_chart(
            charts.lines(
                mine.with_columns(pl.lit(focus_name).alias("Exporter")),
                "rank",
                "Exporter",
                f"{focus_name}: rank among exporters (1 = largest)",
                "Rank",
                ",.0f",
                color_title="Exporter",
            ).encode(y=charts.alt.Y("rank:Q", title="Rank", scale=charts.alt.Scale(reverse=True)))
        )

leaders = latest.head(8)["exporter"].to_list()
over_time = (
    ranked.with_columns(
        pl.when(pl.col("exporter").is_in(leaders))
        .then(named)
        .otherwise(pl.lit("Others"))
        .alias("Exporter")
    )
    .group_by("year", "Exporter")
    .agg(pl.col("value_usd").sum())
    .with_columns(
        pl.col("Exporter")
        .replace_strict({ref.country_names.get(e, e): i for i, e in enumerate(leaders)}, default=99)
        .alias("order")
    )
)
st.altair_chart(
    charts.stacked_area(
        over_time,
        "value_usd",
        "Exporter",
        f"Shares of world exports of {label.lower()} over time (top 8 in {year_to})",
        "Share of world exports",
        ".0%",
        color_title="Exporter",
        normalize=True,
    )
)

compared = ranked.filter(pl.col("exporter").is_in([highlight, *peers])).with_columns(
    named.alias("Exporter"), (pl.col("share") * 100).alias("share_pct")
)
if compared.height:
    st.altair_chart(
        charts.lines(
            compared,
            "share_pct",
            "Exporter",
            f"{focus_name} and peers: share of world exports of {label.lower()}, %",
            "Share of world exports, %",
            ",.2f",
            color_title="Exporter",
        )
    )
else:
    page.empty("None of the chosen peers exports this mineral.")

st.subheader(f"The importer's view: {importer_choices.get(importer, importer)}")
if purchases.is_empty():
    page.empty(
        f"{importer_choices.get(importer, importer)} bought no {label.lower()} from outside "
        f"in {year_from}–{year_to}."
    )
else:
    bought = purchases.group_by("year", "supplier").agg(pl.col("value_usd").sum())
    hhi = metrics.hhi_by(bought, "value_usd", ["year"])
    shares = metrics.with_rank(
        metrics.with_shares(bought.filter(pl.col("year") == year_to), "value_usd", []),
        "value_usd",
        [],
    )
    mine_share = shares.filter(pl.col("supplier") == highlight)["share"]
    x, y, z = st.columns(3)
    x.metric(f"Imports {year_to}", fmt.usd(shares["value_usd"].sum()))
    latest_hhi = hhi.filter(pl.col("year") == year_to)["hhi"]
    y.metric(
        "Supplier HHI (0–10,000)",
        f"{float(latest_hhi[0]):,.0f}" if latest_hhi.len() else "–",
        help="Sum of squared supplier shares in percent; above 2,500 is highly concentrated.",
    )
    z.metric(
        f"{focus_name}'s share",
        fmt.percent(float(mine_share[0]), 2) if mine_share.len() else "none",
    )
    st.dataframe(
        shares.sort("rank")
        .head(15)
        .select(
            pl.col("rank").alias("Rank"),
            pl.col("supplier")
            .replace_strict(ref.country_names, default=pl.col("supplier"))
            .alias("Supplier"),
            pl.col("value_usd").alias("Imports (USD)"),
            (pl.col("share") * 100).round(2).alias("Share %"),
        ),
        hide_index=True,
        width="stretch",
        column_config=tables.usd_columns("Imports (USD)"),
    )
page.basket_notes(ref, [mineral])
