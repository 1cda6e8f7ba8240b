"""`critmin ingest comtrade-monthly`, `ingest comext` and `ingest census`: the sources'
own formats (tests/data/comtrade_monthly, comext, census; docs/fetching.md says which
evidence each follows), golden values, aggregates and other flows skipped and counted,
merges by month, the provisional flag, and bad input that names the file, line and
column and leaves the warehouse exactly as it was."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import one_row, part_frame, snapshot

from critmin.cli import main
from critmin.ingest import comext, monthly
from critmin.warehouse import Warehouse

DATA = Path(__file__).parent / "data"
COMTRADE = DATA / "comtrade_monthly"
COMEXT = DATA / "comext"
CENSUS = DATA / "census"


def run(data_dir: Path, source: str, *args: str | Path) -> int:
    return main(["--data-dir", str(data_dir), "ingest", source, *map(str, args)])


def part(data_dir: Path, name: str) -> pl.DataFrame:
    return part_frame(data_dir, "monthly_flows", name)


# --- UN Comtrade monthly ---------------------------------------------------------------


def test_comtrade_monthly_golden_values(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(data_dir, "comtrade-monthly", COMTRADE, "--vintage", "2026-12-01") == 0
    out = capsys.readouterr().out
    assert "1 HS4 aggregate rows skipped" in out
    assert "partner World (0) skipped" in out
    rows = part(data_dir, "comtrade")
    chn = one_row(rows, reporter="CHN", partner="KAZ", national_code="811292", year=2025, month=1)
    assert chn["value_usd"] == chn["value_native"] == 1523410.0
    assert (chn["flow"], chn["side"], chn["classification"], chn["currency"]) == (
        "import",
        "importer_reported",
        "HS",
        "USD",
    )
    assert (chn["quantity_kg"], chn["period"], chn["hs_edition"]) == (5210.0, "202501", "HS22")
    # Re-exports are summed with the exports of the same pair, month and code.
    kaz = one_row(rows, reporter="KAZ", partner="CHN", national_code="811292", month=1)
    assert kaz["value_usd"] == 1402000.0 + 20000.0 and kaz["side"] == "exporter_reported"
    assert chn["vintage"] == dt.date(2026, 12, 1) and chn["provisional"]
    # Loading real months removes the demo's synthetic ones.
    assert "demo" not in Warehouse(data_dir).parts("monthly_flows")
    assert any(p.table == "monthly_flows" for p in Warehouse(data_dir).provenance())


def test_comtrade_monthly_reload_is_idempotent_and_a_revised_month_replaces_the_old(
    data_dir: Path, tmp_path: Path
) -> None:
    assert run(data_dir, "comtrade-monthly", COMTRADE) == 0
    first = part(data_dir, "comtrade").sort(monthly.KEY + ["partner"])
    assert run(data_dir, "comtrade-monthly", COMTRADE) == 0
    assert part(data_dir, "comtrade").sort(monthly.KEY + ["partner"]).equals(first)
    revised = json.loads((COMTRADE / "chn_imports_from_kaz_2025q1.json").read_text())
    revised["data"] = [r for r in revised["data"] if r["period"] == "202502"][:1]
    revised["data"][0]["primaryValue"] = 1.0
    path = tmp_path / "revised.json"
    path.write_text(json.dumps(revised))
    assert run(data_dir, "comtrade-monthly", path) == 0
    rows = part(data_dir, "comtrade")
    feb = rows.filter((pl.col("reporter") == "CHN") & (pl.col("month") == 2))
    assert feb.filter(pl.col("national_code") == revised["data"][0]["cmdCode"])[
        "value_usd"
    ].to_list() == [1.0]
    assert rows.height == first.height  # other months, reporters and codes kept


def test_annual_responses_are_sent_to_the_annual_ingest(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(data_dir)
    assert run(data_dir, "comtrade-monthly", DATA / "comtrade" / "kaz_2022.json") == 1
    assert "critmin ingest comtrade`" in capsys.readouterr().err
    assert snapshot(data_dir) == before


def test_a_month_out_of_range_names_the_row(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = json.loads((COMTRADE / "usa_imports_from_kaz_2025q1.json").read_text())
    bad["data"][1]["period"] = "202513"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    before = snapshot(data_dir)
    assert run(data_dir, "comtrade-monthly", path) == 1
    err = capsys.readouterr().err
    assert "bad.json row 2, period: '202513' is not a month" in err
    assert snapshot(data_dir) == before


# --- Eurostat Comext -------------------------------------------------------------------


def test_comext_bulk_file_golden_values(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rates = COMEXT / "ecb_exr_usd_eur.csv"
    assert run(data_dir, "comext", COMEXT / "full_202501.dat", "--eur-usd", rates) == 0
    out = capsys.readouterr().out
    assert "partner QZ is an aggregate" in out
    rows = part(data_dir, "comext")
    # Statistical procedures 1 and 2 summed; converted at the month's ECB rate.
    de = one_row(rows, reporter="DEU", partner="KAZ", national_code="81129289", flow="import")
    assert de["value_native"] == 412300 + 20100 and de["currency"] == "EUR"
    assert de["value_usd"] == pytest.approx((412300 + 20100) * 1.04)
    assert (de["quantity_kg"], de["classification"], de["hs6"], de["hs_edition"]) == (
        1240.0,
        "CN8",
        "811292",
        "HS22",
    )
    fr = one_row(rows, reporter="FRA", national_code="81129289")
    assert (fr["flow"], fr["side"]) == ("export", "exporter_reported")
    assert "27090090" not in rows["national_code"].to_list()  # outside the baskets
    assert "QZ" not in rows["partner"].to_list()


def test_comext_sdmx_answer_quantity_and_vintage(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(data_dir, "comext", COMEXT / "ds-045409_kz_gallium.csv") == 0
    out = capsys.readouterr().out
    assert "partner WORLD is an aggregate" in out
    assert "1 observations without a value" in out and "1 yearly observations skipped" in out
    assert "values kept in euros" in out
    rows = part(data_dir, "comext")
    feb = one_row(rows, reporter="DEU", partner="KAZ", month=2)
    assert feb["value_native"] == 388100 and feb["value_usd"] is None
    assert feb["quantity_kg"] == pytest.approx(1140.0)  # 11.4 x 100 kg
    assert feb["vintage"] == dt.date(2026, 11, 15) and feb["period"] == "202502"
    assert rows.height == 2


def test_comext_bad_value_names_file_line_and_column(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (COMEXT / "full_202501.dat").read_text().splitlines()
    text[3] = text[3].replace(",2905400,", ",29O5400,")
    bad = tmp_path / "full_202501.dat"
    bad.write_text("\n".join(text) + "\n")
    before = snapshot(data_dir)
    assert run(data_dir, "comext", bad) == 1
    assert "full_202501.dat line 4, column value_eur: '29O5400' is not a number" in (
        capsys.readouterr().err
    )
    assert snapshot(data_dir) == before


def test_comext_refuses_binary_and_oversized_files(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    header = (COMEXT / "full_202501.dat").read_text().splitlines()[0]
    long = tmp_path / "long.dat"
    long.write_text(header + "\n" + "x" * 20_000 + "\n")
    assert run(data_dir, "comext", long) == 1
    assert "long.dat: line 2 is longer than" in capsys.readouterr().err
    monkeypatch.setattr(comext, "MAX_FILE_BYTES", 100)
    assert run(data_dir, "comext", COMEXT / "full_202501.dat") == 1
    assert "more than the 100 a Comext file may have" in capsys.readouterr().err


def test_comext_unknown_format_and_bad_rates_are_named(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    assert run(data_dir, "comext", other) == 1
    assert "neither a Comext bulk file" in capsys.readouterr().err
    rates = tmp_path / "rates.csv"
    rates.write_text("KEY,TIME_PERIOD,OBS_VALUE\nEXR.M.GBP.EUR.SP00.A,2025-01,0.84\n")
    assert run(data_dir, "comext", COMEXT / "full_202501.dat", "--eur-usd", rates) == 1
    assert "line 2, column KEY" in capsys.readouterr().err


# --- US Census ---------------------------------------------------------------------------


def test_census_golden_values(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(data_dir, "census", CENSUS) == 0
    out = capsys.readouterr().out
    assert "empty answer (no data for that month), skipped" in out
    assert "2 rows of the total and groups of countries skipped" in out
    rows = part(data_dir, "census")
    ga = one_row(rows, partner="KAZ", national_code="8112921000")
    assert (ga["reporter"], ga["flow"], ga["classification"], ga["hs6"]) == (
        "USA",
        "import",
        "HTS10",
        "811292",
    )
    assert (ga["value_usd"], ga["quantity_kg"], ga["period"]) == (1523410.0, 2210.0, "2025-06")
    hs6 = one_row(rows, partner="KOR", national_code="811292")
    assert hs6["classification"] == "HS" and hs6["value_usd"] == 802300.0
    assert set(rows["partner"]) >= {"KAZ", "CHN", "DEU", "JPN", "RUS", "KOR"}


def test_census_empty_answer_alone_is_an_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(data_dir)
    assert run(data_dir, "census", CENSUS / "imports_hs10_2025-07.json") == 1
    assert "HTTP 204" in capsys.readouterr().err
    assert snapshot(data_dir) == before


def test_census_ragged_row_and_lost_zero_are_named(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = json.loads((CENSUS / "imports_hs10_2025-06.json").read_text())
    answer[3] = answer[3][:-1]
    bad = tmp_path / "ragged.json"
    bad.write_text(json.dumps(answer))
    assert run(data_dir, "census", bad) == 1
    assert "ragged.json row 4: 7 values for 8 columns" in capsys.readouterr().err
    answer = json.loads((CENSUS / "imports_hs6_2025-06.json").read_text())
    answer[1][2] = "81129"
    bad = tmp_path / "zero.json"
    bad.write_text(json.dumps(answer))
    assert run(data_dir, "census", bad) == 1
    assert "commodity '81129' does not have the digits" in capsys.readouterr().err


def test_real_trade_data_removes_the_synthetic_months(data_dir: Path) -> None:
    assert "demo" in Warehouse(data_dir).parts("monthly_flows")
    baci = DATA / "baci"
    assert main(["--data-dir", str(data_dir), "ingest", "baci", str(baci)]) == 0
    assert "demo" not in Warehouse(data_dir).parts("monthly_flows")


def test_provisional_follows_the_vintage() -> None:
    frame = pl.DataFrame(
        {"year": [2024, 2025, 2026], "vintage": [dt.date(2026, 3, 1)] * 3},
        schema={"year": pl.Int32, "vintage": pl.Date},
    )
    flags = frame.select(monthly.provisional(pl.col("year"), pl.col("vintage")))
    assert flags.to_series().to_list() == [False, True, True]


def test_every_monthly_file_format_is_read_from_a_folder(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "comext"
    shutil.copytree(COMEXT, folder)
    (folder / "ecb_exr_usd_eur.csv").unlink()
    assert run(data_dir, "comext", folder) == 0
    rows = part(data_dir, "comext")
    assert sorted(rows["month"].unique().to_list()) == [1, 2, 3]
