"""Diversification: how far Kazakhstan and its Central Asian neighbours (C5) could
replace an importer's supply of a mineral from China and/or Russia.

For one importer (a country or the EU27), mineral, year and declaration side it
gives the importer's suppliers and their concentration (HHI, 0-10,000), the shares
from China, Russia and the C5 over time, the gap a chosen share of Chinese and/or
Russian supply leaves, what each C5 country exports to everyone else today (what
could in principle be redirected), and beside it the C5 countries' USGS production
and reserves and, for the United States, the net import reliance of the mineral
(`views.usgs`). Pure: no Streamlit.

The view has one part per section of the page, each built by one step of `build`:
`Imports` (the importer's suppliers, `imports`), `Scenario` (the gap and what the C5
could redirect, `scenario`) and `usgs.Figures` (`usgs.figures`), from the flows that
`trade_flows` reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import metrics, queries
from critmin.catalog import STAGE_LABELS, Catalog
from critmin.db import Database
from critmin.domain import C5, SIDE_LABELS
from critmin.filters import TradeFilter
from critmin.views import usgs
from critmin.views.exact import PRODUCTS
from critmin.views.exact import purchases as exact_purchases

# Whose supply the scenario replaces.
REPLACE_FROM = {"both": "China and Russia", "CHN": "China", "RUS": "Russia"}
REPLACED = {"both": ("CHN", "RUS"), "CHN": ("CHN",), "RUS": ("RUS",)}
DEFAULT_PCT = 50  # of the supply from China and/or Russia to replace
C5_LINE = "Central Asia (C5)"
SHARE_LINES = {"China": ("CHN",), "Russia": ("RUS",)}


@dataclass(frozen=True)
class State:
    importer: str
    mineral: str
    year: int
    side: str
    replace_pct: int
    replace_from: str
    stages: tuple[str, ...] = ()  # value-chain stages of the mineral's codes; () = all

    product: str = "basket"  # or "exact": the importer's exact national lines (views.exact)

    def __post_init__(self) -> None:
        if self.product not in PRODUCTS:
            raise ValueError(f"product must be one of {sorted(PRODUCTS)}")
        if self.replace_from not in REPLACE_FROM:
            raise ValueError(f"replace_from must be one of {sorted(REPLACE_FROM)}")
        if not 0 <= self.replace_pct <= 100:
            raise ValueError("replace_pct is a percentage, 0-100")


@dataclass(frozen=True)
class Imports:
    """What the importer bought: its suppliers in the year and their concentration, and
    the shares from China, Russia and the C5 over time (the page's first part)."""

    no_imports: bool  # nothing bought from outside in the year
    total_usd: float
    total_kg: float | None  # None: no flow reports a quantity
    hhi: float | None  # 0-10,000, of suppliers by value
    band: str | None  # US merger-guidance band of the HHI
    china_share: float | None  # of the year's imports by value, as fractions
    russia_share: float | None
    c5_share: float | None
    suppliers: pl.DataFrame  # Rank, Supplier, Imports (USD), Imports (t), Share %, Share of t %
    shares_over_time: pl.DataFrame  # year, Supplier, share_pct


@dataclass(frozen=True)
class Scenario:
    """The gap a share of the Chinese and/or Russian supply leaves, what each C5 source
    could redirect to fill it, and the chart and download of it (the second part)."""

    gap_usd: float
    gap_kg: float | None
    redirect: pl.DataFrame  # one row per C5 source (see REDIRECT_COLUMNS)
    redirect_usd: float  # all C5 sources together
    redirect_kg: float | None
    covers_usd: float | None  # share of the gap they could cover together (capped at 1)
    covers_kg: float | None  # None unless the mineral's codes are all of one stage
    covers: float | None  # the headline share: always by value (see tonnes_note)
    covers_by: str  # "by value"
    tonnes_note: str | None  # why tonnes are not shown (the codes span several stages)
    c5_exports: bool  # any C5 source exported the mineral in the year
    chart: pl.DataFrame  # Source, USD million, Tonnes: the gap and each C5 source
    download: pl.DataFrame  # the redirect table with the scenario's settings


@dataclass(frozen=True)
class View:
    label: str
    importer: str  # the importer's name
    replaced: str  # "China and Russia"
    gap_label: str  # the gap's bar in the chart
    sources: tuple[str, ...]  # the C5 countries that could supply (not the importer itself)
    imports: Imports  # the importer's suppliers and their shares
    scenario: Scenario  # the gap and what the C5 sources could redirect
    usgs: usgs.Figures  # the C5 sources' production and reserves, the US reliance
    assumptions: tuple[str, ...]
    product_note: str | None = None  # what the exact product is read from, or why not


@dataclass(frozen=True)
class Flows:
    """The trade flows the page reads, tonnes blanked where they do not add up."""

    purchases: pl.DataFrame  # year, supplier, value_usd, quantity_kg: up to the chosen year
    world: pl.DataFrame  # exporter, value_usd, quantity_kg: each C5 source's, in the year
    tonnes_note: str | None  # why tonnes are not shown (the codes span several stages)
    product_note: str | None  # what the exact product is read from, or why not


REDIRECT_COLUMNS = (
    "Country",
    "To the world (USD)",
    "To the world (t)",
    "To the importer (USD)",
    "To the importer (t)",
    "Redirectable (USD)",
    "Redirectable (t)",
    "Covers gap % (t)",
    "Covers gap % (USD)",
)

USD_COLUMNS = ("Imports (USD)", *(c for c in REDIRECT_COLUMNS if c.endswith("(USD)")))
# How tables show the other number columns (Streamlit NumberColumn formats).
NUMBER_FORMATS = {
    # Tonnes to one decimal: BACI quantities are estimates, grams would be false precision.
    **{c: "%.1f" for c in ("Imports (t)", "Value", *REDIRECT_COLUMNS) if c.endswith("(t)")},
    "Value": "localized",
    **{c: "%.1f" for c in ("Share of value %", "Share of tonnes %", *REDIRECT_COLUMNS) if "%" in c},
}
CHART_MEASURES = {"USD million": ",.1f", "Tonnes": ",.0f"}  # with their number formats


def build(db: Database, catalog: Catalog, state: State) -> View:
    members = catalog.members(state.importer)
    sources = tuple(c for c in C5 if c not in members)
    flows = trade_flows(db, catalog, state, members, sources)
    name = catalog.country_name(state.importer)
    replaced = REPLACE_FROM[state.replace_from]
    gap_label = f"Gap ({state.replace_pct}% of {' + '.join(REPLACED[state.replace_from])})"
    return View(
        label=catalog.mineral_label(state.mineral),
        importer=name,
        replaced=replaced,
        gap_label=gap_label,
        sources=sources,
        imports=imports(catalog, flows.purchases, state.year, sources),
        scenario=scenario(catalog, state, flows, sources, gap_label),
        usgs=usgs.figures(catalog, state.mineral, state.year, sources, state.importer),
        assumptions=assumptions(catalog, state, name, replaced, members, sources),
        product_note=flows.product_note,
    )


def trade_flows(
    db: Database,
    catalog: Catalog,
    state: State,
    members: tuple[str, ...],
    sources: tuple[str, ...],
) -> Flows:
    """What the importer bought, every year up to the chosen one, and what the C5
    sources sold to everyone in the year: one statement over the mineral's flows
    (suppliers_market, as on Suppliers)."""
    f = TradeFilter(
        (state.mineral,),
        (),
        min(catalog.years[0], state.year),
        state.year,
        sides=(state.side,),
        stages=state.stages,
    )
    if members:
        market = queries.suppliers_market(db, f, members)
        purchases = market.purchases.drop("series")
        world = market.world.filter(
            (pl.col("year") == state.year) & pl.col("exporter").is_in(sources)
        )
    else:
        purchases = _empty_purchases()
        world = queries.exporters_by_series(db, f.years(state.year).only(exporters=sources)).frame
    # Gross tonnes of different stages (chromite ore, ferrochrome) never add up: tonnes
    # are shown only for a mineral whose codes are all of one stage (the queries give
    # none otherwise), and the share of the gap covered is always by value.
    stages = list(catalog.stages_of([state.mineral], state.stages))
    tonnes_note = _tonnes_note(stages)
    if tonnes_note:
        purchases = purchases.with_columns(pl.lit(None, dtype=pl.Float64).alias("quantity_kg"))
        world = world.with_columns(pl.lit(None, dtype=pl.Float64).alias("quantity_kg"))
    product_note = None
    if state.product == "exact":
        exact, product_note = exact_purchases(
            db, catalog, state.importer, state.mineral, f.year_from, state.year
        )
        if exact is not None:
            purchases = exact.purchases
    return Flows(purchases, world, tonnes_note, product_note)


def imports(
    catalog: Catalog, purchases: pl.DataFrame, year: int, sources: tuple[str, ...]
) -> Imports:
    """The importer's suppliers in the year, their concentration, and the shares from
    China, Russia and the C5 sources over time."""
    in_year = purchases.filter(pl.col("year") == year)
    total_usd = float(in_year["value_usd"].sum())
    over_time = shares_over_time(purchases, sources)
    now = over_time.filter(pl.col("year") == year)
    hhi = metrics.hhi_by(in_year, "value_usd", ["year"])
    return Imports(
        no_imports=total_usd <= 0,
        total_usd=total_usd,
        total_kg=known_sum(in_year["quantity_kg"]),
        hhi=float(hhi["hhi"][0]) if hhi.height else None,
        band=metrics.hhi_band(float(hhi["hhi"][0])) if hhi.height else None,
        china_share=_share(now, "China"),
        russia_share=_share(now, "Russia"),
        c5_share=_share(now, C5_LINE),
        suppliers=supplier_table(catalog, in_year),
        shares_over_time=over_time,
    )


def scenario(
    catalog: Catalog, state: State, flows: Flows, sources: tuple[str, ...], gap_label: str
) -> Scenario:
    """The gap the chosen share of the Chinese and/or Russian supply leaves in the year,
    what each C5 source could redirect, and the share of the gap they could cover."""
    in_year = flows.purchases.filter(pl.col("year") == state.year)
    fraction = state.replace_pct / 100.0
    from_rows = in_year.filter(pl.col("supplier").is_in(REPLACED[state.replace_from]))
    gap_usd = fraction * float(from_rows["value_usd"].sum())
    known = known_sum(from_rows["quantity_kg"])
    gap_kg = None if known is None else fraction * known
    redirect = redirectable(catalog, flows.world, in_year, sources, gap_usd, gap_kg)
    if flows.tonnes_note:  # a country with no flow has no tonnes to show either
        redirect = redirect.with_columns(
            pl.lit(None, dtype=pl.Float64).alias(c) for c in REDIRECT_COLUMNS if "(t)" in c
        )
    redirect_usd = float(redirect["Redirectable (USD)"].sum())
    redirect_t = known_sum(redirect["Redirectable (t)"])
    redirect_kg = None if redirect_t is None else redirect_t * 1e3
    covers_usd = _covers(redirect_usd, gap_usd)
    covers_kg = None if redirect_kg is None or gap_kg is None else _covers(redirect_kg, gap_kg)
    return Scenario(
        gap_usd=gap_usd,
        gap_kg=gap_kg,
        redirect=redirect,
        redirect_usd=redirect_usd,
        redirect_kg=redirect_kg,
        covers_usd=covers_usd,
        covers_kg=covers_kg,
        covers=covers_usd,
        covers_by="by value",
        tonnes_note=flows.tonnes_note,
        c5_exports=float(redirect["To the world (USD)"].sum()) > 0,
        chart=gap_chart(redirect, gap_label, gap_usd, gap_kg),
        download=scenario_download(redirect, catalog, state, gap_usd, gap_kg),
    )


def _empty_purchases() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "year": pl.Int32,
            "supplier": pl.String,
            "value_usd": pl.Float64,
            "quantity_kg": pl.Float64,
        }
    )


