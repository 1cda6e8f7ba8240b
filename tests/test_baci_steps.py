"""The steps of `ingest.baci.load_flow_file` and `load_baci`, each alone: a yearly CSV
in BACI's own layout (t,i,j,k,v,q; v in thousand USD, q in tonnes) read into DuckDB,
checked, scoped, and written a year at a time."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from critmin.ingest import baci
from critmin.ingest.common import IngestError, Summary
from critmin.warehouse import Part

HEADER = "t,i,j,k,v,q\n"
# Kazakhstan (398) sells ferrochrome (720241) to China (156) and Russia (643), and a
# good outside the baskets (999999) to China; 490 ("Other Asia, nes") has no ISO3 code.
ROWS = [
    "2022,398,156,720241,1500.5,300.0",
    "2022,398,643,720241,20.0,NA",
    "2022,398,156,999999,5.0,1.0",
    "2022,490,156,720241,7.0,1.0",
]


def csv(tmp_path: Path, *rows: str, name: str = "BACI_HS17_Y2022_V202601.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """A connection with the dictionaries load_flow_file expects (cmap, keep)."""
    connection = duckdb.connect()
    cmap = pl.DataFrame(
        {
            "code": [156, 398, 490, 643],
            "iso3": ["CHN", "KAZ", None, "RUS"],
            "name": ["China", "Kazakhstan", "Other Asia, nes", "Russia"],
        },
        schema={"code": pl.Int32, "iso3": pl.String, "name": pl.String},
    ).with_columns(pl.col("iso3").rank("dense").cast(pl.Int32).alias("rank"))
    connection.register("cmap_frame", cmap)
    connection.execute("CREATE TEMP TABLE cmap AS SELECT * FROM cmap_frame")
    connection.execute("CREATE TEMP TABLE keep AS SELECT '720241' AS hs6")
    return connection


def test_read_flow_csv_counts_rows_and_refuses_an_empty_file(con, tmp_path):
    assert baci.read_flow_csv(con, csv(tmp_path, *ROWS), "y.csv") == 4
    with pytest.raises(IngestError, match="header but no data rows"):
        baci.read_flow_csv(con, csv(tmp_path, name="empty.csv"), "empty.csv")


@pytest.mark.parametrize(
    ("row", "name_year", "message"),
    [
        ("2022,398,156,720241,-1.0,1.0", None, "line 3, column v: value '-1.0' is negative"),
        ("2022,398,156,72024,1.0,1.0", None, "column k: value '72024' is not a six-digit"),
        ("2022,398,156,720241,1.0,lots", None, "column q: value 'lots' is not a number"),
        ("2021,398,156,720241,1.0,1.0", 2022, "differs from the year 2022 in the file name"),
        ("2022,398,156,720241,2.0,1.0", None, "lines 2 and 3: .* appears 2 times"),
    ],
)
def test_check_flow_rows_names_the_first_problem(con, tmp_path, row, name_year, message):
    baci.read_flow_csv(con, csv(tmp_path, ROWS[0], row), "y.csv")
    with pytest.raises(IngestError, match=message):
        baci.check_flow_rows(con, "y.csv", name_year)


def test_scope_keeps_the_baskets_and_unknown_countries_are_rejected(con, tmp_path):
    baci.read_flow_csv(con, csv(tmp_path, *ROWS), "y.csv")
    summary = Summary(source="t")
    assert baci.scope_flows(con, "y.csv", 4, False, summary) == 3
    assert summary.notes == [
        "y.csv: 1 rows outside the mineral baskets skipped (use --all-products to keep them)"
    ]
    baci.reject_unknown_countries(con, summary)
    assert dict(summary.rejected) == {"country code 490 (Other Asia, nes, no ISO3 code)": 1}
    assert baci.scope_flows(con, "y.csv", 4, True, Summary(source="t")) == 4


def test_write_year_writes_sorted_trade_flows_in_usd_and_kg(con, tmp_path):
    baci.read_flow_csv(con, csv(tmp_path, *ROWS), "y.csv")
    baci.scope_flows(con, "y.csv", 4, False, Summary(source="t"))
    out = tmp_path / "part"
    assert baci.write_year(con, "y.csv", 2022, out, "HS17", "V202601") == 2
    written = pl.read_parquet(out / "year=2022" / "data.parquet")
    assert written.select("exporter", "importer", "value_usd", "quantity_kg").rows() == [
        ("KAZ", "CHN", 1_500_500.0, 300_000.0),
        ("KAZ", "RUS", 20_000.0, None),  # "NA": no quantity, never zero
    ]
    assert set(written["hs_edition"]) == {"HS17"} and set(written["side"]) == {"reconciled"}
    with pytest.raises(IngestError, match="year 2022 was already read"):
        baci.write_year(con, "again.csv", 2022, out, "HS17", "V202601")


def test_keep_years_not_reloaded_links_the_other_years(tmp_path):
    root = tmp_path / "wh"
    for year in (2021, 2022):
        (root / "old" / f"year={year}").mkdir(parents=True)
        (root / "old" / f"year={year}" / "data.parquet").write_bytes(b"%d" % year)
    existing = Part(
        "old",
        "baci",
        "V202601",
        2,
        "",
        "",
        files=[f"old/year={y}/data.parquet" for y in (2021, 2022)],
    )
    summary = Summary(source="t")
    out = tmp_path / "new"
    baci.keep_years_not_reloaded(baci.Warehouse(root), existing, out, {2022}, summary)
    assert (out / "year=2021" / "data.parquet").read_bytes() == b"2021"
    assert not (out / "year=2022").exists()  # the new file of 2022 is the input's
    assert summary.notes == ["kept the years already loaded from V202601: 2021-2021"]
