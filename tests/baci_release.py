"""A real-shaped CEPII BACI release written by the project's own generator: a zip named
like CEPII's (`BACI_HS17_V202601.zip`) holding one `BACI_HS17_Y<year>_V202601.csv` per
year (t,i,j,k,v,q; v in thousand USD, q in tons; BACI's own country codes), the
country dictionary in the current layout (country_code,country_name,country_iso2,
country_iso3) and the product dictionary (code,description). The flows are
`critmin.synthetic`'s (with Kazakhstan's story), converted to BACI's layout here;
nothing here is real trade data. Load it with `critmin ingest baci`.

Quantities: BACI's q is empty for a small share of flows and, in a recent release,
for none in some years; `missing_q` sets the share per year (default: none but the
last, provisional year).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from critmin import reference, synthetic
from critmin.ingest.common import NUMERIC_ALIASES

# ISO numeric codes BACI replaces with its own (the ingest maps them back): 251 France,
# 579 Norway, 699 India, 757 Switzerland, 842 USA, 490 "Other Asia, nes".
BACI_OWN = (251, 579, 699, 757, 842, 490)


def baci_country_codes() -> dict[str, int]:
    """ISO3 -> the numeric code a BACI file uses for it."""
    table = reference.countries_base().select("iso3", "iso_numeric").drop_nulls()
    codes = {iso3: int(numeric) for iso3, numeric in table.iter_rows()}
    return codes | {iso3: c for c, iso3 in NUMERIC_ALIASES.items() if c in BACI_OWN}


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


def write_release(
    directory: Path,
    *,
    years: Sequence[int] = tuple(range(2017, 2025)),
    rows_per_year: int = 20_000,
    release: str = "V202601",
    edition: str = "HS17",
    seed: int = 11,
    countries: int = 120,
    missing_q: Mapping[int, float] | None = None,
    dictionaries: Path | None = None,
) -> Path:
    """Write the release zip in `directory`; return its path. `dictionaries` is a
    folder with CEPII's country_codes.csv and product_codes.csv to ship instead of the
    ones built from the reference tables."""
    directory.mkdir(parents=True, exist_ok=True)
    short = "HS" + edition[-2:]
    missing = dict(missing_q) if missing_q is not None else {years[-1]: 0.02}
    universe = synthetic.build_universe(
        synthetic.Size(rows_per_year * len(years), countries=countries, products=400),
        seed,
        edition=edition,
    )
    path = directory / f"BACI_{short}_{release}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for year in years:
            flows = synthetic.year_flows(universe, year, rows_per_year, seed, edition=edition)
            flows = synthetic.kazakh_story(flows, universe, list(years), seed)
            # The generator leaves some quantities out; this release leaves out the
            # share `missing` asks for (none in most years, as BACI's recent releases).
            unit = (pl.col("value_usd") / pl.col("quantity_kg")).median().over("hs6")
            rng = np.random.default_rng([seed, year, 17])
            blank = pl.Series(rng.random(flows.height) < missing.get(year, 0.0))
            flows = flows.with_columns(
                pl.when(blank)
                .then(None)
                .otherwise(
                    pl.col("quantity_kg")
                    .fill_null((pl.col("value_usd") / unit).round(1))
                    .fill_null((pl.col("value_usd") / 10).round(1))  # a code with no quantity
                )
                .alias("quantity_kg")
            )
            baci = to_baci(flows)
            buffer = io.BytesIO()
            baci.write_csv(buffer, float_precision=3, null_value="")
            archive.writestr(f"BACI_{short}_Y{year}_{release}.csv", buffer.getvalue())
        if dictionaries is not None:
            archive.write(dictionaries / "country_codes.csv", f"country_codes_{release}.csv")
            archive.write(
                dictionaries / "product_codes.csv", f"product_codes_{short}_{release}.csv"
            )
        else:
            archive.writestr(f"country_codes_{release}.csv", _country_codes())
            archive.writestr(f"product_codes_{short}_{release}.csv", _product_codes())
    return path


def _country_codes() -> str:
    names = dict(reference.countries_base().select("iso3", "name").iter_rows())
    rows = ["country_code,country_name,country_iso2,country_iso3"]
    for iso3, code in sorted(baci_country_codes().items(), key=lambda kv: kv[1]):
        name = str(names.get(iso3, iso3)).replace('"', "'")
        rows.append(f'{code},"{name}",,{iso3}')
    return "\n".join(rows) + "\n"


def _product_codes() -> str:
    """Every code, as CEPII's dictionary lists every code of the edition (traded or not):
    the bundled texts, the newest edition's where a code has several."""
    texts = (
        reference.load_products()
        .sort("hs_edition", descending=True)
        .unique("hs6", keep="first")
        .sort("hs6")
    )
    rows = ["code,description"]
    for code, text in texts.select("hs6", "description").iter_rows():
        rows.append(f'{code},"{str(text).replace(chr(34), chr(39))}"')
    return "\n".join(rows) + "\n"
