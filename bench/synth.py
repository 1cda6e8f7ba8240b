"""The benchmark's synthetic warehouse: BACI-shaped trade flows at any size.

Flows follow a gravity-like model with Zipf skew: the chance that exporter e
ships product k to importer i in a year is min(1, c * w_e * w_k * w_i), with
Zipf weights over ~220 countries (ISO3 from `reference.countries_base()`) and
~5,000 HS6 codes (every mineral-basket code plus real HS codes from the
products table), so big traders and common products hold most rows, as in
BACI. Each flow is drawn once, so (year, exporter, hs6, importer) is unique.
Values are in USD (BACI's thousands times 1,000, never USD 1,000 or less),
quantities in kg with ~2% missing.

Generation streams one year at a time and writes each year through the real
warehouse path (`validate_frame` + `write_table_files` inside a `Transaction`,
reference tables via `reference_tables.write_reference_tables`), so memory stays bounded
by one year's rows. A small `comtrade` part adds exporter- and importer-reported
sides for flows touching Central Asia, so the Mirror page has something to show.

The warehouse is cached under the output directory, keyed by rows, seed and a
fingerprint of the Parquet layout code, so re-runs skip generation.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from critmin import derive, reference, warehouse
from critmin.demo import write_curated_production
from critmin.domain import C5, FIRST_YEAR, latest_full_year
from critmin.reference_tables import write_reference_tables
from critmin.schema import TABLES, validate_frame
from critmin.warehouse import Provenance, Warehouse, write_table_files

log = logging.getLogger(__name__)

SYNTH_VERSION = "4"
EDITION = "HS12"
RELEASE = "synthetic-V1"
DEFAULT_SEED = 42
N_COUNTRIES = 220
N_PRODUCTS = 5_000
EXPORTER_ZIPF = 0.85
IMPORTER_ZIPF = 0.75
PRODUCT_ZIPF = 0.55
YEARLY_GROWTH = 0.02

# Big traders first, in rough order of BACI row counts; Kazakhstan near rank 45.
TOP_TRADERS = (
    "DEU CHN USA ITA FRA NLD GBR ESP BEL JPN IND KOR CHE POL TUR AUT CZE SWE CAN DNK "
    "THA MYS SGP ARE BRA MEX ZAF VNM IDN AUS PRT HUN RUS FIN IRL NOR SVK GRC ROU SVN "
    "ISR LTU UKR HKG KAZ NZL EST LVA BGR ARG CHL PHL EGY SAU PAK COL HRV MAR PER LKA"
).split()
KAZ_RANK = TOP_TRADERS.index("KAZ")


@dataclass(frozen=True)
class Universe:
    """The countries and products flows are drawn from, with their Zipf weights."""

    countries: np.ndarray  # ISO3, sorted
    country_weight: np.ndarray  # exporter weight, same order
    importer_weight: np.ndarray
    products: np.ndarray  # HS6, sorted
    product_weight: np.ndarray
    unit_value: np.ndarray  # USD per kg per product


def _zipf(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def build_universe(
    seed: int = DEFAULT_SEED, n_countries: int = N_COUNTRIES, n_products: int = N_PRODUCTS
) -> Universe:
    """Countries and products with weights; smaller sizes make quick test warehouses
    (the big traders, Kazakhstan among them, and every basket code are always kept)."""
    rng = np.random.default_rng(seed)
    iso3 = reference.countries_base()["iso3"].to_list()
    rest = sorted(set(iso3) - set(TOP_TRADERS))
    rng.shuffle(rest)
    ranked = [c for c in TOP_TRADERS if c in iso3] + rest
    ranked = ranked[: max(n_countries, KAZ_RANK + 1)]
    # Importers are ranked a little differently from exporters (swap neighbours).
    imp_ranked = ranked.copy()
    for i in range(0, len(imp_ranked) - 1, 3):
        imp_ranked[i], imp_ranked[i + 1] = imp_ranked[i + 1], imp_ranked[i]
    exp_w = dict(zip(ranked, _zipf(len(ranked), EXPORTER_ZIPF), strict=True))
    imp_w = dict(zip(imp_ranked, _zipf(len(imp_ranked), IMPORTER_ZIPF), strict=True))
    countries = np.array(sorted(ranked))

    baskets = reference.load_mineral_baskets().filter(pl.col("hs_edition") == EDITION)
    basket_codes = sorted(set(baskets["hs6"].to_list()))
    all_codes = (
        reference.load_products().filter(pl.col("hs_edition") == EDITION)["hs6"].unique().sort()
    )
    others = sorted(set(all_codes.to_list()) - set(basket_codes))
    picked = rng.choice(len(others), max(n_products - len(basket_codes), 0), replace=False)
    products = sorted(basket_codes + [others[i] for i in picked])
    # Product popularity: a random rank order, so basket codes land anywhere in the skew.
    ranks = rng.permutation(len(products))
    product_weight = _zipf(len(products), PRODUCT_ZIPF)[ranks]
    unit_value = np.exp(rng.normal(1.5, 1.6, len(products)))
    return Universe(
        countries=countries,
        country_weight=np.array([exp_w[c] for c in countries]),
        importer_weight=np.array([imp_w[c] for c in countries]),
        products=np.array(products),
        product_weight=product_weight / product_weight.sum(),
        unit_value=unit_value,
    )


def _calibrate(universe: Universe, target_rows: float) -> float:
    """The c of min(1, c * w_e * w_k * w_i) whose expected row count is target_rows."""
    cells = np.sort(np.outer(universe.product_weight, universe.importer_weight).ravel())
    cumulative = np.concatenate([[0.0], np.cumsum(cells)])

    def expected(c: float) -> float:
        total = 0.0
        for e, w in enumerate(universe.country_weight):
            threshold = 1.0 / (c * w)
            below = np.searchsorted(cells, threshold)
            total += (cells.size - below) + c * w * cumulative[below]
            # No flows from a country to itself.
            own = c * w * universe.importer_weight[e] * universe.product_weight
            total -= float(np.minimum(own, 1.0).sum())
        return total

    low, high = 1.0, 1e12
    for _ in range(80):
        mid = (low * high) ** 0.5
        if expected(mid) < target_rows:
            low = mid
        else:
            high = mid
    return (low * high) ** 0.5


def years_for(last_year: int | None = None) -> list[int]:
    return list(range(FIRST_YEAR, (last_year or latest_full_year()) + 1))


def year_targets(rows: int, years: list[int]) -> dict[int, int]:
    growth = np.array([(1 + YEARLY_GROWTH) ** i for i in range(len(years))])
    shares = growth / growth.sum()
    return {y: int(round(rows * s)) for y, s in zip(years, shares, strict=True)}


def year_flows(universe: Universe, year: int, target_rows: int, seed: int) -> pl.DataFrame:
    """One year of reconciled BACI-shaped flows, sorted by exporter, hs6, importer."""
    rng = np.random.default_rng([seed, year])
    c = _calibrate(universe, target_rows)
    base = np.outer(universe.product_weight, universe.importer_weight).astype(np.float32)
    exporters, products, importers = [], [], []
    for e, weight in enumerate(universe.country_weight):
        p = np.minimum(np.float32(c * weight) * base, np.float32(1.0))
        p[:, e] = 0.0  # no flows from a country to itself
        k, i = np.nonzero(rng.random(p.shape, dtype=np.float32) < p)
        exporters.append(np.full(k.size, e, dtype=np.int16))
        products.append(k.astype(np.int16))
        importers.append(i.astype(np.int16))
    e_idx = np.concatenate(exporters)
    k_idx = np.concatenate(products)
    i_idx = np.concatenate(importers)
    n = e_idx.size
    # Value: heavier for big pairs; BACI drops flows of USD 1,000 or less.
    scale = np.log(universe.country_weight[e_idx] * universe.importer_weight[i_idx] * 1e5)
    thousands = 1.0 + np.exp(rng.normal(2.0 + 0.35 * scale, 2.0, n))
    value = np.round(thousands, 3) * 1000.0
    unit = universe.unit_value[k_idx] * (1.02 ** (year - FIRST_YEAR)) * rng.lognormal(0, 0.35, n)
    quantity = np.round(value / unit, 1)
    quantity[rng.random(n) < 0.02] = np.nan
    countries = pl.Series(universe.countries)
    products_s = pl.Series(universe.products)
    return pl.DataFrame(
        {
            "year": np.full(n, year, dtype=np.int32),
            "hs_edition": pl.repeat(EDITION, n, eager=True),
            "hs6": products_s.gather(k_idx),
            "exporter": countries.gather(e_idx),
            "importer": countries.gather(i_idx),
            "value_usd": value,
            "quantity_kg": quantity,
            "source": pl.repeat("baci", n, eager=True),
            "side": pl.repeat("reconciled", n, eager=True),
            "release": pl.repeat(RELEASE, n, eager=True),
        }
    ).with_columns(pl.col("quantity_kg").fill_nan(None))


def reported_sides(flows: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Exporter- and importer-reported declarations of the flows touching Central Asia."""
    focus = flows.filter(pl.col("exporter").is_in(C5) | pl.col("importer").is_in(C5))
    rng = np.random.default_rng([seed, int(flows["year"][0]), 7])
    n = focus.height
    frames = []
    for side, mu, sigma, keep in (
        ("exporter_reported", -0.03, 0.10, 0.94),
        ("importer_reported", 0.08, 0.12, 0.96),
    ):
        factor = rng.lognormal(mu, sigma, n)
        frames.append(
            focus.with_columns(
                (pl.col("value_usd") * factor).round(0).alias("value_usd"),
                (pl.col("quantity_kg") * factor).round(1).alias("quantity_kg"),
                pl.lit(side).alias("side"),
                pl.lit("comtrade").alias("source"),
                pl.lit("synthetic").alias("release"),
            ).filter(pl.Series(rng.random(n) < keep) & (pl.col("value_usd") > 0))
        )
    return pl.concat(frames)


