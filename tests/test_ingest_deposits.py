"""Deposits ingest: four formats, location checks, normalisation, atomic failures, real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import SHARED_DATA as SHARED

from critmin import reference
from critmin.cli import main
from critmin.ingest import deposits
from critmin.warehouse import Warehouse, tree_sha256

DATA = Path(__file__).parent / "data" / "deposits"
MINMOD = DATA / "minmod_sample.csv"
MRDS = DATA / "mrds_sample.csv"
JASANSKY = DATA / "jasansky"
GENERIC = DATA / "generic_sample.csv"
MCS_SAMPLE = Path(__file__).parent / "data" / "usgs_mcs" / "mcs2026_sample.csv"
REAL = SHARED / "deposits"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"real deposit files not found at {REAL}")


@pytest.fixture
def demo(demo_copy: Path) -> Path:
    """A private copy of the session's demo warehouse (conftest.py)."""
    return demo_copy


def part_frame(data_dir: Path, part: str) -> pl.DataFrame:
    files = [data_dir / f for f in Warehouse(data_dir).parts("deposits")[part].files]
    return pl.read_parquet(files)


def by_id(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["id"]: row for row in frame.iter_rows(named=True)}


def test_minmod_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path / "w"), "ingest", "deposits", str(MINMOD)]) == 0
    out = capsys.readouterr().out
    assert "2 rows had latitude and longitude swapped: corrected" in out
    assert "'Yugoslavia' (1)" in out
    rows = by_id(part_frame(tmp_path / "w", "minmod"))
    swapped = rows["minmod-mrdata_major_deposits-1500"]
    assert (swapped["lat"], swapped["lon"]) == (47.5, 67.0)
    assert swapped["location_check"] == "swapped lat/lon"
    assert swapped["commodities"] == ["Mn", "Fe"]
    # out of range latitude that a swap explains (Myanmar, as in the real world file)
    myanmar = rows["minmod-mrdata_major_deposits-2002"]
    assert (myanmar["lat"], myanmar["lon"], myanmar["location_check"]) == (
        23.63453,
        96.16317,
        "swapped lat/lon",
    )
    missing = rows["minmod-mrdata_major_deposits-1501"]
    assert missing["lat"] is None and missing["location_check"] == "no coordinates"
    assert missing["country"] == "KAZ"  # "Kazakstan" with an empty iso3
    assert missing["commodities"] == ["REE", "Ga"]
    assert rows["minmod-mrdata_major_deposits-1502"]["location_check"] == "outside country"
    assert rows["minmod-mrdata_major_deposits-2001"]["country"] is None
    assert rows["minmod-mrdata_major_deposits-2001"]["location_check"] == "unchecked"
    assert rows["minmod-mrdata_porcu-77"]["deposit_type"] is None  # bare code "17"
    assert rows["minmod-mrdata_major_deposits-1999"]["country"] == "KGZ"
    assert {r["status"] for r in rows.values()} == {"unknown"}
    assert "curated" in Warehouse(tmp_path / "w").parts("deposits")


def test_mrds_sample_statuses_and_commodities(demo: Path) -> None:
    assert main(["--data-dir", str(demo), "ingest", "deposits", str(MRDS)]) == 0
    rows = by_id(part_frame(demo, "mrds"))
    assert rows["mrds-10100001"]["commodities"] == ["Cu", "Ag", "Pb", "Zn", "Re"]
    assert rows["mrds-10009306"]["commodities"] == ["U", "V", "Au"]
    statuses = {i: r["status"] for i, r in rows.items()}
    assert statuses["mrds-10100001"] == "producing"
    assert statuses["mrds-10100002"] == "past producer"
    assert statuses["mrds-10100003"] == "exploration"
    assert statuses["mrds-10100004"] == "plant"
    assert statuses["mrds-10009306"] == "occurrence"
    assert rows["mrds-10100006"]["country"] == "CHL"
    assert rows["mrds-10100001"]["source_reference"].endswith("dep_id=10100001")
    parts = Warehouse(demo).parts("deposits")
    assert {"curated", "mrds"} <= set(parts) and parts["mrds"].source == "mrds"


