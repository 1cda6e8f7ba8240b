"""Synthetic CEPII BACI yearly CSVs for the ingest timing and large-file tests.

`generate_baci_csv` writes a file in the exact layout of a BACI release: `t,i,j,k,v,q`
with v in thousands of USD and q in metric tons (about 2% of q empty), countries as
BACI's numeric codes (its own 251 France, 579 Norway, 699 India, 757 Switzerland,
842 USA and 490 "Other Asia, nes" included), every (t, i, j, k) once, sorted by i, j,
k. The rows come from the project's one generator, `critmin.synthetic.year_flows`
(~220 countries, ~5,000 HS6 codes with every basket code of the edition), converted
to BACI's layout, so the benchmark's warehouse, its CSVs and the demo share one model.
Deterministic for a given seed. Nothing here is real trade data.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl

from critmin import reference, synthetic
from critmin.ingest.common import NUMERIC_ALIASES

log = logging.getLogger(__name__)

COUNTRIES = 220
PRODUCTS = 5_000
EDITION = "HS17"  # the edition of the files' names (BACI_HS17_Y2022_V202501.csv)
# ISO numeric codes that BACI replaces with its own (the ingest maps them back).
BACI_CODES = {
    iso3: code for code, iso3 in NUMERIC_ALIASES.items() if code in (251, 579, 699, 757, 842, 490)
}


def baci_country_codes() -> dict[str, int]:
    """ISO3 -> the numeric code a BACI file uses for it."""
    table = reference.countries_base().select("iso3", "iso_numeric").drop_nulls()
    codes = {iso3: int(numeric) for iso3, numeric in table.iter_rows()}
    return {**codes, **BACI_CODES}


def to_baci(flows: pl.DataFrame) -> pl.DataFrame:
    """trade_flows rows (USD, kg, ISO3) in BACI's layout (thousand USD, tons, codes),
    sorted by i, j, k."""
    codes = baci_country_codes()
    return flows.select(
        pl.col("year").cast(pl.Int32).alias("t"),
        pl.col("exporter").replace_strict(codes, return_dtype=pl.Int32).alias("i"),
        pl.col("importer").replace_strict(codes, return_dtype=pl.Int32).alias("j"),
        pl.col("hs6").alias("k"),
        (pl.col("value_usd") / 1000).round(3).alias("v"),
        (pl.col("quantity_kg") / 1000).round(3).alias("q"),
    ).sort("i", "j", "k")


def generate_baci_frame(rows: int, year: int, seed: int = 0) -> pl.DataFrame:
    """A deterministic BACI-shaped frame (t, i, j, k as string, v, q) of exactly `rows`
    rows: one year of `synthetic.year_flows`, a little larger, sampled down."""
    size = synthetic.Size(rows, countries=COUNTRIES, products=PRODUCTS)
    universe = synthetic.build_universe(size, seed, edition=EDITION)
    target = int(rows * 1.1) + 100
    for _ in range(5):
        flows = synthetic.year_flows(universe, year, target, seed, edition=EDITION)
        if flows.height >= rows:
            break
        target = int(target * 1.5)
    else:
        raise ValueError(f"could not draw {rows:,} flows for {year}")
    rng = np.random.default_rng([seed, year, 5])
    keep = np.sort(rng.choice(flows.height, size=rows, replace=False))
    # The ingest maps codes back to ISO3; a country without a numeric code is dropped
    # by the generator's universe already (countries_base has one for every ISO3).
    return to_baci(flows[keep])


def generate_baci_csv(path: Path | str, rows: int, year: int, seed: int = 0) -> Path:
    """Write a synthetic BACI yearly CSV of `rows` rows at `path` and return the path.

    Name it like a release file (`BACI_HS17_Y2017_V202501.csv`) so `critmin ingest
    baci` reads the edition and release from the name. About 11 million rows make a
    full-size year.
    """
    path = Path(path)
    frame = generate_baci_frame(rows, year, seed)
    frame.write_csv(path, float_precision=3, null_value="")
    log.info("wrote %s (%d rows)", path, rows)
    return path
