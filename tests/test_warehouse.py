"""The warehouse: schema validation, atomic swaps, clear errors on damage."""

import json

import polars as pl
import pytest

from critmin import derive
from critmin.db import open_database
from critmin.schema import TABLES, SchemaError, validate_frame
from critmin.settings import Settings
from critmin.warehouse import Warehouse, WarehouseError, tree_sha256

GOOD = {
    "year": [2020],
    "hs_edition": ["HS17"],
    "hs6": ["081129"],
    "exporter": ["KAZ"],
    "importer": ["CHN"],
    "value_usd": [10.0],
    "quantity_kg": [None],
    "source": ["baci"],
    "side": ["reconciled"],
    "release": ["V1"],
}


def frame(**changes):
    data = {**GOOD, **changes}
    return pl.DataFrame(data, schema_overrides={"year": pl.Int32, "quantity_kg": pl.Float64})


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"hs6": ["81129"]}, "hs6: value '81129' at row 1 is not a six-digit code"),
        ({"exporter": ["Kazakhstan"]}, "exporter: value 'Kazakhstan' at row 1 is not an ISO3 code"),
        ({"value_usd": [-1.0]}, "value_usd: value -1.0 at row 1 is negative"),
        ({"side": ["mirror"]}, "side: value 'mirror' at row 1 is not a known side"),
        ({"hs_edition": ["HS2017"]}, "is not an HS edition"),
    ],
)
def test_validation_names_column_row_and_reason(changes, message):
    with pytest.raises(SchemaError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_frame("trade_flows", frame(**changes), where="flows.csv")


def test_validation_names_missing_and_mistyped_columns():
    with pytest.raises(SchemaError, match="missing column\\(s\\) release"):
        validate_frame("trade_flows", frame().drop("release"))
    with pytest.raises(SchemaError, match="column value_usd: type String"):
        validate_frame("trade_flows", frame(value_usd=["10"]))
    with pytest.raises(SchemaError, match="column importer: empty value at row 1"):
        validate_frame("trade_flows", frame(importer=pl.Series([None], dtype=pl.String)))


def test_missing_and_empty_directories_name_the_fix(tmp_path):
    with pytest.raises(WarehouseError, match="critmin demo --data-dir"):
        Warehouse(tmp_path / "nowhere").manifest()
    with pytest.raises(WarehouseError, match="not a critmin warehouse"):
        Warehouse(tmp_path).manifest()
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(WarehouseError, match="corrupt"):
        Warehouse(tmp_path).manifest()


def test_failed_transaction_leaves_warehouse_exactly_as_it_was(demo_copy):
    warehouse = Warehouse(demo_copy)
    before_manifest = warehouse.manifest_path.read_text()
    before_tree = tree_sha256(demo_copy)
    with pytest.raises(SchemaError), warehouse.transaction(derived=derive.refresh) as tx:
        tx.drop_part("trade_flows", "demo")
        tx.write_frame("trade_flows", "baci", frame(hs6=["1234"]), source="baci", release="V1")
    assert warehouse.manifest_path.read_text() == before_manifest
    assert tree_sha256(demo_copy) == before_tree
    assert warehouse.check(verify_checksums=True) == []


def test_commit_swaps_parts_and_removes_old_versions(demo_copy):
    warehouse = Warehouse(demo_copy)
    old = warehouse.parts("trade_flows")["demo"].path
    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.drop_part("trade_flows", "demo")
        tx.write_frame("trade_flows", "baci", frame(), source="baci", release="V1")
    parts = warehouse.parts("trade_flows")
    assert list(parts) == ["baci"] and parts["baci"].rows == 1 and parts["baci"].years == [2020]
    assert not (demo_copy / old).exists()
    db = open_database(Settings(data_dir=demo_copy, data_dir_is_default=False))
    assert db.query("trade_years").frame["source"].to_list() == ["baci"]


def test_orphaned_staging_files_are_cleaned(demo_copy):
    orphan = demo_copy / "trade_flows" / "baci" / "v-20990101T000000-deadbeef"
    orphan.mkdir(parents=True)
    (orphan / "junk.parquet").write_bytes(b"x")
    half_written = demo_copy / ".manifest.json.0badc0de.tmp"
    half_written.write_text("{")
    with Warehouse(demo_copy).transaction():
        pass
    assert not orphan.exists() and not half_written.exists()


def test_corrupt_parquet_is_named(demo_copy):
    warehouse = Warehouse(demo_copy)
    victim = warehouse.files("deposits")[0]
    victim.write_bytes(b"not parquet at all")
    problems = warehouse.check()
    assert any(str(victim) in p for p in problems)
    db = open_database(Settings(data_dir=demo_copy, data_dir_is_default=False))
    with pytest.raises(WarehouseError, match=f"not readable Parquet.*|.*{victim.name}"):
        db.query("deposits", countries=[], commodities=[], statuses=[])
    # Tables that are intact keep working.
    assert db.query("trade_years").frame.height > 0


def test_checksum_verification_detects_changed_bytes(demo_copy):
    warehouse = Warehouse(demo_copy)
    manifest = json.loads(warehouse.manifest_path.read_text())
    manifest["tables"]["events"]["parts"]["reference"]["checksum"] = "0" * 64
    warehouse.manifest_path.write_text(json.dumps(manifest))
    assert any("checksum mismatch" in p for p in warehouse.check(verify_checksums=True))


def test_trade_flows_are_partitioned_by_year_and_sorted(demo_warehouse_dir):
    warehouse = Warehouse(demo_warehouse_dir)
    files = warehouse.files("trade_flows")
    assert all(f.parent.name.startswith("year=") for f in files)
    sample = pl.read_parquet(files[0])
    assert "year" not in sample.columns
    order = list(TABLES["trade_flows"].sort_by)
    keys = sample.select(order)
    assert keys.rows() == keys.sort(order).rows()


def test_changing_trade_flows_without_the_derived_rule_is_refused(demo_copy):
    warehouse = Warehouse(demo_copy)
    before = warehouse.manifest_path.read_text()
    with pytest.raises(WarehouseError, match="derived tables recomputed"):
        with warehouse.transaction() as tx:
            tx.drop_part("trade_flows", "demo")
    assert warehouse.manifest_path.read_text() == before
    # Tables nothing derives from need no rule.
    with warehouse.transaction() as tx:
        events = pl.read_parquet(warehouse.files("events"))
        tx.write_frame("events", "reference", events, source="t", release="2")
    assert warehouse.parts("events")["reference"].release == "2"
