"""`critmin fetch comext`: the EU members' monthly imports from and exports to the C5
(Kazakhstan, Kyrgyzstan, Tajikistan, Turkmenistan, Uzbekistan) for the mineral baskets'
HS6 codes and the EU's national CN8 lines (reference/national_lines.csv), from Eurostat's
Comext dissemination API, with the ECB's monthly USD/EUR reference rates for the
conversion; loaded like `critmin ingest comext FILES --eur-usd RATES`.

- **Comext**: dataset DS-045409 ("EU trade since 1988 by HS2-4-6 and CN8"), SDMX 2.1,
  `https://ec.europa.eu/eurostat/api/comext/dissemination/sdmx/2.1/data/DS-045409/
  M.<reporters>.<partners>.<products>.<flows>.<indicators>?format=SDMX-CSV&startPeriod=
  YYYY-MM&endPeriod=YYYY-MM`: reporters left empty (every member state, and Eurostat's
  EU aggregates, which the ingest skips), partners KZ+KG+TJ+TM+UZ, the products of the
  year's HS edition (HS6 codes, which Eurostat aggregates itself, and the CN8 lines valid
  that year), flows 1 (import) and 2 (export), indicators VALUE_IN_EUROS and
  QUANTITY_IN_100KG. One call per calendar year of the months asked.
- **Too large**: Eurostat refuses an extraction it estimates too big with HTTP 413
  (`EXTRACTION_TOO_BIG`, a SOAP fault); the call is then asked per partner, then with the
  products in halves, and a `.split` marker beside the cache says so for the next run.
- **Rates**: the ECB data portal's CSV of series EXR.M.USD.EUR.SP00.A,
  `https://data-api.ecb.europa.eu/service/data/EXR/M.USD.EUR.SP00.A?format=csvdata&
  startPeriod=...&endPeriod=...`. When the ECB cannot be reached the euros are loaded as
  they are (value_usd empty) and the run says so; `--eur-usd FILE` uses rates on disk.
- **Kept answers**: one file per call in `<data dir>/cache/comext` (the rates in
  `<data dir>/cache/ecb`), asked again as `critmin.fetch.answers` says (months of this
  year and the last, after `--refresh-days`); `--file` loads SDMX-CSV or bulk files on disk.
- Polite and named like every fetcher (`critmin.fetch.http`); `--base-url` or
  $CRITMIN_COMEXT_BASE_URL, and $CRITMIN_ECB_BASE_URL, point at mirrors.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

import requests

from critmin.domain import C5
from critmin.fetch import answers, download, http
from critmin.fetch.answers import Month
from critmin.fetch.http import FetchError, Policy
from critmin.ingest import comext as ingest_comext
from critmin.ingest.common import Summary
from critmin.ingest.monthly import files_in
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://ec.europa.eu"
BASE_URL_ENV = "CRITMIN_COMEXT_BASE_URL"
DATASET = "DS-045409"
API = "/eurostat/api/comext/dissemination/sdmx/2.1"
DATA_PATH = f"{API}/data/{DATASET}"
DATAFLOW_PATH = f"{API}/dataflow/ESTAT/{DATASET}"
ECB_DEFAULT_BASE_URL = "https://data-api.ecb.europa.eu"
ECB_BASE_URL_ENV = "CRITMIN_ECB_BASE_URL"
ECB_PATH = "/service/data/EXR/M.USD.EUR.SP00.A"
C5_ISO2 = {"KAZ": "KZ", "KGZ": "KG", "TJK": "TJ", "TKM": "TM", "UZB": "UZ"}
PARTNERS = tuple(C5_ISO2[c] for c in C5)
FLOWS = ("1", "2")
INDICATORS = ("VALUE_IN_EUROS", "QUANTITY_IN_100KG")
SDMX_HEADER = ("DATAFLOW", "freq", "reporter", "partner", "product", "TIME_PERIOD", "OBS_VALUE")
REFUSAL_HINT = (
    "Eurostat's API refused the request; a proxy or firewall may block ec.europa.eu, or the "
    "service may be down for maintenance (see https://ec.europa.eu/eurostat/web/main/help)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--months",
        default=None,
        help=f"2024-01:2026-12, 2025-03 or a comma list (default {answers.default_months()})",
    )
    parser.add_argument(
        "--minerals", default="all", help="'all' (default) or basket names such as gallium"
    )
    parser.add_argument(
        "--eur-usd",
        help="the ECB's monthly rates as CSV (EXR.M.USD.EUR.SP00.A) instead of asking the ECB",
    )
    parser.add_argument(
        "--refresh-days",
        type=float,
        default=answers.DEFAULT_REFRESH_DAYS,
        help="ask again for kept answers holding months of this year or the last once older "
        f"than this (default {answers.DEFAULT_REFRESH_DAYS:g})",
    )
    parser.add_argument(
        "--file",
        help="Comext SDMX-CSV answers or bulk .dat files (a file or a folder) already on "
        "disk: loaded without the network (with --eur-usd for the rates)",
    )
    parser.add_argument(
        "--fetch-only", action="store_true", help="download into the cache without loading"
    )
    download.add_download_arguments(parser, base_env=BASE_URL_ENV, default_base=DEFAULT_BASE_URL)


# --- the calls ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One extraction: months of one year, some partners, some products."""

    year: int
    first: int
    last: int
    partners: tuple[str, ...]
    products: tuple[str, ...]

    @property
    def months(self) -> list[Month]:
        return [Month(self.year, m) for m in range(self.first, self.last + 1)]

    @property
    def key(self) -> str:
        digest = hashlib.sha256(",".join(self.products).encode()).hexdigest()[:10]
        return (
            f"{DATASET.lower()}_{self.year}m{self.first:02d}-{self.last:02d}_"
            f"{'-'.join(self.partners)}_{len(self.products)}codes-{digest}"
        )

    def path(self) -> str:
        key = ".".join(
            ["M", "", "+".join(self.partners), "+".join(self.products), "+".join(FLOWS)]
            + ["+".join(INDICATORS)]
        )
        return f"{DATA_PATH}/{key}"

    def params(self) -> dict[str, str]:
        return {
            "format": "SDMX-CSV",
            "startPeriod": f"{self.year}-{self.first:02d}",
            "endPeriod": f"{self.year}-{self.last:02d}",
        }

    def split(self) -> list[Call]:
        """Smaller extractions: per partner, else the products in halves; [] when one
        partner and one product is still too big."""
        if len(self.partners) > 1:
            return [replace(self, partners=(p,)) for p in self.partners]
        if len(self.products) > 1:
            half = len(self.products) // 2
            return [
                replace(self, products=self.products[:half]),
                replace(self, products=self.products[half:]),
            ]
        return []


