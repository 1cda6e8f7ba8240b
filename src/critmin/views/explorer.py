"""Data explorer: ad-hoc questions about the flows, for people who do not write SQL.

Filter the flows (exporters, importers, chosen minerals or all of them, stages, codes,
years, declarations), then list them (each flow once, sorted in SQL before the row
cap), or group and sum them by any of `filters.DIMENSIONS` as rows and, for a pivot,
one more as columns: value, tonnes, unit value, share of the total and change on the
previous year, with the totals, all computed in DuckDB (`queries/sql/flows_grouped.sql`)
before the row cap. A facet counts, for one filter, what each of its values would
match under the other filters (`flows_facet.sql`). The view also says what it asked:
in words, the warehouse's release, and the SQL that ran with its values.

Names are what people know (countries by name with ISO3 beside, minerals by label,
HS6 with its text in the row's edition); values are in USD millions and quantities
in tonnes. What the table shows is what the downloads hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from critmin import __version__, queries
from critmin.catalog import STAGE_LABELS, Catalog
from critmin.db import Database, QueryResult
from critmin.domain import PARTNER_GROUPS, SIDE_LABELS
from critmin.filters import DIMENSIONS, FACETS, Grouping, Sort, TradeFilter
from critmin.sqltext import literal

SORTS = {
    "year": "Year",
    "value_usd": "Value",
    "quantity_kg": "Tonnes",
    "unit_value_usd_per_kg": "Unit value (USD/kg)",
    "exporter": "Exporter",
    "importer": "Importer",
    "hs6": "HS6 code",
}
ORDERS = {"desc": "Largest first", "asc": "Smallest first"}
ALL_MINERALS = "all"
PRODUCTS = {"chosen": "Minerals chosen below", ALL_MINERALS: "All minerals"}
DIMENSION_LABELS = {
    "year": "Year",
    "exporter": "Exporter",
    "importer": "Importer (partner)",
    "partner_group": "Partner group",
    "mineral": "Mineral",
    "stage": "Value-chain stage",
    "hs6": "HS6 code",
    "side": "Declaration",
    "source": "Source",
}
NO_PIVOT = "none"
ACROSS = {NO_PIVOT: "No columns", **DIMENSION_LABELS}
MEASURES = {
    "value": "Value (USD m)",
    "tonnes": "Tonnes",
    "unit_value": "Unit value (USD/kg)",
    "share": "Share of the total (%)",
    "change": "Change on the previous year (%)",
    "flows": "Flows",
}
# Measures whose rows add up (a stacked chart shows their total).
ADDITIVE = ("value", "tonnes", "flows")
CHARTS = {
    "auto": "Chosen for the grouping",
    "bars": "Bars",
    "lines": "Lines over the years",
    "stacked": "Stacked bars",
    "none": "No chart",
}
SOURCE_LABELS = {"baci": "CEPII BACI", "comtrade": "UN Comtrade", "demo": "Synthetic (demo)"}
TOTAL = "Total"
MAX_ROW_DIMENSIONS = 3
# A pivot with more columns than this is shown as a list instead (a table too wide to
# read); the chart keeps the largest series.
MAX_PIVOT_COLUMNS = 30
CHART_SERIES = 10
CHART_BARS = 30
EXCEL_CELL = 32_767
# The grouped result's measure columns, as the table and the downloads hold them.
MEASURE_COLUMNS = {
    "value": "value_usd_m",
    "tonnes": "tonnes",
    "unit_value": "unit_value_usd_per_kg",
    "share": "share_pct",
    "change": "change_pct",
    "flows": "flows",
}
# The flat list's columns, in this order.
COLUMNS = (
    "year",
    "exporter",
    "importer",
    "minerals",
    "value_usd_m",
    "tonnes",
    "unit_value_usd_per_kg",
    "hs6",
    "description",
    "hs_edition",
    "exporter_iso3",
    "importer_iso3",
    "side",
    "source",
    "release",
)
# Headers the table shows for the columns it holds (downloads keep the column names).
HEADERS = {
    "year": "Year",
    "exporter": "Exporter",
    "exporter_iso3": "ISO3",
    "importer": "Importer",
    "importer_iso3": "ISO3 ",
    "partner_group": "Partner group",
    "minerals": "Minerals",
    "mineral": "Mineral",
    "stage": "Stage",
    "hs6": "HS6",
    "description": "HS6 text (its edition)",
    "hs_edition": "Edition",
    "value_usd_m": "Value (USD m)",
    "tonnes": "Tonnes",
    "unit_value_usd_per_kg": "USD/kg",
    "share_pct": "Share (%)",
    "change_pct": "Change (%)",
    "flows": "Flows",
    "tonnes_note": "Tonnes not added",
    "side": "Declaration",
    "source": "Source",
    "release": "Release",
}
_STAGE_BITS = {1: "ore", 2: "intermediate", 4: "refined", 8: "codes chosen directly"}


@dataclass(frozen=True)
class State:
    exporters: tuple[str, ...]
    importers: tuple[str, ...]
    minerals: tuple[str, ...]
    codes: tuple[str, ...]
    year_from: int
    year_to: int
    sides: tuple[str, ...]
    sort: str
    order: str
    stages: tuple[str, ...] = ()
    products: str = "chosen"  # PRODUCTS: the minerals chosen, or every mineral
    group: tuple[str, ...] = ()  # DIMENSIONS of the rows; () lists the flows
    across: str = NO_PIVOT  # the pivot's columns
    measure: str = "value"  # MEASURES: the pivot's cells and the chart's values
    chart: str = "auto"  # CHARTS

    def products_of(self, catalog: Catalog) -> tuple[str, ...]:
        """The minerals asked for: every mineral of the catalog under "All minerals"."""
        return tuple(catalog.mineral_labels) if self.products == ALL_MINERALS else self.minerals

    def trade_filter(self, catalog: Catalog) -> TradeFilter:
        return TradeFilter(
            self.products_of(catalog),
            self.codes,
            self.year_from,
            self.year_to,
            sides=self.sides,
            exporters=self.exporters,
            importers=self.importers,
            stages=self.stages,
        )

    def grouping(self, catalog: Catalog) -> Grouping | None:
        """The rows' and columns' dimensions; None for the list of flows. Columns that
        repeat a row dimension are left out (`notes` says so)."""
        rows = tuple(d for d in self.group if d in DIMENSIONS)[:MAX_ROW_DIMENSIONS]
        if not rows:
            return None
        across = self.across if self.across in DIMENSIONS and self.across not in rows else ""
        return Grouping(rows, across, partner_groups(catalog))


@dataclass(frozen=True)
class ChartAsk:
    """What the chart draws (ui/charts.py draws it): `kind` is bars, lines or stacked;
    `x` the category or "year", `color` the series (None for one), `y` the measure's
    column in `data`."""

    kind: str
    data: pl.DataFrame
    x: str
    color: str | None
    y: str
    title: str
    y_title: str
    note: str = ""
    color_title: str = "Series"


@dataclass(frozen=True)
class QueryCard:
    """The analysis in words, the data it read, and the SQL that ran."""

    in_words: str
    data: tuple[str, ...]  # one line per trade release, and the warehouse's version
    query: str  # the .sql file
    sql: str  # the statement that ran, its bound values written in (runnable as is)
    params: dict[str, Any]


@dataclass(frozen=True)
class View:
    rows: pl.DataFrame  # what the table shows and the downloads hold
    truncated: bool
    grouped: bool
    pivoted: bool
    card: QueryCard
    chart: ChartAsk | None
    notes: tuple[str, ...]  # what a reader must know about these figures
    sources: pl.DataFrame  # the provenance of what the table reads (the Excel's 2nd sheet)


def partner_groups(catalog: Catalog) -> tuple[tuple[str, str], ...]:
    """Each partner's group, as on the Partners page: the first group holding it."""
    mapping: dict[str, str] = {}
    for group, members in PARTNER_GROUPS.items():
        for iso3 in members or catalog.country_groups.get(group, ()):
            mapping.setdefault(iso3, group)
    return tuple(sorted(mapping.items()))


