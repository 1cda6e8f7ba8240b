"""The browser phase: `streamlit run app.py` in headless Chromium, each action timed from
the click to the page drawn, and where the time went.

One server, one tab, and the functions of `MEASUREMENTS` in turn, each given the `Phase`
and returning its actions' samples by name (add one there to measure something new):
`first_page` (the app loading once the server answers), `every_page` (`repeat` rounds of
every page of the sidebar: **navigate**, and **change** the country select, else the
first radio, and back) and `large_map` (a link to the sites of the 14 countries with the
most, then the country changed there), `new_visitors` (NEW_VISITORS people opening the
app's first page each in a fresh browser context, nothing cached, on the running server)
and `fresh_server` (a server started anew, timed from the command to its health check
answering, then its first visitor's page). Drawn: the run's `script_finished` arrived, the
page holds the charts, maps and tables the run sent, those in view hold their canvas or
SVG, nothing is stale, the status widget is gone. From the websocket: **script** is the
`rerun_script` sent to the last `script_finished` (the view, Streamlit, serialisation),
**draw** the rest, **kB** the frames received; for a page loaded from its link, **load** is
the time to the page's rerun request (the HTML and JavaScript fetched and started, the
websocket open; a click's few milliseconds otherwise) and
**http kB** the bytes of every HTTP response (encoded, as sent). The rounds start SETTLE_S after the first
page, once the server holds its small tables in memory.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.headless import CHROMIUM, CHROMIUM_ARGS, serve
from bench.measure import RssSampler, percentiles
from critmin.ui.registry import PAGES

TIMEOUT_MS = 90_000
SETTLE_S = 5
NEW_VISITORS = 10  # fresh browser contexts, one after another
VIEWPORT: Any = {"width": 1440, "height": 1000}  # Playwright's ViewportSize
LARGE_MAP = "sites_in=USA,CAN,AUS,MEX,CHN,RUS,KAZ,BRA,ZAF,PER,CHL,IND,MNG,UZB"
KINDS = {"vega_lite_chart": "charts", "deck_gl_json_chart": "maps", "dataframe": "tables"}
DRAWN = """(want) => {
  if (document.querySelector('[data-testid="stStatusWidget"], [data-stale="true"]')) return false;
  if (!document.querySelector('[data-testid="stMainBlockContainer"] h1')) return false;
  const kinds = {charts: '[data-testid="stVegaLiteChart"]',
    maps: '[data-testid="stDeckGlJsonChart"]', tables: '[data-testid="stDataFrame"]'};
  for (const [kind, selector] of Object.entries(kinds)) {
    const all = [...document.querySelectorAll(selector)];
    if (all.length < (want[kind] || 0)) return false;
    // Out of sight (a closed expander, below the fold) is drawn when scrolled to.
    const shown = all.filter(el => { const r = el.getBoundingClientRect();
      return r.width > 0 && r.top < window.innerHeight; });
    if (!shown.every(el => { const c = el.querySelector(kind === 'charts' ? 'canvas, svg' : 'canvas');
      return c !== null && c.getBoundingClientRect().width > 0; })) return false;
  }
  return true;
}"""
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
Samples = dict[str, dict[str, list[dict[str, Any]]]]  # name -> action -> samples


@dataclass
class Phase:
    """One server and one watched tab: the websocket frames received (time, bytes, type),
    the rerun requests sent, and the charts, maps and tables of the run by delta path."""

    url: str
    page: Any
    repeat: int
    data_dir: Path  # for a measurement that starts a server of its own
    browser: Any  # for one that opens a new context (a new visitor)
    received: list[tuple[float, int, str]] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)
    drawn: dict[tuple[int, ...], str] = field(default_factory=dict)
    cached: dict[str, str] = field(default_factory=dict)  # message hash -> kind
    responses: list[tuple[float, int]] = field(default_factory=list)  # HTTP: time, bytes

    def __post_init__(self) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        def sent(data: str | bytes) -> None:
            if BackMsg.FromString(bytes(data, "utf-8") if isinstance(data, str) else data).HasField(
                "rerun_script"
            ):
                self.sent.append(time.perf_counter())

        self.page.on(
            "websocket", lambda ws: (ws.on("framereceived", self.note), ws.on("framesent", sent))
        )
        self.page.on("requestfinished", self.fetched)

    def fetched(self, request: Any) -> None:
        with contextlib.suppress(Exception):  # a request of a closed page has no sizes
            sizes = request.sizes()
            size = max(0, sizes["responseBodySize"]) + max(0, sizes["responseHeadersSize"])
            self.responses.append((time.perf_counter(), size))

    def note(self, data: str | bytes) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = ForwardMsg.FromString(data if isinstance(data, bytes) else data.encode())
        kind, path = str(message.WhichOneof("type")), tuple(message.metadata.delta_path)
        if kind == "new_session":
            self.drawn.clear()
        elif kind == "delta":
            self.drawn = {p: k for p, k in self.drawn.items() if p[: len(path)] != path}
            if message.delta.HasField("new_element"):
                element = KINDS.get(str(message.delta.new_element.WhichOneof("type")), "other")
                self.drawn[path] = self.cached[message.hash] = element
        elif kind == "ref_hash":  # an element the browser holds already
            self.drawn[path] = self.cached.get(message.ref_hash, "other")
        elif kind == "script_finished" and message.script_finished == 2:
            kind = "rerun follows"  # FINISHED_EARLY_FOR_RERUN
        self.received.append((time.perf_counter(), len(data), kind))

    def timed(self, action: Callable[[], Any]) -> dict[str, Any]:
        """Seconds from `action()` to the page drawn, with the script run and the bytes."""
        mark, marked, fetched = len(self.received), len(self.sent), len(self.responses)
        started = time.perf_counter()
        action()
        while not any(k == "script_finished" for _, _, k in self.received[mark:]):
            if time.perf_counter() - started > TIMEOUT_MS / 1000:
                raise TimeoutError("no script_finished from the server")
            self.page.wait_for_timeout(5)
        want = {k: list(self.drawn.values()).count(k) for k in KINDS.values()}
        self.page.wait_for_function(DRAWN, arg=want, timeout=TIMEOUT_MS, polling="raf")
        total, received = time.perf_counter() - started, self.received[mark:]
        finished = [t for t, _, k in received if k == "script_finished"]
        return {
            "total_s": total,
            "script_s": finished[-1] - self.sent[marked] if len(self.sent) > marked else None,
            "load_s": self.sent[marked] - started if len(self.sent) > marked else None,
            "kb": sum(size for _, size, _ in received) / 1024,
            "http_kb": sum(size for _, size in self.responses[fetched:]) / 1024,
            "errors": self.page.locator(ERRORS).count(),
        }

    def change_and_back(self) -> list[dict[str, Any]]:
        """The country select to China and back where the sidebar has one (opening it and
        typing are the user's time, not the clock's), else its first radio and back."""
        sidebar = self.page.locator('[data-testid="stSidebar"]')
        boxes = sidebar.locator('[data-testid="stSelectbox"] input')
        at = boxes.evaluate_all("els => els.findIndex(e => e.value.endsWith('(KAZ)'))")
        if at >= 0:
            runs = []
            for country in ("China (CHN)", "Kazakhstan (KAZ)"):
                option = self.page.get_by_role("option", name=country, exact=True)
                boxes.nth(at).click()
                boxes.nth(at).fill(country)
                option.wait_for(timeout=TIMEOUT_MS)
                runs.append(self.timed(option.click))
            return runs
        radios = sidebar.locator('[data-testid="stRadio"]').first.locator(
            '[data-testid="stRadioOption"]'
        )
        now = radios.evaluate_all(
            "els => els.findIndex(e => e.getAttribute('data-selected') === 'true')"
        )
        if now < 0 or radios.count() < 2:
            return []
        return [self.timed(radios.nth(i).click) for i in ((now + 1) % radios.count(), now)]


def first_page(phase: Phase) -> Samples:
    return {"first page": {"navigate": [phase.timed(lambda: phase.page.goto(phase.url + "/"))]}}


def every_page(phase: Phase) -> Samples:
    phase.page.wait_for_timeout(SETTLE_S * 1000)
    links = phase.page.locator('[data-testid="stSidebarNav"] a')  # in the registry's order
    out: Samples = {p.title: {"navigate": [], "change": [], "failed": []} for p in PAGES}
    for _ in range(phase.repeat):
        for index, page in enumerate(PAGES):
            runs = out[page.title]
            try:
                runs["navigate"].append(phase.timed(links.nth(index).click))
                runs["change"] += phase.change_and_back()
            except Exception as error:  # the page's error is reported, the others run
                runs["failed"].append({"error": str(error).splitlines()[0]})
                with contextlib.suppress(Exception):
                    phase.page.goto(phase.url + "/", timeout=TIMEOUT_MS)
    return out


def large_map(phase: Phase) -> Samples:
    runs: dict[str, list[dict[str, Any]]] = {"navigate": [], "change": []}
    for _ in range(phase.repeat):
        runs["navigate"].append(
            phase.timed(lambda: phase.page.goto(f"{phase.url}/map?{LARGE_MAP}"))
        )
        runs["change"] += phase.change_and_back()
    return {"large map": runs}


def _visit(phase: Phase, url: str) -> dict[str, Any]:
    """A new visitor: a fresh browser context (no cache, no cookies) opening `url`."""
    context = phase.browser.new_context(viewport=VIEWPORT)
    try:
        visitor = Phase(url, context.new_page(), phase.repeat, phase.data_dir, phase.browser)
        return visitor.timed(lambda: visitor.page.goto(url + "/"))
    finally:
        context.close()


def new_visitors(phase: Phase) -> Samples:
    """NEW_VISITORS people, one after another, each opening the app in a fresh browser
    context on the server that is already running."""
    return {"new visitor": {"navigate": [_visit(phase, phase.url) for _ in range(NEW_VISITORS)]}}


def fresh_server(phase: Phase) -> Samples:
    """A server started anew (`streamlit run`, to its health check answering: **start**),
    then its first visitor in a fresh context; `repeat` servers, one at a time."""
    runs = []
    for _ in range(phase.repeat):
        started = time.perf_counter()
        with serve(phase.data_dir) as server:
            start_s = time.perf_counter() - started
            visit = _visit(phase, server.url)
        runs.append({**visit, "start_s": start_s, "from_start_s": start_s + visit["total_s"]})
    return {"fresh server": {"navigate": runs}}


MEASUREMENTS: list[Callable[[Phase], Samples]] = [
    first_page,
    every_page,
    large_map,
    new_visitors,
    fresh_server,
]


def measure_browser(data_dir: Path, repeat: int = 5) -> dict[str, Any]:
    """Every measurement on one server: per name and action, p50/p95/max of the total,
    the script run, the drawing and the kB; errors by name; the server's peak RSS."""
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} not found (apt-get install chromium)"}
    from playwright.sync_api import sync_playwright

    samples: Samples = {}
    errors: list[str] = []
    with serve(data_dir) as server, sync_playwright() as playwright:
        sampler = RssSampler(server.process.pid)
        sampler.start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport=VIEWPORT)
        phase = Phase(server.url, tab, repeat, data_dir, browser)
        for measure in MEASUREMENTS:
            try:
                samples.update(measure(phase))
            except Exception as error:  # a failed measurement is reported, the others run
                errors.append(f"{measure.__name__}: {str(error).splitlines()[0]}")
        browser.close()
        peak = sampler.stop()
    for name, actions in samples.items():
        errors += [f"{name}: {failed['error']}" for failed in actions.pop("failed", [])]
        drew = sum(run["errors"] for runs in actions.values() for run in runs)
        errors += [f"{name}: {drew} error messages drawn"] if drew else []
    pages = {
        name: {action: summary(runs) for action, runs in actions.items() if runs}
        for name, actions in samples.items()
    }
    return {"repeat": repeat, "server_peak_rss_mb": peak, "errors": errors, "pages": pages}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Percentiles of each figure of the runs. draw: the rest of the total once the page
    was asked for (load) and the script ran."""
    timed = [r for r in runs if r["script_s"] is not None]
    out = {
        "total_s": percentiles([r["total_s"] for r in runs]),
        "script_s": percentiles([r["script_s"] for r in timed]),
        "draw_s": percentiles(
            [r["total_s"] - r["script_s"] - (r.get("load_s") or 0) for r in timed]
        ),
        "kb": percentiles([r["kb"] for r in runs]),
    }
    for extra in ("load_s", "http_kb", "start_s", "from_start_s"):
        if values := [r[extra] for r in runs if r.get(extra) is not None]:
            out[extra] = percentiles(values)
    return out


if __name__ == "__main__":  # `python -m bench.browser DATA_DIR`: this phase alone, as JSON
    print(json.dumps(measure_browser(Path(sys.argv[1]), repeat=3), indent=2))
