"""`critmin fetch comtrade --monthly`, `fetch comext` and `fetch census`, and the monthly
steps of `fetch all`, against a local server answering as the sources publish
(tests/fetch_server.py: UN Comtrade's monthly JSON, Comext's SDMX-CSV and its 413, the
Census Bureau's JSON arrays and 204, the ECB's CSV): what is asked, what is loaded,
pacing, Retry-After, resuming, the daily budgets, answers asked again while their months
may still be revised, and optional sources that fail without stopping the others. No test
touches the internet or waits: the clock is a fake one."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
from conftest import one_row, part_frame
from fetch_server import (
    CENSUS_EXPORTS,
    CENSUS_IMPORTS,
    COMEXT_DATA,
    COMTRADE_MONTHLY_PATHS,
    ECB_EXR,
    MONTHLY_ENVS,
    SOURCE_ENVS,
    FakeClock,
    FileServer,
    Hit,
    Status,
    census_api,
    comext_api,
    comtrade_monthly_api,
    publish_monthly,
    publish_sources,
    running,
)

from critmin import __version__
from critmin.cli import main
from critmin.fetch import answers
from critmin.fetch.answers import Month
from critmin.ingest.common import IngestError
from critmin.warehouse import Warehouse

PREVIEW, KEYED = COMTRADE_MONTHLY_PATHS[1], COMTRADE_MONTHLY_PATHS[0]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FileServer]:
    state = FileServer()
    for stream in running(state):
        publish_sources(state)
        publish_monthly(state)
        for env in (*SOURCE_ENVS, *MONTHLY_ENVS):
            monkeypatch.setenv(env, state.url)
        monkeypatch.delenv("CRITMIN_BACI_RELEASE", raising=False)
        yield stream


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return FakeClock().install(monkeypatch)


def fetch(data_dir: Path, source: str, *args: str) -> int:
    return main(
        ["--data-dir", str(data_dir), "fetch", source, *args, "--retries", "2", "--backoff", "0"]
    )


def query(hit: Hit) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(hit.path).query).items()}


def api_hits(server: FileServer, prefix: str) -> list[Hit]:
    return [h for h in server.hits if h.method == "GET" and h.path.startswith(prefix)]


def comext_key(hit: Hit) -> list[str]:
    """The positions of a Comext SDMX key: freq, reporter, partner, product, flow, indicator."""
    return urlsplit(hit.path).path.removeprefix(COMEXT_DATA).split(".")


def part(data_dir: Path, name: str) -> pl.DataFrame:
    return part_frame(data_dir, "monthly_flows", name)


def age(path: Path, days: float) -> None:
    """Make a kept answer look `days` old."""
    then = time.time() - days * 86_400
    os.utime(path, (then, then))


# --- months -------------------------------------------------------------------------------


def test_months_option() -> None:
    today = dt.date(2026, 5, 20)
    months = answers.parse_months("2025-11:2026-12", today=today)
    assert months[0] == Month(2025, 11) and months[-1] == Month(2026, 5)  # nothing after May
    assert [m.yyyymm for m in answers.parse_months("2025-03,2025-01", today=today)] == [
        "202501",
        "202503",
    ]
    assert answers.default_months(today) == "2024-01:2026-05"
    for bad, reason in (("2025-13", "not a month"), ("2026-02:2025-01", "runs backwards")):
        with pytest.raises(IngestError, match=reason):
            answers.parse_months(bad, today=today)
    with pytest.raises(IngestError, match="no month up to 2026-05"):
        answers.parse_months("2027-01:2027-03", today=today)


# --- UN Comtrade monthly ------------------------------------------------------------------


def comtrade(data_dir: Path, *args: str) -> int:
    return fetch(
        data_dir,
        "comtrade",
        "--monthly",
        "--minerals",
        "gallium",
        "--cache-dir",
        str(data_dir.parent / "cache"),
        *args,
    )


def test_monthly_partners_declarations_and_the_focus_countrys_own(
    server: FileServer, demo_copy: Path, clock: FakeClock
) -> None:
    assert comtrade(demo_copy, "--months", "2025-01:2025-03", "--partners", "CHN,USA") == 0
    hits = api_hits(server, PREVIEW)
    asked = [query(h) for h in hits]
    assert [(q["reporterCode"], q.get("partnerCode")) for q in asked] == [
        ("156", "398"),
        ("842", "398"),
        ("398", None),  # Kazakhstan's own declarations, every partner
    ]
    first = asked[0]
    assert first["period"] == "202501,202502,202503"  # one calendar year, at most 12
    assert (first["cmdCode"], first["flowCode"], first["maxRecords"]) == (
        "811292,811299",
        "X,M",
        "500",
    )
    assert "Ocp-Apim-Subscription-Key" not in hits[0].headers
    assert hits[0].headers["User-Agent"].startswith(f"critmin/{__version__} ")
    assert clock.sleeps == [6.0, 6.0]  # 10 calls a minute, as comtradr
    rows = part(demo_copy, "comtrade")
    chn = one_row(rows, reporter="CHN", partner="KAZ", month=2, flow="import")
    assert chn["value_usd"] == (156 + 398) * 10 + 200 + 1  # the server's value for M
    assert (chn["side"], chn["national_code"], chn["period"]) == (
        "importer_reported",
        "811292",
        "202502",
    )
    kaz = one_row(rows, reporter="KAZ", partner="CHN", month=3, flow="export")
    assert kaz["side"] == "exporter_reported" and kaz["value_usd"] == (398 + 156) * 10 + 300 + 1
    assert "WLD" not in rows["partner"].to_list()  # World rows skipped
    assert "demo" not in Warehouse(demo_copy).parts("monthly_flows")


def test_default_partners_and_the_keyed_endpoint(
    server: FileServer, demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMTRADE_API_KEY", "test-key")
    assert comtrade(demo_copy, "--months", "2024-11:2025-01", "--partners", "default,GBR") == 0
    hits = api_hits(server, KEYED)
    assert hits and hits[0].headers["Ocp-Apim-Subscription-Key"] == "test-key"
    by_year: dict[str, set[str]] = {}
    for hit in hits:
        q = query(hit)
        assert q["maxRecords"] == "100000"
        by_year.setdefault(q["period"], set()).add(q["reporterCode"])
    assert set(by_year) == {"202411,202412", "202501"}  # split at the calendar year
    reporters = by_year["202501"]
    # China, Russia, the USA, Japan, Korea, Turkiye, India, the 27 EU members (France as
    # 251, Comtrade's code), Great Britain as asked, and Kazakhstan itself.
    assert {
        "156",
        "643",
        "842",
        "392",
        "410",
        "792",
        "699",
        "251",
        "276",
        "826",
        "398",
    } <= reporters
    assert len(reporters) == 7 + 27 + 1 + 1


def test_capped_keyless_answer_is_asked_per_code_then_kept_split(
    server: FileServer, demo_copy: Path
) -> None:
    normal = comtrade_monthly_api()

    def capped(path: str, q: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if "," in q["cmdCode"]:
            status, headers, body = normal(path, q)
            payload = json.loads(body)
            payload["data"] = (payload["data"] * 500)[:500]
            return status, headers, json.dumps(payload).encode()
        return normal(path, q)

    server.apis[PREVIEW] = capped
    args = ("--months", "2025-01:2025-02", "--partners", "CHN")
    assert comtrade(demo_copy, *args) == 0
    codes = [query(h)["cmdCode"] for h in api_hits(server, PREVIEW)]
    assert codes == ["811292,811299", "811292", "811299"] * 2  # China, then Kazakhstan
    before = len(server.hits)
    assert comtrade(demo_copy, *args) == 0  # the split is remembered: nothing asked
    assert len(server.hits) == before


def test_rate_limit_is_waited_for_and_an_interrupted_run_resumes(
    server: FileServer, demo_copy: Path, clock: FakeClock
) -> None:
    normal = comtrade_monthly_api()
    served: list[str] = []
    limited = (
        429,
        {"Retry-After": "3", "Content-Type": "application/json"},
        b'{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 3 seconds."}',
    )

    def flaky(path: str, q: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        served.append(q["reporterCode"])
        if len(served) == 1:
            return limited
        if q["reporterCode"] == "643":
            return 503, {}, b"busy"  # Russia's call keeps failing
        return normal(path, q)

    server.apis[PREVIEW] = flaky
    args = ("--months", "2025-01:2025-02", "--partners", "CHN,RUS")
    assert comtrade(demo_copy, *args) == 1
    assert served == ["156", "156", "643", "643", "643"] and 3.0 in clock.sleeps
    cache = demo_copy.parent / "cache"
    kept = [p.name for p in cache.glob("*.json") if p.name != "budget.json"]
    assert len(kept) == 1 and kept[0].startswith("156_2025m01-02_")
    budget = json.loads((cache / "budget.json").read_text())
    assert budget["calls"] == 1  # China's call; retries and the failed call are not counted
    server.apis[PREVIEW] = normal
    asked = len(api_hits(server, PREVIEW))
    assert comtrade(demo_copy, *args) == 0
    again = [query(h)["reporterCode"] for h in api_hits(server, PREVIEW)[asked:]]
    assert again == ["643", "398"]  # China's answer was kept
    assert {"CHN", "RUS"} <= set(part(demo_copy, "comtrade")["reporter"])


def test_answers_of_months_still_revised_are_asked_again_after_refresh_days(
    server: FileServer, demo_copy: Path
) -> None:
    today = dt.date.today()
    recent = f"{today.year}-01:{today.year}-01"
    old = f"{today.year - 3}-01:{today.year - 3}-01"
    for months in (recent, old):
        assert comtrade(demo_copy, "--months", months, "--partners", "CHN") == 0
    cache = demo_copy.parent / "cache"
    for kept in cache.glob("*_preview-M.json"):
        age(kept, 30)
    asked = len(api_hits(server, PREVIEW))
    for months in (recent, old):
        assert comtrade(demo_copy, "--months", months, "--partners", "CHN") == 0
    periods = {query(h)["period"] for h in api_hits(server, PREVIEW)[asked:]}
    assert periods == {f"{today.year}01"}  # final months are never asked again
    asked = len(api_hits(server, PREVIEW))
    assert comtrade(demo_copy, "--months", recent, "--partners", "CHN") == 0
    assert len(api_hits(server, PREVIEW)) == asked  # fresh again: kept


def test_monthly_budget_is_the_annual_one(server: FileServer, demo_copy: Path) -> None:
    cache = demo_copy / "cache"
    (cache / "comtrade").mkdir(parents=True)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    (cache / "comtrade" / "budget.json").write_text(json.dumps({"date": today, "calls": 499}))
    args = ["fetch", "comtrade", "--monthly", "--minerals", "gallium", "--partners", "CHN"]
    assert main(["--data-dir", str(demo_copy), *args, "--months", "2025-01"]) == 1
    assert len(api_hits(server, PREVIEW)) == 1  # one call left today, then the stop
    assert (cache / "comtrade_monthly").is_dir()


# --- Eurostat Comext ------------------------------------------------------------------


def test_comext_asks_the_c5_for_the_baskets_and_cn8_lines_and_converts_at_ecb_rates(
    server: FileServer, demo_copy: Path
) -> None:
    assert fetch(demo_copy, "comext", "--months", "2025-01:2025-03", "--minerals", "gallium") == 0
    (hit,) = api_hits(server, COMEXT_DATA)
    key = urlsplit(hit.path).path.removeprefix(COMEXT_DATA)
    assert key == "M..KZ+KG+TJ+TM+UZ.811292+81129289+811299.1+2.VALUE_IN_EUROS+QUANTITY_IN_100KG"
    assert query(hit) == {
        "format": "SDMX-CSV",
        "startPeriod": "2025-01",
        "endPeriod": "2025-03",
    }
    (rates,) = api_hits(server, ECB_EXR)
    assert query(rates)["format"] == "csvdata" and query(rates)["startPeriod"] == "2025-01"
    rows = part(demo_copy, "comext")
    de = one_row(
        rows, reporter="DEU", partner="KAZ", national_code="81129289", month=2, flow="import"
    )
    euros = 2 * 1000 + 2 * 37 + 5  # the server's value for DE, February, flow 1
    assert de["value_native"] == euros and de["currency"] == "EUR"
    assert de["value_usd"] == pytest.approx(euros * 1.082)  # February's rate
    assert de["quantity_kg"] == pytest.approx(euros / 400 * 100)  # 100 kg units
    assert de["classification"] == "CN8" and de["vintage"] == dt.date(2026, 11, 15)
    hs6 = one_row(
        rows, reporter="FRA", partner="UZB", national_code="811292", month=1, flow="export"
    )
    assert hs6["classification"] == "HS"
    assert set(rows["reporter"]) == {"DEU", "FRA"}  # Eurostat's EU aggregate skipped


def test_comext_413_is_asked_per_partner_and_remembered(
    server: FileServer, demo_copy: Path
) -> None:
    server.apis[COMEXT_DATA] = comext_api(max_partners=1)
    args = ("--months", "2025-01:2025-01", "--minerals", "gallium")
    assert fetch(demo_copy, "comext", *args) == 0
    partners = [comext_key(h)[2] for h in api_hits(server, COMEXT_DATA)]
    assert partners == ["KZ+KG+TJ+TM+UZ", "KZ", "KG", "TJ", "TM", "UZ"]
    assert set(part(demo_copy, "comext")["partner"]) == {"KAZ", "KGZ", "TJK", "TKM", "UZB"}
    asked = len(api_hits(server, COMEXT_DATA))
    assert fetch(demo_copy, "comext", *args, "--refresh-days", "0") == 0
    again = [comext_key(h)[2] for h in api_hits(server, COMEXT_DATA)[asked:]]
    assert again == ["KZ", "KG", "TJ", "TM", "UZ"]  # straight to the pieces


def test_comext_without_the_ecb_loads_euros_and_says_so(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.fault(ECB_EXR, *[Status(503, (("Retry-After", "0"),))] * 3)
    assert fetch(demo_copy, "comext", "--months", "2025-01", "--minerals", "gallium") == 0
    out = capsys.readouterr().out
    assert "the ECB's USD/EUR rates could not be fetched" in out and "euros only" in out
    rows = part(demo_copy, "comext")
    assert rows["value_usd"].null_count() == rows.height and rows["value_native"].min() > 0


def test_comext_answer_that_is_not_sdmx_csv_is_not_kept(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.apis[COMEXT_DATA] = lambda path, q: (200, {}, b"<message>async: key 1234</message>\n")
    assert fetch(demo_copy, "comext", "--months", "2025-01", "--minerals", "gallium") == 1
    assert "the answer is not SDMX-CSV" in capsys.readouterr().err
    assert list((demo_copy / "cache" / "comext").glob("*.csv")) == []
    assert "comext" not in Warehouse(demo_copy).parts("monthly_flows")


# --- US Census ----------------------------------------------------------------------------


def test_census_one_call_per_month_chapter_and_national_lines(
    server: FileServer, demo_copy: Path
) -> None:
    assert fetch(demo_copy, "census", "--months", "2025-05:2025-06", "--minerals", "gallium") == 0
    asked = [query(h) for h in api_hits(server, CENSUS_IMPORTS)]
    assert [(q["time"], q["COMM_LVL"], q["I_COMMODITY"]) for q in asked] == [
        ("2025-05", "HS6", "81*"),
        ("2025-05", "HS10", "811292*"),
        ("2025-06", "HS6", "81*"),
        ("2025-06", "HS10", "811292*"),
    ]
    assert asked[0]["get"] == "CTY_CODE,CTY_NAME,I_COMMODITY,GEN_VAL_MO,GEN_QY1_MO,UNIT_QY1"
    assert "key" not in asked[0]
    rows = part(demo_copy, "census")
    kz = one_row(rows, partner="KAZ", national_code="8112921000", month=6)
    assert kz["value_usd"] == len("KAZAKHSTAN") * 1000 + 60 + 10
    assert (kz["classification"], kz["reporter"], kz["quantity_kg"]) == (
        "HTS10",
        "USA",
        float(kz["value_usd"] // 50),
    )
    assert set(rows["partner"]) == {"KAZ", "CHN", "DEU"}  # the total and the EU group skipped


def test_census_exports_when_asked(server: FileServer, demo_copy: Path) -> None:
    args = ("--months", "2025-06", "--minerals", "gallium", "--exports")
    assert fetch(demo_copy, "census", *args) == 0
    (asked,) = [query(h) for h in api_hits(server, CENSUS_EXPORTS)]
    assert asked["get"] == "CTY_CODE,CTY_NAME,E_COMMODITY,ALL_VAL_MO,QTY_1_MO,UNIT_QY1"
    assert (asked["COMM_LVL"], asked["E_COMMODITY"]) == ("HS6", "81*")
    rows = part(demo_copy, "census")
    out = one_row(rows, partner="CHN", national_code="811292", flow="export")
    assert out["side"] == "exporter_reported" and out["reporter"] == "USA"
    assert set(rows["flow"]) == {"import", "export"}


def test_census_calls_are_paced_and_a_429_waited_for(
    server: FileServer, demo_copy: Path, clock: FakeClock
) -> None:
    server.fault(
        CENSUS_IMPORTS,
        Status(429, (("Retry-After", "4"),), b"Too Many Requests"),
    )
    args = ("--months", "2025-05:2025-06", "--minerals", "gallium", "--pace", "2")
    assert fetch(demo_copy, "census", *args) == 0
    assert len(api_hits(server, CENSUS_IMPORTS)) == 5  # four calls, the first asked twice
    # Retry-After honoured; then one call every 2 s (the 4 s wait already spaced the second).
    assert clock.sleeps == [4.0, 2.0, 2.0]
    budget = json.loads((demo_copy / "cache" / "census" / "budget.json").read_text())
    assert budget["calls"] == 4


def test_census_204_is_an_empty_month_kept_and_asked_again_later(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.apis[CENSUS_IMPORTS] = census_api(published_until="2025-05")
    args = ("--months", "2025-05:2025-06", "--minerals", "gallium")
    assert fetch(demo_copy, "census", *args) == 0
    out = capsys.readouterr().out
    assert "2 empty: no data published" in out and "empty answer" in out
    june = sorted((demo_copy / "cache" / "census").glob("*2025-06.json"))
    assert len(june) == 2 and all(p.stat().st_size == 0 for p in june)
    assert set(part(demo_copy, "census")["month"]) == {5}
    server.apis[CENSUS_IMPORTS] = census_api()  # June is published now
    for path in june:
        age(path, 30)
    asked = len(api_hits(server, CENSUS_IMPORTS))
    assert fetch(demo_copy, "census", *args) == 0
    assert [query(h)["time"] for h in api_hits(server, CENSUS_IMPORTS)[asked:]] == ["2025-06"] * 2
    assert set(part(demo_copy, "census")["month"]) == {5, 6}


def test_census_key_is_sent_and_a_wrong_one_is_named(
    server: FileServer,
    demo_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.apis[CENSUS_IMPORTS] = census_api(key="right")
    monkeypatch.setenv("CENSUS_API_KEY", "wrong")
    args = ("--months", "2025-05", "--minerals", "gallium")
    assert fetch(demo_copy, "census", *args) == 1
    err = capsys.readouterr().err
    assert "answered with a web page instead of the API's JSON; nothing was saved" in err
    assert list((demo_copy / "cache" / "census").glob("*.json")) == []
    monkeypatch.setenv("CENSUS_API_KEY", "right")
    assert fetch(demo_copy, "census", *args) == 0
    assert query(api_hits(server, CENSUS_IMPORTS)[-1])["key"] == "right"


def test_census_keyless_budget_stops_and_resumes(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--months", "2025-05:2025-06", "--minerals", "gallium")
    assert fetch(demo_copy, "census", *args, "--max-calls-per-day", "3") == 1
    err = capsys.readouterr().err
    assert "daily budget of 3 calls is used up" in err and "CENSUS_API_KEY" in err
    assert len(api_hits(server, CENSUS_IMPORTS)) == 3
    assert fetch(demo_copy, "census", *args, "--max-calls-per-day", "4") == 0
    assert len(api_hits(server, CENSUS_IMPORTS)) == 4  # only the call left


# --- fetch all ----------------------------------------------------------------------------


def test_fetch_all_loads_the_monthly_sources_beside_the_annual_ones(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(demo_copy, "all", "--months", "2025-05:2025-06") == 0
    out = capsys.readouterr().out
    parts = Warehouse(demo_copy).parts("monthly_flows")
    assert {"comtrade", "comext", "census"} <= set(parts) and "demo" not in parts
    assert Warehouse(demo_copy).parts("trade_flows")["baci"].release == "V202601"
    for line in ("UN Comtrade monthly", "Eurostat Comext (monthly)", "US Census (monthly)"):
        assert any(r.startswith(line) and "loaded" in r for r in out.splitlines()), line
    # Keyless: the default view's baskets only, to stay within the daily limits.
    chapters = {query(h)["I_COMMODITY"] for h in api_hits(server, CENSUS_IMPORTS)}
    assert chapters == {"25*", "28*", "38*", "81*", "811292*"}
    assert Warehouse(demo_copy).check(verify_checksums=True) == []


def test_a_failing_optional_monthly_source_never_stops_the_others(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.apis[CENSUS_IMPORTS] = lambda path, q: (500, {}, b"internal error")
    server.apis[COMEXT_DATA] = lambda path, q: (
        403,
        {"Content-Type": "text/html"},
        b"<html><body>Access denied</body></html>",
    )
    assert fetch(demo_copy, "all", "--months", "2025-05") == 0
    out = capsys.readouterr().out
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "missing" in lines["US Census (monthly)"] and "HTTP 500" in lines["US Census (monthly)"]
    assert "`critmin fetch census --months 2025-05`" in lines["US Census (monthly)"]
    assert "missing" in lines["Eurostat Comext (monthly)"]
    assert "Not loaded (optional): Eurostat Comext (monthly), US Census (monthly)" in out
    warehouse = Warehouse(demo_copy)
    assert warehouse.parts("trade_flows")["baci"].release == "V202601"
    assert "comtrade" in warehouse.parts("monthly_flows")
    assert {"comext", "census"}.isdisjoint(warehouse.parts("monthly_flows"))


def test_check_lists_the_monthly_sources_and_an_optional_one_does_not_fail_it(
    server: FileServer, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(demo_copy, "all", "--check") == 0
    out = capsys.readouterr().out
    for source in ("UN Comtrade, monthly", "Eurostat Comext (monthly)", "ECB USD/EUR rates"):
        assert f"{source}\n" in out
    assert "US Census (monthly)\n" in out and "without $CENSUS_API_KEY" in out
    assert api_hits(server, COMEXT_DATA) == [] and api_hits(server, CENSUS_IMPORTS) == []
    server.fault(
        "/eurostat/api/comext/dissemination/sdmx/2.1/dataflow/ESTAT/DS-045409", *[Status(403)] * 2
    )
    assert fetch(demo_copy, "all", "--check") == 0
    out = capsys.readouterr().out
    assert "Optional, not reachable: Eurostat Comext (monthly)" in out
