"""What the warehouse holds, in words, read from it and never written by hand: the
sources and releases of the trade flows with their years and publication dates, the
production and site sets, and how far quantities cover the flows. Every page shows the
one line of `data_as_of`; the About page says the rest. Pure functions of the
catalog's tables (trade_summary per year and release, the manifest's parts) and of
the quantity_coverage query's rows; no Streamlit.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass

import polars as pl

from critmin import sources

# Sources without a file of their own in critmin.sources, and the USGS MCS named by its
# edition ("USGS Mineral Commodity Summaries 2026").
SOURCE_NAMES = {
    "demo": "synthetic demo flows",
    "curated": "plants and sites curated for critmin",
    "usgs_mcs": "USGS Mineral Commodity Summaries",
}
EDITION_NAMES = {  # BACI's and the manifest's edition ids, as the HS names them
    "HS92": "HS1992",
    "HS96": "HS1996",
    "HS02": "HS2002",
    "HS07": "HS2007",
    "HS12": "HS2012",
    "HS17": "HS2017",
    "HS22": "HS2022",
}
BACI_RELEASE = re.compile(r"^V(?P<year>\d{4})(?P<month>\d{2})$")
MCS_RELEASE = re.compile(r"^MCS(?P<year>\d{4})$")


def source_name(source: str) -> str:
    """How users know a source the manifest names by its id: the title of its source
    file (critmin.sources: "CEPII BACI"; the deposits formats as `deposits_<id>`)."""
    if source in SOURCE_NAMES:
        return SOURCE_NAMES[source]
    for name in (source, f"deposits_{source}"):
        try:
            return sources.source(name).title
        except sources.SourceFileError:
            continue
    return source


def edition_name(edition: str) -> str:
    return EDITION_NAMES.get(edition, edition)


def release_date(source: str, release: str) -> str | None:
    """When a release was published, from its name where the name says it: BACI
    "V202601" is January 2026 (CEPII names releases by year and month)."""
    match = BACI_RELEASE.match(release or "")
    if source == "baci" and match and 1 <= int(match["month"]) <= 12:
        return f"{calendar.month_name[int(match['month'])]} {match['year']}"
    return None


@dataclass(frozen=True)
class TradeRelease:
    """One release of trade flows as loaded."""

    source: str
    release: str
    sides: tuple[str, ...]
    editions: tuple[str, ...]
    first_year: int
    last_year: int
    flows: int
    loaded_on: str  # date the part was written (YYYY-MM-DD), "" when unknown

    @property
    def synthetic(self) -> bool:
        return self.source == "demo"

    @property
    def published(self) -> str | None:
        return release_date(self.source, self.release)

    def describe(self) -> str:
        """ "CEPII BACI release V202601 (released January 2026), HS2017 codes, 2017–2024:
        1,234 flows"."""
        if self.synthetic:
            return (
                f"Synthetic demo flows (generated, not real statistics), "
                f"{self.first_year}–{self.last_year}: {self.flows:,} flows"
            )
        when = f"released {self.published}" if self.published else self._loaded()
        editions = ", ".join(edition_name(e) for e in self.editions)
        return (
            f"{source_name(self.source)} release {self.release} ({when}), {editions} codes, "
            f"{self.first_year}–{self.last_year}: {self.flows:,} flows"
        )

    def _loaded(self) -> str:
        return f"loaded {self.loaded_on}" if self.loaded_on else "date not recorded"


def trade_releases(trade: pl.DataFrame, parts: pl.DataFrame) -> list[TradeRelease]:
    """The trade releases loaded (from trade_summary's rows: year, hs_edition, source,
    side, release, flows), newest data first."""
    if trade.is_empty():
        return []
    built = _built_on(parts, "trade_flows")
    grouped = (
        trade.group_by("source", "release")
        .agg(
            pl.col("side").unique().sort(),
            pl.col("hs_edition").unique().sort(),
            pl.col("year").min().alias("first"),
            pl.col("year").max().alias("last"),
            pl.col("flows").sum(),
        )
        .sort(["last", "source"], descending=[True, False])
    )
    return [
        TradeRelease(
            source=row["source"],
            release=row["release"],
            sides=tuple(row["side"]),
            editions=tuple(row["hs_edition"]),
            first_year=int(row["first"]),
            last_year=int(row["last"]),
            flows=int(row["flows"]),
            loaded_on=built.get(row["source"], ""),
        )
        for row in grouped.iter_rows(named=True)
    ]


def _built_on(parts: pl.DataFrame, table: str) -> dict[str, str]:
    """Source -> the day its part of `table` was written."""
    if parts.is_empty():
        return {}
    rows = parts.filter(pl.col("table") == table).select("source", "built_at")
    return {source: str(built or "")[:10] for source, built in rows.iter_rows()}


