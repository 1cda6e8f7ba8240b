"""Derived tables: always what their sources say, rebuilt in the same atomic swap,
and a warehouse without them still answers (more slowly) until `critmin reindex`."""

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from critmin import derive, queries
from critmin.cli import main as critmin
from critmin.db import TableUnavailable, open_database, specialise
from critmin.filters import TradeFilter
from critmin.settings import Settings
from critmin.warehouse import Warehouse, tree_sha256


def settings(root):
    return Settings(data_dir=root, data_dir_is_default=False)


def flows(rows):
    """trade_flows rows from (hs6, exporter, importer, value) tuples, year 2020."""
    return pl.DataFrame(
        {
            "year": [2020] * len(rows),
            "hs_edition": ["HS12"] * len(rows),
            "hs6": [r[0] for r in rows],
            "exporter": [r[1] for r in rows],
            "importer": [r[2] for r in rows],
            "value_usd": [float(r[3]) for r in rows],
            "quantity_kg": [1000.0] * len(rows),
            "source": ["comtrade"] * len(rows),
            "side": ["reconciled"] * len(rows),
            "release": ["test"] * len(rows),
        },
        schema_overrides={"year": pl.Int32},
    )


def add_comtrade(tx, rows):
    tx.write_frame("trade_flows", "comtrade", flows(rows), source="comtrade", release="test")


def kaz(minerals, codes, year_from, year_to):
    return TradeFilter(minerals, codes, year_from, year_to, exporters=("KAZ",))


def read(root, table):
    files = Warehouse(root).files(table)
    return pl.read_parquet(files, hive_partitioning=True) if files else pl.DataFrame()


def expected_mineral_flows(root):
    trade = read(root, "trade_flows").with_columns(pl.col("year").cast(pl.Int32))
    baskets = read(root, "mineral_baskets").select("mineral", "stage", "hs_edition", "hs6")
    return trade.join(baskets, on=["hs6", "hs_edition"])


SORT = ["mineral", "exporter", "importer", "year", "hs6", "side", "source", "value_usd"]


def test_derived_tables_hold_what_their_sources_say(demo_warehouse_dir):
    derived = read(demo_warehouse_dir, "mineral_flows")
    expected = expected_mineral_flows(demo_warehouse_dir).select(derived.columns)
    assert derived.height == expected.height > 0
    assert derived.sort(SORT).equals(expected.sort(SORT))

    summary = read(demo_warehouse_dir, "trade_summary")
    counts = (
        read(demo_warehouse_dir, "trade_flows")
        .group_by(pl.col("year").cast(pl.Int32), "hs_edition", "source", "side", "release")
        .agg(pl.len().cast(pl.Int64).alias("flows"))
    )
    keys = ["year", "hs_edition", "source", "side", "release"]
    assert summary.sort(keys).equals(counts.select(summary.columns).sort(keys))
    assert derive.stale(Warehouse(demo_warehouse_dir)) == []


def test_only_basket_codes_are_derived_and_chosen_codes_still_answer(demo_copy):
    warehouse = Warehouse(demo_copy)
    # 010121 (horses) is in no basket; 283329 is the manganese sulfate basket's code.
    rows = [("010121", "KAZ", "CHN", 5.0), ("283329", "KAZ", "USA", 7.0)]
    with warehouse.transaction(derived=derive.refresh) as tx:
        add_comtrade(tx, rows)
    part = warehouse.parts("mineral_flows")["comtrade"]
    derived = pl.read_parquet([demo_copy / f for f in part.files])
    assert derived["hs6"].unique().to_list() == ["283329"]
    assert derived["mineral"].to_list() == ["manganese_sulfate"]

    db = open_database(settings(demo_copy))
    chosen = queries.exports_by_series(db, kaz((), ("010121",), 2020, 2020)).frame
    assert chosen["series"].to_list() == ["HS 010121"]
    assert chosen["value_usd"].to_list() == [5.0 + _demo_value(db, "010121")]
    mixed = queries.exports_by_series(db, kaz(("manganese_sulfate",), ("010121",), 2020, 2020))
    assert set(mixed.frame["series"]) == {"manganese_sulfate", "HS 010121"}


