"""What the warehouse holds, as pages need it to offer choices and name things:
countries and their groups, minerals with their lists, stages and codes per HS
edition, the years, sources and sides of the trade data, the sites' facets, and the
small reference tables pages draw from as they are (the policy events, the
countries' map points, the USGS production figures), so no page asks the database
for them again.

`load_catalog(db)` reads it once per warehouse version (`ui/data.py` caches it);
views and pages take it as a plain value. The naming helpers return polars
expressions, so labels are joined natively, never by a Python function per row.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from critmin import loaded, queries
from critmin.db import Database, TableUnavailable
from critmin.domain import FIRST_YEAR, HS_EDITIONS, SIDE_LABELS, STAGES, latest_full_year

log = logging.getLogger(__name__)

# Critical-minerals lists a mineral can be on (mineral_baskets.csv, column `lists`).
MINERAL_LISTS = {
    "USGS2025": "USGS 2025 List of Critical Minerals",
    "EU2023": "EU 2023 Critical Raw Materials",
}
STAGE_LABELS = {
    "ore": "Ores and concentrates",
    "intermediate": "Intermediates (ferroalloys, oxides, mattes, unrefined metal)",
    "refined": "Refined metals and chemicals",
    "scrap": "Waste and scrap",
}
# Importer groups offered beside single countries (members from the countries table).
IMPORTER_GROUPS = {"EU27": "European Union (27)"}


@dataclass(frozen=True)
class Catalog:
    country_names: dict[str, str]
    country_groups: dict[str, tuple[str, ...]]
    baskets: pl.DataFrame  # the mineral_baskets table
    mineral_labels: dict[str, str]  # in label order
    mineral_lists: dict[str, tuple[str, ...]]
    years: tuple[int, int]
    trade_sources: tuple[str, ...]
    trade_sides: tuple[str, ...]
    editions: tuple[str, ...]  # HS editions present in the trade data, in order
    deposit_commodities: tuple[str, ...]
    deposit_statuses: tuple[str, ...]
    country_points: pl.DataFrame  # iso3, lat, lon
    events_table: pl.DataFrame  # the events table (empty when it cannot be read)
    production_table: pl.DataFrame  # every USGS figure (empty when it cannot be read)
    events_problem: str | None = None  # why the events cannot be read
    production_problem: str | None = None  # why the production figures cannot be read
    # Every HS6 code of the editions loaded, with its text (the newest edition's): the
    # codes a user may type, and what a code shared with other goods holds. Where an
    # edition's list is not whole (no release dictionary loaded: the bundled texts give
    # the basket codes only), the codes of every edition known.
    code_texts: dict[str, str] = field(default_factory=dict)
    codes_of_editions: bool = True  # False: code_texts is every edition's, not the loaded
    # Per mineral whose codes hold other goods or minerals: what else, in words
    # (`shared_note`), read once per warehouse version.
    shared_notes: dict[str, str] = field(default_factory=dict)
    # What is loaded, for the line every page shows (critmin.loaded.data_as_of): the
    # trade flows per year, HS edition, source, side and release, and the manifest's
    # parts (table, part, source, release, rows, years, built_at).
    trade_table: pl.DataFrame = field(default_factory=pl.DataFrame)
    parts_table: pl.DataFrame = field(default_factory=pl.DataFrame)
    as_of: str = ""  # the line every page shows (loaded.data_as_of), made once

    # What monthly_flows holds per source, side and classification (first_ym, last_ym,
    # reporters, rows, vintage), from the months each reporter has published
    # (queries.monthly_published: reporter, side, source, classification, ym, rows,
    # vintage), and whether it is the demo's synthetic months.
    monthly: pl.DataFrame = field(default_factory=pl.DataFrame)
    published: pl.DataFrame = field(default_factory=pl.DataFrame)
    monthly_synthetic: bool = False
    national_lines: pl.DataFrame = field(default_factory=pl.DataFrame)  # the table as is

    def events(self) -> pl.DataFrame:
        """The policy events; a page that needs them stops with the reason when the
        table cannot be read, as its own query would have (other pages keep working)."""
        if self.events_problem is not None:
            raise TableUnavailable(self.events_problem)
        return self.events_table

    def production(self, countries: Iterable[str]) -> pl.DataFrame:
        """The USGS production, reserves and import-reliance figures of these countries,
        in no order; a page that shows them stops with the reason when the table cannot
        be read, as its own query would have."""
        if self.production_problem is not None:
            raise TableUnavailable(self.production_problem)
        return self.production_table.filter(pl.col("country").is_in(list(countries)))

    # --- choices -----------------------------------------------------------------

    def latest_month(self) -> int | None:
        """The newest month (year * 100 + month) of any monthly declaration loaded."""
        if self.monthly.is_empty():
            return None
        return int(self.monthly["last_ym"].max())  # type: ignore[arg-type]

    def reporting(
        self, ym_from: int, ym_to: int, sides: Iterable[str] = ("importer_reported",)
    ) -> pl.DataFrame:
        """Which reporters have published which months within the window (any code, any
        partner): reporter, side, source, first_ym, last_ym, months (year * 100 + month,
        ascending), vintage (the newest). A month inside a reporter's range that is
        absent is one it has not published (or critmin has not loaded). In no order."""
        schema = pl.Schema(
            {
                "reporter": pl.String(),
                "side": pl.String(),
                "source": pl.String(),
                "first_ym": pl.Int32(),
                "last_ym": pl.Int32(),
                "months": pl.List(pl.Int32),
                "vintage": pl.Date(),
            }
        )
        if self.published.is_empty():
            return pl.DataFrame(schema=schema)
        return (
            self.published.filter(
                pl.col("ym").is_between(ym_from, ym_to) & pl.col("side").is_in(list(sides))
            )
            .group_by("reporter", "side", "source")
            .agg(
                pl.col("ym").min().alias("first_ym"),
                pl.col("ym").max().alias("last_ym"),
                pl.col("ym").unique().sort().alias("months"),
                pl.col("vintage").max(),
            )
            .cast(schema)
        )

    def default_side(self) -> str:
        """The side headline figures use: reconciled if loaded, else the exporter's own."""
        for side in SIDE_LABELS:
            if side in self.trade_sides:
                return side
        return "reconciled"

    def importer_choices(self) -> dict[str, str]:
        """Importers a page offers: the groups (EU27) first, then every country."""
        return {**IMPORTER_GROUPS, **self.country_names}

    def members(self, importer: str) -> tuple[str, ...]:
        """The countries an importer choice stands for (EU27 -> its 27 members)."""
        return self.country_groups.get(importer, ()) if importer in IMPORTER_GROUPS else (importer,)

    def minerals_on(self, listed: str) -> list[str]:
        """Minerals on a list (USGS2025, EU2023), in label order."""
        return [m for m in self.mineral_labels if listed in self.mineral_lists.get(m, ())]

    # --- names, as native expressions ---------------------------------------------

    def country(self, column: str, alias: str | None = None) -> pl.Expr:
        """The country's name for an ISO3 column (the code itself when unknown)."""
        named = pl.col(column).replace_strict(self.country_names, default=pl.col(column))
        return named.alias(alias or column)

    def mineral(self, column: str, alias: str | None = None) -> pl.Expr:
        """The mineral's label for a mineral-id column (the value itself otherwise)."""
        named = pl.col(column).replace_strict(self.mineral_labels, default=pl.col(column))
        return named.alias(alias or column)

    def country_name(self, iso3: str) -> str:
        return self.importer_choices().get(iso3, iso3)

    def mineral_label(self, mineral: str) -> str:
        return self.mineral_labels.get(mineral, mineral)

    # --- baskets --------------------------------------------------------------------

    def baskets_in_data(self, minerals: Iterable[str]) -> pl.DataFrame:
        """The basket rows of these minerals in the HS editions the trade data hold."""
        return self.baskets.filter(
            pl.col("mineral").is_in(list(minerals))
            & pl.col("hs_edition").is_in(list(self.editions))
        )

    def shared_note(
        self,
        minerals: Iterable[str],
        codes: Iterable[str] | None = None,
        minerals_only: bool = False,
    ) -> str | None:
        """What else these minerals' codes hold, in words, to stand beside a figure that
        counts them: "HS 811292, 811299 also hold germanium, indium, niobium and
        vanadium"; "HS 283329 holds other goods too (Sulphates; other than of sodium,
        …)". None when every code holds only these minerals. `codes`: of these codes
        only; `minerals_only`: name only the other minerals of the baskets."""
        chosen = list(minerals)
        mine = self.baskets_in_data(chosen)
        if codes is not None:
            mine = mine.filter(pl.col("hs6").is_in(list(codes)))
        loaded = self.baskets.filter(pl.col("hs_edition").is_in(list(self.editions)))
        said: dict[str, list[str]] = {}
        for hs6 in sorted(set(mine["hs6"].to_list())):
            rows = mine.filter(pl.col("hs6") == hs6)
            others = loaded.filter(
                (pl.col("hs6") == hs6)
                & pl.col("hs_edition").is_in(rows["hs_edition"].unique().to_list())
                & ~pl.col("mineral").is_in(chosen)
            )
            names = sorted({str(label).lower() for label in others["label"].to_list()})
            if names:
                phrase = "also {verb} " + _and(names)
            elif rows["shared_basket"].any() and not minerals_only:
                text = self.code_texts.get(hs6)
                phrase = "{verb} other goods too" + (f" ({_short(text)})" if text else "")
            else:
                continue
            said.setdefault(phrase, []).append(hs6)
        if not said:
            return None
        return "; ".join(
            f"HS {', '.join(codes)} " + phrase.format(verb="hold" if len(codes) > 1 else "holds")
            for phrase, codes in said.items()
        )

    def stages_of(self, minerals: Iterable[str], stages: Iterable[str] = ()) -> tuple[str, ...]:
        """The value-chain stages of these minerals' codes in the data (of `stages` only,
        when given): tonnes of more than one stage add up different goods."""
        kept = list(stages)
        rows = self.baskets_in_data(minerals)
        if kept:
            rows = rows.filter(pl.col("stage").is_in(kept))
        present = set(rows["stage"].to_list())
        return tuple(s for s in STAGES if s in present)

    def codes_of(self, mineral: str) -> set[str]:
        """The mineral's codes in the HS editions loaded."""
        return set(self.baskets_in_data([mineral])["hs6"].to_list())

    def code_known(self, hs6: str) -> bool:
        """Whether a code is one of the HS editions loaded, or, where their lists are
        not whole, of any HS edition (True when none is known: nothing to check)."""
        return not self.code_texts or hs6 in self.code_texts


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def load_catalog(db: Database) -> Catalog:
    countries = queries.countries(db).frame
    baskets = queries.mineral_baskets(db).frame
    years = queries.trade_years(db).frame
    try:
        facets = queries.deposit_facets(db).frame
    except TableUnavailable:  # the Map page says so; every other page keeps working
        facets = pl.DataFrame(schema={"facet": pl.String, "value": pl.String, "sites": pl.Int64})
    events_problem = None
    try:
        events = queries.events(db).frame
    except TableUnavailable as error:  # Growth and About say so; other pages keep working
        events, events_problem = pl.DataFrame(), str(error)
    production, production_problem = _production(db)
    published = _published(db)
    try:
        lines = queries.national_lines(db).frame
    except TableUnavailable:  # grades then come from the HS6 baskets alone
        lines = pl.DataFrame()
    groups: dict[str, list[str]] = {}
    for iso3, members in countries.select("iso3", "groups").iter_rows():
        for group in members or []:
            groups.setdefault(group, []).append(iso3)
    first, last = (
        (int(years["year"].min()), int(years["year"].max()))  # type: ignore[arg-type]
        if years.height
        else (FIRST_YEAR, latest_full_year())
    )
    # A mineral is on a list when the list names any of its codes' goods (lists are per
    # row: the EU names titanium metal, not ilmenite).
    minerals = baskets.group_by("mineral").agg(
        pl.col("label").first(), pl.col("lists").explode().drop_nulls().unique()
    )
    labels = dict(sorted(minerals.select("mineral", "label").iter_rows(), key=lambda kv: kv[1]))
    lists = {
        mineral: tuple(name for name in MINERAL_LISTS if name in (listed or ()))
        for mineral, listed in minerals.select("mineral", "lists").iter_rows()
    }
    present = set(years["hs_edition"].to_list())
    editions = tuple(e for e in HS_EDITIONS if e in present)
    texts, whole = _code_texts(db, editions)
    catalog = Catalog(
        country_names=dict(countries.select("iso3", "name").iter_rows()),
        country_groups={group: tuple(members) for group, members in groups.items()},
        baskets=baskets,
        mineral_labels=labels,
        mineral_lists=lists,
        years=(first, last),
        trade_sources=tuple(sorted(set(years["source"].to_list()))),
        trade_sides=tuple(sorted(set(years["side"].to_list()))),
        editions=editions,
        deposit_commodities=tuple(facets.filter(pl.col("facet") == "commodity")["value"].to_list()),
        deposit_statuses=tuple(facets.filter(pl.col("facet") == "status")["value"].to_list()),
        country_points=countries.select("iso3", "lat", "lon"),
        events_table=events,
        production_table=production,
        events_problem=events_problem,
        production_problem=production_problem,
        code_texts=texts,
        codes_of_editions=whole,
        trade_table=years,
        parts_table=pl.DataFrame(db.warehouse.table_summary()),
        monthly=monthly_summary(published),
        published=published,
        monthly_synthetic="demo" in db.warehouse.parts("monthly_flows"),
        national_lines=lines,
    )
    notes = {m: note for m in labels if (note := catalog.shared_note([m])) is not None}
    as_of = loaded.data_as_of(catalog.trade_table, catalog.parts_table)
    return dataclasses.replace(catalog, shared_notes=notes, as_of=as_of)