def plan(months: list[Month], minerals: list[str] | None) -> list[Call]:
    """One call per calendar year of the months asked, every C5 partner, the year's HS6
    basket codes and CN8 lines."""
    calls = []
    for year, chosen in answers.by_year(months).items():
        products = answers.basket_hs6(minerals, year) + answers.national_codes(
            "CN8", minerals, year
        )
        if products:
            calls.append(
                Call(year, chosen[0].month, chosen[-1].month, PARTNERS, tuple(sorted(products)))
            )
    return calls


def _fault(body: str) -> str:
    """The faultstring of Eurostat's SOAP fault, or the start of the body."""
    match = re.search(r"<faultstring>(.*?)</faultstring>", body, re.S)
    text = match[1] if match else body
    return " ".join(text.split())[:300]


def _is_sdmx_csv(head: str) -> bool:
    first = head.lstrip("\ufeff").split("\n", 1)[0]
    columns = [c.strip().strip('"') for c in first.split(",")]
    return all(c in columns for c in SDMX_HEADER)


def ask(session: requests.Session, base: str, call: Call, policy: Policy) -> bytes | None:
    """The SDMX-CSV answer of one call; None when Eurostat says it is too big (413)."""
    url = base + call.path()
    response = http.get(
        session,
        url,
        policy,
        params=call.params(),
        keep_note="; answers already kept stay in the cache",
        refusal_hint=REFUSAL_HINT,
    )
    with response:
        if response.status_code == 413:
            log.info("%s: too big for one extraction (%s)", call.key, _fault(response.text))
            return None
        if response.status_code == 404 and "no result" in response.text.lower():
            return (",".join(SDMX_HEADER) + "\n").encode()  # nothing declared: an empty answer
        if response.status_code in (400, 404):
            raise FetchError(
                f"{url}: Eurostat answered HTTP {response.status_code}: {_fault(response.text)}"
            )
        http.raise_for_answer(response, url, refusal_hint=REFUSAL_HINT)
        body = response.content
    head = body[:4096].decode("utf-8", "replace")
    http.reject_web_page(body[:4096], url, "an SDMX-CSV answer", None)
    if not _is_sdmx_csv(head):
        raise FetchError(
            f"{url}: the answer is not SDMX-CSV (an asynchronous delivery, or a changed "
            f"format?); it begins: {' '.join(head.split())[:160]!r}"
        )
    return body


