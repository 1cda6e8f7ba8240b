"""The one generator of synthetic trade flows: BACI-shaped, at any size.

The embedded demo (`critmin demo`, a few hundred thousand flows of the mineral
baskets), the benchmark's warehouses (30 to 100 million flows over 5,000 HS codes)
and the benchmark's BACI yearly CSVs all come from `year_flows`, parameterised by
size. **Nothing here is real trade data**; pages that show these flows say so.

The model is a sparse gravity model with Zipf skew: exporter e ships product k to
importer i in a year with probability min(1, c * w_e * w_k * w_i) over ~80 to 220
countries (big traders first) and the chosen products, with c calibrated so a year
holds its target number of rows. Each flow is drawn once, so (year, exporter, hs6,
importer) is unique, as in BACI. A product's world value grows a little each year;
it is shared among its flows in proportion to the exporter's and the importer's
weights, boosted for a product's usual big exporters (`PROFILES`: China for
gallium, South Africa and Kazakhstan for ferrochrome, Chile for lithium carbonate).
Values are in USD (never USD 1,000 or less), quantities in kg with ~2% missing.

With `story=True` (the demo), Kazakhstan's exports of a few focus codes follow a
trajectory and a shift of partners from China and Russia towards the USA, Korea and
Europe (`KAZ_PATHS`), so the pages have a plausible story to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from critmin import reference
from critmin.domain import C5, FIRST_YEAR, HS_EDITIONS, latest_full_year
from critmin.schema import TABLES

EDITION = "HS12"
EXPORTER_ZIPF = 0.85
IMPORTER_ZIPF = 0.75
PRODUCT_ZIPF = 0.55
YEARLY_ROW_GROWTH = 0.02
MIN_VALUE_USD = 1_001.0  # BACI drops flows of USD 1,000 or less
WORLD_TRADE_USD = 1.8e13  # shared among codes without a profile, by popularity
DEFAULT_BASKET_WORLD_MUSD = 300.0
MAJOR_VALUE_BOOST = 25.0  # a profile's big exporters' weight in the value split
MAJOR_PRESENCE_BOOST = 12.0  # ... and in the chance of a flow

# Big traders first, in rough order of BACI row counts; Kazakhstan near rank 45.
TOP_TRADERS = (
    "DEU CHN USA ITA FRA NLD GBR ESP BEL JPN IND KOR CHE POL TUR AUT CZE SWE CAN DNK "
    "THA MYS SGP ARE BRA MEX ZAF VNM IDN AUS PRT HUN RUS FIN IRL NOR SVK GRC ROU SVN "
    "ISR LTU UKR HKG KAZ NZL EST LVA BGR ARG CHL PHL EGY SAU PAK COL HRV MAR PER LKA "
    "UZB KGZ TJK TKM GEO ARM AZE MNG BLR LUX CYP MLT IRN ZMB COD GAB GHA MOZ MDG NAM "
    "BOL TWN"
).split()

# code: (world exports in 2012 in USD m, unit value USD/kg, yearly growth, big exporters)
PROFILES: dict[str, tuple[float, float, float, dict[str, float]]] = {
    "283329": (1500, 0.9, 0.06, {"CHN": 0.45, "BEL": 0.08, "DEU": 0.07, "JPN": 0.05}),
    "811292": (1100, 280, 0.03, {"CHN": 0.40, "USA": 0.08, "DEU": 0.07, "JPN": 0.06}),
    "811299": (600, 150, 0.02, {"CHN": 0.30, "USA": 0.12, "DEU": 0.10, "JPN": 0.06}),
    "250410": (500, 0.6, 0.05, {"CHN": 0.55, "BRA": 0.08, "MOZ": 0.10, "MDG": 0.05}),
    "250490": (150, 0.5, 0.02, {"CHN": 0.45, "BRA": 0.10, "NOR": 0.05}),
    "380110": (2400, 2.5, 0.07, {"CHN": 0.40, "JPN": 0.15, "DEU": 0.10, "USA": 0.08}),
    "380190": (900, 1.5, 0.04, {"CHN": 0.30, "DEU": 0.15, "JPN": 0.12, "USA": 0.08}),
    "280530": (700, 40, 0.02, {"CHN": 0.60, "JPN": 0.08, "VNM": 0.05}),
    "284610": (250, 5, 0.01, {"CHN": 0.55, "FRA": 0.10, "JPN": 0.08}),
    "284690": (1400, 20, 0.04, {"CHN": 0.45, "MYS": 0.15, "JPN": 0.06, "EST": 0.04}),
    "283691": (1200, 6, 0.16, {"CHL": 0.45, "ARG": 0.20, "CHN": 0.15}),
    "282520": (900, 8, 0.17, {"CHN": 0.55, "CHL": 0.10, "RUS": 0.05, "USA": 0.05}),
    "260200": (4500, 0.2, 0.03, {"ZAF": 0.40, "AUS": 0.25, "GAB": 0.15, "GHA": 0.06}),
    "811100": (700, 2.5, 0.01, {"CHN": 0.75, "ZAF": 0.10}),
    "720211": (3500, 1.1, 0.01, {"IND": 0.25, "NOR": 0.12, "KOR": 0.10, "ZAF": 0.10}),
    "720230": (5500, 1.0, 0.02, {"IND": 0.25, "UKR": 0.10, "NOR": 0.08, "GEO": 0.06}),
    "260300": (55000, 2.5, 0.05, {"CHL": 0.35, "PER": 0.25, "AUS": 0.06, "MNG": 0.04}),
    "740311": (60000, 8.0, 0.02, {"CHL": 0.30, "COD": 0.12, "JPN": 0.06, "KAZ": 0.04}),
    "260800": (9000, 0.9, 0.03, {"AUS": 0.25, "PER": 0.20, "BOL": 0.10, "KAZ": 0.02}),
    "790111": (11000, 2.8, 0.02, {"KOR": 0.15, "CAN": 0.15, "AUS": 0.10, "KAZ": 0.08}),
    "281820": (9000, 0.4, 0.03, {"AUS": 0.45, "BRA": 0.12, "IND": 0.08, "KAZ": 0.04}),
    "284410": (3000, 110, 0.03, {"KAZ": 0.35, "UZB": 0.08, "CAN": 0.15, "AUS": 0.08}),
    # Kazakhstan's largest critical-mineral exports: ferrochrome above all.
    "261000": (2500, 0.25, 0.03, {"ZAF": 0.55, "TUR": 0.12, "KAZ": 0.05, "IND": 0.04}),
    "720241": (9000, 1.2, 0.02, {"ZAF": 0.40, "KAZ": 0.22, "IND": 0.12, "FIN": 0.05}),
    "720249": (1500, 1.3, 0.02, {"KAZ": 0.30, "ZAF": 0.20, "RUS": 0.10, "IND": 0.08}),
    "810820": (900, 9.0, 0.02, {"JPN": 0.30, "KAZ": 0.20, "CHN": 0.15, "RUS": 0.10}),
    "720221": (3000, 1.4, 0.02, {"CHN": 0.35, "RUS": 0.15, "NOR": 0.08, "KAZ": 0.07}),
    "280469": (4000, 2.2, 0.03, {"CHN": 0.50, "BRA": 0.10, "NOR": 0.08, "KAZ": 0.03}),
    "810194": (400, 40, 0.02, {"CHN": 0.45, "DEU": 0.10, "USA": 0.08, "KAZ": 0.02}),
    "810320": (350, 300, 0.02, {"CHN": 0.25, "USA": 0.15, "KAZ": 0.12, "DEU": 0.10}),
    "811212": (60, 500, 0.02, {"USA": 0.40, "KAZ": 0.25, "CHN": 0.15}),
    "810600": (250, 12, 0.01, {"CHN": 0.55, "BEL": 0.10, "KAZ": 0.05, "MEX": 0.05}),
    "811010": (400, 8, 0.02, {"CHN": 0.45, "RUS": 0.10, "TJK": 0.08, "VNM": 0.06}),
    "810411": (1200, 3, 0.02, {"CHN": 0.70, "ISR": 0.05, "KAZ": 0.03}),
    "750110": (2000, 9, 0.02, {"RUS": 0.30, "FIN": 0.15, "AUS": 0.10}),
    "260500": (1500, 8, 0.05, {"COD": 0.80, "ZMB": 0.05}),
}

# Kazakhstan's own path for the focus codes: (USD m in the first year, in the last).
KAZ_PATHS: dict[str, tuple[float, float]] = {
    "283329": (2.0, 68.0),
    "811292": (0.6, 16.0),
    "811299": (0.3, 4.0),
    "250410": (0.05, 3.0),
    "380110": (0.2, 9.0),
    "380190": (0.4, 2.5),
    "284690": (0.2, 3.5),
    "283691": (0.01, 1.2),
    "720241": (1400.0, 2300.0),
    "810820": (120.0, 190.0),
}
# Kazakhstan's destinations for the focus codes: shares in the first year -> the last.
KAZ_PARTNERS_START = {
    "CHN": 0.48,
    "RUS": 0.30,
    "DEU": 0.05,
    "KOR": 0.03,
    "USA": 0.02,
    "UZB": 0.04,
    "TUR": 0.03,
    "JPN": 0.02,
    "NLD": 0.03,
}
KAZ_PARTNERS_END = {
    "CHN": 0.36,
    "RUS": 0.14,
    "DEU": 0.08,
    "KOR": 0.12,
    "USA": 0.12,
    "UZB": 0.04,
    "TUR": 0.05,
    "JPN": 0.05,
    "NLD": 0.04,
}


@dataclass(frozen=True)
class Size:
    """How big a synthetic data set is."""

    rows: int  # reconciled flows over all years (before the story's own rows)
    countries: int = 220
    products: int = 0  # HS codes beside the baskets' (drawn from the HS nomenclature)


DEMO = Size(rows=450_000, countries=85)


@dataclass(frozen=True)
class Universe:
    """The countries and products flows are drawn from, with their weights."""

    countries: np.ndarray  # ISO3, sorted
    exporter_weight: np.ndarray
    importer_weight: np.ndarray
    products: np.ndarray  # HS6, sorted
    product_weight: np.ndarray  # chance of a flow
    world_usd: np.ndarray  # world exports in the first year, USD
    growth: np.ndarray  # yearly growth of world exports
    unit_value: np.ndarray  # USD per kg
    boost: np.ndarray  # exporter x product: the profile's big exporters


def years_for(last_year: int | None = None) -> list[int]:
    return list(range(FIRST_YEAR, (last_year or latest_full_year()) + 1))


def _zipf(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def build_universe(size: Size, seed: int, edition: str = EDITION) -> Universe:
    """Countries and products with their weights; the basket codes are always in, and
    so are the big traders, Central Asia and every profile's big exporters."""
    rng = np.random.default_rng(seed)
    iso3 = set(reference.countries_base()["iso3"].to_list())
    needed = [c for c in TOP_TRADERS if c in iso3]
    for _, _, _, majors in PROFILES.values():
        needed += [c for c in majors if c in iso3 and c not in needed]
    needed += [c for c in C5 if c not in needed]
    rest = sorted(iso3 - set(needed))
    rng.shuffle(rest)
    ranked = (needed + rest)[: max(size.countries, len(needed))]
    imp_ranked = ranked.copy()  # importers ranked a little differently (neighbours swapped)
    for i in range(0, len(imp_ranked) - 1, 3):
        imp_ranked[i], imp_ranked[i + 1] = imp_ranked[i + 1], imp_ranked[i]
    exp_w = dict(zip(ranked, _zipf(len(ranked), EXPORTER_ZIPF), strict=True))
    imp_w = dict(zip(imp_ranked, _zipf(len(imp_ranked), IMPORTER_ZIPF), strict=True))
    countries = np.array(sorted(ranked))

    baskets = reference.load_mineral_baskets().filter(pl.col("hs_edition") == edition)
    basket_codes = sorted(set(baskets["hs6"].to_list()))
    others: list[str] = []
    if size.products > len(basket_codes):
        pool = sorted(set(reference.hs2022_codes()) - set(basket_codes))
        picked = rng.choice(len(pool), size.products - len(basket_codes), replace=False)
        others = [pool[i] for i in picked]
    products = np.array(sorted(basket_codes + others))
    popularity = _zipf(len(products), PRODUCT_ZIPF)[rng.permutation(len(products))]
    popularity = popularity / popularity.sum()
    in_basket = np.isin(products, basket_codes)
    world = np.where(in_basket, DEFAULT_BASKET_WORLD_MUSD * 1e6, WORLD_TRADE_USD * popularity / 3.0)
    unit = np.exp(rng.normal(1.5, 1.6, len(products)))
    growth = np.full(len(products), 0.03)
    boost = np.ones((len(countries), len(products)), dtype=np.float32)
    index = {c: i for i, c in enumerate(countries)}
    for k, code in enumerate(products):
        if code in PROFILES:
            world_musd, unit_value, yearly, majors = PROFILES[code]
            world[k], unit[k], growth[k] = world_musd * 1e6, unit_value, yearly
            for country, share in majors.items():
                if country in index:
                    boost[index[country], k] = 1.0 + MAJOR_VALUE_BOOST * share * 10
    return Universe(
        countries=countries,
        exporter_weight=np.array([exp_w[c] for c in countries]),
        importer_weight=np.array([imp_w[c] for c in countries]),
        products=products,
        product_weight=popularity,
        world_usd=world,
        growth=growth,
        unit_value=unit,
        boost=boost,
    )


