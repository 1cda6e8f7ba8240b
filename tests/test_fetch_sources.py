"""`critmin fetch baci|usgs-mcs|deposits|all` against a local server on 127.0.0.1 serving
files shaped as CEPII, ScienceBase and USGS mrdata publish them (tests/fetch_server.py):
what is loaded, unknown releases, damaged files that leave the warehouse unchanged, a
full warehouse disk, and `fetch all` failing in its last step or succeeding twice."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from fetch_server import (
    BACI_PRODUCTS,
    MRDS_SITES,
    FileServer,
    Status,
    baci_year_csv,
    baci_zip,
    cepii_listing,
    mcs_csv,
    mrds_csv,
    mrds_zip,
    running,
    sciencebase_item,
)

from critmin.cli import main
from critmin.fetch import baci as fetch_baci
from critmin.fetch import usgs_mcs as fetch_mcs
from critmin.warehouse import Warehouse, file_sha256

LISTING = "/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37"
ITEM = fetch_mcs.RELEASES[2026].item
ITEM_JSON = f"/catalog/item/{ITEM}?format=json"
MRDS = "/mrds/mrds-csv.zip"
RELEASES = {
    "V202601": ["HS92", "HS12", "HS17", "HS22"],
    "V202501": ["HS92", "HS12", "HS17", "HS22"],
    "V202401b": ["HS92", "HS17"],
}


def baci_path(release: str, edition: str) -> str:
    return f"/DATA_DOWNLOAD/baci/data/BACI_{edition}_{release}.zip"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FileServer]:
    """The three sources on one local server, their base URLs pointed at it."""
    state = FileServer()
    for stream in running(state):
        state.serve(LISTING, cepii_listing(RELEASES, "V202601"))
        state.serve(baci_path("V202601", "HS12"), baci_zip("V202601", "HS12", (2012, 2013, 2024)))
        state.serve(
            baci_path("V202301", "HS17"), baci_zip("V202301", "HS17", (2021,), layout="older")
        )
        csv_body = mcs_csv()
        item = sciencebase_item(
            state.url,
            ITEM,
            {"MCS2026_Commodities_Data.csv": csv_body, "MCS2026_Commodities_Data.xml": b"<m/>"},
            "Mineral Commodity Summaries 2026",
        )
        state.serve(ITEM_JSON, json.dumps(item), "application/json")
        for entry in item["files"]:
            body = csv_body if entry["name"].endswith(".csv") else b"<m/>"
            state.serve(entry["url"].removeprefix(state.url), body)
        state.serve(MRDS, mrds_zip())
        for env in ("CRITMIN_BACI_BASE_URL", "CRITMIN_USGS_MCS_BASE_URL", "CRITMIN_MRDS_BASE_URL"):
            monkeypatch.setenv(env, state.url)
        yield stream


def run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "fetch", *args, "--retries", "2", "--backoff", "0"])


def snapshot(root: Path) -> dict[str, str]:
    """Every warehouse file (not the download cache or the lock) and its checksum."""
    return {
        str(p.relative_to(root)): file_sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] not in ("cache", ".lock")
    }


def table(data_dir: Path, name: str, part: str) -> pl.DataFrame:
    files = [data_dir / f for f in Warehouse(data_dir).parts(name)[part].files]
    return pl.read_parquet(files, hive_partitioning=True)


# --- BACI -------------------------------------------------------------------------------


def test_parse_listing_reads_releases_and_the_current_one() -> None:
    listing = fetch_baci.parse_listing(cepii_listing(RELEASES, "V202601"), "page")
    assert listing.releases == {r: set(e) for r, e in RELEASES.items()}
    assert listing.latest == "V202601"
    assert listing.describe().startswith("V202601 (HS92, HS12, HS17, HS22); V202501")


def test_fetch_baci_latest_hs12_loads_the_mineral_baskets(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo_copy, "baci", "--replace") == 0
    out = capsys.readouterr().out
    assert "latest release on CEPII's page is V202601" in out
    part = Warehouse(demo_copy).parts("trade_flows")["baci"]
    assert part.release == "V202601" and part.years == [2012, 2013, 2024]
    flows = table(demo_copy, "trade_flows", "baci")
    assert set(flows["hs_edition"]) == {"HS12"}
    assert "010121" not in set(flows["hs6"])  # outside the baskets
    # BACI's own codes map to the countries they stand for.
    assert {"FRA", "TWN", "USA"} <= set(flows["exporter"])
    assert {"NOR", "IND", "CHE", "FRA", "USA"} <= set(flows["importer"])
    # One flow against the generated file: v thousand USD -> USD, q tons -> kg.
    rows = list(csv.DictReader(io.StringIO(baci_year_csv(2013).decode())))
    first = next(r for r in rows if (r["i"], r["j"], r["k"]) == ("398", "156", "283329"))
    got = flows.filter(
        (pl.col("year") == 2013)
        & (pl.col("exporter") == "KAZ")
        & (pl.col("importer") == "CHN")
        & (pl.col("hs6") == "283329")
    )
    assert got["value_usd"].to_list() == [pytest.approx(float(first["v"]) * 1000)]
    expected_q = None if first["q"].strip() == "NA" else float(first["q"]) * 1000
    assert got["quantity_kg"].to_list() == [pytest.approx(expected_q)]
    assert "demo" not in Warehouse(demo_copy).parts("trade_flows")
    # A second run reads the listing again but downloads no release twice.
    zips = len(server.requests_for(baci_path("V202601", "HS12")))
    assert run(demo_copy, "baci", "--replace") == 0
    assert len(server.requests_for(baci_path("V202601", "HS12"))) == zips == 1


def test_fetch_baci_older_dictionary_layout(server: FileServer, demo_copy: Path) -> None:
    assert run(demo_copy, "baci", "--release", "202301", "--hs", "HS17", "--replace") == 0
    assert server.requests_for(LISTING) == []  # a given release needs no listing
    flows = table(demo_copy, "trade_flows", "baci")
    assert set(flows["release"]) == {"V202301"} and set(flows["hs_edition"]) == {"HS17"}
    assert {"FRA", "TWN", "NOR", "IND", "CHE", "USA"} <= set(flows["exporter"]) | set(
        flows["importer"]
    )
    products = table(demo_copy, "products", "baci")
    baskets = {c for c, _ in BACI_PRODUCTS}
    assert baskets <= set(products["hs6"])


def test_unknown_release_lists_what_exists(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(demo_copy)
    assert run(demo_copy, "baci", "--release", "V209901") == 1
    err = capsys.readouterr().err.strip()
    assert "BACI V209901 is not on CEPII's BACI page" in err
    assert "V202601 (HS92, HS12, HS17, HS22); V202501" in err and "V202401b (HS92, HS17)" in err
    assert len(err.splitlines()) == 1
    assert snapshot(demo_copy) == before


def test_unknown_edition_of_the_latest_release_lists_its_editions(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo_copy, "baci", "--hs", "HS07") == 1
    err = capsys.readouterr().err
    assert "BACI V202601 has no HS07 edition; it offers HS92, HS12, HS17, HS22" in err
    assert server.data_requests() == []


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_release_is_rejected_and_the_warehouse_unchanged(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    good = baci_zip("V202601", "HS12", (2012,))
    if damage == "truncated":
        body = good[: len(good) * 2 // 3]  # served whole, as a short file
    else:
        with zipfile.ZipFile(io.BytesIO(good)) as archive:
            info = archive.getinfo("BACI_HS12_Y2012_V202601.csv")
        data = bytearray(good)
        data[info.header_offset + 30 + len(info.filename) + 40] ^= 0x55
        body = bytes(data)
    server.serve(baci_path("V202601", "HS12"), body)
    before = snapshot(demo_copy)
    manifest = (demo_copy / "manifest.json").read_text()
    assert run(demo_copy, "baci", "--replace") == 1
    err = capsys.readouterr().err
    assert "BACI_HS12_V202601.zip" in err and "nothing was loaded" in err
    expected = "not a complete zip archive" if damage == "truncated" else "is damaged"
    assert expected in err, err
    assert snapshot(demo_copy) == before and (demo_copy / "manifest.json").read_text() == manifest
    assert not (demo_copy / "cache" / "baci" / "BACI_HS12_V202601.zip").exists()


def test_full_warehouse_disk_names_the_folder(
    server: FileServer,
    demo_copy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from critmin.warehouse import Transaction

    def full(self: Transaction, table: str, part: str) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    before = snapshot(demo_copy)
    monkeypatch.setattr(Transaction, "new_part_dir", full)
    assert run(demo_copy, "baci", "--replace") == 1
    err = capsys.readouterr().err
    assert f"cannot write the warehouse at {demo_copy}: the disk is full" in err
    assert "nothing was changed there" in err and "downloads stay in" in err
    assert snapshot(demo_copy) == before
    assert (demo_copy / "cache" / "baci" / "BACI_HS12_V202601.zip").is_file()


# --- USGS MCS ---------------------------------------------------------------------------


def test_fetch_usgs_mcs_from_sciencebase(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo_copy, "usgs-mcs") == 0
    assert "read as cp1252" in capsys.readouterr().out
    production = table(demo_copy, "production", "usgs_mcs")
    kaz = production.filter(
        (pl.col("country") == "KAZ") & (pl.col("commodity") == "Zinc") & (pl.col("year") == 2024)
    )
    assert kaz["value"].to_list() == [333_000.0]  # thousand metric tons -> metric tons
    usa = production.filter((pl.col("country") == "USA") & (pl.col("commodity") == "Zinc"))
    assert usa["value_flag"].to_list() == ["W"]
    dash = production.filter((pl.col("country") == "KAZ") & (pl.col("commodity") == "Gallium"))
    assert dash["value_flag"].to_list() == ["\u2014"]
    assert Warehouse(demo_copy).parts("production")["usgs_mcs"].release == "MCS2026"
    cached = demo_copy / "cache" / "usgs_mcs" / "MCS2026" / "MCS2026_Commodities_Data.csv"
    assert cached.read_bytes() == mcs_csv()


def test_mcs_checksum_mismatch_is_rejected(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item = json.loads(server.resources[ITEM_JSON].body)
    item["files"][0]["checksum"]["value"] = hashlib.md5(b"other", usedforsecurity=False).hexdigest()
    server.serve(ITEM_JSON, json.dumps(item), "application/json")
    before = snapshot(demo_copy)
    assert run(demo_copy, "usgs-mcs") == 1
    assert "is damaged: MD5" in capsys.readouterr().err
    assert snapshot(demo_copy) == before


def test_mcs_html_shell_instead_of_the_csv_is_rejected(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = b"<!DOCTYPE html><html><body>ScienceBase</body></html>"
    item = json.loads(server.resources[ITEM_JSON].body)
    entry = item["files"][0]
    entry.update(size=len(page), checksum={"value": "", "type": "MD5"})
    server.serve(ITEM_JSON, json.dumps(item), "application/json")
    server.serve(entry["url"].removeprefix(server.url), page)
    assert run(demo_copy, "usgs-mcs") == 1
    assert "is a web page, not the CSV" in capsys.readouterr().err


def test_mcs_refused_then_saved_by_hand(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = json.loads(server.resources[ITEM_JSON].body)["files"][0]["url"]
    server.fault(url.removeprefix(server.url), Status(403))
    assert run(demo_copy, "usgs-mcs") == 1
    err = capsys.readouterr().err
    target = demo_copy / "cache" / "usgs_mcs" / "MCS2026" / "MCS2026_Commodities_Data.csv"
    assert "HTTP 403" in err and f"save it as {target}" in err
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(mcs_csv())  # what the user saves from the browser
    hits = len(server.hits)
    assert run(demo_copy, "usgs-mcs") == 0
    assert [h.path for h in server.hits[hits:]] == [ITEM_JSON]  # the file itself: not again


def test_unknown_mcs_year_says_how_to_continue(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo_copy, "usgs-mcs", "--year", "2019") == 1
    assert "known: 2026" in capsys.readouterr().err and server.hits == []


# --- deposits ---------------------------------------------------------------------------


def test_fetch_deposits_loads_mrds(server: FileServer, demo_copy: Path) -> None:
    assert run(demo_copy, "deposits") == 0
    sites = table(demo_copy, "deposits", "mrds")
    assert sites.height == len(MRDS_SITES)
    swapped = sites.filter(pl.col("name") == "Sary-Oi")
    assert swapped["location_check"].to_list() == ["swapped lat/lon"]
    assert (swapped["lat"][0], swapped["lon"][0]) == (45.6, 69.9)
    assert "curated" in Warehouse(demo_copy).parts("deposits")


def test_mrds_in_cp1252_is_converted(server: FileServer, demo_copy: Path) -> None:
    sites = [("20000201", "K\u00f6k-Tal", "43.2", "76.9", "Kazakhstan", "Gold", "", "Prospect")]
    server.serve(MRDS, mrds_zip(mrds_csv(sites).decode("utf-8").encode("cp1252")))
    assert run(demo_copy, "deposits") == 0
    assert table(demo_copy, "deposits", "mrds")["name"].to_list() == ["K\u00f6k-Tal"]


# --- fetch all --------------------------------------------------------------------------

BAD_MRDS = [*MRDS_SITES, ("20000999", "Broken", "north", "70.0", "Kazakhstan", "Gold", "", "")]


def test_fetch_all_failing_in_its_last_step_leaves_the_warehouse_untouched(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve(MRDS, mrds_zip(mrds_csv(BAD_MRDS)))  # downloads fine, fails to load
    before = snapshot(demo_copy)
    manifest = (demo_copy / "manifest.json").read_text()
    assert run(demo_copy, "all") == 1
    out = capsys.readouterr().out
    assert snapshot(demo_copy) == before and (demo_copy / "manifest.json").read_text() == manifest
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "not applied" in lines["CEPII BACI"] and "not applied" in lines["USGS MCS"]
    assert "failed" in lines["USGS deposits (MRDS)"] and "'north' is not a number" in out
    assert "Nothing was changed" in out
    assert not list(demo_copy.glob(".staging-*"))


def test_fetch_all_keep_going_applies_the_steps_that_succeeded(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve(MRDS, mrds_zip(mrds_csv(BAD_MRDS)))
    assert run(demo_copy, "all", "--keep-going") == 1
    out = capsys.readouterr().out
    warehouse = Warehouse(demo_copy)
    assert warehouse.parts("trade_flows")["baci"].release == "V202601"
    assert "usgs_mcs" in warehouse.parts("production")
    assert "mrds" not in warehouse.parts("deposits")
    assert "1 step(s) failed" in out and warehouse.check() == []


def test_fetch_all_loads_everything_and_a_second_run_downloads_nothing(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo_copy, "all") == 0
    out = capsys.readouterr().out
    warehouse = Warehouse(demo_copy)
    assert warehouse.parts("trade_flows")["baci"].release == "V202601"
    assert warehouse.parts("production")["usgs_mcs"].rows > 0
    assert warehouse.parts("deposits")["mrds"].rows == len(MRDS_SITES)
    assert "trade_flows/baci:" in out and "Swapped in at" in out
    assert warehouse.check(verify_checksums=True) == []
    downloads = len(server.data_requests())
    assert downloads == 3
    assert run(demo_copy, "all") == 0
    assert len(server.data_requests()) == downloads
    assert "already in the cache" in capsys.readouterr().out
    assert Warehouse(demo_copy).check(verify_checksums=True) == []
    assert not list(demo_copy.glob(".staging-*"))


def test_fetch_all_into_a_new_folder(server: FileServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "real"
    assert run(data_dir, "all") == 0
    warehouse = Warehouse(data_dir)
    assert "countries" in {row["table"] for row in warehouse.table_summary()}
    assert warehouse.check() == []


def test_fetch_all_stops_at_a_failed_download(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.fault(ITEM_JSON, *[Status(503, (("Retry-After", "0"),))] * 5)
    before = snapshot(demo_copy)
    assert run(demo_copy, "all") == 1
    out = capsys.readouterr().out
    assert "download:" in out and "HTTP 503 after 3 attempt(s)" in out
    assert "Nothing was loaded" in out and snapshot(demo_copy) == before
    assert server.requests_for(MRDS) == []  # stopped before the last download


def test_fetch_all_with_comtrade_loads_the_focus_countrys_declarations(
    server: FileServer, demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = Path(__file__).parent / "data" / "comtrade" / "kaz_2022.json"
    server.serve("/data/v1/get/C/A/HS", recorded.read_bytes(), "application/json")
    monkeypatch.setenv("COMTRADE_BASE_URL", server.url)
    monkeypatch.setenv("COMTRADE_API_KEY", "test-key")  # keyed: one call per year
    assert run(demo_copy, "all", "--comtrade", "--comtrade-years", "2022") == 0
    calls = [h for h in server.hits if h.path.startswith("/data/v1/get/C/A/HS")]
    assert len(calls) == 1 and "reporterCode=398" in calls[0].path
    assert "period=2022" in calls[0].path and calls[0].headers["Ocp-Apim-Subscription-Key"]
    comtrade = table(demo_copy, "trade_flows", "comtrade")
    assert set(comtrade["year"]) == {2022} and "KAZ" in set(comtrade["exporter"])
    assert (demo_copy / "cache" / "comtrade").is_dir()
