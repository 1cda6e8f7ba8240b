"""`critmin ingest comtrade`: both declarations, aggregates skipped and reported,
editions mapped, merges, bad input, and the real Comtrade files in ../shared/data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import SHARED_DATA as SHARED

from critmin.cli import main
from critmin.warehouse import Warehouse, tree_sha256

FIXTURES = Path(__file__).parent / "data" / "comtrade"
needs_shared = pytest.mark.skipif(
    not (SHARED / "trade").is_dir(), reason=f"real public files not found at {SHARED}"
)


@pytest.fixture
def data_dir(demo_copy: Path) -> Path:
    """A private copy of the session's demo warehouse (conftest.py)."""
    return demo_copy


def snapshot(root: Path) -> tuple[str, str]:
    return (root / "manifest.json").read_text(encoding="utf-8"), tree_sha256(root)


def ingest(data_dir: Path, *args: str | Path) -> int:
    return main(["--data-dir", str(data_dir), "ingest", "comtrade", *map(str, args)])


def flows(data_dir: Path) -> pl.DataFrame:
    files = Warehouse(data_dir).parts("trade_flows")["comtrade"].files
    return pl.read_parquet([data_dir / f for f in files], hive_partitioning=True)


def one_flow(
    frame: pl.DataFrame, year: int, exporter: str, importer: str, hs6: str, side: str
) -> dict:
    rows = frame.filter(
        (pl.col("year") == year)
        & (pl.col("exporter") == exporter)
        & (pl.col("importer") == importer)
        & (pl.col("hs6") == hs6)
        & (pl.col("side") == side)
    )
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_folder_golden_values(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ingest(data_dir, FIXTURES) == 0
    out = capsys.readouterr().out
    frame = flows(data_dir)
    # X + RX summed on the exporter's side; reporter is the exporter.
    mn = one_flow(frame, 2019, "KAZ", "CHN", "283329", "exporter_reported")
    assert (mn["value_usd"], mn["quantity_kg"], mn["hs_edition"]) == (
        15_500_000,
        16_400_000,
        "HS17",
    )
    # M + RM on the importer's side (the reporter imports); one weight missing -> null.
    graphite = one_flow(frame, 2019, "CHN", "KAZ", "250410", "importer_reported")
    assert graphite["value_usd"] == 13_000 and graphite["quantity_kg"] is None
    # 842 -> USA, 251 -> FRA; a zero weight next to a value is "not reported".
    assert one_flow(frame, 2019, "KAZ", "USA", "811292", "exporter_reported")["quantity_kg"] is None
    assert (
        one_flow(frame, 2019, "KAZ", "FRA", "811292", "exporter_reported")["quantity_kg"] == 120.5
    )
    # Editions from classificationCode: H6 -> HS22.
    assert (
        one_flow(frame, 2022, "KAZ", "USA", "811292", "exporter_reported")["hs_edition"] == "HS22"
    )
    # The Comtrade+ CSV: China's imports, leading importer_reported rows.
    ree = one_flow(frame, 2021, "MMR", "CHN", "284690", "importer_reported")
    assert ree["value_usd"] == 60_000_000 and ree["quantity_kg"] == 7_000_000
    assert (
        one_flow(frame, 2021, "CHN", "KAZ", "811292", "exporter_reported")["value_usd"] == 5_050_000
    )
    assert frame.height == 12
    assert set(frame["source"]) == {"comtrade"}
    assert "010121" not in frame["hs6"].to_list()  # outside the baskets by default
    for reported in (
        "3 rows with partner World (0) skipped",
        "1 HS4 aggregate rows skipped",
        "partner code 899 Areas, nes",
        "partner code 97 European Union",
        "1 breakdown rows",
        "1 net weights are estimated",
    ):
        assert reported in out
    warehouse = Warehouse(data_dir)
    assert "demo" not in warehouse.parts("trade_flows")
    assert {p.file_name for p in warehouse.provenance() if p.source == "comtrade"} == {
        "kaz_2019.json",
        "kaz_2022.json",
        "comtrade_plus.csv",
    }


def test_all_products_and_merge_by_declaration(data_dir: Path) -> None:
    assert ingest(data_dir, FIXTURES / "kaz_2019.json", "--all-products") == 0
    assert "010121" in flows(data_dir)["hs6"].to_list()
    assert ingest(data_dir, FIXTURES / "kaz_2022.json") == 0
    first = Warehouse(data_dir).parts("trade_flows")["comtrade"]
    assert first.years == [2019, 2022] and first.rows == 6 + 3
    # Re-loading the same file replaces its own declarations: the same rows again.
    assert ingest(data_dir, FIXTURES / "kaz_2022.json") == 0
    again = Warehouse(data_dir).parts("trade_flows")["comtrade"]
    assert (again.rows, again.checksum) == (first.rows, first.checksum)
    assert ingest(data_dir, FIXTURES / "kaz_2022.json", "--replace") == 0
    assert Warehouse(data_dir).parts("trade_flows")["comtrade"].years == [2022]


def test_same_declaration_twice_counts_once(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "twice"
    folder.mkdir()
    shutil.copy(FIXTURES / "kaz_2022.json", folder / "a.json")
    shutil.copy(FIXTURES / "kaz_2022.json", folder / "b.json")
    assert ingest(data_dir, folder) == 0
    assert "3 rows found twice" in capsys.readouterr().out
    assert (
        one_flow(flows(data_dir), 2022, "KAZ", "CHN", "283329", "exporter_reported")["value_usd"]
        == 30_000_000
    )


def _conflicting(tmp_path: Path) -> Path:
    folder = tmp_path / "conflict"
    folder.mkdir()
    payload = json.loads((FIXTURES / "kaz_2022.json").read_text())
    (folder / "a.json").write_text(json.dumps(payload))
    payload["data"][0]["primaryValue"] = 1.0
    (folder / "b.json").write_text(json.dumps(payload))
    return folder


def _truncated(tmp_path: Path) -> Path:
    path = tmp_path / "cut.json"
    path.write_text((FIXTURES / "kaz_2019.json").read_text()[:500])
    return path


def _baci_file(tmp_path: Path) -> Path:
    path = tmp_path / "BACI_HS17_Y2017_V202501.csv"
    path.write_text("t,i,j,k,v,q\n2017,398,156,283329,1,1\n")
    return path


def _no_classification(tmp_path: Path) -> Path:
    path = tmp_path / "plus.csv"
    frame = pl.read_csv(FIXTURES / "comtrade_plus.csv", infer_schema=False)
    frame.drop("classificationCode").write_csv(path)
    return path


def _lost_zero(tmp_path: Path) -> Path:
    path = tmp_path / "zero.csv"
    path.write_text(
        "period,reporterCode,partnerCode,flowCode,cmdCode,primaryValue,"
        "classificationCode\n2019,398,156,X,283329,1,H5\n2019,398,156,X,10121,1,H5\n"
    )
    return path


def _metadata_only(tmp_path: Path) -> Path:
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"elapsedTime": "0", "count": 1, "data": [{"datasetCode": 1}]}))
    return path