def calibrate(universe: Universe, target_rows: float) -> float:
    """The c of min(1, c * w_e * w_k * w_i) whose expected row count is target_rows
    (the profile boosts, on a few cells, are left out of the sum)."""
    cells = np.sort(np.outer(universe.product_weight, universe.importer_weight).ravel())
    cumulative = np.concatenate([[0.0], np.cumsum(cells)])

    def expected(c: float) -> float:
        total = 0.0
        for e, w in enumerate(universe.exporter_weight):
            below = np.searchsorted(cells, 1.0 / (c * w))
            total += (cells.size - below) + c * w * cumulative[below]
            own = c * w * universe.importer_weight[e] * universe.product_weight
            total -= float(np.minimum(own, 1.0).sum())  # no flows to oneself
        return total

    low, high = 1.0, 1e12
    for _ in range(80):
        mid = (low * high) ** 0.5
        low, high = (mid, high) if expected(mid) < target_rows else (low, mid)
    return (low * high) ** 0.5


def year_targets(rows: int, years: list[int]) -> dict[int, int]:
    growth = np.array([(1 + YEARLY_ROW_GROWTH) ** i for i in range(len(years))])
    shares = growth / growth.sum()
    return {y: int(round(rows * s)) for y, s in zip(years, shares, strict=True)}


