"""About the data: what is loaded, in words read from the warehouse (sources,
releases and when they were published, years, quantity coverage, production and site
sets) and as the manifest's table (table, part, source, release, years, rows), every
loaded file's provenance (release, version and corrections page, licence, citation, size,
checksum), the notes on the warehouse as opened, the basket definitions, the minerals trade
data cannot show and why, and the policy events with their sources. Nothing about what is
loaded is written by hand (critmin.loaded)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import loaded, queries
from critmin.catalog import Catalog
from critmin.db import Database, TableUnavailable
from critmin.reference import load_minerals_not_showable

PROVENANCE_COLUMNS = (
    "table",
    "source",
    "release",
    "version",
    "version_date",
    "corrections_url",
    "file_name",
    "licence",
    "citation",
    "url",
    "size_bytes",
    "sha256",
    "loaded_at",
)


@dataclass(frozen=True)
class State:
    """The About page has no filters."""


@dataclass(frozen=True)
class View:
    data_dir: str
    notes: tuple[str, ...]
    as_of: str  # the line every page shows
    loaded: tuple[str, ...]  # what is loaded, one sentence per release or set
    quantities: tuple[str, ...]  # how far quantities cover each release's flows
    provisional: tuple[str, ...]  # each real release's last (provisional) year
    coverage: pl.DataFrame
    provenance: pl.DataFrame
    baskets: pl.DataFrame
    not_showable: pl.DataFrame  # Mineral, Lists, Why no series
    events: pl.DataFrame


def build(db: Database, catalog: Catalog, state: State) -> View:
    warehouse = db.warehouse
    records = loaded_records(
        pl.DataFrame([p.__dict__ for p in warehouse.provenance()]), catalog.parts_table
    )
    releases = loaded.trade_releases(catalog.trade_table, catalog.parts_table)
    try:
        coverage = loaded.quantity_coverage(queries.quantity_coverage(db).frame)
    except TableUnavailable as error:
        coverage = [f"Quantity coverage cannot be read: {error}"]
    return View(
        data_dir=str(warehouse.root),
        notes=tuple(db.notes),
        as_of=loaded.data_as_of(catalog.trade_table, catalog.parts_table),
        loaded=tuple(what_is_loaded(releases, catalog.parts_table)),
        quantities=tuple(coverage),
        provisional=tuple(
            f"{loaded.source_name(r.source)} {r.release}: {r.last_year} is the release's last "
            "year, provisional: the next release revises it."
            for r in releases
            if not r.synthetic
        ),
        coverage=pl.DataFrame(warehouse.table_summary()),
        provenance=records.select(c for c in PROVENANCE_COLUMNS if c in records.columns),
        baskets=catalog.baskets.filter(
            pl.col("hs_edition").is_in(list(catalog.editions) or ["HS22"])
        ).select(
            "mineral",
            pl.col("lists").list.join(", "),
            "hs_edition",
            "hs6",
            "stage",
            "shared_basket",
            "note",
            "citation",
        ),
        not_showable=load_minerals_not_showable().select(
            pl.col("label").alias("Mineral"),
            pl.col("lists").list.join(", ").alias("Lists"),
            pl.col("reason").alias("Why no series"),
        ),
        events=catalog.events().select(
            "date",
            "title",
            "kind",
            pl.col("minerals").list.join(", "),
            pl.col("countries").list.join(", "),
            "source",
            "url",
        ),
    )


def loaded_records(records: pl.DataFrame, parts: pl.DataFrame) -> pl.DataFrame:
    """The provenance records of what is loaded now: a record whose table no longer
    holds a part of its source (the demo flows once real ones are loaded) is left out."""
    if records.is_empty() or parts.is_empty():
        return records
    present = parts.select("table", "source").unique()
    return records.join(present, on=["table", "source"], how="semi")


def what_is_loaded(releases: list[loaded.TradeRelease], parts: pl.DataFrame) -> list[str]:
    """One sentence per trade release, the production release and the site sets."""
    said = [f"Trade flows: {r.describe()}." for r in releases] or ["No trade flows are loaded."]
    production = loaded.production_release(parts)
    said.append(
        f"Production, reserves and import reliance: {production}."
        if production
        else "No USGS production figures are loaded."
    )
    sites = loaded.site_sets(parts)
    if sites:
        said.append(
            "Deposits, mines and plants: "
            + "; ".join(f"{name} ({rows:,} sites)" for name, rows in sites)
            + "."
        )
    return said