@dataclass
class Fetched:
    files: list[Path]
    fetched: int = 0
    cached: int = 0
    rates: Path | None = None
    notes: list[str] | None = None


def fetch(
    calls: list[Call],
    cache: Path,
    *,
    base: str,
    policy: Policy,
    refresh_days: float,
    session: requests.Session | None = None,
) -> Fetched:
    """Every planned call's answer, from the cache or asked (split on a 413)."""
    folder = cache / "comext"
    with download.writing_to(folder):
        folder.mkdir(parents=True, exist_ok=True)
    session = session or http.make_session(policy)
    result = Fetched(files=[])
    queue = list(calls)
    while queue:
        call = queue.pop(0)
        target = folder / f"{call.key}.csv"
        marker = folder / f"{call.key}.split"
        if marker.is_file():
            queue[:0] = call.split()
            continue
        if answers.still_good(target, call.months, refresh_days):
            result.files.append(target)
            result.cached += 1
            continue
        body = ask(session, base, call, policy)
        if body is None:
            pieces = call.split()
            if not pieces:
                raise FetchError(
                    f"Eurostat refuses even the smallest extraction ({call.key}) as too big "
                    "(HTTP 413); ask fewer months with --months"
                )
            with download.writing_to(folder):
                answers.write_atomic(marker, "too big (HTTP 413): asked in pieces\n")
            queue[:0] = pieces
            continue
        with download.writing_to(folder):
            answers.write_atomic(target, body)
        result.files.append(target)
        result.fetched += 1
    return result


# --- the rates ------------------------------------------------------------------------


def fetch_rates(
    months: list[Month],
    cache: Path,
    *,
    base: str,
    policy: Policy,
    refresh_days: float,
    session: requests.Session | None = None,
) -> Path:
    """The ECB's monthly USD per EUR rates for the months asked, as its CSV, kept in
    <cache>/ecb."""
    folder = cache / "ecb"
    with download.writing_to(folder):
        folder.mkdir(parents=True, exist_ok=True)
    first, last = months[0], months[-1]
    target = folder / f"exr_m_usd_eur_{first.yyyymm}-{last.yyyymm}.csv"
    if answers.still_good(target, months, refresh_days):
        return target
    session = session or http.make_session(policy)
    url = base + ECB_PATH
    params = {"format": "csvdata", "startPeriod": first.iso, "endPeriod": last.iso}
    response = http.get(session, url, policy, params=params)
    with response:
        http.raise_for_answer(response, url)
        body = response.content
    http.reject_web_page(body[:4096], url, "the ECB's CSV", None)
    if not body.lstrip(b"\xef\xbb\xbf").startswith(b"KEY,"):
        raise FetchError(f"{url}: the answer is not the ECB data portal's CSV (no KEY column)")
    with download.writing_to(folder):
        answers.write_atomic(target, body)
    return target


# --- the command ----------------------------------------------------------------------


