"""`critmin fetch census`: US imports (and, with `--exports`, exports) by country and
month of the mineral baskets' HS6 codes and of the US national HTS10 lines
(reference/national_lines.csv), from the US Census Bureau's international trade API;
loaded like `critmin ingest census`.

- **Where**: `https://api.census.gov/data/timeseries/intltrade/imports/hs?get=CTY_CODE,
  CTY_NAME,I_COMMODITY,GEN_VAL_MO,GEN_QY1_MO,UNIT_QY1&COMM_LVL=HS6&I_COMMODITY=81*&
  time=2025-06` (exports: `/exports/hs`, `E_COMMODITY`, `ALL_VAL_MO`, `QTY_1_MO`). The API
  answers one month at a time here; a call asks for one chapter of the baskets' codes
  (`I_COMMODITY=81*` at level HS6: the ingest keeps the basket codes) or, at level HS10,
  for the ten-digit lines under a national line's HS6 code (`I_COMMODITY=811292*`).
- **No data**: the API answers HTTP 204 with an empty body for a month it has not
  published (or a code nobody traded); that is saved as an empty file, skipped by the
  ingest with a note, and asked again on a later run while the month is recent.
- **Key**: $CENSUS_API_KEY is added as `key=` when set. Without one the API allows 500
  calls a day from an address: the calls are counted (`<cache>/census/budget.json`,
  `--max-calls-per-day`, 500 without a key) and the run stops before the limit, to
  continue the next day. A web page where JSON was expected (what the API answers a key
  it does not know) stops the run with what it can mean.
- **Kept answers**: one file per call in `<data dir>/cache/census`, asked again as
  `critmin.fetch.answers` says; `--file` loads answers on disk. `--base-url` or
  $CRITMIN_CENSUS_BASE_URL point at a mirror.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import requests

from critmin.fetch import answers, download, http
from critmin.fetch.answers import BUDGET_FILE, Budget, Month
from critmin.fetch.http import FetchError, Policy
from critmin.ingest import census as ingest_census
from critmin.ingest.common import Summary
from critmin.ingest.monthly import files_in
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.census.gov"
BASE_URL_ENV = "CRITMIN_CENSUS_BASE_URL"
KEY_ENV = "CENSUS_API_KEY"
IMPORTS_PATH = "/data/timeseries/intltrade/imports/hs"
EXPORTS_PATH = "/data/timeseries/intltrade/exports/hs"
KEYLESS_DAILY_CALLS = 500  # the Census Bureau's limit for an address without a key
KEYED_DAILY_CALLS = 50_000
VARIABLES = {
    "import": ("I_COMMODITY", "GEN_VAL_MO", "GEN_QY1_MO"),
    "export": ("E_COMMODITY", "ALL_VAL_MO", "QTY_1_MO"),
}
REFUSAL_HINT = (
    "for the Census Bureau's API a refusal or a web page means $CENSUS_API_KEY is not a key "
    "it knows (or is not activated yet: follow the link of the e-mail it sent), the daily "
    "limit of an address without a key is reached, or a proxy blocks api.census.gov"
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
        "--exports", action="store_true", help="also US exports (Schedule B; twice the calls)"
    )
    parser.add_argument(
        "--max-calls-per-day",
        type=int,
        default=None,
        help=f"daily call budget kept in the cache folder (default {KEYLESS_DAILY_CALLS} "
        f"without ${KEY_ENV}, the API's limit for an address)",
    )
    parser.add_argument(
        "--refresh-days",
        type=float,
        default=answers.DEFAULT_REFRESH_DAYS,
        help="ask again for kept answers of months of this year or the last once older than "
        f"this (default {answers.DEFAULT_REFRESH_DAYS:g})",
    )
    parser.add_argument(
        "--file", help="Census API answers (JSON, a file or a folder) on disk: no call made"
    )
    parser.add_argument(
        "--fetch-only", action="store_true", help="download into the cache without loading"
    )
    download.add_download_arguments(parser, base_env=BASE_URL_ENV, default_base=DEFAULT_BASE_URL)


@dataclass(frozen=True)
class Call:
    """One month of one flow, for the codes under a prefix, at one level (HS6 or HS10)."""

    flow: str
    month: Month
    level: str
    prefix: str

    @property
    def key(self) -> str:
        return f"{self.flow}s_{self.level.lower()}_{self.prefix}_{self.month.iso}"

    def path(self) -> str:
        return IMPORTS_PATH if self.flow == "import" else EXPORTS_PATH

    def params(self, key: str | None) -> dict[str, str]:
        commodity, value, quantity = VARIABLES[self.flow]
        params = {
            "get": f"CTY_CODE,CTY_NAME,{commodity},{value},{quantity},UNIT_QY1",
            "COMM_LVL": self.level,
            commodity: f"{self.prefix}*",
            "time": self.month.iso,
        }
        if key:
            params["key"] = key
        return params


def plan(months: list[Month], minerals: list[str] | None, flows: list[str]) -> list[Call]:
    """Per month and flow: one call per chapter of the baskets' HS6 codes, and one per HS6
    code holding US national lines (their HTS10 lines; imports only: exports are declared
    in Schedule B, whose lines are not in national_lines.csv)."""
    calls = []
    for month in months:
        chapters = sorted({code[:2] for code in answers.basket_hs6(minerals, month.year)})
        lines = sorted({code[:6] for code in answers.national_codes("HTS10", minerals, month.year)})
        for flow in flows:
            calls += [Call(flow, month, "HS6", chapter) for chapter in chapters]
            if flow == "import":
                calls += [Call(flow, month, "HS10", hs6) for hs6 in lines]
    return calls


def ask(
    session: requests.Session, base: str, call: Call, api_key: str | None, policy: Policy
) -> bytes:
    """One answer: the JSON as published, or b'' for HTTP 204 (no data)."""
    url = base + call.path()
    response = http.get(
        session,
        url,
        policy,
        params=call.params(api_key),
        keep_note="; answers already kept stay in the cache",
        refusal_hint=REFUSAL_HINT,
    )
    with response:
        if response.status_code == 204:
            return b""
        if response.status_code == 400:
            raise FetchError(
                f"{url}: the Census API refused the query (HTTP 400): "
                f"{' '.join(response.text.split())[:200]}"
            )
        http.raise_for_answer(response, url, refusal_hint=REFUSAL_HINT)
        body = response.content
    http.reject_web_page(body[:4096], url, "the API's JSON", None)
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise FetchError(f"{url}: the answer is not JSON ({REFUSAL_HINT})") from error
    if not isinstance(payload, list) or not payload or not isinstance(payload[0], list):
        raise FetchError(f"{url}: the answer is not the API's array of rows, header first")
    return body


@dataclass
class Fetched:
    files: list[Path]
    fetched: int = 0
    cached: int = 0
    empty: int = 0


def fetch(
    calls: list[Call],
    cache: Path,
    *,
    base: str,
    api_key: str | None,
    budget: Budget,
    policy: Policy,
    refresh_days: float,
    session: requests.Session | None = None,
) -> Fetched:
    folder = cache / "census"
    with download.writing_to(folder):
        folder.mkdir(parents=True, exist_ok=True)
    session = session or http.make_session(policy)
    result = Fetched(files=[])
    for index, call in enumerate(calls):
        target = folder / f"{call.key}.json"
        if answers.still_good(target, [call.month], refresh_days):
            result.files.append(target)
            result.cached += 1
            continue
        if budget.left <= 0:
            raise FetchError(
                f"the daily budget of {budget.limit} calls is used up ({budget.path}); "
                f"{len(calls) - index} call(s) left — re-run tomorrow to continue, or set "
                f"${KEY_ENV} (a free key from https://api.census.gov/data/key_signup.html)"
            )
        body = ask(session, base, call, api_key, policy)
        budget.spend(1)
        with download.writing_to(folder):
            answers.write_atomic(target, body)
        result.files.append(target)
        result.fetched += 1
        result.empty += not body
    return result


def download_all(
    months: list[Month],
    minerals: list[str] | None,
    cache: Path,
    *,
    policy: Policy,
    refresh_days: float,
    exports: bool = False,
    max_calls: int | None = None,
    base: str | None = None,
    session: requests.Session | None = None,
) -> Fetched:
    api_key = os.environ.get(KEY_ENV, "").strip() or None
    calls = plan(months, minerals, ["import", "export"] if exports else ["import"])
    limit = max_calls or (KEYED_DAILY_CALLS if api_key else KEYLESS_DAILY_CALLS)
    budget = Budget(cache / "census" / BUDGET_FILE, limit)
    print(
        f"US Census: {len(calls)} call(s), {months[0].iso} to {months[-1].iso}, "
        f"{'with' if api_key else 'without'} ${KEY_ENV}; {budget.left} call(s) left today; "
        f"cache {cache / 'census'}"
    )
    result = fetch(
        calls,
        cache,
        base=base or download.base_url(None, BASE_URL_ENV, DEFAULT_BASE_URL),
        api_key=api_key,
        budget=budget,
        policy=policy,
        refresh_days=refresh_days,
        session=session,
    )
    print(
        f"US Census: {result.fetched} fetched ({result.empty} empty: no data published), "
        f"{result.cached} already kept"
    )
    return result


def load(result: Fetched, warehouse: Warehouse) -> Summary:
    return ingest_census.load_census(result.files, warehouse)


def check(session: requests.Session, *, cache: Path, policy: Policy) -> download.SourceCheck:
    base = download.base_url(None, BASE_URL_ENV, DEFAULT_BASE_URL)
    url = base + IMPORTS_PATH
    answer = http.probe(session, url, policy)
    kept = len([p for p in (cache / "census").glob("*.json")])
    keyed = bool(os.environ.get(KEY_ENV, "").strip())
    return download.SourceCheck(
        "US Census (monthly)",
        url,
        f"intltrade imports/hs, {'with' if keyed else 'without'} ${KEY_ENV}",
        None,
        f"{kept} answer(s)" if kept else "no",
        answer.answered,
        answer.detail,
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    policy = download.policy_from(args)
    cache = download.cache_root(args, warehouse.root)
    if args.file:
        files = files_in(Path(args.file).expanduser(), (".json",), "US Census API JSON")
        print(f"US Census: using {len(files)} file(s) from {args.file} (--file); no call made")
        result = Fetched(files=files)
    else:
        result = download_all(
            answers.parse_months(args.months or answers.default_months()),
            answers.chosen_minerals(args.minerals),
            cache,
            policy=policy,
            refresh_days=args.refresh_days,
            exports=args.exports,
            max_calls=args.max_calls_per_day,
            base=download.base_url(args.base_url, BASE_URL_ENV, DEFAULT_BASE_URL),
        )
    if args.fetch_only:
        return 0
    with download.loading_into(warehouse, cache):
        load(result, warehouse).print()
    return 0
