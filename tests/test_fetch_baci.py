"""`critmin fetch baci` against a local server serving CEPII's pages as they are today and
as they were (tests/fetch_server.py; docs/fetching.md says which evidence each follows):
the BACI webpage's download section read first, the older item page, the item page
emptied as it is now, archived releases, pages with no link, a Cloudflare browser check,
releases given by option or environment, the cache and --file, damaged zips, a full
warehouse disk."""

from __future__ import annotations

import csv
import errno
import io
import zipfile
from pathlib import Path

import polars as pl
import pytest
from conftest import part_frame, snapshot
from fetch_server import (  # noqa: F401 - fixtures clock, server
    BACI_PRODUCTS,
    EDITIONS,
    ITEM_PAGE,
    SOURCE_ENVS,
    WEBPAGE,
    Drop,
    FakeClock,
    FileServer,
    Status,
    baci_path,
    baci_year_csv,
    baci_zip,
    cepii_item_page,
    cepii_item_page_now,
    cepii_webpage,
    cloudflare_challenge,
    fake_clock,
    publish_sources,
    running,
    sources_server,
)

from critmin import __version__
from critmin.cli import main
from critmin.fetch import baci as fetch_baci
from critmin.fetch.baci import Page
from critmin.warehouse import Warehouse

CACHED_ZIP = Path("cache") / "baci" / "BACI_HS12_V202601.zip"
OLD_RELEASES = {
    "V202601": ["HS92", "HS12", "HS17", "HS22"],
    "V202501": ["HS92", "HS12", "HS17", "HS22"],
    "V202401b": ["HS92", "HS17"],
}


def run(data_dir: Path, *args: str) -> int:
    return main(
        ["--data-dir", str(data_dir), "fetch", "baci", *args, "--retries", "2", "--backoff", "0"]
    )


def flows(data_dir: Path) -> pl.DataFrame:
    return part_frame(data_dir, "trade_flows", "baci")


# --- reading the pages ------------------------------------------------------------------


def test_webpage_download_section_gives_the_release_and_each_editions_zip() -> None:
    url = "https://www.cepii.fr" + WEBPAGE
    page = Page.parse(cepii_webpage("V202601", EDITIONS, relative=True))
    listing, why = fetch_baci.read_webpage(page, url, "https://www.cepii.fr")
    assert why == "" and listing is not None
    assert listing.latest == "V202601" and set(listing.links["V202601"]) == set(EDITIONS)
    # A relative link is resolved against the page; the zips sit beside the doc folder.
    assert listing.links["V202601"]["HS12"] == (
        "https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_HS12_V202601.zip"
    )
    # On a mirror, absolute links to www.cepii.fr move onto the mirror.
    page = Page.parse(cepii_webpage("V202601", ["HS12"]))
    mirrored, _ = fetch_baci.read_webpage(
        page, "http://mirror.example" + WEBPAGE, "http://mirror.example"
    )
    assert mirrored is not None
    assert mirrored.links["V202601"]["HS12"] == (
        "http://mirror.example/DATA_DOWNLOAD/baci/data/BACI_HS12_V202601.zip"
    )


def test_links_outside_the_download_section_are_not_the_current_release() -> None:
    html = cepii_webpage("V202601", ["HS12"], archives={"V202501": ["HS12", "HS17"]})
    listing, _ = fetch_baci.read_webpage(Page.parse(html), "https://www.cepii.fr" + WEBPAGE, "")
    assert listing is not None and set(listing.links) == {"V202601"}


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (cepii_webpage("V202601", EDITIONS, section=False), 'no <section id="download-links">'),
        (cepii_webpage("V202601", []), "holds no HS92…HS22 link"),
    ],
)
def test_a_webpage_without_links_says_what_is_missing(html: str, reason: str) -> None:
    listing, why = fetch_baci.read_webpage(Page.parse(html), "u", "")
    assert listing is None and reason in why


