"""`critmin fetch all` (and `make real`): every source's latest public release in one run.

Steps, in order: CEPII BACI (mineral baskets, HS12 by default; `--release` and `--hs`
as for `critmin fetch baci`, or $CRITMIN_BACI_RELEASE), the USGS Mineral Commodity
Summaries data release, the USGS deposit compilations (MRDS) and, with `--comtrade`, the
focus country's (KAZ) own UN Comtrade declarations (every basket with $COMTRADE_API_KEY:
one call per year; without a key the preview API needs a call per year and code, so
only the default view's baskets, about 110 calls for 2012 on).

Then the monthly declarations of `--months` (this year and the two before by default;
`--no-monthly` leaves them out): UN Comtrade monthly (KAZ's partners' declarations and
its own, `critmin fetch comtrade --monthly`), Eurostat Comext (EU trade with the C5 by
CN8 line, with the ECB's rates, `critmin fetch comext`) and the US Census Bureau (US
imports by HTS10 line, `critmin fetch census`). Without $COMTRADE_API_KEY or
$CENSUS_API_KEY they ask for the default view's baskets only, to stay within the keyless
daily limits. They are optional: one that cannot be reached, is refused or fails to load
is listed as missing, with why and the command that fetches it later, and never stops
BACI, USGS or the other monthly sources from loading.

`--check` asks each source what it would download (the release found on its pages, the
file's address and size by HEAD or a one-byte ranged GET), says whether it is already
cached and whether the server answered, downloads nothing, and exits 1 when a source
cannot be reached. Run it first.

1. Everything is downloaded (and checked) first, into the cache (`<data dir>/cache`
   unless `--cache-dir`); files already there and verified are not downloaded again.
2. The steps are then loaded in one batch of the warehouse's own transaction
   (`Warehouse.batch`): each step's load is a step of it, writing new part versions
   beside the live ones, and nothing is swapped in until the batch commits. The live
   warehouse is locked meanwhile, so no other command writes to it.
3. When every step succeeded, the batch commits: one atomic replace of the manifest
   (the same commit point as every ingest), with the derived tables recomputed once.
   Until then the previous warehouse is exactly as it was, whatever fails or however
   the run is interrupted.

`--keep-going`: a failed step does not stop the others; the steps that succeeded are
committed and the failed ones leave their tables as they were. The exit status is 1
whenever a step failed. Without it, the first failure stops the run and nothing is
changed.

A table at the end says what was loaded (table/part, rows, release) and what failed
and why.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from critmin import derive
from critmin.domain import DEFAULT_MINERALS, FOCUS_COUNTRY
from critmin.fetch import (
    answers,
    baci,
    census,
    comext,
    comtrade,
    deposits,
    download,
    http,
    usgs_mcs,
)
from critmin.fetch.http import Policy
from critmin.warehouse import Transaction, Warehouse

log = logging.getLogger(__name__)

COMMAND = "critmin fetch all"
FIRST_YEAR = 2012  # the app's default window starts here
# What a step may fail with: bad input or download (ValueError: FetchError, IngestError,
# SchemaError), a busy or broken warehouse (RuntimeError: WarehouseError), the disk.
STEP_ERRORS = (ValueError, RuntimeError, OSError)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="ask each source what it would download and whether it answers; download nothing",
    )
    parser.add_argument(
        "--comtrade",
        action="store_true",
        help=f"also fetch {FOCUS_COUNTRY}'s own UN Comtrade declarations (both flows)",
    )
    parser.add_argument(
        "--comtrade-years",
        default=f"{FIRST_YEAR}-{dt.date.today().year - 1}",
        help="years of the Comtrade step (default: 2012 to last year)",
    )
    parser.add_argument(
        "--comtrade-minerals",
        default=None,
        help="baskets of the Comtrade step (default: every basket with $COMTRADE_API_KEY, "
        f"else the app's default view, {','.join(DEFAULT_MINERALS)}, to stay within the "
        "keyless daily budget)",
    )
    parser.add_argument(
        "--no-monthly",
        action="store_true",
        help="leave out the monthly declarations (UN Comtrade monthly, Eurostat Comext, US Census)",
    )
    parser.add_argument(
        "--months",
        default=None,
        help=f"months of the monthly sources (default {answers.default_months()})",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="apply the steps that succeeded even if another failed (exit status 1)",
    )
    baci.add_release_arguments(parser)
    download.add_download_arguments(parser, base_env=None, default_base=None)


# --- the steps --------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    table: str
    part: str
    fetch: Callable[[], Any]
    load: Callable[[Any, Warehouse], object]
    status: str = "waiting"
    detail: str = ""
    prepared: Any = None
    optional: bool = False  # a failure leaves it out instead of stopping the run
    later: str = ""  # the command that fetches an optional step on its own


def _bases() -> dict[str, str]:
    return {
        "baci": download.base_url(None, baci.BASE_URL_ENV, baci.DEFAULT_BASE_URL),
        "usgs_mcs": download.base_url(None, usgs_mcs.BASE_URL_ENV, usgs_mcs.DEFAULT_BASE_URL),
        "comtrade": os.environ.get("COMTRADE_BASE_URL", "").strip() or comtrade.DEFAULT_BASE_URL,
    }


def plan(args: argparse.Namespace, cache: Path, policy: Policy) -> list[Step]:
    session = http.make_session(policy)
    bases = _bases()
    steps = [
        Step(
            "CEPII BACI",
            "trade_flows",
            baci.ingest_baci.PART,
            fetch=lambda: baci.fetch(
                release=baci.release_option(args.release),
                edition=args.hs,
                cache=cache,
                base=bases["baci"],
                policy=policy,
                session=session,
                command=COMMAND,
            ),
            # The release found replaces whichever BACI release the warehouse holds.
            load=lambda prepared, wh: baci.ingest(
                prepared, wh, all_products=False, replace=True
            ).print(),
        ),
        Step(
            "USGS MCS",
            "production",
            usgs_mcs.ingest_mcs.PART,
            fetch=lambda: usgs_mcs.fetch(
                year=usgs_mcs.DEFAULT_YEAR,
                item=None,
                cache=cache,
                base=bases["usgs_mcs"],
                policy=policy,
                session=session,
                command=COMMAND,
            ),
            load=usgs_mcs.ingest,
        ),
    ]
    for compilation in deposits.COMPILATIONS.values():
        steps.append(
            Step(
                f"USGS deposits ({compilation.name.upper()})",
                "deposits",
                compilation.name,
                fetch=_deposits_fetch(compilation, cache, policy, session),
                load=deposits.ingest,
            )
        )
    if args.comtrade:
        options = _comtrade_options(args, policy)
        steps.append(
            Step(
                f"UN Comtrade ({FOCUS_COUNTRY})",
                "trade_flows",
                "comtrade",
                fetch=lambda: comtrade.download_responses(options, cache / "comtrade"),
                load=lambda result, wh: comtrade.load_responses(result, wh).print(),
            )
        )
    if not args.no_monthly:
        steps += _monthly_steps(args, cache, policy, session)
    return steps


def _monthly_steps(
    args: argparse.Namespace, cache: Path, policy: Policy, session: requests.Session
) -> list[Step]:
    """The optional monthly sources, each as `critmin fetch <source>` would run it."""
    months_text = args.months or answers.default_months()
    months = answers.parse_months(months_text)
    options = _comtrade_options(args, policy)
    options.months, options.refresh_days = months_text, answers.DEFAULT_REFRESH_DAYS
    census_keyed = bool(os.environ.get(census.KEY_ENV, "").strip())
    census_minerals = None if census_keyed else list(DEFAULT_MINERALS)
    return [
        Step(
            f"UN Comtrade monthly ({FOCUS_COUNTRY}, partners)",
            "monthly_flows",
            "comtrade",
            fetch=lambda: comtrade.download_monthly(
                options, cache / "comtrade_monthly", cache / "comtrade" / answers.BUDGET_FILE
            ),
            load=lambda result, wh: comtrade.load_monthly_responses(result, wh).print(),
            optional=True,
            later=f"critmin fetch comtrade --monthly --months {months_text}",
        ),
        Step(
            "Eurostat Comext (monthly)",
            "monthly_flows",
            "comext",
            fetch=lambda: comext.download_all(
                months,
                None,
                cache,
                policy=policy,
                refresh_days=answers.DEFAULT_REFRESH_DAYS,
                session=session,
            ),
            load=lambda result, wh: comext.load(result, wh).print(),
            optional=True,
            later=f"critmin fetch comext --months {months_text}",
        ),
        Step(
            "US Census (monthly)",
            "monthly_flows",
            "census",
            fetch=lambda: census.download_all(
                months,
                census_minerals,
                cache,
                policy=policy,
                refresh_days=answers.DEFAULT_REFRESH_DAYS,
                session=session,
            ),
            load=lambda result, wh: census.load(result, wh).print(),
            optional=True,
            later=f"critmin fetch census --months {months_text}",
        ),
    ]


def _comtrade_options(args: argparse.Namespace, policy: Policy) -> argparse.Namespace:
    return argparse.Namespace(
        reporter=FOCUS_COUNTRY,
        years=args.comtrade_years,
        partners="all",
        minerals=args.comtrade_minerals or _comtrade_minerals(),
        flows="X,M",
        base_url=None,
        max_calls_per_day=comtrade.DEFAULT_DAILY_CALLS,
        retries=policy.retries,
        backoff=policy.backoff,
        timeout=policy.timeout,
        # The API's own pace (10 calls a minute) unless a slower one was asked for.
        pace=max(policy.pace, comtrade.DEFAULT_PACE),
        max_wait=policy.max_wait,
        monthly=False,
        months=None,
        refresh_days=answers.DEFAULT_REFRESH_DAYS,
        fetch_only=False,
        all_products=False,
    )


def _deposits_fetch(
    compilation: deposits.Compilation, cache: Path, policy: Policy, session: requests.Session
) -> Callable[[], deposits.Prepared]:
    return lambda: deposits.fetch(
        compilation,
        cache=cache,
        base=download.base_url(None, compilation.base_env, compilation.default_base),
        policy=policy,
        session=session,
        command=COMMAND,
    )


def _comtrade_minerals() -> str:
    """Every basket with an API key (one call per year); without one the preview API takes
    a call per year and code, so only the default view's baskets (about 8 codes)."""
    return "all" if os.environ.get("COMTRADE_API_KEY", "").strip() else ",".join(DEFAULT_MINERALS)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _loaded(step: Step, tx: Transaction) -> str:
    part = tx.final_parts(step.table).get(step.part)
    if part is None:
        return "loaded"
    years = f", {min(part.years)}-{max(part.years)}" if part.years else ""
    return f"{step.table}/{step.part}: {part.rows:,} rows, {part.release}{years}"


