"""`critmin fetch comtrade`: download UN Comtrade HS data from the public API, cache
every response on disk, then load the cache like `critmin ingest comtrade` (annual) or,
with `--monthly`, like `critmin ingest comtrade-monthly`.

- With $COMTRADE_API_KEY: https://comtradeapi.un.org/data/v1/get/C/A/HS (header
  Ocp-Apim-Subscription-Key), up to 100,000 rows a call: one call per reporter and
  year with every code and flow.
- Without a key: the preview endpoint .../public/v1/preview/C/A/HS returns at most
  500 rows a call, so calls are split per year and code; a response that comes back
  with exactly 500 rows is split again per flow, and still-capped answers are
  warned about (rows may be missing).
- Polite: calls are paced (`--pace`, default 6 s between calls, i.e. 10 a minute as
  rOpenSci's comtradr keeps, keyed or not) by the session every fetcher shares
  (`critmin.fetch.http`), whose User-Agent names critmin and its version. 429 and 5xx
  answers and dropped connections are retried with exponential back-off; Retry-After is
  honoured on 429 and on 403 (the API gateway answers a used-up quota with 403 and the
  seconds until it renews), and a wait longer than `--max-wait` stops the run with the
  time to re-run. A 403 names what it can mean (a used-up quota, a key that is wrong or
  not subscribed, a proxy that blocks the API).
- A calls-per-day budget is counted in the cache folder (`budget.json`), one per request
  whatever its retries cost, and stops the run before it is exceeded.
- Resumable: each successful response is written atomically as one JSON file per
  request key (`<reporter>_<year>_<flows>_<codes>_<endpoint>.json`) and never
  fetched again; a re-run after an interruption continues where it stopped.
- Cache first: a response already cached is never asked again; `--file` loads
  responses or Comtrade+ downloads already on disk without any call.
- `--base-url` (or $COMTRADE_BASE_URL) points at another server, for tests.

Monthly (`--monthly --months 2024-01:2026-12`): the focus country's (`--reporter`, KAZ by
default) trade as its partners declare it, month by month — China, Russia, the United
States, the EU members, Japan, Korea, Türkiye and India by default (`--partners`: other
ISO3 codes, or `default,GBR` to add some) with `partnerCode` the focus country, their
imports (M) and exports (X) — and as the focus country declares it to every partner, where
it reports monthly. `/data/v1/get/C/M/HS` with a key, `/public/v1/preview/C/M/HS`
without; `period` lists the months of one calendar year (at most 12 periods a call, as
rOpenSci's comtradr keeps), one call per reporter and year with every code asked; a
keyless answer that reaches the 500-row cap is asked again per code, then per flow.
Answers holding months of this year or the last (still revised) are asked again after
`--refresh-days` days (`critmin.fetch.answers`).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import requests
from tqdm import tqdm

from critmin import reference
from critmin.domain import COMTRADE_EXPORT_FLOWS, COMTRADE_IMPORT_FLOWS, FOCUS_COUNTRY
from critmin.fetch import answers, download, http
from critmin.fetch.answers import BUDGET_FILE, Budget, Month
from critmin.fetch.answers import write_atomic as _write_atomic
from critmin.fetch.http import FetchError, Policy
from critmin.ingest import comtrade, comtrade_monthly
from critmin.ingest.common import NUMERIC_ALIASES, IngestError, Summary, iso3_by_numeric
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://comtradeapi.un.org"
KEYED_PATH = "/data/v1/get/C/A/HS"
PREVIEW_PATH = "/public/v1/preview/C/A/HS"
MONTHLY_KEYED_PATH = "/data/v1/get/C/M/HS"
MONTHLY_PREVIEW_PATH = "/public/v1/preview/C/M/HS"
MAX_PERIODS = 12  # periods one call may list (rOpenSci comtradr's check_date)
# The partners whose monthly declarations of trade with the focus country are fetched
# by default (the EU members are added from the countries table).
DEFAULT_MONTHLY_PARTNERS = ("CHN", "RUS", "USA", "JPN", "KOR", "TUR", "IND")
PREVIEW_CAP = 500
KEYED_CAP = 100_000
DEFAULT_DAILY_CALLS = 500
DEFAULT_PACE = 6.0  # seconds between calls: 10 a minute, as rOpenSci's comtradr
REFUSAL_HINT = (
    "for UN Comtrade a 403 means the daily call quota is used up (of the key, or of this "
    "address without one: the answer's Retry-After says when it renews), or that "
    "$COMTRADE_API_KEY is wrong or not subscribed to the Comtrade API, or that a proxy or "
    "firewall blocks comtradeapi.un.org"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reporter",
        help="reporting country, ISO3 (KAZ) or Comtrade code (398); several separated by "
        f"commas (needed unless --file); with --monthly the focus country ({FOCUS_COUNTRY})",
    )
    parser.add_argument("--years", help="2012-2024, or 2019,2021 (needed unless --file)")
    parser.add_argument(
        "--partners",
        default=None,
        help="'all' (default) or ISO3/Comtrade codes separated by commas; with --monthly the "
        "partners whose declarations are fetched: 'default' (China, Russia, the USA, the EU "
        "members, Japan, Korea, Turkiye, India), codes, or default,GBR to add some",
    )
    parser.add_argument(
        "--monthly",
        action="store_true",
        help="monthly declarations (C/M/HS) of the focus country's trade, by its partners and "
        "by itself, loaded like `critmin ingest comtrade-monthly`",
    )
    parser.add_argument(
        "--months",
        default=None,
        help=f"with --monthly: 2024-01:2026-12, or 2025-03, or a comma list (default "
        f"{answers.default_months()}: this year and the two before)",
    )
    parser.add_argument(
        "--refresh-days",
        type=float,
        default=answers.DEFAULT_REFRESH_DAYS,
        help="with --monthly: ask again for kept answers holding months of this year or the "
        f"last (still revised) once older than this (default {answers.DEFAULT_REFRESH_DAYS:g})",
    )
    parser.add_argument(
        "--minerals", default="all", help="'all' (default) or basket names such as gallium,graphite"
    )
    parser.add_argument(
        "--flows",
        default="X,M",
        help="flow codes, default X,M (add RX,RM for re-exports and re-imports)",
    )
    parser.add_argument(
        "--cache-dir", help="where responses are kept (default: <data dir>/cache/comtrade)"
    )
    parser.add_argument(
        "--base-url",
        default=None,
        help="API server (default: $COMTRADE_BASE_URL or https://comtradeapi.un.org)",
    )
    parser.add_argument(
        "--max-calls-per-day",
        type=int,
        default=DEFAULT_DAILY_CALLS,
        help=f"daily call budget kept in the cache folder (default "
        f"{DEFAULT_DAILY_CALLS}, the free key's limit)",
    )
    parser.add_argument(
        "--retries", type=int, default=http.DEFAULT_RETRIES, help="retries on 429/5xx/network"
    )
    parser.add_argument(
        "--backoff",
        type=float,
        default=http.DEFAULT_BACKOFF,
        help="back-off factor in seconds (doubles each retry; Retry-After is honoured)",
    )
    parser.add_argument(
        "--timeout", type=float, default=http.DEFAULT_TIMEOUT, help="seconds per call"
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=DEFAULT_PACE,
        help=f"seconds between two calls (default {DEFAULT_PACE:g}: 10 calls a minute)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=http.DEFAULT_MAX_WAIT,
        help="the longest Retry-After to wait for; a longer one stops with when to re-run",
    )
    parser.add_argument(
        "--file",
        help="API responses (JSON) or Comtrade+ downloads (CSV), a file or a folder, already "
        "on disk: loaded without calling the API",
    )
    parser.add_argument(
        "--all-products",
        action="store_true",
        help="load every code the responses hold (they hold only the "
        "requested basket codes anyway)",
    )
    parser.add_argument(
        "--fetch-only",
        action="store_true",
        help="download into the cache without loading the warehouse",
    )


# --- the requests ---------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One API call: what it asks and where its response is cached."""

    reporter: int
    year: int
    codes: tuple[str, ...]
    flows: tuple[str, ...]
    partners: tuple[int, ...] | None
    keyed: bool
    months: tuple[int, ...] = ()  # monthly (C/M/HS): the months of `year` asked

    @property
    def monthly(self) -> bool:
        return bool(self.months)

    @property
    def period(self) -> str:
        if not self.months:
            return str(self.year)
        return ",".join(f"{self.year}{m:02d}" for m in self.months)

    @property
    def asked_months(self) -> list[Month]:
        return [Month(self.year, m) for m in self.months]

    def path(self) -> str:
        if self.monthly:
            return MONTHLY_KEYED_PATH if self.keyed else MONTHLY_PREVIEW_PATH
        return KEYED_PATH if self.keyed else PREVIEW_PATH

    def params(self, cap: int) -> dict[str, str]:
        params = {
            "reporterCode": str(self.reporter),
            "period": self.period,
            "cmdCode": ",".join(self.codes),
            "flowCode": ",".join(self.flows),
            "partner2Code": "0",
            "customsCode": "C00",
            "motCode": "0",
            "maxRecords": str(cap),
            "format": "JSON",
            "breakdownMode": "classic",
            "includeDesc": "true",
        }
        if self.partners:
            params["partnerCode"] = ",".join(str(p) for p in self.partners)
        return params

    @property
    def key(self) -> str:
        codes = (
            self.codes[0]
            if len(self.codes) == 1
            else (
                f"{len(self.codes)}codes-"
                + hashlib.sha256(",".join(self.codes).encode()).hexdigest()[:10]
            )
        )
        partners = (
            "all"
            if not self.partners
            else hashlib.sha256(",".join(map(str, self.partners)).encode()).hexdigest()[:8]
        )
        period = str(self.year)
        if self.months:
            first, last = self.months[0], self.months[-1]
            contiguous = list(self.months) == list(range(first, last + 1))
            period += (
                f"m{first:02d}-{last:02d}"
                if contiguous
                else "m" + hashlib.sha256(self.period.encode()).hexdigest()[:8]
            )
        endpoint = ("data" if self.keyed else "preview") + ("-M" if self.months else "")
        return f"{self.reporter}_{period}_{'-'.join(self.flows)}_{codes}_p{partners}_{endpoint}"

    def split(self) -> list[Request]:
        """The same request asked in smaller pieces (per code, else per flow), or [] when
        it cannot be split further."""
        if len(self.codes) > 1:
            return [dataclasses.replace(self, codes=(code,)) for code in self.codes]
        if len(self.flows) > 1:
            return [dataclasses.replace(self, flows=(flow,)) for flow in self.flows]
        return []


