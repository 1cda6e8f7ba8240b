"""`critmin fetch usgs-mcs`: download the USGS Mineral Commodity Summaries data release
from ScienceBase and load it like `critmin ingest usgs-mcs`.

The MCS 2026 data release (doi:10.5066/P1WKQ63T, National Minerals Information Center,
CC0) is the ScienceBase item 696a75d5d4be0228872d3bf8. Its JSON description
(https://www.sciencebase.gov/catalog/item/<id>?format=json) lists the release's files
under "files", each with its name, size, MD5 checksum and download URL; the one loaded is
`MCS2026_Commodities_Data.csv` (3,189,010 bytes, encoded cp1252). The file is checked
against the listed size and MD5 and its CSV header before anything is loaded. The
releases critmin knows (item, DOI, file, the versions of the file) are in
`ingest/sources/usgs_mcs.toml`; another edition's item id can be given with `--item`.

Cache first: a CSV already in the cache, or passed with `--file`, is used without asking
ScienceBase at all. ScienceBase sometimes refuses scripts (HTTP 403, a Cloudflare browser
check, or a web page instead of the JSON or the CSV): the run then stops with what to
download by hand, from which page, where to save it, and the command to run next; the
next run finds it in the cache. Nothing that is not the CSV is ever saved.

Base URL: `--base-url`, or $CRITMIN_USGS_MCS_BASE_URL, or https://www.sciencebase.gov.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from critmin import sources
from critmin.fetch import download, http
from critmin.fetch.http import ByHand, FetchError, Policy
from critmin.ingest import usgs_mcs as ingest_mcs
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.sciencebase.gov"
BASE_URL_ENV = "CRITMIN_USGS_MCS_BASE_URL"


@dataclass(frozen=True)
class Release:
    item: str  # ScienceBase item id
    doi: str
    main_file: str


def releases() -> dict[int, Release]:
    """The MCS data releases in the long one-file layout `critmin ingest usgs-mcs` reads,
    by year, as ingest/sources/usgs_mcs.toml lists them."""
    listed = sources.source(ingest_mcs.SOURCE_FILE).extra.get("releases", {})
    return {
        int(name.removeprefix("MCS")): Release(
            item=entry["sciencebase_item"], doi=entry["doi"], main_file=entry["main_file"]
        )
        for name, entry in listed.items()
    }


RELEASES = releases()
DEFAULT_YEAR = max(RELEASES)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--year", type=int, default=DEFAULT_YEAR, help=f"MCS edition (default {DEFAULT_YEAR})"
    )
    parser.add_argument(
        "--item", help="ScienceBase item id of the data release (for an edition not listed)"
    )
    parser.add_argument(
        "--file", help="the release's CSV, already downloaded: loaded without the network"
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="ask ScienceBase even when the CSV is in the cache, and download it again if "
        "USGS has posted a revised file (another MD5)",
    )
    download.add_download_arguments(parser, base_env=BASE_URL_ENV, default_base=DEFAULT_BASE_URL)


def main_file(year: int) -> str:
    return RELEASES[year].main_file if year in RELEASES else f"MCS{year}_Commodities_Data.csv"


def item_url(base: str, item: str) -> str:
    return f"{base}/catalog/item/{item}?format=json"


def item_page(item: str) -> str:
    """The item's page a person opens in a browser (on ScienceBase itself)."""
    return f"{DEFAULT_BASE_URL}/catalog/item/{item}"


def _on_base(url: str, base: str) -> str:
    """A file URL from the item JSON, moved onto the chosen server (a mirror keeps paths)."""
    if base == DEFAULT_BASE_URL or not url.startswith(DEFAULT_BASE_URL):
        return url
    parts = urlsplit(url)
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class ListedFile:
    name: str
    url: str
    size: int | None
    md5: str | None


def listed_file(item: dict[str, Any], name: str, *, base: str, item_id: str) -> ListedFile:
    """The entry for `name` among the item's files; FetchError naming what is there."""
    files = item.get("files") or []
    if not isinstance(files, list):
        files = []
    for entry in files:
        if not isinstance(entry, dict) or str(entry.get("name", "")).lower() != name.lower():
            continue
        checksum = entry.get("checksum") or {}
        md5 = (
            str(checksum.get("value"))
            if isinstance(checksum, dict)
            and str(checksum.get("type", "")).upper() == "MD5"
            and checksum.get("value")
            else None
        )
        size = entry.get("size")
        url = str(entry.get("url") or "") or (
            f"{base}/catalog/file/get/{item_id}?name={quote(str(entry['name']))}"
        )
        return ListedFile(
            name=str(entry["name"]),
            url=_on_base(url, base),
            size=int(size) if isinstance(size, int | float) and size > 0 else None,
            md5=md5,
        )
    names = ", ".join(str(e.get("name")) for e in files if isinstance(e, dict)) or "no files"
    raise FetchError(
        f"ScienceBase item {item_id} ({item.get('title', 'untitled')}) has no {name}; it lists "
        f"{names}"
    )