# Every HS edition has 5,000 to 5,600 six-digit codes: a list of fewer is not whole.
WHOLE_EDITION_CODES = 4_000


def _code_texts(db: Database, editions: tuple[str, ...]) -> tuple[dict[str, str], bool]:
    """Every code of the editions loaded with its text (theirs first, the newest
    edition's), and whether those lists are whole; where one is not, every code of
    every edition known."""
    try:
        rows = queries.code_texts(db, list(HS_EDITIONS)).frame
    except TableUnavailable:  # typed codes are then checked for their six digits only
        return {}, False
    counts = dict(rows.group_by("hs_edition").len().iter_rows())
    whole = bool(editions) and all(counts.get(e, 0) >= WHOLE_EDITION_CODES for e in editions)
    # Later in the order wins: other editions (newest last), then the loaded ones.
    order = {edition: i for i, edition in enumerate(HS_EDITIONS)}
    order |= {edition: len(HS_EDITIONS) + i for i, edition in enumerate(editions)}
    kept = rows if not whole else rows.filter(pl.col("hs_edition").is_in(list(editions)))
    ranked = kept.with_columns(
        pl.col("hs_edition").replace_strict(order, default=-1).alias("order")
    ).sort("order")
    return dict(ranked.select("hs6", pl.col("description").fill_null("")).iter_rows()), whole