def parse_years(text: str) -> list[int]:
    years: set[int] = set()
    for piece in text.split(","):
        piece = piece.strip()
        match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", piece)
        if not match:
            raise IngestError(f"--years: {piece!r} is not a year or a range like 2012-2024")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first:
            raise IngestError(f"--years: {piece} runs backwards")
        years.update(range(first, last + 1))
    return sorted(years)


def country_codes(text: str, option: str) -> list[int]:
    """ISO3 or numeric codes -> Comtrade numeric codes (BACI/Comtrade aliases preferred)."""
    by_iso3: dict[str, int] = {}
    for code, iso3 in iso3_by_numeric().items():
        by_iso3.setdefault(iso3, code)
    for code, iso3 in NUMERIC_ALIASES.items():
        if code in (251, 579, 699, 757, 842, 490):  # the codes Comtrade reports under
            by_iso3[iso3] = code
    codes = []
    for piece in (p.strip().upper() for p in text.split(",") if p.strip()):
        if piece.isdigit():
            codes.append(int(piece))
        elif piece in by_iso3:
            codes.append(by_iso3[piece])
        else:
            raise IngestError(f"{option}: {piece!r} is not an ISO3 code or a Comtrade code")
    return codes


def basket_codes(minerals: str) -> list[str]:
    baskets = reference.load_mineral_baskets()
    if minerals.strip().lower() != "all":
        wanted = [m.strip() for m in minerals.split(",") if m.strip()]
        unknown = sorted(set(wanted) - set(baskets["mineral"].to_list()))
        if unknown:
            raise IngestError(
                f"--minerals: unknown basket(s) {', '.join(unknown)}; choose from "
                f"{', '.join(sorted(set(baskets['mineral'].to_list())))}"
            )
        baskets = baskets.filter(pl.col("mineral").is_in(wanted))
    return sorted(set(baskets["hs6"].to_list()))