def production_release(parts: pl.DataFrame) -> str | None:
    """ "USGS Mineral Commodity Summaries 2026", or None when none is loaded."""
    if parts.is_empty():
        return None
    rows = parts.filter((pl.col("table") == "production") & (pl.col("rows") > 0))
    names = []
    for source, release in rows.select("source", "release").iter_rows():
        match = MCS_RELEASE.match(release or "")
        year = f" {match['year']}" if source == "usgs_mcs" and match else f" ({release})"
        names.append(source_name(source) + year)
    return ", ".join(names) or None


def site_sets(parts: pl.DataFrame) -> list[tuple[str, int]]:
    """The deposit parts loaded: (what they are, number of sites)."""
    if parts.is_empty():
        return []
    rows = parts.filter(pl.col("table") == "deposits").sort("rows", descending=True)
    return [(source_name(str(s)), int(n)) for s, n in rows.select("source", "rows").iter_rows()]


def data_as_of(trade: pl.DataFrame, parts: pl.DataFrame) -> str:
    """The line every page shows: "Data to 2024, released January 2026 (CEPII BACI
    V202601, HS2017; 2024 provisional) · production and reserves: USGS Mineral
    Commodity Summaries 2026"."""
    said = []
    for r in trade_releases(trade, parts):
        editions = ", ".join(edition_name(e) for e in r.editions)
        if r.synthetic:
            said.append(f"**Synthetic trade flows to {r.last_year}** (generated, not real)")
        elif r.published:
            said.append(
                f"**Trade data to {r.last_year}, released {r.published}** "
                f"({source_name(r.source)} {r.release}, {editions}; {r.last_year} is provisional)"
            )
        else:
            said.append(
                f"**Trade data to {r.last_year}** ({source_name(r.source)}, {editions}, "
                f"{r._loaded()})"
            )
    if not said:
        said.append("**No trade flows loaded**")
    production = production_release(parts)
    if production:
        said.append(f"production and reserves: {production}")
    return "Data as of: " + " · ".join(said)


def quantity_coverage(rows: pl.DataFrame) -> list[str]:
    """One sentence per release on how far quantities cover its flows, from
    quantity_coverage's rows (source, release, year, flows, with_quantity, value_usd,
    value_with_quantity_usd): "Quantities (CEPII BACI V202601, the mineral baskets'
    flows): given for every flow in 2017–2023; for 98.0% of flows (99.1% of value) in
    2024"."""
    sentences = []
    per_year = rows.group_by("source", "release", "year").agg(
        pl.col("flows", "with_quantity", "value_usd", "value_with_quantity_usd").sum()
    )
    for (source, release), group in per_year.sort("source", "release", "year").group_by(
        ["source", "release"], maintain_order=True
    ):
        full = [
            int(y)
            for y, n, q in group.select("year", "flows", "with_quantity").iter_rows()
            if n == q
        ]
        partial = group.filter(pl.col("flows") != pl.col("with_quantity"))
        parts = []
        if full:
            parts.append(f"every flow in {_spans(full)}")
        if 0 < partial.height <= 4:
            parts += [
                f"{_pct(q / n)} of flows ({_pct(vq / v if v else None)} of value) in {int(y)}"
                for y, n, q, v, vq in partial.select(
                    "year", "flows", "with_quantity", "value_usd", "value_with_quantity_usd"
                ).iter_rows()
            ]
        elif partial.height:
            shares = partial.select(
                (pl.col("with_quantity") / pl.col("flows")).alias("share"), "year"
            ).sort("share")
            low, high = shares.row(0), shares.row(-1)
            total = float(partial["with_quantity"].sum()) / float(partial["flows"].sum())
            parts.append(
                f"{_pct(total)} of flows in {'the other ' if full else ''}{partial.height} "
                f"years (from "
                f"{_pct(low[0])} in {int(low[1])} to {_pct(high[0])} in {int(high[1])})"
            )
        name = source_name(str(source)) + ("" if source == "demo" else f" {release}")
        sentences.append(
            f"Quantities ({name}, the mineral baskets' flows): given for "
            + "; for ".join(parts)
            + "."
        )
    return sentences


def _pct(share: float | None) -> str:
    """A share of a whole, never rounded up to 100% (99.96% is "99.9%")."""
    if share is None:
        return "–"
    if share == 0:
        return "none"
    return f"{math.floor(share * 1000) / 10:.1f}%"


def _spans(years: list[int]) -> str:
    """[2017, 2018, 2019, 2022] -> "2017–2019 and 2022"."""
    spans: list[list[int]] = []
    for year in sorted(years):
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    text = [f"{a}–{b}" if a != b else f"{a}" for a, b in spans]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]
