"""Gross tonnes of different value-chain stages are never added: copper concentrate and
copper cathode are different goods, and a tonne of one is not a tonne of the other.

A tiny warehouse whose copper basket has an ore, an intermediate and a refined code, and
whose gallium basket is refined only: every query that returns tonnes gives them for a
series (or a group of flows) of one stage, and an empty quantity (never a sum) when the
series spans stages. Before this rule, `exports_by_series` and `exports_total` added
copper concentrate and cathode tonnes into one figure and Diversification's "covers"
share was computed from it."""

from __future__ import annotations

import polars as pl
import pytest

from critmin import derive, queries
from critmin.db import Database
from critmin.filters import TradeFilter
from critmin.schema import empty_frame
from critmin.settings import Settings
from critmin.warehouse import Warehouse

BASKETS = pl.DataFrame(
    {
        "mineral": ["copper", "copper", "copper", "gallium"],
        "label": ["Copper", "Copper", "Copper", "Gallium"],
        "hs_edition": ["HS17"] * 4,
        "hs6": ["260300", "740200", "740311", "811292"],
        "stage": ["ore", "intermediate", "refined", "refined"],
        "shared_basket": [False, False, False, True],
        "note": ["ore", "blister", "cathode", "minor metals"],
        "lists": [["USGS2025"]] * 4,
        "citation": ["HS 2017"] * 4,
    }
)


def flow(hs6: str, exporter: str, importer: str, value: float, tonnes: float | None) -> dict:
    return {
        "year": 2020,
        "hs_edition": "HS17",
        "hs6": hs6,
        "exporter": exporter,
        "importer": importer,
        "value_usd": value,
        "quantity_kg": None if tonnes is None else tonnes * 1000,
        "source": "baci",
        "side": "reconciled",
        "release": "V1",
    }


