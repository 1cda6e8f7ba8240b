"""The benchmark's page views, warm and cold, and `critmin ingest baci` at full size.

The pages are those of `critmin.ui.registry` whose `critmin.views.<name>` has a `State`
and a `build(db, catalog, state)`: a page added to the registry is timed without a list
to keep. A scenario is one state of the sidebar for every page: the default view
(Kazakhstan; manganese sulfate, gallium, graphite; importer USA; sites in the C5) and a
changed one (China; copper, rare earths; importer Korea; sites anywhere: the largest map),
every year loaded. `state_for` fills a page's `State` by field name, its own defaults for
the rest; a field with neither leaves the page out, saying so.

- **warm**: per scenario and page, the view built once (its queries recorded), then
  `repeat` times, and a Streamlit cache hit instead (unpickling the view);
- **cold**: `python -m bench.runner DATA_DIR PAGE SCENARIO`, a new process per run, from
  spawn to exit, with its breakdown (opening the warehouse, the catalog, the view: the
  rest is Python starting and importing) and its peak RSS;
- **ingest**: a synthetic 11-million-row BACI yearly CSV (cached) through `critmin ingest
  baci` into a scratch warehouse, with and without `--all-products`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pickle
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.measure import RssSampler, percentiles
from bench.synth import generate_baci_csv
from critmin.catalog import Catalog, load_catalog
from critmin.db import Database, QueryResult
from critmin.domain import C5, DEFAULT_MINERALS, FOCUS_COUNTRY, STAGES
from critmin.schema import DERIVED_TABLES
from critmin.settings import load_settings
from critmin.ui.registry import PAGES
from critmin.warehouse import Warehouse

TABLES = ("trade_flows", *DERIVED_TABLES)
SHARED = dict(
    codes=(), stages=(), commodities=(), statuses=(), importers=(), compare=("CHN", "RUS", "USA"),
    measure="value", view="absolute", scale="10000", by="group", sort="value_usd", order="desc",
    replace_pct=50, replace_from="both", window="36", declared_by="mirror", product="basket",
)  # fmt: skip
SCENARIOS: dict[str, dict[str, Any]] = {  # field -> value; a page's name -> its own values
    "default": dict(
        country=FOCUS_COUNTRY, minerals=tuple(DEFAULT_MINERALS), mineral="manganese_sulfate",
        importer="USA", peers=(*C5[1:], "CHN", "RUS"), sites_in=C5,
        # The explorer grouped by importer with every filter set (its facets: the same).
        explorer={"minerals": ("gallium",), "importers": ("CHN", "RUS", "USA", "KOR", "JPN", "DEU"),
                  "stages": STAGES, "group": ("importer",)},
    ),
    "changed": dict(
        country="CHN", minerals=("copper", "rare_earths"), mineral="copper", importer="KOR",
        peers=("USA", "KAZ", "RUS"), sites_in=(), explorer={"importers": ("KOR",)},
    ),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Page:
    name: str
    label: str  # its title in the sidebar
    module: ModuleType
    function: str = "build"  # a page's second view: the explorer's facet counts

    def build(self, db: Database, catalog: Catalog, state: Any) -> Any:
        return getattr(self.module, self.function)(db, catalog, state)


def pages() -> list[Page]:
    """The registry's pages that have a view, in menu order."""
    found = []
    for entry in PAGES:
        try:
            module = importlib.import_module(f"critmin.views.{entry.name}")
        except ModuleNotFoundError:
            continue
        if hasattr(module, "State") and callable(getattr(module, "build", None)):
            found.append(Page(entry.name, entry.title, module))
            if callable(getattr(module, "facets", None)):  # the counts beside its filters
                found.append(Page(entry.name, f"{entry.title} facets", module, "facets"))
    return found


class UnknownField(ValueError):
    """A page's State has a field the benchmark cannot fill."""


def state_for(page: Page, scenario: str, catalog: Catalog) -> Any:
    """The page's State in this scenario: known fields by name, the rest defaulted."""
    first, last = catalog.years
    side = catalog.default_side()
    chosen = SCENARIOS[scenario]
    values = {**SHARED, "year_from": first, "year_to": last, "year": last, "side": side}
    values |= {"sides": (side,), "highlight": chosen["country"], "exporters": (chosen["country"],)}
    values |= {**chosen, **chosen.get(page.name, {})}
    fields = dataclasses.fields(page.module.State)
    for f in fields:
        if f.name not in values and f.default is f.default_factory is dataclasses.MISSING:
            raise UnknownField(f"views.{page.name}.State.{f.name} has no default: add it to SHARED")
    return page.module.State(**{f.name: values[f.name] for f in fields if f.name in values})


@contextmanager
def recording(db: Database) -> Iterator[list[tuple[str, int]]]:
    """The queries the block asked of `db`: (name, rows answered) each."""
    asked: list[tuple[str, int]] = []
    original = db.query

    def query(name: str, *args: Any, **kwargs: Any) -> QueryResult:
        result = original(name, *args, **kwargs)
        asked.append((name, result.frame.height))
        return result

    db.query = query  # type: ignore[method-assign]
    try:
        yield asked
    finally:
        del db.query  # the class's method again