def test_item_page_as_it_was_and_as_it_is_now() -> None:
    old, _ = fetch_baci.read_item_page(
        Page.parse(cepii_item_page(OLD_RELEASES, "V202601")), "u", ""
    )
    assert old is not None and old.current == "V202601"
    assert set(old.links) == {"V202601"}  # the archives are the last resort, not this step
    now, why = fetch_baci.read_item_page(Page.parse(cepii_item_page_now()), "u", "")
    assert (
        now is None and why == 'it says only "See the BACI webpage." (no release, no download link)'
    )


# --- discovery, end to end --------------------------------------------------------------


def test_fetch_baci_reads_the_webpage_first_and_loads_the_mineral_baskets(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo_copy, "--replace") == 0
    out = capsys.readouterr().out
    assert (
        "BACI: release V202601 (HS12) found in the download section of CEPII's BACI webpage" in out
    )
    assert server.requests_for(ITEM_PAGE) == []  # the first page answered
    part = Warehouse(demo_copy).parts("trade_flows")["baci"]
    assert part.release == "V202601" and part.years == [2012, 2013, 2024]
    frame = flows(demo_copy)
    assert set(frame["hs_edition"]) == {"HS12"}
    assert "010121" not in set(frame["hs6"])  # outside the baskets
    # BACI's own codes map to the countries they stand for.
    assert {"FRA", "TWN", "USA"} <= set(frame["exporter"])
    assert {"NOR", "IND", "CHE", "FRA", "USA"} <= set(frame["importer"])
    # One flow against the generated file: v thousand USD -> USD, q tons -> kg.
    rows = list(csv.DictReader(io.StringIO(baci_year_csv(2013).decode())))
    first = next(r for r in rows if (r["i"], r["j"], r["k"]) == ("398", "156", "283329"))
    got = frame.filter(
        (pl.col("year") == 2013)
        & (pl.col("exporter") == "KAZ")
        & (pl.col("importer") == "CHN")
        & (pl.col("hs6") == "283329")
    )
    assert got["value_usd"].to_list() == [pytest.approx(float(first["v"]) * 1000)]
    expected_q = None if first["q"].strip() == "NA" else float(first["q"]) * 1000
    assert got["quantity_kg"].to_list() == [pytest.approx(expected_q)]
    assert "demo" not in Warehouse(demo_copy).parts("trade_flows")
    # Provenance names the release as its version and the page of corrected releases.
    record = next(p for p in Warehouse(demo_copy).provenance() if p.source == "baci")
    assert record.release == "V202601 (HS12)" and record.version == "V202601"
    assert record.corrections_url.startswith("https://www.cepii.fr/")
    # Every request named critmin and its version.
    assert {h.headers["User-Agent"] for h in server.hits} == {
        f"critmin/{__version__} (public data fetch; https://github.com/critmin)"
    }
    # A second run reads the page again but downloads no release twice.
    assert run(demo_copy, "--replace") == 0
    assert len(server.requests_for(baci_path("V202601", "HS12"))) == 1


