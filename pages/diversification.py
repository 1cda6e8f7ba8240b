"""Diversification: how far could Kazakhstan and its Central Asian neighbours (C5)
replace an importer's supply of a mineral from China and/or Russia?"""

from typing import Any

import streamlit as st

from critmin.ui import charts, data, downloads, fields, notes, sidebar, tables
from critmin.ui import format as fmt
from critmin.views import diversification as div

catalog = data.catalog_or_stop()
state = sidebar.render(
    "diversification",
    "Diversification scenario",
    div.State,
    catalog,
    [
        fields.importer(catalog),
        fields.mineral_pick(catalog),
        fields.mineral(catalog),
        fields.stages(),
        fields.year(catalog),
        fields.side(catalog),
        fields.percent("replace_pct", "Share of their supply to replace, %", div.DEFAULT_PCT),
        fields.choice("replace_from", "Supply from", div.REPLACE_FROM, "both"),
        fields.choice("product", "Product", div.PRODUCTS, "basket"),
    ],
)
view = data.view(div.build, state)
imports, scenario = view.imports, view.scenario  # the page's two parts
label, year = view.label.lower(), state.year
NUMBERS = {
    **tables.usd_columns(*div.USD_COLUMNS),
    **{c: st.column_config.NumberColumn(c, format=f) for c, f in div.NUMBER_FORMATS.items()},
    **tables.tonnes_columns(*(c for c in div.NUMBER_FORMATS if c.endswith("(t)"))),
}
# The redirect table's headers, short enough for its nine columns to fit a laptop screen.
SHORT = {
    column: st.column_config.NumberColumn(
        column.replace("To the world", "World")
        .replace("To the importer", "To importer")
        .replace("Covers gap %", "Covers %"),
        format="localized",
        help=column,
    )
    for column in div.REDIRECT_COLUMNS
    if column != "Country"
}


def figure(column: Any, title: str, value: str, note: str | None = None, **kw: Any) -> None:
    """A headline figure with a grey line under it (no arrow: it is not a change)."""
    column.metric(title, value, note, "off", delta_arrow="off", **kw)


st.title(f"Diversification: {view.importer} — {label}")
st.caption(notes.figures_caption(catalog, [state.mineral], (), state.stages, state.side))
notes.data_banner(catalog)
notes.exactness(catalog, [state.mineral], state.importer, state.product == "exact")
if view.product_note:
    st.info(view.product_note, icon=":material/target:")
if imports.no_imports:
    notes.empty(
        f"No imports of {label} by {view.importer} from outside in {year} "
        f"({notes.side_phrase(state.side)}). Try another year or importer"
        + (", or another declaration." if len(catalog.trade_sides) > 1 else ".")
    )
    notes.basket_notes(catalog, [state.mineral])
    st.stop()

st.subheader(f"{view.importer}: suppliers of {label}, {year}")
a, b, c, d = st.columns(4)
figure(a, f"Imports {year}", fmt.usd(imports.total_usd), fmt.tonnes(imports.total_kg))
figure(
    b,
    "Supplier HHI (0–10,000)",
    f"{imports.hhi:,.0f}" if imports.hhi is not None else "–",
    imports.band,
    help="Sum of squared shares of value in percent; US merger-guidance bands 1,500 and 2,500.",
)
figure(c, f"From China {year}", fmt.percent(imports.china_share), "share of value")
figure(d, f"From Russia {year}", fmt.percent(imports.russia_share), "share of value")
notes.shared_codes(catalog, [state.mineral])
tables.show(imports.suppliers, column_config=NUMBERS)
st.caption(
    scenario.tonnes_note
    or "An empty tonnes cell (–) means the flows carry no quantity; tonne totals count only "
    "the flows that report one."
)
left, _ = st.columns(2)
charts.show(
    charts.lines(
        imports.shares_over_time,
        "share_pct",
        "Supplier",
        f"Shares of {label} imports by value, %",
        "Share of imports, %",
        ",.1f",
        color_title="From",
    ),
    left,
)

st.subheader(f"Replace {state.replace_pct}% of the supply from {view.replaced}")
if scenario.gap_usd <= 0:
    notes.empty(f"No imports of {label} from {view.replaced} in {year}: nothing to replace.")
else:
    x, y, z = st.columns(3)
    figure(
        x, "Supply that needs a new source", fmt.usd(scenario.gap_usd), fmt.tonnes(scenario.gap_kg)
    )
    figure(
        y,
        "Central Asia could redirect",
        fmt.usd(scenario.redirect_usd),
        fmt.tonnes(scenario.redirect_kg),
    )
    if scenario.tonnes_note:  # the codes span value-chain stages: tonnes do not add up
        by_tonnes = "by tonnes: choose one value-chain stage"
    elif scenario.covers_kg is None:
        by_tonnes = "by tonnes: no quantities reported"
    else:
        by_tonnes = f"{fmt.percent(scenario.covers_kg)} by tonnes"
    figure(
        z,
        "Share of the gap it could cover",
        f"{fmt.percent(scenario.covers_usd)} by value",
        by_tonnes,
        help="By value: the redirectable exports' value over the gap's. By tonnes: the same "
        "in tonnes, shown for one value-chain stage at a time (a tonne of ore is not a tonne "
        "of ferroalloy).",
    )
if not scenario.c5_exports:
    notes.empty(f"No Central Asian country exported {label} in {year}: none could redirect.")
for column, (measure, number) in zip(st.columns(2), div.CHART_MEASURES.items(), strict=True):
    if scenario.chart.height and scenario.chart[measure].null_count() == 0:
        title = f"The gap and what each C5 country could redirect, {measure}"
        bars = charts.bars(
            scenario.chart, measure, "Source", title, measure, number, view.gap_label
        )
        charts.show(bars, column)
if scenario.c5_exports:
    tables.show(scenario.redirect, column_config={**NUMBERS, **SHORT})
    st.caption(
        "World: exports to every country; to importer: to "
        f"{view.importer}; redirectable: the difference; covers %: the share of the gap it "
        "would fill (at most 100)."
    )
downloads.offer(
    div.build,
    state,
    lambda shown: shown.scenario.download,
    name=f"critmin_diversification_{state.importer}_{state.mineral}_{year}",
    rows=scenario.download.height,
    formats=("csv",),
    what="the scenario",
)

st.subheader("Production, reserves and import reliance (USGS)")
for r in view.usgs.reliance:
    figure(st, f"US net import reliance, {r.year}", r.shown, r.measure, help=r.statistic)
if view.usgs.reliance_note:
    st.caption(view.usgs.reliance_note)
if view.usgs.production.height:
    tables.show(view.usgs.production, column_config=NUMBERS)
    st.caption(" ".join(view.usgs.notes))
if view.usgs.production_note:
    notes.empty(view.usgs.production_note)
st.markdown("**Assumptions**\n" + "\n".join(f"- {line}" for line in view.assumptions))
notes.basket_notes(catalog, [state.mineral])
