"""About the data: what is loaded (table, part, source, release, years, rows), every
loaded file's provenance (release, version and corrections page, licence, citation, size,
checksum), the notes on the warehouse as opened, the basket definitions, the minerals trade
data cannot show and why, and the policy events with their sources."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin.catalog import Catalog
from critmin.db import Database
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
    coverage: pl.DataFrame
    provenance: pl.DataFrame
    baskets: pl.DataFrame
    not_showable: pl.DataFrame  # Mineral, Lists, Why no series
    events: pl.DataFrame


def build(db: Database, catalog: Catalog, state: State) -> View:
    warehouse = db.warehouse
    records = pl.DataFrame([p.__dict__ for p in warehouse.provenance()])
    return View(
        data_dir=str(warehouse.root),
        notes=tuple(db.notes),
        coverage=pl.DataFrame(warehouse.table_summary()),
        provenance=records.select(PROVENANCE_COLUMNS) if records.height else records,
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
