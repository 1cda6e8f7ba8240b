"""Domain constants, defined once: HS editions, source and side names, Comtrade
flow codes, USGS value tokens, the default view of the explorer."""

from __future__ import annotations

import datetime as dt

# Harmonized System editions, in order, with the year each came into force.
HS_EDITIONS: dict[str, int] = {
    "HS92": 1992,
    "HS96": 1996,
    "HS02": 2002,
    "HS07": 2007,
    "HS12": 2012,
    "HS17": 2017,
    "HS22": 2022,
}

# Sources a trade flow can come from, and the side of the declaration it reflects.
TRADE_SOURCES = ("baci", "comtrade", "demo")
TRADE_SIDES = ("reconciled", "exporter_reported", "importer_reported")
SIDE_LABELS = {
    "reconciled": "Reconciled (BACI)",
    "exporter_reported": "Exporter-reported",
    "importer_reported": "Importer-reported (mirror)",
}

# Monthly declarations (table monthly_flows): who publishes them, the code lists their
# goods are declared in (an HS6 code, the EU's eight-digit Combined Nomenclature, the
# US ten-digit Harmonized Tariff Schedule or, for US exports, Schedule B), and the
# direction of the declaration.
MONTHLY_SOURCES = ("comtrade", "comext", "census")
MONTHLY_SOURCE_LABELS = {
    "comtrade": "UN Comtrade (monthly)",
    "comext": "Eurostat Comext",
    "census": "US Census Bureau",
}
CLASSIFICATIONS = ("HS", "CN8", "HTS10", "SCHEDULE_B")
MONTHLY_FLOWS = ("import", "export")
# How exact a series is about its mineral (reference/national_lines.csv, baskets):
# exact = the line holds only the mineral; proxy = dominated by it; basket = shared
# with other goods, which are named.
GRADES = ("exact", "proxy", "basket")

# UN Comtrade flow codes: exports and re-exports are the exporter's declaration,
# imports and re-imports the importer's (the "mirror").
COMTRADE_EXPORT_FLOWS = ("X", "RX")
COMTRADE_IMPORT_FLOWS = ("M", "RM")
COMTRADE_WORLD_PARTNER = 0

# USGS Mineral Commodity Summaries: tokens that stand for a missing value.
USGS_MISSING_TOKENS = {
    "W": "withheld",
    "NA": "not available",
    "XX": "not applicable",
    "—": "zero or negligible",
    "-": "zero or negligible",
    "": "blank",
}

# Deposit status vocabulary shown on the map.
DEPOSIT_STATUSES = (
    "producing",
    "plant",
    "development",
    "exploration",
    "past producer",
    "occurrence",
    "unknown",
)

# Stages of a mineral's value chain used in baskets (docs/baskets.md, "Stages"): the
# primary chain ore -> intermediate -> refined, and waste and scrap (secondary material,
# not a step of that chain).
STAGES = ("ore", "intermediate", "refined", "scrap")

# Countries in focus.
FOCUS_COUNTRY = "KAZ"
C5 = ("KAZ", "KGZ", "TJK", "TKM", "UZB")

# Partner groups of the Partners page, in display order; "Rest of world" takes the rest.
PARTNER_GROUPS: dict[str, tuple[str, ...]] = {
    "China": ("CHN",),
    "Russia": ("RUS",),
    "United States": ("USA",),
    "EU27": (),  # resolved from the countries table
    "Korea": ("KOR",),
    "Japan": ("JPN",),
    "Turkey": ("TUR",),
    "C5 neighbours": ("KGZ", "TJK", "TKM", "UZB"),
}
REST_OF_WORLD = "Rest of world"

# The explorer's default view.
DEFAULT_MINERALS = ("manganese_sulfate", "gallium", "graphite")
FIRST_YEAR = 2012


def latest_full_year(today: dt.date | None = None) -> int:
    """The last calendar year that has ended."""
    return (today or dt.date.today()).year - 1
