"""Driving the app in headless Chromium (Debian's /usr/bin/chromium through Playwright's
Python package); the app itself is served by `bench.headless.serve`."""

from __future__ import annotations


def wait_for_render(page, timeout_ms: int = 60_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the script run has finished and the main block has content."""
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )
    page.wait_for_timeout(1500)  # charts and the map draw after the run ends