def test_jasansky_folder(tmp_path: Path) -> None:
    assert main(["--data-dir", str(tmp_path / "w"), "ingest", "deposits", str(JASANSKY)]) == 0
    rows = by_id(part_frame(tmp_path / "w", "jasansky"))
    aktogay = rows["jasansky-KAZ00001.00"]
    assert (aktogay["lat"], aktogay["lon"]) == (46.97, 79.97)  # from "c(lon, lat)"
    assert aktogay["commodities"] == ["Cu", "Mo"]
    assert aktogay["status"] == "producing"
    assert "KAZ Minerals (2019) Annual Report" in aktogay["source_reference"]
    assert rows["jasansky-KAZ00003.00"]["status"] == "plant"
    assert rows["jasansky-KAZ00004.00"]["location_check"] == "no coordinates"  # numeric(0)
    assert rows["jasansky-KAZ00004.00"]["status"] == "past producer"  # last data 2011
    assert rows["jasansky-KAZ00005.00"]["location_check"] == "no coordinates"  # c(NaN, NaN)
    assert rows["jasansky-CHL00001.00"]["commodities"] == ["Cu", "U"]
    files = {p.file_name for p in Warehouse(tmp_path / "w").provenance() if p.source == "jasansky"}
    assert {"facilities.csv", "commodities.csv"} <= files


def test_generic_csv_and_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "--data-dir",
                str(tmp_path / "w"),
                "ingest",
                "deposits",
                str(GENERIC),
                "--format",
                "generic",
                "--licence",
                "CC BY 4.0",
                "--citation",
                "My survey",
            ]
        )
        == 0
    )
    assert "'whatever' (1)" in capsys.readouterr().out
    frame = part_frame(tmp_path / "w", "generic")
    assert frame["country"].to_list().count("KAZ") == 4
    assert by_id(frame)["generic-row5"]["status"] == "development"
    provenance = [p for p in Warehouse(tmp_path / "w").provenance() if p.source == "generic"]
    assert (provenance[0].licence, provenance[0].citation) == ("CC BY 4.0", "My survey")


def test_auto_detection() -> None:
    assert deposits.detect_format(MINMOD) == "minmod"
    assert deposits.detect_format(MRDS) == "mrds"
    assert deposits.detect_format(GENERIC) == "generic"
    assert deposits.detect_format(JASANSKY) == "jasansky"
    assert deposits.detect_format(JASANSKY / "facilities.csv") == "jasansky"


def test_vectorised_check_agrees_with_point_in_country() -> None:
    points = [
        ("KAZ", 46.97, 79.97),
        ("KAZ", 40.0, 100.0),
        ("UZB", 40.8, 69.67),
        ("CHL", -22.29, -68.9),
        ("KAZ", 43.0, 39.0),
        ("RUS", 55.75, 37.62),
        ("KAZ", 55.3, 69.0),
    ]
    checks, _, _ = deposits.check_locations(
        [c for c, _, _ in points],
        np.array([p[1] for p in points]),
        np.array([p[2] for p in points]),
    )
    for (country, lat, lon), check in zip(points, checks, strict=True):
        assert (check == "ok") == reference.point_in_country(country, lat, lon), (country, lat)


def test_normalisers() -> None:
    assert deposits.normalise_commodity(" copper ") == "Cu"
    assert deposits.normalise_commodity("Rare Earth Elements") == "REE"
    assert deposits.normalise_commodity("Quartz") == "Quartz"
    assert deposits.normalise_status("Past Producer") == "past producer"
    assert deposits.normalise_status("stopped 31.12.2013") == "past producer"
    assert deposits.normalise_status(None) == "unknown"
    assert deposits.normalise_status("whatever") is None


def _empty(path: Path) -> Path:
    path.write_text("")
    return path


def _utf8_copy(source: Path, target: Path) -> Path:
    target.write_text(source.read_bytes().decode("cp1252"), encoding="utf-8")
    return target


def _snapshot(data_dir: Path) -> tuple[str, str]:
    return (data_dir / "manifest.json").read_text(), tree_sha256(data_dir)