def print_table(steps: list[Step]) -> None:
    width = max(len(s.name) for s in steps)
    print()
    print(f"{'step'.ljust(width)}  {'result'.ljust(11)}  details")
    for step in steps:
        print(f"{step.name.ljust(width)}  {step.status.ljust(11)}  {step.detail}")


# --- know before downloading ------------------------------------------------------------


def check_sources(
    args: argparse.Namespace, cache: Path, policy: Policy
) -> list[download.SourceCheck]:
    """What every step would download, asked of each server; nothing is downloaded."""
    session = http.make_session(policy)
    bases = _bases()
    rows = [
        baci.check(
            session,
            release=baci.release_option(args.release),
            edition=args.hs,
            cache=cache,
            base=bases["baci"],
            policy=policy,
            command=COMMAND,
        ),
        usgs_mcs.check(
            session, year=usgs_mcs.DEFAULT_YEAR, cache=cache, base=bases["usgs_mcs"], policy=policy
        ),
    ]
    for compilation in deposits.COMPILATIONS.values():
        base = download.base_url(None, compilation.base_env, compilation.default_base)
        rows.append(deposits.check(session, compilation, cache=cache, base=base, policy=policy))
    if args.comtrade:
        rows.append(
            comtrade.check(
                session, base_url=bases["comtrade"], cache_dir=cache / "comtrade", policy=policy
            )
        )
    if not args.no_monthly:
        rows.append(
            comtrade.check(
                session,
                base_url=bases["comtrade"],
                cache_dir=cache / "comtrade_monthly",
                policy=policy,
                monthly=True,
            )
        )
        rows += comext.check(session, cache=cache, policy=policy)
        rows.append(census.check(session, cache=cache, policy=policy))
    return rows


