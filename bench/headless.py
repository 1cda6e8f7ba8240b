"""The app and Chromium as the project's tests and benchmark run them: `streamlit run
serve.py` (the app with its warm-up; app.py in a checkout without one) on a free loopback port (no usage statistics, no file watcher), and Debian's
/usr/bin/chromium through Playwright with the flags that keep it off the network."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
).split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str, timeout: float = 2.0) -> bool:
    """True when the app's health check answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path | None

    def tail(self, lines: int = 30) -> str:
        if self.log is None:
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def serve(data_dir: Path, app_dir: Path = REPO, log: Path | None = None) -> Iterator[Server]:
    """`streamlit run serve.py` (app.py where there is none) from app_dir against data_dir
    until the block ends (TERM, then KILL after 10 s). Another checkout's app runs on its
    own src/."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CRITMIN_PASSWORD"}
    env["CRITMIN_DATA_DIR"] = str(data_dir)
    if app_dir != REPO:
        env["PYTHONPATH"] = str(app_dir / "src")
    entry = "serve.py" if (app_dir / "serve.py").exists() else "app.py"
    command = [sys.executable, "-m", "streamlit", "run", entry, "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--server.port", str(port)]
    command += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log or os.devnull, "wb") as out:
        process = subprocess.Popen(
            command, cwd=app_dir, env=env, stdout=out, stderr=out, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 90
        while not answers(server.url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not answer its health check\n{server.tail()}")
            time.sleep(0.2)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
