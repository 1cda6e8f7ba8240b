"""`critmin fetch comtrade` against a local http.server on 127.0.0.1 serving recorded
responses: preview and keyed modes, pacing (10 calls a minute, as rOpenSci's comtradr),
429 and 403 with Retry-After as the API's gateway sends them, a 403 without it, a lasting
500, a closed port, resume after an interruption, the row cap, the daily budget and
--file. No test touches the internet, and no test waits: the clock is a fake one."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest
from fetch_server import FakeClock

from critmin import __version__
from critmin.cli import main
from critmin.fetch.comtrade import (
    Request,
    country_codes,
    parse_years,
    plan_requests,
)
from critmin.ingest.common import IngestError
from critmin.warehouse import Warehouse

FIXTURES = Path(__file__).parent / "data" / "comtrade"
GALLIUM = ("811291", "811292", "811299")

Reply = tuple[int, dict[str, str], bytes]


def api_rows(year: int, code: str, flows: list[str]) -> list[dict[str, Any]]:
    """Rows in the API's shape (taken from the recorded fixture), moved to year and code."""
    template = json.loads((FIXTURES / "kaz_2022.json").read_text())["data"][1]
    rows = []
    for flow in flows:
        for partner, iso, value in ((156, "CHN", 1000.0), (842, "USA", 2500.0)):
            row = dict(
                template,
                period=str(year),
                refYear=year,
                cmdCode=code,
                flowCode=flow,
                partnerCode=partner,
                partnerISO=iso,
                primaryValue=value,
                netWgt=value / 10,
                classificationCode="H5" if year < 2022 else "H6",
            )
            rows.append(row)
    return rows


def ok(rows: list[dict[str, Any]]) -> Reply:
    body = json.dumps({"elapsedTime": "0.01 secs", "count": len(rows), "data": rows, "error": ""})
    return 200, {"Content-Type": "application/json"}, body.encode()


