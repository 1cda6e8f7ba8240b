"""The capacity tool: Locust driving `bench.session` tabs against one real server on the
demo warehouse, as load and as session churn, without a failed run and with the server
still answering; and the client it drives refuses anything but loopback."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.headless import REPO, Server, answers, serve
from bench.session import NotLoopbackError, Run, Session, Widget, a_change


@pytest.fixture(scope="module")
def server(demo_warehouse_dir: Path) -> Iterator[Server]:
    with serve(demo_warehouse_dir) as running:
        yield running


def locust(server: Server, out: Path, *options: str) -> tuple[list[dict], str]:
    """A short headless Locust run; its stats (one entry per request name) and output."""
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "bench/capacity.py", "--headless"]
        + ["--host", server.url, "--server-pid", str(server.process.pid)]
        + ["--only-summary", "--json-file", str(out), *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.with_suffix(".json").read_text()), done.stdout


@pytest.mark.load
def test_visitors_open_pages_and_change_filters_without_failures(
    server: Server, tmp_path: Path
) -> None:
    stats, output = locust(server, tmp_path / "load", "-u", "3", "-r", "3", "-t", "20s")
    names = {entry["name"].split()[0] for entry in stats}
    assert names == {"open", "change"}, names
    assert sum(entry["num_requests"] for entry in stats) > 3
    assert sum(entry["num_failures"] for entry in stats) == 0, stats
    assert "server CPU" in output and "RSS MB start" in output
    assert answers(server.url)


@pytest.mark.load
def test_session_churn_without_failures(server: Server, tmp_path: Path) -> None:
    stats, output = locust(
        server, tmp_path / "churn", "-u", "3", "-r", "3", "-t", "5s", "--churn", "--settle", "1"
    )
    assert sum(entry["num_requests"] for entry in stats) >= 3
    assert sum(entry["num_failures"] for entry in stats) == 0, stats
    assert "1 s later" in output
    assert answers(server.url)


@pytest.mark.parametrize(
    "url", ["http://example.com:8501", "http://10.0.0.5:8501", "ftp://127.0.0.1/"]
)
def test_only_loopback_urls(url: str) -> None:
    with pytest.raises(NotLoopbackError):
        Session(url)


def test_a_change_is_a_value_a_user_could_give() -> None:
    run = Run("growth")
    run.drawn = {
        (1, 0): Widget("a", "selectbox", "growth:country", ["Kazakhstan (KAZ)", "China (CHN)"]),
        (1, 1): Widget("b", "multiselect", "growth:minerals", ["gallium"], max_selections=0),
        (1, 2): Widget("c", "slider", "growth:years", minimum=2012, maximum=2024),
        (1, 3): Widget("d", "number_input", "map:year", minimum=2012, maximum=2024, is_int=True),
    }
    rng = random.Random(7)
    seen = set()
    for _ in range(200):
        change = a_change(run, rng)
        assert change is not None
        widget, value = change
        seen.add(widget.kind)
        if widget.kind == "selectbox":
            assert value in widget.options
        elif widget.kind == "multiselect":
            assert value == ["gallium"]
        elif widget.kind == "slider":
            assert 2012 <= value[0] <= value[1] <= 2024
        else:
            assert 2012 <= value <= 2024
        widget.state(value)  # the wire form exists for every kind
    assert seen == {"selectbox", "multiselect", "slider", "number_input"}
    assert a_change(Run("about"), rng) is None