# Kazakhstan sells China 1,000 t of concentrate (USD 2 m) and 100 t of cathode (USD 0.9 m),
# the USA 10 t of cathode (USD 0.09 m) and 1 t of gallium-basket metal (USD 0.4 m).
FLOWS = pl.DataFrame(
    [
        flow("260300", "KAZ", "CHN", 2_000_000.0, 1000.0),
        flow("740311", "KAZ", "CHN", 900_000.0, 100.0),
        flow("740311", "KAZ", "USA", 90_000.0, 10.0),
        flow("811292", "KAZ", "USA", 400_000.0, 1.0),
        flow("740311", "CHL", "CHN", 9_000_000.0, 1000.0),
    ],
    schema_overrides={"quantity_kg": pl.Float64, "year": pl.Int32},
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    root = tmp_path_factory.mktemp("tonnes") / "wh"
    warehouse = Warehouse(root)
    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.write_frame("trade_flows", "test", FLOWS, source="baci", release="V1")
        tx.write_frame("mineral_baskets", "reference", BASKETS, source="t", release="1")
        for table in ("countries", "products", "events"):
            tx.write_frame(table, "reference", empty_frame(table), source="t", release="1")
    return Database(warehouse, Settings(data_dir=root, data_dir_is_default=False, row_cap=100))


def kaz(minerals: tuple[str, ...] = ("copper",), **changes: object) -> TradeFilter:
    return TradeFilter(minerals, (), 2020, 2020, exporters=("KAZ",)).only(**changes)


def rows(frame: pl.DataFrame, key: str) -> dict[str, dict]:
    return {row[key]: row for row in frame.iter_rows(named=True)}


def test_a_series_that_spans_stages_has_no_tonnes(db: Database) -> None:
    series = rows(queries.exports_by_series(db, kaz(("copper", "gallium"))).frame, "series")
    copper, gallium = series["copper"], series["gallium"]
    assert copper["value_usd"] == pytest.approx(2_990_000.0)  # value adds up across stages
    assert copper["quantity_kg"] is None  # 1,000 t of ore + 110 t of cathode is no figure
    assert copper["value_with_quantity_usd"] is None
    assert gallium["quantity_kg"] == pytest.approx(1000.0)  # one stage: tonnes are shown
    assert gallium["value_with_quantity_usd"] == pytest.approx(400_000.0)


def test_one_stage_of_a_series_has_its_tonnes(db: Database) -> None:
    refined = queries.exports_by_series(db, kaz(stages=("refined",))).frame
    assert refined["quantity_kg"].to_list() == [pytest.approx(110_000.0)]
    assert refined["value_usd"].to_list() == [pytest.approx(990_000.0)]


def test_totals_across_series_add_value_not_tonnes_of_different_stages(db: Database) -> None:
    total = rows(queries.exports_total(db, kaz(("copper", "gallium"))).frame, "series")
    assert total["Copper"]["quantity_kg"] is None
    assert total["Gallium"]["quantity_kg"] == pytest.approx(1000.0)
    stages = rows(queries.exports_by_stage(db, kaz(("copper", "gallium"))).frame, "stage")
    assert stages["ore"]["quantity_kg"] == pytest.approx(1_000_000.0)
    assert stages["refined"]["quantity_kg"] == pytest.approx(111_000.0)  # one stage
    # A partner's tonnes: only when the chosen codes are of one stage (the USA bought only
    # cathode this year, but another year's concentrate would be added to it).
    partners = rows(queries.exports_by_partner(db, kaz()).frame, "partner")
    assert partners["CHN"]["quantity_kg"] is None
    assert partners["USA"]["quantity_kg"] is None
    cathode = rows(queries.exports_by_partner(db, kaz(stages=("refined",))).frame, "partner")
    assert cathode["CHN"]["quantity_kg"] == pytest.approx(100_000.0)


def test_the_overview_statement_keeps_the_rule(db: Database) -> None:
    parts = queries.exports_overview(db, kaz(("copper", "gallium"))).frame
    series = parts.filter(pl.col("part") == "series")
    assert dict(series.select("series", "quantity_kg").iter_rows()) == {
        "Copper": None,
        "Gallium": pytest.approx(1000.0),
    }
    partner = parts.filter(pl.col("part") == "partner")
    assert partner.filter(pl.col("partner") == "CHN")["quantity_kg"].to_list() == [None]
    stage = parts.filter(pl.col("part") == "stage")
    assert dict(stage.select("stage", "quantity_kg").iter_rows()) == {
        "ore": pytest.approx(1_000_000.0),
        "refined": pytest.approx(111_000.0),
    }


def test_world_markets_and_an_importers_suppliers_keep_the_rule(db: Database) -> None:
    world = queries.exporters_by_series(db, kaz().only(exporters=())).frame
    by_exporter = rows(world, "exporter")
    assert by_exporter["KAZ"]["quantity_kg"] is None
    assert by_exporter["CHL"]["quantity_kg"] is None  # copper spans stages, whoever sells it
    market = queries.suppliers_market(db, kaz().only(exporters=()), ["CHN"])
    assert market.purchases["quantity_kg"].is_null().all()
    assert market.world["quantity_kg"].is_null().all()
    cathode = queries.suppliers_market(db, kaz(stages=("refined",)).only(exporters=()), ["CHN"])
    bought = rows(cathode.purchases, "supplier")
    assert bought["KAZ"]["quantity_kg"] == pytest.approx(100_000.0)
    assert bought["CHL"]["quantity_kg"] == pytest.approx(1_000_000.0)


def test_a_code_chosen_directly_keeps_its_own_tonnes(db: Database) -> None:
    f = TradeFilter((), ("740311", "260300"), 2020, 2020, exporters=("KAZ",))
    series = rows(queries.exports_by_series(db, f).frame, "series")
    assert series["HS 740311"]["quantity_kg"] == pytest.approx(110_000.0)
    assert series["HS 260300"]["quantity_kg"] == pytest.approx(1_000_000.0)
    # Across two codes of unknown stage, a partner's tonnes are not added either.
    partners = rows(queries.exports_by_partner(db, f).frame, "partner")
    assert partners["CHN"]["quantity_kg"] is None
    assert partners["USA"]["quantity_kg"] == pytest.approx(10_000.0)