def plan_requests(
    reporters: list[int],
    years: list[int],
    codes: list[str],
    flows: list[str],
    partners: list[int] | None,
    keyed: bool,
) -> list[Request]:
    """Keyed: one call per reporter and year; preview: one per reporter, year and code."""
    part = tuple(partners) if partners else None
    if keyed:
        return [
            Request(r, y, tuple(codes), tuple(flows), part, True) for r in reporters for y in years
        ]
    return [
        Request(r, y, (c,), tuple(flows), part, False)
        for r in reporters
        for y in years
        for c in codes
    ]


# --- the calls ------------------------------------------------------------------------


def policy(retries: int, backoff: float, timeout: float, pace: float, max_wait: float) -> Policy:
    return Policy(retries=retries, backoff=backoff, timeout=timeout, pace=pace, max_wait=max_wait)


def make_session(policy: Policy, api_key: str | None) -> requests.Session:
    """The shared polite session (paced, named, retrying with Retry-After on 429 and 403),
    with the API key header when there is one."""
    return http.make_session(
        policy, headers={"Ocp-Apim-Subscription-Key": api_key} if api_key else None
    )


def call(
    session: requests.Session, url: str, params: dict[str, str], policy: Policy
) -> dict[str, Any]:
    """GET one response; FetchError in one line on failure (cached responses are kept)."""
    keep = "; cached responses are kept"
    response = http.get(
        session, url, policy, params=params, keep_note=keep, refusal_hint=REFUSAL_HINT
    )
    with response:
        http.raise_for_answer(response, url, keep_note=keep, refusal_hint=REFUSAL_HINT)
        try:
            payload = response.json()
        except ValueError as error:
            kind = "a web page" if http.looks_like_html(response.content[:2048]) else "not JSON"
            raise FetchError(f"{url}: the answer is {kind}{keep}") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise FetchError(f"{url}: the answer has no data list")
    if payload.get("error"):
        raise FetchError(f"{url}: the API answered with an error: {payload['error']}")
    return payload


