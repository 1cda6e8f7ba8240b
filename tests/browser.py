"""Helpers to serve the app and drive it in headless Chromium (Debian's
/usr/bin/chromium through Playwright's Python package)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.headless import streamlit_command

REPO = Path(__file__).resolve().parents[1]
PAGES = [
    "overview",
    "growth",
    "partners",
    "suppliers",
    "diversification",
    "latest",
    "mirror",
    "map",
    "explorer",
    "about",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_app(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """Run `streamlit run app.py` on loopback against data_dir; yield its base URL."""
    port = port or free_port()
    env = {**os.environ, "CRITMIN_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        streamlit_command(REPO / "app.py", port),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the app did not answer its health check within 60 s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for_render(page, timeout_ms: int = 60_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the script run has finished and the main block has content."""
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )
    page.wait_for_timeout(1500)  # charts and the map draw after the run ends
