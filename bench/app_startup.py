"""Start-up and memory of the real app: `streamlit run app.py` to first page rendered
in headless Chromium, then every page of the navigation visited once, with the
app process tree's RSS sampled throughout.

Skips (returns a reason) when app.py is missing, Playwright or Chromium is not
installed, or the first page does not render within the time limit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.headless import CHROMIUM, CHROMIUM_ARGS, streamlit_command
from critmin.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

CONTENT = (
    '[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"], '
    '[data-testid="stDeckGlJsonChart"], [data-testid="stDataFrame"], '
    '[data-testid="stMetric"], [data-testid="stAlert"]'
)
RENDER_TIMEOUT_S = 120.0


@dataclass
class AppRun:
    skipped: str | None = None
    first_render_s: float | None = None
    pages: dict[str, float] = field(default_factory=dict)  # page label -> seconds to settle
    peak_rss_mb: float | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class RssSampler(threading.Thread):
    """Samples the RSS of a process and its children every 50 ms; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            with contextlib.suppress(psutil.Error):
                procs = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            time.sleep(0.05)

    def stop(self) -> float:
        self._stop_event.set()
        self.join(timeout=1)
        return self.peak / 2**20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settle(page: Any, deadline: float) -> None:
    """Wait until the app has stopped running the script and shows content."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=max(1.0, deadline - time.time()) * 1e3)
    page.wait_for_selector(CONTENT, timeout=max(1.0, deadline - time.time()) * 1e3)
    with contextlib.suppress(Exception):
        page.wait_for_selector(
            '[data-testid="stStatusWidget"]',
            state="detached",
            timeout=max(1.0, deadline - time.time()) * 1e3,
        )


def measure_app(data_dir: Path, app: Path | None = None) -> AppRun:
    app = app or PROJECT_ROOT / "app.py"
    if not app.is_file():
        return AppRun(skipped=f"{app} does not exist yet")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return AppRun(skipped="playwright is not installed")
    if not Path(CHROMIUM).exists():
        return AppRun(skipped=f"{CHROMIUM} not found")
    port = _free_port()
    env = {**os.environ, "CRITMIN_DATA_DIR": str(data_dir)}
    command = streamlit_command(app, port)
    result = AppRun()
    started = time.perf_counter()
    server = subprocess.Popen(
        command,
        cwd=app.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    sampler = RssSampler(server.pid)
    sampler.start()
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            deadline = time.time() + RENDER_TIMEOUT_S
            while True:
                try:
                    page.goto(url, timeout=5_000)
                    break
                except Exception:
                    if time.time() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.2)
            try:
                _settle(page, deadline)
            except Exception as error:
                result.skipped = f"the first page did not render within {RENDER_TIMEOUT_S:.0f} s"
                result.errors.append(str(error).splitlines()[0])
                return result
            result.first_render_s = time.perf_counter() - started
            if page.locator('[data-testid="stException"]').count():
                result.errors.append("the first page shows an exception")
            links = page.locator('[data-testid="stSidebarNav"] a')
            # The link text starts with the icon's ligature name on its own line.
            labels = [
                links.nth(i).inner_text().strip().splitlines()[-1].strip()
                for i in range(links.count())
            ]
            for index, label in enumerate(labels):
                t0 = time.perf_counter()
                try:
                    page.locator('[data-testid="stSidebarNav"] a').nth(index).click()
                    page.wait_for_timeout(100)
                    _settle(page, time.time() + 60)
                    result.pages[label] = time.perf_counter() - t0
                    if page.locator('[data-testid="stException"]').count():
                        result.errors.append(f"page {label} shows an exception")
                except Exception as error:
                    result.errors.append(f"page {label}: {str(error).splitlines()[0]}")
            browser.close()
    except Exception as error:
        result.skipped = f"the app did not start: {str(error).splitlines()[0]}"
    finally:
        result.peak_rss_mb = sampler.stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        if result.skipped and server.stderr is not None:
            tail = server.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
            result.errors += tail
    return result