def layout_fingerprint() -> str:
    """Changes whenever the generator or the Parquet layout code changes."""
    digest = hashlib.sha256()
    digest.update(SYNTH_VERSION.encode())
    digest.update(inspect.getsource(write_table_files).encode())
    digest.update(str(warehouse.ROW_GROUP_SIZE).encode())
    digest.update(str(TABLES["trade_flows"].sort_by).encode())
    return digest.hexdigest()[:10]


def warehouse_dir(out: Path, rows: int, seed: int) -> Path:
    return out / f"warehouse-r{rows}-s{seed}-{layout_fingerprint()}"


def build_warehouse(
    root: Path,
    rows: int,
    seed: int = DEFAULT_SEED,
    last_year: int | None = None,
    universe: Universe | None = None,
) -> tuple[Warehouse, float]:
    """Generate the synthetic warehouse in `root` (replacing a partial one); return it
    and the seconds it took."""
    started = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    universe = universe or build_universe(seed)
    years = years_for(last_year)
    targets = year_targets(rows, years)
    wh = Warehouse(root)
    with wh.transaction(derived=derive.refresh) as tx:
        write_reference_tables(tx)
        write_curated_production(tx)
        baci_dir = tx.new_part_dir("trade_flows", "baci")
        comtrade_dir = tx.new_part_dir("trade_flows", "comtrade")
        for year in years:
            flows = year_flows(universe, year, targets[year], seed)
            write_table_files("trade_flows", validate_frame("trade_flows", flows), baci_dir)
            sides = reported_sides(flows, seed)
            write_table_files("trade_flows", validate_frame("trade_flows", sides), comtrade_dir)
            log.info("year %d: %d flows (+%d reported)", year, flows.height, sides.height)
            del flows, sides
        tx.set_part("trade_flows", "baci", baci_dir, source="baci", release=RELEASE)
        tx.set_part("trade_flows", "comtrade", comtrade_dir, source="comtrade", release="synthetic")
        tx.add_provenance(
            Provenance.without_file(
                source="baci",
                release=RELEASE,
                table="trade_flows",
                licence="MIT (this project)",
                citation="Synthetic benchmark flows shaped like CEPII BACI; not real data",
            )
        )
    return wh, time.perf_counter() - started


def ensure_warehouse(out: Path, rows: int, seed: int = DEFAULT_SEED) -> tuple[Path, float | None]:
    """The cached warehouse for (rows, seed, layout), generated if absent. Returns its
    directory and the generation time (None when it came from the cache)."""
    root = warehouse_dir(out, rows, seed)
    if Warehouse(root).exists():
        # A warehouse cached by an earlier version gets current derived tables.
        derive.reindex(Warehouse(root))
        return root, None
    _, seconds = build_warehouse(root, rows, seed)
    return root, seconds