def _tonnes_note(stages: list[str]) -> str | None:
    if len(stages) <= 1:
        return None
    return (
        f"No tonnes: this mineral's codes span {len(stages)} value-chain stages "
        f"({', '.join(STAGE_LABELS.get(s, s).lower() for s in stages)}), whose gross weights "
        "do not add up (a tonne of ore is not a tonne of alloy or metal). Shares, the gap "
        "and the share of it Central Asia could cover are by value."
    )


def known_sum(values: pl.Series) -> float | None:
    """The sum of the values that are known; None when there are values and none is
    known (quantities missing), 0 when there are none."""
    if values.len() and values.null_count() == values.len():
        return None
    return float(values.sum())


def _share(now: pl.DataFrame, line: str) -> float | None:
    row = now.filter(pl.col("Supplier") == line)["share_pct"]
    return float(row[0]) / 100.0 if row.len() else None


def _covers(available: float, gap: float) -> float | None:
    return min(available / gap, 1.0) if gap > 0 else None


def supplier_table(catalog: Catalog, in_year: pl.DataFrame) -> pl.DataFrame:
    ranked = metrics.with_rank(
        metrics.with_shares(in_year, "value_usd", ["year"]), "value_usd", ["year"]
    ).sort("rank", "supplier")
    tonnes = pl.col("quantity_kg")
    return ranked.select(
        pl.col("rank").alias("Rank"),
        catalog.country("supplier", "Supplier"),
        pl.col("value_usd").alias("Imports (USD)"),
        (tonnes / 1e3).alias("Imports (t)"),
        (pl.col("share") * 100).alias("Share of value %"),
        pl.when(tonnes.sum() > 0)
        .then(tonnes / tonnes.sum() * 100)
        .otherwise(None)
        .alias("Share of tonnes %"),
    )


