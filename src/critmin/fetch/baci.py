"""`critmin fetch baci`: download a CEPII BACI release and load it like `critmin ingest baci`.

Where CEPII publishes BACI (checked against CEPII's BACI page and its download links):

- the page that lists the releases:
  https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37 — its "Download"
  section links the current release ("This is the 202601 version") per HS edition, its
  "Archives" section the earlier ones;
- one zip per release and HS edition, for current and archived releases alike:
  https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_HS12_V202601.zip, holding the yearly
  `BACI_HS12_Y2012_V202601.csv` ... files (t, i, j, k, v, q), `country_codes_V202601.csv`,
  `product_codes_HS12_V202601.csv` and a readme.

Defaults: the latest release on that page, and the HS 2012 edition. HS12 is the newest
edition that reaches back to 2012, where the app's default window starts, so one release
and one edition (BACI must not be mixed) cover every default chart; the newer editions
start later (HS17 in 2017, HS22 in 2022). The price is that flows after 2017 are
converted by CEPII from the newer nomenclatures, and codes created since (the HS 2022
splits of 8112.92 and 8112.99 among them) do not exist in HS12. `--hs HS22` gives the
newest codes for 2022 onward.

Base URL: `--base-url`, or $CRITMIN_BACI_BASE_URL, or https://www.cepii.fr; a mirror must
serve the same two paths. A release or edition that does not exist stops with the list
of those CEPII's page offers.
"""

from __future__ import annotations

import argparse
import logging
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import requests

