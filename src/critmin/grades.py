"""How exact each series a page shows is about its mineral: `exact` (every code holds
only the mineral, e.g. a national line for unwrought gallium), `proxy` (a national line
dominated by the mineral) or `basket` (an HS6 code shared with other goods, which are
named). Pages show the grade next to their figures (`ui.notes.exactness`).

- A mineral read at HS6 (the mineral baskets) is a basket when one of its codes in the
  HS editions loaded is a shared basket code, and exact otherwise; the other goods are
  the basket note's first sentence.
- A mineral read from national lines takes the worst grade of its lines.
- `exact_lines` says which national lines isolate a mineral for an importer: the United
  States (HTS10) and the EU27 (CN8).

Pure: no Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from critmin.catalog import Catalog

ORDER = {"exact": 0, "proxy": 1, "basket": 2}
# The importers whose customs offices publish national lines critmin reads, and the
# classification of those lines.
LINE_IMPORTERS = {"USA": "HTS10", "EU27": "CN8"}
LINE_PUBLISHERS = {"HTS10": "the US Census Bureau", "CN8": "Eurostat (Comext)"}


@dataclass(frozen=True)
class Grade:
    mineral: str
    label: str
    grade: str
    codes: str  # "HS 811292, 811299" or "HTS10 8112921000"
    other_goods: str  # empty when exact


def _first_sentence(text: str, limit: int = 160) -> str:
    sentence = text.split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def basket_grades(catalog: Catalog, minerals: Iterable[str]) -> list[Grade]:
    """The grade of each mineral read at HS6 in the editions the data hold (all
    editions when none is loaded)."""
    chosen = list(dict.fromkeys(minerals))
    baskets = catalog.baskets.filter(pl.col("mineral").is_in(chosen))
    if catalog.editions:
        newest = catalog.editions[-1]
        in_data = baskets.filter(pl.col("hs_edition") == newest)
        baskets = in_data if in_data.height else baskets
    # One pass over the baskets (a page's every rerun draws the grades of up to every
    # mineral): each mineral's codes, and those shared with other goods with their notes.
    per_mineral = {
        mineral: (codes, shared, notes)
        for mineral, codes, shared, notes in baskets.unique(
            ["mineral", "hs6"], keep="first", maintain_order=True
        )
        .sort("mineral", "hs6")
        .group_by("mineral", maintain_order=True)
        .agg(
            pl.col("hs6"),
            pl.col("hs6").filter(pl.col("shared_basket")).alias("shared"),
            pl.col("note").filter(pl.col("shared_basket")).alias("notes"),
        )
        .iter_rows()
    }
    grades = []
    for mineral in chosen:
        if mineral not in per_mineral:
            continue
        codes, shared, notes = per_mineral[mineral]
        other = "; ".join(
            f"HS {hs6}: {_first_sentence(note)}" for hs6, note in zip(shared, notes, strict=True)
        )
        grades.append(
            Grade(
                mineral,
                catalog.mineral_label(mineral),
                "basket" if shared else "exact",
                f"HS {', '.join(codes)}",
                other,
            )
        )
    return grades


def exact_lines(catalog: Catalog, mineral: str, importer: str) -> pl.DataFrame:
    """The national lines graded exact for a mineral in the importer's classification
    (empty when the importer publishes none critmin reads)."""
    classification = LINE_IMPORTERS.get(importer)
    lines = catalog.national_lines
    if classification is None or lines.is_empty():
        return pl.DataFrame(schema={"classification": pl.String, "code": pl.String})
    return lines.filter(
        (pl.col("mineral") == mineral)
        & (pl.col("classification") == classification)
        & (pl.col("grade") == "exact")
    ).unique("code", maintain_order=True)


def line_grades(catalog: Catalog, minerals: Iterable[str], importer: str) -> list[Grade]:
    """The grade of each mineral read from an importer's national lines (minerals without
    a line for that importer are left out)."""
    grades = []
    for mineral in dict.fromkeys(minerals):
        lines = exact_lines(catalog, mineral, importer)
        if lines.is_empty():
            continue
        worst = max(lines["grade"].to_list(), key=ORDER.__getitem__)
        codes = ", ".join(
            f"{c} ({label})" for c, label in lines.select("code", "label").iter_rows()
        )
        other = "; ".join(g for g in lines["other_goods"].drop_nulls().to_list() if g)
        grades.append(
            Grade(
                mineral,
                catalog.mineral_label(mineral),
                worst,
                f"{lines['classification'][0]} {codes}",
                other,
            )
        )
    return grades


def publisher(importer: str) -> str:
    return LINE_PUBLISHERS.get(LINE_IMPORTERS.get(importer, ""), "")