def build(db: Database, catalog: Catalog, state: State, limit: int | None = None) -> View:
    f = state.trade_filter(catalog)
    grouping = state.grouping(catalog)
    notes: list[str] = []
    if state.across != NO_PIVOT and grouping is not None and not grouping.across:
        notes.append(f"{ACROSS[state.across]} is already a row, so the table has no columns of it.")
    sort = Sort(state.sort, descending=state.order == "desc")
    if not f.has_products:
        result = QueryResult(pl.DataFrame(), False, "flows_explorer")
        rows = pl.DataFrame()
    elif grouping is None:
        result = queries.flows_explorer(db, f, sort, limit)
        rows = flat_rows(catalog, result.frame)
    else:
        result = queries.flows_grouped(db, f, grouping, _grouped_sort(sort), limit)
        rows = pl.DataFrame()
    chart = None
    pivoted = False
    if (
        grouping is not None
        and "part" in result.frame.columns
        and result.frame.filter(pl.col("part") == 3).is_empty()
    ):
        result = replace(result, frame=pl.DataFrame())  # no flows: only an empty total
    if grouping is not None and not result.frame.is_empty():
        named = name_rows(catalog, result.frame, grouping)
        rows, pivoted = grouped_rows(named, grouping, state)
        if grouping.across and not pivoted:
            notes.append(
                f"{ACROSS[grouping.across]} has more than {MAX_PIVOT_COLUMNS} values: the table "
                "lists them as rows instead of columns. Narrow the filters to pivot it."
            )
        notes.extend(grouped_notes(named, grouping, state))
        chart = chart_for(named, grouping, state)
        if chart is None and state.chart != "none":
            notes.append(
                "No chart for this grouping (three dimensions, or a measure that does not "
                "add up across two): the table holds the figures."
            )
    card = QueryCard(
        in_words(catalog, state),
        data_lines(db),
        result.query,
        runnable_sql(result.sql, result.params),
        result.params,
    )
    return View(
        rows,
        result.truncated,
        grouping is not None,
        pivoted,
        card,
        chart,
        tuple(notes),
        sources(db),
    )


