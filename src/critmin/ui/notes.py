"""What pages say about their data: the synthetic-data banner, notes on baskets whose
codes hold other goods, the codes and declaration behind a figure, and empty results
in words."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl
import streamlit as st

from critmin import loaded
from critmin.catalog import STAGE_LABELS, Catalog
from critmin.domain import SIDE_LABELS

REAL_DATA_COMMAND = "make real"


def data_banner(catalog: Catalog) -> None:
    """What every page says about its data: the one line of what is loaded and how
    recent it is, and a banner when the trade flows are synthetic or absent."""
    st.caption(catalog.as_of or loaded.data_as_of(catalog.trade_table, catalog.parts_table))
    if "demo" in catalog.trade_sources or catalog.monthly_synthetic:
        st.warning(
            "**Synthetic trade flows.** The trade figures on this page are generated for "
            "demonstration, not real statistics (production, reserves and sites are real "
            f"USGS data). Load the real releases with `{REAL_DATA_COMMAND}` "
            "(see README, *Loading real data*).",
            icon=":material/science:",
        )
    elif not catalog.trade_sources:
        st.info(
            f"No trade flows are loaded. Load them with `{REAL_DATA_COMMAND}`, "
            "`critmin fetch baci` or `critmin ingest baci PATH`."
        )


def basket_notes(catalog: Catalog, minerals: Iterable[str]) -> None:
    """Under a chart: the chosen baskets' codes that also hold other goods; a code whose
    note starts with "Warning:" (2617.90, which outweighs beryllium metal) as a warning."""
    shared = catalog.baskets_in_data(minerals).filter(pl.col("shared_basket"))
    warned = shared.filter(pl.col("note").str.starts_with("Warning:"))
    for mineral, hs6, note in sorted(set(warned.select("mineral", "hs6", "note").iter_rows())):
        st.warning(f"**{catalog.mineral_label(str(mineral))} — HS {hs6}**: {note}")
    shared = shared.filter(~pl.col("note").str.starts_with("Warning:"))
    if shared.height:
        lines = sorted(
            {
                f"- **{catalog.mineral_label(str(mineral))} — HS {hs6}**: {note}"
                for mineral, hs6, note in shared.select("mineral", "hs6", "note").iter_rows()
            }
        )
        st.caption(
            "**Basket codes shared with other goods** — values may include them:\n"
            + "\n".join(lines)
        )


def shared_codes(catalog: Catalog, minerals: Iterable[str], where: Any = st) -> None:
    """Right under the figures that count them: the chosen minerals' codes that also
    hold other goods or other minerals, and what they hold."""
    chosen = list(minerals)
    lines = [
        f"**{catalog.mineral_label(m)}**: {catalog.shared_notes[m]}"
        for m in chosen
        if m in catalog.shared_notes
    ]
    if not lines:
        return
    whose = "these figures count" if len(chosen) == 1 else "figures of these minerals count"
    where.warning(
        f"**Shared codes** — {whose} every good in the code, not this mineral alone. "
        + "; ".join(lines)
        + ".",
        icon=":material/call_split:",
    )


def codes_used(catalog: Catalog, minerals: Iterable[str], stages: Iterable[str] = ()) -> str:
    """'HS codes (HS12) — Gallium: 811292, 811299; ...' for a caption (the codes of the
    stages kept, when some are)."""
    parts = []
    baskets = catalog.baskets_in_data(minerals)
    kept = list(stages)
    if kept:
        baskets = baskets.filter(pl.col("stage").is_in(kept))
    for (mineral,), group in baskets.group_by(["mineral"], maintain_order=True):
        codes = ", ".join(sorted(set(group["hs6"].to_list())))
        parts.append(f"{catalog.mineral_label(str(mineral))}: {codes}")
    editions = ", ".join(catalog.editions) or "none"
    return f"HS codes ({editions}) — " + "; ".join(parts) if parts else ""


def figures_caption(
    catalog: Catalog,
    minerals: Iterable[str],
    codes: Iterable[str] = (),
    stages: Iterable[str] = (),
    side: str | None = None,
) -> str:
    """What the figures under a title are made of, the parts that apply joined by " · ":
    the basket codes, codes chosen directly, the stages kept, the declaration."""
    chosen = list(codes)
    kept = [STAGE_LABELS.get(s, s).split(" (")[0].lower() for s in stages]
    parts = [
        codes_used(catalog, minerals, stages),
        f"HS codes chosen directly: {', '.join(chosen)}" if chosen else "",
        f"Value-chain stage: {', '.join(kept)} only" if kept else "",
        side_caption(side) if side else "",
    ]
    return " · ".join(p for p in parts if p)


def try_another_side(catalog: Catalog) -> str:
    """The advice to try another declaration, only when another one is loaded."""
    return " Try another declaration in the sidebar." if len(catalog.trade_sides) > 1 else ""


def side_caption(side: str) -> str:
    return f"Figures: {SIDE_LABELS.get(side, side)} flows."


def side_phrase(side: str) -> str:
    """'Reconciled (BACI) flows', for sentences."""
    return f"{SIDE_LABELS.get(side, side)} flows"


def empty(message: str) -> None:
    st.info(message, icon=":material/search_off:")


BADGES = {
    "exact": ":green-badge[exact]",
    "proxy": ":blue-badge[proxy]",
    "basket": ":orange-badge[basket]",
}
# Past this many minerals the grade line is a summary (Overview reads every basket).
GRADE_LINES_MAX = 4


def exactness(
    catalog: Catalog,
    minerals: Iterable[str],
    importer: str | tuple[str, ...] | None = None,
    exact: bool = False,
    hint: bool = True,
) -> None:
    """At the top of a page, next to its figures: how exact each series is about its
    mineral (exact / proxy / basket, naming the other goods), and for an importer whose
    customs office publishes exact national lines (the USA, the EU27), that they exist or
    that they are used."""
    from critmin import grades

    chosen = list(dict.fromkeys(minerals))
    importers = (importer,) if isinstance(importer, str) else tuple(importer or ())
    if exact and importers:
        lines = [
            f"**{g.label}** {BADGES[g.grade]} {g.codes}, from the monthly declarations "
            f"published by {grades.publisher(who)}"
            + (f" — also holds: {g.other_goods}" if g.other_goods else "")
            for who in importers
            for g in grades.line_grades(catalog, chosen, who)
        ]
        if not lines:
            names = " or ".join(catalog.country_name(who) for who in importers)
            lines = [
                f"No exact national line of {names} for "
                f"{', '.join(catalog.mineral_label(m) for m in chosen)}: nothing to show as "
                "the exact product."
            ]
        st.caption("**Exact product.** " + "  \n".join(lines))
        return
    graded = grades.basket_grades(catalog, chosen)
    if len(graded) > GRADE_LINES_MAX:
        shared = [g.label for g in graded if g.grade == "basket"]
        text = (
            f"**Exactness:** {len(shared)} of {len(graded)} minerals are read from HS6 codes "
            f"shared with other goods {BADGES['basket']}"
            + (f" ({', '.join(shared[:12])}{'…' if len(shared) > 12 else ''})" if shared else "")
            + f"; the others {BADGES['exact']}. Each code's other goods: About the data."
        )
        st.caption(text)
    else:
        st.caption(
            "  \n".join(
                f"**{g.label}** {BADGES[g.grade]} {g.codes}"
                + (
                    f" — also holds: {g.other_goods}"
                    if g.other_goods
                    else " — holds only this mineral"
                )
                for g in graded
            )
        )
    for who in importers if hint else ():
        isolated = [g for g in grades.line_grades(catalog, chosen, who) if g.grade == "exact"]
        if isolated:
            st.caption(
                f"Customs declarations of {catalog.country_name(who)} isolate "
                + "; ".join(f"{g.label} ({g.codes})" for g in isolated)
                + ": choose **Product: exact national lines** in the sidebar."
            )


def provisional(frame: pl.DataFrame, note: str | None = None) -> None:
    """Under an annual chart: what its dashed provisional years are, or why there are none."""
    if not frame.is_empty() and "basis" in frame.columns:
        years = sorted(
            {int(y) for y in frame.filter(pl.col("basis").str.starts_with("provisional"))["year"]}
        )
        if years:
            st.caption(
                f"**Dashed, provisional: {', '.join(map(str, years))}.** Estimated from partners' "
                "monthly import declarations, annualised (FOB); not reconciled statistics and "
                "never added to the solid BACI years. Method, coverage and backtest: the "
                "*Latest months* page."
            )
            return
    if note:
        st.caption(note)
