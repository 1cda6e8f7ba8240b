"""Synthetic CEPII BACI yearly CSVs for benchmarks and large-file tests.

`generate_baci_csv` writes a file in the exact layout of a BACI release
(`t,i,j,k,v,q`; v in thousands of USD, q in metric tons, about 2% of q empty),
deterministic for a given seed, with the skew of the real data: a few big
exporters and importers, a long tail of small flows, about 5,000 HS6 codes
(many with a leading zero) and about 220 country codes that BACI uses (including
its own codes 251 France, 842 USA, 699 India, 757 Switzerland, 579 Norway and
490 "Other Asia, nes"). Every (i, j, k) triple appears once, as in BACI.
Nothing here is real trade data.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl

from critmin import reference
from critmin.ingest.common import NUMERIC_ALIASES

log = logging.getLogger(__name__)

N_COUNTRIES = 220
N_PRODUCTS = 5_000
# ISO numeric codes that BACI replaces with its own.
_REPLACED = {250: 251, 578: 579, 356: 699, 756: 757, 840: 842, 158: 490}


def synthetic_country_codes(n: int = N_COUNTRIES) -> np.ndarray:
    """About `n` numeric country codes as BACI writes them (its aliases included)."""
    numeric = sorted(reference.countries_base()["iso_numeric"].to_list())
    codes = sorted({_REPLACED.get(int(c), int(c)) for c in numeric} - set(_REPLACED))
    aliases = [c for c in NUMERIC_ALIASES if c in _REPLACED.values()]
    chosen = sorted(set(codes[: n - len(aliases)]) | set(aliases))
    return np.array(chosen, dtype=np.int32)


def synthetic_hs6_codes(n: int = N_PRODUCTS, seed: int = 0) -> np.ndarray:
    """`n` distinct six-digit codes spread over chapters 01-97, basket codes included."""
    rng = np.random.default_rng(seed)
    baskets = sorted(set(reference.load_mineral_baskets()["hs6"].to_list()))
    chapters = np.array([c for c in range(1, 98) if c != 77])
    codes: set[str] = set(baskets)
    while len(codes) < n:
        chapter = rng.choice(chapters, size=n)
        rest = rng.integers(100, 10_000, size=n)
        codes.update(f"{c:02d}{r:04d}" for c, r in zip(chapter, rest, strict=True))
    extra = sorted(codes - set(baskets))[: n - len(baskets)]
    return np.array(sorted(set(baskets) | set(extra)))


def _zipf_weights(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    weights = 1.0 / (np.arange(1, n + 1) + 5.0) ** exponent
    rng.shuffle(weights)
    return weights / weights.sum()


def generate_baci_frame(rows: int, year: int, seed: int = 0) -> pl.DataFrame:
    """A deterministic BACI-shaped frame (t, i, j, k as string, v, q) of `rows` rows."""
    rng = np.random.default_rng(seed)
    countries = synthetic_country_codes()
    products = synthetic_hs6_codes(seed=seed)
    n_c, n_p = len(countries), len(products)
    if rows > n_c * (n_c - 1) * n_p // 2:
        raise ValueError(f"{rows:,} rows is more than the synthetic product space allows")
    w_exp = _zipf_weights(n_c, 1.1, rng)
    w_imp = _zipf_weights(n_c, 0.9, rng)
    w_prod = _zipf_weights(n_p, 0.6, rng)
    keys = np.empty(0, dtype=np.int64)
    while keys.size < rows:
        draw = int((rows - keys.size) * 1.4) + 1_000
        i = rng.choice(n_c, size=draw, p=w_exp)
        j = rng.choice(n_c, size=draw, p=w_imp)
        k = rng.choice(n_p, size=draw, p=w_prod)
        ok = i != j
        new = (i[ok].astype(np.int64) * n_c + j[ok]) * n_p + k[ok]
        keys = np.unique(np.concatenate([keys, new]))
    keys = np.sort(rng.choice(keys, size=rows, replace=False))  # BACI files are sorted by i, j, k
    i_idx, rem = np.divmod(keys, n_c * n_p)
    j_idx, k_idx = np.divmod(rem, n_p)
    # Values in thousands of USD: a heavy tail above BACI's cut-off of USD 1,000.
    scale = w_exp[i_idx] * w_imp[j_idx] * w_prod[k_idx] * n_c * n_c * n_p
    value = np.round(1.0 + rng.lognormal(0.0, 2.2, rows) * np.sqrt(scale), 3)
    unit_value = rng.lognormal(1.0, 1.5, rows)  # thousand USD per ton
    quantity = np.round(value / unit_value, 3)
    quantity = np.where(rng.random(rows) < 0.02, np.nan, quantity)
    return pl.DataFrame(
        {
            "t": np.full(rows, year, dtype=np.int32),
            "i": countries[i_idx],
            "j": countries[j_idx],
            "k": products[k_idx],
            "v": value,
            "q": quantity,
        }
    ).with_columns(pl.col("q").fill_nan(None))


def generate_baci_csv(path: Path | str, rows: int, year: int, seed: int = 0) -> Path:
    """Write a synthetic BACI yearly CSV of `rows` rows at `path` and return the path.

    Name it like a release file (`BACI_HS17_Y2017_V202501.csv`) so `critmin ingest
    baci` reads the edition and release from the name. About 11 million rows make a
    full-size year (about 450 MB).
    """
    path = Path(path)
    frame = generate_baci_frame(rows, year, seed)
    frame.write_csv(path, float_precision=3, null_value="")
    log.info("wrote %s (%d rows)", path, rows)
    return path
