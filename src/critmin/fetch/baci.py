"""`critmin fetch baci`: download a CEPII BACI release and load it like `critmin ingest baci`.

Where CEPII publishes BACI today (checked against CEPII's pages and against ONEcampaign's
`bblocks`, a maintained client that reads the same page, `src/bblocks/importers/baci/baci.py`):

- the BACI webpage, https://www.cepii.fr/DATA_DOWNLOAD/baci/doc/baci_webpage.html: its
  `<section id="download-links">` holds one `<a>` per HS edition whose text is the edition
  (`HS92` ... `HS22`) and whose `href` is that edition's zip of the current release;
- the older item page, https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37,
  which carried the links and the sentence "This is the 202601 version" until CEPII moved
  them; it now says only "See the BACI webpage." and its "Download" section is empty. Its
  "Archives" section linked the earlier releases;
- one zip per release and HS edition, current and archived alike:
  https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_HS12_V202601.zip, holding the yearly
  `BACI_HS12_Y2012_V202601.csv` ... files (t, i, j, k, v, q), `country_codes_V202601.csv`,
  `product_codes_HS12_V202601.csv` and a readme.

Finding the release (`discover`), in order, saying which one it used: the webpage's
download section, then the item page ("This is the ... version" and its links), then any
archived release linked from either page (the newest, with a warning that a newer one
may exist). When none can be read, the message names each address tried and what was
wrong there, what was expected, and the last release known to critmin
(`ingest/sources/baci.toml`) with the command that loads it. A release that is given
(`--release`, or $CRITMIN_BACI_RELEASE) skips the pages: its zip is at the address above.

Cache first: a zip already in the cache (or passed with `--file`) is used without
downloading; when the pages cannot be read, the newest release in the cache is used.

Defaults: the HS 2012 edition. HS12 is the newest edition that reaches back to 2012,
where the app's default window starts, so one release and one edition (BACI must not be
mixed) cover every default chart; the newer editions start later (HS17 in 2017, HS22 in
2022). The price is that flows after 2017 are converted by CEPII from the newer
nomenclatures, and codes created since (the HS 2022 splits of 8112.92 and 8112.99 among
them) do not exist in HS12. `--hs HS22` gives the newest codes for 2022 onward.

Base URL: `--base-url`, or $CRITMIN_BACI_BASE_URL, or https://www.cepii.fr; a mirror serves
the same paths (links on the pages that name www.cepii.fr are moved onto the mirror).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

import requests

from critmin import sources
from critmin.domain import HS_EDITIONS
from critmin.fetch import download, http
from critmin.fetch.http import ByHand, FetchError, NotFound, Policy
from critmin.ingest import baci as ingest_baci
from critmin.ingest import common
from critmin.ingest.common import Summary
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.cepii.fr"
BASE_URL_ENV = "CRITMIN_BACI_BASE_URL"
RELEASE_ENV = "CRITMIN_BACI_RELEASE"
WEBPAGE_PATH = "/DATA_DOWNLOAD/baci/doc/baci_webpage.html"
ITEM_PAGE_PATH = "/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37"
DOWNLOAD_SECTION = "download-links"
DATA_PATH = "/DATA_DOWNLOAD/baci/data"
DEFAULT_EDITION = "HS12"
ZIP_LINK = re.compile(r"BACI_(HS\d\d)_V(\d{6}[a-z]?)\.zip$", re.IGNORECASE)
EDITION_TEXT = re.compile(r"^\s*(HS\d\d)\b", re.IGNORECASE)
CURRENT = re.compile(r"This is the\s+(\d{6}[a-z]?)\s+version", re.IGNORECASE)
MOVED = re.compile(r"See the BACI webpage", re.IGNORECASE)


def latest_known_release() -> str:
    """The newest release critmin has been checked against (ingest/sources/baci.toml)."""
    return str(sources.source("baci").extra["releases"]["latest_known"])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_release_arguments(parser)
    parser.add_argument(
        "--file",
        help="a BACI zip already downloaded (BACI_<HS>_V<release>.zip): loaded without the network",
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


def add_release_arguments(parser: argparse.ArgumentParser) -> None:
    """--release and --hs, shared by `fetch baci` and `fetch all`."""
    parser.add_argument(
        "--release",
        help=f"BACI release such as V202601; skips CEPII's pages (default: ${RELEASE_ENV}, "
        "else the latest on CEPII's BACI webpage)",
    )
    parser.add_argument(
        "--hs",
        choices=list(HS_EDITIONS),
        default=DEFAULT_EDITION,
        help=f"BACI HS edition (default {DEFAULT_EDITION}: one edition from 2012 on)",
    )


def release_option(value: str | None) -> str | None:
    """--release, else $CRITMIN_BACI_RELEASE, else None (discover it)."""
    chosen = (value or "").strip() or os.environ.get(RELEASE_ENV, "").strip()
    return chosen or None


# --- the pages --------------------------------------------------------------------------


def release_label(text: str) -> str:
    """'202601', 'v202601' or 'V202401b' -> 'V202601' / 'V202401b'."""
    match = re.fullmatch(r"[vV]?(\d{6})([a-zA-Z]?)", text.strip())
    if not match:
        raise FetchError(f"--release: {text!r} is not a BACI release such as V202601")
    return f"V{match[1]}{match[2].lower()}"


def _order(release: str) -> tuple[str, str]:
    return release[1:7], release[7:]


def _edition_year(edition: str) -> int:
    return HS_EDITIONS.get(edition, 0)


@dataclass
class Listing:
    """What one of CEPII's pages offers: release -> HS edition -> zip address, where it
    was found, and the current release when the page names it."""

    url: str
    found_in: str
    links: dict[str, dict[str, str]] = field(default_factory=dict)
    current: str | None = None
    note: str = ""  # a warning that goes with what was found

    @property
    def releases(self) -> dict[str, set[str]]:
        return {release: set(editions) for release, editions in self.links.items()}

    @property
    def latest(self) -> str:
        if self.current and self.current in self.links:
            return self.current
        return max(self.links, key=_order)

    def latest_with(self, edition: str) -> str:
        """The current release; without one (archives), the newest that has `edition`."""
        if self.current and self.current in self.links:
            return self.current
        having = [r for r, editions in self.links.items() if edition in editions]
        return max(having, key=_order) if having else self.latest

    def add(self, release: str, edition: str, url: str) -> None:
        self.links.setdefault(release, {}).setdefault(edition, url)

    def describe(self) -> str:
        return "; ".join(
            f"{release} ({', '.join(sorted(self.links[release], key=_edition_year))})"
            for release in sorted(self.links, key=_order, reverse=True)
        )


@dataclass
class Anchor:
    href: str
    text: str
    in_downloads: bool  # inside <section id="download-links">


class Page(HTMLParser):
    """A page's links (with their text, and whether they sit in the download section),
    its text, and whether it has a download section at all."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[Anchor] = []
        self.words: list[str] = []
        self.has_downloads = False
        self._depth = 0  # nesting inside the download section; 0 = outside
        self._open: Anchor | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "section":
            if self._depth:
                self._depth += 1
            elif values.get("id", "").strip() == DOWNLOAD_SECTION:
                self._depth, self.has_downloads = 1, True
        elif tag == "a":
            self._close_anchor()
            self._open = Anchor(values.get("href", "").strip(), "", self._depth > 0)

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._depth:
            self._depth -= 1
        elif tag == "a":
            self._close_anchor()

    def handle_data(self, data: str) -> None:
        self.words.append(data)
        if self._open is not None:
            self._open.text += data

    def _close_anchor(self) -> None:
        if self._open is not None:
            self.anchors.append(self._open)
            self._open = None

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.words).split())

    @classmethod
    def parse(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        page.close()
        page._close_anchor()
        return page


def on_base(href: str, page_url: str, base: str) -> str:
    """A link's full address: relative links resolved against the page, links to
    www.cepii.fr moved onto the chosen server (a mirror keeps CEPII's paths)."""
    url = urljoin(page_url, href)
    parts = urlsplit(url)
    if base != DEFAULT_BASE_URL and parts.netloc.lower() in ("www.cepii.fr", "cepii.fr"):
        return base + parts.path + (f"?{parts.query}" if parts.query else "")
    return url


def _zip_of(href: str) -> tuple[str, str] | None:
    """(release, edition) from a link to BACI_<HS>_V<release>.zip."""
    match = ZIP_LINK.search(PurePosixPath(urlsplit(href).path).name)
    return (release_label(match[2]), match[1].upper()) if match else None


def read_webpage(page: Page, url: str, base: str) -> tuple[Listing | None, str]:
    """The BACI webpage's download section: one link per edition, the link's text the
    edition (as bblocks reads it). (listing, "") or (None, what was wrong)."""
    if not page.has_downloads:
        return None, f'no <section id="{DOWNLOAD_SECTION}"> on the page'
    listing = Listing(url=url, found_in="the download section of CEPII's BACI webpage")
    for anchor in page.anchors:
        edition = EDITION_TEXT.match(anchor.text)
        if not anchor.in_downloads or not edition or not anchor.href:
            continue
        named = _zip_of(anchor.href)
        if named is None:
            log.warning("BACI webpage: the %s link %s names no release", edition[1], anchor.href)
            continue
        listing.add(named[0], edition[1].upper(), on_base(anchor.href, url, base))
    if not listing.links:
        return None, "its download section holds no HS92…HS22 link to a BACI_<HS>_V<release>.zip"
    listing.current = max(listing.links, key=_order)
    return listing, ""


def read_item_page(page: Page, url: str, base: str) -> tuple[Listing | None, str]:
    """The older item page: "This is the 202601 version" and that release's links."""
    current = CURRENT.search(page.text)
    if current is None:
        if MOVED.search(page.text):
            return None, 'it says only "See the BACI webpage." (no release, no download link)'
        return None, 'no "This is the … version" sentence'
    release = release_label(current[1])
    listing = Listing(url=url, found_in="CEPII's BACI item page", current=release)
    for anchor in page.anchors:
        named = _zip_of(anchor.href)
        if named is not None and named[0] == release:
            listing.add(named[0], named[1], on_base(anchor.href, url, base))
    if not listing.links:
        return None, f"it names version {current[1]} but links no zip of it"
    return listing, ""


def read_archives(pages: list[tuple[str, Page]], base: str) -> Listing | None:
    """Every BACI zip linked from the pages outside a download section: archived
    releases, the newest of which is offered when nothing better was found."""
    listing = Listing(url=", ".join(url for url, _ in pages), found_in="the archives CEPII links")
    for url, page in pages:
        for anchor in page.anchors:
            named = _zip_of(anchor.href)
            if named is not None and not anchor.in_downloads:
                listing.add(named[0], named[1], on_base(anchor.href, url, base))
    return listing if listing.links else None


def no_release_message(tried: list[tuple[str, str]], command: str) -> str:
    known = latest_known_release()
    attempts = "; ".join(f"{url}: {why}" for url, why in tried)
    return (
        f"BACI: no release could be read from CEPII's pages ({attempts}). Expected on "
        f'{DEFAULT_BASE_URL}{WEBPAGE_PATH}: a <section id="{DOWNLOAD_SECTION}"> with one link '
        "per HS edition (HS92 … HS22) to BACI_<HS>_V<release>.zip. The last release known to "
        f"critmin is {known}: run `{command} --release {known}` to download it without the "
        f"pages (or set {RELEASE_ENV}={known})"
    )


def discover(
    session: requests.Session, base: str, policy: Policy, *, command: str = "critmin fetch baci"
) -> Listing:
    """The releases CEPII offers: the webpage's download section, else the item page,
    else the archives either links; FetchError naming every address tried."""
    tried: list[tuple[str, str]] = []
    pages: list[tuple[str, Page]] = []
    for path, read in ((WEBPAGE_PATH, read_webpage), (ITEM_PAGE_PATH, read_item_page)):
        url = base + path
        try:
            page = Page.parse(http.get_text(session, url, policy))
        except FetchError as error:
            tried.append((url, str(error).removeprefix(f"{url}: ")))
            continue
        pages.append((url, page))
        listing, why = read(page, url, base)
        if listing is not None:
            return listing
        tried.append((url, why))
    archived = read_archives(pages, base)
    if archived is not None:
        archived.note = (
            " — no current release on CEPII's pages, so the newest archived one: a newer "
            "release may exist (give --release to choose)"
        )
        return archived
    raise FetchError(no_release_message(tried, command))


def zip_name(release: str, edition: str) -> str:
    return f"BACI_{edition}_{release}.zip"


def zip_url(base: str, release: str, edition: str) -> str:
    return f"{base}{DATA_PATH}/{zip_name(release, edition)}"


def choose(listing: Listing, release: str | None, edition: str) -> str:
    """The release to download; FetchError listing what exists when it is not offered."""
    chosen = release or listing.latest_with(edition)
    if chosen not in listing.links:
        raise FetchError(
            f"BACI {chosen} is not on CEPII's pages ({listing.url}); they offer "
            f"{listing.describe()}"
        )
    if edition not in listing.links[chosen]:
        raise FetchError(
            f"BACI {chosen} has no {edition} edition; it offers "
            f"{', '.join(sorted(listing.links[chosen], key=_edition_year))}"
        )
    return chosen


def newest_cached(cache: Path, edition: str) -> Path | None:
    """The newest verified release of the edition in the cache (one with its record)."""
    found = []
    for path in (cache / "baci").glob(f"BACI_{edition}_V*.zip"):
        named = _zip_of(path.name)
        if named is not None and download.record_path(path).is_file():
            found.append((_order(named[0]), path))
    return max(found)[1] if found else None


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


def page_for_hand(base: str) -> str:
    return f"{base}{WEBPAGE_PATH}"


def from_file(path: Path, edition: str) -> Prepared:
    """--file: a zip downloaded earlier, checked, then used as it is."""
    named = _zip_of(path.name)
    if named is None or not path.is_file():
        raise FetchError(
            f"--file {path}: expected a BACI zip as CEPII names it (BACI_<HS>_V<release>.zip); "
            "load a renamed file or a folder with `critmin ingest baci PATH --release ... "
            "--hs-edition ...`"
        )
    release, found_edition = named
    check_release_zip(path, path.name, release=release, edition=found_edition)
    if found_edition != edition and edition != DEFAULT_EDITION:
        raise FetchError(f"--file {path} is {found_edition}, not the --hs {edition} asked for")
    print(f"BACI: using {path} (--file), {release} {found_edition}; nothing downloaded")
    got = download.Downloaded(path, "", path.stat().st_size, reused=True)
    return Prepared(path, release, found_edition, got)


def find_release(
    session: requests.Session,
    *,
    release: str | None,
    edition: str,
    cache: Path,
    base: str,
    policy: Policy,
    command: str,
) -> tuple[str, str | None]:
    """(release, its zip address when a page gave one): the release given, else the
    one CEPII's pages offer, else (pages unreadable) the newest in the cache."""
    if release:
        return release_label(release), None
    try:
        listing = discover(session, base, policy, command=command)
    except FetchError as unreadable:
        cached = newest_cached(cache, edition)
        if cached is None:
            raise
        named = _zip_of(cached.name)
        assert named is not None
        print(
            f"BACI: CEPII's pages could not be read; using {named[0]}, the newest release in "
            f"the cache ({cached}). {unreadable}"
        )
        return named[0], None
    chosen = choose(listing, None, edition)
    print(
        f"BACI: release {chosen} ({edition}) found in {listing.found_in} ({listing.url})"
        f"{listing.note}; offered: {listing.describe()}"
    )
    return chosen, listing.links[chosen][edition]


def fetch(
    *,
    release: str | None,
    edition: str,
    cache: Path,
    base: str,
    policy: Policy,
    session: requests.Session | None = None,
    command: str = "critmin fetch baci",
) -> Prepared:
    """Find the release (CEPII's pages unless one is given), download and check it."""
    session = session or http.make_session(policy)
    wanted, url = find_release(
        session,
        release=release,
        edition=edition,
        cache=cache,
        base=base,
        policy=policy,
        command=command,
    )
    url = url or zip_url(base, wanted, edition)
    target = cache / "baci" / zip_name(wanted, edition)
    by_hand = ByHand(
        what=zip_name(wanted, edition),
        page=page_for_hand(base),
        save_as=str(target),
        then=f"{command} --release {wanted}"
        + (f" --hs {edition}" if edition != DEFAULT_EDITION else ""),
    )
    try:
        got = download.fetch_file(
            url,
            target,
            session=session,
            policy=policy,
            check=lambda path, label: check_release_zip(
                path, label, release=wanted, edition=edition
            ),
            by_hand=by_hand,
        )
    except NotFound as missing:
        try:
            listing = discover(session, base, policy, command=command)
        except FetchError as no_listing:
            raise FetchError(
                f"BACI {wanted} {edition} is not published at {missing.url} (HTTP 404), and "
                f"the list of releases could not be read ({no_listing})"
            ) from missing
        choose(listing, wanted, edition)  # raises with what exists
        raise FetchError(
            f"{missing.url}: not found (HTTP 404), although CEPII's pages list BACI {wanted} "
            f"{edition}; re-run later or check --base-url"
        ) from missing
    print(f"BACI: {got.describe()}")
    return Prepared(target, wanted, edition, got)


def check(
    session: requests.Session,
    *,
    release: str | None,
    edition: str,
    cache: Path,
    base: str,
    policy: Policy,
    command: str,
) -> download.SourceCheck:
    """What `fetch` would download, asked without downloading it."""
    try:
        wanted, url = find_release(
            session,
            release=release,
            edition=edition,
            cache=cache,
            base=base,
            policy=policy,
            command=command,
        )
    except FetchError as error:
        return download.SourceCheck(
            "CEPII BACI", base + WEBPAGE_PATH, "?", None, "no", False, str(error)
        )
    url = url or zip_url(base, wanted, edition)
    return download.check_file(
        session,
        "CEPII BACI",
        url,
        f"{wanted} ({edition})",
        cache / "baci" / zip_name(wanted, edition),
        policy,
    )


def ingest(
    prepared: Prepared, warehouse: Warehouse, *, all_products: bool, replace: bool
) -> Summary:
    return ingest_baci.load_baci(
        prepared.path, warehouse, all_products=all_products, replace=replace
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    policy = download.policy_from(args)
    if args.file:
        prepared = from_file(Path(args.file).expanduser(), args.hs)
    else:
        prepared = fetch(
            release=release_option(args.release),
            edition=args.hs,
            cache=download.cache_root(args, warehouse.root),
            base=download.base_url(args.base_url, BASE_URL_ENV, DEFAULT_BASE_URL),
            policy=policy,
        )
    with download.loading_into(warehouse, prepared.path.parent):
        summary = ingest(prepared, warehouse, all_products=args.all_products, replace=args.replace)
    summary.print()
    return 0
