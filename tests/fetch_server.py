"""A local HTTP server for the fetch tests, and the files it serves, shaped as the sources
publish them today (CEPII's BACI webpage and its older item page, as it was and as it is
now, BACI zips, a ScienceBase item with the USGS MCS CSV in cp1252, the MRDS CSV zip, a
Cloudflare browser check). Everything is generated here: no row comes from the real
files. docs/fetching.md says which evidence each page follows.

The monthly sources' APIs are served by functions of the query (`FileServer.apis`): UN
Comtrade's monthly JSON, Eurostat Comext's SDMX-CSV (and its 413 for an extraction too
big), the US Census Bureau's JSON arrays (and 204 for a month without data) and the ECB
data portal's CSV.

The server runs `http.server.ThreadingHTTPServer` on 127.0.0.1 in a thread. It answers
GET and HEAD, byte ranges (`Range`, `If-Range` against its ETag), records every request,
and plays scripted faults per path: an HTTP status (with headers such as Retry-After and
a body such as a challenge page), a connection dropped after N bytes of the body, a
server that stalls (sends the headers and N bytes, then nothing), or a 200 that ignores
the Range asked for. It also acts as a forward proxy: a request line with an absolute URL
is served from the URL's path and recorded as such.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import sys
import threading
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

# --- time ------------------------------------------------------------------------------


@dataclass
class FakeClock:
    """Stands in for the fetchers' clock and sleep (critmin.fetch.http): every wait (pacing,
    Retry-After, back-off) is recorded and advances the clock at once, so tests read the
    waits instead of waiting them."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds

    def install(self, monkeypatch: Any) -> FakeClock:
        from critmin.fetch import http

        monkeypatch.setattr(http, "_clock", self.clock)
        monkeypatch.setattr(http, "_sleep", self.sleep)
        return self


# --- the server -------------------------------------------------------------------------


@dataclass
class Resource:
    body: bytes
    content_type: str = "application/octet-stream"
    etag: str = ""
    last_modified: str = "Wed, 07 Jan 2026 10:00:00 GMT"

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.md5(self.body, usedforsecurity=False).hexdigest() + '"'


@dataclass(frozen=True)
class Status:
    code: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b"scripted answer\n"


@dataclass(frozen=True)
class Drop:
    """Send the headers of the full answer, then `after` bytes of its body, then hang up."""

    after: int


@dataclass(frozen=True)
class Stall:
    """Send the headers of the full answer and `after` bytes of its body, then nothing
    more until the test ends (a slow or filtered server: the client's timeout decides)."""

    after: int = 0


@dataclass(frozen=True)
class IgnoreRange:
    """Answer 200 with the whole file even when a Range was asked for."""


Fault = Status | Drop | Stall | IgnoreRange


@dataclass
class Hit:
    method: str
    target: str  # the request line's target (an absolute URL when sent to a proxy)
    path: str  # path and query
    headers: dict[str, str]


Answer = tuple[int, dict[str, str], bytes]
Api = Callable[[str, dict[str, str]], Answer]
"""An API: (path, query with one value per name) -> (status, headers, body)."""


@dataclass
class FileServer:
    resources: dict[str, Resource] = field(default_factory=dict)
    apis: dict[str, Api] = field(default_factory=dict)  # path prefix -> answering function
    faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    hits: list[Hit] = field(default_factory=list)
    url: str = ""
    released: threading.Event = field(default_factory=threading.Event)  # ends stalls

    def serve(self, path: str, body: bytes | str, content_type: str = "") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        guess = (
            "text/html; charset=utf-8"
            if isinstance(body, str) and body.lstrip().startswith("<")
            else "application/octet-stream"
        )
        self.resources[path] = Resource(data, content_type or guess)

    def fault(self, path: str, *faults: Fault) -> None:
        self.faults[path].extend(faults)

    def requests_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def data_requests(self) -> list[Hit]:
        """GET requests for files other than pages and catalogue entries."""
        pages = ("id=37", "format=json", ".html")
        return [h for h in self.hits if h.method == "GET" and not h.path.endswith(pages)]

    def api_for(self, path: str) -> tuple[str, Api] | None:
        """The API serving a path (the longest prefix registered), if any."""
        bare = path.split("?", 1)[0]
        prefixes = [p for p in self.apis if bare.startswith(p)]
        if not prefixes:
            return None
        prefix = max(prefixes, key=len)
        return prefix, self.apis[prefix]

    def _find(self, path: str) -> str | None:
        if path in self.resources:
            return path
        bare = path.split("?", 1)[0]
        return bare if bare in self.resources else None


