"""What a view asks of the trade data: one typed value from the address bar to the SQL.

A page validates its URL state (`ui/state.py`), builds a `TradeFilter` from it and
hands it to a view function (`views/`), which passes it to the typed query
functions of `critmin.queries`; those bind its fields as the named parameters of
the `.sql` files (`params`). It is frozen and made of plain values, so
`st.cache_data` can key on it, and mypy can follow it from the page to the query.

An empty tuple means "any" for `sides`, `exporters` and `importers`; `minerals` and
`codes` together name the products (at least one of them should be given).

A `Grouping` says how the Data explorer sums the flows a `TradeFilter` selects: the
dimensions of its rows and, for a pivot, of its columns. Dimensions are names from
`DIMENSIONS`, bound as flags and values: they never become identifiers in the SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from critmin.domain import REST_OF_WORLD, STAGES, TRADE_SIDES

HS6 = re.compile(r"^\d{6}$")
# What the explorer can group the flows by (queries/sql/flows_grouped.sql).
DIMENSIONS = (
    "year",
    "exporter",
    "importer",
    "partner_group",
    "mineral",
    "stage",
    "hs6",
    "side",
    "source",
)
# The filters whose values the explorer counts (queries/sql/flows_facet.sql).
FACETS = ("exporter", "importer", "mineral", "stage", "side")


@dataclass(frozen=True)
class TradeFilter:
    """The trade flows a view asks for."""

    minerals: tuple[str, ...]
    codes: tuple[str, ...]
    year_from: int
    year_to: int
    sides: tuple[str, ...] = ("reconciled",)
    exporters: tuple[str, ...] = ()
    importers: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()  # value-chain stages of the basket codes; () = all

    def __post_init__(self) -> None:
        if self.year_from > self.year_to:
            raise ValueError(f"year window {self.year_from}-{self.year_to} is reversed")
        if bad := [c for c in self.codes if not HS6.match(c)]:
            raise ValueError(f"HS6 codes have six digits: {bad}")
        if bad := [s for s in self.sides if s not in TRADE_SIDES]:
            raise ValueError(f"unknown declaration side(s) {bad}")
        if bad := [s for s in self.stages if s not in STAGES]:
            raise ValueError(f"unknown value-chain stage(s) {bad}")

    @property
    def has_products(self) -> bool:
        return bool(self.minerals or self.codes)

    def years(self, year_from: int, year_to: int | None = None) -> TradeFilter:
        """The same filter over other years (one year when `year_to` is omitted)."""
        return replace(self, year_from=year_from, year_to=year_from if year_to is None else year_to)

    def only(self, **changes: Any) -> TradeFilter:
        """The same filter with some fields changed (e.g. `only(exporters=())`)."""
        return replace(self, **changes)

    def params(self) -> dict[str, Any]:
        """The bound parameters of the trade queries' SQL (see queries/sql/selected.sql)."""
        return {
            "minerals": list(self.minerals),
            "codes": list(self.codes),
            "year_from": self.year_from,
            "year_to": self.year_to,
            "sides": list(self.sides),
            "exporters": list(self.exporters),
            "importers": list(self.importers),
            "stages": list(self.stages),
        }


@dataclass(frozen=True)
class Grouping:
    """The dimensions a grouped result is summed by: `rows` (at least one) and, for a
    pivot, `across` (its columns; "" for none). `partner_groups` maps each partner to
    its group (the first that holds it) when a partner group is asked; partners in none
    are `rest`."""

    rows: tuple[str, ...]
    across: str = ""
    partner_groups: tuple[tuple[str, str], ...] = ()
    rest: str = REST_OF_WORLD

    def __post_init__(self) -> None:
        if not self.rows:
            raise ValueError("a grouping needs at least one dimension")
        if bad := [d for d in (*self.rows, self.across) if d and d not in DIMENSIONS]:
            raise ValueError(f"unknown dimension(s) {bad}; known: {DIMENSIONS}")
        if len(set(self.rows)) != len(self.rows) or self.across in self.rows:
            raise ValueError(f"a dimension is used twice: {self.rows} / {self.across}")

    @property
    def dimensions(self) -> tuple[str, ...]:
        return (*self.rows, self.across) if self.across else self.rows

    @property
    def per_mineral(self) -> bool:
        """Whether rows are split by mineral (a shared code then counts under each)."""
        return "mineral" in self.dimensions

    def params(self) -> dict[str, Any]:
        """The bound parameters of flows_grouped.sql besides the filter's."""
        groups = self.partner_groups if "partner_group" in self.dimensions else ()
        return {
            **{f"by_{d}": d in self.rows for d in DIMENSIONS},
            "across": self.across,
            "per_mineral": self.per_mineral,
            "group_iso3": [iso3 for iso3, _ in groups],
            "group_names": [name for _, name in groups],
            "rest": self.rest,
            "stage_order": list(STAGES),
        }


@dataclass(frozen=True)
class DepositFilter:
    """The sites a map asks for; an empty tuple means "any"."""

    countries: tuple[str, ...] = ()
    commodities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    def params(self) -> dict[str, Any]:
        return {
            "countries": list(self.countries),
            "commodities": list(self.commodities),
            "statuses": list(self.statuses),
        }


@dataclass(frozen=True)
class Sort:
    """An explorer sort: a column from the query's allow-list and a direction."""

    column: str
    descending: bool = True


@dataclass(frozen=True)
class MonthlyFilter:
    """The monthly declarations a view asks for: the chosen minerals' codes (the mineral
    baskets' HS6 codes, or with `exact` the national lines graded exact), a window of
    months (year * 100 + month, both ends included) and the declaring sides."""

    minerals: tuple[str, ...]
    ym_from: int
    ym_to: int
    exact: bool = False
    sides: tuple[str, ...] = ("importer_reported",)

    def __post_init__(self) -> None:
        for ym in (self.ym_from, self.ym_to):
            if not (1900_01 <= ym <= 2100_12 and 1 <= ym % 100 <= 12):
                raise ValueError(f"month {ym} is not year * 100 + month")
        if self.ym_from > self.ym_to:
            raise ValueError(f"month window {self.ym_from}-{self.ym_to} is reversed")
        if bad := [s for s in self.sides if s not in TRADE_SIDES[1:]]:
            raise ValueError(f"unknown declaring side(s) {bad}")

    def params(self) -> dict[str, Any]:
        """The bound parameters of monthly_lines and the window (queries/sql/monthly_*)."""
        return {
            "basket_minerals": [] if self.exact else list(self.minerals),
            "exact_minerals": list(self.minerals) if self.exact else [],
            "ym_from": self.ym_from,
            "ym_to": self.ym_to,
        }
