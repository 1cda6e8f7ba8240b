"""`critmin ingest baci`: golden values, release rules, bad input that leaves the
warehouse untouched, and the real BACI-format files in ../shared/data."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest
from conftest import SHARED_DATA as SHARED

from bench.synth import generate_baci_csv
from critmin.cli import main
from critmin.ingest.baci import file_sort_order
from critmin.warehouse import Warehouse, tree_sha256

FIXTURES = Path(__file__).parent / "data" / "baci"
needs_shared = pytest.mark.skipif(
    not (SHARED / "trade").is_dir(), reason=f"real public files not found at {SHARED}"
)
HEADER = "t,i,j,k,v,q\n"


@pytest.fixture
def data_dir(demo_copy: Path) -> Path:
    """A private copy of the session's demo warehouse (conftest.py)."""
    return demo_copy


def snapshot(root: Path) -> tuple[str, str]:
    return (root / "manifest.json").read_text(encoding="utf-8"), tree_sha256(root)


def ingest(data_dir: Path, *args: str | Path) -> int:
    return main(["--data-dir", str(data_dir), "ingest", "baci", *map(str, args)])


def flows(data_dir: Path) -> pl.DataFrame:
    files = Warehouse(data_dir).parts("trade_flows")["baci"].files
    return pl.read_parquet([data_dir / f for f in files], hive_partitioning=True)


