"""USGS figures beside the trade figures: a set of countries' production and reserves of
a mineral (the MCS statistics `reference/mineral_usgs.csv` matches to it, each with what
it measures) and the US net import reliance, with a sentence for whatever is missing.
Shown on Diversification for the Central Asian suppliers. Pure: no Streamlit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import polars as pl

from critmin.catalog import Catalog
from critmin.db import TableUnavailable
from critmin.domain import USGS_FLAG_MEANINGS
from critmin.reference import load_mineral_usgs

log = logging.getLogger(__name__)

RELIANCE = "net import reliance"
USA = "USA"
ONLY_USA = "USGS publishes net import reliance for the United States only."


@dataclass(frozen=True)
class Reliance:
    """One US net import reliance figure of the MCS release."""

    statistic: str
    measure: str
    year: int
    value: float | None  # percent
    flag: str | None
    shown: str  # "85%", ">95%", "net exporter"


@dataclass(frozen=True)
class Figures:
    production: pl.DataFrame  # Country, Statistic, Year, Value, Unit, Flag, Measure
    notes: tuple[str, ...]  # what mineral_usgs.csv says about the figures shown
    production_note: str | None  # why there is no production table, or what is missing
    reliance: tuple[Reliance, ...]
    reliance_note: str | None


EMPTY = pl.DataFrame(
    schema={
        "Country": pl.String,
        "Statistic": pl.String,
        "Year": pl.Int32,
        "Value": pl.Float64,
        "Unit": pl.String,
        "Flag": pl.String,
        "Measure": pl.String,
    }
)


def figures(
    catalog: Catalog, mineral: str, year: int, countries: tuple[str, ...], importer: str
) -> Figures:
    """The countries' production and reserves of the mineral in the year (else the latest
    year USGS gives), in the order of `countries`, and the US net import reliance when
    the importer is the United States."""
    label = catalog.mineral_label(mineral).lower()
    only_usa = None if importer == USA else ONLY_USA

    def missing(note: str, reliance_note: str | None = None) -> Figures:
        return Figures(EMPTY, (), note, (), only_usa or reliance_note or note)

    try:
        usgs = load_mineral_usgs()
    except (OSError, ReferenceError) as error:
        log.warning("mineral_usgs.csv cannot be read: %s", error)
        return missing(
            "Which USGS figures match each mineral is not available yet "
            f"(src/critmin/reference/mineral_usgs.csv: {error}), so production, reserves "
            "and net import reliance are not shown."
        )
    mapped = usgs.filter(pl.col("mineral") == mineral)
    if mapped.is_empty():
        return missing(
            "The USGS Mineral Commodity Summaries have no production or reserves figure "
            f"matched to {label}, so none is shown.",
            f"MCS gives no US net import reliance for {catalog.mineral_label(mineral)}.",
        )
    try:
        loaded = catalog.production((*countries, USA))
    except TableUnavailable as error:
        return missing(str(error))
    if loaded.is_empty():
        return missing(
            "USGS production and reserves are not loaded: load them with "
            "`critmin ingest usgs-mcs` (or `make real`)."
        )
    chosen = nearest_year(matched(loaded, mapped), year)
    rows = chosen.filter(pl.col("country").is_in(list(countries)) & ~pl.col("rel"))
    table = production_table(catalog, rows, countries)
    reliance = () if only_usa else us_reliance(chosen)
    return Figures(
        production=table.drop("Note"),
        notes=tuple(dict.fromkeys(n for n in table["Note"].to_list() if n)),
        production_note=coverage_note(
            catalog, label, mapped, set(rows["country"].to_list()), countries
        ),
        reliance=reliance,
        reliance_note=only_usa
        or (None if reliance else f"MCS gives no US net import reliance for {label}."),
    )


def matched(loaded: pl.DataFrame, mapped: pl.DataFrame) -> pl.DataFrame:
    """The loaded figures of the statistics mapped to the mineral, with what each
    measures, its note and whether it is a net import reliance (`rel`)."""
    return loaded.join(
        mapped.select(pl.col("mcs_commodity").alias("commodity"), "statistic", "measure", "note"),
        on=["commodity", "statistic"],
    ).with_columns(pl.col("statistic").str.to_lowercase().str.contains(RELIANCE).alias("rel"))


def production_table(
    catalog: Catalog, rows: pl.DataFrame, countries: tuple[str, ...]
) -> pl.DataFrame:
    """The figures as shown, countries in the given order, flags in words."""
    order = {c: i for i, c in enumerate(countries)}
    return rows.sort(
        pl.col("country").replace_strict(order, default=len(order)), "country", "statistic"
    ).select(
        catalog.country("country", "Country"),
        pl.col("statistic").alias("Statistic"),
        pl.col("year").alias("Year"),
        pl.col("value").alias("Value"),
        pl.col("unit").alias("Unit"),
        pl.col("value_flag")
        .replace_strict(USGS_FLAG_MEANINGS, default=pl.col("value_flag"))
        .fill_null("")
        .alias("Flag"),
        pl.col("measure").alias("Measure"),
        pl.col("note").alias("Note"),
    )


def us_reliance(chosen: pl.DataFrame) -> tuple[Reliance, ...]:
    return tuple(
        Reliance(statistic, measure, year, value, flag, reliance_text(value, flag))
        for statistic, measure, year, value, flag in chosen.filter(
            (pl.col("country") == USA) & pl.col("rel")
        )
        .sort("statistic")
        .select("statistic", "measure", "year", "value", "value_flag")
        .iter_rows()
    )


def coverage_note(
    catalog: Catalog,
    label: str,
    mapped: pl.DataFrame,
    listed: set[str],
    countries: tuple[str, ...],
) -> str | None:
    """Which of the countries USGS does not list for the mineral, in words (None: all)."""
    missing = [catalog.country_name(c) for c in countries if c not in listed]
    if listed and missing:
        return f"Not listed by USGS for {label}: {', '.join(missing)}."
    if listed:
        return None
    figures = mapped.filter(~pl.col("statistic").str.to_lowercase().str.contains(RELIANCE))
    statistics = ", ".join(figures["statistic"].to_list()) or "no country figures"
    notes = " ".join(n for n in mapped["note"].to_list() if n)
    return f"USGS lists none of the Central Asian countries for {label} ({statistics})." + (
        f" {notes}" if notes else ""
    )


def nearest_year(matched: pl.DataFrame, year: int) -> pl.DataFrame:
    """Per country and statistic, the figure of the chosen year, else the latest."""
    return (
        matched.sort([pl.col("year") == year, pl.col("year")], descending=[True, True])
        .group_by("country", "statistic", maintain_order=True)
        .first()
    )


def reliance_text(value: float | None, flag: str | None) -> str:
    """'85%', '>95%', 'net exporter', 'withheld'."""
    if value is None:
        return USGS_FLAG_MEANINGS.get(flag or "", flag or "not available")
    bound = flag if flag in (">", "<") else ""
    estimated = " (estimated)" if flag == "e" else ""
    return f"{bound}{value:,.0f}%{estimated}"