def open_database(root: Path) -> Database:
    """The app's settings (its environment included) on this warehouse."""
    settings = dataclasses.replace(load_settings(), data_dir=root, data_dir_is_default=False)
    return Database(Warehouse(root), settings)


def warehouse_facts(root: Path) -> dict[str, Any]:
    wh = Warehouse(root)
    return {
        "rows": {t: sum(p.rows for p in wh.parts(t).values()) for t in TABLES},
        "mb": {t: sum(p.stat().st_size for p in wh.files(t)) / 2**20 for t in TABLES},
    }


def _repeat(run: Callable[[], object], times: int) -> dict[str, float] | None:
    """p50/p95/max of `times` runs, in milliseconds."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return percentiles(seconds, 1000)


def warm(root: Path, repeat: int) -> dict[str, Any]:
    """Every page's view in every scenario, in one process, once the small tables are
    held in memory (as on a server up for a few seconds)."""
    db = open_database(root)
    started = time.perf_counter()
    db.held.wait()
    out: dict[str, Any] = {"held_s": time.perf_counter() - started, "pages": {}, "skipped": {}}
    catalog = load_catalog(db)
    for scenario in SCENARIOS:
        for page in pages():
            key = f"{scenario}/{page.label}"
            try:
                state = state_for(page, scenario, catalog)
            except UnknownField as error:
                out["skipped"][key] = str(error)
                continue
            with recording(db) as asked:
                started = time.perf_counter()
                view = page.build(db, catalog, state)
                first_ms = (time.perf_counter() - started) * 1000
            stored = pickle.dumps(view)
            out["pages"][key] = {
                "first_ms": first_ms,
                "view_ms": _repeat(partial(page.build, db, catalog, state), repeat),
                "cache_hit_ms": _repeat(partial(pickle.loads, stored), repeat),
                "queries": [name for name, _ in asked],
                "rows": sum(rows for _, rows in asked),
            }
    db.close()
    return out


def cold(root: Path, repeat: int, keys: list[str]) -> dict[str, Any]:
    """Each page in a new process, `repeat` times; the breakdown is the fastest run's."""
    out: dict[str, Any] = {}
    for key in keys:
        scenario, label = key.split("/", 1)
        walls, inner = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            command = [sys.executable, "-m", "bench.runner", str(root), label, scenario]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            walls.append(time.perf_counter() - started)
            inner.append(json.loads(done.stdout.splitlines()[-1]))
        fastest = walls.index(min(walls))
        out[key] = {
            "ms": percentiles(walls, 1000),
            "fastest_ms": min(walls) * 1000,
            **inner[fastest],
        }
    return out


def ingest(out: Path, rows: int = 11_000_000) -> dict[str, Any]:
    """`critmin ingest baci` of a full-size yearly CSV: seconds, peak RSS, exit code."""
    csv = out / f"baci-csv-r{rows}" / "BACI_HS17_Y2022_V202501.csv"
    if not csv.is_file():
        csv.parent.mkdir(parents=True, exist_ok=True)
        generate_baci_csv(csv.with_suffix(".partial"), rows, 2022).rename(csv)
    result: dict[str, Any] = {"rows": rows, "csv_mb": csv.stat().st_size / 2**20}
    scratch = out / "ingest-scratch"
    for mode, extra in (("baskets", []), ("all_products", ["--all-products"])):
        shutil.rmtree(scratch, ignore_errors=True)
        command = [sys.executable, "-m", "critmin.cli", "--data-dir", str(scratch), "ingest"]
        started = time.perf_counter()
        process = subprocess.Popen([*command, "baci", str(csv), *extra], stdout=subprocess.DEVNULL)
        sampler = RssSampler(process.pid)
        sampler.start()
        code = process.wait()
        seconds = time.perf_counter() - started
        result[mode] = {"s": seconds, "peak_rss_mb": sampler.stop(), "exit_code": code}
    shutil.rmtree(scratch, ignore_errors=True)
    return result


def _cold_run(data_dir: str, label: str, scenario: str) -> dict[str, float]:
    """In the new process, once imported: the page's view once, each step timed."""
    marks = [time.perf_counter()]
    db = open_database(Path(data_dir))
    marks.append(time.perf_counter())
    catalog = load_catalog(db)
    marks.append(time.perf_counter())
    page = next(p for p in pages() if p.label == label)
    page.build(db, catalog, state_for(page, scenario, catalog))
    marks.append(time.perf_counter())
    with open("/proc/self/status", encoding="ascii") as status:  # VmHWM: this process's peak
        peak = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    steps = [(b - a) * 1000 for a, b in zip(marks, marks[1:], strict=False)]
    return {
        **dict(zip(("open_ms", "catalog_ms", "view_ms"), steps, strict=True)),
        "peak_rss_mb": peak,
    }


if __name__ == "__main__":
    print(json.dumps(_cold_run(*sys.argv[1:4])))