def year_flows(
    universe: Universe,
    year: int,
    target_rows: int,
    seed: int,
    *,
    source: str = "baci",
    release: str = "synthetic",
    edition: str = EDITION,
) -> pl.DataFrame:
    """One year of reconciled BACI-shaped flows in the trade_flows schema."""
    rng = np.random.default_rng([seed, year])
    t = year - FIRST_YEAR
    c = calibrate(universe, target_rows)
    base = np.outer(universe.product_weight, universe.importer_weight).astype(np.float32)
    drift = np.exp(rng.normal(0.0, 0.04 * max(t, 1) ** 0.5, len(universe.countries)))
    exporters, products, importers = [], [], []
    for e, weight in enumerate(universe.exporter_weight):
        presence = np.where(universe.boost[e] > 1.0, MAJOR_PRESENCE_BOOST, 1.0).astype(np.float32)
        p = np.minimum(np.float32(c * weight) * base * presence[:, None], np.float32(1.0))
        p[:, e] = 0.0  # no flows from a country to itself
        k, i = np.nonzero(rng.random(p.shape, dtype=np.float32) < p)
        exporters.append(np.full(k.size, e, dtype=np.int32))
        products.append(k.astype(np.int32))
        importers.append(i.astype(np.int32))
    e_idx, k_idx, i_idx = (np.concatenate(a) for a in (exporters, products, importers))
    n = e_idx.size
    # Each product's world value, shared among its flows by the exporter's and the
    # importer's weights (the profile's big exporters boosted), with noise.
    weight = (
        (universe.exporter_weight[e_idx] * drift[e_idx]) ** 0.8
        * universe.importer_weight[i_idx] ** 0.6
        * universe.boost[e_idx, k_idx]
        * rng.lognormal(0.0, 0.9, n)
    )
    per_product = np.bincount(k_idx, weights=weight, minlength=len(universe.products))
    cycle = 1 + 0.1 * np.sin(t * 1.3 + universe.product_weight * 1e4)
    world = universe.world_usd * (1 + universe.growth) ** t * cycle
    value = np.maximum(np.round(world[k_idx] * weight / per_product[k_idx], 0), MIN_VALUE_USD)
    unit = universe.unit_value[k_idx] * (1.02**t) * rng.lognormal(0, 0.25, n)
    quantity = np.round(value / unit, 1)
    quantity[rng.random(n) < 0.02] = np.nan
    countries = pl.Series(universe.countries)
    return pl.DataFrame(
        {
            "year": np.full(n, year, dtype=np.int32),
            "hs_edition": pl.repeat(edition, n, eager=True),
            "hs6": pl.Series(universe.products).gather(k_idx),
            "exporter": countries.gather(e_idx),
            "importer": countries.gather(i_idx),
            "value_usd": value,
            "quantity_kg": quantity,
            "source": pl.repeat(source, n, eager=True),
            "side": pl.repeat("reconciled", n, eager=True),
            "release": pl.repeat(release, n, eager=True),
        }
    ).with_columns(pl.col("quantity_kg").fill_nan(None))


