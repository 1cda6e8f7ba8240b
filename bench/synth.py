"""The benchmark's data: a synthetic BACI-shaped warehouse at any size, and BACI yearly
CSVs, both from the project's one generator, `critmin.synthetic` (a gravity model with
Zipf skew over ~220 countries and ~5,000 HS6 codes, every mineral-basket code among them).
Nothing here is real trade data.

The warehouse is written one year at a time through the real write path, in one
`Warehouse.transaction(derived=derive.refresh)` with the reference tables and the real
USGS figures (`write_embedded`), plus a `comtrade` part holding both declared sides of
the flows touching Central Asia, and the monthly declarations of the C5 and China after
the last year (the Latest months page). It is cached under the output directory, keyed by rows,
seed and a fingerprint of the generator, the Parquet layout and the reference files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl

from critmin import derive, reference, synthetic, warehouse
from critmin.domain import C5
from critmin.embedded import EMBEDDED_DIR, PROVENANCE_FILE, write_embedded
from critmin.ingest.common import NUMERIC_ALIASES
from critmin.reference import REFERENCE_DIR
from critmin.reference_tables import write_reference_tables
from critmin.schema import TABLES, validate_frame
from critmin.warehouse import Provenance, Warehouse, write_table_files

DEFAULT_SEED = 42
RELEASE = "synthetic-V1"


def size_for(rows: int, countries: int = 220, products: int = 5_000) -> synthetic.Size:
    return synthetic.Size(rows, countries=countries, products=products)


def warehouse_dir(out: Path, rows: int, seed: int) -> Path:
    """Named by rows, seed and what the warehouse is made from."""
    digest = hashlib.sha256(inspect.getsource(synthetic).encode())
    digest.update(inspect.getsource(write_table_files).encode())
    digest.update(f"{warehouse.ROW_GROUP_SIZE} {TABLES['trade_flows'].sort_by}".encode())
    for path in [*sorted(REFERENCE_DIR.glob("*.csv")), EMBEDDED_DIR / PROVENANCE_FILE]:
        digest.update(path.read_bytes())
    return out / f"warehouse-r{rows}-s{seed}-{digest.hexdigest()[:10]}"


def build_warehouse(
    root: Path, size: synthetic.Size, seed: int = DEFAULT_SEED, last_year: int | None = None
) -> float:
    """Generate the warehouse in `root` (replacing a partial one); the seconds it took."""
    started = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    with Warehouse(root).transaction(derived=derive.refresh) as tx:
        write_reference_tables(tx)
        write_embedded(tx)
        baci = tx.new_part_dir("trade_flows", "baci")
        comtrade = tx.new_part_dir("trade_flows", "comtrade")
        newest = None
        for flows in synthetic.generate(size, seed, last_year, source="baci", release=RELEASE):
            write_table_files("trade_flows", validate_frame("trade_flows", flows), baci)
            sides = synthetic.reported_sides(flows, seed)
            write_table_files("trade_flows", validate_frame("trade_flows", sides), comtrade)
            newest = flows
        tx.set_part("trade_flows", "baci", baci, source="baci", release=RELEASE)
        tx.set_part("trade_flows", "comtrade", comtrade, source="comtrade", release="synthetic")
        if newest is not None:  # the monthly declarations of the Latest months page
            year = int(newest["year"][0])
            eu = tuple(reference.countries().filter(pl.col("groups").list.contains("EU27"))["iso3"])
            end = dt.date(year + 2, 10, 1)
            months = synthetic.monthly_declarations(
                newest, year, end, seed, eu, exporters=(*C5, "CHN")
            )
            tx.write_frame(
                "monthly_flows", "synthetic", months, source="synthetic", release=RELEASE
            )
        what = "Synthetic benchmark flows shaped like CEPII BACI (critmin.synthetic); not real data"
        record = dict(source="baci", release=RELEASE, table="trade_flows", citation=what)
        tx.add_provenance(Provenance.without_file(**record, licence="MIT (this project)"))
    return time.perf_counter() - started


def ensure_warehouse(out: Path, rows: int, seed: int = DEFAULT_SEED) -> tuple[Path, float | None]:
    """The cached warehouse, generated if absent; its generation time (None: cached)."""
    root = warehouse_dir(out, rows, seed)
    if Warehouse(root).exists():
        derive.reindex(Warehouse(root))  # one cached by an earlier critmin: current derived tables
        return root, None
    return root, build_warehouse(root, size_for(rows), seed)


def generate_baci_csv(path: Path | str, rows: int, year: int, seed: int = 0) -> Path:
    """A BACI yearly CSV of exactly `rows` rows at `path`, in a release's own layout:
    `t,i,j,k,v,q`, v in thousand USD, q in tons (about 2% empty), countries as BACI's
    numeric codes (its own 251 France, 579 Norway, 699 India, 757 Switzerland, 842 USA and
    490 "Other Asia, nes" included), each (t, i, j, k) once, sorted by i, j, k. Name it
    like a release file (`BACI_HS17_Y2017_V202501.csv`) for `critmin ingest baci` to read
    the edition and release from; about 11 million rows make a full-size year."""
    universe = synthetic.build_universe(size_for(rows), seed, edition="HS17")
    target = int(rows * 1.1) + 100
    while (
        flows := synthetic.year_flows(universe, year, target, seed, edition="HS17")
    ).height < rows:
        target = int(target * 1.5)
    keep = np.random.default_rng([seed, year, 5]).choice(flows.height, size=rows, replace=False)
    table = reference.countries_base().select("iso3", "iso_numeric").drop_nulls()
    codes = {iso3: int(numeric) for iso3, numeric in table.iter_rows()}
    codes |= {iso3: c for c, iso3 in NUMERIC_ALIASES.items() if c in (251, 579, 699, 757, 842, 490)}
    frame = (
        flows[np.sort(keep)]
        .select(
            pl.col("year").cast(pl.Int32).alias("t"),
            pl.col("exporter").replace_strict(codes, return_dtype=pl.Int32).alias("i"),
            pl.col("importer").replace_strict(codes, return_dtype=pl.Int32).alias("j"),
            pl.col("hs6").alias("k"),
            (pl.col("value_usd") / 1000).round(3).alias("v"),
            (pl.col("quantity_kg") / 1000).round(3).alias("q"),
        )
        .sort("i", "j", "k")
    )
    frame.write_csv(path, float_precision=3, null_value="")
    return Path(path)