# --- the list of flows ----------------------------------------------------------------


def flat_rows(catalog: Catalog, flows: pl.DataFrame) -> pl.DataFrame:
    """flows_explorer's rows with names, USD millions and tonnes (COLUMNS)."""
    return flows.with_columns(
        pl.col("exporter").alias("exporter_iso3"),
        pl.col("importer").alias("importer_iso3"),
        catalog.country("exporter"),
        catalog.country("importer"),
        pl.col("series").alias("minerals"),
        (pl.col("value_usd") / 1e6).alias("value_usd_m"),
        (pl.col("quantity_kg") / 1000).alias("tonnes"),
        pl.col("side").replace_strict(SIDE_LABELS, default=pl.col("side")),
        pl.col("source").replace_strict(SOURCE_LABELS, default=pl.col("source")),
    ).select(COLUMNS)


# --- grouped rows -----------------------------------------------------------------------


def _grouped_sort(sort: Sort) -> Sort:
    """The explorer's sort choices as flows_grouped's columns."""
    column = {"quantity_kg": "tonnes"}.get(sort.column, sort.column)
    return Sort(column, sort.descending)


def _stage_label(stage: pl.Expr) -> pl.Expr:
    return stage.replace_strict(STAGE_LABELS, default=stage)


def name_rows(catalog: Catalog, frame: pl.DataFrame, g: Grouping) -> pl.DataFrame:
    """flows_grouped's rows with each dimension named as people know it (`<dim>`), its
    code beside where useful (`exporter_iso3`, `importer_iso3`, `hs_edition`), the
    pivot's column as `across_label`, values in USD millions, and the stage note."""
    across = pl.col("across")
    by_code = {
        "exporter": catalog.country("across"),
        "importer": catalog.country("across"),
        "mineral": catalog.mineral("across"),
        "stage": _stage_label(across),
        "side": across.replace_strict(SIDE_LABELS, default=across),
        "source": across.replace_strict(SOURCE_LABELS, default=across),
    }
    across_label = by_code.get(g.across, across).alias("across_label")
    return frame.with_columns(
        pl.col("exporter").alias("exporter_iso3"),
        pl.col("importer").alias("importer_iso3"),
        catalog.country("exporter"),
        catalog.country("importer"),
        catalog.mineral("mineral"),
        _stage_label(pl.col("stage")),
        pl.col("side").replace_strict(SIDE_LABELS, default=pl.col("side")),
        pl.col("source").replace_strict(SOURCE_LABELS, default=pl.col("source")),
        across_label,
        (pl.col("value_usd") / 1e6).alias("value_usd_m"),
        _stage_note(pl.col("stages")).fill_null("").alias("tonnes_note"),
    )


def _stage_note(stages: pl.Expr) -> pl.Expr:
    """'ore + refined' where a row mixes value-chain stages (its tonnes are not added)."""
    parts = [
        pl.when((stages & bit) > 0).then(pl.lit(name)).otherwise(None)
        for bit, name in _STAGE_BITS.items()
    ]
    mixed = pl.concat_str(parts, separator=" + ", ignore_nulls=True)
    return pl.when(stages.is_not_null() & ((stages & (stages - 1)) != 0)).then(mixed)


