"""Suppliers: the world market for a mineral basket — top exporters, shares and
ranks over time, Kazakhstan against its peers, and an importer's view."""

import streamlit as st

from critmin.domain import C5
from critmin.ui import charts, data, fields, notes, sidebar, tables
from critmin.ui import format as fmt
from critmin.views import exact, suppliers

catalog = data.catalog_or_stop()
state = sidebar.render(
    "suppliers",
    "World market",
    suppliers.State,
    catalog,
    [
        fields.mineral_pick(catalog),
        fields.mineral(catalog),
        fields.stages(),
        *fields.years(catalog),
        fields.country(catalog, name="highlight", label="Highlight"),
        fields.countries(catalog, "peers", "Peers to compare", [*C5[1:], "CHN", "RUS"], 8),
        fields.importer(catalog, label="Importer's view"),
        fields.side(catalog),
        fields.choice("product", "Importer's product", exact.PRODUCTS, "basket"),
    ],
)
view = data.view(suppliers.build, state)
label = view.label.lower()

st.title(f"Suppliers: the world market for {label}")
st.caption(notes.figures_caption(catalog, [state.mineral], (), state.stages, state.side))
notes.data_banner(catalog)
notes.exactness(catalog, [state.mineral], state.importer, hint=state.product != "exact")
if view.empty:
    notes.empty(
        f"No exports of {label} by any country in {state.year_from}–{state.year_to} "
        f"({notes.side_phrase(state.side)})." + notes.try_another_side(catalog)
    )
    st.stop()

a, b, c = st.columns(3)
a.metric(f"World exports {state.year_to}", fmt.usd(view.world_latest_usd))
if view.focus_share is not None:
    b.metric(f"{view.focus}: share {state.year_to}", fmt.percent(view.focus_share, 2))
    c.metric(f"{view.focus}: rank {state.year_to}", f"{view.focus_rank} of {view.exporters_latest}")
else:
    b.metric(f"{view.focus}: share {state.year_to}", "no exports")
notes.shared_codes(catalog, [state.mineral])
st.caption(
    f"Top three exporters hold {fmt.percent(view.top3_share)} of world exports in "
    f"{state.year_to} (the IEA's concentration measure)."
)

left, right = st.columns(2)
charts.show(
    charts.bars(
        view.top,
        "Share %",
        "Exporter",
        f"Top exporters of {label}, {state.year_to}",
        "Share of world exports, %",
        ",.1f",
        highlight=view.focus,
    ),
    left,
)
with right:
    if view.focus_ranks.is_empty():
        notes.empty(f"{view.focus} has no exports of {label} in {state.year_from}–{state.year_to}.")
    else:
        charts.show(
            charts.lines(
                view.focus_ranks,
                "rank",
                "Exporter",
                f"{view.focus}: rank among exporters (1 = largest)",
                "Rank",
                ",.0f",
                color_title="Exporter",
                reverse_y=True,
                whole=True,
            )
        )

with st.expander(f"Top exporters of {label}, {state.year_to}: value, tonnes, USD/kg", True):
    tables.show(view.leaders, column_config=tables.number_columns(view.leaders))
    if view.leaders_by_stage.height:
        st.markdown("**By value-chain stage: value, tonnes, USD/kg**")
        tables.show(
            view.leaders_by_stage, column_config=tables.number_columns(view.leaders_by_stage)
        )
    st.caption(view.tonnes_note)

charts.show(
    charts.stacked_area(
        view.over_time,
        "value_usd",
        "Exporter",
        f"Shares of world exports of {label} over time (top 8 in {state.year_to})",
        "Share of world exports",
        ".0%",
        color_title="Exporter",
        normalize=True,
    )
)
st.subheader(f"{view.focus} and its peers, {state.year_to}")
tables.show(view.peers_table, column_config=tables.number_columns(view.peers_table))
if view.peers_by_stage.height:
    st.markdown("**By value-chain stage: value, tonnes, USD/kg**")
    tables.show(view.peers_by_stage, column_config=tables.number_columns(view.peers_by_stage))
st.caption(
    f"Rank among all exporters of {label}; CAGR over {state.year_from}–{state.year_to}. "
    + view.tonnes_note
)
if view.compared.height:
    charts.show(
        charts.lines(
            view.compared,
            "share_pct",
            "Exporter",
            f"{view.focus} and peers: share of world exports of {label}, %",
            "Share of world exports, %",
            ",.2f",
            color_title="Exporter",
        )
    )
else:
    notes.empty("None of the chosen peers exports this mineral.")

imp = view.importer
st.subheader(f"The importer's view: {imp.name}")
if imp.note:
    st.info(imp.note, icon=":material/target:")
if imp.total_usd is None:
    notes.empty(f"{imp.name} bought no {label} from outside in {state.year_to}.")
else:
    x, y, z = st.columns(3)
    x.metric(f"Imports {state.year_to}", fmt.usd(imp.total_usd))
    y.metric(
        "Supplier HHI (0–10,000)",
        f"{imp.hhi:,.0f}" if imp.hhi is not None else "–",
        help="Sum of squared supplier shares in percent; above 2,500 is highly concentrated.",
    )
    z.metric(
        f"{view.focus}'s share",
        fmt.percent(imp.highlight_share, 2) if imp.highlight_share is not None else "none",
    )
    tables.show(imp.table, column_config=tables.number_columns(imp.table))
    st.caption("The Diversification page asks how far other suppliers could replace the top ones.")
notes.basket_notes(catalog, [state.mineral])