def _edit(source: Path, target: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (
            lambda d: _edit(MRDS, d / "m.csv", "dev_stat", "status_of_dev"),
            ["--format", "mrds"],
            "missing column(s) dev_stat",
        ),
        (
            lambda d: _edit(MINMOD, d / "m.csv", "record_id,", "record,"),
            [],
            "cannot tell the deposits format",
        ),
        (lambda d: _empty(d / "e.csv"), [], "the file is empty"),
        (
            lambda d: _edit(GENERIC, d / "g.csv", "49.5,72.0", "149.5,72.0"),
            [],
            "line 3: latitude 149.5",
        ),
        (
            lambda d: _edit(GENERIC, d / "g.csv", "49.5,72.0", "north,72.0"),
            [],
            "line 3, column latitude: 'north' is not a number",
        ),
        (lambda d: _utf8_copy(MCS_SAMPLE, d / "mcs.csv"), [], "cannot tell the deposits format"),
    ],
    ids=[
        "missing-column",
        "unknown-format",
        "empty",
        "latitude-range",
        "latitude-text",
        "other-source",
    ],
)
def test_bad_input_leaves_warehouse_untouched(
    demo: Path, tmp_path: Path, make, args, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)
    before = _snapshot(demo)
    assert main(["--data-dir", str(demo), "ingest", "deposits", str(path), *args]) == 1
    err = capsys.readouterr().err
    assert message in err, err
    assert err.count("\n") == 1
    assert _snapshot(demo) == before


def test_non_utf8_file_is_refused(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        GENERIC.read_text(encoding="utf-8").replace("Aktogay", "Aktogaý").encode("cp1252")
    )
    before = _snapshot(demo)
    assert main(["--data-dir", str(demo), "ingest", "deposits", str(latin)]) == 1
    assert "line 2 is not UTF-8" in capsys.readouterr().err
    assert _snapshot(demo) == before


@needs_real
def test_real_central_asia(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = REAL / "minmod_central_asia_deposits.csv"
    assert main(["--data-dir", str(tmp_path / "w"), "ingest", "deposits", str(path)]) == 0
    assert "22 rows had latitude and longitude swapped: corrected" in capsys.readouterr().out
    frame = part_frame(tmp_path / "w", "minmod")
    assert frame.height == 1382
    kaz = frame.filter(pl.col("country") == "KAZ")
    assert kaz.height == 995
    checks = dict(kaz["location_check"].value_counts().iter_rows())
    assert checks["swapped lat/lon"] == 22
    assert set(checks) <= {"ok", "swapped lat/lon", "no coordinates"}, checks
    located = kaz.filter(pl.col("lat").is_not_null())
    inside = [
        reference.point_in_country("KAZ", lat, lon)
        for lat, lon in located.select("lat", "lon").iter_rows()
    ]
    assert all(inside)


@needs_real
def test_real_world_file(tmp_path: Path) -> None:
    path = REAL / "minmod_world_deposits_flat.csv"
    frame, summary, fmt, _ = deposits.load(path)
    assert fmt == "minmod" and frame.height == 38_654
    assert frame.filter(pl.col("country") == "KAZ").height == 995
    assert frame["lat"].abs().max() <= 90
    tagaung = frame.filter(
        pl.col("id").str.starts_with("minmod-mudd_jowitt_nickel")
        & (pl.col("name") == "Tagaung Taung")
    )
    assert tagaung.row(0, named=True)["location_check"] == "swapped lat/lon"
    assert tagaung.row(0, named=True)["lat"] == pytest.approx(23.63453)


@needs_real
def test_real_jasansky(tmp_path: Path) -> None:
    assert (
        main(["--data-dir", str(tmp_path / "w"), "ingest", "deposits", str(REAL / "jasansky2023")])
        == 0
    )
    frame = part_frame(tmp_path / "w", "jasansky")
    kaz = frame.filter(pl.col("country") == "KAZ")
    assert kaz.height == 52
    assert kaz.filter(pl.col("commodities").list.contains("Cu")).height > 10
    assert kaz.filter(pl.col("location_check") == "outside country").height == 0
