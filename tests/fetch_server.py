"""A local HTTP server for the fetch tests, and the files it serves, shaped exactly as the
sources publish them (CEPII BACI zips and listing page, a ScienceBase item with the USGS
MCS CSV in cp1252, the MRDS CSV zip). Everything is generated here: no row comes from the
real files.

The server runs `http.server.ThreadingHTTPServer` on 127.0.0.1 in a thread. It answers
byte ranges (`Range`, `If-Range` against its ETag), records every request, and plays
scripted faults per path: an HTTP status (with headers such as Retry-After), a
connection dropped after N bytes of the body, or a 200 that ignores the Range asked for.
It also acts as a forward proxy: a request line with an absolute URL is served from the
URL's path and recorded as such.
"""

from __future__ import annotations

import hashlib
import io
import socket
import sys
import threading
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

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


@dataclass(frozen=True)
class Drop:
    """Send the headers of the full answer, then `after` bytes of its body, then hang up."""

    after: int


@dataclass(frozen=True)
class IgnoreRange:
    """Answer 200 with the whole file even when a Range was asked for."""


Fault = Status | Drop | IgnoreRange


@dataclass
class Hit:
    method: str
    target: str  # the request line's target (an absolute URL when sent to a proxy)
    path: str  # path and query
    headers: dict[str, str]


@dataclass
class FileServer:
    resources: dict[str, Resource] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    hits: list[Hit] = field(default_factory=list)
    url: str = ""

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
        """Requests for files other than listings and catalogue entries."""
        return [h for h in self.hits if not h.path.endswith(("id=37", "format=json"))]

    def _find(self, path: str) -> str | None:
        if path in self.resources:
            return path
        bare = path.split("?", 1)[0]
        return bare if bare in self.resources else None


def _handler(state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            target = self.path
            parts = urlsplit(target)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            state.hits.append(Hit("GET", target, path, dict(self.headers)))
            key = state._find(path)
            fault = state.faults[key or path].pop(0) if state.faults[key or path] else None
            if isinstance(fault, Status):
                self._send(fault.code, b"scripted answer\n", dict(fault.headers))
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
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
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
) -> bytes:
    """A release zip as CEPII publishes it: yearly files, both dictionaries, a readme."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for year in years:
            archive.writestr(
                f"BACI_{edition}_Y{year}_{release}.csv", baci_year_csv(year, seed=seed)
            )
        archive.writestr(f"country_codes_{release}.csv", baci_countries_csv(release, layout))
        products = ["code,description"] + [f'{c},"{d}"' for c, d in BACI_PRODUCTS]
        archive.writestr(f"product_codes_{edition}_{release}.csv", "\n".join(products) + "\n")
        archive.writestr(
            "Readme.txt",
            f"Version: {release[1:]}\nRelease Date: 2026 01 15\n\nList of Variables:\n"
            "t: year\ni: exporter\nj: importer\nk: product\nv: value\nq: quantity\n",
        )
    return buffer.getvalue()


def cepii_listing(releases: dict[str, list[str]], current: str) -> str:
    """CEPII's BACI page: the current release in "Download", the others in "Archives";
    links are absolute cepii.fr addresses, as on the real page."""

    def links(release: str) -> str:
        return " ".join(
            f'<a href="https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_{e}_{release}.zip">{e}</a>'
            for e in releases[release]
        )

    archives = "".join(
        f"<p>{r[1:]} version: {links(r)}</p>" for r in sorted(releases) if r != current
    )
    return f"""<!DOCTYPE html>
<html><head><title>CEPII - BACI</title></head><body>
<div class="content_box">
  <div><div class="titre-rubrique">Download</div>
    <div class="moreOLD" id="telechargement">
      <p>This is the {current[1:]} version. Trade flows, HS revisions:</p>
      <p>{links(current)}</p>
      <p><a href="https://www.cepii.fr/DATA_DOWNLOAD/baci/doc/DescriptionBACI.html">doc</a></p>
    </div>
  </div>
  <div><div class="titre-rubrique">Archives</div>{archives}</div>
</div></body></html>"""


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
