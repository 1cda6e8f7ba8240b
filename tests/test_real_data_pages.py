"""On the real public files of ../shared/data: the Overview shows Kazakhstan's
USGS production, the Map shows the Kazakh deposits inside Kazakhstan."""

from pathlib import Path

import polars as pl
import pytest
from conftest import run_page
from streamlit.testing.v1 import AppTest

from critmin.cli import main
from critmin.db import open_database
from critmin.settings import Settings
from critmin.views import map as sites_map


@pytest.fixture(scope="module")
def real_warehouse(shared_data, tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("real") / "warehouse"
    mcs = shared_data / "production" / "usgs_mcs2026_commodities_data.csv"
    sites = shared_data / "deposits" / "minmod_central_asia_deposits.csv"
    assert main(["--data-dir", str(data_dir), "ingest", "usgs-mcs", str(mcs)]) == 0
    assert main(["--data-dir", str(data_dir), "ingest", "deposits", str(sites)]) == 0
    return data_dir


def page(name: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    monkeypatch.setenv("CRITMIN_DATA_DIR", str(data_dir))
    at = run_page(name, params)
    assert not at.exception and not at.error
    return at


def test_overview_shows_usgs_production_for_kazakhstan(real_warehouse, monkeypatch):
    at = page("overview", real_warehouse, monkeypatch)
    tables = [t.value for t in at.dataframe]
    production = next(t for t in tables if "commodity" in t.columns)
    copper = production[
        (production["commodity"] == "Copper") & (production["statistic"] == "Mine production")
    ]
    assert copper["2024"].iloc[0] == "724,000"
    assert "No trade flows are loaded" in " ".join(str(i.value) for i in at.info)


def test_map_shows_kazakh_deposits_inside_kazakhstan(real_warehouse, monkeypatch):
    at = page("map", real_warehouse, monkeypatch, sites_in="KAZ")
    db = open_database(Settings(data_dir=real_warehouse, data_dir_is_default=False))
    sites = db.query("deposits", countries=["KAZ"], commodities=[], statuses=[]).frame
    minmod = sites.filter(pl.col("source") == "minmod")
    placed = minmod.filter(pl.col("lat").is_not_null())
    inside = placed.filter(pl.col("location_check").is_in(["ok", "swapped lat/lon"]))
    assert inside.height / placed.height > 0.99
    assert minmod.filter(pl.col("location_check") == "swapped lat/lon").height == 22
    # Every record is counted; a site several compilations list is shown once.
    shown = next(m for m in at.metric if m.label == "Sites shown")
    assert shown.delta == f"{sites.height:,} records"
    assert int(shown.value.replace(",", "")) == sites_map.one_per_site(sites).height
    assert int(shown.value.replace(",", "")) < sites.height


def test_a_site_listed_by_several_compilations_is_one_site(real_warehouse):
    db = open_database(Settings(data_dir=real_warehouse, data_dir_is_default=False))
    records = db.query("deposits", countries=["KAZ"], commodities=[], statuses=[]).frame
    named = pl.col("name").str.starts_with("20 Let KazSSR")
    assert records.filter(named).height == 3  # two compilations, one "(Kempirsai group)"
    sites = sites_map.one_per_site(records).filter(named)
    assert sites.height == 1
    assert sites["records"][0] == 3
    assert sites["commodities"][0].to_list()[0] == "Cr"
    assert {"Cu", "Ni", "PGE"} <= set(sites["commodities"][0].to_list())