def shares_over_time(purchases: pl.DataFrame, sources: tuple[str, ...]) -> pl.DataFrame:
    """Per year, the shares of the importer's imports (by value, %) from China, Russia
    and the C5 sources together; years without imports are left out."""
    value = pl.col("value_usd")
    lines = {**SHARE_LINES, C5_LINE: sources}
    return (
        purchases.group_by("year")
        .agg(
            value.sum().alias("total"),
            *[
                value.filter(pl.col("supplier").is_in(list(members))).sum().alias(line)
                for line, members in lines.items()
            ],
        )
        .filter(pl.col("total") > 0)
        .unpivot(index=["year", "total"], variable_name="Supplier", value_name="value")
        .select(
            "year",
            "Supplier",
            (pl.col("value") / pl.col("total") * 100).alias("share_pct"),
        )
        .sort("Supplier", "year")
    )


def redirectable(
    catalog: Catalog,
    world: pl.DataFrame,
    in_year: pl.DataFrame,
    sources: tuple[str, ...],
    gap_usd: float,
    gap_kg: float | None,
) -> pl.DataFrame:
    """Per C5 source: exports to the world, to the importer, and the difference (what
    could be redirected), in USD and tonnes, and the share of the gap it covers.

    A country with no flow counts zero; a flow without a quantity leaves the tonnes
    unknown (null), never zero."""
    exports = world.select(
        "exporter",
        pl.col("value_usd").alias("world_usd"),
        pl.col("quantity_kg").alias("world_kg"),
        pl.lit(True).alias("exports"),
    )
    bought = in_year.select(
        pl.col("supplier").alias("exporter"),
        pl.col("value_usd").alias("to_usd"),
        pl.col("quantity_kg").alias("to_kg"),
        pl.lit(True).alias("sells"),
    )
    gap_t = None if gap_kg is None else gap_kg / 1e3
    frame = (
        pl.DataFrame({"exporter": list(sources)}, schema={"exporter": pl.String})
        .join(exports, on="exporter", how="left")
        .join(bought, on="exporter", how="left")
        .with_columns(
            pl.col("world_usd").fill_null(0.0),
            pl.col("to_usd").fill_null(0.0),
            pl.when(pl.col("exports").is_null())
            .then(0.0)
            .otherwise(pl.col("world_kg") / 1e3)
            .alias("world_t"),
            pl.when(pl.col("sells").is_null())
            .then(0.0)
            .otherwise(pl.col("to_kg") / 1e3)
            .alias("to_t"),
        )
        .with_columns(
            (pl.col("world_usd") - pl.col("to_usd")).alias("free_usd"),
            (pl.col("world_t") - pl.col("to_t")).alias("free_t"),
        )
    )
    return frame.select(
        catalog.country("exporter", "Country"),
        pl.col("world_usd").alias("To the world (USD)"),
        pl.col("world_t").alias("To the world (t)"),
        pl.col("to_usd").alias("To the importer (USD)"),
        pl.col("to_t").alias("To the importer (t)"),
        pl.col("free_usd").alias("Redirectable (USD)"),
        pl.col("free_t").alias("Redirectable (t)"),
        _covers_expr(pl.col("free_t"), gap_t).alias("Covers gap % (t)"),
        _covers_expr(pl.col("free_usd"), gap_usd).alias("Covers gap % (USD)"),
    )