def test_old_item_page_is_read_when_the_webpage_is_gone(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del server.resources[WEBPAGE]  # 404
    server.serve(ITEM_PAGE, cepii_item_page(OLD_RELEASES, "V202601"))
    assert run(demo_copy, "--replace") == 0
    assert "found in CEPII's BACI item page" in capsys.readouterr().out
    assert Warehouse(demo_copy).parts("trade_flows")["baci"].release == "V202601"


def test_emptied_item_page_falls_back_to_the_archives_with_a_warning(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve(WEBPAGE, cepii_webpage("V202601", EDITIONS, section=False))
    server.serve(ITEM_PAGE, cepii_item_page_now({"V202301": ["HS17"], "V202201": ["HS17"]}))
    assert run(demo_copy, "--hs", "HS17", "--replace") == 0
    out = capsys.readouterr().out
    assert "release V202301 (HS17) found in the archives CEPII links" in out
    assert "a newer release may exist (give --release to choose)" in out
    assert Warehouse(demo_copy).parts("trade_flows")["baci"].release == "V202301"


def test_no_page_parses_names_what_was_tried_and_the_command_that_works(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve(WEBPAGE, cepii_webpage("V202601", EDITIONS, section=False))
    before = snapshot(demo_copy)
    assert run(demo_copy) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f'{server.url}{WEBPAGE}: no <section id="download-links"> on the page' in err
    assert f'{server.url}{ITEM_PAGE}: it says only "See the BACI webpage."' in err
    assert "one link per HS edition (HS92 … HS22) to BACI_<HS>_V<release>.zip" in err
    assert "The last release known to critmin is V202601" in err
    assert "run `critmin fetch baci --release V202601`" in err
    assert server.data_requests() == [] and snapshot(demo_copy) == before
    # The command it names works without the pages.
    hits = len(server.hits)
    assert run(demo_copy, "--release", "V202601", "--replace") == 0
    assert [h.path for h in server.hits[hits:]] == [baci_path("V202601", "HS12")]


def test_browser_check_on_every_page_is_reported_as_such(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.fault(WEBPAGE, cloudflare_challenge())
    server.fault(ITEM_PAGE, cloudflare_challenge())
    assert run(demo_copy) == 1
    err = capsys.readouterr().err
    assert "a browser check (Cloudflare) that a script cannot pass" in err
    assert "--release V202601" in err
    assert len(server.requests_for(WEBPAGE)) == 1  # a challenge is not asked again


def test_unreadable_pages_use_the_newest_release_in_the_cache(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo_copy, "--replace") == 0
    server.fault(WEBPAGE, Status(503), Status(503), Status(503))
    server.fault(ITEM_PAGE, Status(503), Status(503), Status(503))
    capsys.readouterr()
    assert run(demo_copy, "--replace") == 0
    assert "using V202601, the newest release in the cache" in capsys.readouterr().out
    assert len(server.requests_for(baci_path("V202601", "HS12"))) == 1


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_given_release_skips_the_pages(
    server: FileServer, demo_copy: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    extra = ["--release", "202301"] if how == "option" else []
    if how == "environment":
        monkeypatch.setenv(fetch_baci.RELEASE_ENV, "V202301")
    assert run(demo_copy, *extra, "--hs", "HS17", "--replace") == 0
    assert server.requests_for(WEBPAGE) == server.requests_for(ITEM_PAGE) == []
    frame = flows(demo_copy)
    assert set(frame["release"]) == {"V202301"} and set(frame["hs_edition"]) == {"HS17"}
    assert {"FRA", "TWN", "NOR", "IND", "CHE", "USA"} <= set(frame["exporter"]) | set(
        frame["importer"]
    )
    products = pl.read_parquet(
        [demo_copy / f for f in Warehouse(demo_copy).parts("products")["baci"].files]
    )
    assert {c for c, _ in BACI_PRODUCTS} <= set(products["hs6"])


def test_unknown_release_lists_what_exists(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve(ITEM_PAGE, cepii_item_page(OLD_RELEASES, "V202601"))
    del server.resources[WEBPAGE]
    before = snapshot(demo_copy)
    assert run(demo_copy, "--release", "V209901") == 1
    err = capsys.readouterr().err.strip()
    assert "BACI V209901 is not on CEPII's pages" in err
    assert "V202601 (HS92, HS12, HS17, HS22)" in err
    assert len(err.splitlines()) == 1
    assert snapshot(demo_copy) == before


def test_unknown_edition_of_the_latest_release_lists_its_editions(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve(WEBPAGE, cepii_webpage("V202601", ["HS92", "HS12", "HS17", "HS22"]))
    assert run(demo_copy, "--hs", "HS07") == 1
    err = capsys.readouterr().err
    assert "BACI V202601 has no HS07 edition; it offers HS92, HS12, HS17, HS22" in err
    assert server.data_requests() == []


# --- refusals, the cache and --file -----------------------------------------------------


def test_zip_behind_a_browser_check_says_what_to_download_by_hand_and_is_never_saved(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.fault(baci_path("V202601", "HS12"), cloudflare_challenge())
    assert run(demo_copy) == 1
    err = capsys.readouterr().err
    target = demo_copy / CACHED_ZIP
    assert "the server refused the request (HTTP 403, a browser check (Cloudflare)" in err
    assert f"open {server.url}{WEBPAGE} in a browser, save BACI_HS12_V202601.zip as {target}" in err
    assert "then run `critmin fetch baci --release V202601`" in err
    assert not target.exists() and not list(target.parent.glob("*.part*"))
    # The user saves the zip there; the command it named uses it without downloading.
    target.write_bytes(baci_zip("V202601", "HS12", (2012,)))
    hits = len(server.hits)
    assert run(demo_copy, "--release", "V202601", "--replace") == 0
    assert server.hits[hits:] == []
    assert Warehouse(demo_copy).parts("trade_flows")["baci"].years == [2012]


def test_a_web_page_served_as_the_zip_is_refused_before_a_byte_is_saved(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve(baci_path("V202601", "HS12"), "<!DOCTYPE html><html><body>Login</body></html>")
    assert run(demo_copy, "--release", "V202601") == 1
    assert (
        "answered with a web page instead of the file; nothing was saved" in capsys.readouterr().err
    )
    assert not (demo_copy / CACHED_ZIP).parent.exists() or not any(
        (demo_copy / CACHED_ZIP).parent.iterdir()
    )


def test_file_option_loads_a_zip_without_the_network(
    server: FileServer, demo_copy: Path, tmp_path: Path
) -> None:
    path = tmp_path / "BACI_HS17_V202301.zip"
    path.write_bytes(baci_zip("V202301", "HS17", (2021,)))
    assert run(demo_copy, "--file", str(path), "--replace") == 0
    assert server.hits == []
    assert Warehouse(demo_copy).parts("trade_flows")["baci"].release == "V202301"


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
    assert run(demo_copy, "--replace") == 1
    err = capsys.readouterr().err
    assert "BACI_HS12_V202601.zip" in err and "nothing was loaded" in err
    expected = "not a complete zip archive" if damage == "truncated" else "is damaged"
    assert expected in err, err
    assert snapshot(demo_copy) == before and (demo_copy / "manifest.json").read_text() == manifest
    assert not (demo_copy / CACHED_ZIP).exists()


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
    assert run(demo_copy, "--replace") == 1
    err = capsys.readouterr().err
    assert f"cannot write the warehouse at {demo_copy}: the disk is full" in err
    assert "nothing was changed there" in err and "downloads stay in" in err
    assert snapshot(demo_copy) == before
    assert (demo_copy / CACHED_ZIP).is_file()


def test_an_interrupted_fetch_resumes_on_the_next_run(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = baci_path("V202601", "HS12")
    server.serve(path, baci_zip("V202601", "HS12", (2012,), readme_padding=400_000))
    body = server.resources[path].body
    server.fault(path, Drop(after=len(body) // 2))
    before = snapshot(demo_copy)
    args = ["--data-dir", str(demo_copy), "fetch", "baci", "--release", "V202601", "--replace"]
    assert main([*args, "--retries", "0"]) == 1
    err = capsys.readouterr().err
    part = demo_copy / "cache" / "baci" / "BACI_HS12_V202601.zip.part"
    assert "is kept and resumes on the next run" in err and part.is_file()
    assert 0 < part.stat().st_size <= len(body) // 2
    assert snapshot(demo_copy) == before  # nothing loaded from half a file
    kept = part.stat().st_size
    assert main(args) == 0
    assert server.requests_for(path)[-1].headers["Range"] == f"bytes={kept}-"
    assert not part.exists()
    assert (demo_copy / CACHED_ZIP).read_bytes() == body
    assert Warehouse(demo_copy).parts("trade_flows")["baci"].release == "V202601"
