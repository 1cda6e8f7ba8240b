"""The benchmark at tiny size: the synthetic warehouse has BACI's shape, every page of
the app is timed from its own view, and DuckDB (derived tables in memory or read from
Parquet), pandas and polars lazy scans give the same answers to the queries the views
asked. No timing assertions: the figures are the benchmark's to print."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from bench import baselines, merged, report, synth
from bench.pages import pages, recording, run_view, scenarios, state_for
from bench.runner import settings_for
from critmin import reference, synthetic, views
from critmin.catalog import load_catalog
from critmin.db import Database
from critmin.warehouse import Warehouse

LAST_YEAR = 2014


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench") / "warehouse"
    synth.build_warehouse(root, synth.size_for(30_000, 60, 300), seed=7, last_year=LAST_YEAR)
    return root


@pytest.fixture(scope="module")
def recorded(tiny: Path) -> dict[str, list]:
    """Every page's view in both scenarios, with the queries it asked."""
    db = Database(Warehouse(tiny), settings_for(tiny))
    catalog = load_catalog(db)
    out = {}
    for scenario in scenarios():
        for page in pages():
            with recording(db) as calls:
                run_view(db, catalog, page, state_for(page, scenario, catalog))
            out[f"{scenario.name}/{page.label}"] = calls
    return out


def test_synthetic_flows_have_baci_shape() -> None:
    size = synth.size_for(20_000, 60, 300)
    universe = synthetic.build_universe(size, seed=3)
    flows = synthetic.year_flows(universe, 2013, 20_000, seed=3)
    assert flows.equals(synthetic.year_flows(universe, 2013, 20_000, seed=3))  # deterministic
    assert 15_000 < flows.height < 25_000
    assert flows.select("exporter", "importer", "hs6").is_unique().all()
    assert (flows["exporter"] != flows["importer"]).all()
    assert flows["value_usd"].min() > 1000  # BACI drops flows of USD 1,000 or less
    assert 0.005 < flows["quantity_kg"].null_count() / flows.height < 0.05
    baskets = set(reference.load_mineral_baskets().filter(hs_edition="HS12")["hs6"])
    assert baskets <= set(universe.products.tolist())
    # Skew: the biggest exporter has many times the median exporter's rows.
    counts = flows.group_by("exporter").len()["len"]
    assert counts.max() > 5 * counts.median()


def test_warehouse_goes_through_the_real_write_path(tiny: Path) -> None:
    wh = Warehouse(tiny)
    assert wh.check() == []
    parts = wh.parts("trade_flows")
    assert set(parts) == {"baci", "comtrade"}
    assert parts["baci"].years[-1] == LAST_YEAR
    for table in ("mineral_baskets", "countries", "products", "events", "deposits", "production"):
        assert wh.files(table), table
    for table in ("mineral_flows", "trade_summary"):  # derived in the same commit
        assert wh.files(table), table
    sides = (
        pl.scan_parquet([str(p) for p in wh.files("trade_flows")])
        .select(pl.col("side").unique())
        .collect()["side"]
        .sort()
        .to_list()
    )
    assert sides == ["exporter_reported", "importer_reported", "reconciled"]


def test_cache_key_changes_with_rows_and_seed(tmp_path: Path) -> None:
    a = synth.warehouse_dir(tmp_path, 1000, 1)
    assert a != synth.warehouse_dir(tmp_path, 2000, 1)
    assert a != synth.warehouse_dir(tmp_path, 1000, 2)
    assert a == synth.warehouse_dir(tmp_path, 1000, 1)


def test_every_view_of_the_app_is_timed() -> None:
    """A page added to critmin.views is benchmarked without a second list to keep."""
    import pkgutil

    names = {
        info.name
        for info in pkgutil.iter_modules(views.__path__)
        if hasattr(__import__(f"critmin.views.{info.name}", fromlist=["State"]), "State")
    }
    assert {p.name for p in pages()} == names
    assert {"overview", "diversification", "map", "explorer"} <= names


def test_the_views_ask_real_questions(recorded: dict[str, list]) -> None:
    """The changed view (China's copper and rare earths) finds flows on every trade
    query, so the comparisons below compare numbers, not empty frames. (At this size
    Kazakhstan has few flows of the default minerals; at benchmark size it has.)"""
    trade = [c for k, calls in recorded.items() if k.startswith("changed/") for c in calls]
    asked = {c.name for c in trade}
    assert {"exports_by_partner", "exports_by_series", "mirror_flows", "flows_explorer"} <= asked
    assert all(c.frame.height > 0 for c in trade), [
        c.describe() for c in trade if c.frame.is_empty()
    ]
    partners = [c for c in recorded["changed/Partners"] if c.name == "exports_by_partner"]
    assert partners[0].params["exporters"] == ["CHN"]
    default = [c for c in recorded["default/Partners"] if c.name == "exports_by_partner"]
    assert default[0].params["exporters"] == ["KAZ"]


