"""USGS MCS ingest: value parsing, country mapping, units, atomic failures, real-file anchors."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import SHARED_DATA as SHARED

from critmin.cli import main
from critmin.ingest import usgs_mcs
from critmin.warehouse import Warehouse, tree_sha256

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "usgs_mcs" / "mcs2026_sample.csv"
REAL_MCS = SHARED / "production" / "usgs_mcs2026_commodities_data.csv"
needs_real = pytest.mark.skipif(
    not REAL_MCS.is_file(), reason=f"real USGS MCS file not found at {REAL_MCS}"
)


@pytest.fixture
def demo(demo_copy: Path) -> Path:
    """A private copy of the session's demo warehouse (conftest.py)."""
    return demo_copy


def production(data_dir: Path, part: str = "usgs_mcs") -> pl.DataFrame:
    files = [data_dir / f for f in Warehouse(data_dir).parts("production")[part].files]
    return pl.read_parquet(files)


def value(
    frame: pl.DataFrame, country: str, commodity: str, statistic: str, year: int
) -> float | None:
    rows = frame.filter(
        (pl.col("country") == country)
        & (pl.col("commodity") == commodity)
        & (pl.col("statistic") == statistic)
        & (pl.col("year") == year)
    )
    assert rows.height == 1, rows
    return rows["value"][0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,400", (1400.0, None)),
        ("0.5", (0.5, None)),
        ("W", (None, "W")),
        ("NA", (None, "NA")),
        ("XX", (None, "XX")),
        ("—", (None, "—")),
        ("E", (None, "E")),
        (">85,000,000", (85_000_000.0, ">")),
        ("<1", (1.0, "<")),
        ("50–300", (175.0, "range")),
        ("330 - 390", (360.0, "range")),
        ("Large", (None, "Large")),
        ("", (None, "blank")),
        (None, (None, "blank")),
    ],
)
def test_parse_value(text: str | None, expected: tuple[float | None, str | None]) -> None:
    assert usgs_mcs.parse_value(text) == expected


@pytest.mark.parametrize(
    ("text", "year"),
    [("2024", 2024), ("2021–24", 2024), ("2019-2021", 2021), ("e2024", None), ("", None)],
)
def test_parse_year(text: str, year: int | None) -> None:
    assert usgs_mcs.parse_year(text) == year


def test_statistic_label() -> None:
    assert usgs_mcs.statistic_label("Production", "Mine production") == "Mine production"
    assert usgs_mcs.statistic_label("Production", "Ferrosilicon") == "Production: Ferrosilicon"
    assert usgs_mcs.statistic_label("Reserves", None) == "Reserves"


