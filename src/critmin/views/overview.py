"""Overview: a country's critical-mineral exports at a glance: headline figures, exports
by mineral over time, the value chain (ore, intermediate, refined; waste and scrap
apart), share of world exports and rank per mineral, top destinations, and USGS
production and reserves."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from critmin import metrics, queries
from critmin.catalog import STAGE_LABELS, Catalog
from critmin.db import Database
from critmin.filters import TradeFilter
from critmin.views.common import musd, thousands

TOP_MINERALS = 10  # bands of the stacked chart; the rest are "Other minerals"
OTHER = "Other minerals"
PROCESSED = ("intermediate", "refined")
# The primary value chain; waste and scrap is secondary material, left out of the share.
PRIMARY = ("ore", *PROCESSED)
UNSTAGED = "Codes chosen directly"


@dataclass(frozen=True)
class State:
    country: str
    year_from: int
    year_to: int


@dataclass(frozen=True)
class Headline:
    latest_usd: float
    change: float | None  # on the year before, as a fraction
    cagr: float | None
    first_year: int
    top_partner: str | None
    top_share: float | None
    minerals_exported: int  # each code counted once (see minerals_exported)
    shared: tuple[str, ...]  # the groups of minerals counted once through a shared code


@dataclass(frozen=True)
class View:
    name: str
    side: str
    headline: Headline | None  # None: no exports in the window
    by_mineral: pl.DataFrame  # year, mineral, value_musd (stackable: each flow once)
    stages: pl.DataFrame  # year, stage (label), value_musd, share
    processed: pl.DataFrame  # year, processed_share (intermediate + refined, of ore + both)
    world: pl.DataFrame  # Mineral, Exports (USD), World share %, Rank, Shared code
    destinations: pl.DataFrame  # Partner, USD million (top 8, last year)
    production: pl.DataFrame  # commodity, statistic, unit, <years> (text, flags kept)
    # Past the last reconciled year: the total of every mineral (each flow once) from
    # the last reconciled year on, provisional after it (year, value_musd, basis).
    provisional: pl.DataFrame = field(default_factory=pl.DataFrame)
    provisional_note: str | None = None


def trade_filter(catalog: Catalog, state: State) -> TradeFilter:
    return TradeFilter(
        minerals=tuple(catalog.mineral_labels),
        codes=(),
        year_from=state.year_from,
        year_to=state.year_to,
        sides=(catalog.default_side(),),
        exporters=(state.country,),
    )


def build(db: Database, catalog: Catalog, state: State) -> View:
    f = trade_filter(catalog, state)
    totals, stages, partners = overview_parts(queries.exports_overview(db, f).frame)
    world = queries.exporters_total(db, f.only(exporters=()).years(state.year_to)).frame
    production = catalog.production((state.country,))
    provisional, provisional_note = provisional_total(db, catalog, state, totals, partners)
    return View(
        name=catalog.country_name(state.country),
        side=f.sides[0],
        headline=headline(catalog, totals, partners, state),
        by_mineral=by_mineral(totals, state.year_to),
        stages=by_stage(stages),
        processed=processed_share(stages),
        world=world_share(catalog, world, state.country),
        destinations=destinations(catalog, partners),
        production=production_table(production),
        provisional=provisional,
        provisional_note=provisional_note,
    )


def provisional_total(
    db: Database, catalog: Catalog, state: State, totals: pl.DataFrame, partners: pl.DataFrame
) -> tuple[pl.DataFrame, str | None]:
    """The provisional years of every mineral together (views.latest.nowcast_for, each
    declaration once), from the chart's own last reconciled total; the partners of that
    year come from this page's own query when its last year is the last reconciled one."""
    from critmin.views.latest import ALL, nowcast_for

    last = catalog.years[1]
    latest = catalog.latest_month()
    if totals.is_empty() or latest is None or latest // 100 <= last:
        return pl.DataFrame(), None
    if state.year_to < last:
        years = ", ".join(str(y) for y in range(last + 1, latest // 100 + 1))
        return pl.DataFrame(), f"Provisional years ({years}) lie past the chosen years."
    reconciled = (
        partners.select(pl.lit(ALL).alias("series"), "partner", "value_usd")
        if state.year_to == last and catalog.default_side() == "reconciled"
        else None
    )
    now = nowcast_for(
        db,
        catalog,
        state.country,
        tuple(catalog.mineral_labels),
        combined=True,
        reconciled=reconciled,
    )
    if now is None:
        return pl.DataFrame(), None
    start = totals.filter(pl.col("year") == last).select(
        pl.lit(last, pl.Int32).alias("year"),
        (pl.col("value_usd").sum() / 1e6).alias("value_musd"),
        pl.lit("reconciled").alias("basis"),
    )
    rest = now.by_series.select(
        pl.col("year").cast(pl.Int32),
        (pl.col("annualised_usd") / 1e6).alias("value_musd"),
        pl.lit("provisional: partners' declarations, annualised").alias("basis"),
    )
    return pl.concat([start, rest]), None


def overview_parts(parts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """exports_overview's rows as the three tables it merges: per year and series (the
    totals), per year and stage, and per partner in the last year."""

    def part(name: str, *columns: str) -> pl.DataFrame:
        return parts.filter(pl.col("part") == name).select("year", *columns)

    return (
        part("series", "series", "value_usd", "quantity_kg", "value_with_quantity_usd", "flows"),
        part("stage", "stage", "value_usd", "quantity_kg"),
        part("partner", "partner", "value_usd", "quantity_kg"),
    )


def headline(
    catalog: Catalog, totals: pl.DataFrame, partners: pl.DataFrame, state: State
) -> Headline | None:
    by_year = totals.group_by("year").agg(pl.col("value_usd").sum()).sort("year")
    if by_year.is_empty():
        return None
    latest = float(by_year.filter(pl.col("year") == state.year_to)["value_usd"].sum())
    previous = float(by_year.filter(pl.col("year") == state.year_to - 1)["value_usd"].sum())
    first_year = int(by_year["year"][0])
    top = (
        partners.group_by("partner")
        .agg(pl.col("value_usd").sum())
        .sort("value_usd", descending=True)
    )
    total = float(top["value_usd"].sum()) if top.height else 0.0
    exported = totals.filter((pl.col("year") == state.year_to) & (pl.col("value_usd") > 0))
    count, shared = minerals_exported(catalog, exported["series"].to_list())
    return Headline(
        latest_usd=latest,
        change=latest / previous - 1 if previous else None,
        cagr=metrics.cagr(float(by_year["value_usd"][0]), latest, state.year_to - first_year),
        first_year=first_year,
        top_partner=str(top["partner"][0]) if top.height else None,
        top_share=float(top["value_usd"][0]) / total if total else None,
        minerals_exported=count,
        shared=shared,
    )


def code_groups(catalog: Catalog) -> pl.DataFrame:
    """Per group of codes as exports_overview names them (the labels of every basket
    holding the code, joined as its SQL joins them): its minerals and codes; `shared`
    when the group has no code of one mineral alone (it counts once for all it holds),
    `holds_other` when one of its codes holds other goods or minerals."""
    loaded = catalog.baskets.filter(pl.col("hs_edition").is_in(list(catalog.editions)))
    per_code = loaded.group_by("hs_edition", "hs6").agg(
        pl.col("label").unique().sort().str.join(", ").alias("series"),
        pl.col("mineral").unique().sort().alias("minerals"),
        pl.col("shared_basket").any().alias("shared"),
    )
    # A group of one mineral is its own when one of its codes holds nothing else (the
    # series adds its codes up: graphite's 250410 and 380110 with the shared 380190).
    return per_code.group_by("series").agg(
        pl.col("minerals").first(),
        pl.col("hs6").unique().sort().alias("codes"),
        (pl.col("shared").all() | (pl.col("minerals").first().list.len() > 1)).alias("shared"),
        (pl.col("shared").any() | (pl.col("minerals").first().list.len() > 1)).alias("holds_other"),
    )


def minerals_exported(catalog: Catalog, series: list[str]) -> tuple[int, tuple[str, ...]]:
    """How many minerals the exported groups of codes (`series`) stand for, each code
    counted once: a mineral with a code of its own counts once; a code shared by
    several minerals (811292: gallium, germanium, indium, niobium, vanadium) or with
    other goods (283329, other sulphates) counts once for all it holds, unless each of
    them is counted already. Returns the count and the groups counted through a shared
    code."""
    groups = code_groups(catalog).filter(pl.col("series").is_in(series))
    own: set[str] = set()
    for minerals, shared in groups.select("minerals", "shared").iter_rows():
        if not shared:
            own.update(minerals)
    counted = tuple(
        sorted(
            label
            for label, minerals, shared in groups.select("series", "minerals", "shared").iter_rows()
            if shared and not set(minerals) <= own
        )
    )
    return len(own) + len(counted), counted


def by_mineral(totals: pl.DataFrame, last_year: int) -> pl.DataFrame:
    """The largest groups of baskets in the last year as their own bands, the rest as
    "Other minerals". Each flow is counted once, so the bands add up to the total."""
    latest = totals.filter(pl.col("year") == last_year).sort("value_usd", descending=True)
    leaders = latest["series"].head(TOP_MINERALS).to_list()
    named = pl.when(pl.col("series").is_in(leaders)).then(pl.col("series")).otherwise(pl.lit(OTHER))
    order = {series: i for i, series in enumerate([*leaders, OTHER])}
    return (
        totals.group_by("year", named.alias("mineral"))
        .agg(pl.col("value_usd").sum())
        .with_columns(musd(), pl.col("mineral").replace_strict(order, default=99).alias("order"))
        .sort("order", "year")
    )


def by_stage(stages: pl.DataFrame) -> pl.DataFrame:
    labelled = stages.with_columns(
        pl.col("stage").replace_strict(STAGE_LABELS, default=pl.lit(UNSTAGED)).alias("stage"),
        pl.col("stage")
        .replace_strict({"ore": 0, "intermediate": 1, "refined": 2, "scrap": 3}, default=4)
        .alias("order"),
    )
    return (
        metrics.with_shares(labelled, "value_usd", ["year"])
        .with_columns(musd())
        .sort("year", "order")
    )


def processed_share(stages: pl.DataFrame) -> pl.DataFrame:
    """Per year, the share of the primary chain's export value that is processed
    (intermediate plus refined products) rather than ore and concentrates. Waste and
    scrap is not a step of that chain (a country exporting scrap has not moved up from
    ore), so it is in neither part of the share."""
    value = pl.col("value_usd")
    return (
        stages.group_by("year")
        .agg(
            value.filter(pl.col("stage").is_in(list(PROCESSED))).sum().alias("processed"),
            value.filter(pl.col("stage").is_in(list(PRIMARY))).sum().alias("total"),
        )
        .filter(pl.col("total") > 0)
        .with_columns((pl.col("processed") / pl.col("total")).alias("processed_share"))
        .sort("year")
    )


def world_share(catalog: Catalog, world: pl.DataFrame, country: str) -> pl.DataFrame:
    """The country's exports, world share and rank in the last year per group of codes:
    a mineral with codes of its own is its own row; minerals that share a code
    (811292: gallium, germanium, indium, niobium, vanadium) are one row for it, so no
    flow is counted twice, and a row that counts a shared code says what else it holds.
    `world` is exporters_total's rows (each flow once, per group)."""
    ranked = metrics.with_rank(
        metrics.with_shares(world, "value_usd", ["series"]), "value_usd", ["series"]
    )
    groups = code_groups(catalog)
    notes = {
        label: group_note(catalog, minerals, codes) if other else None
        for label, minerals, codes, other in groups.select(
            "series", "minerals", "codes", "holds_other"
        ).iter_rows()
    }
    return (
        ranked.filter(pl.col("exporter") == country)
        .select(
            pl.col("series").alias("Mineral"),
            pl.col("value_usd").alias("Exports (USD)"),
            (pl.col("share") * 100).round(2).alias("World share %"),
            pl.col("rank").alias("Rank among exporters"),
            pl.col("series")
            .replace_strict(notes, default=None, return_dtype=pl.String)
            .alias("Shared code"),
        )
        .sort("World share %", descending=True)
    )


def group_note(catalog: Catalog, minerals: list[str], codes: list[str]) -> str | None:
    """Beside a group's figure: what else its codes hold. A group of several minerals is
    one figure because they share its codes: the note names them."""
    if len(minerals) == 1:
        return catalog.shared_note(minerals, codes)
    said = f"One code for all of them: HS {', '.join(sorted(codes))}"
    other = catalog.shared_note(minerals, codes, minerals_only=True)
    return f"{said}; {other}" if other else said


def destinations(catalog: Catalog, partners: pl.DataFrame, top: int = 8) -> pl.DataFrame:
    return (
        partners.group_by("partner")
        .agg(pl.col("value_usd").sum())
        .sort("value_usd", descending=True)
        .head(top)
        .select(catalog.country("partner", "Partner"), musd(alias="USD million"))
    )


def production_table(production: pl.DataFrame) -> pl.DataFrame:
    """The last two years of USGS figures as text, flags (W, NA, ...) where no value.
    A statistic the MCS gives twice for one year (US natural mica: scrap and flake, and
    sheet, told apart only in the notes) shows both figures, "633 / 4,850", rather
    than one picked at random."""
    if production.is_empty():
        return production
    years = sorted(set(production["year"].to_list()))[-2:]
    return (
        production.filter(pl.col("year").is_in(years))
        # The query's rows come in no order; this one makes the rows, and the order of
        # a repeated statistic's figures, the same at every visit.
        .sort("commodity", "statistic", "unit", "year", "value", nulls_last=True)
        .with_columns(
            pl.when(pl.col("value").is_not_null())
            .then(thousands(pl.col("value")))
            .otherwise(pl.col("value_flag"))
            .alias("shown"),
            pl.col("year").cast(pl.String),
        )
        .pivot(
            on="year",
            index=["commodity", "statistic", "unit"],
            values="shown",
            aggregate_function=pl.element().str.join(" / "),
        )
        .select("commodity", "statistic", "unit", *(str(y) for y in years))
    )