def kazakh_story(
    flows: pl.DataFrame, universe: Universe, years: list[int], seed: int
) -> pl.DataFrame:
    """Replace Kazakhstan's flows of the focus codes with its story: a trajectory per
    code and a shift of destinations away from China and Russia."""
    year = int(flows["year"][0])
    rng = np.random.default_rng([seed, year, 398])
    span = max(len(years) - 1, 1)
    t = (year - years[0]) / span
    focus = [code for code in KAZ_PATHS if code in set(universe.products.tolist())]
    kept = flows.filter(~((pl.col("exporter") == "KAZ") & pl.col("hs6").is_in(focus)))
    partners = [c for c in KAZ_PARTNERS_START if c in set(universe.countries.tolist())]
    mix = np.array([(1 - t) * KAZ_PARTNERS_START[c] + t * KAZ_PARTNERS_END[c] for c in partners])
    rows = []
    for code in focus:
        first, last = KAZ_PATHS[code]
        total = 1e6 * (first + (last - first) * t**1.6) * rng.uniform(0.85, 1.15)
        values = total * mix / mix.sum() * rng.lognormal(0, 0.1, len(partners))
        unit = universe.unit_value[int(np.searchsorted(universe.products, code))]
        for partner, value in zip(partners, values, strict=True):
            if value > MIN_VALUE_USD:
                quantity = round(value / (unit * rng.lognormal(0, 0.15)), 1)
                rows.append((code, partner, round(float(value), 0), quantity))
    story = pl.DataFrame(
        rows,
        schema={
            "hs6": pl.String,
            "importer": pl.String,
            "value_usd": pl.Float64,
            "quantity_kg": pl.Float64,
        },
        orient="row",
    ).with_columns(
        pl.lit(year, dtype=pl.Int32).alias("year"),
        pl.lit(str(flows["hs_edition"][0])).alias("hs_edition"),
        pl.lit("KAZ").alias("exporter"),
        pl.lit(str(flows["source"][0])).alias("source"),
        pl.lit("reconciled").alias("side"),
        pl.lit(str(flows["release"][0])).alias("release"),
    )
    return pl.concat([kept, story.select(kept.columns)])


