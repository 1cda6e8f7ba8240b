"""Concurrency stress: one real `streamlit run app.py`, many sessions at the same moment, and
the health endpoint polled throughout. The server must stay up and stop when told to.

At the same time, over Streamlit's own websocket protocol (`bench.streamlit_client`, no
browsers), against the demo warehouse:

- USERS sessions (16; CRITMIN_STRESS_USERS) each open every page of app.py's pages in turn
  and change a filter on each (a country, minerals, years or a radio, rotating);
- one session per hostile link (quotes and SQL, unicode, very long and repeated values,
  unknown codes) opens every page through it: each page warns "Link problem" (About has
  no parameters) and none raises;
- a poller GETs /_stcore/health every 0.5 s with a 2 s timeout.

Asserted: every run finished within RERUN_BOUND_S and the whole load within TOTAL_BOUND_S;
no exception element and no error alert on any page; every hostile page warned; every
health poll answered; the server answers its health check afterwards and exits on SIGTERM
within TERM_BOUND_S (else it is killed and the test fails). The figures (runs, latency
percentiles, worst health poll) are emitted as a `StressFigures` warning so that the CI
log shows them even for a passing run on xdist workers.

CRITMIN_STRESS_APP_DIR=/path/to/checkout runs another checkout's app.py, pages/ and src/
(its own package first on PYTHONPATH) on a demo warehouse built by that checkout's code:
that is how the freeze of c98a69a was reproduced.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest
from browser import free_port
from test_fuzz_pages import HOSTILE_LINKS, KEYS
from websockets.exceptions import WebSocketException

from bench.capacity import FILTERS, pages_from_app, percentiles, pick_change, problems_on
from bench.streamlit_client import RerunFailed, RunResult, Session, http_get

REPO = Path(__file__).resolve().parents[1]

USERS = int(os.environ.get("CRITMIN_STRESS_USERS", "16"))
RERUN_BOUND_S = 60.0
TOTAL_BOUND_S = 120.0
HEALTH_TIMEOUT_S = 2.0
HEALTH_EVERY_S = 0.5
TERM_BOUND_S = 10.0
START_BOUND_S = 90.0
PAGES_WITHOUT_PARAMETERS = {"about"}
LINKS: dict[str, Mapping[str, str | Sequence[str]]] = {
    **cast(dict[str, Mapping[str, str | Sequence[str]]], HOSTILE_LINKS),
    "unknown codes in every key": {k: "ZZZ" for k in KEYS},
}


class StressFigures(UserWarning):
    """The stress run's figures (a warning so that they reach the log of a passing run)."""


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