class Api:
    """A scripted Comtrade server: a reply function plus per-call overrides."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.script: list[Reply] = []  # replies served first, in order
        self.default: Callable[[str, dict[str, str]], Reply] = self.data

    @staticmethod
    def data(path: str, params: dict[str, str]) -> Reply:
        codes = params["cmdCode"].split(",")
        year = int(params["period"])
        rows = [
            r
            for c in codes
            if c == "811292"
            for r in api_rows(year, c, params["flowCode"].split(","))
        ]
        return ok(rows)

    def reply(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        self.calls.append((path, params, headers))
        if self.script:
            return self.script.pop(0)
        return self.default(path, params)


@pytest.fixture
def api() -> Iterator[tuple[Api, str]]:
    state = Api()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, headers, body = state.reply(url.path, params, dict(self.headers))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return FakeClock().install(monkeypatch)


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    monkeypatch.delenv("COMTRADE_BASE_URL", raising=False)


def fetch(data_dir: Path, base_url: str, *extra: str, years: str = "2019") -> int:
    return main(
        [
            "--data-dir",
            str(data_dir),
            "fetch",
            "comtrade",
            "--reporter",
            "KAZ",
            "--years",
            years,
            "--minerals",
            "gallium",
            "--base-url",
            base_url,
            "--backoff",
            "0",
            "--retries",
            "2",
            "--timeout",
            "5",
            "--cache-dir",
            str(data_dir.parent / "cache"),
            *extra,
        ]
    )


def flows(data_dir: Path) -> pl.DataFrame:
    files = Warehouse(data_dir).parts("trade_flows")["comtrade"].files
    return pl.read_parquet([data_dir / f for f in files], hive_partitioning=True)


def test_preview_fetch_splits_per_code_and_loads(
    api: tuple[Api, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = api
    data_dir = tmp_path / "wh"
    assert fetch(data_dir, url, years="2019-2020") == 0
    assert [c[0] for c in state.calls] == ["/public/v1/preview/C/A/HS"] * 6
    asked = sorted((c[1]["period"], c[1]["cmdCode"]) for c in state.calls)
    assert asked == sorted((y, c) for y in ("2019", "2020") for c in GALLIUM)
    first = state.calls[0][1]
    assert (first["reporterCode"], first["flowCode"], first["maxRecords"]) == ("398", "X,M", "500")
    assert "Ocp-Apim-Subscription-Key" not in state.calls[0][2]
    frame = flows(data_dir)
    usa = frame.filter(
        (pl.col("year") == 2019)
        & (pl.col("side") == "exporter_reported")
        & (pl.col("importer") == "USA")
    )
    assert usa.select("exporter", "hs6", "value_usd", "quantity_kg").row(0) == (
        "KAZ",
        "811292",
        2500.0,
        250.0,
    )
    assert set(frame["side"]) == {"exporter_reported", "importer_reported"}
    assert "6 fetched, 0 already cached" in capsys.readouterr().out
    budget = json.loads((tmp_path / "cache" / "budget.json").read_text())
    assert budget["calls"] == 6
    # A second run reads everything from the cache: no call.
    assert fetch(data_dir, url, years="2019-2020") == 0
    assert len(state.calls) == 6


def test_keyed_fetch_one_call_per_year(
    api: tuple[Api, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = api
    monkeypatch.setenv("COMTRADE_API_KEY", "test-key")
    assert fetch(tmp_path / "wh", url, years="2021-2022") == 0
    assert [c[0] for c in state.calls] == ["/data/v1/get/C/A/HS"] * 2
    assert state.calls[0][1]["cmdCode"] == ",".join(GALLIUM)
    assert state.calls[0][1]["maxRecords"] == "100000"
    assert state.calls[0][2]["Ocp-Apim-Subscription-Key"] == "test-key"
    editions = dict(flows(tmp_path / "wh").select("year", "hs_edition").unique().iter_rows())
    assert editions == {2021: "HS17", 2022: "HS22"}


def test_calls_are_paced_keyless_and_keyed(
    api: tuple[Api, str], tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = api
    assert fetch(tmp_path / "wh", url) == 0
    assert len(state.calls) == 3 and clock.sleeps == [6.0, 6.0]  # 10 calls a minute
    assert state.calls[0][2]["User-Agent"].startswith(f"critmin/{__version__} ")
    monkeypatch.setenv("COMTRADE_API_KEY", "test-key")
    clock.sleeps.clear()
    assert fetch(tmp_path / "wh2", url, "--pace", "12", years="2019-2021") == 0
    assert clock.sleeps == [12.0, 12.0]  # configurable, and the keyed API is paced too


RATE_LIMITED = (
    429,
    {"Retry-After": "2", "Content-Type": "application/json"},
    b'{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 2 seconds."}',
)


def test_429_is_retried_after_the_wait_it_asks_and_costs_no_budget(
    api: tuple[Api, str], tmp_path: Path, clock: FakeClock
) -> None:
    state, url = api
    state.script = [RATE_LIMITED]
    assert fetch(tmp_path / "wh", url) == 0
    assert len(state.calls) == 4  # 3 codes, one asked twice
    assert 2.0 in clock.sleeps  # Retry-After honoured
    budget = json.loads((tmp_path / "cache" / "budget.json").read_text())
    assert budget["calls"] == 3  # the retry does not spend the daily budget


def test_403_with_retry_after_is_waited_for_like_429(
    api: tuple[Api, str], tmp_path: Path, clock: FakeClock
) -> None:
    """The gateway answers a quota reached for a short window with 403 and Retry-After;
    comtradr retries it like a 429."""
    state, url = api
    state.script = [(403, {"Retry-After": "30"}, b'{"statusCode": 403}')]
    assert fetch(tmp_path / "wh", url) == 0
    assert len(state.calls) == 4 and 30.0 in clock.sleeps


def test_403_for_a_used_up_quota_stops_with_when_to_re_run(
    api: tuple[Api, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    state, url = api
    body = b'{"statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 05:00:00."}'
    state.default = lambda path, params: (403, {"Retry-After": "18000"}, body)
    assert fetch(tmp_path / "wh", url) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and len(state.calls) == 1
    assert (
        "the server asks to wait 5.0 h before the next request (HTTP 403 with Retry-After)" in err
    )
    assert "daily call quota is used up" in err and "re-run after" in err
    assert clock.sleeps == []  # it did not sleep five hours


def test_403_without_retry_after_says_what_it_can_mean(
    api: tuple[Api, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = api
    state.default = lambda path, params: (
        403,
        {"Content-Type": "application/json"},
        b'{"statusCode": 403, "message": "Forbidden"}',
    )
    assert fetch(tmp_path / "wh", url) == 1
    err = capsys.readouterr().err
    assert len(state.calls) == 1  # not asked again
    assert 'HTTP 403) (the server says: "Forbidden")' in err
    for meaning in ("quota is used up", "$COMTRADE_API_KEY is wrong or not subscribed", "proxy"):
        assert meaning in err


def test_lasting_500_fails_in_one_line(
    api: tuple[Api, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = api
    state.default = lambda path, params: (500, {}, b"internal error")
    assert fetch(tmp_path / "wh", url) == 1
    err = capsys.readouterr().err
    assert "HTTP 500 after 3 attempt(s)" in err and len(err.strip().splitlines()) == 1
    assert len(state.calls) == 3  # the first request, retried twice
    assert not (tmp_path / "wh" / "manifest.json").exists()


def test_closed_port_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert fetch(tmp_path / "wh", f"http://127.0.0.1:{port}") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"critmin: cannot reach 127.0.0.1:{port} (Connection refused)")
    assert (
        f"for http://127.0.0.1:{port}/public/v1/preview" in err
        and "cached responses are kept" in err
    )
    assert len(err.splitlines()) == 1


def test_resume_after_interruption(api: tuple[Api, str], tmp_path: Path) -> None:
    state, url = api
    calls = {"n": 0}

    def fail_second(path: str, params: dict[str, str]) -> Reply:
        calls["n"] += 1
        if calls["n"] >= 2:
            return 503, {"Retry-After": "0"}, b"busy"
        return Api.data(path, params)

    state.default = fail_second
    assert fetch(tmp_path / "wh", url) == 1
    cached = sorted(p.name for p in (tmp_path / "cache").glob("*.json") if p.name != "budget.json")
    assert len(cached) == 1
    done = {c[1]["cmdCode"] for c in state.calls[:1]}
    state.calls.clear()
    state.default = Api.data
    assert fetch(tmp_path / "wh", url) == 0
    again = {c[1]["cmdCode"] for c in state.calls}
    assert again == set(GALLIUM) - done and len(state.calls) == 2
    assert "811292" in flows(tmp_path / "wh")["hs6"].to_list()


def test_capped_preview_answer_is_split_per_flow(
    api: tuple[Api, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state, url = api

    def capped(path: str, params: dict[str, str]) -> Reply:
        if params["flowCode"] == "X,M" and params["cmdCode"] == "811292":
            template = api_rows(2019, "811292", ["X"])[0]
            return ok([dict(template, partnerCode=i) for i in range(500)])
        return Api.data(path, params)

    state.default = capped
    assert fetch(tmp_path / "wh", url) == 0
    flows_asked = [c[1]["flowCode"] for c in state.calls if c[1]["cmdCode"] == "811292"]
    assert flows_asked == ["X,M", "X", "M"]
    # A re-run knows the split: no call at all.
    state.calls.clear()
    assert fetch(tmp_path / "wh", url) == 0
    assert state.calls == []


def test_daily_budget_stops_and_resumes(
    api: tuple[Api, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = api
    assert fetch(tmp_path / "wh", url, "--max-calls-per-day", "2") == 1
    err = capsys.readouterr().err
    assert "daily budget of 2 calls is used up" in err and "1 request(s) left" in err
    assert len(state.calls) == 2
    assert fetch(tmp_path / "wh", url, "--max-calls-per-day", "3") == 0
    assert len(state.calls) == 3


def test_file_option_loads_responses_without_a_call(api: tuple[Api, str], tmp_path: Path) -> None:
    state, url = api
    data_dir = tmp_path / "wh"
    assert main(["--data-dir", str(data_dir), "fetch", "comtrade", "--file", str(FIXTURES)]) == 0
    assert state.calls == []
    assert "KAZ" in set(flows(data_dir)["exporter"]) | set(flows(data_dir)["importer"])


def test_planning_helpers() -> None:
    assert parse_years("2012-2014,2020") == [2012, 2013, 2014, 2020]
    with pytest.raises(IngestError, match="runs backwards"):
        parse_years("2020-2012")
    assert country_codes("KAZ,USA,FRA,156", "--reporter") == [398, 842, 251, 156]
    with pytest.raises(IngestError, match="'XXX' is not an ISO3"):
        country_codes("XXX", "--partners")
    keyed = plan_requests([398], [2019, 2020], list(GALLIUM), ["X"], None, keyed=True)
    assert len(keyed) == 2 and keyed[0].codes == GALLIUM
    preview = plan_requests([398], [2019], list(GALLIUM), ["X", "M"], [156], keyed=False)
    assert [r.codes for r in preview] == [(c,) for c in GALLIUM]
    assert preview[0].params(500)["partnerCode"] == "156"
    assert (
        Request(398, 2019, ("811292",), ("X",), None, False).key == "398_2019_X_811292_pall_preview"
    )