# The sources `fetch all` loads without when they cannot be reached (the monthly ones).
OPTIONAL_CHECKS = frozenset(
    {
        "UN Comtrade, monthly",
        "Eurostat Comext (monthly)",
        "ECB USD/EUR rates",
        "US Census (monthly)",
    }
)


def print_checks(rows: list[download.SourceCheck]) -> None:
    for row in rows:
        answered = "answered" if row.answered else "NOT REACHED"
        print(f"{row.source}")
        print(f"  url:     {row.url}")
        print(f"  release: {row.release}")
        print(f"  size:    {download.human_size(row.size)}")
        print(f"  cached:  {row.cached}")
        print(f"  server:  {answered} ({row.detail})")


def run_check(args: argparse.Namespace, cache: Path, policy: Policy) -> int:
    print(f"Asking each source what `{COMMAND}` would download (nothing is downloaded) ...")
    rows = check_sources(args, cache, policy)
    print_checks(rows)
    unreachable = [row.source for row in rows if not row.answered]
    required = [name for name in unreachable if name not in OPTIONAL_CHECKS]
    optional = [name for name in unreachable if name in OPTIONAL_CHECKS]
    if optional:
        print(
            f"Optional, not reachable: {', '.join(optional)}. `{COMMAND}` loads the other "
            "sources without them and says so."
        )
    if required:
        print(f"Not reachable: {', '.join(required)}. See each message above for what to do.")
        return 1
    missing = sum(
        row.size or 0 for row in rows if row.cached not in ("yes", "yes, not yet checked")
    )
    who = "Every required source" if optional else "Every source"
    print(
        f"{who} answered; about {download.human_size(missing)} of files to download, "
        "plus the answers of the APIs (sizes unknown until asked)."
    )
    return 0