def _covers_expr(available: pl.Expr, gap: float | None) -> pl.Expr:
    """Percent of the gap an amount covers, at most 100 (null without a gap)."""
    if gap is None or gap <= 0:
        return pl.lit(None, dtype=pl.Float64)
    return (available / gap * 100.0).clip(upper_bound=100.0)  # unknown stays unknown


def gap_chart(
    redirect: pl.DataFrame, gap_label: str, gap_usd: float, gap_kg: float | None
) -> pl.DataFrame:
    """The gap and what each C5 country exporting the mineral could redirect; empty
    when there is no gap or no C5 country exports the mineral."""
    gap = pl.DataFrame(
        {
            "Source": [gap_label],
            "USD million": [gap_usd / 1e6],
            "Tonnes": [None if gap_kg is None else gap_kg / 1e3],
        },
        schema={"Source": pl.String, "USD million": pl.Float64, "Tonnes": pl.Float64},
    )
    sources = redirect.filter(pl.col("To the world (USD)") > 0).select(
        pl.col("Country").alias("Source"),
        (pl.col("Redirectable (USD)") / 1e6).alias("USD million"),
        pl.col("Redirectable (t)").alias("Tonnes"),
    )
    return pl.concat([gap, sources]) if sources.height and gap_usd > 0 else sources.clear()


