"""The exact product for an importer: what the United States or the EU27 bought of a
mineral by supplier and year, read from their customs offices' national lines graded
exact (US HTS10 from the US Census Bureau, EU CN8 from Eurostat Comext) instead of the
shared HS6 basket. Diversification and Suppliers use it when the user asks for the
exact product; the answer says which lines, which months and what is missing, and
falls back to the basket (saying so) when there are none. Pure: no Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin import grades, queries
from critmin.catalog import Catalog
from critmin.db import Database
from critmin.filters import MonthlyFilter

PRODUCTS = {"basket": "HS6 basket (BACI)", "exact": "Exact national lines (US, EU)"}


@dataclass(frozen=True)
class ExactPurchases:
    purchases: pl.DataFrame  # year, supplier, value_usd, quantity_kg (as imports_by_supplier)
    note: str  # which lines, source, months; shown next to the figures


def purchases(
    db: Database, catalog: Catalog, importer: str, mineral: str, first_year: int, year: int
) -> tuple[ExactPurchases | None, str]:
    """The importer's purchases of the mineral's exact lines per year to `year`, or None
    and the reason the basket is used instead."""
    name = catalog.country_name(importer)
    label = catalog.mineral_label(mineral)
    lines = grades.exact_lines(catalog, mineral, importer)
    if lines.is_empty():
        where = "the United States (HTS10) and the EU27 (CN8)"
        return None, (
            f"No exact national line of {name} for {label.lower()} (critmin reads those of "
            f"{where}): the figures are the HS6 basket's."
        )
    classification = str(lines["classification"][0])
    f = MonthlyFilter((mineral,), first_year * 100 + 1, year * 100 + 12, exact=True)
    rows = queries.monthly_imports(db, f, catalog.members(importer)).frame.filter(
        pl.col("classification") == classification
    )
    codes = ", ".join(lines["code"].to_list())
    publisher = grades.publisher(importer)
    in_year = rows.filter(pl.col("year") == year)
    if in_year.is_empty():
        loaded = catalog.monthly.filter(pl.col("classification") == classification)
        span = (
            f"loaded: {int(loaded['first_ym'].min()) // 100}–{int(loaded['last_ym'].max()) // 100}"  # type: ignore[arg-type]
            if loaded.height
            else f"none loaded (`critmin ingest {'census' if classification == 'HTS10' else 'comext'}`)"
        )
        return None, (
            f"No declarations by {publisher} of {classification} {codes} for {year} ({span}): "
            "the figures are the HS6 basket's."
        )
    unpriced = in_year.filter(pl.col("value_usd").is_null()).height
    if unpriced:
        return None, (
            f"{unpriced:,} of the {year} declarations by {name} of {codes} are in euros without an "
            "exchange rate (load Comext with --eur-usd): the figures are the HS6 basket's."
        )
    months = int(in_year.select(pl.col("month").n_unique()).item())
    reached = int(in_year.select(pl.col("month").max()).item())
    bought = rows.group_by("year", "supplier").agg(
        pl.col("value_usd").sum(),
        pl.when(pl.col("quantity_kg").null_count() == 0)
        .then(pl.col("quantity_kg").sum())
        .alias("quantity_kg"),
    )
    partial = (
        f" {year} holds {months} months (to {reached:02d}/{year}), not a full year."
        if months < 12
        else ""
    )
    provisional = (
        " Provisional (not yet through the annual revision)."
        if in_year["provisional"].any()
        else ""
    )
    note = (
        f"Exact product: imports by {name} of {classification} {codes} ({label.lower()} only), "
        f"summed from the monthly declarations published by {publisher}, not the HS6 basket."
        f"{partial}"
        f"{provisional}"
    )
    return ExactPurchases(bought.sort("year", "value_usd", descending=[False, True]), note), note
