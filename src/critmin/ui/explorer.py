"""The Data explorer's pieces: its fields (filters in the sidebar, the analysis in a
row above the results), the counts beside each filter's options (facets, one cached
query per filter), the table's headers and number formats, the chart, the query card
and the optional SQL box."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import duckdb
import polars as pl
import streamlit as st

from critmin.catalog import STAGE_LABELS, Catalog
from critmin.db import Database, QueryTimeout
from critmin.domain import FOCUS_COUNTRY, SIDE_LABELS
from critmin.filters import DIMENSIONS
from critmin.settings import load_settings
from critmin.sql_guard import ForbiddenStatement
from critmin.ui import charts, data, fields, tables
from critmin.ui.format import usd
from critmin.ui.state import Field
from critmin.views import explorer
from critmin.views.explorer import State

PAGE = "explorer"
# The flat list of flows shows its first SHOWN_ROWS in the chosen order; the downloads hold
# every row of the result. The table's rows go to the browser again at every change
# (docs/performance.md §16).
SHOWN_ROWS = 1_000


def declared(catalog: Catalog) -> list[Field]:
    """The page's fields: the filters (sidebar), then the analysis (the page's row)."""
    main = {"place": "main"}
    return [
        fields.countries(
            catalog,
            "exporters",
            "Exporters (reporter)",
            [FOCUS_COUNTRY],
            help="Empty = any",
            carry="country",
        ),
        fields.countries(catalog, "importers", "Importers (partner)", help="Empty = any"),
        fields.choice(
            "products",
            "Minerals",
            explorer.PRODUCTS,
            "chosen",
            help="All minerals: every basket, each flow once in totals.",
        ),
        fields.minerals(catalog, ["gallium"], label="Mineral baskets"),
        fields.stages(),
        fields.codes(catalog),
        *fields.years(catalog),
        fields.sides(catalog),
        Field(
            "group",
            "list",
            [],
            choices=DIMENSIONS,
            max_items=explorer.MAX_ROW_DIMENSIONS,
            label="Group rows by",
            widget="multiselect",
            labels=explorer.DIMENSION_LABELS,
            help="Sum the flows by these (up to three). Empty = list every flow.",
            **main,  # type: ignore[arg-type]
        ),
        Field(
            "across",
            "str",
            explorer.NO_PIVOT,
            choices=explorer.ACROSS,
            label="Columns (pivot)",
            widget="select",
            labels=explorer.ACROSS,
            help="One more dimension as columns, with a Total column.",
            **main,  # type: ignore[arg-type]
        ),
        Field(
            "measure",
            "str",
            "value",
            choices=explorer.MEASURES,
            label="Measure",
            widget="select",
            labels=explorer.MEASURES,
            help="What the pivot's cells and the chart show.",
            **main,  # type: ignore[arg-type]
        ),
        Field(
            "chart",
            "str",
            "auto",
            choices=explorer.CHARTS,
            label="Chart",
            widget="select",
            labels=explorer.CHARTS,
            **main,  # type: ignore[arg-type]
        ),
        fields.choice("sort", "Sort by", explorer.SORTS, "value_usd", widget="select"),
        fields.choice("order", "Order", explorer.ORDERS, "desc"),
    ]


def facet_notes(catalog: Catalog, state: State) -> dict[str, dict[str, str]]:
    """Per filter, after each option: how many flows and how much value it would match
    under the other filters ("(0)" for none: shown, not hidden). Each filter's counts
    are one cached query."""
    try:
        asks = explorer.facet_asks(catalog, state)
    except ValueError:  # a state the sidebar is about to reset (reversed years)
        return {}
    notes: dict[str, dict[str, str]] = {}
    for name, ask in asks.items():
        counts = data.view(explorer.facet, ask)
        notes[name] = _notes(counts, _options(catalog, name))
    return notes


def _options(catalog: Catalog, name: str) -> list[str]:
    return {
        "exporters": list(catalog.country_names),
        "importers": list(catalog.country_names),
        "minerals": list(catalog.mineral_labels),
        "stages": list(STAGE_LABELS),
        "sides": list(SIDE_LABELS),
    }[name]


def _notes(counts: pl.DataFrame, options: list[str]) -> dict[str, str]:
    """Each option's note, the options with flows first (largest first, as a facet
    lists them), then the others in their own order, marked (0)."""
    found = {
        value: f" · {flows:,} flows · {usd(total)}"
        for value, flows, total in counts.select("value", "flows", "value_usd").iter_rows()
        if value in options
    }
    return found | {option: " (0)" for option in options if option not in found}


def column_config(view: explorer.View, measure: str) -> dict[str, Any]:
    """Headers people read, and numbers the browser formats (still sortable)."""
    formats = {
        "value_usd_m": "%,.3f",
        "tonnes": "%,.1f",
        "unit_value_usd_per_kg": "%,.2f",
        "share_pct": "%.2f",
        "change_pct": "%+.1f",
        "flows": "%,d",
    }
    config: dict[str, Any] = {}
    for column in view.rows.columns:
        header = explorer.HEADERS.get(column, column)
        if column in formats:
            config[column] = st.column_config.NumberColumn(header, format=formats[column])
        elif view.pivoted and view.rows.schema[column].is_numeric():
            fmt = formats[explorer.MEASURE_COLUMNS[measure]]
            config[column] = st.column_config.NumberColumn(column, format=fmt)
        else:
            config[column] = st.column_config.TextColumn(header)
    return config


def shown_rows(view: explorer.View) -> pl.DataFrame:
    """The rows the page's table shows: a grouped result whole (its last row is the total),
    the flat list of flows its first SHOWN_ROWS."""
    return view.rows if view.grouped else view.rows.head(SHOWN_ROWS)


def table(view: explorer.View, state: State) -> None:
    rows = shown_rows(view)
    height = min(480, 35 * (rows.height + 1) + 3)  # no empty lines under short tables
    tables.show(rows, height=height, column_config=column_config(view, state.measure))


def chart(view: explorer.View) -> charts.Chart | None:
    """Draw the view's chart; return it (for its SVG download)."""
    ask = view.chart
    if ask is None:
        return None
    fmt = ",.3~f" if ask.y != "flows" else ",d"
    if ask.kind == "lines":
        drawn = charts.lines(
            ask.data, ask.y, ask.color, ask.title, ask.y_title, fmt, color_title=ask.color_title
        )
    elif ask.kind == "stacked" or ask.x == "year":
        drawn = charts.stacked_bars(
            ask.data, ask.y, ask.x, ask.color, ask.title, ask.y_title, fmt, ask.color_title
        )
    else:
        drawn = charts.bars(ask.data, ask.y, ask.x, ask.title, ask.y_title, fmt)
    charts.show(drawn)
    st.caption(
        " ".join(
            filter(
                None,
                [
                    ask.note,
                    "Save the chart as PNG from its toolbar (top right, on hover), or as "
                    "SVG with the button under the table.",
                ],
            )
        )
    )
    return drawn


