"""Headless Chromium as the project drives it (browser test, load run, benchmark):
Debian's /usr/bin/chromium through Playwright, with the flags that keep it off
the network of this offline workplace; and the one `streamlit run app.py` command
those runs serve it with."""

import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def streamlit_command(app: Path, port: int) -> list[str]:
    """`streamlit run app.py` headless on a loopback port, without usage statistics or
    a file watcher (the runs measure the app, not reloads)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
