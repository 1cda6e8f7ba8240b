"""Capacity of a served critmin: many browserless sessions, and memory across session churn.

    python -m bench.capacity --url http://127.0.0.1:8501 --users 25 --minutes 2 \
        --server-pid "$(pgrep -f 'streamlit run app.py' | head -1)" --json load.json
    python -m bench.capacity --url http://127.0.0.1:8501 --churn 200 --server-pid PID

Load mode: N users, each one `bench.streamlit_client.Session` (one browser tab, no
browser), open the app's pages in their own random order and change filters on each
(a country, minerals, years, a radio) the way a person does, with a random think time
between actions (seeded: the same seed gives the same plan). The run stops starting new
actions after --minutes; an action in flight finishes (bounded by --rerun-timeout). The
report: sessions, actions, reruns per second, p50/p95/p99/max rerun latency (request sent
to script finished), errors by kind (timeout, disconnected, exception element, error
alert, connection failure), and the CPU and RSS of the server processes passed with
--server-pid (summed over replicas: CPU seconds and mean cores used, RSS at start, peak
and end).

Churn mode (--churn M): RSS idle before, then M sessions opened (each opens a page and
closes; --concurrency at a time), RSS peak during, right after the last one closed, and
after --settle seconds, so "memory comes back" can be checked. Streamlit keeps a
disconnected session for `server.disconnectedSessionTTL` (120 s by default, at most 128
of them) so a tab can reconnect: settle longer than that to see what it gives back.

Only loopback URLs are accepted. The table goes to stdout, --json writes the same report.
Exit status: 0 with no errors, 1 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import logging
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from websockets.exceptions import WebSocketException

from bench.streamlit_client import (
    RerunFailed,
    RunResult,
    Session,
    Widget,
    http_get,
    require_loopback,
)

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
# Exporters that hold flows in the demo warehouse: a changed country shows data, not
# only an "empty result" message.
COUNTRIES = (
    "KAZ KGZ TJK TKM UZB CHN RUS USA CAN MEX BRA CHL PER ARG BOL AUS JPN KOR IND IDN "
    "VNM THA MYS PHL TUR ZAF COD ZMB GAB GHA MAR EGY NOR CHE GBR UKR DEU FRA ITA ESP"
).split()
FILTERS = ("country", "mineral", "years", "radio")
COUNTRY_KEYS = ("country", "highlight", "importer")


# --- the app's pages -----------------------------------------------------------------


def pages_from_app(app_py: Path) -> list[str]:
    """The URL paths of the app's pages, read from app.py without running it: the first
    list of `st.Page(...)` calls in it (url_path= when given, "" for the default page,
    else the file's stem)."""
    tree = ast.parse(app_py.read_text(encoding="utf-8"))
    pages: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.List) and node.elts and all(map(_is_page, node.elts))):
            continue
        for call in node.elts:
            assert isinstance(call, ast.Call)
            kwargs = {k.arg: k.value for k in call.keywords if k.arg}
            default = kwargs.get("default")
            url_path = kwargs.get("url_path")
            if isinstance(default, ast.Constant) and default.value is True:
                pages.append("")
            elif isinstance(url_path, ast.Constant) and isinstance(url_path.value, str):
                pages.append(url_path.value.strip("/"))
            elif call.args and isinstance(call.args[0], ast.Constant):
                pages.append(Path(str(call.args[0].value)).stem)
        break
    if not pages:
        raise ValueError(f"no list of st.Page entries in {app_py}")
    return pages


def _is_page(node: ast.expr) -> bool:
    f = node.func if isinstance(node, ast.Call) else None
    return isinstance(f, ast.Attribute) and f.attr == "Page"


# --- how a user changes filters ------------------------------------------------------


def _name(widget: Widget) -> str:
    return (widget.key or "").rpartition(":")[2]


def _country_options(widget: Widget) -> list[str]:
    preferred = [o for o in widget.options if o.endswith(tuple(f"({c})" for c in COUNTRIES))]
    return [o for o in preferred or widget.options if o != widget.value]