def _handler(state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
            self.do_GET(head=True)

        def do_GET(self, head: bool = False) -> None:  # noqa: N802 - http.server's name
            target = self.path
            parts = urlsplit(target)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            state.hits.append(Hit("HEAD" if head else "GET", target, path, dict(self.headers)))
            self.head = head
            api = state.api_for(path)
            key = state._find(path) or (api[0] if api else None)
            fault = state.faults[key or path].pop(0) if state.faults[key or path] else None
            if isinstance(fault, Status):
                self._send(fault.code, fault.body, dict(fault.headers))
                return
            if api is not None and state._find(path) is None:
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                try:
                    status, headers, body = api[1](parts.path, query)
                except (KeyError, ValueError) as missing:  # a HEAD or a query without it
                    status, headers, body = 400, {}, f"bad query: {missing}\n".encode()
                self._send(status, body, headers)
                return
            if key is None:
                self._send(404, b"not found\n", {})
                return
            resource = state.resources[key]
            body, status = resource.body, 200
            headers = {
                "Content-Type": resource.content_type,
                "ETag": resource.etag,
                "Last-Modified": resource.last_modified,
                "Accept-Ranges": "bytes",
            }
            wanted = self.headers.get("Range", "")
            if_range = self.headers.get("If-Range")
            if (
                wanted.startswith("bytes=")
                and not isinstance(fault, IgnoreRange)
                and (if_range is None or if_range in (resource.etag, resource.last_modified))
            ):
                start = int(wanted[len("bytes=") :].split("-", 1)[0])
                if start >= len(resource.body):
                    self._send(416, b"", {"Content-Range": f"bytes */{len(resource.body)}"})
                    return
                body, status = resource.body[start:], 206
                headers["Content-Range"] = f"bytes {start}-{len(resource.body) - 1}/" + str(
                    len(resource.body)
                )
            if isinstance(fault, Stall):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: fault.after])
                self.wfile.flush()
                state.released.wait(30)
                self.close_connection = True
                return
            if isinstance(fault, Drop):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: fault.after])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(status, body, headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not getattr(self, "head", False):
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops a kept-alive connection (the fetch commands' HTTP session
        # closing once it has its answer) is not a fault of the server; printed, its
        # traceback landed in the stderr that tests check line by line.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def running(state: FileServer) -> Iterator[FileServer]:
    """Start the server (a generator for a pytest fixture); `state.url` is its address."""
    server = _Server(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()


# --- CEPII BACI -------------------------------------------------------------------------

# BACI's own country codes (251 France incl. Monaco, 579 Norway, 699 India, 757
# Switzerland, 842 USA, 490 "Other Asia, nes") beside ISO ones.
BACI_COUNTRIES = [
    # code, short name, full name, iso2, iso3 (as the dictionaries write them)
    (156, "China", "China", "CN", "CHN"),
    (251, "France", "France, Monaco", "FR", "FRA"),
    (398, "Kazakhstan", "Kazakhstan", "KZ", "KAZ"),
    (490, "Other Asia, nes", "Other Asia, not elsewhere specified", "N/A", "N/A"),
    (579, "Norway", "Norway, Svalbard and Jan Mayen", "NO", "NOR"),
    (643, "Russian Federation", "Russian Federation", "RU", "RUS"),
    (699, "India", "India", "IN", "IND"),
    (757, "Switzerland", "Switzerland, Liechtenstein", "CH", "CHE"),
    (842, "USA", "USA, Puerto Rico and US Virgin Islands", "US", "USA"),
    (899, "Areas, nes", "Areas, not elsewhere specified", "N/A", "N/A"),
]
# Mineral basket codes (gallium, manganese sulfate, graphite) and one code outside them.
BACI_PRODUCTS = [
    ("283329", "Sulphates; n.e.c. in heading no. 2833"),
    ("811292", "Gallium, germanium, indium, niobium, vanadium; unwrought, waste, powders"),
    ("250410", "Natural graphite; in powder or in flakes"),
    ("010121", "Horses; live, pure-bred breeding animals"),
]
BACI_EXPORTERS = (398, 156, 842, 490, 251)
BACI_IMPORTERS = (156, 643, 842, 579, 699, 757, 251, 899)


def baci_year_csv(year: int, *, seed: int = 1) -> bytes:
    """A yearly flows file: t,i,j,k,v,q, v in thousand USD with three decimals, q in
    tons padded to a width with spaces, 'NA' where BACI has no quantity."""
    lines = ["t,i,j,k,v,q"]
    step = 0
    for exporter in BACI_EXPORTERS:
        for importer in BACI_IMPORTERS:
            if importer == exporter:
                continue
            for code, _ in BACI_PRODUCTS:
                step += 1
                if (step * 7 + seed + year) % 3 == 0:
                    continue  # not every flow exists
                value = ((step * 37 + year * seed) % 900 + 12) * 1.125
                quantity = "NA" if step % 11 == 0 else f"{value / 3.2:12.3f}"
                lines.append(f"{year},{exporter},{importer},{code},{value:.3f},{quantity}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def baci_countries_csv(release: str, layout: str) -> bytes:
    if layout == "current":  # releases from 2024 on
        rows = ["country_code,country_name,country_iso2,country_iso3"]
        rows += [f'{c},"{full}",{iso2},{iso3}' for c, _, full, iso2, iso3 in BACI_COUNTRIES]
    else:  # earlier releases
        rows = [
            "country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,"
            "iso_3digit_alpha"
        ]
        rows += [
            f'{c},"{short}","{full}",{iso2},{iso3}' for c, short, full, iso2, iso3 in BACI_COUNTRIES
        ]
    return ("\n".join(rows) + "\n").encode("utf-8")


def baci_zip(
    release: str = "V202501",
    edition: str = "HS17",
    years: tuple[int, ...] = (2022, 2023),
    *,
    layout: str = "current",
    seed: int = 1,
    readme_padding: int = 0,
) -> bytes:
    """A release zip as CEPII publishes it: yearly files, both dictionaries, a readme
    (`readme_padding` bytes of incompressible text make the zip large enough to be cut
    mid-file by the download tests)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for year in years:
            archive.writestr(
                f"BACI_{edition}_Y{year}_{release}.csv", baci_year_csv(year, seed=seed)
            )
        archive.writestr(f"country_codes_{release}.csv", baci_countries_csv(release, layout))
        products = ["code,description"] + [f'{c},"{d}"' for c, d in BACI_PRODUCTS]
        archive.writestr(f"product_codes_{edition}_{release}.csv", "\n".join(products) + "\n")
        padding = hashlib.sha256(str(seed).encode()).hexdigest()
        notes = "".join(
            hashlib.sha256(f"{padding}{n}".encode()).hexdigest()
            for n in range(readme_padding // 64 + 1)
        )[:readme_padding]
        archive.writestr(
            "Readme.txt",
            f"Version: {release[1:]}\nRelease Date: 2026 01 15\n\nList of Variables:\n"
            "t: year\ni: exporter\nj: importer\nk: product\nv: value\nq: quantity\n"
            + (f"\nNotes: {notes}\n" if readme_padding else ""),
            compress_type=zipfile.ZIP_STORED,
        )
    return buffer.getvalue()


def _zip_link(release: str, edition: str, *, relative: bool = False) -> str:
    href = (
        f"../data/BACI_{edition}_{release}.zip"
        if relative
        else f"https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_{edition}_{release}.zip"
    )
    return f'<a href="{href}">{edition}</a>'


def _archives(archives: dict[str, list[str]] | None) -> str:
    if not archives:
        return ""
    rows = "".join(
        f"<p>{release[1:]} version: {' '.join(_zip_link(release, e) for e in editions)}</p>"
        for release, editions in sorted(archives.items(), reverse=True)
    )
    return f'<div><div class="titre-rubrique">Archives</div>{rows}</div>'


def cepii_item_page(releases: dict[str, list[str]], current: str) -> str:
    """CEPII's older BACI item page (bdd_modele_item.asp?id=37) as it was until 2025: the
    current release in "Download" ("This is the 202601 version"), the others in
    "Archives"; links are absolute cepii.fr addresses, as on the real page."""
    archives = {r: e for r, e in releases.items() if r != current}
    links = " ".join(_zip_link(current, e) for e in releases[current])
    return f"""<!DOCTYPE html>
<html><head><title>CEPII - BACI</title></head><body>
<div class="content_box">
  <div><div class="titre-rubrique">Download</div>
    <div class="moreOLD" id="telechargement">
      <p>This is the {current[1:]} version. Trade flows, HS revisions:</p>
      <p>{links}</p>
      <p><a href="https://www.cepii.fr/DATA_DOWNLOAD/baci/doc/DescriptionBACI.html">doc</a></p>
    </div>
  </div>
  {_archives(archives)}
</div></body></html>"""


def cepii_item_page_now(archives: dict[str, list[str]] | None = None) -> str:
    """The same item page as stored copies from 2025-2026 show it: "See the BACI
    webpage." and an empty "Download" section (archived releases only if given)."""
    return f"""<!DOCTYPE html>
<html><head><title>CEPII - BACI</title></head><body>
<div class="content_box">
  <p>BACI provides data on bilateral trade flows for 200 countries at the product level
  (5000 products). See the BACI webpage.</p>
  <div><div class="titre-rubrique">Download</div>
    <div class="moreOLD" id="telechargement"></div>
  </div>
  {_archives(archives)}
</div></body></html>"""


def cepii_webpage(
    release: str,
    editions: list[str],
    *,
    relative: bool = False,
    section: bool = True,
    archives: dict[str, list[str]] | None = None,
) -> str:
    """CEPII's BACI webpage (DATA_DOWNLOAD/baci/doc/baci_webpage.html) as ONEcampaign's
    bblocks reads it: a <section id="download-links"> with one <a> per edition whose
    text is the edition and whose href is the zip, beside the description and the
    file-naming table of the real page. `section=False`: a page without that section."""
    links = "\n".join(f"<li>{_zip_link(release, e, relative=relative)}</li>" for e in editions)
    downloads = (
        f'<section id="download-links"><h2>Download</h2><p>Current version: {release[1:]}'
        f"</p><ul>\n{links}\n</ul></section>"
        if section
        else "<h2>Download</h2><p>The download links will be back shortly.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>The CEPII-BACI dataset</title></head>
<body><main>
<h1>The CEPII-BACI dataset</h1>
<p>BACI provides data on bilateral trade flows for 200 countries at the product level (5000
products). Products correspond to the &ldquo;Harmonized System&rdquo; nomenclature (6 digit
code).</p>
<section id="description"><h2>Description</h2>
<table><tr><th>HS revision</th><th>Years available</th><th>Name of the files</th></tr>
<tr><td>12</td><td>2012-2024</td><td>BACI_HS12_Yyear_Vversion.csv</td></tr></table>
<p>See the <a href="FAQ_BACI.html">FAQ</a>.</p></section>
{downloads}
{_archives(archives)}
</main></body></html>"""


def cloudflare_challenge() -> Status:
    """A Cloudflare managed challenge as a script meets it: HTTP 403, `cf-mitigated:
    challenge` (Cloudflare's documented marker of every challenge page), and the
    "Just a moment..." page that needs a browser."""
    page = (
        b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
        b'<meta http-equiv="refresh" content="360"></head><body><div class="main-wrapper">'
        b"<noscript>Enable JavaScript and cookies to continue</noscript></div>"
        b"<script>(function(){window._cf_chl_opt={cvId: '3',cType: 'managed'};"
        b"var a=document.createElement('script');a.src='/cdn-cgi/challenge-platform/h/g/orchestrate/"
        b"chl_page/v1';document.getElementsByTagName('head')[0].appendChild(a);}());</script>"
        b"</body></html>"
    )
    return Status(
        403,
        (
            ("cf-mitigated", "challenge"),
            ("Server", "cloudflare"),
            ("Content-Type", "text/html; charset=UTF-8"),
        ),
        page,
    )


# --- USGS MCS on ScienceBase ------------------------------------------------------------

MCS_HEADER = (
    "MCS chapter,Section,Commodity,Country,Statistics,Statistics_detail,Unit,Year,Value,"
    "Notes,Is critical mineral 2025,Other notes"
)


def mcs_csv() -> bytes:
    """The release's long CSV in cp1252: em dashes in sections and values, 'W' withheld."""
    world = "World Mine Production and Reserves\u2014World"
    rows = [
        MCS_HEADER,
        f"ZINC,{world},Zinc,Kazakhstan,Production,Mine production,thousand metric tons,2024,"
        f"333,,Yes,",
        f"ZINC,{world},Zinc,Kazakhstan,Production,Mine production,thousand metric tons,2025,"
        f"341,Estimated.,Yes,",
        f"ZINC,{world},Zinc,United States,Production,Mine production,thousand metric tons,"
        f"2024,W,,Yes,",
        f'ZINC,{world},Zinc,China,Reserves,Reserves,thousand metric tons,2025,"44,000",,Yes,',
        f"GALLIUM,{world},Gallium,Kazakhstan,Production,Primary production,metric tons,2024,"
        f"\u2014,,Yes,",
        f"GALLIUM,{world},Gallium,World total,Production,Primary production,metric tons,2024,"
        f'"1,010",,Yes,',
    ]
    return ("\r\n".join(rows) + "\r\n").encode("cp1252")


def sciencebase_item(base: str, item: str, files: dict[str, bytes], title: str) -> dict[str, Any]:
    """The item's JSON as ScienceBase returns it (the fields the fetcher reads, and a few
    it does not)."""
    entries = []
    for position, (name, body) in enumerate(files.items()):
        digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
        entries.append(
            {
                "name": name,
                "title": "",
                "contentType": "text/csv" if name.endswith(".csv") else "application/xml",
                "size": len(body),
                "checksum": {"value": digest, "type": "MD5"},
                "url": f"{base}/catalog/file/get/{item}?f=__disk__{position:02x}%2F{digest}",
                "downloadUri": f"{base}/catalog/file/get/{item}?f=__disk__{position:02x}%2F{digest}",
            }
        )
    return {
        "link": {"rel": "self", "url": f"{base}/catalog/item/{item}"},
        "id": item,
        "title": title,
        "identifiers": [{"type": "DOI", "key": "doi:10.5066/P1WKQ63T"}],
        "files": entries,
    }


# --- USGS MRDS --------------------------------------------------------------------------

MRDS_HEADER = (
    "dep_id,url,mrds_id,mas_id,site_name,latitude,longitude,region,country,state,county,"
    "com_type,commod1,commod2,commod3,oper_type,dep_type,prod_size,dev_stat,ore,gangue,"
    "other_matl,orebody_fm,work_type,model,alteration,conc_proc,names,ore_ctrl,reporter,"
    "hrock_unit,hrock_type,arock_unit,arock_type,structure,tectonic,ref,yfp_ba,yr_fst_prd,"
    "ylp_ba,yr_lst_prd,dy_ba,disc_yr,prod_yrs,discr"
)
MRDS_SITES = [
    # dep_id, site name, latitude, longitude, country, commod1, commod2, dev_stat
    ("20000101", "Kyzyl-Tash", "48.1", "70.2", "Kazakhstan", "Copper", "Gold, Silver", "Producer"),
    ("20000102", "Ak-Bulak", "50.4", "72.9", "Kazakhstan", "Tungsten", "", "Past Producer"),
    ("20000103", "Sary-Oi", "69.9", "45.6", "Kazakhstan", "Zinc, Lead", "", "Prospect"),
    ("20000104", "Pine Ridge", "44.2", "-103.5", "United States", "Gold", "", "Occurrence"),
]


def mrds_csv(sites: Sequence[tuple[str, ...]] | None = None) -> bytes:
    rows = [MRDS_HEADER]
    for dep_id, name, lat, lon, country, commod1, commod2, status in sites or MRDS_SITES:
        url = f"https://mrdata.usgs.gov/mrds/show-mrds.php?dep_id={dep_id}"
        fields = [
            dep_id,
            url,
            f"W{dep_id[-6:]}",
            "",
            name,
            lat,
            lon,
            "AS",
            country,
            "",
            "",
            "M",
            f'"{commod1}"',
            f'"{commod2}"',
            "",
            "Surface",
            "",
            "S",
            status,
        ]
        rows.append(",".join(fields + [""] * (45 - len(fields))))
    return ("\n".join(rows) + "\n").encode("utf-8")


def mrds_zip(csv: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mrds.csv", csv if csv is not None else mrds_csv())
    return buffer.getvalue()


# --- the three sources on one server, as they publish today ---------------------------

WEBPAGE = "/DATA_DOWNLOAD/baci/doc/baci_webpage.html"
ITEM_PAGE = "/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37"
MCS_ITEM = "696a75d5d4be0228872d3bf8"
MCS_ITEM_JSON = f"/catalog/item/{MCS_ITEM}?format=json"
MRDS = "/mrds/mrds-csv.zip"
EDITIONS = ["HS92", "HS96", "HS02", "HS07", "HS12", "HS17", "HS22"]
SOURCE_ENVS = ("CRITMIN_BACI_BASE_URL", "CRITMIN_USGS_MCS_BASE_URL", "CRITMIN_MRDS_BASE_URL")


def baci_path(release: str, edition: str) -> str:
    return f"/DATA_DOWNLOAD/baci/data/BACI_{edition}_{release}.zip"


def publish_sources(state: FileServer) -> None:
    """CEPII (the BACI webpage with V202601, the item page as it is now, the V202601 HS12
    zip and an older HS17 release), ScienceBase (the MCS 2026 item and its files) and
    mrdata (the MRDS zip), on one server."""
    state.serve(WEBPAGE, cepii_webpage("V202601", EDITIONS))
    state.serve(ITEM_PAGE, cepii_item_page_now())
    state.serve(baci_path("V202601", "HS12"), baci_zip("V202601", "HS12", (2012, 2013, 2024)))
    state.serve(baci_path("V202301", "HS17"), baci_zip("V202301", "HS17", (2021,), layout="older"))
    csv_body = mcs_csv()
    item = sciencebase_item(
        state.url,
        MCS_ITEM,
        {"MCS2026_Commodities_Data.csv": csv_body, "MCS2026_Commodities_Data.xml": b"<m/>"},
        "Mineral Commodity Summaries 2026",
    )
    state.serve(MCS_ITEM_JSON, json.dumps(item), "application/json")
    for entry in item["files"]:
        body = csv_body if entry["name"].endswith(".csv") else b"<m/>"
        state.serve(entry["url"].removeprefix(state.url), body)
    state.serve(MRDS, mrds_zip())


@pytest.fixture(name="server")
def sources_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FileServer]:
    """The three sources on one local server (publish_sources), their base URLs pointed
    at it. Import it into a test module to use it there as `server`."""
    from critmin.fetch.baci import RELEASE_ENV

    state = FileServer()
    for stream in running(state):
        publish_sources(state)
        for env in SOURCE_ENVS:
            monkeypatch.setenv(env, state.url)
        monkeypatch.delenv(RELEASE_ENV, raising=False)
        yield stream


@pytest.fixture(name="clock", autouse=True)
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """No test of a module that imports this waits: time.sleep and the clocks are fake."""
    return FakeClock().install(monkeypatch)


def mcs_file_path(state: FileServer) -> str:
    """The path the item JSON gives for the MCS CSV."""
    item = json.loads(state.resources[MCS_ITEM_JSON].body)
    return str(item["files"][0]["url"]).removeprefix(state.url)


# --- the monthly sources' APIs ----------------------------------------------------------

TEST_DATA = Path(__file__).parent / "data"
MONTHLY_ENVS = (
    "COMTRADE_BASE_URL",
    "CRITMIN_COMEXT_BASE_URL",
    "CRITMIN_ECB_BASE_URL",
    "CRITMIN_CENSUS_BASE_URL",
)
COMTRADE_MONTHLY_PATHS = ("/data/v1/get/C/M/HS", "/public/v1/preview/C/M/HS")
COMEXT_DATA = "/eurostat/api/comext/dissemination/sdmx/2.1/data/DS-045409/"
COMEXT_DATAFLOW = "/eurostat/api/comext/dissemination/sdmx/2.1/dataflow/ESTAT/DS-045409"
ECB_EXR = "/service/data/EXR/M.USD.EUR.SP00.A"
CENSUS_IMPORTS = "/data/timeseries/intltrade/imports/hs"
CENSUS_EXPORTS = "/data/timeseries/intltrade/exports/hs"
# Comtrade numeric code -> ISO3 and name, for the reporters and partners the tests use.
COMTRADE_AREAS = {
    0: ("W00", "World"),
    156: ("CHN", "China"),
    276: ("DEU", "Germany"),
    398: ("KAZ", "Kazakhstan"),
    643: ("RUS", "Russian Federation"),
    842: ("USA", "USA"),
    251: ("FRA", "France"),
    392: ("JPN", "Japan"),
}


def _json(status: int, payload: Any) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def comtrade_monthly_row(
    reporter: int, partner: int, period: str, code: str, flow: str, value: float
) -> dict[str, Any]:
    """One monthly row with the API's 47 fields, as tests/data/comtrade_monthly holds them."""
    template = json.loads(
        (TEST_DATA / "comtrade_monthly" / "chn_imports_from_kaz_2025q1.json").read_text()
    )["data"][0]
    reporter_iso, reporter_desc = COMTRADE_AREAS.get(reporter, (f"C{reporter}", str(reporter)))
    partner_iso, partner_desc = COMTRADE_AREAS.get(partner, (f"C{partner}", str(partner)))
    year, month = int(period[:4]), int(period[4:])
    return dict(
        template,
        refPeriodId=int(period + "01"),
        refYear=year,
        refMonth=month,
        period=period,
        reporterCode=reporter,
        reporterISO=reporter_iso,
        reporterDesc=reporter_desc,
        partnerCode=partner,
        partnerISO=partner_iso,
        partnerDesc=partner_desc,
        flowCode=flow,
        flowDesc={"M": "Import", "X": "Export"}.get(flow, flow),
        cmdCode=code,
        classificationCode="H6" if year >= 2022 else "H5",
        primaryValue=value,
        cifvalue=value if flow == "M" else None,
        fobvalue=value if flow == "X" else None,
        netWgt=round(value / 300, 1),
        qty=round(value / 300, 1),
    )


def comtrade_monthly_api(
    *, traded: Sequence[str] = ("811292", "283329"), published_until: str = "999912"
) -> Api:
    """UN Comtrade's monthly endpoint (keyed or preview): every reporter, partner, period,
    code and flow asked gets a row when the code is in `traded` and the month is published;
    a reporter asked for all partners answers with two partners and World."""

    def answer(path: str, query: dict[str, str]) -> Answer:
        if query.get("freqCode") not in (None, "M") or not path.endswith("/C/M/HS"):
            return _json(400, {"statusCode": 400, "message": "bad request"})
        cap = int(query.get("maxRecords", "500"))
        reporter = int(query["reporterCode"])
        partners = (
            [int(p) for p in query["partnerCode"].split(",")]
            if query.get("partnerCode")
            else [156, 643, 0]
        )
        rows = []
        for period in query["period"].split(","):
            if period > published_until:
                continue
            for code in query["cmdCode"].split(","):
                if code not in traded:
                    continue
                for flow in query["flowCode"].split(","):
                    for partner in partners:
                        value = float((reporter + partner) * 10 + int(period[4:]) * 100 + len(flow))
                        rows.append(
                            comtrade_monthly_row(reporter, partner, period, code, flow, value)
                        )
        rows = rows[:cap]
        return _json(
            200, {"elapsedTime": "0.02 secs", "count": len(rows), "data": rows, "error": ""}
        )

    return answer


SDMX_CSV_HEADER = (
    "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,"
    "OBS_VALUE,OBS_FLAG"
)


def comext_fault_413(rows: int = 420_709_314) -> Answer:
    """Eurostat's answer to an extraction too big: HTTP 413 and a SOAP fault (the text of
    its API documentation's asynchronous-API page)."""
    body = (
        '<S:Fault xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><faultcode>413'
        "</faultcode><faultstring>EXTRACTION_TOO_BIG: The requested extraction is too big, "
        f"estimated {rows} rows, max authorised is 5000000, please change your filters to "
        "reduce the extraction size</faultstring></S:Fault>"
    )
    return 413, {"Content-Type": "application/xml"}, body.encode()


def comext_api(
    *,
    reporters: Sequence[str] = ("DE", "FR", "EU27_2020"),
    max_partners: int = 5,
    last_update: str = "15/11/26 11:00:00",
    published_until: str = "9999-12",
) -> Api:
    """Comext's SDMX 2.1 data endpoint for DS-045409 answering SDMX-CSV: the key's
    partners, products and flows, each month of startPeriod..endPeriod, both indicators
    (VALUE_IN_EUROS, QUANTITY_IN_100KG); an empty reporter position means every reporter
    (here `reporters`, with Eurostat's EU aggregate). More than `max_partners` partners in
    one call answers 413, as a too big extraction does."""

    def answer(path: str, query: dict[str, str]) -> Answer:
        if query.get("format") != "SDMX-CSV":
            return 406, {}, b"only SDMX-CSV is served here\n"
        key = path.removeprefix(COMEXT_DATA)
        freq, reporter, partner, product, flow, indicators = key.split(".")
        partners = partner.split("+")
        if len(partners) > max_partners:
            return comext_fault_413()
        chosen = reporter.split("+") if reporter else list(reporters)
        start, end = query["startPeriod"], query["endPeriod"]
        year = int(start[:4])
        lines = [SDMX_CSV_HEADER]
        for month in range(int(start[5:7]), int(end[5:7]) + 1):
            period = f"{year}-{month:02d}"
            if period > published_until:
                continue
            for rep in chosen:
                for par in partners:
                    for prod in product.split("+"):
                        if not prod.startswith(("811292", "283329")):
                            continue
                        for fl in flow.split("+"):
                            euros = (len(rep) * 1000 + month * 37 + int(fl) * 5) * (
                                3 if len(prod) == 6 else 1
                            )
                            for indicator in indicators.split("+"):
                                obs = euros if indicator == "VALUE_IN_EUROS" else euros / 400
                                lines.append(
                                    f"ESTAT:DS-045409(1.0),{last_update},{freq},{rep},{par},"
                                    f"{prod},{fl},{indicator},{period},{obs:g},"
                                )
        return 200, {"Content-Type": "text/csv; charset=utf-8"}, ("\n".join(lines) + "\n").encode()

    return answer


def ecb_api(*, rate: float = 1.08, published_until: str = "9999-12") -> Api:
    """The ECB data portal's CSV of series EXR.M.USD.EUR.SP00.A (format=csvdata)."""

    def answer(path: str, query: dict[str, str]) -> Answer:
        start, end = query["startPeriod"], query["endPeriod"]
        lines = [
            "KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,"
            "OBS_STATUS,OBS_CONF,COLLECTION,DECIMALS,SOURCE_AGENCY,TITLE,TITLE_COMPL,UNIT,"
            "UNIT_MULT"
        ]
        year, month = int(start[:4]), int(start[5:7])
        while f"{year}-{month:02d}" <= min(end, published_until):
            value = rate + month / 1000
            lines.append(
                f"EXR.M.USD.EUR.SP00.A,M,USD,EUR,SP00,A,{year}-{month:02d},{value:.4f},A,F,A,4,"
                '4F0,US dollar/Euro,"ECB reference exchange rate, US dollar/Euro, 2:15 pm '
                '(C.E.T.)",USD,0'
            )
            year, month = year + month // 12, month % 12 + 1
        return 200, {"Content-Type": "text/csv"}, ("\n".join(lines) + "\n").encode()

    return answer


CENSUS_COUNTRIES = [
    ("-", "TOTAL FOR ALL COUNTRIES"),
    ("0003", "EUROPEAN UNION"),
    ("4634", "KAZAKHSTAN"),
    ("5700", "CHINA"),
    ("4280", "GERMANY"),
]
CENSUS_CODES = {
    "HS6": ("811292", "811299", "283329", "250410", "281000"),
    "HS10": ("8112921000", "8112926000", "8112926500", "8112924000"),
}


def census_api(*, published_until: str = "9999-12", key: str | None = None) -> Api:
    """The Census Bureau's intltrade imports/exports HS endpoints: a JSON array of
    arrays, header first, every value a string, the predicates COMM_LVL and time returned
    as columns; HTTP 204 with no body for a month not published; with `key` set, a query
    without it or with another gets the web page the API answers an unknown key."""

    def answer(path: str, query: dict[str, str]) -> Answer:
        if key is not None and query.get("key") != key:
            page = b"<html><head><title>Invalid Key</title></head><body>Invalid Key</body></html>"
            return 200, {"Content-Type": "text/html"}, page
        month = query.get("time", "")
        if month > published_until:
            return 204, {}, b""
        get = query["get"].split(",")
        level = query["COMM_LVL"]
        field = "I_COMMODITY" if path.endswith("/imports/hs") else "E_COMMODITY"
        prefix = query.get(field, "*").rstrip("*")
        header = get + [c for c in ("COMM_LVL", "time") if c not in get]
        rows: list[list[str]] = [header]
        for code in CENSUS_CODES[level]:
            if not code.startswith(prefix):
                continue
            for cty_code, name in CENSUS_COUNTRIES:
                value = len(name) * 1000 + int(month[5:7]) * 10 + len(code)
                values = {
                    "CTY_CODE": cty_code,
                    "CTY_NAME": name,
                    field: code,
                    "GEN_VAL_MO": str(value),
                    "ALL_VAL_MO": str(value),
                    "GEN_QY1_MO": str(value // 50),
                    "QTY_1_MO": str(value // 50),
                    "UNIT_QY1": "KG",
                    "COMM_LVL": level,
                    "time": month,
                }
                rows.append([values.get(c, "") for c in header])
        if len(rows) == 1:
            return 204, {}, b""
        return 200, {"Content-Type": "application/json"}, json.dumps(rows).encode()

    return answer


def publish_monthly(state: FileServer, **published: str) -> None:
    """UN Comtrade monthly, Eurostat Comext (and its dataflow), the ECB and the Census
    Bureau on one server; `published` sets each one's last published month
    (comtrade="202511", comext=..., ecb=..., census="2025-11")."""
    api = comtrade_monthly_api(published_until=published.get("comtrade", "999912"))
    for path in COMTRADE_MONTHLY_PATHS:
        state.apis[path] = api
    state.apis[COMEXT_DATA] = comext_api(published_until=published.get("comext", "9999-12"))
    state.serve(COMEXT_DATAFLOW, "<?xml version='1.0'?><Structure/>", "application/xml")
    state.apis[ECB_EXR] = ecb_api(published_until=published.get("ecb", "9999-12"))
    census = census_api(published_until=published.get("census", "9999-12"))
    state.apis[CENSUS_IMPORTS] = census
    state.apis[CENSUS_EXPORTS] = census
