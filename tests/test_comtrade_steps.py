"""The steps of `ingest.comtrade.harmonise`, each alone on a few raw rows (columns and
types of `RAW_SCHEMA`, as `read_files` gives them from an API response or a CSV)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from critmin.ingest import comtrade
from critmin.ingest.common import IngestError, Summary


def raw(*rows: dict[str, Any]) -> pl.DataFrame:
    """Raw rows: KAZ (398) exports 720241 (HS17) to China (156) unless a row says else."""
    base = {
        "period": "2024",
        "reporterCode": "398",
        "partnerCode": "156",
        "flowCode": "X",
        "cmdCode": "720241",
        "primaryValue": 1000.0,
        "netWgt": 100.0,
        "classificationCode": "H5",
        "freqCode": "A",
        "aggrLevel": "6",
    }
    records = [{"file": "f.json", "row": i + 1, **base, **r} for i, r in enumerate(rows)]
    return pl.DataFrame(records, schema=comtrade.RAW_SCHEMA)


def test_periods_give_years_or_months_and_skip_the_other_frequency():
    summary = Summary(source="t")
    frame = raw({}, {"period": "202403", "freqCode": "M"})
    annual = comtrade.periods(frame, summary, monthly=False)
    assert annual[["year", "month"]].rows() == [(2024, None)]
    assert summary.notes == [
        "1 monthly rows skipped (only annual data are loaded; monthly "
        "ones with `critmin ingest comtrade-monthly`)"
    ]
    months = comtrade.periods(frame, Summary(source="t"), monthly=True)
    assert months[["year", "month"]].rows() == [(2024, 3)]
    with pytest.raises(IngestError, match=r"f.json row 1: period 'soon' is not a year"):
        comtrade.periods(raw({"period": "soon"}), summary, monthly=False)
    with pytest.raises(IngestError, match="is not a month"):
        comtrade.periods(raw({"period": "202413", "freqCode": "M"}), summary, monthly=True)


def test_only_the_totals_of_exports_and_imports_are_kept():
    summary = Summary(source="t")
    frame = raw({}, {"flowCode": "RM"}, {"flowCode": "DX"}, {"flowCode": "M", "motCode": "1000"})
    kept = comtrade.totals_of_the_flows_kept(frame, summary)
    assert kept["flowCode"].to_list() == ["X", "RM"]
    assert len(summary.notes) == 2


def test_six_digit_codes_only_and_a_lost_zero_stops():
    summary = Summary(source="t")
    frame = raw({}, {"cmdCode": "TOTAL", "aggrLevel": "0"}, {"cmdCode": "7202", "aggrLevel": "4"})
    assert comtrade.six_digit_codes(frame, summary)["cmdCode"].to_list() == ["720241"]
    assert summary.notes == [
        "1 TOTAL aggregate rows skipped (six-digit codes only)",
        "1 HS4 aggregate rows skipped (six-digit codes only)",
    ]
    with pytest.raises(IngestError, match="has 5 digits"):
        comtrade.six_digit_codes(raw({"cmdCode": "81129", "aggrLevel": None}), summary)


def test_hs_editions_from_the_classification_or_the_option():
    summary = Summary(source="t")
    frame = comtrade.periods(raw({}, {"classificationCode": "S4"}), summary, monthly=False)
    assert comtrade.with_hs_editions(frame, summary)["hs_edition"].to_list() == ["HS17"]
    assert sum(summary.rejected.values()) == 1
    bare = frame.with_columns(pl.lit(None, pl.String).alias("classificationCode"))
    with pytest.raises(IngestError, match="give --hs-edition"):
        comtrade.with_hs_editions(bare, summary)
    by_year = comtrade.with_hs_editions(bare, summary, comtrade.BY_YEAR)
    assert by_year["hs_edition"].unique().to_list() == ["HS22"]  # in force in 2024


def test_countries_as_iso3_world_skipped_aggregates_rejected():
    summary = Summary(source="t")
    frame = raw({}, {"partnerCode": "0"}, {"partnerCode": "97", "partnerDesc": "EU"})
    kept = comtrade.with_countries(frame, summary)
    assert kept[["reporter", "partner"]].rows() == [("KAZ", "CHN")]
    assert summary.notes == ["1 rows with partner World (0) skipped"]
    assert sum(summary.rejected.values()) == 1


def test_baskets_keep_the_minerals_codes():
    summary = Summary(source="t")
    frame = raw({}, {"cmdCode": "999999"}).with_columns(pl.lit("HS17").alias("hs_edition"))
    assert comtrade.in_the_baskets(frame, summary)["cmdCode"].to_list() == ["720241"]
    assert "1 rows outside the mineral baskets" in summary.notes[0]


def test_values_checked_and_zero_weights_read_as_not_reported():
    summary = Summary(source="t")
    frame = raw({}, {"netWgt": 0.0}, {"primaryValue": None})
    kept = comtrade.checked_values(frame, summary)
    assert kept["netWgt"].to_list() == [100.0, None]
    assert sum(summary.rejected.values()) == 1
    with pytest.raises(IngestError, match="negative primaryValue or netWgt"):
        comtrade.checked_values(raw({"netWgt": -1.0}), summary)


def test_a_declaration_in_two_files_counts_once_unless_they_differ():
    summary = Summary(source="t")
    frame = comtrade.periods(raw({}, {"file": "g.json"}), summary, monthly=False)
    frame = frame.with_columns(pl.lit("HS17").alias("hs_edition"))
    assert comtrade.declared_once(frame, summary).height == 1
    differing = frame.with_columns(pl.Series("primaryValue", [1000.0, 2000.0]))
    with pytest.raises(IngestError, match="two different values"):
        comtrade.declared_once(differing, summary)


def test_by_side_sums_re_exports_with_exports_on_the_exporters_side():
    summary = Summary(source="t")
    frame = raw({}, {"flowCode": "RX", "primaryValue": 50.0, "netWgt": None}, {"flowCode": "M"})
    frame = comtrade.periods(frame, summary, monthly=False).with_columns(
        pl.lit("HS17").alias("hs_edition"),
        pl.lit("KAZ").alias("reporter"),
        pl.lit("CHN").alias("partner"),
    )
    flows = comtrade.by_side(frame, summary, monthly=False)
    assert flows.select("exporter", "importer", "side", "value_usd", "quantity_kg").rows() == [
        ("CHN", "KAZ", "importer_reported", 1000.0, 100.0),
        ("KAZ", "CHN", "exporter_reported", 1050.0, None),  # one summed row had no weight
    ]
    assert summary.rows_kept == 3