def check_mcs_csv(path: Path, label: str) -> None:
    """The file is the release's CSV (its header names the MCS columns), not a web page."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.lstrip()[:1] == b"<":
        raise FetchError(
            f"{label} is a web page, not the CSV (the server answered with HTML instead of the "
            "file)"
        )
    first = head.split(b"\n", 1)[0]
    try:
        header = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        header = first.decode("cp1252", "replace")
    columns = {c.strip().strip('"') for c in header.split(",")}
    missing = [c for c in ingest_mcs.REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise FetchError(
            f"{label} is not the MCS data release CSV: its header lacks {', '.join(missing)}"
        )


@dataclass
class Prepared:
    path: Path
    release: str
    download: download.Downloaded


def _item_of(year: int, item: str | None) -> str:
    if item is not None:
        return item
    if year not in RELEASES:
        known = ", ".join(str(y) for y in sorted(RELEASES))
        raise FetchError(
            f"--year {year}: no MCS data release known for that year (known: {known}); "
            "give its ScienceBase item id with --item"
        )
    return RELEASES[year].item


def target_of(cache: Path, year: int) -> Path:
    return cache / "usgs_mcs" / f"MCS{year}" / main_file(year)


def by_hand(year: int, item: str, target: Path, command: str) -> ByHand:
    return ByHand(
        what=main_file(year),
        page=item_page(item),
        save_as=str(target),
        then=command if year == DEFAULT_YEAR else f"{command} --year {year}",
    )


def fetch(
    *,
    year: int,
    item: str | None,
    cache: Path,
    base: str,
    policy: Policy,
    session: requests.Session | None = None,
    command: str = "critmin fetch usgs-mcs",
    refresh: bool = False,
) -> Prepared:
    """The release's main CSV: from the cache when it is there (no network), else from
    ScienceBase (its entry, then the file), checked against the listed size and MD5.
    `refresh` asks ScienceBase anyway: a revised file (another MD5) is downloaded again."""
    item = _item_of(year, item)
    target = target_of(cache, year)
    label = target.name
    cached = (
        None
        if refresh
        else download.from_cache(
            target, "", label, expected=download.Expected(), check=check_mcs_csv
        )
    )
    if cached is not None:
        print(f"USGS MCS: {cached.describe()}")
        return Prepared(target, f"MCS{year}", cached)
    session = session or http.make_session(policy)
    manual = by_hand(year, item, target, command)
    description = http.get_json(session, item_url(base, item), policy, by_hand=manual)
    if not isinstance(description, dict):
        raise FetchError(f"{item_url(base, item)}: not a ScienceBase item description")
    entry = listed_file(description, main_file(year), base=base, item_id=item)
    got = download.fetch_file(
        entry.url,
        target,
        session=session,
        policy=policy,
        expected_size=entry.size,
        expected_md5=entry.md5,
        check=check_mcs_csv,
        by_hand=manual,
    )
    print(f"USGS MCS: {got.describe()}")
    return Prepared(target, f"MCS{year}", got)


def check(
    session: requests.Session, *, year: int, cache: Path, base: str, policy: Policy
) -> download.SourceCheck:
    """What `fetch` would download: the item's entry, then the file's size (nothing of
    the file is downloaded)."""
    item = _item_of(year, None)
    url = item_url(base, item)
    try:
        description = http.get_json(session, url, policy)
        entry = listed_file(description, main_file(year), base=base, item_id=item)
    except FetchError as error:
        state = download.cached_state(target_of(cache, year))
        return download.SourceCheck("USGS MCS", url, f"MCS{year}", None, state, False, str(error))
    return download.check_file(
        session,
        "USGS MCS",
        entry.url,
        f"MCS{year}",
        target_of(cache, year),
        policy,
        size=entry.size,
    )


def ingest(prepared: Prepared, warehouse: Warehouse) -> int:
    return ingest_mcs.run(argparse.Namespace(path=str(prepared.path), release=None), warehouse)


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    if args.file:
        path = Path(args.file).expanduser()
        if not path.is_file():
            raise FetchError(f"--file {path}: no such file (the release's CSV expected)")
        check_mcs_csv(path, str(path))
        print(f"USGS MCS: using {path} (--file); nothing downloaded")
        prepared = Prepared(path, f"MCS{args.year}", download.Downloaded(path, "", 0, True))
    else:
        prepared = fetch(
            year=args.year,
            item=args.item,
            cache=download.cache_root(args, warehouse.root),
            base=download.base_url(args.base_url, BASE_URL_ENV, DEFAULT_BASE_URL),
            policy=download.policy_from(args),
            refresh=args.refresh,
        )
    with download.loading_into(warehouse, prepared.path.parent):
        return ingest(prepared, warehouse)