def bases(args: argparse.Namespace | None = None) -> tuple[str, str]:
    comext = download.base_url(getattr(args, "base_url", None), BASE_URL_ENV, DEFAULT_BASE_URL)
    ecb = download.base_url(None, ECB_BASE_URL_ENV, ECB_DEFAULT_BASE_URL)
    return comext, ecb


def download_all(
    months: list[Month],
    minerals: list[str] | None,
    cache: Path,
    *,
    policy: Policy,
    refresh_days: float,
    rates_file: Path | None = None,
    base: str | None = None,
    session: requests.Session | None = None,
) -> Fetched:
    """Comext's answers and the ECB's rates (optional: a failure is a note, the euros load
    as they are)."""
    comext_base, ecb_base = bases()
    calls = plan(months, minerals)
    print(
        f"Eurostat Comext: {len(calls)} extraction(s) of {DATASET}, {months[0].iso} to "
        f"{months[-1].iso}, EU members with {'+'.join(PARTNERS)}; cache {cache / 'comext'}"
    )
    result = fetch(
        calls,
        cache,
        base=base or comext_base,
        policy=policy,
        refresh_days=refresh_days,
        session=session,
    )
    result.notes = []
    if rates_file is not None:
        result.rates = rates_file
    else:
        try:
            result.rates = fetch_rates(
                months,
                cache,
                base=ecb_base,
                policy=policy,
                refresh_days=refresh_days,
                session=session,
            )
        except FetchError as error:
            result.notes.append(
                f"the ECB's USD/EUR rates could not be fetched ({error}); the EU values are "
                "loaded in euros only: re-run later, or give --eur-usd with the rates"
            )
            print(f"Eurostat Comext: {result.notes[-1]}")
    print(f"Eurostat Comext: {result.fetched} fetched, {result.cached} already kept")
    return result


def load(result: Fetched, warehouse: Warehouse) -> Summary:
    rates = ingest_comext.read_rates(result.rates) if result.rates else None
    summary = ingest_comext.load_comext(
        result.files, warehouse, rates=rates, rates_file=result.rates
    )
    summary.notes += result.notes or []
    return summary


def check(session: requests.Session, *, cache: Path, policy: Policy) -> list[download.SourceCheck]:
    """Do Eurostat's Comext API and the ECB's answer (metadata only, no data)?"""
    comext_base, ecb_base = bases()
    rows = []
    for name, url, release, folder in (
        (
            "Eurostat Comext (monthly)",
            comext_base + DATAFLOW_PATH,
            f"{DATASET}, SDMX 2.1",
            "comext",
        ),
        ("ECB USD/EUR rates", ecb_base + ECB_PATH, "EXR.M.USD.EUR.SP00.A", "ecb"),
    ):
        answer = http.probe(session, url, policy)
        kept = len(list((cache / folder).glob("*.csv")))
        cached = f"{kept} answer(s)" if kept else "no"
        rows.append(
            download.SourceCheck(name, url, release, None, cached, answer.answered, answer.detail)
        )
    return rows


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    policy = download.policy_from(args)
    cache = download.cache_root(args, warehouse.root)
    rates_file = Path(args.eur_usd).expanduser() if args.eur_usd else None
    if args.file:
        files = files_in(
            Path(args.file).expanduser(), (".dat", ".csv"), "Eurostat Comext .dat or SDMX-CSV"
        )
        print(
            f"Eurostat Comext: using {len(files)} file(s) from {args.file} (--file); no call made"
        )
        result = Fetched(files=files, rates=rates_file, notes=[])
    else:
        months = answers.parse_months(args.months or answers.default_months())
        result = download_all(
            months,
            answers.chosen_minerals(args.minerals),
            cache,
            policy=policy,
            refresh_days=args.refresh_days,
            rates_file=rates_file,
            base=download.base_url(args.base_url, BASE_URL_ENV, DEFAULT_BASE_URL),
        )
    if args.fetch_only:
        return 0
    with download.loading_into(warehouse, cache):
        load(result, warehouse).print()
    return 0
