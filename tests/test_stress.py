"""Concurrency stress: one real `streamlit run app.py`, many sessions at the same moment, and
the health endpoint polled throughout. The server must stay up and stop when told to.

At the same time, over Streamlit's own websocket protocol (`bench.session`, no browsers),
against the demo warehouse:

- USERS sessions (16; CRITMIN_STRESS_USERS), each with a country of its own, open every
  page of the registry in turn; where the page has a country select they choose their
  country and must see it in the title and the link (no session sees another's choice),
  elsewhere they change another widget;
- one session per hostile link opens every page through it: each page warns "Link
  problem" (About has no parameters) and none raises;
- a poller GETs /_stcore/health every 0.5 s with a 2 s timeout.

Asserted: every run finished within RUN_BOUND_S and the whole load within TOTAL_BOUND_S;
no exception element, no error alert and a title on every page; every hostile page
warned; every health poll answered; the server answers afterwards and exits on SIGTERM
within TERM_BOUND_S. No figure is asserted: they are printed as a `StressFigures` warning.

CRITMIN_STRESS_APP_DIR=/path/to/checkout serves another checkout's app.py, pages/ and src/
(its own package first on PYTHONPATH) on a demo warehouse built by that checkout's code:
that is how the freeze of c98a69a was reproduced.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from test_fuzz_pages import HOSTILE_LINKS, KEYS

from bench.headless import REPO, answers, serve
from bench.session import Run, RunFailed, Session, a_change
from critmin.ui.registry import PAGES

pytestmark = pytest.mark.load

USERS = int(os.environ.get("CRITMIN_STRESS_USERS", "16"))
RUN_BOUND_S = 60.0
TOTAL_BOUND_S = 120.0
TERM_BOUND_S = 10.0
# Countries with flows in the demo warehouse: one per user.
COUNTRIES = "KAZ KGZ TJK TKM UZB CHN RUS USA CAN MEX BRA CHL PER ARG BOL AUS JPN KOR IND".split()
LINKS = {
    **HOSTILE_LINKS,
    "unknown codes in every key": {k: "ZZZ" for k in KEYS},
}


class StressFigures(UserWarning):
    """The stress run's figures (a warning so that they reach the log of a passing run)."""


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: list[float] = []
        self.problems: list[str] = []
        self.health: list[tuple[float, bool]] = []

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def step(self, where: str, action: Callable[[], Run]) -> Run:
        try:
            run = action()
        except RunFailed as error:
            self.problem(f"{where}: {error}")
            raise
        with self.lock:
            self.seconds.append(run.seconds)
        for problem in run.problems():
            self.problem(f"{where}: {problem[:200]}")
        return run


def browse(index: int, url: str, tally: Tally) -> None:
    """A user with a country of its own: every page, one change on each."""
    code = COUNTRIES[index % len(COUNTRIES)]
    rng = random.Random(index)
    with Session(url, timeout=RUN_BOUND_S) as tab:
        for page in PAGES:
            where = f"user {index} /{page.url_path}"
            run = tally.step(where, lambda p=page: tab.open(p.url_path))  # type: ignore[misc]
            country = next((w for w in run.widgets if w.key == f"{page.name}:country"), None)
            if country is None:
                change = a_change(run, rng)
                if change is not None:
                    tally.step(f"{where} {change[0].key}", lambda c=change: tab.change(*c))  # type: ignore[misc]
                continue
            label = next(o for o in country.options if o.endswith(f"({code})"))
            run = tally.step(f"{where} {label}", lambda: tab.change(country, label))  # noqa: B023
            name = label.rsplit(" (", 1)[0]
            if f"country={code}" not in run.query_string or not any(
                name in t for t in run.texts("title")
            ):
                tally.problem(
                    f"{where}: chose {code}, shown {run.texts('title')} ({run.query_string})"
                )


def follow_link(label: str, url: str, tally: Tally) -> None:
    """Someone opening a hostile link to every page, each in a new tab."""
    query = urlencode(LINKS[label], doseq=True)
    for page in PAGES:
        with Session(url, timeout=RUN_BOUND_S) as tab:
            where = f"hostile '{label}' /{page.url_path}"
            run = tally.step(where, lambda p=page: tab.open(p.url_path, query))  # type: ignore[misc]
            if page.name != "about" and not any("Link problem" in w for w in run.texts("warning")):
                tally.problem(f"{where}: no 'Link problem' warning ({run.texts('warning')})")


def poll_health(url: str, stop: threading.Event, tally: Tally) -> None:
    while not stop.is_set():
        started = time.monotonic()
        ok = answers(url, timeout=2.0)
        tally.health.append((time.monotonic() - started, ok))
        stop.wait(0.5)


def stress(url: str, tally: Tally) -> float:
    stop = threading.Event()
    poller = threading.Thread(target=poll_health, args=(url, stop, tally))
    poller.start()
    started = time.monotonic()
    with ThreadPoolExecutor(USERS + len(LINKS)) as pool:
        jobs = [(f"user {i}", pool.submit(browse, i, url, tally)) for i in range(USERS)]
        jobs += [(f"link {k}", pool.submit(follow_link, k, url, tally)) for k in LINKS]
        for what, job in jobs:
            left = TOTAL_BOUND_S - (time.monotonic() - started)
            try:
                job.result(timeout=max(left, 0.1))
            except RunFailed:
                pass  # counted by Tally.step; this session stops here
            except TimeoutError:
                tally.problem(f"{what}: the load did not finish within {TOTAL_BOUND_S:.0f} s")
            except OSError as error:
                tally.problem(f"{what}: could not connect: {error!r}")
    stop.set()
    poller.join()
    return time.monotonic() - started


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
    data_dir = _warehouse(app_dir, request, tmp_path)
    tally = Tally()
    term_s: float | None = None
    with serve(data_dir, app_dir, tmp_path / "server.log") as server:
        seconds = stress(server.url, tally)
        still_up = answers(server.url, timeout=5)
        server.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            server.process.wait(timeout=TERM_BOUND_S)
            term_s = time.monotonic() - started
        except subprocess.TimeoutExpired:
            pass
        log_tail = server.tail()
    runs = sorted(tally.seconds)
    polls = [s for s, _ in tally.health]
    failed_polls = [s for s, ok in tally.health if not ok]
    figures = (
        f"{USERS} users + {len(LINKS)} hostile links, {seconds:.1f} s: {len(runs)} runs, "
        f"p50 {runs[len(runs) // 2] if runs else 0:.2f} s, max {max(runs, default=0):.2f} s; "
        f"health polls {len(polls)}, failed {len(failed_polls)}, worst {max(polls, default=0):.2f} s; "
        f"SIGTERM exit {'none' if term_s is None else f'{term_s:.1f} s'}"
    )
    warnings.warn(figures, StressFigures, stacklevel=1)
    report = f"{figures}\nfirst problems:\n  " + "\n  ".join(tally.problems[:15])
    assert not tally.problems, report
    assert tally.health and not failed_polls, report
    assert still_up, f"no health answer after the load\n{report}"
    assert term_s is not None, f"SIGTERM did not stop the server in {TERM_BOUND_S} s\n{log_tail}"