def test_sample_into_empty_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "fresh"
    assert main(["--data-dir", str(data_dir), "ingest", "usgs-mcs", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "read as cp1252" in out
    assert "'China, Germany, and Russia' has no ISO3 code" in out
    warehouse = Warehouse(data_dir)
    assert warehouse.parts("countries"), "reference tables written into an empty data dir"
    part = warehouse.parts("production")["usgs_mcs"]
    assert part.release == "MCS2026"
    assert part.years == [2024, 2025]
    frame = production(data_dir)
    assert frame.height == 20
    # thousand metric tons -> metric tons
    assert value(frame, "KAZ", "Copper", "Mine production", 2024) == 724_000.0
    assert value(frame, "KAZ", "Copper", "Refinery production", 2024) == 498_000.0
    assert set(frame["unit"]) == {"metric tons", "kilograms", "percent"}
    # aggregates and spellings
    assert value(frame, "WLD", "Copper", "Mine production", 2024) == 23_000_000.0
    assert value(frame, "OTH", "Copper", "Mine production", 2024) == 4_000_000.0
    assert {"KOR", "COD", "CIV"} <= set(frame["country"])
    # flags
    flags = dict(
        frame.select(
            pl.concat_str("commodity", "statistic", separator="|"), "value_flag"
        ).iter_rows()
    )
    assert flags["Tungsten|Mine production"] == "—"
    assert flags["Gallium|Production: Primary"] == "W"
    reserves = frame.filter((pl.col("country") == "WLD") & (pl.col("statistic") == "Reserves"))
    assert reserves.row(0, named=True)["value_flag"] == ">"
    # year span stored under its last year, the statistic keeps the span
    span = frame.filter(pl.col("statistic").str.starts_with("Import sources 2021-2024"))
    assert span["year"].to_list() == [2024]
    provenance = [p for p in warehouse.provenance() if p.source == "usgs_mcs"]
    assert provenance[0].file_name == SAMPLE.name
    assert provenance[0].licence.startswith("CC0")
    assert len(provenance[0].sha256) == 64


def test_utf8_copy_loads_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    utf8 = tmp_path / "MCS2026_Commodities_Data.csv"
    utf8.write_text(SAMPLE.read_bytes().decode("cp1252"), encoding="utf-8")
    assert main(["--data-dir", str(tmp_path / "w"), "ingest", "usgs-mcs", str(utf8)]) == 0
    assert "read as UTF-8" in capsys.readouterr().out
    frame = production(tmp_path / "w")
    assert "CIV" in frame["country"].to_list()


def test_a_release_replaces_the_embedded_one(demo: Path) -> None:
    embedded = Warehouse(demo).parts("production")
    assert set(embedded) == {"usgs_mcs"} and embedded["usgs_mcs"].rows > 8_000
    assert main(["--data-dir", str(demo), "ingest", "usgs-mcs", str(SAMPLE)]) == 0
    parts = Warehouse(demo).parts("production")
    assert set(parts) == {"usgs_mcs"} and parts["usgs_mcs"].rows == 20
    assert "trade_flows" in {row["table"] for row in Warehouse(demo).table_summary()}


def _snapshot(data_dir: Path) -> tuple[str, str]:
    return (data_dir / "manifest.json").read_text(), tree_sha256(data_dir)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda d: _write(
                d / "x.csv",
                SAMPLE.read_bytes().decode("cp1252").replace("Statistics_detail", "Detail", 1),
            ),
            "missing column(s) Statistics_detail",
        ),
        (lambda d: _write(d / "empty.csv", ""), "the file is empty"),
        (
            lambda d: _write(
                d / "header.csv", SAMPLE.read_bytes().decode("cp1252").splitlines()[0]
            ),
            "header but no data rows",
        ),
        (lambda d: DATA / "deposits" / "minmod_sample.csv", "is this a USGS MCS data release"),
        (lambda d: d / "nope.csv", "no such file"),
    ],
    ids=["missing-column", "empty", "header-only", "other-source", "absent"],
)
def test_bad_input_leaves_warehouse_untouched(
    demo: Path, tmp_path: Path, make, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(demo)
    path = make(tmp_path)
    assert main(["--data-dir", str(demo), "ingest", "usgs-mcs", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1, "one-line reason"
    assert _snapshot(demo) == before


@needs_real
def test_real_release_anchors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path / "w"), "ingest", "usgs-mcs", str(REAL_MCS)]) == 0
    out = capsys.readouterr().out
    assert "8,886 rows read" in out
    frame = production(tmp_path / "w")
    assert value(frame, "KAZ", "Copper", "Mine production", 2024) == 724_000.0
    assert value(frame, "KAZ", "Copper", "Refinery production", 2024) == 498_000.0
    assert value(frame, "KAZ", "Zinc", "Mine production", 2024) == 375_000.0
    assert value(frame, "KAZ", "Chromium", "Mine production", 2024) == 6_100_000.0
    assert value(frame, "KAZ", "Alumina", "Alumina, refinery production", 2024) == 1_400_000.0
    assert (
        value(frame, "KAZ", "Titanium Sponge Metal", "Titanium sponge metal production", 2024)
        == 19_000.0
    )
    kaz = frame.filter(pl.col("country") == "KAZ")["commodity"].unique().to_list()
    for absent in ("Gallium", "Graphite", "Lithium", "Rare Earths", "Manganese"):
        assert absent not in kaz, f"DOMAIN.md §6: Kazakhstan not listed for {absent}"
    assert "WLD" in frame["country"].to_list()
    assert Warehouse(tmp_path / "w").parts("production")["usgs_mcs"].release == "MCS2026"
