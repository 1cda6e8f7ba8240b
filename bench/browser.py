"""The browser phase: every page of `streamlit run app.py` in headless Chromium, timed
from the user's action to the page drawn, with where the time goes.

For a warehouse (the demo one, built by `critmin demo`, and the benchmark's), the app
is started on loopback and one Chromium tab (Debian's /usr/bin/chromium through
Playwright, launched as `bench/headless.py` says) visits every page of the sidebar,
`repeat` times over:

- **navigate**: click the page's sidebar link, until the last chart, map and table is
  drawn: the server's `script_finished` has arrived, the page holds as many charts,
  maps and tables as the script run sent, each one in view holds its canvas or SVG (a
  table below the fold is drawn when scrolled to), no element is stale and
  Streamlit's status widget is gone;
- **change**: change a sidebar widget (the country select where the page has one, else
  a radio), from the click on the new option (opening the select and typing in it
  are the user's time, not the app's) until redrawn; and back again, so the next
  page opens in its default state.

Where the time goes, from the websocket (Playwright's frame events): the **script run** is the time from
the `rerun_script` request the tab sends to the `script_finished` message the server
answers; the **bytes** are every frame received for that action; **drawing** is the
rest (total minus script run). The script run holds the view itself (measured
here in-process on the same warehouse: `build` on a first visit, a `st.cache_data`
hit, i.e. unpickling, on repeats) and the serialisation of what the page shows
(Arrow tables, Vega-Lite specs, the deck.gl JSON) plus Streamlit's own work.

The first page after the app starts is timed on its own (the cold start); the rounds
begin SETTLE_S seconds later, once the server has copied its small tables into memory
(`db._Holder`), so they time a running server.

Only loopback addresses are used; the phase skips with a reason when Playwright or
Chromium is missing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.app_startup import RssSampler, _free_port
from bench.capacity import pages_from_app
from bench.headless import CHROMIUM, CHROMIUM_ARGS, streamlit_command
from critmin.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

APP = PROJECT_ROOT / "app.py"
ACTION_TIMEOUT_MS = 90_000
SETTLE_S = 5  # seconds between the first page and the timed rounds
VIEWPORT: Any = {"width": 1440, "height": 1000}  # playwright ViewportSize
# True once the page is drawn: see the module docstring.
DRAWN = """(want) => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  if (!document.querySelector('[data-testid="stMainBlockContainer"] h1')) return false;
  const kinds = {
    charts: '[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]',
    maps: '[data-testid="stDeckGlJsonChart"]',
    tables: '[data-testid="stDataFrame"]',
  };
  const inner = {charts: 'canvas, svg', maps: 'canvas', tables: 'canvas'};
  for (const [kind, selector] of Object.entries(kinds)) {
    const all = [...document.querySelectorAll(selector)];
    if (all.length < (want[kind] || 0)) return false;
    // Elements out of sight (a closed expander, below the fold) are drawn when they
    // come into view: the data grid creates its canvas only then.
    const shown = all.filter(el => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.top < window.innerHeight;
    });
    if (!shown.every(el => {
      const c = el.querySelector(inner[kind]);
      return c !== null && c.getBoundingClientRect().width > 0;
    })) return false;
  }
  return true;
}"""
COUNTS = """() => ({
  charts: document.querySelectorAll('[data-testid="stVegaLiteChart"], '
    + '[data-testid="stArrowVegaLiteChart"]').length,
  maps: document.querySelectorAll('[data-testid="stDeckGlJsonChart"]').length,
  tables: document.querySelectorAll('[data-testid="stDataFrame"]').length,
  title: (document.querySelector('[data-testid="stMainBlockContainer"] h1') || {}).innerText,
  errors: document.querySelectorAll('[data-testid="stException"], '
    + '[data-testid="stAlertContentError"]').length,
})"""
TARGETS = {
    "navigate_p95_s": 1.0,
    "change_p95_s": 0.5,
    "map_p95_s": 1.5,
    "default_map_kb": 200.0,
    "any_map_kb": 1024.0,
}


# A link to the largest map: sites in the countries that hold most of them.
LARGE_MAP = "sites_in=USA,CAN,AUS,MEX,CHN,RUS,KAZ,BRA,ZAF,PER,CHL,IND,MNG,UZB"
RERUN_FOLLOWS = 2  # ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
KIND = {"vega_lite_chart": "charts", "deck_gl_json_chart": "maps", "dataframe": "tables"}


@dataclass
class Wire:
    """Websocket frames seen through CDP, with the browser's timestamps (seconds), and
    the charts, maps and tables the current script run has sent (by delta path)."""

    received: list[tuple[float, int, str]] = field(default_factory=list)  # ts, bytes, type
    sent: list[tuple[float, str]] = field(default_factory=list)  # ts, BackMsg type
    elements: dict[tuple[int, ...], str] = field(default_factory=dict)  # path -> kind
    kinds: dict[str, str] = field(default_factory=dict)  # message hash -> kind

    def mark(self) -> tuple[int, int]:
        return len(self.received), len(self.sent)

    def expected(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for kind in self.elements.values():
            if kind in KIND.values():
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    def since(self, mark: tuple[int, int]) -> dict[str, Any]:
        """What one action cost on the wire: bytes received, and the script run from
        the first rerun request to the last `script_finished`."""
        received = self.received[mark[0] :]
        sent = [ts for ts, kind in self.sent[mark[1] :] if kind == "rerun_script"]
        finished = [ts for ts, _, kind in received if kind == "script_finished"]
        script = (finished[-1] - sent[0]) if sent and finished and finished[-1] >= sent[0] else None
        return {
            "bytes": sum(size for _, size, _ in received),
            "messages": len(received),
            "script_s": script,
            "reruns": len(sent),
        }

    def finished_count(self, mark: tuple[int, int]) -> int:
        return sum(kind == "script_finished" for _, _, kind in self.received[mark[0] :])

    def note(self, message: Any) -> str:
        """Keep track of the elements a ForwardMsg adds; return its type."""
        kind = str(message.WhichOneof("type") or "")
        path = tuple(message.metadata.delta_path)
        if kind == "new_session":
            self.elements = {}
        elif kind == "delta":
            delta = message.delta
            if delta.WhichOneof("type") == "new_element":
                element = KIND.get(str(delta.new_element.WhichOneof("type")), "other")
                self.elements[path] = element
                if message.hash:
                    self.kinds[message.hash] = element
            elif delta.WhichOneof("type") == "add_block":
                self.elements = {p: k for p, k in self.elements.items() if p[: len(path)] != path}
        elif kind == "ref_hash":
            self.elements[path] = self.kinds.get(message.ref_hash, "other")
        elif kind == "script_finished" and message.script_finished == RERUN_FOLLOWS:
            return "script_rerun"  # ended by st.rerun(): another run follows
        return kind


def _watch(page: Any, wire: Wire) -> None:
    """Record the tab's websocket frames (Playwright's `websocket` events; the Chrome
    DevTools Protocol's frame events proved unreliable with Debian's Chromium: some
    runs saw none). Timestamps are this process's clock when Playwright hands over the
    frame: the tab is polled every 5 ms while waiting, so they are late by about that."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    def raw(payload: str | bytes) -> bytes:
        return payload if isinstance(payload, bytes) else payload.encode()

    def received(payload: str | bytes) -> None:
        data = raw(payload)
        kind = ""
        with contextlib.suppress(Exception):
            kind = wire.note(ForwardMsg.FromString(data))
        wire.received.append((time.perf_counter(), len(data), kind))

    def sent(payload: str | bytes) -> None:
        kind = ""
        with contextlib.suppress(Exception):
            kind = BackMsg.FromString(raw(payload)).WhichOneof("type") or ""
        wire.sent.append((time.perf_counter(), kind))

    def opened(socket: Any) -> None:
        socket.on("framereceived", received)
        socket.on("framesent", sent)

    page.on("websocket", opened)


