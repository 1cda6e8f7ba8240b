"""Smoke test of the capacity tool (`bench.capacity`) against one real server on the demo
warehouse: a short load run and a short churn run report every field, without errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_stress import REPO, Server, serve

from bench import capacity
from bench.streamlit_client import NotLoopbackError, Session


@pytest.fixture(scope="module")
def server(demo_warehouse_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("capacity") / "server.log"
    with serve(REPO, demo_warehouse_dir, log) as running:
        yield running


def test_a_short_load_run_reports_every_field(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "load.json"
    argv = ["--url", server.url, "--users", "3", "--minutes", "0.25", "--think", "0.3-1"]
    argv += ["--ramp", "1", "--server-pid", str(server.process.pid), "--json", str(out)]
    status = capacity.main(argv)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert status == 0, report["error_examples"]
    assert report["errors"] == 0 and report["errors_by_kind"] == {}
    assert report["sessions"] == 3 and report["users"] == 3
    # each user opens a page and changes filters: more reruns than sessions
    assert report["actions"] > report["sessions"]
    assert report["reruns_per_s"] > 0
    latency = report["latency_s"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert report["server_pids"] == [server.process.pid]
    assert report["server_cpu_s"] > 0 and report["server_cores_used"] > 0
    rss = report["server_rss_mb"]
    assert 0 < rss["start"] <= rss["peak"] and rss["end"] <= rss["peak"]
    table = capsys.readouterr().out
    assert "reruns per second" in table and "server RSS MB" in table


def test_churn_reports_memory_before_peak_and_after(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "churn.json"
    argv = ["--url", server.url, "--churn", "6", "--concurrency", "3", "--settle", "1"]
    argv += ["--server-pid", str(server.process.pid), "--json", str(out)]
    assert capacity.main(argv) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["opened"] == 6 and report["errors"] == 0
    rss = report["rss_mb"]
    assert set(rss) == {"idle_before", "peak", "after_close", "after_settle"}
    # idle_before may exceed the peak: the process can give memory back meanwhile
    assert all(v > 0 for v in rss.values())
    assert rss["after_close"] <= rss["peak"]


@pytest.mark.parametrize(
    "url", ["http://example.com:8501", "http://10.0.0.5:8501", "ftp://127.0.0.1/"]
)
def test_only_loopback_urls(url: str) -> None:
    with pytest.raises(NotLoopbackError):
        Session(url)
    with pytest.raises(NotLoopbackError):
        capacity.main(["--url", url, "--users", "1", "--minutes", "0.01"])
