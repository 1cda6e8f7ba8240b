"""What pages say about their data: the synthetic-data banner, notes on baskets whose
codes hold other goods, the codes and declaration behind a figure, and empty results
in words."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
import streamlit as st

from critmin.catalog import Catalog
from critmin.domain import SIDE_LABELS

REAL_DATA_COMMAND = "make real"


def data_banner(catalog: Catalog) -> None:
    if "demo" in catalog.trade_sources:
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


def codes_used(catalog: Catalog, minerals: Iterable[str]) -> str:
    """'HS codes (HS12) — Gallium: 811292, 811299; ...' for a caption."""
    parts = []
    baskets = catalog.baskets_in_data(minerals)
    for (mineral,), group in baskets.group_by(["mineral"], maintain_order=True):
        codes = ", ".join(sorted(set(group["hs6"].to_list())))
        parts.append(f"{catalog.mineral_label(str(mineral))}: {codes}")
    editions = ", ".join(catalog.editions) or "none"
    return f"HS codes ({editions}) — " + "; ".join(parts) if parts else ""


def side_caption(side: str) -> str:
    return f"Figures: {SIDE_LABELS.get(side, side)} flows."


def side_phrase(side: str) -> str:
    """'Reconciled (BACI) flows', for sentences."""
    return f"{SIDE_LABELS.get(side, side)} flows"


def empty(message: str) -> None:
    st.info(message, icon=":material/search_off:")
