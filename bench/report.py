"""The benchmark's report: Markdown tables from the dict `python -m bench` builds, each
target marked met or missed by the worst figure measured for it. Every figure comes from
that dict; a step left out is not shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TARGETS = {  # what, limit, unit
    "view": ("a page's view p95 warm", 150, "ms"),
    "cold": ("a page p95 in a new process", 1500, "ms"),
    "new visitor": ("a new visitor's first page p95 (server running)", 1.5, "s"),
    "fresh server": ("the first page of a freshly started server p95, from its start", 3.0, "s"),
    "navigate": ("navigating to a page p95 (map apart)", 0.5, "s"),
    "change": ("a filter change p95 (map apart)", 0.3, "s"),
    "map": ("the map p95, any change (a link to the large map apart)", 1.0, "s"),
    "default map": ("the default map's rerun", 200, "kB"),
    "any map": ("any map's rerun", 1024, "kB"),
    "memory": ("the app's memory, every page visited", 1536, "MB"),
    "ingest": ("a BACI yearly CSV ingest", 45, "s"),
}


def _n(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value >= 1 else f"{value:.2f}"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table; numbers written by `_n`."""
    cells = [[c if isinstance(c, str) else _n(c) for c in row] for row in rows]
    return [f"| {' | '.join(r)} |" for r in [header, ["---"] * len(header), *cells]] + [""]


def measured(report: dict[str, Any]) -> Iterator[tuple[str, str, float]]:
    """(target, where, figure) for every figure a target is judged on."""
    for key, page in report.get("warm", {}).get("pages", {}).items():
        yield "view", key, page["view_ms"]["p95"]
    for key, page in report.get("cold", {}).items():
        yield "cold", key, page["ms"]["p95"]
    for warehouse, browser in report.get("browser", {}).items():
        if "server_peak_rss_mb" in browser:
            yield "memory", f"{warehouse}: the server", browser["server_peak_rss_mb"]
        for page, actions in browser.get("pages", {}).items():
            for action, a in actions.items():
                where, total, kb = (
                    f"{warehouse}: {page} {action}",
                    a["total_s"]["p95"],
                    a["kb"]["p95"],
                )
                if page == "new visitor":
                    yield page, where, total
                    continue
                if page == "fresh server":
                    yield page, where, a["from_start_s"]["p95"]
                    continue
                if "map" not in page.lower():
                    if page != "first page":
                        yield action, where, total
                    continue
                if (page, action) != ("large map", "navigate"):  # that one loads the app
                    yield "map", where, total
                yield "any map", where, kb
                if (page, action) == ("Map", "navigate"):
                    yield "default map", where, kb
    ingest = report.get("ingest", {})
    for mode in ("baskets", "all_products"):
        if run := ingest.get(mode):
            yield (
                "ingest",
                f"{mode}, {ingest['rows']:,} rows",
                run["s"] if run["exit_code"] == 0 else 1e9,
            )


def targets(report: dict[str, Any]) -> list[list[str]]:
    worst: dict[str, tuple[str, float]] = {}
    for key, where, value in measured(report):
        if key not in worst or value > worst[key][1]:
            worst[key] = (where, value)
    rows = []
    for key, (what, limit, unit) in TARGETS.items():
        if key in worst:
            where, value = worst[key]
            met = "met" if value <= limit else "MISSED"
            rows.append([f"{what} <= {limit:g} {unit}", f"worst {where}: {_n(value)} {unit}", met])
    for warehouse, browser in report.get("browser", {}).items():
        if browser.get("errors") or browser.get("skipped"):
            problem = browser.get("skipped") or "; ".join(browser["errors"][:3])
            rows.append([f"the browser phase ({warehouse})", problem, "MISSED"])
    return rows


