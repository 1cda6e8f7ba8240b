"""`critmin fetch usgs-mcs`: download the USGS Mineral Commodity Summaries data release
from ScienceBase and load it like `critmin ingest usgs-mcs`.

The MCS 2026 data release (doi:10.5066/P1WKQ63T, National Minerals Information Center,
CC0) is the ScienceBase item 696a75d5d4be0228872d3bf8. Its JSON description
(https://www.sciencebase.gov/catalog/item/<id>?format=json) lists the release's files
under "files", each with its name, size, MD5 checksum and download URL; the one loaded is
`MCS2026_Commodities_Data.csv` (3,189,010 bytes, encoded cp1252). The file is checked
against the listed size and MD5 and its CSV header before anything is loaded.

Editions are found by year in `RELEASES`; another edition's item id can be given with
`--item` (ScienceBase shows it in the address of the release's page, where its DOI leads).
Base URL: `--base-url`, or $CRITMIN_USGS_MCS_BASE_URL, or https://www.sciencebase.gov.
ScienceBase sometimes refuses scripted downloads (HTTP 403): the message then says where
to save the file by hand; the next run checks and uses it.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from critmin.fetch import download
from critmin.fetch.download import FetchError, Policy
from critmin.ingest import usgs_mcs as ingest_mcs
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.sciencebase.gov"
BASE_URL_ENV = "CRITMIN_USGS_MCS_BASE_URL"


@dataclass(frozen=True)
class Release:
    item: str  # ScienceBase item id
    doi: str


# MCS data releases in the long one-file layout `critmin ingest usgs-mcs` reads.
RELEASES: dict[int, Release] = {
    2026: Release(item="696a75d5d4be0228872d3bf8", doi="10.5066/P1WKQ63T"),
}
DEFAULT_YEAR = max(RELEASES)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--year", type=int, default=DEFAULT_YEAR, help=f"MCS edition (default {DEFAULT_YEAR})"
    )
    parser.add_argument(
        "--item", help="ScienceBase item id of the data release (for an edition not listed)"
    )
    download.add_download_arguments(parser, base_env=BASE_URL_ENV, default_base=DEFAULT_BASE_URL)


def main_file(year: int) -> str:
    return f"MCS{year}_Commodities_Data.csv"


def item_url(base: str, item: str) -> str:
    return f"{base}/catalog/item/{item}?format=json"


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


def fetch(
    *,
    year: int,
    item: str | None,
    cache: Path,
    base: str,
    policy: Policy,
    session: requests.Session | None = None,
) -> Prepared:
    """Read the release's ScienceBase entry, download its main CSV and check it."""
    if item is None:
        if year not in RELEASES:
            known = ", ".join(str(y) for y in sorted(RELEASES))
            raise FetchError(
                f"--year {year}: no MCS data release known for that year (known: {known}); "
                "give its ScienceBase item id with --item"
            )
        item = RELEASES[year].item
    session = session or download.make_session(policy)
    description = download.get_json(session, item_url(base, item), policy)
    if not isinstance(description, dict):
        raise FetchError(f"{item_url(base, item)}: not a ScienceBase item description")
    entry = listed_file(description, main_file(year), base=base, item_id=item)
    target = cache / "usgs_mcs" / f"MCS{year}" / entry.name
    got = download.fetch_file(
        entry.url,
        target,
        session=session,
        policy=policy,
        expected_size=entry.size,
        expected_md5=entry.md5,
        check=check_mcs_csv,
    )
    print(f"USGS MCS: {got.describe()}")
    return Prepared(target, f"MCS{year}", got)


def ingest(prepared: Prepared, warehouse: Warehouse) -> int:
    return ingest_mcs.run(argparse.Namespace(path=str(prepared.path), release=None), warehouse)


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    prepared = fetch(
        year=args.year,
        item=args.item,
        cache=download.cache_root(args, warehouse.root),
        base=download.base_url(args.base_url, BASE_URL_ENV, DEFAULT_BASE_URL),
        policy=download.policy_from(args),
    )
    with download.loading_into(warehouse, prepared.path.parent):
        return ingest(prepared, warehouse)