def _negative(tmp_path: Path) -> Path:
    path = tmp_path / "neg.csv"
    path.write_text(
        "period,reporterCode,partnerCode,flowCode,cmdCode,primaryValue,"
        "classificationCode\n2019,398,156,X,283329,-5,H5\n"
    )
    return path


BAD = {
    "conflicting_copies": (_conflicting, "two different values for reporter 398"),
    "truncated_json": (_truncated, "cut.json: line"),
    "baci_file": (_baci_file, "missing column(s) period, reporterCode"),
    "no_classification": (_no_classification, "no classificationCode column; give --hs-edition"),
    "lost_zero": (_lost_zero, "zero.csv row 3, cmdCode: '10121' has 5 digits"),
    "not_trade_json": (_metadata_only, "meta.json: not a UN Comtrade data response"),
    "negative_value": (_negative, "neg.csv row 2: negative primaryValue"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_leaves_the_warehouse(
    case: str, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, message = BAD[case]
    path = make(tmp_path)
    before = snapshot(data_dir)
    assert ingest(data_dir, path) == 1
    err = capsys.readouterr().err
    assert message in err, err
    assert err.startswith("critmin: ") and len(err.strip().splitlines()) == 1
    assert snapshot(data_dir) == before


def test_csv_without_classification_with_edition_option(data_dir: Path, tmp_path: Path) -> None:
    path = _no_classification(tmp_path)
    assert ingest(data_dir, path, "--hs-edition", "HS17") == 0
    assert set(flows(data_dir)["hs_edition"]) == {"HS17"}


@needs_shared
def test_real_china_hs2846_responses(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The recorded preview responses hold only HS4 rows (cmdCode 2846, aggrLevel 4) and
    the World row: nothing six-digit to load, which the command must say, not hide."""
    folder = SHARED / "trade" / "comtrade_api_json" / "china_imports_hs2846"
    before = snapshot(data_dir)
    assert ingest(data_dir, folder) == 1
    err = capsys.readouterr().err
    assert "no six-digit rows" in err and "HS4 aggregate rows skipped" in err
    assert "manifest.json: not a Comtrade data response" in err
    assert snapshot(data_dir) == before


@needs_shared
def test_real_china_hs2846_editions_at_hs6(data_dir: Path, tmp_path: Path) -> None:
    """The same responses with cmdCode set to 284690 (as a six-digit request returns):
    importer_reported rows into CHN, editions mapped from each year's classification."""
    folder = SHARED / "trade" / "comtrade_api_json" / "china_imports_hs2846"
    copies = tmp_path / "hs6"
    copies.mkdir()
    for year in (1995, 2005, 2015, 2019, 2023):
        payload = json.loads((folder / f"{year}.json").read_text())
        for record in payload["data"]:
            record["cmdCode"], record["aggrLevel"] = "284690", 6
        (copies / f"{year}.json").write_text(json.dumps(payload))
    assert ingest(data_dir, copies) == 0
    frame = flows(data_dir)
    assert set(frame["side"]) == {"importer_reported"} and set(frame["importer"]) == {"CHN"}
    editions = dict(frame.select("year", "hs_edition").unique().iter_rows())
    assert editions == {1995: "HS92", 2005: "HS02", 2015: "HS12", 2019: "HS17", 2023: "HS22"}
    raw = json.loads((folder / "2015.json").read_text())["data"]
    partners = sum(1 for r in raw if r["partnerCode"] != 0 and r["partnerISO"] != "_X")
    assert frame.filter(pl.col("year") == 2015).height <= partners
    world = next(r["primaryValue"] for r in raw if r["partnerCode"] == 0)
    assert frame.filter(pl.col("year") == 2015)["value_usd"].sum() == pytest.approx(world, rel=0.02)


@needs_shared
def test_real_nickel_csv(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = SHARED / "trade" / "cmm-replication" / "UN_nickel_trade.csv"
    assert ingest(data_dir, path, "--all-products", "--hs-edition", "by-year") == 0
    out = capsys.readouterr().out
    assert "3,434 rows with partner World (0) skipped" in out
    frame = flows(data_dir)
    assert set(frame["hs6"]) == {"260400", "750110"}
    assert set(frame["side"]) == {"exporter_reported", "importer_reported"}
    editions = dict(frame.select("year", "hs_edition").unique().iter_rows())
    assert editions[2000] == "HS96" and editions[2017] == "HS17" and editions[2024] == "HS22"
    raw = pl.read_csv(path, infer_schema=False).filter(
        (pl.col("reporterISO") == "AUS")
        & (pl.col("period") == "2000")
        & (pl.col("flowCode") == "X")
        & (pl.col("cmdCode") == "260400")
        & (pl.col("partnerCode") != "0")
    )
    aus = frame.filter(
        (pl.col("exporter") == "AUS")
        & (pl.col("year") == 2000)
        & (pl.col("hs6") == "260400")
        & (pl.col("side") == "exporter_reported")
    )
    assert aus["value_usd"].sum() == pytest.approx(
        raw["primaryValue"].cast(pl.Float64).sum(), rel=0.01
    )
