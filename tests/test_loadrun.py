"""The load run: loopback only, and a short smoke run (2 users, ~20 s) against a
real server in headless Chromium with no errors and no state crossing sessions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.loadrun import CHROMIUM, UserPlan, check_loopback, run_load


def test_only_loopback_urls_are_accepted() -> None:
    assert check_loopback("http://127.0.0.1:8601/") == "http://127.0.0.1:8601"
    for url in ["http://example.com:8501", "https://127.0.0.1:8601", "http://10.0.0.5:80"]:
        with pytest.raises(SystemExit, match="loopback"):
            check_loopback(url)


def test_every_user_has_distinct_filters() -> None:
    plans = [UserPlan.for_user(i) for i in range(20)]
    assert len({p.country for p in plans}) == 20
    assert all(p.country != p.other_country for p in plans)
    assert all(2012 <= p.year_from < p.year_to <= 2024 for p in plans)


@pytest.mark.browser
def test_smoke_load_run(demo_warehouse_dir: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from browser import serve_app

    with serve_app(demo_warehouse_dir) as url:
        report = asyncio.run(run_load(url, users=2, minutes=20 / 60))
    assert report.errors == 0, report.error_samples
    assert report.isolation_failures == 0, report.error_samples
    assert report.timeouts == 0, report.error_samples
    assert report.interactions >= 4
    assert report.isolation_checks >= 2
