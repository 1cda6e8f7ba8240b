"""Capacity of a served critmin: Locust users, each one tab over Streamlit's own protocol.

    locust -f bench/capacity.py --headless --users 100 --spawn-rate 10 --run-time 3m \\
        --host http://127.0.0.1:8501 --server-pid PID [--server-pid PID2] --only-summary

Each user opens a page of the registry at random and changes one or two of its widgets
(a country, minerals, years, a radio...), 1 to 4 s of thought before each action. With
`--churn` each task opens a new tab for one page and closes it, without pause; `--settle
130` samples the memory again once Streamlit has dropped the closed sessions (after
`server.disconnectedSessionTTL`, 120 s). A script run is a Locust request (`open <page>`,
`change <page>`) timed from the message sent to `script_finished`; one with an exception,
an error alert or no title, or unfinished after 60 s, is a failure. After Locust's table:
the CPU and RSS (start, peak, end) of the `--server-pid` processes and their children.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import gevent
import psutil
from locust import User, events, task
from locust.env import Environment

from bench.session import Run, RunFailed, Session, a_change
from critmin.ui.registry import PAGES


class Visitor(User):
    """One person with one tab: a page, one or two changes, another page..."""

    tab: Session | None = None

    def wait_time(self) -> float:
        return 0.0 if self.environment.parsed_options.churn else random.uniform(1, 4)

    def on_stop(self) -> None:
        if self.tab is not None:
            self.tab.close()
        self.tab = None

    @task
    def browse(self) -> None:
        page = random.choice(PAGES)
        self.tab = self.tab or Session(str(self.host))
        run = self.timed(f"open {page.name}", partial(self.tab.open, page.url_path))
        if self.environment.parsed_options.churn:
            return self.on_stop()  # a new tab for each page
        for _ in range(random.randint(1, 2)):
            if (
                run is None
                or self.tab is None
                or (change := a_change(run, random.Random())) is None
            ):
                return None
            self.wait()
            run = self.timed(f"change {page.name}", partial(self.tab.change, *change))
        return None

    def timed(self, name: str, action: Callable[[], Run]) -> Run | None:
        """One script run as a Locust request; None if it did not finish (the tab is then
        closed: the next task opens a new one)."""
        run: Run | None = None
        problem: Exception | None = None
        try:
            run = action()
            problem = AssertionError("; ".join(run.problems())[:300]) if run.problems() else None
        except RunFailed as error:
            problem = error
            self.on_stop()
        seconds, size = (run.seconds, run.bytes) if run else (0.0, 0)
        self.environment.events.request.fire(
            request_type="rerun",
            name=name,
            response_time=seconds * 1000,
            response_length=size,
            exception=problem,
        )
        return run


# --- the server's CPU and memory ---------------------------------------------------------


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--server-pid", type=int, action="append", default=[], help="repeatable")
    parser.add_argument("--churn", action="store_true", help="a new tab for each page, closed")
    parser.add_argument("--settle", type=float, default=0.0, help="then the RSS S seconds later")


class Probe:
    """CPU seconds and RSS (MB, every second) of the servers and their children, summed."""

    def __init__(self, pids: list[int]) -> None:
        self.roots = [psutil.Process(pid) for pid in pids]
        self.rss: list[float] = []
        self.cpu, self.started = self.cpu_s(), time.monotonic()
        self.sample()
        self.watcher = gevent.spawn(self.watch)

    def tree(self) -> list[psutil.Process]:
        return [p for root in self.roots for p in (root, *root.children(recursive=True))]

    def cpu_s(self) -> float:
        return sum(p.cpu_times().user + p.cpu_times().system for p in self.tree())

    def sample(self) -> float:
        self.rss.append(sum(p.memory_info().rss for p in self.tree()) / 2**20)
        return self.rss[-1]

    def watch(self) -> None:
        while True:
            self.sample()
            gevent.sleep(1)

    def report(self, settle: float) -> str:
        self.watcher.kill()
        used, seconds = self.cpu_s() - self.cpu, time.monotonic() - self.started
        line = f"server CPU {used:.1f} s ({used / seconds:.2f} cores); RSS MB start "
        line += f"{self.rss[0]:.1f}, peak {max(self.rss):.1f}, end {self.sample():.1f}"
        if settle:
            gevent.sleep(settle)
            line += f", {settle:g} s later {self.sample():.1f}"
        return line


@events.test_start.add_listener
def _start(environment: Environment, **_: Any) -> None:
    options: Any = environment.parsed_options
    if options.server_pid:
        environment.probe = Probe(options.server_pid)  # type: ignore[attr-defined]


@events.test_stop.add_listener
def _stop(environment: Environment, **_: Any) -> None:
    if probe := getattr(environment, "probe", None):
        options: Any = environment.parsed_options
        print(probe.report(options.settle), flush=True)