def in_words(view: explorer.View) -> None:
    st.markdown(f"**The question in words:** {view.card.in_words}.")


def query_card(view: explorer.View, link: str) -> None:
    """The analysis in words, its link, the data it read, and the SQL that ran."""
    card = view.card
    with st.container(border=True):
        st.markdown("**Query card**")
        st.markdown(f"{card.in_words[0].upper()}{card.in_words[1:]}.")
        st.markdown("**Data:** " + "; ".join(card.data) + ".")
        st.caption("A link to this analysis, to send a colleague (the address bar holds the same):")
        st.code(link, language=None, wrap_lines=True)
        if card.sql:
            with st.expander(f"The SQL that ran ({card.query}.sql, read-only)"):
                st.caption(
                    "DuckDB SQL over critmin's views, with the values the app binds as "
                    "parameters written in: paste it into the SQL box (if switched on) or "
                    "into DuckDB next to the warehouse to get the same rows."
                )
                st.code(card.sql, language="sql", wrap_lines=True)


def sql_box(db: Database) -> None:
    """For people who write SQL, when switched on (CRITMIN_SQL_BOX=1): a read-only
    SELECT over the app's views, under the statement guard, the timeout and the cap."""
    settings = load_settings()
    if not settings.sql_box:
        return
    with st.expander("Write SQL (read-only)"):
        st.caption(
            "One SELECT over the views trade_flows, mineral_flows, countries, "
            "mineral_baskets, production, deposits, events, products. No files, no "
            f"settings; stopped after {settings.query_timeout_s:g} s; at most "
            f"{settings.row_cap:,} rows."
        )
        with st.form("explorer:sql_form"):
            text = st.text_area(
                "SQL",
                "SELECT importer, sum(value_usd) / 1e6 AS usd_m\nFROM mineral_flows\n"
                "WHERE exporter = 'KAZ' AND mineral = 'gallium'\nGROUP BY ALL\n"
                "ORDER BY usd_m DESC",
                height=160,
                key="explorer:sql",
            )
            ran = st.form_submit_button("Run")
        if ran and text.strip():
            _run_sql(db, text)


def _run_sql(db: Database, text: str) -> None:
    try:
        result = db.user_query(text)
    except (ForbiddenStatement, QueryTimeout) as error:
        st.error(f"Not run: {error}")
        return
    except duckdb.Error as error:
        st.error(f"DuckDB: {str(error).strip().splitlines()[0]}")
        return
    tables.show(result.frame, height=320)
    st.caption(
        f"{result.frame.height:,} rows"
        + (f" (the first {result.frame.height:,}: the row cap)" if result.truncated else "")
    )


def share_link() -> str:
    """The address of this analysis (the page and every field of its URL)."""
    page = (st.context.url or "").rstrip("/")
    if not page.endswith(f"/{PAGE}"):
        page = f"{page}/{PAGE}"
    query = {k: st.query_params.get(k, "") for k in st.query_params}
    return page + "?" + urlencode(query, safe=",")
