"""`critmin fetch all` (and `make real`): every source's latest public release in one run.

Steps, in order: CEPII BACI (mineral baskets, HS12 by default), the USGS Mineral
Commodity Summaries data release, the USGS deposit compilations (MRDS) and, with
`--comtrade`, the focus country's (KAZ) own UN Comtrade declarations (every basket
with $COMTRADE_API_KEY: one call per year; without a key the preview API needs a call
per year and code, so only the default view's baskets, about 110 calls for 2012 on).

1. Everything is downloaded (and checked) first, into the cache (`<data dir>/cache`
   unless `--cache-dir`); files already there and verified are not downloaded again.
2. The steps are then loaded into a *staging copy* of the warehouse: a folder inside the
   data directory whose Parquet files are hard links to the live ones (Parquet files are
   never modified in place: every load writes new files), with its own manifest. The
   live warehouse is locked meanwhile, so no other command writes to it.
3. When every step succeeded, the staging copy is swapped in: its new part folders are
   moved into the warehouse and its manifest replaces the live one in one atomic rename
   (the same commit point as every ingest). Until then the previous warehouse is
   exactly as it was, whatever fails or however the run is interrupted.

`--keep-going`: a failed step does not stop the others; the steps that succeeded are
applied (swapped in) and the failed ones leave their tables as they were. The exit
status is 1 whenever a step failed. Without it, the first failure stops the run and
nothing is changed.

A table at the end says what was loaded (table/part, rows, release) and what failed
and why.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from critmin.domain import DEFAULT_MINERALS, FOCUS_COUNTRY, HS_EDITIONS
from critmin.fetch import baci, deposits, download, usgs_mcs
from critmin.fetch.download import Policy
from critmin.ingest import comtrade_fetch
from critmin.warehouse import MANIFEST, Warehouse, WarehouseError

log = logging.getLogger(__name__)

STAGING_PREFIX = ".staging-"
FIRST_YEAR = 2012  # the app's default window starts here
# What a step may fail with: bad input or download (ValueError: FetchError, IngestError,
# SchemaError), a busy or broken warehouse (RuntimeError: WarehouseError), the disk.
STEP_ERRORS = (ValueError, RuntimeError, OSError)


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
        "--keep-going",
        action="store_true",
        help="apply the steps that succeeded even if another failed (exit status 1)",
    )
    parser.add_argument(
        "--hs",
        choices=list(HS_EDITIONS),
        default=baci.DEFAULT_EDITION,
        help=f"BACI HS edition (default {baci.DEFAULT_EDITION})",
    )
    download.add_download_arguments(parser, base_env=None, default_base=None)


# --- the staging copy -------------------------------------------------------------------


def _part_paths(manifest: dict[str, Any]) -> set[str]:
    return {
        part["path"]
        for entry in manifest.get("tables", {}).values()
        for part in entry.get("parts", {}).values()
    }


def _link_tree(source: Path, target: Path) -> None:
    """`target` mirrors `source` with hard links (copies where links are impossible)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