def scenario_download(
    redirect: pl.DataFrame, catalog: Catalog, state: State, gap_usd: float, gap_kg: float | None
) -> pl.DataFrame:
    """The redirect table with the scenario written on every row, so a downloaded file
    says what it answers."""
    return redirect.select(
        pl.lit(catalog.country_name(state.importer)).alias("Importer"),
        pl.lit(catalog.mineral_label(state.mineral)).alias("Mineral"),
        pl.lit(state.year).alias("Year"),
        pl.lit(SIDE_LABELS.get(state.side, state.side)).alias("Declaration"),
        pl.lit(state.replace_pct).alias("Replace %"),
        pl.lit(REPLACE_FROM[state.replace_from]).alias("Replace supply from"),
        pl.lit(gap_usd).alias("Gap (USD)"),
        pl.lit(None if gap_kg is None else gap_kg / 1e3, dtype=pl.Float64).alias("Gap (t)"),
        pl.all(),
    )


# --- the assumptions, in words ---------------------------------------------------------


def assumptions(
    catalog: Catalog,
    state: State,
    importer: str,
    replaced: str,
    members: tuple[str, ...],
    sources: tuple[str, ...],
) -> tuple[str, ...]:
    side = SIDE_LABELS.get(state.side, state.side)
    said = [
        f"One year, {state.year}, and one declaration: {side} flows. Values are current "
        "US dollars; tonnes add up the flows that report a quantity, and only within one "
        "value-chain stage. The share of the gap covered is by value.",
        f"The gap is {state.replace_pct}% of {importer}'s imports from {replaced} in "
        f"{state.year}: the supply that would need a new source.",
        "What a Central Asian country could redirect is what it exports today to everyone "
        f"except {importer} (China and Russia included): redirecting means taking it from "
        "other buyers, not new production, so it is an upper bound for the year.",
        "Kazakhstan, Kyrgyzstan and Russia share the EAEU customs union: re-exports and "
        "transit through Russia blur origin, so some 'Russian' supply may be Central Asian "
        "and some Central Asian exports may be Russian.",
        "Traded tonnes are the gross weight of the goods in the basket (ores, alloys, "
        "chemicals); USGS production and reserves are measured as their Measure column "
        "says, often as metal content: a traded tonne of ferrochrome is not a tonne of "
        "chromite ore, nor of chromium.",
        "The basket's HS codes may hold other goods (noted under the page).",
    ]
    if len(members) > 1:
        said.append(f"{importer}'s imports leave out trade among its {len(members)} members.")
    left_out = [catalog.country_name(c) for c in C5 if c not in sources]
    if left_out:
        said.append(f"{', '.join(left_out)} is the importer, so it is not counted as a source.")
    return tuple(said)