def release_zip(tmp_path: Path, name: str = "BACI_HS17_V202501.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(FIXTURES.iterdir()):
            archive.write(file, file.name)
    return path


def one_flow(frame: pl.DataFrame, year: int, exporter: str, importer: str, hs6: str) -> dict:
    rows = frame.filter(
        (pl.col("year") == year)
        & (pl.col("exporter") == exporter)
        & (pl.col("importer") == importer)
        & (pl.col("hs6") == hs6)
    )
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_zip_golden_values(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ingest(data_dir, release_zip(tmp_path)) == 0
    out = capsys.readouterr().out
    frame = flows(data_dir)
    # v thousands of USD -> USD, q tons -> kg; padded q read; codes stay strings.
    cathodes = one_flow(frame, 2017, "KAZ", "CHN", "740311")
    assert cathodes["value_usd"] == pytest.approx(2_345_678_901.0)
    assert cathodes["quantity_kg"] == pytest.approx(251_234_500.0)
    assert one_flow(frame, 2017, "KAZ", "RUS", "811292")["quantity_kg"] is None  # "NA"
    assert one_flow(frame, 2017, "FRA", "KAZ", "740311")["quantity_kg"] is None  # empty q
    assert one_flow(frame, 2017, "DEU", "KAZ", "260300")["value_usd"] == pytest.approx(5.0)
    # BACI's own codes: 842 USA, 251 France; 490 "Other Asia, nes" is Taiwan.
    assert one_flow(frame, 2017, "CHN", "USA", "811292")["value_usd"] == pytest.approx(98_765_432)
    assert one_flow(frame, 2017, "CHN", "FRA", "250410")["quantity_kg"] == pytest.approx(4e6)
    assert one_flow(frame, 2017, "TWN", "KAZ", "283329")["value_usd"] == pytest.approx(7500)
    assert set(frame["source"]) == {"baci"} and set(frame["side"]) == {"reconciled"}
    assert set(frame["release"]) == {"V202501"} and set(frame["hs_edition"]) == {"HS17"}
    # Only basket codes by default; a group code (697, N/A) is rejected and reported.
    assert "010121" not in frame["hs6"].to_list() and "852352" not in frame["hs6"].to_list()
    assert "rejected 1: country code 697" in out
    assert frame.filter(pl.col("importer") == "697").is_empty()
    assert frame.height == 20
    # The synthetic demo flows are gone; the release's descriptions are loaded.
    warehouse = Warehouse(data_dir)
    assert "demo" not in warehouse.parts("trade_flows")
    assert "demo trade flows were removed" in out
    products = pl.read_parquet([data_dir / f for f in warehouse.parts("products")["baci"].files])
    assert products.filter(pl.col("hs6") == "010121")["hs_edition"].to_list() == ["HS17"]
    records = [p for p in warehouse.provenance() if p.source == "baci"]
    assert [p.file_name for p in records] == ["BACI_HS17_V202501.zip"]
    assert records[0].licence.startswith("Etalab") and len(records[0].sha256) == 64
    assert not warehouse.check(verify_checksums=True)


def test_all_products_keeps_leading_zeros(data_dir: Path) -> None:
    assert ingest(data_dir, FIXTURES, "--all-products") == 0
    frame = flows(data_dir)
    assert one_flow(frame, 2017, "KAZ", "CHN", "010121")["value_usd"] == pytest.approx(123_456)
    assert frame.filter(pl.col("hs6") == "852352").height == 2
    # Sorted inside each year's file as warehouse.write_table_files sorts.
    year = frame.filter(pl.col("year") == 2017).drop("year")
    assert year.equals(year.sort(list(file_sort_order())))
    assert set(file_sort_order()) == {"exporter", "hs6", "importer"}


def test_years_merge_and_rerun_is_idempotent(data_dir: Path, tmp_path: Path) -> None:
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(FIXTURES / "BACI_HS17_Y2017_V202501.csv", single)
    assert ingest(data_dir, single / "BACI_HS17_Y2017_V202501.csv") == 0
    assert Warehouse(data_dir).parts("trade_flows")["baci"].years == [2017]
    assert ingest(data_dir, FIXTURES / "BACI_HS17_Y2018_V202501.csv") == 0
    first = Warehouse(data_dir).parts("trade_flows")["baci"]
    assert first.years == [2017, 2018]
    assert first.rows == 15 + 5  # basket rows with mapped codes: 15 of 18 in 2017, 5 of 6 in 2018
    assert ingest(data_dir, FIXTURES) == 0
    again = Warehouse(data_dir).parts("trade_flows")["baci"]
    assert (again.rows, again.years, again.checksum) == (first.rows, first.years, first.checksum)
    assert ingest(data_dir, FIXTURES / "BACI_HS17_Y2018_V202501.csv") == 0
    assert Warehouse(data_dir).parts("trade_flows")["baci"].checksum == first.checksum


def test_other_release_is_refused_unless_replace(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ingest(data_dir, FIXTURES) == 0
    capsys.readouterr()
    before = snapshot(data_dir)
    other = tmp_path / "BACI_HS17_Y2019_V202401.csv"
    other.write_text(HEADER + "2019,398,156,283329,10,1\n")
    assert ingest(data_dir, other) == 1
    err = capsys.readouterr().err
    assert "holds BACI V202501 (HS17), this is V202401 (HS17)" in err and "--replace" in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(data_dir) == before
    edition = tmp_path / "BACI_HS22_Y2022_V202501.csv"
    edition.write_text(HEADER + "2022,398,156,283329,10,1\n")
    assert ingest(data_dir, edition) == 1
    assert "V202501 (HS22)" in capsys.readouterr().err
    assert snapshot(data_dir) == before
    assert ingest(data_dir, other, "--replace") == 0
    part = Warehouse(data_dir).parts("trade_flows")["baci"]
    assert (part.release, part.years, part.rows) == ("V202401", [2019], 1)
    assert "baci" not in Warehouse(data_dir).parts("products")  # the old release's texts


def _truncated_zip(tmp_path: Path) -> Path:
    whole = release_zip(tmp_path / "..", "whole.zip")
    data = whole.read_bytes()
    path = tmp_path / "BACI_HS17_V202501.zip"
    path.write_bytes(data[: len(data) // 2])
    return path


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "comtrade_csv": (
        b"period,reporterCode,partnerCode,flowCode,cmdCode,primaryValue\n"
        b"2019,398,156,X,283329,1000\n",
        "missing column(s) t, i, j, k, v, q",
    ),
    "empty": (b"", "the file is empty"),
    "header_only": (HEADER.encode(), "no data rows"),
    "not_utf8": (
        HEADER.encode() + b"2017,398,156,283329,1.5,2\n2017,398,1\xe956,283329,1,1\n",
        "line 3 is not UTF-8",
    ),
    "lost_zero": (
        HEADER.encode() + b"2017,398,156,283329,1.5,2\n2017,398,156,10121,1,1\n",
        "line 3, column k: value '10121' is not a six-digit HS code",
    ),
    "negative_v": (
        HEADER.encode() + b"2017,398,156,283329,-1.5,2\n",
        "line 2, column v: value '-1.5' is negative",
    ),
    "text_v": (
        HEADER.encode() + b"2017,398,156,283329,1.5,2\n2017,398,156,283329x,abc,2\n"
        b"2017,398,156,250410,abc,2\n",
        "line 3",
    ),
    "text_v_only": (
        HEADER.encode() + b"2017,398,156,283329,1.5,2\n2017,398,156,250410,abc,2\n",
        "line 3, column v: 'abc' is not a number",
    ),
    "text_q": (
        HEADER.encode() + b"2017,398,156,283329,1.5,2\n2017,398,156,250410,1,lots\n",
        "line 3, column q: value 'lots' is not a number",
    ),
    "negative_q": (
        HEADER.encode() + b"2017,398,156,283329,1.5,-2\n",
        "line 2, column q: value '-2' is negative",
    ),
    "duplicate": (
        HEADER.encode() + b"2017,398,156,283329,1.5,2\n2017,398,643,283329,1,1\n"
        b"2017,398,156,283329,2.5,3\n",
        "lines 2 and 4: t=2017, i=398, j=156, k=283329",
    ),
    "extra_column": (
        b"t,i,j,name,k,v,q\n2017,398,156,China,283329,1.5,2\n",
        "unexpected column(s) name",
    ),
    "wrong_year": (
        HEADER.encode() + b"2016,398,156,283329,1.5,2\n",
        "line 2, column t: value '2016' differs from the year 2017",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_input_names_the_place_and_leaves_the_warehouse(
    case: str, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, message = BAD_FILES[case]
    path = tmp_path / "BACI_HS17_Y2017_V202501.csv"
    path.write_bytes(content)
    before = snapshot(data_dir)
    assert ingest(data_dir, path) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("critmin: ") and len(err.strip().splitlines()) == 1
    assert str(path) in err or path.name in err
    assert snapshot(data_dir) == before


def test_truncated_zip_is_refused(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "zips").mkdir()
    path = _truncated_zip(tmp_path / "zips")
    before = snapshot(data_dir)
    assert ingest(data_dir, path) == 1
    err = capsys.readouterr().err
    assert "BACI_HS17_V202501.zip" in err and "truncated" in err
    assert snapshot(data_dir) == before


def test_unnamed_file_needs_release_and_edition(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(HEADER + "2023,398,156,283329,1.5,2\n")
    assert ingest(data_dir, path) == 1
    assert "flows.csv: cannot tell the HS edition" in capsys.readouterr().err
    assert ingest(data_dir, path, "--hs-edition", "HS22") == 1
    assert "give --release" in capsys.readouterr().err
    assert ingest(data_dir, path, "--hs-edition", "HS22", "--release", "V202501") == 0
    row = flows(data_dir).row(0, named=True)
    assert (row["hs_edition"], row["release"], row["exporter"]) == ("HS22", "V202501", "KAZ")


def test_empty_data_dir_gets_reference_tables(tmp_path: Path) -> None:
    target = tmp_path / "fresh"
    assert ingest(target, FIXTURES) == 0
    warehouse = Warehouse(target)
    assert {"countries", "mineral_baskets"} <= set(warehouse.manifest()["tables"])
    assert set(warehouse.parts("trade_flows")) == {"baci"}


@pytest.mark.slow
def test_synthetic_generator_is_deterministic_and_loads(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    a = generate_baci_csv(tmp_path / "a" / "BACI_HS17_Y2017_V202501.csv", 3_000, 2017, seed=7)
    b = generate_baci_csv(tmp_path / "b.csv", 3_000, 2017, seed=7)
    assert a.read_bytes() == b.read_bytes()
    frame = pl.read_csv(b, schema_overrides={"k": pl.String})
    assert frame.height == 3_000 and frame["k"].str.len_chars().eq(6).all()
    assert frame.select("i", "j", "k").is_duplicated().sum() == 0
    assert ingest(tmp_path / "wh", a, "--all-products") == 0
    assert Warehouse(tmp_path / "wh").parts("trade_flows")["baci"].rows == 3_000


@needs_shared
def test_real_baci_sample_with_release_options(data_dir: Path) -> None:
    sample = SHARED / "trade" / "baci-format-sample" / "baci_85_only.csv"
    raw = pl.read_csv(sample, schema_overrides={"k": pl.String, "q": pl.String})
    assert (
        ingest(data_dir, sample, "--all-products", "--release", "V202501", "--hs-edition", "HS22")
        == 0
    )
    frame = flows(data_dir)
    assert frame.height == raw.height
    assert set(frame["hs6"]) == {"852352"} and set(frame["exporter"]) == {"KOR"}
    assert frame["quantity_kg"].null_count() == raw["q"].is_null().sum()
    kaz = one_flow(frame, 2023, "KOR", "KAZ", "852352")
    expected = raw.filter(pl.col("j") == 398)["v"][0] * 1000
    assert kaz["value_usd"] == pytest.approx(expected)


@needs_shared
def test_real_adb_extract_is_refused(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(data_dir)
    extract = SHARED / "trade" / "adb-kaz-gvc" / "kaz_exports_2019.csv"
    assert ingest(data_dir, extract, "--hs-edition", "HS02", "--release", "V202301") == 1
    err = capsys.readouterr().err
    assert "kaz_exports_2019.csv: missing column(s) j, q" in err
    assert snapshot(data_dir) == before


@needs_shared
def test_real_country_dictionary_maps_baci_codes(tmp_path: Path) -> None:
    folder = tmp_path / "release"
    folder.mkdir()
    shutil.copy(
        SHARED / "trade" / "baci_dictionaries" / "country_codes.csv",
        folder / "country_codes_V202201.csv",
    )
    (folder / "BACI_HS17_Y2020_V202201.csv").write_text(
        HEADER + "2020,842,398,283329,1,1\n2020,251,398,283329,2,2\n2020,699,398,283329,3,3\n"
        "2020,757,398,283329,4,4\n2020,849,398,283329,5,5\n"
    )
    assert ingest(tmp_path / "wh", folder) == 0
    frame = flows(tmp_path / "wh")
    assert sorted(frame["exporter"]) == ["CHE", "FRA", "IND", "USA"]  # 849 is N/A: rejected
