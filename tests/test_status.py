"""`critmin status`: what the warehouse holds, as text and JSON, and problems found."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from critmin.cli import main
from critmin.warehouse import Warehouse

DATA = Path(__file__).parent / "data"


@pytest.fixture
def demo(demo_copy: Path) -> Path:
    """A private copy of the session's demo warehouse (conftest.py)."""
    return demo_copy


def status_json(
    data_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict]:
    code = main(["--data-dir", str(data_dir), "status", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_text_status_on_demo(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(demo), "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Warehouse: {demo}"
    assert lines[1].split() == ["table", "part", "source", "release", "years", "rows", "built_at"]
    body = {tuple(line.split()[:3]) for line in lines[2:]}
    for expected in [
        ("trade_flows", "demo", "demo"),
        ("production", "usgs_mcs", "usgs_mcs"),
        ("deposits", "minmod", "minmod"),
        ("deposits", "curated", "curated"),
        ("countries", "reference", "natural_earth+coco"),
    ]:
        assert expected in body
    flows = next(line for line in lines if line.startswith("trade_flows"))
    rows = Warehouse(demo).parts("trade_flows")["demo"].rows
    assert str(rows) in flows.split()
    assert not any(line.startswith("PROBLEM") for line in lines)


def test_json_status_on_demo(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = status_json(demo, capsys)
    assert code == 0
    assert report["data_dir"] == str(demo)
    assert report["problems"] == []
    tables = {(row["table"], row["part"]): row for row in report["tables"]}
    flows = tables[("trade_flows", "demo")]
    assert flows["release"] == "demo-2"
    assert flows["rows"] == Warehouse(demo).parts("trade_flows")["demo"].rows > 0
    assert flows["years"].startswith("2012-")
    assert flows["built_at"].endswith("+00:00")
    assert {"source", "release", "rows", "years", "built_at", "checksum"} <= set(flows)
    sources = {p["source"] for p in report["provenance"]}
    assert {"demo", "usgs_mcs", "minmod"} <= sources


def test_status_after_ingests(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "--data-dir",
                str(demo),
                "ingest",
                "usgs-mcs",
                str(DATA / "usgs_mcs" / "mcs2026_sample.csv"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "--data-dir",
                str(demo),
                "ingest",
                "deposits",
                str(DATA / "deposits" / "minmod_sample.csv"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    code, report = status_json(demo, capsys, "--verify")
    assert code == 0 and report["problems"] == []
    tables = {(row["table"], row["part"]): row for row in report["tables"]}
    production = tables[("production", "usgs_mcs")]
    assert (
        production["source"],
        production["release"],
        production["years"],
        production["rows"],
    ) == ("usgs_mcs", "MCS2026", "2024-2025", 20)
    assert ("production", "curated") not in tables
    minmod = tables[("deposits", "minmod")]
    assert (minmod["source"], minmod["release"], minmod["rows"]) == (
        "minmod",
        "minmod_sample.csv",
        12,
    )
    assert ("deposits", "curated") in tables
    provenance = {(p["source"], p["file_name"]) for p in report["provenance"]}
    assert {("usgs_mcs", "mcs2026_sample.csv"), ("minmod", "minmod_sample.csv")} <= provenance
    assert main(["--data-dir", str(demo), "status"]) == 0
    text = capsys.readouterr().out
    assert any(
        line.split()[:4] == ["production", "usgs_mcs", "usgs_mcs", "MCS2026"]
        for line in text.splitlines()
    )


def test_corrupt_parquet_is_named(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = Warehouse(demo).files("events")[0]
    victim.write_bytes(b"this is not parquet")
    assert main(["--data-dir", str(demo), "status"]) == 1
    out = capsys.readouterr().out
    assert f"PROBLEM: events/reference: {victim} is not readable Parquet" in out
    code, report = status_json(demo, capsys)
    assert code == 1
    assert any(str(victim) in problem for problem in report["problems"])


def test_verify_finds_a_replaced_file(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = Warehouse(demo).files("events")[0]
    frame = pl.read_parquet(victim)
    frame.head(1).write_parquet(victim)  # still valid Parquet with the right columns
    assert main(["--data-dir", str(demo), "status"]) == 0, "footers alone look fine"
    capsys.readouterr()
    assert main(["--data-dir", str(demo), "status", "--verify"]) == 1
    assert "events/reference: checksum mismatch" in capsys.readouterr().out


def test_missing_file_and_missing_warehouse(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = Warehouse(demo).files("deposits")[0]
    victim.unlink()
    assert main(["--data-dir", str(demo), "status"]) == 1
    assert f"file {victim} is missing" in capsys.readouterr().out
    assert main(["--data-dir", str(tmp_path / "nowhere"), "status"]) == 1
    err = capsys.readouterr().err
    assert "No warehouse at" in err and "critmin demo" in err
