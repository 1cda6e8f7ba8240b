"""Latest months: a country's exports month by month, by partner, past the last
reconciled year, with the provisional nowcast and its backtest."""

import streamlit as st

from critmin.ui import charts, data, fields, notes, sidebar, tables
from critmin.ui import format as fmt
from critmin.views import latest
from critmin.views.nowcast import METHOD

catalog = data.catalog_or_stop()
state = sidebar.render(
    "latest",
    "Latest months",
    latest.State,
    catalog,
    [
        fields.country(catalog, label="Exporter"),
        fields.mineral_pick(catalog),
        fields.minerals(catalog),
        fields.choice("window", "Months shown", latest.WINDOWS, "36"),
        fields.choice("declared_by", "Declared by", latest.DECLARED_BY, "mirror"),
        fields.choice("product", "Product", latest.PRODUCTS, "basket"),
    ],
)
view = data.view(latest.build, state)

st.title(f"Latest months: {view.name}'s exports")
st.caption(
    f"Monthly declarations by {latest.DECLARED_BY[state.declared_by]} · "
    + (view.sources or "no monthly declarations loaded")
)
notes.data_banner(catalog)
notes.exactness(catalog, state.minerals, ("USA", "EU27"), state.product == "exact")
if not view.has_monthly:
    notes.empty(
        "No monthly declarations are loaded. Load them with `critmin ingest comtrade-monthly`, "
        "`critmin ingest comext` or `critmin ingest census` (README, *Monthly declarations*)."
    )
    st.stop()
if view.note and view.months.is_empty():
    notes.empty(view.note)
    st.stop()

assert view.first is not None and view.last is not None
months = f"{view.first:%b %Y} – {view.last:%b %Y}"
charts.show(
    charts.monthly_bars(
        view.months,
        "value_musd",
        "Partner",
        f"{view.name}: monthly exports by partner, USD million, {months}",
        "USD million",
        events=view.events,
    )
)
legend = charts.monthly_event_legend(view.events, view.first, view.last)
if legend:
    st.caption("Dashed lines mark policy events:\n" + legend)
st.caption(
    "Each declaration once; the months of the current and the previous year are provisional "
    "(revised by the publishers)."
    + (
        f" {view.in_euros:,} EU declarations in euros without an exchange rate are left out."
        if view.in_euros
        else ""
    )
)

st.subheader("Year to date against the same months a year earlier")
if view.ytd.is_empty():
    notes.empty(f"No partner has published a month of {view.last.year} yet.")
else:
    tables.show(
        view.ytd,
        column_config={
            **tables.usd_columns("Year to date (USD)", "Same months a year earlier (USD)"),
            "Change %": st.column_config.NumberColumn("Change %", format="%+.1f"),
        },
    )
    st.caption("Each partner to the last month it has published.")
st.subheader("Who has published up to which month")
if view.reporting.is_empty():
    notes.empty("None of the reporters of these declarations has published in these months.")
else:
    tables.show(view.reporting)
if view.not_reported:
    st.caption(
        "Partners of the last reconciled year with no month published this year: "
        + ", ".join(view.not_reported)
        + "."
    )

st.subheader(f"Provisional years past {catalog.years[1]}")
if view.nowcast is None or view.nowcast_table.is_empty():
    notes.empty(
        view.nowcast_note or "No monthly declaration reaches past the last reconciled year."
    )
else:
    st.warning(
        "**Provisional.** Estimated from partners' monthly declarations, annualised: not "
        "reconciled statistics, never added to the BACI years.",
        icon=":material/schedule:",
    )
    charts.show(
        charts.with_provisional(
            charts.lines(
                view.annual,
                "value_musd",
                "Mineral",
                f"{view.name}: exports by mineral, USD million — BACI solid, provisional dashed",
                "USD million",
                ",.1f",
                color_title="Mineral",
            ),
            view.provisional,
            "value_musd",
            "Mineral",
            "USD million",
            ",.1f",
            color_title="Mineral",
        )
    )
    tables.show(
        view.nowcast_table,
        column_config={
            **tables.usd_columns("Year to date, FOB (USD)", "Annualised (USD)"),
            **{
                c: st.column_config.NumberColumn(c, format="%.1f")
                for c in view.nowcast_table.columns
                if c.endswith("%")
            },
        },
    )
    st.caption(f"**Method.** {METHOD}")
    with st.expander("By partner, with the backtest of each"):
        tables.show(
            view.nowcast_partners,
            column_config={
                **tables.usd_columns(*[c for c in view.nowcast_partners.columns if "(USD)" in c]),
                "Backtest error %": st.column_config.NumberColumn(
                    "Backtest error %", format="%+.1f"
                ),
            },
        )
    st.caption(
        f"Latest month loaded: {fmt.month(view.last)}. The backtest compares the method on "
        f"{catalog.years[1]} with BACI's reconciled value; its error includes partners that "
        "publish no monthly data."
    )
