"""Load run: many simultaneous browser sessions against a running app on loopback.

    python -m bench.loadrun --users 20 --minutes 3 --url http://127.0.0.1:8601

One headless Chromium (Debian's /usr/bin/chromium through Playwright) holds one
context per user, all driven concurrently. Every user has its own distinctive
filters (countries, years) and loops until the time is up:

1. opens the Overview through a URL with its own country and years;
2. changes the country with the sidebar widget;
3. opens the Data explorer through a URL with its own exporter and years;
4. flips the sort order with the radio widget, waits a little while the other
   users change theirs, then flips it back and checks that the page still shows
   its own exporter and order (sessions must not see each other's state);
5. clicks another page in the sidebar navigation.

Each action is timed from the action to the page re-rendered (the expected
content present and Streamlit's status widget gone). Any exception element or
error alert counts as an error. The run is bounded by --minutes and by
--max-actions per user, and refuses any URL that is not on 127.0.0.1/localhost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from bench.headless import CHROMIUM, CHROMIUM_ARGS

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "localhost"}
# Countries of the demo warehouse; each user takes two of them (distinct for up to 20
# users) and a year window.
COUNTRIES = (
    "KAZ KGZ TJK TKM UZB CHN RUS USA CAN MEX BRA CHL PER ARG BOL AUS JPN KOR IND IDN "
    "VNM THA MYS PHL TUR ZAF COD ZMB GAB GHA MAR EGY NOR CHE GBR UKR DEU FRA ITA ESP"
).split()
NAV_TARGETS = (
    "Partners",
    "Suppliers",
    "Reported vs mirror",
    "Map",
    "Export growth",
    "About the data",
)
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'
ACTION_TIMEOUT_MS = 120_000


@dataclass
class UserPlan:
    """A user's own filters, distinct from every other user's."""

    index: int
    country: str
    other_country: str
    year_from: int
    year_to: int

    @classmethod
    def for_user(cls, index: int, first_year: int = 2012, last_year: int = 2024) -> UserPlan:
        country = COUNTRIES[(2 * index) % len(COUNTRIES)]
        other = COUNTRIES[(2 * index + 1) % len(COUNTRIES)]
        span = last_year - first_year
        year_from = first_year + index % max(span - 2, 1)
        return cls(index, country, other, year_from, min(year_from + 2 + index % 3, last_year))


@dataclass
class Report:
    users: int
    minutes: float
    url: str
    interactions: int = 0
    errors: int = 0
    isolation_checks: int = 0
    isolation_failures: int = 0
    timeouts: int = 0
    latencies_s: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    by_action: dict[str, list[float]] = field(default_factory=dict)
    # CPU seconds each --server-pid used during the run (is the app or the browser the limit?)
    server_cpu_s: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0

    def record(self, action: str, seconds: float) -> None:
        self.interactions += 1
        self.latencies_s.append(seconds)
        self.by_action.setdefault(action, []).append(seconds)

    def problem(self, kind: str, message: str) -> None:
        if kind == "isolation":
            self.isolation_failures += 1
        elif kind == "timeout":
            self.timeouts += 1
        else:
            self.errors += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(f"{kind}: {message[:300]}")

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("latencies_s")
        data["by_action"] = {k: _percentiles(v) for k, v in self.by_action.items()}
        data.update(_percentiles(self.latencies_s))
        return data


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50_s": float("nan"), "p95_s": float("nan")}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(values),
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
    }


def check_loopback(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme != "http" or parsed.hostname not in LOOPBACK:
        raise SystemExit(f"--url must be http://127.0.0.1:PORT (loopback only), not {url}")
    return url.rstrip("/")


async def _settled(page: Any, condition: str | None = None, arg: Any = None) -> None:
    """Wait for `condition` (a JS predicate) and for the script run to finish."""
    if condition:
        await page.wait_for_function(condition, arg=arg, timeout=ACTION_TIMEOUT_MS)
    await page.wait_for_selector(
        '[data-testid="stMainBlockContainer"] h1', timeout=ACTION_TIMEOUT_MS
    )
    await page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=ACTION_TIMEOUT_MS,
    )


async def _errors_on(page: Any) -> list[str]:
    return [t.strip() for t in await page.locator(ERROR_SELECTOR).all_inner_texts()]


# What a sidebar widget shows: its text (multiselect tags) and its inputs' values (selectbox).
WIDGET_TEXT = """(label) => [...document.querySelectorAll(
  '[data-testid="stSidebar"] [data-testid="' + label + '"]')].map(e => e.innerText + ' ' +
  [...e.querySelectorAll('input')].map(i => i.value).join(' ')).join(' | ')"""
SIDEBAR_HAS = f"([label, code]) => ({WIDGET_TEXT})(label).includes(code)"
TEXT_HAS = (
    "(text) => document.querySelector('[data-testid=\"stMainBlockContainer\"]')"
    "?.innerText.includes(text)"
)


class User:
    def __init__(
        self, plan: UserPlan, base: str, report: Report, deadline: float, max_actions: int
    ):
        self.plan = plan
        self.base = base
        self.report = report
        self.deadline = deadline
        self.max_actions = max_actions
        self.actions = 0
        self.rng = random.Random(plan.index)

    async def _timed(self, page: Any, action: str, coro: Any) -> bool:
        start = time.perf_counter()
        try:
            await coro
        except Exception as error:  # Playwright timeouts and closed pages
            self.report.problem("timeout", f"user {self.plan.index} {action}: {error}")
            return False
        self.report.record(action, time.perf_counter() - start)
        self.actions += 1
        for text in await _errors_on(page):
            self.report.problem("error", f"user {self.plan.index} {action}: {text}")
        return True

    def _more(self) -> bool:
        return time.monotonic() < self.deadline and self.actions < self.max_actions

    async def run(self, browser: Any) -> None:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        try:
            while self._more():
                await self._iteration(page)
        finally:
            await context.close()

    async def _iteration(self, page: Any) -> None:
        p = self.plan
        years = {"year_from": p.year_from, "year_to": p.year_to}
        # 1. URL: the Overview (the default page, served at /) for the user's country and years.
        url = f"{self.base}/?{urlencode({'country': p.country, **years})}"
        if not await self._timed(page, "url:overview", self._goto(page, url, p.country)):
            return
        await self._check(page, "overview country", p.country)
        # 2. Widget: pick the other country in the sidebar selectbox.
        if self._more() and await self._timed(
            page, "widget:country", self._pick_country(page, p.other_country)
        ):
            await self._check(page, "overview country after widget", p.other_country)
        # 3. URL: the Data explorer for the user's exporter and years.
        if not self._more():
            return
        url = f"{self.base}/explorer?{urlencode({'exporters': p.country, 'minerals': 'copper', **years})}"
        if not await self._timed(
            page, "url:explorer", self._goto(page, url, p.country, "stMultiSelect")
        ):
            return
        # 4. Widget: flip the order, let the others work, flip back, check isolation.
        if self._more():
            await self._timed(
                page, "widget:order", self._order(page, "Smallest first", "smallest first")
            )
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))
            if await self._timed(
                page, "widget:order", self._order(page, "Largest first", "largest first")
            ):
                await self._check(page, "explorer exporter", p.country, "stMultiSelect")
                await self._check_text(page, "explorer order", "largest first")
        # 5. Navigation: another page through the sidebar.
        if self._more():
            target = self.rng.choice(NAV_TARGETS)
            await self._timed(page, f"nav:{target}", self._nav(page, target))

    async def _goto(self, page: Any, url: str, code: str, testid: str = "stSelectbox") -> None:
        await page.goto(url, wait_until="domcontentloaded", timeout=ACTION_TIMEOUT_MS)
        await _settled(page, SIDEBAR_HAS, [testid, f"({code})"])

    async def _pick_country(self, page: Any, code: str) -> None:
        box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"] input').first
        await box.click(timeout=ACTION_TIMEOUT_MS)
        await page.keyboard.type(f"({code})")
        await page.keyboard.press("Enter")
        await _settled(page, SIDEBAR_HAS, ["stSelectbox", f"({code})"])
        await page.wait_for_function(
            "(code) => location.search.includes('country=' + code)",
            arg=code,
            timeout=ACTION_TIMEOUT_MS,
        )

    async def _order(self, page: Any, label: str, words: str) -> None:
        await (
            page.locator('[data-testid="stSidebar"] [data-testid="stRadio"]')
            .get_by_text(label)
            .click(timeout=ACTION_TIMEOUT_MS)
        )
        await _settled(page, TEXT_HAS, words)

    async def _nav(self, page: Any, title: str) -> None:
        await (
            page.locator('[data-testid="stSidebarNavLink"]')
            .get_by_text(title, exact=True)
            .click(timeout=ACTION_TIMEOUT_MS)
        )
        await _settled(
            page,
            "(t) => document.querySelector('h1')?.innerText.length > 0 && "
            "!location.pathname.endsWith('/explorer')",
            title,
        )

    async def _check(self, page: Any, what: str, code: str, testid: str = "stSelectbox") -> None:
        self.report.isolation_checks += 1
        sidebar = await page.evaluate(WIDGET_TEXT, testid)
        query = await page.evaluate("() => location.search")
        if f"({code})" not in sidebar or code not in query:
            self.report.problem(
                "isolation",
                f"user {self.plan.index} {what}: expected {code}, "
                f"sidebar shows {sidebar!r}, URL {query!r}",
            )

    async def _check_text(self, page: Any, what: str, text: str) -> None:
        self.report.isolation_checks += 1
        if not await page.evaluate(TEXT_HAS, text):
            self.report.problem("isolation", f"user {self.plan.index} {what}: {text!r} missing")


def _cpu_seconds(pids: list[int]) -> dict[str, float]:
    import psutil

    used = {}
    for pid in pids:
        try:
            process = psutil.Process(pid)
            times = [process.cpu_times()] + [
                c.cpu_times() for c in process.children(recursive=True)
            ]
        except psutil.NoSuchProcess:
            log.warning("server process %d is gone; its CPU time is not reported", pid)
            continue
        used[str(pid)] = sum(t.user + t.system for t in times)
    return used


async def run_load(
    url: str,
    users: int,
    minutes: float,
    max_actions: int = 10_000,
    executable: str = CHROMIUM,
    server_pids: list[int] | None = None,
) -> Report:
    """Drive `users` concurrent sessions for `minutes`; return the report."""
    from playwright.async_api import async_playwright

    base = check_loopback(url)
    report = Report(users=users, minutes=minutes, url=base)
    cpu_before = _cpu_seconds(server_pids or [])
    started = time.monotonic()
    deadline = time.monotonic() + minutes * 60
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            team = [
                User(UserPlan.for_user(i), base, report, deadline, max_actions)
                for i in range(users)
            ]
            await asyncio.gather(*(_staggered(u, browser, i) for i, u in enumerate(team)))
        finally:
            await browser.close()
    report.wall_s = round(time.monotonic() - started, 1)
    cpu_after = _cpu_seconds(server_pids or [])
    report.server_cpu_s = {
        pid: round(cpu_after[pid] - cpu_before[pid], 1) for pid in cpu_before if pid in cpu_after
    }
    return report


async def _staggered(user: User, browser: Any, index: int) -> None:
    await asyncio.sleep(0.25 * index)  # all are running within a few seconds
    await user.run(browser)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.loadrun",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", required=True, help="the app, on loopback only")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--max-actions", type=int, default=10_000, help="per user")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument(
        "--server-pid",
        type=int,
        action="append",
        default=[],
        help="report the CPU seconds this app process used (repeat for replicas)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 64 or not 0 < args.minutes <= 30:
        parser.error("--users must be 1-64 and --minutes 0-30")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = asyncio.run(
        run_load(
            args.url, args.users, args.minutes, args.max_actions, args.chromium, args.server_pid
        )
    )
    summary = report.summary()
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    ok = not (report.errors or report.isolation_failures or report.timeouts)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
