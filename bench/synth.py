"""The benchmark's warehouse: synthetic BACI-shaped trade flows at any size, written
through the real warehouse code.

The flows come from the project's one generator, `critmin.synthetic` (a gravity model
with Zipf skew over ~220 countries and ~5,000 HS6 codes, every mineral-basket code
among them), at `Size(rows, countries=220, products=5000)`; a `comtrade` part adds
the exporter- and importer-reported sides of the flows that touch Central Asia
(`synthetic.reported_sides`), so the Reported vs mirror page has both declarations.
Reference tables (`write_reference_tables`) and the real USGS production and sites
(`write_embedded`) are written as in every warehouse, all in one
`Warehouse.transaction(derived=derive.refresh)`, so the derived tables the pages read
are computed by the same commit as in production.

Generation streams one year at a time, so memory stays bounded by a year's rows. The
warehouse is cached under the output directory, keyed by rows, seed and a
fingerprint of the generator, the Parquet layout and the reference files, so re-runs
skip generation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import logging
import shutil
import time
from pathlib import Path

import polars as pl

from critmin import derive, reference, synthetic, warehouse
from critmin.domain import C5
from critmin.embedded import EMBEDDED_DIR, PROVENANCE_FILE, write_embedded
from critmin.reference import REFERENCE_DIR
from critmin.reference_tables import write_reference_tables
from critmin.schema import TABLES, validate_frame
from critmin.warehouse import Provenance, Warehouse, write_table_files

log = logging.getLogger(__name__)

SYNTH_VERSION = "5"
RELEASE = "synthetic-V1"
DEFAULT_SEED = 42
COUNTRIES = 220
PRODUCTS = 5_000


def size_for(rows: int, countries: int = COUNTRIES, products: int = PRODUCTS) -> synthetic.Size:
    """The generator's size for a warehouse of about `rows` reconciled flows."""
    return synthetic.Size(rows, countries=countries, products=products)


def layout_fingerprint() -> str:
    """Changes whenever the generator, the Parquet layout code or the reference files
    (baskets, countries, embedded USGS data) change."""
    digest = hashlib.sha256()
    digest.update(SYNTH_VERSION.encode())
    digest.update(inspect.getsource(synthetic).encode())
    digest.update(inspect.getsource(write_table_files).encode())
    digest.update(str(warehouse.ROW_GROUP_SIZE).encode())
    digest.update(str(TABLES["trade_flows"].sort_by).encode())
    for path in sorted(REFERENCE_DIR.glob("*.csv")) + [EMBEDDED_DIR / PROVENANCE_FILE]:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def warehouse_dir(out: Path, rows: int, seed: int) -> Path:
    return out / f"warehouse-r{rows}-s{seed}-{layout_fingerprint()}"


def build_warehouse(
    root: Path, size: synthetic.Size, seed: int = DEFAULT_SEED, last_year: int | None = None
) -> tuple[Warehouse, float]:
    """Generate the synthetic warehouse in `root` (replacing a partial one); return it
    and the seconds it took."""
    started = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    wh = Warehouse(root)
    with wh.transaction(derived=derive.refresh) as tx:
        write_reference_tables(tx)
        write_embedded(tx)
        baci_dir = tx.new_part_dir("trade_flows", "baci")
        comtrade_dir = tx.new_part_dir("trade_flows", "comtrade")
        newest = None
        for flows in synthetic.generate(size, seed, last_year, source="baci", release=RELEASE):
            write_table_files("trade_flows", validate_frame("trade_flows", flows), baci_dir)
            sides = synthetic.reported_sides(flows, seed)
            write_table_files("trade_flows", validate_frame("trade_flows", sides), comtrade_dir)
            log.info(
                "year %d: %d flows (+%d reported)", flows["year"][0], flows.height, sides.height
            )
            newest = flows
            del flows, sides
        tx.set_part("trade_flows", "baci", baci_dir, source="baci", release=RELEASE)
        tx.set_part("trade_flows", "comtrade", comtrade_dir, source="comtrade", release="synthetic")
        if newest is not None:  # the monthly declarations of the Latest months page
            year = int(newest["year"][0])
            eu = tuple(reference.countries().filter(pl.col("groups").list.contains("EU27"))["iso3"])
            months = synthetic.monthly_declarations(
                newest, year, dt.date(year + 2, 10, 1), seed, eu, exporters=(*C5, "CHN")
            )
            tx.write_frame(
                "monthly_flows", "synthetic", months, source="synthetic", release=RELEASE
            )
        tx.add_provenance(
            Provenance.without_file(
                source="baci",
                release=RELEASE,
                table="trade_flows",
                licence="MIT (this project)",
                citation="Synthetic benchmark flows shaped like CEPII BACI (critmin.synthetic); "
                "not real data",
            )
        )
    return wh, time.perf_counter() - started


def ensure_warehouse(out: Path, rows: int, seed: int = DEFAULT_SEED) -> tuple[Path, float | None]:
    """The cached warehouse for (rows, seed, fingerprint), generated if absent. Returns
    its directory and the generation time (None when it came from the cache)."""
    root = warehouse_dir(out, rows, seed)
    if Warehouse(root).exists():
        # A warehouse cached by an earlier critmin gets current derived tables.
        derive.reindex(Warehouse(root))
        return root, None
    _, seconds = build_warehouse(root, size_for(rows), seed)
    return root, seconds