def pick_change(result: RunResult, rng: random.Random, wanted: str) -> tuple[str, Any] | None:
    """A change a user could make on this page: `wanted` ("country", "mineral", "years",
    "radio") if the page has it, else the next kind it has; None if it has none."""
    order = [*FILTERS[FILTERS.index(wanted) :], *FILTERS[: FILTERS.index(wanted)]]
    by_kind: dict[str, list[Widget]] = {k: [] for k in FILTERS}
    for w in result.widgets:
        if not w.key or w.form_id:
            continue
        name = _name(w)
        if w.kind == "selectbox" and name in COUNTRY_KEYS:
            by_kind["country"].append(w)
        elif name in {"minerals", "mineral"} and w.kind in {"multiselect", "selectbox"}:
            by_kind["mineral"].append(w)
        elif (w.kind == "slider" and name == "years") or (
            w.kind == "number_input" and name == "year"
        ):
            by_kind["years"].append(w)
        elif w.kind == "radio" and len(w.options) > 1:
            by_kind["radio"].append(w)
    for kind in order:
        if not by_kind[kind]:
            continue
        w = rng.choice(by_kind[kind])
        assert w.key is not None
        if kind == "country":
            return w.key, rng.choice(_country_options(w))
        if kind == "mineral" and w.kind == "multiselect":
            limit = min(w.max_selections or 3, 3, len(w.options))
            return w.key, rng.sample(w.options, rng.randint(1, limit))
        if kind in {"mineral", "radio"}:
            return w.key, rng.choice([o for o in w.options if o != w.value] or w.options)
        low, high = int(w.minimum or 0), int(w.maximum or 0)
        if w.kind == "number_input":
            return w.key, rng.randint(low, high)
        start = rng.randint(low, max(low, high - 2))
        return w.key, (start, rng.randint(min(start + 2, high), high))
    return None


def problems_on(result: RunResult) -> list[tuple[str, str]]:
    """What a user would call broken on a finished page: exceptions and error alerts."""
    found = [("exception", text) for text in result.exceptions]
    found += [("error alert", text) for text in result.errors]
    return found


# --- measuring the server ------------------------------------------------------------


class ServerProbe:
    """CPU seconds and RSS of the server processes (and their children), summed."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]
        self.samples: list[float] = []

    def _all(self) -> list[psutil.Process]:
        found: list[psutil.Process] = []
        for p in self.processes:
            try:
                found += [p, *p.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        return found

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self._all():
            try:
                times = p.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def rss_mb(self) -> float:
        total = 0
        for p in self._all():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total / 2**20

    def sample(self) -> float:
        value = self.rss_mb()
        self.samples.append(value)
        return value

    async def watch(self, every_s: float = 1.0) -> None:
        """Sample RSS until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(every_s)


# --- load ----------------------------------------------------------------------------