@contextlib.contextmanager
def serve(app_dir: Path, data_dir: Path, log: Path) -> Iterator[Server]:
    """`streamlit run app.py` from app_dir on a free loopback port; TERM, then KILL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CRITMIN_PASSWORD"}
    env["CRITMIN_DATA_DIR"] = str(data_dir)
    if app_dir != REPO:
        env["PYTHONPATH"] = str(app_dir / "src")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=out, stderr=out)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + START_BOUND_S
        while not _answers(server.url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start:\n{server.tail()}")
            time.sleep(0.3)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _answers(url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    async def probe() -> bool:
        try:
            return (await http_get(f"{url}/_stcore/health", timeout=timeout)).status == 200
        except (OSError, TimeoutError):
            return False

    return asyncio.run(probe())


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    health: list[tuple[float, bool]] = field(default_factory=list)
    sessions_done: int = 0

    async def step(self, what: str, run: Awaitable[RunResult]) -> RunResult:
        try:
            result = await run
        except RerunFailed as exc:
            self.latencies.append(exc.result.wall_s)
            self.problems.append(f"{what}: {exc}")
            raise
        self.latencies.append(result.wall_s)
        if not result.titles:
            self.problems.append(f"{what}: no title ({result.summary()})")
        for kind, text in problems_on(result):
            self.problems.append(f"{what}: {kind}: {text[:200]}")
        return result


async def browse(index: int, url: str, pages: list[str], tally: Tally) -> None:
    """A user: every page, one filter changed on each (the kind rotates per user)."""
    rng = random.Random(index)
    async with Session(url, timeout=RERUN_BOUND_S) as session:
        for number, page in enumerate(pages):
            where = f"user {index} /{page}"
            result = await tally.step(where, session.open(page))
            change = pick_change(result, rng, FILTERS[(index + number) % len(FILTERS)])
            if change is not None:
                await tally.step(f"{where} {change[0]}={change[1]!r}", session.set_widget(*change))
    tally.sessions_done += 1


async def follow_links(label: str, url: str, pages: list[str], tally: Tally) -> None:
    """Someone opening a hostile link to every page, each in a new tab."""
    for page in pages:
        async with Session(url, timeout=RERUN_BOUND_S) as session:
            where = f"hostile '{label}' /{page}"
            result = await tally.step(where, session.open(page, LINKS[label]))
            if page not in PAGES_WITHOUT_PARAMETERS and not any(
                "Link problem" in w for w in result.warnings
            ):
                tally.problems.append(f"{where}: no 'Link problem' warning ({result.warnings})")
    tally.sessions_done += 1


async def poll_health(url: str, stop: asyncio.Event, tally: Tally) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            response = await http_get(f"{url}/_stcore/health", timeout=HEALTH_TIMEOUT_S)
            ok = response.status == 200
        except (OSError, TimeoutError):
            ok = False
        tally.health.append((time.monotonic() - started, ok))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HEALTH_EVERY_S)


async def _guarded(what: str, run: Awaitable[None], tally: Tally) -> None:
    try:
        await run
    except RerunFailed:
        pass  # already counted by Tally.step; this session stops here
    except (OSError, TimeoutError, WebSocketException) as exc:
        tally.problems.append(f"{what}: could not connect: {exc!r}")


async def stress(url: str, pages: list[str], tally: Tally) -> float:
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_health(url, stop, tally))
    started = time.monotonic()
    bound = asyncio.timeout(TOTAL_BOUND_S)
    try:
        async with bound:
            await asyncio.gather(
                *(_guarded(f"user {i}", browse(i, url, pages, tally), tally) for i in range(USERS)),
                *(
                    _guarded(f"hostile '{label}'", follow_links(label, url, pages, tally), tally)
                    for label in LINKS
                ),
            )
    except TimeoutError:
        if not bound.expired():
            raise
        tally.problems.append(f"the load did not finish within {TOTAL_BOUND_S:.0f} s")
    finally:
        stop.set()
        await poller
    return time.monotonic() - started


def _figures(tally: Tally, seconds: float, term_s: float | None) -> str:
    lat = percentiles(tally.latencies)
    polls = [s for s, _ in tally.health]
    failed = sum(1 for _, ok in tally.health if not ok)
    return (
        f"{USERS} users + {len(LINKS)} hostile links, {seconds:.1f} s: {len(tally.latencies)} "
        f"runs, latency p50 {lat.get('p50')} s / p95 {lat.get('p95')} s / max {lat.get('max')} s; "
        f"health polls {len(polls)}, failed {failed}, worst {max(polls, default=0):.3f} s; "
        f"sessions completed {tally.sessions_done} of {USERS + len(LINKS)}; "
        f"SIGTERM exit {'none' if term_s is None else f'{term_s:.1f} s'}; "
        f"problems {len(tally.problems)}"
    )


def _warehouse(app_dir: Path, request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The session's demo warehouse; for another checkout, one built by its own code."""
    if app_dir == REPO:
        return Path(request.getfixturevalue("demo_warehouse_dir"))
    target = tmp_path / "warehouse"
    subprocess.run(
        [sys.executable, "-m", "critmin.cli", "--data-dir", str(target), "demo"],
        cwd=app_dir,
        env={**os.environ, "PYTHONPATH": str(app_dir / "src")},
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


def test_the_server_stays_up_under_concurrent_sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    app_dir = Path(os.environ.get("CRITMIN_STRESS_APP_DIR", REPO)).resolve()
    pages = pages_from_app(app_dir / "app.py")
    data_dir = _warehouse(app_dir, request, tmp_path)
    tally = Tally()
    term_s: float | None = None
    with serve(app_dir, data_dir, tmp_path / "server.log") as server:
        seconds = asyncio.run(stress(server.url, pages, tally))
        still_up = _answers(server.url, timeout=5)
        server.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=TERM_BOUND_S)
            term_s = time.monotonic() - started
        log_tail = server.tail()
    figures = _figures(tally, seconds, term_s)
    warnings.warn(figures, StressFigures, stacklevel=1)
    failed_polls = [s for s, ok in tally.health if not ok]
    report = f"{figures}\nfirst problems:\n  " + "\n  ".join(tally.problems[:15])
    assert not tally.problems, report
    assert tally.health and not failed_polls, report
    assert max(tally.latencies) < RERUN_BOUND_S, report
    assert still_up, f"no health answer after the load\n{report}"
    assert term_s is not None, f"SIGTERM did not stop the server in {TERM_BOUND_S} s\n{log_tail}"


def test_pages_are_read_from_the_router(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        "import streamlit as st\n"
        "PAGES = [\n"
        "    st.Page('pages/home.py', title='Home', default=True),\n"
        "    st.Page('pages/a.py', title='A', url_path='alpha'),\n"
        "    st.Page('pages/beta.py', title='B'),\n"
        "]\n"
        "st.navigation(PAGES).run()\n",
        encoding="utf-8",
    )
    assert pages_from_app(app) == ["", "alpha", "beta"]
    assert len(pages_from_app(REPO / "app.py")) >= 8