class Staging:
    """A hard-linked copy of a warehouse to load into, swapped in by `swap()`.

    Lives inside the data directory (same file system, so moves are renames) and holds
    the live warehouse's lock from start to end."""

    def __init__(self, live: Warehouse):
        self.live = live
        self.root = live.root / f"{STAGING_PREFIX}{uuid.uuid4().hex[:8]}"
        self.warehouse = Warehouse(self.root)
        self._lock: Any = None

    def __enter__(self) -> Staging:
        self.live.root.mkdir(parents=True, exist_ok=True)
        self._lock = (self.live.root / ".lock").open("a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._lock.close()
            raise WarehouseError(
                f"Another critmin command is writing to {self.live.root}; wait for it to finish."
            ) from error
        try:
            for stale in self.live.root.glob(f"{STAGING_PREFIX}*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed run
            self.root.mkdir()
            if self.live.exists():
                for rel in sorted(_part_paths(self.live.manifest())):
                    if (self.live.root / rel).is_dir():
                        _link_tree(self.live.root / rel, self.root / rel)
                shutil.copy2(self.live.manifest_path, self.root / MANIFEST)
        except BaseException:
            self._close()
            raise
        return self

    def swap(self) -> list[str]:
        """Move the staged parts in and replace the live manifest atomically; the part
        folders the new manifest no longer names are removed after. Returns the parts
        that changed ("table/part")."""
        new = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
        old = self.live.manifest() if self.live.exists() else {"tables": {}}
        added = sorted(_part_paths(new) - _part_paths(old))
        removed = sorted(_part_paths(old) - _part_paths(new))
        moved: list[Path] = []
        tmp = self.live.root / f".{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            for rel in added:
                destination = self.live.root / rel
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.rename(self.root / rel, destination)
                moved.append(destination)
            shutil.copyfile(self.root / MANIFEST, tmp)
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, self.live.manifest_path)  # the commit point
        except BaseException:
            tmp.unlink(missing_ok=True)
            for directory in moved:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        for rel in removed:
            shutil.rmtree(self.live.root / rel, ignore_errors=True)
        return sorted({"/".join(Path(rel).parts[:2]) for rel in (*added, *removed)})

    def _close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._close()


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


def plan(args: argparse.Namespace, cache: Path, policy: Policy) -> list[Step]:
    session = download.make_session(policy)
    steps = [
        Step(
            "CEPII BACI",
            "trade_flows",
            baci.ingest_baci.PART,
            fetch=lambda: baci.fetch(
                release=None,
                edition=args.hs,
                cache=cache,
                base=download.base_url(None, baci.BASE_URL_ENV, baci.DEFAULT_BASE_URL),
                policy=policy,
                session=session,
            ),
            # The latest release replaces whichever BACI release the warehouse holds.
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
                base=download.base_url(None, usgs_mcs.BASE_URL_ENV, usgs_mcs.DEFAULT_BASE_URL),
                policy=policy,
                session=session,
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
        options = argparse.Namespace(
            reporter=FOCUS_COUNTRY,
            years=args.comtrade_years,
            partners="all",
            minerals=args.comtrade_minerals or _comtrade_minerals(),
            flows="X,M",
            base_url=None,
            max_calls_per_day=comtrade_fetch.DEFAULT_DAILY_CALLS,
            retries=policy.retries,
            backoff=policy.backoff,
            timeout=policy.timeout,
        )
        steps.append(
            Step(
                f"UN Comtrade ({FOCUS_COUNTRY})",
                "trade_flows",
                "comtrade",
                fetch=lambda: comtrade_fetch.download_responses(options, cache / "comtrade"),
                load=lambda result, wh: comtrade_fetch.load_responses(result, wh).print(),
            )
        )
    return steps


def _deposits_fetch(
    compilation: deposits.Compilation, cache: Path, policy: Policy, session: requests.Session
) -> Callable[[], deposits.Prepared]:
    return lambda: deposits.fetch(
        compilation,
        cache=cache,
        base=download.base_url(None, compilation.base_env, compilation.default_base),
        policy=policy,
        session=session,
    )


def _comtrade_minerals() -> str:
    """Every basket with an API key (one call per year); without one the preview API takes
    a call per year and code, so only the default view's baskets (about 8 codes)."""
    return "all" if os.environ.get("COMTRADE_API_KEY", "").strip() else ",".join(DEFAULT_MINERALS)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _loaded(step: Step, warehouse: Warehouse) -> str:
    part = warehouse.parts(step.table).get(step.part)
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


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    policy = download.policy_from(args)
    cache = download.cache_root(args, warehouse.root)
    steps = plan(args, cache, policy)
    keep_going = args.keep_going

    print(f"Downloading {len(steps)} source(s) into {cache} ...")
    for step in steps:
        try:
            step.prepared = step.fetch()
            step.status, step.detail = "downloaded", ""
        except STEP_ERRORS as error:
            step.status, step.detail = "failed", f"download: {_one_line(error)}"
            if not keep_going:
                break
    failed = [s for s in steps if s.status == "failed"]
    ready = [s for s in steps if s.status == "downloaded"]
    if (failed and not keep_going) or not ready:
        for step in steps:
            if step.status in ("waiting", "downloaded"):
                step.status, step.detail = "not loaded", "the run stopped at a failed download"
        print_table(steps)
        print(f"Nothing was loaded: the warehouse at {warehouse.root} is unchanged.")
        return 1

    with download.loading_into(warehouse, cache), Staging(warehouse) as staging:
        print(f"Loading into a staging copy of {warehouse.root} ...")
        for step in ready:
            try:
                with download.loading_into(warehouse, cache):
                    step.load(step.prepared, staging.warehouse)
                step.status, step.detail = "loaded", _loaded(step, staging.warehouse)
            except STEP_ERRORS as error:
                step.status, step.detail = "failed", _one_line(error)
                if not keep_going:
                    break
        failed = [s for s in steps if s.status == "failed"]
        loaded = [s for s in steps if s.status == "loaded"]
        if failed and not keep_going:
            for step in loaded:
                step.status, step.detail = "not applied", f"{step.detail} (discarded)"
            for step in steps:
                if step.status == "downloaded":
                    step.status, step.detail = "not loaded", "the run stopped at a failed step"
            print_table(steps)
            print(f"Nothing was changed: the warehouse at {warehouse.root} is as it was.")
            return 1
        problems = staging.warehouse.check() if loaded else []
        if problems:
            print_table(steps)
            print(f"Not swapped in, the staged warehouse has problems: {problems[0]}")
            return 1
        changed = staging.swap() if loaded else []
    print_table(steps)
    if changed:
        print(f"Swapped in at {warehouse.root}: {', '.join(changed)}.")
    if failed:
        print(
            f"{len(failed)} step(s) failed; their tables are as they were. Re-run to retry: "
            "files already downloaded are reused."
        )
        return 1
    return 0