@dataclass
class LoadReport:
    url: str
    users: int
    seconds: float
    seed: int
    sessions: int = 0
    actions: int = 0
    reruns_per_s: float = 0.0
    latency_s: dict[str, float] = field(default_factory=dict)
    errors: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    error_examples: list[str] = field(default_factory=list)
    server_pids: list[int] = field(default_factory=list)
    server_cpu_s: float | None = None
    server_cores_used: float | None = None
    server_rss_mb: dict[str, float] = field(default_factory=dict)
    bytes_received: int = 0


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max (nearest rank), in seconds rounded to ms."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {
        "p50": round(rank(0.50), 3),
        "p95": round(rank(0.95), 3),
        "p99": round(rank(0.99), 3),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    sessions: int = 0
    bytes_received: int = 0

    def error(self, kind: str, message: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {message[:300]}")


async def _user(
    index: int,
    url: str,
    pages: Sequence[str],
    deadline: float,
    think: tuple[float, float],
    seed: int,
    rerun_timeout: float,
    ramp_s: float,
    tally: _Tally,
) -> None:
    rng = random.Random(f"{seed}:{index}")
    await asyncio.sleep(rng.uniform(0, ramp_s))
    session = Session(url, timeout=rerun_timeout)
    tally.sessions += 1
    try:
        while time.monotonic() < deadline:
            order = list(pages)
            rng.shuffle(order)
            for page in order:
                if time.monotonic() >= deadline:
                    return
                try:
                    result = await session.open(page)
                except RerunFailed as exc:
                    tally.error(exc.result.status, f"{page}: {exc}")
                    return
                except (OSError, TimeoutError, ConnectionError, WebSocketException) as exc:
                    tally.error("connection", f"{page}: {exc!r}")
                    return
                _record(tally, result, page)
                for _ in range(rng.randint(1, 2)):
                    await asyncio.sleep(rng.uniform(*think))
                    if time.monotonic() >= deadline:
                        return
                    change = pick_change(result, rng, rng.choice(FILTERS))
                    if change is None:
                        break
                    try:
                        result = await session.set_widget(*change)
                    except RerunFailed as exc:
                        tally.error(exc.result.status, f"{page} {change[0]}: {exc}")
                        return
                    _record(tally, result, f"{page} {change[0]}")
                await asyncio.sleep(rng.uniform(*think))
    finally:
        tally.bytes_received += session.bytes_received
        await session.close()


def _record(tally: _Tally, result: RunResult, what: str) -> None:
    tally.latencies.append(result.wall_s)
    for kind, text in problems_on(result):
        tally.error(kind, f"{what}: {text}")


async def run_load(
    url: str,
    users: int,
    seconds: float,
    *,
    pages: Sequence[str],
    server_pids: Sequence[int] = (),
    think: tuple[float, float] = (1.0, 4.0),
    seed: int = 1,
    rerun_timeout: float = 60.0,
    ramp_s: float = 5.0,
) -> LoadReport:
    """Drive `users` sessions for `seconds` and report (see the module docstring)."""
    require_loopback(url)
    probe = ServerProbe(server_pids)
    report = LoadReport(url=url, users=users, seconds=seconds, seed=seed)
    report.server_pids = list(server_pids)
    rss_start = probe.sample() if server_pids else None
    cpu_start = probe.cpu_seconds()
    watcher = asyncio.create_task(probe.watch())
    tally = _Tally()
    started = time.monotonic()
    deadline = started + seconds
    try:
        await asyncio.gather(
            *(
                _user(i, url, pages, deadline, think, seed, rerun_timeout, ramp_s, tally)
                for i in range(users)
            )
        )
    finally:
        watcher.cancel()
    elapsed = time.monotonic() - started
    report.seconds = round(elapsed, 1)
    report.sessions = tally.sessions
    report.actions = len(tally.latencies)
    report.reruns_per_s = round(len(tally.latencies) / elapsed, 2)
    report.latency_s = percentiles(tally.latencies)
    report.errors = sum(tally.errors.values())
    report.errors_by_kind = dict(tally.errors)
    report.error_examples = tally.examples
    report.bytes_received = tally.bytes_received
    if server_pids:
        cpu = probe.cpu_seconds() - cpu_start
        report.server_cpu_s = round(cpu, 1)
        report.server_cores_used = round(cpu / elapsed, 2)
        end = probe.sample()
        report.server_rss_mb = {
            "start": round(rss_start or 0.0, 1),
            "peak": round(max(probe.samples), 1),  # the end sample included
            "end": round(end, 1),
        }
    return report


# --- churn ---------------------------------------------------------------------------


@dataclass
class ChurnReport:
    url: str
    sessions: int
    concurrency: int
    settle_s: float
    seconds: float = 0.0
    opened: int = 0
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    latency_s: dict[str, float] = field(default_factory=dict)
    server_pids: list[int] = field(default_factory=list)
    rss_mb: dict[str, float] = field(default_factory=dict)


async def run_churn(
    url: str,
    sessions: int,
    *,
    pages: Sequence[str],
    server_pids: Sequence[int],
    concurrency: int = 10,
    settle_s: float = 30.0,
    seed: int = 1,
    rerun_timeout: float = 60.0,
) -> ChurnReport:
    """Open and close `sessions` sessions; report the server's RSS before, peak, after."""
    require_loopback(url)
    if not server_pids:
        raise ValueError("churn needs --server-pid: it measures the server's memory")
    probe = ServerProbe(server_pids)
    report = ChurnReport(url, sessions, concurrency, settle_s, server_pids=list(server_pids))
    idle = [probe.sample()]
    for _ in range(2):
        await asyncio.sleep(1)
        idle.append(probe.sample())
    probe.samples.clear()
    rng = random.Random(seed)
    plan = [rng.choice(pages) for _ in range(sessions)]
    gate = asyncio.Semaphore(concurrency)
    tally = _Tally()
    watcher = asyncio.create_task(probe.watch(0.5))
    started = time.monotonic()

    async def one(page: str) -> None:
        async with gate:
            try:
                async with Session(url, timeout=rerun_timeout) as session:
                    result = await session.open(page)
                    _record(tally, result, page)
                    tally.sessions += 1
            except RerunFailed as exc:
                tally.error(exc.result.status, f"{page}: {exc}")
            except (OSError, TimeoutError, ConnectionError, WebSocketException) as exc:
                tally.error("connection", f"{page}: {exc!r}")

    try:
        await asyncio.gather(*(one(page) for page in plan))
    finally:
        watcher.cancel()
    report.seconds = round(time.monotonic() - started, 1)
    after = probe.sample()
    peak = max(probe.samples)  # while sessions were open, and right after
    await asyncio.sleep(settle_s)
    settled = probe.sample()
    report.opened = tally.sessions
    report.errors = sum(tally.errors.values())
    report.error_examples = tally.examples
    report.latency_s = percentiles(tally.latencies)
    report.rss_mb = {
        "idle_before": round(statistics.median(idle), 1),
        "peak": round(peak, 1),
        "after_close": round(after, 1),
        "after_settle": round(settled, 1),
    }
    return report


# --- command line --------------------------------------------------------------------


def _table(rows: list[tuple[str, Any]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def format_load(r: LoadReport) -> str:
    lat = r.latency_s
    rows: list[tuple[str, Any]] = [
        ("url", r.url),
        ("users (sessions)", f"{r.users} ({r.sessions})"),
        ("seconds", r.seconds),
        ("actions (reruns)", r.actions),
        ("reruns per second", r.reruns_per_s),
        (
            "latency p50/p95/p99/max s",
            f"{lat.get('p50')} / {lat.get('p95')} / {lat.get('p99')} / {lat.get('max')}",
        ),
        ("errors", f"{r.errors} {r.errors_by_kind or ''}".strip()),
        ("received MB", round(r.bytes_received / 2**20, 1)),
    ]
    if r.server_pids:
        rss = r.server_rss_mb
        rows += [
            ("server pids", " ".join(map(str, r.server_pids))),
            ("server CPU s (cores)", f"{r.server_cpu_s} ({r.server_cores_used})"),
            ("server RSS MB start/peak/end", f"{rss['start']} / {rss['peak']} / {rss['end']}"),
        ]
    return _table(rows)


def format_churn(r: ChurnReport) -> str:
    rss = r.rss_mb
    return _table(
        [
            ("url", r.url),
            ("sessions opened/closed", f"{r.opened} of {r.sessions} ({r.concurrency} at once)"),
            ("seconds", r.seconds),
            ("errors", r.errors),
            (
                "open latency p50/p95/max s",
                f"{r.latency_s.get('p50')} / {r.latency_s.get('p95')} / {r.latency_s.get('max')}",
            ),
            ("RSS MB idle before", rss["idle_before"]),
            ("RSS MB peak", rss["peak"]),
            ("RSS MB after close", rss["after_close"]),
            (f"RSS MB after {r.settle_s:g} s", rss["after_settle"]),
        ]
    )


def _think(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    pair = (float(low), float(high or low))
    if pair[0] < 0 or pair[1] < pair[0]:
        raise argparse.ArgumentTypeError("think time is LOW-HIGH seconds, e.g. 1-4")
    return pair


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.capacity", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--url", default="http://127.0.0.1:8501", help="loopback base URL")
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--minutes", type=float, default=2.0)
    p.add_argument("--think", type=_think, default=(1.0, 4.0), help="seconds, LOW-HIGH")
    p.add_argument("--ramp", type=float, default=5.0, help="spread session starts over S")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rerun-timeout", type=float, default=60.0)
    p.add_argument("--server-pid", type=int, action="append", default=[], dest="pids")
    p.add_argument("--app", type=Path, default=REPO / "app.py", help="read its list of pages")
    p.add_argument("--churn", type=int, metavar="M", help="open and close M sessions")
    p.add_argument("--concurrency", type=int, default=10, help="churn: sessions at once")
    p.add_argument("--settle", type=float, default=30.0, help="churn: seconds to wait")
    p.add_argument("--json", type=Path, help="also write the report here")
    return p


async def _health(url: str) -> None:
    response = await http_get(url.rstrip("/") + "/_stcore/health", timeout=5)
    if response.status != 200:
        raise ConnectionError(f"{url} health check answered {response.status}")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    require_loopback(args.url)
    pages = pages_from_app(args.app)
    asyncio.run(_health(args.url))
    report: LoadReport | ChurnReport
    if args.churn:
        report = asyncio.run(
            run_churn(
                args.url,
                args.churn,
                pages=pages,
                server_pids=args.pids,
                concurrency=args.concurrency,
                settle_s=args.settle,
                seed=args.seed,
                rerun_timeout=args.rerun_timeout,
            )
        )
        print(format_churn(report))
    else:
        report = asyncio.run(
            run_load(
                args.url,
                args.users,
                args.minutes * 60,
                pages=pages,
                server_pids=args.pids,
                think=args.think,
                seed=args.seed,
                rerun_timeout=args.rerun_timeout,
                ramp_s=args.ramp,
            )
        )
        print(format_load(report))
    if report.error_examples:
        print("\nfirst errors:\n  " + "\n  ".join(report.error_examples))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