def reported_sides(
    flows: pl.DataFrame, seed: int, source: str = "comtrade", release: str = "synthetic"
) -> pl.DataFrame:
    """Exporter- and importer-reported declarations of the flows touching Central Asia,
    with the usual CIF/FOB gap, a few declarations missing, and Kazakhstan's exports
    to Russia often seen by the importer only (EAEU transit)."""
    focus = flows.filter(pl.col("exporter").is_in(C5) | pl.col("importer").is_in(C5))
    rng = np.random.default_rng([seed, int(flows["year"][0]), 7])
    n = focus.height
    transit = ((focus["exporter"] == "KAZ") & (focus["importer"] == "RUS")).to_numpy()
    frames = []
    for side, mu, sigma, keep in (
        ("exporter_reported", -0.03, 0.10, 0.94),
        ("importer_reported", 0.08, 0.12, 0.96),
    ):
        factor = rng.lognormal(mu, sigma, n)
        if side == "exporter_reported":
            factor = np.where(transit, factor * 0.7, factor)
        weight = factor * rng.lognormal(0, 0.06, n)
        frames.append(
            focus.with_columns(
                (pl.col("value_usd") * factor).round(0).alias("value_usd"),
                (pl.col("quantity_kg") * weight).round(1).alias("quantity_kg"),
                pl.lit(side).alias("side"),
                pl.lit(source).alias("source"),
                pl.lit(release).alias("release"),
            ).filter(pl.Series(rng.random(n) < keep) & (pl.col("value_usd") > 0))
        )
    return pl.concat(frames)