def _dimension_columns(g: Grouping, dimensions: tuple[str, ...]) -> list[str]:
    columns: list[str] = []
    for d in dimensions:
        columns += {
            "exporter": ["exporter", "exporter_iso3"],
            "importer": ["importer", "importer_iso3"],
            "hs6": ["hs6", "description", "hs_edition"],
        }.get(d, [d])
    return columns


def grouped_rows(named: pl.DataFrame, g: Grouping, state: State) -> tuple[pl.DataFrame, bool]:
    """The table of a grouped result, totals row last: a list (one row per group, every
    measure) or, with columns asked and at most MAX_PIVOT_COLUMNS of them, a pivot of
    the chosen measure with a Total column and a Total row."""
    measures = list(MEASURE_COLUMNS.values()) + ["tonnes_note"]
    dims = _dimension_columns(g, g.rows)
    label = dims[0]
    detail = named.filter(pl.col("part") == 3)
    if "year" in g.rows:
        detail = detail.with_columns(pl.col("year").cast(pl.String))
    if g.rows[0] == "year":  # years in order; within a year, the order asked
        detail = detail.sort("year", maintain_order=True)
    columns = sorted(set(detail["across_label"].drop_nulls().to_list())) if g.across else []
    if not g.across or len(columns) > MAX_PIVOT_COLUMNS:
        keep = dims + (["across_label"] if g.across else []) + measures
        total = named.filter(pl.col("part") == 0).select(
            pl.lit(TOTAL).alias(label), *[pl.col(m) for m in measures]
        )
        body = detail.select(keep)
        return pl.concat([body, total], how="diagonal_relaxed").rename(
            {"across_label": DIMENSION_LABELS[g.across]} if g.across else {}
        ), False
    value = MEASURE_COLUMNS[state.measure]
    if g.across == "year":
        columns = sorted(columns)
    else:  # largest column first
        order = named.filter(pl.col("part") == 1).sort("value_usd", descending=True)
        columns = [c for c in order["across_label"].to_list() if c in columns]
    cells = detail.pivot(
        "across_label", index=dims, values=value, aggregate_function=None, sort_columns=False
    )
    # One row per row total, in the order asked (the totals are sorted like the rows).
    row_totals = named.filter(pl.col("part") == 2)
    if "year" in g.rows:
        row_totals = row_totals.with_columns(pl.col("year").cast(pl.String))
        if g.rows[0] == "year":
            row_totals = row_totals.sort("year", maintain_order=True)
    wide = row_totals.select(*dims, pl.col(value).alias(TOTAL)).join(
        cells, on=dims, how="left", nulls_equal=True, maintain_order="left"
    )
    totals = named.filter(pl.col("part").is_in([0, 1]))
    total_row = {label: TOTAL}
    for across_label, part, cell in totals.select("across_label", "part", value).iter_rows():
        total_row[TOTAL if part == 0 else str(across_label)] = cell
    last = pl.DataFrame([total_row], schema_overrides={label: pl.String})
    table = pl.concat([wide, last], how="diagonal_relaxed")
    return table.select(*dims, *[c for c in columns if c in table.columns], TOTAL), True


def grouped_notes(named: pl.DataFrame, g: Grouping, state: State) -> list[str]:
    notes = []
    mixed = named.filter(pl.col("tonnes_note") != "")
    shows_tonnes = not g.across or state.measure in ("tonnes", "unit_value")
    if mixed.height and shows_tonnes:
        notes.append(
            "Tonnes are added only within one value-chain stage: a tonne of ore is not a "
            f"tonne of refined metal. {mixed.height:,} row(s) mix stages (see “Tonnes not "
            "added”), so they show no tonnes and no unit value; group by stage to see them."
        )
    if g.per_mineral:
        notes.append(
            "A code held by several minerals' baskets (811292: gallium, germanium, indium, "
            "niobium, vanadium) counts under each mineral; every total across minerals "
            "counts it once, so the minerals' rows can add up to more than the total."
        )
    if "year" not in g.dimensions:
        previous = state.year_to - 1
        notes.append(
            f"Change: {state.year_to} on {previous}"
            + ("" if previous >= state.year_from else " (not in the years chosen: none shown)")
            + "."
        )
    return notes


# --- the chart ------------------------------------------------------------------------


