"""What the benchmark times: the pages' own view functions, and the queries they ask.

Every module of `critmin.views` with a `State` and a `build(db, catalog, state)` is a
page (`pages()`), so a page added to the app (Diversification) is timed as soon as its
view exists. A `Scenario` is one state of the sidebar shared by all pages: the default
view (Kazakhstan; manganese sulfate, gallium and graphite; importer USA; every year
loaded) and a changed one (another exporter, minerals and importer). `state_for`
fills a page's `State` from it by field name, with the pages' own defaults for the
rest (pages/*.py); a field the benchmark does not know and the `State` gives no default
for leaves that page out, with the reason in the report.

`recording(db)` wraps `Database.query` while a view runs, so which queries a page asked
(name, bound parameters, row cap and sort) and what they answered come from the view
itself: the pandas and polars baselines (`baselines.py`) answer exactly these calls,
and nothing here keeps a second list of what pages ask.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import polars as pl

from critmin import views
from critmin.catalog import Catalog
from critmin.db import Database, QueryResult
from critmin.domain import C5, DEFAULT_MINERALS, FOCUS_COUNTRY
from critmin.filters import Sort

# The sidebar's order; pages not listed here follow in name order.
ORDER = (
    "overview",
    "growth",
    "partners",
    "suppliers",
    "mirror",
    "diversification",
    "latest",
    "map",
    "explorer",
    "about",
)
LABELS = {"mirror": "Mirror", "explorer": "Explorer", "about": "About"}


@dataclass(frozen=True)
class Page:
    """One page's view module."""

    name: str  # module name in critmin.views
    module: ModuleType

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name.replace("_", " ").title())

    @property
    def state_type(self) -> type[Any]:
        return self.module.State

    @property
    def build(self) -> Callable[[Database, Catalog, Any], Any]:
        return self.module.build


def pages() -> list[Page]:
    """Every view module with a `State` and a `build`, in the sidebar's order."""
    found = []
    for info in pkgutil.iter_modules(views.__path__):
        module = importlib.import_module(f"{views.__name__}.{info.name}")
        if hasattr(module, "State") and callable(getattr(module, "build", None)):
            found.append(Page(info.name, module))
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(found, key=lambda p: (rank.get(p.name, len(ORDER)), p.name))


def page(label: str) -> Page:
    for p in pages():
        if label in (p.label, p.name):
            return p
    raise KeyError(f"no page {label!r}; pages: {[p.label for p in pages()]}")


@dataclass(frozen=True)
class Scenario:
    """One state of the sidebar, shared by every page."""

    name: str
    country: str
    minerals: tuple[str, ...]
    mineral: str  # the Suppliers page's one mineral
    importer: str
    peers: tuple[str, ...]
    sites_in: tuple[str, ...]  # the Map page's countries (empty = anywhere)
    # Per page, values that differ from the shared ones (the pages' own defaults).
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def values(self, catalog: Catalog) -> dict[str, Any]:
        """Field name -> value, for any page's State (catalog: years and sides)."""
        first, last = catalog.years
        side = catalog.default_side()
        return {
            "country": self.country,
            "minerals": self.minerals,
            "codes": (),
            "stages": (),
            "year_from": first,
            "year_to": last,
            "year": last,
            "side": side,
            "sides": (side,),
            "measure": "value",
            "view": "absolute",
            "compare": ("CHN", "RUS", "USA"),
            "scale": "10000",
            "by": "group",
            "mineral": self.mineral,
            "highlight": self.country,
            "peers": self.peers,
            "importer": self.importer,
            "importers": (),
            "exporters": (self.country,),
            "sites_in": self.sites_in,
            "commodities": (),
            "statuses": (),
            "sort": "value_usd",
            "order": "desc",
            "replace_pct": 50,
            "replace_from": "both",
            # Latest months (its monthly queries, the nowcast and its backtest).
            "window": "36",
            "declared_by": "mirror",
            "product": "basket",
        }


def scenarios() -> list[Scenario]:
    """The pages' default view (pages/*.py defaults) and a changed one."""
    return [
        Scenario(
            "default",
            FOCUS_COUNTRY,
            tuple(DEFAULT_MINERALS),
            "manganese_sulfate",
            "USA",
            (*C5[1:], "CHN", "RUS"),
            C5,
            overrides={"explorer": {"minerals": ("gallium",)}},
        ),
        Scenario(
            "changed",
            "CHN",
            ("copper", "rare_earths"),
            "copper",
            "KOR",
            ("USA", "KAZ", "RUS"),
            (),  # sites anywhere: the largest map
            overrides={"explorer": {"importers": ("KOR",)}},
        ),
    ]


class UnknownField(ValueError):
    """A page's State has a field the benchmark cannot fill."""


def state_for(p: Page, scenario: Scenario, catalog: Catalog) -> Any:
    """The page's State in this scenario: known fields by name, the rest defaulted."""
    values = {**scenario.values(catalog), **scenario.overrides.get(p.name, {})}
    chosen: dict[str, Any] = {}
    for f in dataclasses.fields(p.state_type):
        if f.name in values:
            chosen[f.name] = values[f.name]
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise UnknownField(
                f"{p.state_type.__module__}.State.{f.name} has no default and the "
                "benchmark has no value for it (add it to bench.pages.Scenario.values)"
            )
    return p.state_type(**chosen)


@dataclass(frozen=True)
class Call:
    """One query a view ran, with what it answered."""

    name: str
    params: dict[str, Any]
    limit: int | None
    sort: Sort | None
    frame: pl.DataFrame
    truncated: bool

    def describe(self) -> str:
        shown = {k: v for k, v in self.params.items() if v not in ([], (), None)}
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in shown.items())})"


@contextmanager
def recording(db: Database) -> Iterator[list[Call]]:
    """Record every `db.query` made inside the block (the view's own calls)."""
    calls: list[Call] = []
    original = db.query

    def query(
        name: str, limit: int | None = None, sort: Sort | None = None, **params: Any
    ) -> QueryResult:
        result = original(name, limit=limit, sort=sort, **params)
        calls.append(Call(name, dict(params), limit, sort, result.frame, result.truncated))
        return result

    db.query = query  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        del db.query  # the class's method again


def run_view(db: Database, catalog: Catalog, p: Page, state: Any) -> Any:
    """What the page shows: `views.<page>.build(db, catalog, state)`."""
    return p.build(db, catalog, state)


def replay(db: Database, calls: list[Call]) -> list[pl.DataFrame]:
    """Run a page's recorded queries again, in order (its query set on DuckDB)."""
    return [db.query(c.name, limit=c.limit, sort=c.sort, **c.params).frame for c in calls]