def _demo_value(db, hs6):
    """What the demo part holds for a code from KAZ in 2020 (0 for codes it lacks)."""
    cursor = db.connection.cursor()
    value = cursor.sql(
        "SELECT coalesce(sum(value_usd), 0) FROM trade_flows "
        "WHERE hs6 = $hs6 AND exporter = 'KAZ' AND year = 2020 AND source = 'demo' "
        "AND side = 'reconciled'",
        params={"hs6": hs6},
    ).fetchall()[0][0]
    return float(value)


def test_derived_parts_follow_dropped_trade_parts_and_changed_baskets(demo_copy):
    warehouse = Warehouse(demo_copy)
    with warehouse.transaction(derived=derive.refresh) as tx:
        add_comtrade(tx, [("283329", "KAZ", "USA", 7.0)])
    assert set(warehouse.parts("mineral_flows")) == {"demo", "comtrade"}
    demo_inputs = warehouse.parts("mineral_flows")["demo"].inputs

    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.drop_part("trade_flows", "comtrade")
    assert set(warehouse.parts("mineral_flows")) == {"demo"}
    assert set(warehouse.parts("trade_summary")) == {"demo"}
    # Untouched sources keep their derived part as it was.
    assert warehouse.parts("mineral_flows")["demo"].inputs == demo_inputs

    baskets = read(demo_copy, "mineral_baskets").filter(pl.col("mineral") != "gallium")
    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.write_frame("mineral_baskets", "reference", baskets, source="critmin", release="2")
    minerals = set(read(demo_copy, "mineral_flows")["mineral"])
    assert "gallium" not in minerals and "graphite" in minerals
    assert derive.stale(warehouse) == []


def test_a_failed_derivation_leaves_the_warehouse_as_it_was(demo_copy, monkeypatch):
    warehouse = Warehouse(demo_copy)
    before = (warehouse.manifest_path.read_text(), tree_sha256(demo_copy))

    def broken(root, table, part, baskets, target):
        target.write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(derive, "_materialise", broken)
    with (
        pytest.raises(OSError, match="disk full"),
        warehouse.transaction(derived=derive.refresh) as tx,
    ):
        add_comtrade(tx, [("283329", "KAZ", "USA", 7.0)])
    assert (warehouse.manifest_path.read_text(), tree_sha256(demo_copy)) == before


