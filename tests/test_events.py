"""The policy events drawn on the time-series charts are facts a reader can check.

Every row of ``src/critmin/reference/events.csv`` must carry an exact past date, a title, a
summary, a kind and mineral ids from the app's vocabularies, ISO3-style country codes and an
http(s) source; no text may say that it still needs checking. The checks live in
``event_problems`` so that the tests below can also show that each one catches a bad row.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest

EVENTS_CSV = Path(__file__).resolve().parents[1] / "src" / "critmin" / "reference" / "events.csv"

COLUMNS = ["date", "title", "kind", "minerals", "countries", "summary", "source_name", "source_url"]

KINDS = {
    "export_control",
    "export_ban",
    "licensing",
    "duty",
    "partnership",
    "dialogue",
    "agreement",
    "sanctions",
    "critical_list",
    "law",
    "investment",
}

# The app's mineral baskets; "all" (alone) marks an event about critical minerals in general.
MINERALS = {
    "manganese_sulfate",
    "gallium",
    "graphite",
    "rare_earths",
    "lithium",
    "manganese",
    "copper",
    "zinc",
    "alumina",
    "uranium",
    "chromium",
    "titanium",
    "tantalum",
    "niobium",
    "beryllium",
    "tungsten",
    "silicon",
    "vanadium",
    "antimony",
    "bismuth",
    "germanium",
    "indium",
    "cobalt",
    "nickel",
    "pgm",
    "fluorspar",
    "barite",
    "magnesium",
    "phosphate",
    "rhenium",
    "hafnium",
    "tellurium",
    "arsenic",
    "aluminium",
    "tin",
    "boron",
    "zirconium",
    "silver",
    "lead",
    "potash",
    "coking_coal",
    "feldspar",
    "helium",
    "strontium",
    "scandium",
    "molybdenum",
}

MIN_EVENTS = 25

# Wording that says a row is not yet confirmed; "?" counts anywhere, in any column.
UNCONFIRMED = re.compile(r"\b(verify|to check|tbc|todo|approximately|circa)\b|\?", re.IGNORECASE)
DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
COUNTRY_CODE = re.compile(r"[A-Z]{3}")


def read_events(path: Path = EVENTS_CSV) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _row_problems(row: dict[str, str], today: dt.date) -> list[str]:
    problems: list[str] = []
    text = {column: (row.get(column) or "") for column in COLUMNS}

    date = text["date"]
    if not DATE_FORMAT.fullmatch(date):
        problems.append(f"date {date!r} is not YYYY-MM-DD")
    else:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            problems.append(f"date {date!r} is not a calendar day")
        else:
            if day > today:
                problems.append(f"date {date} is in the future")

    for column in ("title", "summary", "source_name"):
        if not text[column].strip():
            problems.append(f"{column} is blank")

    if text["kind"] not in KINDS:
        problems.append(f"kind {text['kind']!r} is not in the vocabulary")

    minerals = text["minerals"].split(";")
    if minerals != ["all"]:
        unknown = [m for m in minerals if m not in MINERALS]
        if unknown:
            problems.append(f"minerals {unknown} are not mineral ids (or 'all' alone)")

    bad_codes = [c for c in text["countries"].split(";") if not COUNTRY_CODE.fullmatch(c)]
    if bad_codes:
        problems.append(f"countries {bad_codes} are not three capital letters")

    url = urlparse(text["source_url"])
    if url.scheme not in ("http", "https") or not url.netloc:
        problems.append(f"source_url {text['source_url']!r} is not an http(s) URL")

    for column in COLUMNS:
        match = UNCONFIRMED.search(text[column])
        if match:
            problems.append(f"{column} says it needs checking ({match.group(0)!r})")
    return problems


def event_problems(
    columns: list[str], rows: list[dict[str, str]], today: dt.date | None = None
) -> list[str]:
    """Everything wrong with an events table, one message per problem (empty when sound)."""
    today = today or dt.date.today()
    problems: list[str] = []
    if columns != COLUMNS:
        problems.append(f"columns are {columns}, expected {COLUMNS}")
    if len(rows) < MIN_EVENTS:
        problems.append(f"{len(rows)} events, expected at least {MIN_EVENTS}")
    for line, row in enumerate(rows, start=2):
        problems.extend(f"line {line}: {p}" for p in _row_problems(row, today))
    pairs = Counter((row.get("date"), row.get("title")) for row in rows)
    problems.extend(f"duplicate event {pair}" for pair, n in pairs.items() if n > 1)
    return problems


def test_every_shipped_event_is_dated_sourced_and_confirmed():
    columns, rows = read_events()
    assert event_problems(columns, rows) == []


# --- the checks themselves catch what they must ---------------------------------------------

GOOD_ROW = {
    "date": "2020-03-02",
    "title": "Example ministry licenses exports of example metal",
    "kind": "licensing",
    "minerals": "gallium;germanium",
    "countries": "KAZ;EUU",
    "summary": "The example ministry said on 2 March 2020 that exports need a licence.",
    "source_name": "Example Gazette",
    "source_url": "https://example.org/notice/42",
}


def _table(row: dict[str, str], count: int = MIN_EVENTS) -> list[dict[str, str]]:
    """`count` distinct sound rows (titles numbered), the first replaced by `row`."""
    rows = [{**GOOD_ROW, "title": f"{GOOD_ROW['title']} {i}"} for i in range(count)]
    rows[0] = row
    return rows


def test_a_sound_table_has_no_problems():
    assert event_problems(COLUMNS, _table(GOOD_ROW), today=dt.date(2024, 1, 1)) == []


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("source_url", "", "source_url"),
        ("source_url", "ftp://example.org/notice", "source_url"),
        ("source_url", "example.org/notice", "source_url"),
        ("summary", "  ", "summary is blank"),
        ("title", "", "title is blank"),
        ("date", "2020-3-2", "not YYYY-MM-DD"),
        ("date", "2020-02-30", "not a calendar day"),
        ("date", "2024-01-02", "in the future"),
        ("kind", "ban", "kind"),
        ("minerals", "iron", "minerals"),
        ("minerals", "all;gallium", "minerals"),
        ("minerals", "gallium;", "minerals"),
        ("countries", "Kaz", "countries"),
        ("countries", "KAZ;EU", "countries"),
        ("title", "Kazakhstan removes a duty (date to verify)", "needs checking"),
        ("summary", "Took effect on 1 March, TBC.", "needs checking"),
        ("summary", "TODO: add the day.", "needs checking"),
        ("summary", "In force approximately in March.", "needs checking"),
        ("summary", "Signed circa 2020.", "needs checking"),
        ("source_name", "Ministry (to check)", "needs checking"),
        ("title", "Export duty removed?", "needs checking"),
    ],
)
def test_each_check_catches_a_bad_row(column: str, value: str, expected: str):
    problems = event_problems(
        COLUMNS, _table({**GOOD_ROW, column: value}), today=dt.date(2024, 1, 1)
    )
    assert problems, f"{column}={value!r} passed"
    assert all(p.startswith("line 2:") for p in problems), problems
    assert any(expected in p for p in problems), problems


def test_too_few_events_duplicates_and_wrong_columns_are_caught():
    today = dt.date(2024, 1, 1)
    few = event_problems(COLUMNS, _table(GOOD_ROW, count=MIN_EVENTS - 1), today=today)
    assert any("expected at least" in p for p in few), few

    twice = _table(GOOD_ROW)
    twice[1] = dict(twice[0])
    assert any("duplicate event" in p for p in event_problems(COLUMNS, twice, today=today))

    old_header = ["date", "title", "minerals", "countries", "source"]
    assert any("columns are" in p for p in event_problems(old_header, _table(GOOD_ROW), today))


def test_event_numbers_close_in_time_do_not_overlap_on_the_chart() -> None:
    """Events a few weeks apart get their numbers on different rows above the chart;
    events years apart share the first row."""
    import polars as pl

    from critmin.ui.charts import event_rules

    events = pl.DataFrame(
        {
            "date": [dt.date(2016, 3, 1), dt.date(2023, 8, 1), dt.date(2023, 9, 19)],
            "title": ["far", "licences", "summit"],
        }
    )
    chart = event_rules(events, 2012, 2024)
    assert chart is not None
    rows = {}
    for layer in chart["layer"][1:]:
        for value in layer["data"]["values"]:
            rows[value["number"]] = layer["mark"]["dy"]
    assert rows["1"] == rows["2"] != rows["3"]