def chart_kinds(g: Grouping | None, measure: str) -> tuple[str, ...]:
    """The charts a grouping allows, the usual one first: stacked bars for a pivot,
    lines over the years, bars for one dimension. Stacked bars only for measures that
    add up; no chart for three dimensions."""
    if g is None or len(g.dimensions) > 2:
        return ()
    two, additive = len(g.dimensions) == 2, measure in ADDITIVE
    if "year" in g.dimensions:
        if not two:
            return ("lines", "bars")
        if not additive:
            return ("lines",)
        return ("stacked", "lines") if g.across else ("lines", "stacked")
    if not two:
        return ("bars",)
    return ("stacked",) if additive else ()


def chart_for(named: pl.DataFrame, g: Grouping, state: State) -> ChartAsk | None:
    kinds = chart_kinds(g, state.measure)
    if state.chart == "none" or not kinds:
        return None
    kind = state.chart if state.chart in kinds else kinds[0]
    note = (
        "" if state.chart in ("auto", kind) else f"{CHARTS[state.chart]} do not fit this grouping."
    )
    y = MEASURE_COLUMNS[state.measure]
    rows = named.filter(pl.col("part") == 3)
    labels = {d: d for d in g.rows} | ({g.across: "across_label"} if g.across else {})
    others = [labels[d] for d in g.dimensions if d != "year"]
    if "year" in g.dimensions:
        year = pl.col("year") if "year" in g.rows else pl.col("across").cast(pl.Int32)
        x, color = "year", (others[0] if others else None)
        rows = rows.with_columns(year.alias("year"))
    else:
        x, color = others[0], (others[1] if len(others) > 1 else None)
    if color is not None:
        rows, dropped = _largest(rows, color, CHART_SERIES)
    elif x != "year":
        rows, dropped = _largest(rows, x, CHART_BARS)
    else:
        dropped = False
    if dropped:
        note = (note + " " if note else "") + (
            f"The chart shows the {CHART_SERIES if color else CHART_BARS} largest; "
            "the table has all."
        )
    title = f"{MEASURES[state.measure]} by " + " and ".join(
        DIMENSION_LABELS[d].lower() for d in g.dimensions
    )
    colored = [d for d in g.dimensions if d != "year"][1 if "year" not in g.dimensions else 0 :]
    color_title = DIMENSION_LABELS[colored[0]] if color is not None and colored else "Series"
    return ChartAsk(kind, rows, x, color, y, title, MEASURES[state.measure], note, color_title)


def _largest(rows: pl.DataFrame, column: str, keep: int) -> tuple[pl.DataFrame, bool]:
    """The rows of the `keep` largest values of `column` (by total value), for a chart."""
    ranked = rows.group_by(column).agg(pl.col("value_usd").sum()).sort("value_usd", descending=True)
    top = ranked.head(keep)[column]
    return rows.filter(pl.col(column).is_in(top.implode())), ranked.height > keep


# --- facets ---------------------------------------------------------------------------

# facet -> the State field it counts
FACET_FIELDS = {
    "exporter": "exporters",
    "importer": "importers",
    "mineral": "minerals",
    "stage": "stages",
    "side": "sides",
}


@dataclass(frozen=True)
class FacetAsk:
    """One facet: a filter (`facet`, one of filters.FACETS) and the other filters."""

    facet: str
    trade: TradeFilter


def facet_asks(catalog: Catalog, state: State) -> dict[str, FacetAsk]:
    """Per State field, the facet that counts its values under the other filters: the
    field's own filter left out. Minerals count every basket (codes left out)."""
    f = state.trade_filter(catalog)
    asks = {}
    for facet in FACETS:
        field = FACET_FIELDS[facet]
        if facet == "mineral":
            trade = f.only(minerals=tuple(catalog.mineral_labels), codes=())
        else:
            trade = f.only(**{field: ()})
        asks[field] = FacetAsk(facet, trade)
    return asks


def facets(db: Database, catalog: Catalog, state: State) -> dict[str, pl.DataFrame]:
    """Every filter's counts, as the sidebar asks them (one query, cached, per filter)."""
    return {name: facet(db, catalog, ask) for name, ask in facet_asks(catalog, state).items()}


def facet(db: Database, catalog: Catalog, ask: FacetAsk) -> pl.DataFrame:
    """value, flows, value_usd: what each value of the facet matches (only those with
    flows); empty when the other filters name no product."""
    if not ask.trade.has_products:
        return pl.DataFrame(schema={"value": pl.String, "flows": pl.Int64, "value_usd": pl.Float64})
    return queries.flows_facet(db, ask.trade, ask.facet).frame


# --- what was asked ---------------------------------------------------------------------


