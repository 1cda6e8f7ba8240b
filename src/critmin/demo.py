"""The embedded default warehouse, built offline in seconds by `critmin demo`.

Trade flows are SYNTHETIC (`critmin.synthetic`, the demo size): shaped like CEPII
BACI (HS2012, reconciled flows, value in USD, quantity in kg, flows of USD 1,000 or
less dropped) for every mineral basket, with exporter- and importer-reported sides
for flows that touch Central Asia, and a fixed seed so every build is identical.
Pages that show them say so, and name `make real`.

Everything else is real: production and reserves from the USGS Mineral Commodity
Summaries 2026 data release and the sites of the USGS deposit compilations
(`data/embedded/`, see `critmin.embedded`), Natural Earth boundaries, country groups,
HS texts, the policy events and the curated plants (`critmin.reference_tables`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from critmin import derive, synthetic
from critmin.embedded import write_embedded
from critmin.reference_tables import write_reference_tables
from critmin.schema import validate_frame
from critmin.warehouse import Provenance, Warehouse, write_table_files

log = logging.getLogger(__name__)

DEMO_RELEASE = "demo-2"
DEMO_EDITION = synthetic.EDITION
SOURCE = "demo"
SEED = 20_260_101


def synthetic_trade_flows(last_year: int | None = None, seed: int = SEED) -> pl.DataFrame:
    """Every year of the demo's flows (reconciled and the two reported sides)."""
    frames = []
    for year in synthetic.generate(
        synthetic.DEMO, seed, last_year, story=True, source=SOURCE, release=DEMO_RELEASE
    ):
        frames += [year, synthetic.reported_sides(year, seed, SOURCE, DEMO_RELEASE)]
    return pl.concat(frames)


def build_demo(data_dir: Path, last_year: int | None = None) -> Warehouse:
    """Build (or rebuild) the demo warehouse in data_dir, atomically."""
    warehouse = Warehouse(data_dir)
    flows = validate_frame("trade_flows", synthetic_trade_flows(last_year), where="demo")
    with warehouse.transaction(derived=derive.refresh) as tx:
        write_reference_tables(tx)
        directory = tx.new_part_dir("trade_flows", SOURCE)
        write_table_files("trade_flows", flows, directory)
        tx.set_part("trade_flows", SOURCE, directory, source=SOURCE, release=DEMO_RELEASE)
        write_embedded(tx)
        tx.add_provenance(
            Provenance.without_file(
                source=SOURCE,
                release=DEMO_RELEASE,
                table="trade_flows",
                licence="MIT (this project)",
                citation="Synthetic flows shaped like CEPII BACI (critmin.synthetic); "
                "not real trade data",
            )
        )
    log.info("demo warehouse built in %s (%d flows)", data_dir, flows.height)
    return warehouse
