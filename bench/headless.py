"""Headless Chromium as the project drives it (browser test, load run, benchmark):
Debian's /usr/bin/chromium through Playwright, with the flags that keep it off
the network of this offline workplace."""

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
