"""The benchmark at tiny size: the synthetic warehouse has BACI's shape, and DuckDB,
pandas and polars-lazy give the same answers on every page. No timing assertions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from bench import baselines, report, synth
from bench.pages import PAGES, run_page, scenarios
from critmin import reference
from critmin.db import Database
from critmin.settings import Settings
from critmin.warehouse import Warehouse

LAST_YEAR = 2014


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench") / "warehouse"
    universe = synth.build_universe(seed=7, n_countries=60, n_products=300)
    synth.build_warehouse(root, rows=30_000, seed=7, last_year=LAST_YEAR, universe=universe)
    return root


@pytest.fixture(scope="module")
def db(tiny: Path) -> Database:
    return Database(Warehouse(tiny), Settings(data_dir=tiny, data_dir_is_default=False))


def test_synthetic_flows_have_baci_shape() -> None:
    universe = synth.build_universe(seed=3, n_countries=60, n_products=300)
    flows = synth.year_flows(universe, 2013, 20_000, seed=3)
    again = synth.year_flows(universe, 2013, 20_000, seed=3)
    assert flows.equals(again)  # deterministic
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
    assert flows.filter(exporter="KAZ").height > 0


def test_warehouse_goes_through_the_real_write_path(tiny: Path) -> None:
    wh = Warehouse(tiny)
    assert wh.check() == []
    parts = wh.parts("trade_flows")
    assert set(parts) == {"baci", "comtrade"}
    assert parts["baci"].years == [2012, 2013, 2014]
    for table in ("mineral_baskets", "countries", "products", "events", "deposits", "production"):
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


def test_three_approaches_give_the_same_answers(tiny: Path, db: Database) -> None:
    wh = Warehouse(tiny)
    pandas_app = baselines.PandasApp(wh)
    pandas_categorical = baselines.PandasApp(wh, categorical=True)
    lazy = baselines.PolarsLazy(wh)
    checked = 0
    for filters in scenarios(LAST_YEAR):
        for page in PAGES:
            answer = run_page(db, page, filters)
            for engine in (pandas_app, pandas_categorical, lazy):
                other = engine.run_page(page, filters)
                for name, frame in answer.items():
                    assert baselines.compare(name, frame, other[name]) is None, (page, name)
                    checked += 1
    # The default view finds Kazakh flows (otherwise the comparison proves little).
    default = run_page(db, "Partners", scenarios(LAST_YEAR)[0])["exports_by_partner"]
    assert default.height > 0
    assert checked == 2 * 3 * sum(len(calls) for calls in PAGES.values())


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


def test_cold_run_in_a_new_process(tiny: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cold", str(tiny), "Partners", "default"],
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
        skip={"cold", "ingest", "app"},
        baseline_repeat=1,
        progress=lambda message: None,
    )
    json_path, md_path = report.write(result, tmp_path)
    text = md_path.read_text()
    assert "default/Overview" in text and "changed/Explorer" in text
    assert "identical within 1e-6 on every page" in text
    assert "p95 warm < 150 ms" in text
    assert json.loads(json_path.read_text())["warehouse"]["trade_rows"] > 0