@contextlib.contextmanager
def serve(data_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`streamlit run app.py` on a free loopback port against data_dir."""
    port = _free_port()
    env = {**os.environ, "CRITMIN_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        streamlit_command(APP, port),
        cwd=APP.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the app did not answer its health check") from None
                time.sleep(0.2)
        yield url, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def build_demo(data_dir: Path) -> None:
    """The demo warehouse, as `critmin --data-dir DIR demo` builds it."""
    subprocess.run(
        [sys.executable, "-m", "critmin.cli", "--data-dir", str(data_dir), "demo"],
        check=True,
        capture_output=True,
    )


def view_times(data_dir: Path, repeat: int = 5) -> dict[str, dict[str, float]]:
    """Per page label, the default view's build and cache-hit (unpickle) times on this
    warehouse, in milliseconds: the view's share of a script run."""
    from bench.pages import UnknownField, pages, run_view, scenarios, state_for
    from bench.runner import settings_for
    from critmin.catalog import load_catalog
    from critmin.db import Database
    from critmin.warehouse import Warehouse

    db = Database(Warehouse(data_dir), settings_for(data_dir))
    catalog = load_catalog(db)
    default = scenarios()[0]
    out: dict[str, dict[str, float]] = {}
    for page in pages():
        try:
            state = state_for(page, default, catalog)
        except UnknownField:
            continue
        view = run_view(db, catalog, page, state)
        builds, hits = [], []
        stored = pickle.dumps(view)
        for _ in range(repeat):
            t0 = time.perf_counter()
            run_view(db, catalog, page, state)
            builds.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            pickle.loads(stored)
            hits.append(time.perf_counter() - t0)
        out[page.name] = {
            "build_ms": float(np.median(builds) * 1000),
            "cache_hit_ms": float(np.median(hits) * 1000),
        }
    db.close()
    return out


def _percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    array = np.array(values)
    return {
        "p50": float(np.median(array)),
        "p95": float(np.percentile(array, 95)),
        "max": float(array.max()),
        "n": int(array.size),
    }


class Tab:
    """One Chromium tab on the app, with its websocket watched."""

    def __init__(self, page: Any, wire: Wire):
        self.page = page
        self.wire = wire

    def drawn(self, mark: tuple[int, int], reruns: int = 1) -> dict[str, Any]:
        """Wait for `reruns` script runs to finish after `mark`, then for the page drawn."""
        deadline = time.monotonic() + ACTION_TIMEOUT_MS / 1000
        while self.wire.finished_count(mark) < reruns:
            if time.monotonic() > deadline:
                raise TimeoutError("no script_finished from the server")
            self.page.wait_for_timeout(5)
        want = self.wire.expected()
        self.page.wait_for_function(DRAWN, arg=want, timeout=ACTION_TIMEOUT_MS, polling="raf")
        return {**self.page.evaluate(COUNTS), "sent": want}

    def timed(self, action: Any, reruns: int = 1, prepare: Any = None) -> dict[str, Any]:
        """Seconds from `action()` to the page drawn; `prepare()` (opening a select and
        typing in it: the user's own time) runs before the clock starts."""
        if prepare is not None:
            prepare()
        mark = self.wire.mark()
        started = time.perf_counter()
        action()
        counts = self.drawn(mark, reruns)
        total = time.perf_counter() - started
        return {"total_s": total, **self.wire.since(mark), **counts}

    def change(self) -> tuple[str, Any] | None:
        """A sidebar widget change that reruns the page, and how to undo it: the country
        select (Kazakhstan <-> China) where there is one, else the first radio."""
        sidebar = self.page.locator('[data-testid="stSidebar"]')
        inputs = sidebar.locator('[data-testid="stSelectbox"] input')
        values = [str(inputs.nth(i).input_value()) for i in range(inputs.count())]
        countries = [i for i, value in enumerate(values) if value.endswith("(KAZ)")]
        if countries:
            box = inputs.nth(countries[0])

            def choose(option: str) -> tuple[Any, Any]:
                item = self.page.get_by_role("option", name=option, exact=True)

                def prepare() -> None:
                    box.click()
                    box.fill(option)
                    item.wait_for(state="visible", timeout=ACTION_TIMEOUT_MS)

                return prepare, item.click

            return "country select: China (CHN)", (
                choose("China (CHN)"),
                choose("Kazakhstan (KAZ)"),
            )
        radio = sidebar.locator('[data-testid="stRadio"]')
        if radio.count():
            options = radio.first.locator('[data-testid="stRadioOption"]')
            chosen = [
                i
                for i in range(options.count())
                if options.nth(i).get_attribute("data-selected") == "true"
            ]
            if chosen and options.count() > 1:
                now = chosen[0]
                other = (now + 1) % options.count()
                name = options.nth(other).inner_text().strip()
                return f"radio: {name}", (
                    (None, options.nth(other).click),
                    (None, options.nth(now).click),
                )
        return None


def measure_browser(data_dir: Path, repeat: int = 5, demo: bool = False) -> dict[str, Any]:
    """Every page navigated to and changed, `repeat` times; see the module docstring."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed"}
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} not found (apt-get install chromium)"}
    if demo:
        build_demo(data_dir)
    paths = pages_from_app(APP)
    result: dict[str, Any] = {"warehouse": str(data_dir), "repeat": repeat, "errors": []}
    result["views"] = view_times(data_dir)
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {}
    widget: dict[str, str] = {}
    with serve(data_dir) as (url, server), sync_playwright() as playwright:
        sampler = RssSampler(server.pid)
        sampler.start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        wire = Wire()
        _watch(page, wire)
        tab = Tab(page, wire)
        started = time.perf_counter()
        first = tab.timed(lambda: page.goto(url + "/", timeout=ACTION_TIMEOUT_MS))
        result["first_page"] = {**first, "total_s": time.perf_counter() - started}
        # The timed rounds measure a running server: a new one copies its small tables
        # into memory in the background after opening the warehouse (about 2 s at 100M
        # trade rows), and its first page, timed above, is the cold start.
        page.wait_for_timeout(SETTLE_S * 1000)
        links = page.locator('[data-testid="stSidebarNav"] a')
        labels = [
            links.nth(i).inner_text().strip().splitlines()[-1].strip() for i in range(links.count())
        ]
        names = [p or "overview" for p in paths]
        for round_ in range(repeat):
            for index, (label, name) in enumerate(zip(labels, names, strict=False)):
                runs = samples.setdefault(name, {"navigate": [], "change": []})
                try:
                    runs["navigate"].append({"round": round_, **tab.timed(links.nth(index).click)})
                    found = tab.change()
                    if found:
                        widget[name], (forth, back) = found
                        for prepare, act in (forth, back):
                            runs["change"].append(
                                {"round": round_, **tab.timed(act, prepare=prepare)}
                            )
                except Exception as error:
                    result["errors"].append(f"{label}: {str(error).splitlines()[0]}")
                    with contextlib.suppress(Exception):
                        page.goto(url + "/", timeout=ACTION_TIMEOUT_MS)
                        tab.drawn(wire.mark(), 0)
        # The largest map a link can ask for: sites in the countries with the most sites
        # (tens of thousands of points, drawn as grid cells). The link opens a new page
        # load (its "navigate" holds loading the app itself); the country changes after
        # it are reruns of that map.
        for round_ in range(repeat):
            runs = samples.setdefault("map_large", {"navigate": [], "change": []})
            try:
                runs["navigate"].append(
                    {"round": round_, **tab.timed(lambda: page.goto(f"{url}/map?{LARGE_MAP}"))}
                )
                found = tab.change()
                if found:
                    for prepare, act in found[1]:
                        runs["change"].append({"round": round_, **tab.timed(act, prepare=prepare)})
            except Exception as error:
                result["errors"].append(f"large map: {str(error).splitlines()[0]}")
        widget["map_large"] = "country select: China (CHN)"
        result["server_peak_rss_mb"] = sampler.stop()
        browser.close()
    result["pages"] = {
        name: summarise(runs, widget.get(name), result["views"].get(name))
        for name, runs in samples.items()
    }
    return result


def summarise(
    runs: dict[str, list[dict[str, Any]]], widget: str | None, view: dict[str, float] | None
) -> dict[str, Any]:
    """p50/p95 of each action's total, script run, bytes and drawing; the first visit
    (an empty st.cache_data) apart."""

    def part(samples: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not samples:
            return None
        scripts = [s["script_s"] for s in samples if s["script_s"] is not None]
        return {
            "total_s": _percentiles([s["total_s"] for s in samples]),
            "script_s": _percentiles(scripts),
            "draw_s": _percentiles(
                [s["total_s"] - s["script_s"] for s in samples if s["script_s"] is not None]
            ),
            "kb": _percentiles([s["bytes"] / 1024 for s in samples]),
            "first": samples[0],
            "drawn": {k: samples[-1].get(k) for k in ("charts", "maps", "tables", "title")},
            "errors": sum(s.get("errors", 0) for s in samples),
        }

    return {
        "navigate": part(runs["navigate"]),
        "change": part(runs["change"]),
        "widget": widget,
        "view_ms": view,
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.browser [DATA_DIR]`: the browser phase alone (demo warehouse by
    default), printed as JSON."""
    import json

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = argv if argv is not None else sys.argv[1:]
    if args:
        figures = measure_browser(Path(args[0]), 3)
    else:
        with tempfile.TemporaryDirectory(prefix="critmin-demo-") as scratch:
            figures = measure_browser(Path(scratch) / "warehouse", 3, demo=True)
    print(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