@dataclass
class FetchResult:
    files: list[Path]
    fetched: int
    cached: int
    capped: list[str]


def fetch(
    requests_planned: list[Request],
    cache_dir: Path,
    *,
    base_url: str,
    api_key: str | None,
    budget: Budget,
    policy: Policy,
    refresh_days: float | None = None,
) -> FetchResult:
    """Fetch every planned request not yet in the cache; return the cached files. A kept
    monthly answer is asked again when `refresh_days` says it may have changed
    (`answers.still_good`); an annual one never is."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    session = make_session(policy, api_key)
    cap = KEYED_CAP if api_key else PREVIEW_CAP
    result = FetchResult(files=[], fetched=0, cached=0, capped=[])
    queue = list(requests_planned)
    bar = tqdm(
        total=len(queue), desc="Comtrade", unit="call", file=sys.stderr, disable=None, leave=False
    )
    try:
        while queue:
            request = queue.pop(0)
            target = cache_dir / f"{request.key}.json"
            split_marker = cache_dir / f"{request.key}.split"
            if split_marker.is_file():  # an earlier run found this call capped: ask in pieces
                pieces = request.split()
                queue[:0] = pieces
                bar.total += len(pieces) - 1
                continue
            if _usable(target, request, refresh_days):
                result.files.append(target)
                result.cached += 1
                bar.update(1)
                continue
            if budget.left <= 0:
                raise FetchError(
                    f"the daily budget of {budget.limit} calls is used up ({budget.path}); "
                    f"{len(queue) + 1} request(s) left — re-run tomorrow to continue"
                )
            url = base_url.rstrip("/") + request.path()
            payload = call(session, url, request.params(cap), policy)
            budget.spend(1)  # one call, whatever its retries cost
            rows = len(payload["data"])
            pieces = request.split() if rows >= cap and not api_key else []
            if pieces:
                # At the preview cap: ask again in pieces instead of keeping a partial answer.
                log.info(
                    "%s hit the %d-row cap; asking in %d pieces", request.key, cap, len(pieces)
                )
                _write_atomic(split_marker, "capped: fetched in pieces\n")
                queue[:0] = pieces
                bar.total += len(pieces) - 1
                continue
            if rows >= cap:
                log.warning(
                    "%s returned exactly %d rows, the API's cap: rows may be missing",
                    request.key,
                    cap,
                )
                result.capped.append(request.key)
            _write_atomic(target, json.dumps(payload))
            result.files.append(target)
            result.fetched += 1
            bar.update(1)
    finally:
        bar.close()
    return result


def _usable(target: Path, request: Request, refresh_days: float | None) -> bool:
    if not request.monthly or refresh_days is None:
        return target.is_file()
    return answers.still_good(target, request.asked_months, refresh_days)


# --- the command ----------------------------------------------------------------------


def download_responses(args: argparse.Namespace, cache_dir: Path) -> FetchResult:
    """Plan the calls the options ask for and fetch those not yet in the cache."""
    if not args.reporter or not args.years:
        raise IngestError("--reporter and --years say what to fetch (or give --file)")
    api_key = _api_key()
    partners_text = (args.partners or "all").strip()
    partners = (
        None if partners_text.lower() == "all" else country_codes(partners_text, "--partners")
    )
    planned = plan_requests(
        country_codes(args.reporter, "--reporter"),
        parse_years(args.years),
        basket_codes(args.minerals),
        _flows(args.flows),
        partners,
        keyed=bool(api_key),
    )
    budget = Budget(cache_dir / BUDGET_FILE, args.max_calls_per_day)
    return _run_plan(planned, cache_dir, args, budget, api_key, refresh_days=None)


def _api_key() -> str | None:
    return os.environ.get("COMTRADE_API_KEY", "").strip() or None


def _flows(text: str) -> list[str]:
    flows = [f.strip().upper() for f in text.split(",") if f.strip()]
    allowed = (*COMTRADE_EXPORT_FLOWS, *COMTRADE_IMPORT_FLOWS)
    if not flows or any(f not in allowed for f in flows):
        raise IngestError(f"--flows: {text!r}; use codes among {', '.join(allowed)}")
    return flows


def _run_plan(
    planned: list[Request],
    cache_dir: Path,
    args: argparse.Namespace,
    budget: Budget,
    api_key: str | None,
    refresh_days: float | None,
) -> FetchResult:
    base_url = args.base_url or os.environ.get("COMTRADE_BASE_URL", "").strip() or DEFAULT_BASE_URL
    mode = "keyed API" if api_key else f"keyless preview API (at most {PREVIEW_CAP} rows a call)"
    print(
        f"Comtrade: {len(planned)} request(s) via the {mode}; cache {cache_dir}; "
        f"{budget.left} call(s) left today"
    )
    paced = policy(
        args.retries,
        args.backoff,
        args.timeout,
        getattr(args, "pace", DEFAULT_PACE),
        getattr(args, "max_wait", http.DEFAULT_MAX_WAIT),
    )
    minutes = len(planned) * paced.pace / 60
    if minutes >= 1:
        print(
            f"Comtrade: at most {len(planned)} call(s), one every {paced.pace:g} s: up to {minutes:.0f} min"
        )
    result = fetch(
        planned,
        cache_dir,
        base_url=base_url,
        api_key=api_key,
        budget=budget,
        policy=paced,
        refresh_days=refresh_days,
    )
    print(f"Comtrade: {result.fetched} fetched, {result.cached} already cached")
    return result


# --- monthly ----------------------------------------------------------------------------


def monthly_partners(text: str | None, focus: int) -> list[int]:
    """The partners whose declarations are fetched: 'default' (China, Russia, the USA,
    the EU members, Japan, Korea, Turkiye, India), codes, or 'default,GBR'."""
    pieces = [p.strip() for p in (text or "default").split(",") if p.strip()]
    chosen: list[int] = []
    if any(p.lower() in ("default", "all") for p in pieces):
        eu = reference.countries().filter(pl.col("groups").list.contains("EU27"))["iso3"]
        chosen += country_codes(",".join([*DEFAULT_MONTHLY_PARTNERS, *eu.to_list()]), "--partners")
    others = [p for p in pieces if p.lower() not in ("default", "all")]
    if others:
        chosen += country_codes(",".join(others), "--partners")
    return [c for c in dict.fromkeys(chosen) if c != focus]


def plan_monthly(
    focus: int,
    partners: list[int],
    months: list[Month],
    minerals: list[str] | None,
    flows: list[str],
    keyed: bool,
) -> list[Request]:
    """Per calendar year of the months asked (at most 12 periods a call): one call per
    partner declaring its trade with the focus country (partnerCode the focus), and one for
    the focus country's own declarations with every partner; the codes are the baskets'
    in the HS edition of that year."""
    planned = []
    for year, chosen in answers.by_year(months).items():
        codes = answers.basket_hs6(minerals, year)
        for start in range(0, len(chosen), MAX_PERIODS):
            asked = tuple(m.month for m in chosen[start : start + MAX_PERIODS])
            for reporter in partners:
                planned.append(
                    Request(reporter, year, tuple(codes), tuple(flows), (focus,), keyed, asked)
                )
            planned.append(Request(focus, year, tuple(codes), tuple(flows), None, keyed, asked))
    return planned


def download_monthly(
    args: argparse.Namespace, cache_dir: Path, budget_path: Path | None = None
) -> FetchResult:
    """Plan the monthly calls the options ask for and fetch those not yet in the cache
    (or kept but possibly revised since, `--refresh-days`)."""
    api_key = _api_key()
    focus_codes = country_codes(args.reporter or FOCUS_COUNTRY, "--reporter")
    if len(focus_codes) != 1:
        raise IngestError("--reporter: with --monthly give one focus country (e.g. KAZ)")
    focus = focus_codes[0]
    months = answers.parse_months(args.months or answers.default_months())
    planned = plan_monthly(
        focus,
        monthly_partners(args.partners, focus),
        months,
        answers.chosen_minerals(args.minerals),
        _flows(args.flows),
        keyed=bool(api_key),
    )
    budget = Budget(budget_path or cache_dir / BUDGET_FILE, args.max_calls_per_day)
    print(f"Comtrade monthly: {months[0].iso} to {months[-1].iso}")
    return _run_plan(
        planned,
        cache_dir,
        args,
        budget,
        api_key,
        refresh_days=getattr(args, "refresh_days", answers.DEFAULT_REFRESH_DAYS),
    )


def load_monthly_responses(
    result: FetchResult, warehouse: Warehouse, *, all_products: bool = False
) -> Summary:
    """Load the kept monthly answers into the `comtrade` part of monthly_flows, like
    `critmin ingest comtrade-monthly` (each answer's date is its vintage)."""
    if not result.files:
        raise FetchError("Comtrade monthly: no answer to load (nothing was asked or kept)")
    summary = comtrade_monthly.load_comtrade_monthly(
        result.files, warehouse, all_products=all_products, strict=False
    )
    for key in result.capped:
        summary.notes.append(
            f"{key}: the response hit the {PREVIEW_CAP}-row cap; rows may be "
            "missing (use an API key)"
        )
    return summary


def load_responses(
    result: FetchResult, warehouse: Warehouse, *, all_products: bool = False
) -> Summary:
    """Load the cached responses into the `comtrade` part, like `critmin ingest comtrade`."""
    summary = comtrade.load_comtrade(
        result.files,
        warehouse,
        all_products=all_products,
        strict=False,
        source_label="UN Comtrade (fetched)",
    )
    for key in result.capped:
        summary.notes.append(
            f"{key}: the response hit the {PREVIEW_CAP}-row cap; rows may be "
            "missing (use an API key)"
        )
    return summary


def from_files(path: Path) -> FetchResult:
    """--file: responses or Comtrade+ downloads already on disk, loaded as they are."""
    if not path.exists():
        raise FetchError(f"--file {path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".json", ".csv"))
    files = [p for p in files if p.name != BUDGET_FILE] if path.is_dir() else [path]
    print(f"Comtrade: using {len(files)} file(s) from {path} (--file); no call made")
    return FetchResult(files=files, fetched=0, cached=len(files), capped=[])


def check(
    session: requests.Session,
    *,
    base_url: str,
    cache_dir: Path,
    policy: Policy,
    monthly: bool = False,
) -> download.SourceCheck:
    """Does the API answer (HEAD on the endpoint the run would call; no data is asked)?"""
    keyed = bool(os.environ.get("COMTRADE_API_KEY", "").strip())
    if monthly:
        path = MONTHLY_KEYED_PATH if keyed else MONTHLY_PREVIEW_PATH
    else:
        path = KEYED_PATH if keyed else PREVIEW_PATH
    url = base_url.rstrip("/") + path
    answer = http.probe(session, url, policy)
    cached = len([p for p in cache_dir.glob("*.json") if p.name != BUDGET_FILE])
    return download.SourceCheck(
        "UN Comtrade, monthly" if monthly else "UN Comtrade",
        url,
        ("keyed API" if keyed else "keyless preview") + (", C/M/HS" if monthly else ""),
        None,
        f"{cached} response(s)" if cached else "no",
        answer.answered,
        answer.detail,
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    if getattr(args, "monthly", False):
        return run_monthly(args, warehouse)
    cache_dir = Path(args.cache_dir) if args.cache_dir else warehouse.root / "cache" / "comtrade"
    if args.file:
        result = from_files(Path(args.file).expanduser())
    else:
        result = download_responses(args, cache_dir)
    if args.fetch_only:
        return 0
    load_responses(result, warehouse, all_products=args.all_products).print()
    return 0


def run_monthly(args: argparse.Namespace, warehouse: Warehouse) -> int:
    """`--monthly`: answers kept in <data dir>/cache/comtrade_monthly (the daily budget is
    the one of the annual calls, <data dir>/cache/comtrade/budget.json), or --cache-dir."""
    if args.years:
        raise IngestError("--years is for annual data; with --monthly use --months 2024-01:2026-12")
    if args.cache_dir:
        cache_dir, budget_path = Path(args.cache_dir), None
    else:
        cache_root = warehouse.root / "cache"
        cache_dir, budget_path = (
            cache_root / "comtrade_monthly",
            cache_root / "comtrade" / BUDGET_FILE,
        )
    if args.file:
        result = from_files(Path(args.file).expanduser())
    else:
        result = download_monthly(args, cache_dir, budget_path)
    if args.fetch_only:
        return 0
    load_monthly_responses(result, warehouse, all_products=args.all_products).print()
    return 0
