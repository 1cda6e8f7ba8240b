"""The embedded default warehouse, built offline in seconds by `critmin demo`.

Trade flows are SYNTHETIC (`critmin.synthetic`, the demo size): shaped like CEPII
BACI (HS2012, reconciled flows, value in USD, quantity in kg, flows of USD 1,000 or
less dropped) for every mineral basket, with exporter- and importer-reported sides
for flows that touch Central Asia, and a fixed seed so every build is identical.
Like BACI, whose newest release ends two calendar years back, the reconciled years
end the year before last; SYNTHETIC monthly declarations shaped like UN Comtrade,
Eurostat Comext and US Census answers run from January of that year to the month
each reporter would have published by today (`synthetic.monthly_declarations`), so
the Latest months page and the provisional years have something to show.
Pages that show them say so, and name `make real`.

Everything else is real: production and reserves from the USGS Mineral Commodity
Summaries 2026 data release and the sites of the USGS deposit compilations
(`data/embedded/`, see `critmin.embedded`), Natural Earth boundaries, country groups,
HS texts, the policy events and the curated plants (`critmin.reference_tables`).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import polars as pl

from critmin import derive, reference, synthetic
from critmin.domain import latest_full_year
from critmin.embedded import write_embedded
from critmin.reference_tables import write_reference_tables
from critmin.schema import validate_frame
from critmin.warehouse import Provenance, Warehouse, write_table_files

log = logging.getLogger(__name__)

DEMO_RELEASE = "demo-2"
DEMO_EDITION = synthetic.EDITION
SOURCE = "demo"
SEED = 20_260_101


def default_last_year(today: dt.date | None = None) -> int:
    """The demo's last reconciled year: BACI's newest release ends two calendar years
    back (V202601, published January 2026, ends in 2024)."""
    return latest_full_year(today) - 1


def synthetic_monthly_flows(
    flows: pl.DataFrame, last_year: int, as_of: dt.date | None = None, seed: int = SEED
) -> pl.DataFrame:
    """The demo's monthly declarations, from the reconciled flows of its last year."""
    countries = reference.countries()
    eu = tuple(countries.filter(pl.col("groups").list.contains("EU27"))["iso3"].to_list())
    reconciled = flows.filter((pl.col("year") == last_year) & (pl.col("side") == "reconciled"))
    return synthetic.monthly_declarations(
        reconciled, last_year, as_of or dt.date.today(), seed, eu, release=DEMO_RELEASE
    )


def synthetic_trade_flows(last_year: int | None = None, seed: int = SEED) -> pl.DataFrame:
    """Every year of the demo's flows (reconciled and the two reported sides)."""
    frames = []
    for year in synthetic.generate(
        synthetic.DEMO, seed, last_year, story=True, source=SOURCE, release=DEMO_RELEASE
    ):
        frames += [year, synthetic.reported_sides(year, seed, SOURCE, DEMO_RELEASE)]
    return pl.concat(frames)


def build_demo(
    data_dir: Path, last_year: int | None = None, as_of: dt.date | None = None
) -> Warehouse:
    """Build (or rebuild) the demo warehouse in data_dir, atomically: reconciled years to
    `last_year` (default: the year before last), monthly declarations to `as_of`."""
    warehouse = Warehouse(data_dir)
    last_year = last_year or default_last_year()
    flows = validate_frame("trade_flows", synthetic_trade_flows(last_year), where="demo")
    months = validate_frame(
        "monthly_flows", synthetic_monthly_flows(flows, last_year, as_of), where="demo months"
    )
    with warehouse.transaction(derived=derive.refresh) as tx:
        write_reference_tables(tx)
        directory = tx.new_part_dir("trade_flows", SOURCE)
        write_table_files("trade_flows", flows, directory)
        tx.set_part("trade_flows", SOURCE, directory, source=SOURCE, release=DEMO_RELEASE)
        tx.write_frame("monthly_flows", SOURCE, months, source=SOURCE, release=DEMO_RELEASE)
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
        tx.add_provenance(
            Provenance.without_file(
                source=SOURCE,
                release=DEMO_RELEASE,
                table="monthly_flows",
                licence="MIT (this project)",
                citation="Synthetic monthly declarations shaped like UN Comtrade monthly, "
                "Eurostat Comext and US Census answers (critmin.synthetic); not real "
                "trade data",
                file_name="(generated months)",
            )
        )
    log.info("demo warehouse built in %s (%d flows)", data_dir, flows.height)
    return warehouse