# --- the run ----------------------------------------------------------------------------


class _NotApplied(Exception):
    """Leave the batch without committing it (a step failed without --keep-going)."""


MISSING = "missing"  # an optional step that could not be fetched or loaded


def _left_out(step: Step, what: str, error: BaseException) -> None:
    step.status = MISSING
    step.detail = f"{what}: {_one_line(error)}; later: `{step.later}`"


def download_all(steps: list[Step], keep_going: bool) -> None:
    for step in steps:
        try:
            step.prepared = step.fetch()
            step.status, step.detail = "downloaded", ""
        except STEP_ERRORS as error:
            if step.optional:
                _left_out(step, "not fetched", error)
                continue
            step.status, step.detail = "failed", f"download: {_one_line(error)}"
            if not keep_going:
                break


def load_all(steps: list[Step], warehouse: Warehouse, cache: Path, keep_going: bool) -> list[str]:
    """Load the downloaded steps in one batch; the parts it changed ("table/part"), or
    _NotApplied when it must not be committed."""
    with warehouse.batch(derived=derive.refresh) as batch:
        for step in (s for s in steps if s.status == "downloaded"):
            try:
                with download.loading_into(warehouse, cache):
                    step.load(step.prepared, warehouse)
                step.status, step.detail = "loaded", _loaded(step, batch)
            except STEP_ERRORS as error:
                if step.optional:
                    _left_out(step, "not loaded", error)
                    continue
                step.status, step.detail = "failed", _one_line(error)
                if not keep_going:
                    break
        failed = any(s.status == "failed" for s in steps)
        loaded = any(s.status == "loaded" for s in steps)
        if (failed and not keep_going) or not loaded:
            raise _NotApplied
        return batch.changed_parts()


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    policy = download.policy_from(args)
    cache = download.cache_root(args, warehouse.root)
    if args.check:
        return run_check(args, cache, policy)
    steps = plan(args, cache, policy)
    keep_going = args.keep_going

    print(f"Downloading {len(steps)} source(s) into {cache} ...")
    download_all(steps, keep_going)
    failed = [s for s in steps if s.status == "failed"]
    if (failed and not keep_going) or not any(s.status == "downloaded" for s in steps):
        for step in steps:
            if step.status in ("waiting", "downloaded"):
                step.status, step.detail = "not loaded", "the run stopped at a failed download"
        print_table(steps)
        print(f"Nothing was loaded: the warehouse at {warehouse.root} is unchanged.")
        return 1

    print(f"Loading into {warehouse.root} (applied together at the end) ...")
    try:
        with download.loading_into(warehouse, cache):
            changed = load_all(steps, warehouse, cache, keep_going)
    except _NotApplied:
        for step in steps:
            if step.status == "loaded":
                step.status, step.detail = "not applied", f"{step.detail} (discarded)"
            elif step.status == "downloaded":
                step.status, step.detail = "not loaded", "the run stopped at a failed step"
        print_table(steps)
        print(f"Nothing was changed: the warehouse at {warehouse.root} is as it was.")
        return 1
    print_table(steps)
    print(f"Applied at {warehouse.root}: {', '.join(changed)}.")
    missing = [s for s in steps if s.status == MISSING]
    if missing:
        print(
            f"Not loaded (optional): {', '.join(s.name for s in missing)}; the pages say which "
            "months and sources they lack. Each line above says why and the command that "
            "fetches it later."
        )
    failed = [s for s in steps if s.status == "failed"]
    if failed:
        print(
            f"{len(failed)} step(s) failed; their tables are as they were. Re-run to retry: "
            "files already downloaded are reused."
        )
        return 1
    return 0