def test_an_older_warehouse_answers_the_same_until_reindexed(demo_copy, demo_warehouse_dir, capsys):
    # A warehouse written before the derived tables existed: drop them from the manifest.
    manifest = json.loads((demo_copy / "manifest.json").read_text())
    for table in ("mineral_flows", "trade_summary"):
        del manifest["tables"][table]
    (demo_copy / "manifest.json").write_text(json.dumps(manifest))
    warehouse = Warehouse(demo_copy)
    assert "mineral_flows/demo is missing" in derive.stale(warehouse)

    fresh = open_database(settings(demo_warehouse_dir))
    old = open_database(settings(demo_copy))
    assert any("critmin reindex" in note for note in old.notes)
    for name, args in [
        ("exports_by_series", (kaz(("gallium", "graphite"), (), 2012, 2024),)),
        ("exporters_by_series", (TradeFilter(("manganese_sulfate",), (), 2020, 2024),)),
        ("trade_years", ()),
    ]:
        expected = getattr(queries, name)(fresh, *args).frame
        # Sums may differ in the last bits: the rows are added in another order.
        assert_frame_equal(
            getattr(queries, name)(old, *args).frame, expected, rel_tol=1e-9, check_row_order=False
        )

    assert critmin(["--data-dir", str(demo_copy), "status"]) == 0
    assert "`critmin reindex` rewrites it" in capsys.readouterr().out
    assert critmin(["--data-dir", str(demo_copy), "reindex"]) == 0
    assert "mineral_flows/demo" in capsys.readouterr().out
    assert derive.stale(warehouse) == []
    assert open_database(settings(demo_copy)).notes == []
    assert critmin(["--data-dir", str(demo_copy), "reindex"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_every_cursor_keeps_parquet_footers_cached(demo_warehouse_dir):
    # A session-level SET would leave the cursors the queries run on without the cache.
    db = open_database(settings(demo_warehouse_dir))
    cursor = db.connection.cursor()
    setting = cursor.sql("SELECT current_setting('parquet_metadata_cache')").fetchall()
    assert setting == [(True,)]


def test_basket_pages_keep_working_when_a_trade_file_is_damaged(demo_copy):
    # Basket queries read mineral_flows only; codes chosen directly need trade_flows.
    warehouse = Warehouse(demo_copy)
    damaged = warehouse.files("trade_flows")[0]
    damaged.write_bytes(b"not parquet")
    db = open_database(settings(demo_copy))
    assert "trade_flows" in db.unavailable
    out = queries.exports_by_series(db, kaz(("gallium",), (), 2012, 2024)).frame
    assert out.height > 0 and set(out["series"]) == {"gallium"}
    with pytest.raises(TableUnavailable, match=damaged.parent.name):
        queries.exports_by_series(db, kaz(("gallium",), ("283329",), 2012, 2024))


def test_optional_blocks_are_dropped_with_their_parameter():
    sql = (
        "-- q: uses $codes in a comment\n"
        "SELECT 1 WHERE list_contains($minerals, 'a')\n"
        "    -- only with $codes\n"
        "    UNION ALL SELECT 2 FROM trade_flows WHERE list_contains($codes, 'b')\n"
        "    -- end\n"
    )
    text, params = specialise(sql, {"minerals": ["a"], "codes": []})
    assert "trade_flows" not in text and params == {"minerals": ["a"]}
    text, params = specialise(sql, {"minerals": [], "codes": ["b"]})
    assert "UNION ALL SELECT 2 FROM trade_flows" in text and params == {
        "minerals": [],
        "codes": ["b"],
    }


def test_a_damaged_derived_file_is_computed_instead_until_reindexed(demo_copy, demo_warehouse_dir):
    warehouse = Warehouse(demo_copy)
    warehouse.files("mineral_flows")[0].write_bytes(b"not parquet")
    db = open_database(settings(demo_copy))
    assert "mineral_flows" not in db.unavailable
    assert any("cannot be read" in note and "critmin reindex" in note for note in db.notes)
    f = kaz(("gallium",), (), 2012, 2024)
    expected = queries.exports_by_partner(open_database(settings(demo_warehouse_dir)), f).frame
    out = queries.exports_by_partner(db, f).frame
    assert_frame_equal(out, expected, rel_tol=1e-9, check_row_order=False)

    assert critmin(["--data-dir", str(demo_copy), "reindex"]) == 0
    assert warehouse.check() == [] and open_database(settings(demo_copy)).notes == []


def test_monthly_exports_hold_every_declaration_of_a_code_a_page_can_ask_for(demo_copy):
    months = read(demo_copy, "monthly_flows").with_columns(
        pl.col("year").cast(pl.Int32), pl.col("month").cast(pl.Int32)
    )
    baskets = read(demo_copy, "mineral_baskets").select(
        pl.lit("HS").alias("classification"), "hs_edition", pl.col("hs6").alias("national_code")
    )
    lines = read(demo_copy, "national_lines").select(
        "classification", "hs_edition", pl.col("code").alias("national_code")
    )
    codes = pl.concat([baskets, lines]).unique()
    exporter = (
        pl.when(pl.col("side") == "importer_reported")
        .then(pl.col("partner"))
        .otherwise(pl.col("reporter"))
        .alias("exporter")
    )
    derived = read(demo_copy, "monthly_exports")
    expected = months.join(
        codes, on=["classification", "hs_edition", "national_code"], how="semi"
    ).select(exporter, *[c for c in derived.columns if c != "exporter"])
    assert derived.height == expected.height > 0
    assert derived.sort(derived.columns).equals(expected.sort(derived.columns))
    # The codes of no basket and no national line are left out.
    assert months.height > derived.height

    # A new national line (its code not in any basket) brings its declarations in.
    warehouse = Warehouse(demo_copy)
    odd = months.filter(~pl.col("national_code").is_in(derived["national_code"].implode()))
    row = odd.row(0, named=True)
    table = read(demo_copy, "national_lines")
    extra = table.head(1).with_columns(
        pl.lit(row["classification"]).alias("classification"),
        pl.lit(row["national_code"]).alias("code"),
        pl.lit(row["hs_edition"]).alias("hs_edition"),
    )
    part = next(iter(warehouse.parts("national_lines")))
    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.write_frame(
            "national_lines", part, pl.concat([table, extra]), source="critmin", release="2"
        )
    assert derive.stale(warehouse) == []
    again = read(demo_copy, "monthly_exports")
    assert row["national_code"] in again["national_code"].to_list()
