"""The embedded real data (data/embedded/): the committed files are sound, they load into a
warehouse as the real ingests' parts, they are what scripts/build_embedded_data.py makes
from the public files, and a damaged file stops the load with the fix."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from critmin import embedded
from critmin.cli import main
from critmin.schema import TABLES, validate_frame
from critmin.warehouse import Warehouse, tree_sha256

REPO = Path(__file__).resolve().parents[1]
EMBEDDED = REPO / "data" / "embedded"
MINMOD_SAMPLE = Path(__file__).parent / "data" / "deposits" / "minmod_sample.csv"
MCS_SAMPLE = Path(__file__).parent / "data" / "usgs_mcs" / "mcs2026_sample.csv"
C5 = ["KAZ", "KGZ", "TJK", "TKM", "UZB"]


def build_script() -> ModuleType:
    path = REPO / "scripts" / "build_embedded_data.py"
    spec = importlib.util.spec_from_file_location("build_embedded_data", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def records() -> list[dict]:
    return json.loads((EMBEDDED / embedded.PROVENANCE_FILE).read_text(encoding="utf-8"))


def frame(name: str, directory: Path = EMBEDDED) -> pl.DataFrame:
    return pl.read_parquet(directory / name)


# --- the committed files ---------------------------------------------------------------


@pytest.mark.parametrize("spec", embedded.PARTS, ids=lambda s: s.table)
def test_committed_file_matches_the_schema_and_its_sort_order(spec: embedded.EmbeddedPart):
    df = frame(spec.file)
    assert df.height > 0
    assert validate_frame(spec.table, df).columns == list(TABLES[spec.table].columns)
    assert dict(df.schema) == dict(TABLES[spec.table].columns)
    ordered = df.sort(list(TABLES[spec.table].sort_by), nulls_last=False, maintain_order=True)
    assert_frame_equal(df, ordered)
    assert df["source"].unique().to_list() == [spec.source]


def test_every_provenance_record_is_complete():
    listed = records()
    assert sorted(r["embedded"]["file"] for r in listed) == sorted(p.file for p in embedded.PARTS)
    for record in listed:
        for key in ("licence", "citation", "url", "file_name", "release", "source", "table"):
            assert record[key].strip(), (record["file_name"], key)
        assert record["url"].startswith("https://")
        assert record["size_bytes"] > 0
        assert re.fullmatch(r"[0-9a-f]{64}", record["sha256"])
        path = EMBEDDED / record["embedded"]["file"]
        assert record["embedded"]["size_bytes"] == path.stat().st_size
        assert record["embedded"]["rows"] == frame(path.name).height
        assert record["conversion"]["command"].startswith("critmin ingest ")
        assert record["conversion"]["ingest_summary"]
    by_table = {r["table"]: r for r in listed}
    assert by_table["production"]["file_name"] == "MCS2026_Commodities_Data.csv"
    assert "10.5066/P1WKQ63T" in by_table["production"]["url"]
    assert "CC0" in by_table["production"]["licence"]
    assert "Public domain" in by_table["deposits"]["licence"]


def test_embedded_sites_come_only_from_public_domain_usgs_data_sets():
    sites = frame("deposits.parquet")
    assert sites["source_reference"].str.contains("(https://mrdata.usgs.gov/", literal=True).all()
    assert sites["id"].n_unique() == sites.height
    left_out = records()[1]["conversion"]["datasets_left_out"]
    assert left_out and not any(d["url"].startswith("https://mrdata.usgs.gov/") for d in left_out)


def _name_key(name: str) -> str:
    """The first word of a site name, folded so transliterations meet (Dzhezkazgan,
    Zhezkazgan; Aktogai, Aktogay)."""
    first = re.split(r"[\s(,-]+", name.strip().casefold())[0]
    return re.sub(r"^(dzh|j)", "zh", first)[:5]


def test_curated_sites_are_not_repeated_by_a_usgs_row_of_the_same_name():
    """A curated site next to an embedded USGS site of the same country, name and main
    commodity would show one mine twice on the map."""
    from critmin import reference

    curated = reference.load_curated_deposits()
    sites = frame("deposits.parquet").filter(
        pl.col("country").is_in(C5), pl.col("lat").is_not_null()
    )
    usgs = [
        (
            row["id"],
            row["country"],
            _name_key(row["name"]),
            row["lat"],
            row["lon"],
            row["commodities"],
        )
        for row in sites.iter_rows(named=True)
    ]
    for site in curated.iter_rows(named=True):
        key, main_commodity = _name_key(site["name"]), site["commodities"][0]
        repeats = [
            ident
            for ident, country, other_key, lat, lon, commodities in usgs
            if country == site["country"]
            and other_key == key
            and abs(lat - site["lat"]) < 0.1
            and abs(lon - site["lon"]) < 0.15
            and main_commodity in commodities
        ]
        assert repeats == [], site["id"]


def test_the_duplicate_check_finds_a_repeated_site():
    """The check above is not vacuous: the Aktogay mine the USGS sets hold is found."""
    sites = frame("deposits.parquet").filter(pl.col("country") == "KAZ")
    aktogay = [
        row["id"]
        for row in sites.iter_rows(named=True)
        if _name_key(row["name"]) == _name_key("Aktogay copper mine")
        and row["lat"] is not None
        and abs(row["lat"] - 46.97) < 0.1
        and abs(row["lon"] - 79.97) < 0.15
        and "Cu" in row["commodities"]
    ]
    assert aktogay


# --- loading into a warehouse ------------------------------------------------------------


def test_write_embedded_gives_the_parts_and_records(tmp_path: Path):
    warehouse = Warehouse(tmp_path / "w")
    with warehouse.transaction() as tx:
        lines = embedded.write_embedded(tx)
    assert len(lines) == len(embedded.PARTS)
    by_table = {r["table"]: r for r in records()}
    for spec, line in zip(embedded.PARTS, lines, strict=True):
        part = warehouse.parts(spec.table)[spec.part]
        assert (part.source, part.release) == (spec.source, by_table[spec.table]["release"])
        assert part.rows == frame(spec.file).height
        assert f"{spec.table}/{spec.part}: {part.rows:,} rows" in line
        written = pl.read_parquet([warehouse.root / f for f in part.files])
        assert_frame_equal(
            written.sort(pl.all().exclude("commodities")),
            frame(spec.file).sort(pl.all().exclude("commodities")),
        )
    assert warehouse.check(verify_checksums=True) == []
    loaded = {(p.table, p.source): p for p in warehouse.provenance()}
    assert loaded[("production", "usgs_mcs")].file_name == "MCS2026_Commodities_Data.csv"
    assert loaded[("deposits", "minmod")].sha256 == by_table["deposits"]["sha256"]


def test_a_later_real_ingest_replaces_the_embedded_parts(tmp_path: Path):
    warehouse = Warehouse(tmp_path / "w")
    with warehouse.transaction() as tx:
        embedded.write_embedded(tx)
    data_dir = str(warehouse.root)
    assert main(["--data-dir", data_dir, "ingest", "deposits", str(MINMOD_SAMPLE)]) == 0
    assert main(["--data-dir", data_dir, "ingest", "usgs-mcs", str(MCS_SAMPLE)]) == 0
    minmod = warehouse.parts("deposits")["minmod"]
    assert minmod.rows == pl.read_csv(MINMOD_SAMPLE, infer_schema=False).height
    assert minmod.release == MINMOD_SAMPLE.name
    assert warehouse.parts("production")["usgs_mcs"].rows < frame("production.parquet").height
    names = {(p.table, p.file_name) for p in warehouse.provenance()}
    assert {("deposits", MINMOD_SAMPLE.name), ("production", MCS_SAMPLE.name)} <= names


# --- damaged files -----------------------------------------------------------------------


@pytest.fixture
def embedded_copy(tmp_path: Path) -> Path:
    target = tmp_path / "embedded"
    shutil.copytree(EMBEDDED, target)
    return target


def _load_fails(directory: Path, tmp_path: Path) -> str:
    warehouse = Warehouse(tmp_path / "w")
    with pytest.raises(embedded.EmbeddedDataError) as caught:
        with warehouse.transaction() as tx:
            embedded.write_embedded(tx, directory)
    assert not warehouse.exists()  # nothing was swapped in
    message = str(caught.value)
    assert "build_embedded_data.py" in message and "git checkout data/embedded" in message
    return message


def test_a_damaged_file_gives_the_clear_error(embedded_copy: Path, tmp_path: Path):
    path = embedded_copy / "deposits.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    message = _load_fails(embedded_copy, tmp_path)
    assert str(path) in message and "SHA-256" in message


def test_a_missing_file_gives_the_clear_error(embedded_copy: Path, tmp_path: Path):
    (embedded_copy / "production.parquet").unlink()
    message = _load_fails(embedded_copy, tmp_path)
    assert str(embedded_copy / "production.parquet") in message and "missing" in message


def test_a_broken_provenance_file_gives_the_clear_error(embedded_copy: Path, tmp_path: Path):
    (embedded_copy / embedded.PROVENANCE_FILE).write_text("[{", encoding="utf-8")
    message = _load_fails(embedded_copy, tmp_path)
    assert str(embedded_copy / embedded.PROVENANCE_FILE) in message


def test_a_file_with_a_wrong_schema_gives_the_clear_error(embedded_copy: Path, tmp_path: Path):
    """Even with its checksum updated, a file that lost a column is refused."""
    path = embedded_copy / "production.parquet"
    frame(path.name, embedded_copy).drop("unit").write_parquet(path)
    listed = json.loads((embedded_copy / embedded.PROVENANCE_FILE).read_text(encoding="utf-8"))
    from critmin.warehouse import file_sha256

    for record in listed:
        if record["embedded"]["file"] == path.name:
            record["embedded"]["sha256"] = file_sha256(path)
    (embedded_copy / embedded.PROVENANCE_FILE).write_text(json.dumps(listed), encoding="utf-8")
    message = _load_fails(embedded_copy, tmp_path)
    assert "unit" in message


# --- against the public files ---------------------------------------------------------------


@pytest.fixture(scope="module")
def rebuilt(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("embedded") / "out"
    build_script().build(shared_data, out)
    return out


@pytest.mark.slow
@pytest.mark.shared_data
def test_committed_files_are_what_the_script_makes(rebuilt: Path):
    for spec in embedded.PARTS:
        assert_frame_equal(frame(spec.file, rebuilt), frame(spec.file))
    assert json.loads((rebuilt / embedded.PROVENANCE_FILE).read_text(encoding="utf-8")) == records()


@pytest.mark.slow
@pytest.mark.shared_data
def test_the_build_is_deterministic(rebuilt: Path, shared_data: Path, tmp_path: Path):
    build_script().build(shared_data, tmp_path / "again")
    assert tree_sha256(tmp_path / "again") == tree_sha256(rebuilt)


@pytest.mark.shared_data
def test_provenance_describes_the_shared_files(shared_data: Path):
    from critmin.warehouse import file_sha256

    for record in records():
        shared = shared_data / record["shared_file"]
        assert record["size_bytes"] == shared.stat().st_size
        assert record["sha256"] == file_sha256(shared)


# DOMAIN.md section 6: Kazakhstan in USGS MCS 2026 (2024), metric tons.
ANCHORS = [
    ("Copper", "Mine production", 724_000),
    ("Copper", "Refinery production", 498_000),
    ("Zinc", "Mine production", 375_000),
    ("Chromium", "Mine production", 6_100_000),
    ("Alumina", "Alumina, refinery production", 1_400_000),
    ("Titanium Sponge Metal", "Titanium sponge metal production", 19_000),
]


@pytest.mark.parametrize(("commodity", "statistic", "tonnes"), ANCHORS)
def test_domain_sanity_anchors_hold(commodity: str, statistic: str, tonnes: int):
    rows = frame("production.parquet").filter(
        pl.col("country") == "KAZ",
        pl.col("year") == 2024,
        pl.col("commodity") == commodity,
        pl.col("statistic") == statistic,
    )
    assert rows["value"].to_list() == [tonnes]
    assert rows["unit"].str.starts_with("metric").all()


def test_kazakhstan_is_not_listed_for_the_minerals_domain_md_names():
    production = frame("production.parquet")
    for commodity in ("Gallium", "Graphite", "Lithium", "Rare Earths", "Manganese"):
        rows = production.filter(pl.col("commodity").str.starts_with(commodity))
        assert rows.filter(pl.col("country") != "KAZ").height > 0, commodity  # other countries are
        assert rows.filter(pl.col("country") == "KAZ").is_empty(), commodity


@pytest.mark.shared_data
def test_site_counts_follow_the_shared_file(shared_data: Path):
    """The shared README's counts (38,654 sites, 995 in Kazakhstan), less the rows of the
    data sets that are not public domain."""
    raw = pl.read_csv(
        shared_data / "deposits" / "minmod_world_deposits_flat.csv", infer_schema=False
    )
    kazakh = pl.col("country").is_in(["Kazakhstan", "Kazakstan"]) | (pl.col("iso3") == "KAZ")
    assert (raw.height, raw.filter(kazakh).height) == (38_654, 995)
    usgs = raw.filter(pl.col("source_id").str.starts_with("https://mrdata.usgs.gov/"))
    sites = frame("deposits.parquet")
    assert sites.height == usgs.height
    assert sites.filter(pl.col("country") == "KAZ").height == usgs.filter(kazakh).height
    assert 33_000 < sites.height < 34_000