def in_words(catalog: Catalog, state: State) -> str:
    def names(items: tuple[str, ...], anything: str) -> str:
        return ", ".join(catalog.country_name(i) for i in items) if items else anything

    if state.products == ALL_MINERALS:
        products = ["all minerals"] + [f"HS {c}" for c in state.codes]
    else:
        products = [catalog.mineral_label(m) for m in state.minerals]
        products += [f"HS {c}" for c in state.codes]
    stages = (
        " (" + ", ".join(STAGE_LABELS[s].split(" (")[0].lower() for s in state.stages) + " only)"
        if state.stages
        else ""
    )
    sides = ", ".join(SIDE_LABELS[s] for s in state.sides) if state.sides else "any side"
    years = (
        str(state.year_from)
        if state.year_from == state.year_to
        else f"{state.year_from}–{state.year_to}"
    )
    text = (
        f"flows of **{', '.join(products) or 'no product'}**{stages} exported by "
        f"**{names(state.exporters, 'any country')}** to "
        f"**{names(state.importers, 'any country')}** in **{years}**, declared as **{sides}**"
    )
    grouping = state.grouping(catalog)
    if grouping is None:
        return (
            f"{text}; each flow listed once, sorted by {SORTS[state.sort].lower()}, "
            f"{'largest' if state.order == 'desc' else 'smallest'} first"
        )
    rows = " and ".join(f"**{DIMENSION_LABELS[d].lower()}**" for d in grouping.rows)
    text = f"{text}; summed by {rows}"
    if grouping.across:
        text += (
            f", with **{DIMENSION_LABELS[grouping.across].lower()}** as columns "
            f"({MEASURES[state.measure]})"
        )
    return text + ", with the total"


def data_lines(db: Database) -> tuple[str, ...]:
    """The trade releases the flows come from and the warehouse's version."""
    manifest = db.warehouse.manifest()
    parts = manifest.get("tables", {}).get("trade_flows", {}).get("parts", {})
    lines = []
    for part in sorted(parts.values(), key=lambda p: (p.get("source", ""), p.get("release", ""))):
        years = part.get("years") or []
        span = f", {min(years)}–{max(years)}" if years else ""
        source = SOURCE_LABELS.get(part.get("source", ""), part.get("source", ""))
        lines.append(
            f"{source}, release {part.get('release', '?')}{span} "
            f"({part.get('rows', 0):,} flows, built {part.get('built_at', '?')})"
        )
    lines.append(f"Warehouse version {manifest.get('updated_at', '?')}; critmin {__version__}")
    return tuple(lines)


def sources(db: Database) -> pl.DataFrame:
    """The provenance records of the tables the explorer reads: the trade flows and the
    reference tables (baskets, countries, HS texts)."""
    records = [
        p
        for p in db.warehouse.manifest().get("provenance", [])
        if p.get("table") in ("trade_flows", "reference", "products")
    ]
    columns = ("source", "release", "version", "licence", "citation", "url")
    return pl.DataFrame(
        [{c: str(r.get(c, "") or "") for c in columns} for r in records],
        schema=dict.fromkeys(columns, pl.String),
    )


def _sql_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_sql_value(v) for v in value) + "]"
    return literal(str(value))


def runnable_sql(sql: str, params: dict[str, Any]) -> str:
    """The statement with its bound values written in as SQL literals (quoted by
    sqltext.literal), to read and to run again: the app itself binds them."""
    if not sql:
        return ""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return _sql_value(params[name]) if name in params else match.group(0)

    return re.sub(r"\$(\w+)\b", value, sql)


def about_sheet(view: View, link: str = "") -> pl.DataFrame:
    """The Excel download's second sheet: the query card and the sources."""
    rows = [("Question", re.sub(r"\*\*", "", view.card.in_words))]
    if link:
        rows.append(("Link", link))
    rows += [("Data", line) for line in view.card.data]
    rows += [("Note", note) for note in view.notes]
    # A spreadsheet cell holds at most 32,767 characters.
    sql = view.card.sql
    rows.append(
        (
            "SQL",
            sql if len(sql) <= EXCEL_CELL else sql[: EXCEL_CELL - 40] + "\n-- (cut: see the app)",
        )
    )
    for r in view.sources.iter_rows(named=True):
        detail = "; ".join(
            f"{k}: {r[k]}" for k in ("release", "version", "licence", "citation", "url") if r[k]
        )
        rows.append((f"Source: {r['source']}", detail))
    return pl.DataFrame(rows, schema={"item": pl.String, "detail": pl.String}, orient="row")