def generate(
    size: Size,
    seed: int,
    last_year: int | None = None,
    *,
    story: bool = False,
    source: str = "baci",
    release: str = "synthetic",
) -> Iterator[pl.DataFrame]:
    """Reconciled flows, one year at a time (memory stays bounded by a year)."""
    universe = build_universe(size, seed)
    years = years_for(last_year)
    targets = year_targets(size.rows, years)
    for year in years:
        flows = year_flows(universe, year, targets[year], seed, source=source, release=release)
        if story:
            flows = kazakh_story(flows, universe, years, seed)
        yield flows.select(list(TABLES["trade_flows"].columns))


# --- monthly declarations (the embedded default's latest months) ---------------------------

# Who declares a reporter's monthly imports in the demo, as in reality: the US Census
# Bureau for the United States, Eurostat Comext for EU members, UN Comtrade for the rest.
# Months of delay before a reporter's month is published (a few publish later, Russia
# has published no detailed customs data since 2022), and months it leaves out.
MONTHLY_LAG = {"USA": 2, "CHN": 2, "KOR": 2, "JPN": 2, "TUR": 3, "IND": 4, "UZB": 6, "KGZ": 5}
DEFAULT_LAG = 3
SILENT_REPORTERS = ("RUS", "TKM")  # no monthly declarations at all
GAPS = {"UZB": 2, "IND": 1}  # months missing inside the published range
EXPORTER_LAG = 4  # the exporter's own declarations (Kazakhstan's) come later
SYNTHETIC_USD_PER_EUR = 1.08  # the demo's euro values; no real exchange rate
# Imports are declared CIF (Comtrade, Comext) or at customs value (US Census): the
# demo's mirror values carry a CIF margin over the reconciled FOB value.
CIF_MARGIN = {"comtrade": 0.07, "comext": 0.06, "census": 0.0}
# How the demo splits an HS6 code among national lines (the rest stays in other lines
# of the code): unwrought gallium and germanium in 811292.
LINE_SHARES = {
    "811292": {
        "CN8": {"81129289": 0.45, "81129295": 0.25},
        "HTS10": {"8112921000": 0.45, "8112926000": 0.2},
    }
}


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def monthly_declarations(
    reconciled: pl.DataFrame,
    first_year: int,
    as_of: dt.date,
    seed: int,
    eu_members: tuple[str, ...],
    release: str = "synthetic",
    exporters: tuple[str, ...] = C5,
) -> pl.DataFrame:
    """Synthetic monthly declarations in the monthly_flows schema, shaped like the three
    real sources, from January of `first_year` (the last reconciled year, so a backtest
    can run on it) to the month each reporter would have published by `as_of`:

    - the importers' declarations (mirror) of the `exporters`' exports (Central Asia),
      and the United States' and EU members' imports from everyone of the codes with
      national lines; one year's reconciled value (`reconciled`, the flows of
      `first_year`) spread over its months with seasonal noise, growing after it, with
      the CIF margin of the source;
    - the US rows as US Census answers (HS6 totals and HTS10 lines), the EU members' as
      Comext (CN8 lines and HS6 totals, in euros), the rest as UN Comtrade (HS6);
    - Kazakhstan's own export declarations (UN Comtrade), a little under the mirror and
      later, and its exports to Russia seen short (EAEU transit), as in `reported_sides`.

    **Nothing here is real trade data.**"""
    rng = np.random.default_rng([seed, first_year, 12])
    last_month = _month_index(as_of.year, as_of.month)
    lined = pl.col("importer").is_in(["USA", *eu_members]) & pl.col("hs6").is_in(list(LINE_SHARES))
    flows = reconciled.filter(pl.col("importer") != pl.col("exporter")).select(
        "hs6", "exporter", "importer", "value_usd", "quantity_kg"
    )
    mirror = flows.filter(
        (pl.col("exporter").is_in(exporters) | lined) & ~pl.col("importer").is_in(SILENT_REPORTERS)
    ).with_columns(
        pl.lit("importer_reported").alias("side"),
        pl.col("importer").alias("reporter"),
        pl.col("exporter").alias("partner"),
    )
    own = (
        flows.filter(pl.col("exporter") == "KAZ").with_columns(
            pl.lit("exporter_reported").alias("side"),
            pl.col("exporter").alias("reporter"),
            pl.col("importer").alias("partner"),
        )
        if "KAZ" in exporters
        else mirror.clear()
    )
    imported = pl.col("side") == "importer_reported"
    declared = (
        pl.concat([mirror, own])
        .with_row_index("declaration")
        .with_columns(
            pl.when(imported & (pl.col("reporter") == "USA"))
            .then(pl.lit("census"))
            .when(imported & pl.col("reporter").is_in(eu_members))
            .then(pl.lit("comext"))
            .otherwise(pl.lit("comtrade"))
            .alias("source"),
            pl.when(imported)
            .then(
                pl.col("reporter").replace_strict(
                    MONTHLY_LAG, default=DEFAULT_LAG, return_dtype=pl.Int64
                )
            )
            .otherwise(pl.lit(EXPORTER_LAG, pl.Int64))
            .alias("lag"),
        )
    )
    # The months each reporter has published, the same for all its declarations.
    published = []
    for reporter, side, lag in (
        declared.select("reporter", "side", "lag").unique().sort("reporter", "side").iter_rows()
    ):
        span = [
            (i // 12, i % 12 + 1)
            for i in range(_month_index(first_year, 1), last_month - int(lag) + 1)
        ]
        gaps = GAPS.get(reporter, 0)
        if gaps and len(span) > 6:
            for index in rng.choice(len(span) - 3, gaps, replace=False):
                span[int(index)] = (0, 0)
        published += [(reporter, side, y, m) for y, m in span if y]
    months = pl.DataFrame(
        published,
        schema={"reporter": pl.String, "side": pl.String, "year": pl.Int32, "month": pl.Int32},
        orient="row",
    )
    growth = rng.normal(0.05, 0.08, declared.height)
    declared = declared.with_columns(
        (
            pl.Series(growth)
            + pl.when(
                (pl.col("partner") != "KAZ")
                & pl.col("partner").is_in(["USA", "KOR", "DEU"])
                & (pl.col("reporter") == "KAZ")
                | ((pl.col("partner") == "KAZ") & pl.col("reporter").is_in(["USA", "KOR", "DEU"]))
            )
            .then(0.10)
            .otherwise(0.0)
        ).alias("growth"),
        pl.when(imported)
        .then(pl.col("source").replace_strict(CIF_MARGIN, return_dtype=pl.Float64))
        .otherwise(pl.when(pl.col("partner") == "RUS").then(-0.33).otherwise(-0.03))
        .alias("margin"),
    )
    rows = declared.join(months, on=["reporter", "side"])
    n = rows.height
    season = 1 + 0.12 * np.sin(rows["month"].to_numpy() / 12 * 2 * np.pi)
    factor = rng.lognormal(0.0, 0.25, n) * season * rng.lognormal(0.0, 0.02, n)
    rows = rows.with_columns(
        (
            pl.col("value_usd")
            * (1 + pl.col("growth")) ** (pl.col("year") - first_year)
            / 12.0
            * pl.Series(factor)
            * (1 + pl.col("margin"))
        )
        .round(0)
        .alias("usd")
    ).filter(pl.col("usd") >= 100)
    rows = rows.with_columns(
        (pl.col("quantity_kg") * pl.col("usd") / pl.col("value_usd")).round(1).alias("kg")
    )
    heads = rows.select(
        "year",
        "month",
        "reporter",
        "partner",
        "side",
        "source",
        "hs6",
        pl.lit("HS").alias("classification"),
        pl.col("hs6").alias("national_code"),
        "usd",
        "kg",
    )
    shares = pl.DataFrame(
        [
            (hs6, "census" if kind == "HTS10" else "comext", kind, code, share)
            for hs6, kinds in LINE_SHARES.items()
            for kind, codes in kinds.items()
            for code, share in codes.items()
        ],
        schema={
            "hs6": pl.String,
            "source": pl.String,
            "classification": pl.String,
            "national_code": pl.String,
            "share": pl.Float64,
        },
        orient="row",
    )
    split = rows.join(shares, on=["hs6", "source"])
    jitter = rng.uniform(0.8, 1.2, split.height)
    split = split.select(
        "year",
        "month",
        "reporter",
        "partner",
        "side",
        "source",
        "hs6",
        "classification",
        "national_code",
        (pl.col("usd") * pl.col("share") * pl.Series(jitter)).round(0).alias("usd"),
        (pl.col("kg") * pl.col("share")).round(1).alias("kg"),
    )
    edition = pl.lit(EDITION)
    for name, start in HS_EDITIONS.items():
        edition = pl.when(pl.col("year") >= start).then(pl.lit(name)).otherwise(edition)
    comext = pl.col("source") == "comext"
    return (
        pl.concat([heads, split])
        .with_columns(
            pl.when(comext)
            .then(pl.format("{}-{}", pl.col("year"), pl.col("month").cast(pl.String).str.zfill(2)))
            .when(pl.col("source") == "census")
            .then(pl.format("{}-{}", pl.col("year"), pl.col("month").cast(pl.String).str.zfill(2)))
            .otherwise(
                pl.format("{}{}", pl.col("year"), pl.col("month").cast(pl.String).str.zfill(2))
            )
            .alias("period"),
            pl.when(pl.col("side") == "importer_reported")
            .then(pl.lit("import"))
            .otherwise(pl.lit("export"))
            .alias("flow"),
            edition.alias("hs_edition"),
            pl.col("usd").cast(pl.Float64).alias("value_usd"),
            pl.when(comext)
            .then((pl.col("usd") / SYNTHETIC_USD_PER_EUR).round(0))
            .otherwise(pl.col("usd"))
            .cast(pl.Float64)
            .alias("value_native"),
            pl.when(comext).then(pl.lit("EUR")).otherwise(pl.lit("USD")).alias("currency"),
            pl.col("kg").cast(pl.Float64).alias("quantity_kg"),
            pl.lit(None, pl.Float64).alias("supp_quantity"),
            pl.lit(None, pl.String).alias("supp_unit"),
            pl.lit(release).alias("release"),
            pl.lit(as_of).alias("vintage"),
            (pl.col("year") >= as_of.year - 1).alias("provisional"),
        )
        .select(list(TABLES["monthly_flows"].columns))
        .sort("year", "month", "reporter", "partner", "national_code")
    )