# USGS MCS has about 9,000 figures per release; a table past this is not one the
# Overview and Diversification pages should hold whole.
PRODUCTION_ROWS_MAX = 500_000


def _production(db: Database) -> tuple[pl.DataFrame, str | None]:
    """Every USGS figure, read once per warehouse version (8,879 rows, about 1 MB, in
    the MCS 2026 release): the pages filter it natively instead of a query each."""
    try:
        result = queries.production(db, (), limit=PRODUCTION_ROWS_MAX)
    except TableUnavailable as error:  # Overview's table and Diversification say so
        return pl.DataFrame(), str(error)
    if result.truncated:
        return pl.DataFrame(), (
            f"The production table holds more than {PRODUCTION_ROWS_MAX:,} rows; "
            "critmin reads one USGS MCS release at a time (re-run `critmin ingest usgs-mcs`)."
        )
    return result.frame, None


def _published(db: Database) -> pl.DataFrame:
    """The months each reporter has published (empty when monthly_flows cannot be read:
    the Latest months page then says so; the rest keeps working)."""
    try:
        result = queries.monthly_published(db)
    except TableUnavailable:
        return pl.DataFrame()
    if result.truncated:
        log.warning("monthly_published holds more rows than the catalog reads; months cut")
    return result.frame


def monthly_summary(published: pl.DataFrame) -> pl.DataFrame:
    """What monthly_flows holds per source, side and classification: the first and last
    month (year * 100 + month), reporters, rows and newest vintage."""
    if published.is_empty():
        return pl.DataFrame()
    return (
        published.group_by("source", "side", "classification")
        .agg(
            pl.col("ym").min().alias("first_ym"),
            pl.col("ym").max().alias("last_ym"),
            pl.col("reporter").n_unique().cast(pl.Int64).alias("reporters"),
            pl.col("rows").sum(),
            pl.col("vintage").max(),
        )
        .sort("source", "side", "classification")
    )
