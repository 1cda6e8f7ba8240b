"""`critmin fetch usgs-mcs|deposits|all` against a local server on 127.0.0.1 serving files
shaped as CEPII, ScienceBase and USGS mrdata publish them (tests/fetch_server.py): what is
loaded and with which provenance, the cache used before the network, refusals and web
pages where data was expected, `fetch all --check`, and `fetch all` failing in its last
step, keeping going, or succeeding twice. CEPII's pages: tests/test_fetch_baci.py."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import polars as pl
import pytest
from conftest import part_frame, snapshot
from fetch_server import (  # noqa: F401 - fixtures clock, server
    MCS_ITEM,
    MCS_ITEM_JSON,
    MRDS,
    MRDS_SITES,
    SOURCE_ENVS,
    WEBPAGE,
    FakeClock,
    FileServer,
    Status,
    baci_path,
    cloudflare_challenge,
    fake_clock,
    mcs_csv,
    mcs_file_path,
    mrds_csv,
    mrds_zip,
    publish_sources,
    running,
    sources_server,
)

from critmin import __version__
from critmin.cli import main
from critmin.fetch import baci as fetch_baci
from critmin.fetch import download
from critmin.warehouse import Warehouse

ITEM = MCS_ITEM
ITEM_JSON = MCS_ITEM_JSON
MCS_CACHED = Path("cache") / "usgs_mcs" / "MCS2026" / "MCS2026_Commodities_Data.csv"
REPO = Path(__file__).resolve().parents[1]


def run(data_dir: Path, *args: str) -> int:
    # The monthly sources of `fetch all` are tested in tests/test_fetch_monthly.py.
    monthly = ["--no-monthly"] if args[:1] == ("all",) else []
    return main(
        ["--data-dir", str(data_dir), "fetch", *args, *monthly, "--retries", "2", "--backoff", "0"]
    )


# --- USGS MCS ---------------------------------------------------------------------------


def test_fetch_usgs_mcs_from_sciencebase(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo_copy, "usgs-mcs") == 0
    assert "read as cp1252" in capsys.readouterr().out
    production = part_frame(demo_copy, "production", "usgs_mcs")
    kaz = production.filter(
        (pl.col("country") == "KAZ") & (pl.col("commodity") == "Zinc") & (pl.col("year") == 2024)
    )
    assert kaz["value"].to_list() == [333_000.0]  # thousand metric tons -> metric tons
    usa = production.filter((pl.col("country") == "USA") & (pl.col("commodity") == "Zinc"))
    assert usa["value_flag"].to_list() == ["W"]
    dash = production.filter((pl.col("country") == "KAZ") & (pl.col("commodity") == "Gallium"))
    assert dash["value_flag"].to_list() == ["\u2014"]
    assert Warehouse(demo_copy).parts("production")["usgs_mcs"].release == "MCS2026"
    assert (demo_copy / MCS_CACHED).read_bytes() == mcs_csv()
    # The generated CSV is no version of the release critmin knows: provenance says so,
    # and links the report's corrections.
    record = next(p for p in Warehouse(demo_copy).provenance() if p.source == "usgs_mcs")
    assert record.version.startswith("unknown: not a version of the file critmin knows")
    assert record.corrections_url == "https://pubs.usgs.gov/publication/mcs2026"
    assert "doi.org/10.5066/P1WKQ63T" in record.citation


def test_mcs_in_the_cache_is_used_without_asking_sciencebase(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = demo_copy / MCS_CACHED
    target.parent.mkdir(parents=True)
    target.write_bytes(mcs_csv())  # saved by hand, no record beside it
    assert run(demo_copy, "usgs-mcs") == 0
    assert server.hits == []
    assert "already in the cache" in capsys.readouterr().out
    # --refresh asks ScienceBase, finds the same MD5 and downloads nothing.
    assert run(demo_copy, "usgs-mcs", "--refresh") == 0
    assert [h.path for h in server.hits] == [ITEM_JSON]


def test_mcs_file_option_needs_no_network(
    server: FileServer, demo_copy: Path, tmp_path: Path
) -> None:
    path = tmp_path / "MCS2026_Commodities_Data.csv"
    path.write_bytes(mcs_csv())
    assert run(demo_copy, "usgs-mcs", "--file", str(path)) == 0
    assert server.hits == [] and "usgs_mcs" in Warehouse(demo_copy).parts("production")


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


def test_mcs_web_page_instead_of_the_csv_is_never_saved(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = b"<!DOCTYPE html><html><body>ScienceBase</body></html>"
    server.serve(mcs_file_path(server), page)
    assert run(demo_copy, "usgs-mcs") == 1
    err = capsys.readouterr().err
    assert "answered with a web page instead of the file; nothing was saved" in err
    assert f"open https://www.sciencebase.gov/catalog/item/{ITEM} in a browser" in err
    folder = (demo_copy / MCS_CACHED).parent
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("where", ["item", "file"])
def test_mcs_browser_check_then_saved_by_hand(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """ScienceBase behind a Cloudflare check (recorded by others on the item JSON and on
    the file links): the message says what to download, from where, where to put it and
    what to run; the next run uses the file without asking ScienceBase at all."""
    server.fault(ITEM_JSON if where == "item" else mcs_file_path(server), cloudflare_challenge())
    assert run(demo_copy, "usgs-mcs") == 1
    err = capsys.readouterr().err.strip()
    target = demo_copy / MCS_CACHED
    assert len(err.splitlines()) == 1
    assert "HTTP 403, a browser check (Cloudflare) that a script cannot pass" in err
    assert (
        f"download it by hand: open https://www.sciencebase.gov/catalog/item/{ITEM} in a "
        f"browser, save MCS2026_Commodities_Data.csv as {target}, then run "
        "`critmin fetch usgs-mcs`"
    ) in err
    assert not target.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(mcs_csv())  # what the user saves from the browser
    hits = len(server.hits)
    assert run(demo_copy, "usgs-mcs") == 0
    assert server.hits[hits:] == []


def test_unknown_mcs_year_says_how_to_continue(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo_copy, "usgs-mcs", "--year", "2019") == 1
    assert "known: 2026" in capsys.readouterr().err and server.hits == []


# --- deposits ---------------------------------------------------------------------------


def test_fetch_deposits_loads_mrds(server: FileServer, demo_copy: Path) -> None:
    assert run(demo_copy, "deposits") == 0
    sites = part_frame(demo_copy, "deposits", "mrds")
    assert sites.height == len(MRDS_SITES)
    swapped = sites.filter(pl.col("name") == "Sary-Oi")
    assert swapped["location_check"].to_list() == ["swapped lat/lon"]
    assert (swapped["lat"][0], swapped["lon"][0]) == (45.6, 69.9)
    assert "curated" in Warehouse(demo_copy).parts("deposits")


def test_mrds_in_cp1252_is_converted(server: FileServer, demo_copy: Path) -> None:
    sites = [("20000201", "K\u00f6k-Tal", "43.2", "76.9", "Kazakhstan", "Gold", "", "Prospect")]
    server.serve(MRDS, mrds_zip(mrds_csv(sites).decode("utf-8").encode("cp1252")))
    assert run(demo_copy, "deposits") == 0
    assert part_frame(demo_copy, "deposits", "mrds")["name"].to_list() == ["K\u00f6k-Tal"]


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
    # The loads were steps of one transaction: no part version they wrote is left behind.
    assert snapshot(demo_copy).keys() == before.keys()


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
    assert "trade_flows/baci:" in out and "Applied at" in out
    assert warehouse.check(verify_checksums=True) == []
    # One commit: the derived tables were computed once, from every step's parts.
    assert "derived" not in out.split("Applied at")[0].split("USGS deposits")[-1]
    downloads = len(server.data_requests())
    assert downloads == 3
    assert run(demo_copy, "all") == 0
    assert len(server.data_requests()) == downloads
    assert "already in the cache" in capsys.readouterr().out
    assert Warehouse(demo_copy).check(verify_checksums=True) == []


def test_fetch_all_runs_offline_from_the_cache_with_a_release_given(
    server: FileServer, demo_copy: Path
) -> None:
    """A filtered machine with the cache filled (copied, or saved by hand): no request."""
    assert run(demo_copy, "all") == 0
    hits = len(server.hits)
    for path in list(server.resources):
        server.fault(path, cloudflare_challenge())
    assert run(demo_copy, "all", "--release", "V202601") == 0
    assert server.hits[hits:] == []


def test_fetch_all_into_a_new_folder(server: FileServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "real"
    assert run(data_dir, "all") == 0
    warehouse = Warehouse(data_dir)
    assert "countries" in {row["table"] for row in warehouse.table_summary()}
    assert warehouse.check() == []
    # The reference tables were written once, by the first step that needed them.
    assert len(warehouse.parts("countries")) == 1


def test_fetch_all_takes_the_release_and_edition(
    server: FileServer, demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(demo_copy, "all", "--release", "V202301", "--hs", "HS17") == 0
    assert server.requests_for(WEBPAGE) == []  # a release given: no discovery
    assert Warehouse(demo_copy).parts("trade_flows")["baci"].release == "V202301"
    monkeypatch.setenv(fetch_baci.RELEASE_ENV, "V209901")
    assert run(demo_copy, "all") == 1  # the environment's release is the one asked for
    assert server.requests_for(baci_path("V209901", "HS12"))


def test_make_real_passes_the_release_and_edition() -> None:
    shown = subprocess.run(
        ["make", "-n", "real", "RELEASE=V202601", "HS=HS22"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "critmin fetch all --release V202601 --hs HS22" in shown


def test_every_request_names_critmin_and_its_version(server: FileServer, demo_copy: Path) -> None:
    assert run(demo_copy, "all") == 0
    agents = {h.headers.get("User-Agent") for h in server.hits}
    assert agents == {f"critmin/{__version__} (public data fetch; https://github.com/critmin)"}


def test_requests_to_one_server_are_paced(
    server: FileServer, demo_copy: Path, clock: FakeClock
) -> None:
    assert run(demo_copy, "all", "--pace", "2.5") == 0
    # Five requests to the one local server (a page, the zip, the item, the CSV, MRDS):
    # each after the first waited for the pace.
    assert len(server.hits) == 5 and clock.sleeps == [2.5] * 4


# --- know before downloading ------------------------------------------------------------


def test_check_asks_every_source_and_downloads_nothing(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(demo_copy)
    assert run(demo_copy, "all", "--check") == 0
    out = capsys.readouterr().out
    assert f"url:     {server.url}{baci_path('V202601', 'HS12')}" in out
    assert "release: V202601 (HS12)" in out and "release: MCS2026" in out
    assert out.count("server:  answered") == 3 and "cached:  no" in out
    zip_size = len(server.resources[baci_path("V202601", "HS12")].body)
    assert f"size:    {download.human_size(zip_size)}" in out
    # Nothing downloaded: only pages, the item entry and HEAD requests.
    assert [h for h in server.hits if h.method == "GET" and "Range" not in h.headers] == [
        h for h in server.hits if h.path in (WEBPAGE, ITEM_JSON)
    ]
    assert snapshot(demo_copy) == before and not (demo_copy / "cache").exists()
    # Once fetched, the check says the files are cached.
    assert run(demo_copy, "all") == 0
    capsys.readouterr()
    assert run(demo_copy, "all", "--check") == 0
    assert capsys.readouterr().out.count("cached:  yes") == 3


def test_check_fails_when_a_source_cannot_be_reached(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.fault(MRDS, cloudflare_challenge())
    assert run(demo_copy, "all", "--check") == 1
    out = capsys.readouterr().out
    assert "server:  NOT REACHED (HTTP 403: a browser check)" in out
    assert "Not reachable: USGS Mineral Resources Data System (MRDS)" in out


def test_check_falls_back_to_a_ranged_get_where_head_says_no_size(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.fault(MRDS, Status(405))  # HEAD refused
    assert run(demo_copy, "all", "--check") == 0
    ranged = [h for h in server.requests_for(MRDS) if h.method == "GET"]
    assert len(ranged) == 1 and ranged[0].headers["Range"] == "bytes=0-0"
    size = download.human_size(len(server.resources[MRDS].body))
    assert f"size:    {size}" in capsys.readouterr().out


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
    comtrade = part_frame(demo_copy, "trade_flows", "comtrade")
    assert set(comtrade["year"]) == {2022} and "KAZ" in set(comtrade["exporter"])
    assert (demo_copy / "cache" / "comtrade").is_dir()