def render_markdown(report: dict[str, Any]) -> str:
    m, w, load = report["machine"], report["warehouse"], report["load_average"]
    lines = [
        f"# critmin benchmark: {w['rows']['trade_flows']:,} trade rows",
        "",
        f"{m['nproc']} cores, {m['ram_gb']} GB RAM, {m['cpu']}; Python {m['python']}, DuckDB "
        f"{m['duckdb']}, polars {m['polars']}, Streamlit {m['streamlit']}. {report['started_at']} "
        f"to {report['finished_at']}, load average {load['start']:.1f} then {load['end']:.1f} "
        "(the machine is shared). Warehouse: "
        + ", ".join(f"{t} {n:,} rows ({w['mb'][t]:,.0f} MB)" for t, n in w["rows"].items())
        + (f"; generated in {w['generated_s']:.0f} s." if w.get("generated_s") else " (cached)."),
        "",
        "## Targets",
        "",
        *_table(["target", "measured", ""], targets(report)),
    ]
    warm, cold = report.get("warm", {}), report.get("cold", {})
    if warm:
        lines += [
            "## Pages (milliseconds)",
            "",
            "View: the page's `views.<name>.build`, its first run, then warm (the small tables "
            f"held in memory after {warm['held_s']:.1f} s); cache hit: a repeat visit instead "
            "(unpickling the view); cold: a new process importing critmin, opening the "
            "warehouse and building the view, from spawn to exit.",
            "",
        ]
        header = ["scenario/page", "queries", "rows", "first", "view p50", "view p95", "cache hit"]
        rows = [
            [key, str(len(v["queries"])), f"{v['rows']:,}", v["first_ms"], v["view_ms"]["p50"]]
            + [v["view_ms"]["p95"], v["cache_hit_ms"]["p50"]]
            + ([cold[key]["ms"]["p50"], cold[key]["ms"]["p95"]] if key in cold else [])
            for key, v in warm["pages"].items()
        ]
        lines += _table(header + (["cold p50", "cold p95"] if cold else []), rows)
        lines += [f"Not timed: {k}: {v}" for k, v in warm.get("skipped", {}).items()]
    if cold:
        key, c = next(iter(cold.items()))
        lines += [
            f"The fastest cold run of {key}: {_n(c['fastest_ms'])} ms in all, of which open "
            f"{_n(c['open_ms'])} ms, catalog {_n(c['catalog_ms'])} ms, view {_n(c['view_ms'])} ms "
            f"(the rest is Python starting and importing); peak RSS {_n(c['peak_rss_mb'])} MB.",
            "",
        ]
    for warehouse, browser in report.get("browser", {}).items():
        lines += [f"## Browser, {warehouse} warehouse", ""]
        if browser.get("skipped"):
            lines += [f"Skipped: {browser['skipped']}.", ""]
            continue
        lines += [
            f"Headless Chromium, one tab, {browser['repeat']} rounds; the server's peak RSS "
            f"{_n(browser['server_peak_rss_mb'])} MB. Total: the action to the page drawn; "
            "load: to the page's rerun request (for a link: the HTML and JavaScript fetched "
            "and started); script: the rerun request to the server's `script_finished`; draw: "
            "the rest; kB: the websocket frames received; HTTP kB: every HTTP response; start: "
            "`streamlit run` to its health check answering (a fresh server's first page is "
            "judged from there).",
            "",
        ]
        header = ["page", "action", "total p50 s", "total p95 s", "load p50 s", "script p50 s"]
        rows = [
            [
                page,
                action,
                a["total_s"]["p50"],
                a["total_s"]["p95"],
                (a.get("load_s") or {}).get("p50"),
                (a["script_s"] or {}).get("p50"),
            ]
            + [(a["draw_s"] or {}).get("p50"), a["kb"]["p50"], a["kb"]["max"]]
            + [(a.get("http_kb") or {}).get("p50"), (a.get("start_s") or {}).get("p50")]
            + [str(a["kb"]["n"])]
            for page, actions in browser["pages"].items()
            for action, a in actions.items()
        ]
        lines += _table(
            [*header, "draw p50 s", "kB p50", "kB max", "HTTP kB p50", "start p50 s", "runs"],
            rows,
        )
        lines += [f"Errors: {'; '.join(browser['errors'])}", ""] if browser["errors"] else []
    ingest = report.get("ingest")
    if ingest:
        lines += ["## Ingest", ""]
        for mode, flag in (("baskets", ""), ("all_products", " --all-products")):
            run = ingest[mode]
            lines.append(
                f"- `critmin ingest baci{flag}`, {ingest['rows']:,} rows ({ingest['csv_mb']:,.0f} "
                f"MB): {run['s']:.1f} s, peak RSS {_n(run['peak_rss_mb'])} MB, exit code {run['exit_code']}."
            )
    return "\n".join(lines) + "\n"


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    rows = report["warehouse"]["rows"]["trade_flows"]
    json_path, md_path = out / f"bench-{rows}.json", out / f"bench-{rows}.md"
    json_path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return json_path, md_path