from critmin.domain import HS_EDITIONS
from critmin.fetch import download
from critmin.fetch.download import FetchError, NotFound, Policy
from critmin.ingest import baci as ingest_baci
from critmin.ingest import common
from critmin.ingest.common import Summary
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.cepii.fr"
BASE_URL_ENV = "CRITMIN_BACI_BASE_URL"
LISTING_PATH = "/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37"
DATA_PATH = "/DATA_DOWNLOAD/baci/data"
DEFAULT_EDITION = "HS12"
ZIP_LINK = re.compile(r"BACI_(HS\d\d)_V(\d{6}[a-z]?)\.zip$", re.IGNORECASE)
CURRENT = re.compile(r"This is the\s+(\d{6}[a-z]?)\s+version", re.IGNORECASE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--release", help="release such as V202601 (default: the latest on CEPII's BACI page)"
    )
    parser.add_argument(
        "--hs",
        choices=list(HS_EDITIONS),
        default=DEFAULT_EDITION,
        help=f"HS edition (default {DEFAULT_EDITION}: one edition from 2012 on)",
    )
    parser.add_argument(
        "--all-products",
        action="store_true",
        help="keep every HS6 code (default: only the mineral baskets)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace a loaded BACI part of another release or HS edition",
    )
    download.add_download_arguments(parser, base_env=BASE_URL_ENV, default_base=DEFAULT_BASE_URL)


# --- the listing ------------------------------------------------------------------------


def release_label(text: str) -> str:
    """'202601', 'v202601' or 'V202401b' -> 'V202601' / 'V202401b'."""
    match = re.fullmatch(r"[vV]?(\d{6})([a-zA-Z]?)", text.strip())
    if not match:
        raise FetchError(f"--release: {text!r} is not a BACI release such as V202601")
    return f"V{match[1]}{match[2].lower()}"


def _order(release: str) -> tuple[str, str]:
    return release[1:7], release[7:]


@dataclass
class Listing:
    """What CEPII's BACI page offers: release -> HS editions, and the current release."""

    url: str
    releases: dict[str, set[str]] = field(default_factory=dict)
    current: str | None = None

    @property
    def latest(self) -> str:
        if self.current and self.current in self.releases:
            return self.current
        return max(self.releases, key=_order)

    def describe(self) -> str:
        return "; ".join(
            f"{release} ({', '.join(sorted(self.releases[release], key=_edition_year))})"
            for release in sorted(self.releases, key=_order, reverse=True)
        )


def _edition_year(edition: str) -> int:
    return HS_EDITIONS.get(edition, 0)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_listing(html: str, url: str) -> Listing:
    """The releases and editions linked from CEPII's BACI page."""
    parser = _Links()
    parser.feed(html)
    listing = Listing(url=url)
    for href in parser.hrefs:
        name = PurePosixPath(href.split("?")[0]).name
        if match := ZIP_LINK.search(name):
            release = release_label(match[2])
            listing.releases.setdefault(release, set()).add(match[1].upper())
    if current := CURRENT.search(" ".join(" ".join(parser.text).split())):
        listing.current = release_label(current[1])
    if not listing.releases:
        raise FetchError(
            f"{url}: no BACI download link found on the page (its layout may have changed); "
            "give --release V202601 to download without the listing"
        )
    return listing


def fetch_listing(session: requests.Session, base: str, policy: Policy) -> Listing:
    url = base + LISTING_PATH
    return parse_listing(download.get_text(session, url, policy), url)


def zip_name(release: str, edition: str) -> str:
    return f"BACI_{edition}_{release}.zip"


def zip_url(base: str, release: str, edition: str) -> str:
    return f"{base}{DATA_PATH}/{zip_name(release, edition)}"


def choose(listing: Listing, release: str | None, edition: str) -> str:
    """The release to download; FetchError listing what exists when it is not offered."""
    chosen = release or listing.latest
    if chosen not in listing.releases:
        raise FetchError(
            f"BACI {chosen} is not on CEPII's BACI page ({listing.url}); it offers "
            f"{listing.describe()}"
        )
    if edition not in listing.releases[chosen]:
        raise FetchError(
            f"BACI {chosen} has no {edition} edition; it offers "
            f"{', '.join(sorted(listing.releases[chosen], key=_edition_year))}"
        )
    return chosen


# --- the archive ------------------------------------------------------------------------


def check_release_zip(path: Path, label: str, *, release: str, edition: str) -> None:
    """The zip is complete (every member passes its CRC test) and is the BACI release
    asked for: yearly t,i,j,k,v,q files of that release and edition, and no CSV that is
    not a file of the release. Member sizes and compression ratios are checked from the
    zip's directory before any member is decompressed, and a header is read no further
    than MAX_HEADER_BYTES; macOS `__MACOSX/` members are skipped."""
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                infos, _ = common.release_members(archive, label)
            except common.IngestError as error:
                raise FetchError(str(error)) from error
            names = [i.filename for i in infos]
            for name in names:
                base = PurePosixPath(name).name
                known = (
                    ingest_baci.FLOW_NAME.match(base)
                    or ingest_baci.COUNTRY_NAME.match(base)
                    or ingest_baci.PRODUCT_NAME.match(base)
                )
                if base.lower().endswith(".csv") and not known:
                    raise FetchError(
                        f"{label}: {common.excerpt(name, 60)} is not a file of BACI "
                        f"{edition} {release}; the archive is not the release as published"
                    )
            damaged = archive.testzip()
            flows = [n for n in names if ingest_baci.FLOW_NAME.match(PurePosixPath(n).name)]
            headers = {}
            for name in flows:
                with archive.open(name) as member:
                    headers[name] = member.readline(common.MAX_HEADER_BYTES + 1)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as error:
        raise FetchError(f"{label} is not a complete zip archive ({error})") from error
    except zlib.error as error:  # a member's compressed data is damaged
        raise FetchError(
            f"{label} is damaged: a member cannot be decompressed ({error})"
        ) from error
    if damaged:
        raise FetchError(f"{label} is damaged: {common.excerpt(damaged, 60)} fails its CRC check")
    if not flows:
        raise FetchError(
            f"{label} holds no yearly BACI file (BACI_{edition}_Y2012_{release}.csv ...); "
            f"found {common.listed(names, 6) or 'nothing'}"
        )
    for name in flows:
        match = ingest_baci.FLOW_NAME.match(PurePosixPath(name).name)
        assert match is not None
        found = (match["edition"].upper(), "V" + match["release"])
        if found != (edition, release):
            raise FetchError(f"{label}: {name} is {found[0]} {found[1]}, not {edition} {release}")
        raw = headers[name]
        if len(raw) > common.MAX_HEADER_BYTES:
            raise FetchError(
                f"{label}: {name} starts with a line longer than "
                f"{common.human_bytes(common.MAX_HEADER_BYTES)}, not the BACI header "
                f"{','.join(ingest_baci.COLUMNS)}"
            )
        header = raw.decode("utf-8-sig", "replace").strip()
        columns = [c.strip().strip('"') for c in header.split(",")]
        if columns != list(ingest_baci.COLUMNS):
            raise FetchError(
                f"{label}: {name} starts with {common.excerpt(header, 60)!r}, not the BACI "
                f"header {','.join(ingest_baci.COLUMNS)}"
            )


# --- the command ------------------------------------------------------------------------


@dataclass
class Prepared:
    """A downloaded, verified release ready for `critmin.ingest.baci`."""

    path: Path
    release: str
    edition: str
    download: download.Downloaded


def fetch(
    *,
    release: str | None,
    edition: str,
    cache: Path,
    base: str,
    policy: Policy,
    session: requests.Session | None = None,
) -> Prepared:
    """Find the release (CEPII's listing unless --release is given), download and check it."""
    session = session or download.make_session(policy)
    wanted = release_label(release) if release else None
    if wanted is None:
        listing = fetch_listing(session, base, policy)
        wanted = choose(listing, None, edition)
        print(f"BACI: latest release on CEPII's page is {wanted} ({listing.describe()})")
    url = zip_url(base, wanted, edition)
    target = cache / "baci" / zip_name(wanted, edition)
    try:
        got = download.fetch_file(
            url,
            target,
            session=session,
            policy=policy,
            check=lambda path, label: check_release_zip(
                path, label, release=wanted, edition=edition
            ),
        )
    except NotFound as missing:
        try:
            listing = fetch_listing(session, base, policy)
        except FetchError as no_listing:
            raise FetchError(
                f"BACI {wanted} {edition} is not published at {missing.url} (HTTP 404), and "
                f"the list of releases could not be read ({no_listing})"
            ) from missing
        choose(listing, wanted, edition)  # raises with what exists
        raise FetchError(
            f"{missing.url}: not found (HTTP 404), although CEPII's page lists BACI {wanted} "
            f"{edition}; re-run later or check --base-url"
        ) from missing
    print(f"BACI: {got.describe()}")
    return Prepared(target, wanted, edition, got)


def ingest(
    prepared: Prepared, warehouse: Warehouse, *, all_products: bool, replace: bool
) -> Summary:
    return ingest_baci.load_baci(
        prepared.path, warehouse, all_products=all_products, replace=replace
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    policy = download.policy_from(args)
    prepared = fetch(
        release=args.release,
        edition=args.hs,
        cache=download.cache_root(args, warehouse.root),
        base=download.base_url(args.base_url, BASE_URL_ENV, DEFAULT_BASE_URL),
        policy=policy,
    )
    with download.loading_into(warehouse, prepared.path.parent):
        summary = ingest(prepared, warehouse, all_products=args.all_products, replace=args.replace)
    summary.print()
    return 0