def test_every_engine_gives_the_same_answers(tiny: Path, recorded: dict[str, list]) -> None:
    wh = Warehouse(tiny)
    engines = [
        baselines.PandasApp(wh),
        baselines.PandasApp(wh, categorical=True),
        baselines.PolarsLazy(wh),
        baselines.PolarsLazy(wh, derived=True),
    ]
    from_parquet = Database(wh, settings_for(tiny, small_tables_in_memory=False))
    checked = 0
    for key, calls in recorded.items():
        for call in calls:
            again = from_parquet.query(call.name, limit=call.limit, sort=call.sort, **call.params)
            assert baselines.compare(call.name, call.frame, again.frame) is None, (key, call.name)
            for engine in engines:
                try:
                    other = engine.answer(call)
                except baselines.NoBaseline:
                    continue
                assert baselines.compare(call.name, call.frame, other) is None, (
                    key,
                    call.describe(),
                    engine.label,
                )
                checked += 1
    # Every trade query has a baseline in every engine.
    trade = [c for calls in recorded.values() for c in calls if c.name.startswith("export")]
    assert trade and checked >= 4 * len(trade)


def test_compare_spots_a_different_number() -> None:
    frame = pl.DataFrame(
        {
            "year": [2012],
            "series": ["gallium"],
            "value_usd": [10.0],
            "quantity_kg": [None],
            "value_with_quantity_usd": [0.0],
            "flows": [1],
        }
    )
    assert baselines.compare("exports_by_series", frame, frame) is None
    changed = frame.with_columns(pl.lit(11.0).alias("value_usd"))
    assert "value_usd" in (baselines.compare("exports_by_series", frame, changed) or "")
    assert "rows" in (baselines.compare("exports_by_series", frame, frame.clear()) or "")


def test_merged_statements_answer_as_the_separate_queries(
    tiny: Path, recorded: dict[str, list]
) -> None:
    db = Database(Warehouse(tiny), settings_for(tiny))
    figures = merged.measure(db, recorded, repeat=1)
    assert {"default/Suppliers", "changed/Suppliers", "default/Overview"} <= set(figures)
    assert {"default/Diversification", "changed/Diversification"} <= set(figures)
    for key, entry in figures.items():
        assert entry["same_answers"], (key, entry["problems"])


def test_cold_run_in_a_new_process(tiny: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cold", str(tiny), "Partners", "changed"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["rows"] > 0
    assert figures["peak_rss_mb"] > 0


def test_report_renders_targets_and_pages(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(synth, "ensure_warehouse", lambda out, rows, seed: (tiny, None))
    from bench.runner import run_benchmark

    result = run_benchmark(
        tmp_path,
        rows=30_000,
        repeat=1,
        skip={"cold", "ingest", "app", "browser", "pandas"},
        baseline_repeat=1,
        progress=lambda message: None,
    )
    json_path, md_path = report.write(result, tmp_path)
    text = md_path.read_text()
    assert "default/Overview" in text and "changed/Diversification" in text
    assert "identical within 1e-6 on every page" in text
    assert "as fast as polars lazy on the same derived files" in text
    assert "DIFFERENT" not in text
    raw = json.loads(json_path.read_text())
    assert raw["warehouse"]["trade_rows"] > 0
    assert raw["duckdb_warm"]["small_tables_in_memory"] is True
    assert raw["duckdb_parquet"]["settings"] == {"small_tables_in_memory": False}
    # The polars target is judged on the two engines run alternately, on every trade page.
    versus = raw["versus_polars"]
    assert set(versus) == report.trade_pages(raw)
    for entry in versus.values():
        assert entry["duckdb"]["n"] == entry["polars"]["n"] == 3
        assert entry["duckdb"]["median_ms"] > 0 and entry["polars"]["median_ms"] > 0
    low = min(v["polars"]["median_ms"] / v["duckdb"]["median_ms"] for v in versus.values())
    assert f"DuckDB at {low:.2f}x" in text
    assert "run alternately" in text
