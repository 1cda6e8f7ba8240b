"""What the fetchers of data APIs share (UN Comtrade, Eurostat Comext, the US Census
Bureau, the ECB): the months a run asks for, one file per answer kept on disk and when
it is asked again, and a daily call budget.

- **Months.** `--months 2024-01:2026-12` (or `2025-03`, or a list of both separated by
  commas); months after the current one are never asked (nothing is published yet).
- **One file per answer**, written atomically (a temporary file renamed into place), so an
  interrupted run leaves either the whole answer or nothing, and the next run continues
  where the last stopped.
- **When a kept answer is asked again.** A month is revised until its publisher's annual
  revision (`critmin.ingest.monthly.provisional`: the months of this year and the last).
  An answer that holds only final months is never asked again; one that holds a
  provisional month (or is empty because the month was not yet published) is asked again
  once it is older than `--refresh-days` days (7 by default), so re-running next month
  brings the new month and the revisions. `--refresh-days 0` asks them again every run.
- **Budget.** APIs with a daily quota (UN Comtrade: 500 calls a free key; the Census
  Bureau: 500 calls a day without a key) get their calls counted in the cache folder
  (`budget.json`), one per request whatever its retries, and the run stops before the
  quota with what is left to do.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from critmin.ingest.common import IngestError

log = logging.getLogger(__name__)

BUDGET_FILE = "budget.json"
DEFAULT_REFRESH_DAYS = 7.0
DAY_SECONDS = 86_400


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @property
    def yyyymm(self) -> str:
        return f"{self.year}{self.month:02d}"

    @property
    def iso(self) -> str:
        return f"{self.year}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)


def _month(text: str, option: str) -> Month:
    match = re.fullmatch(r"(\d{4})-?(\d{2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise IngestError(f"{option}: {text.strip()!r} is not a month (YYYY-MM)")
    return Month(int(match[1]), int(match[2]))


def parse_months(
    text: str, *, option: str = "--months", today: dt.date | None = None
) -> list[Month]:
    """'2024-01:2026-12', '2025-03' or a comma list of both -> the months, in order,
    without those after the current month (nothing is published for them yet)."""
    now = today or dt.date.today()
    latest = Month(now.year, now.month)
    months: set[Month] = set()
    for piece in (p for p in text.split(",") if p.strip()):
        first_text, _, last_text = piece.partition(":")
        first = _month(first_text, option)
        last = _month(last_text, option) if last_text else first
        if last < first:
            raise IngestError(f"{option}: {piece.strip()} runs backwards")
        current = first
        while current <= last:
            months.add(current)
            current = current.next()
    chosen = sorted(m for m in months if m <= latest)
    if not chosen:
        raise IngestError(
            f"{option}: {text!r} holds no month up to {latest.iso}; nothing is published "
            "for later months yet"
        )
    return chosen


def default_months(today: dt.date | None = None, years: int = 3) -> str:
    """The months of the current year and the `years - 1` before it, up to this month."""
    now = today or dt.date.today()
    return f"{now.year - years + 1}-01:{now.year}-{now.month:02d}"


def by_year(months: list[Month]) -> dict[int, list[Month]]:
    grouped: dict[int, list[Month]] = {}
    for month in months:
        grouped.setdefault(month.year, []).append(month)
    return grouped


# --- answers kept on disk ---------------------------------------------------------------


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write the whole file or nothing (a temporary file renamed into place)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


def is_final(month: Month, today: dt.date | None = None) -> bool:
    """A month past its publisher's annual revision (older than last year)."""
    return month.year < (today or dt.date.today()).year - 1


def still_good(
    path: Path, months: list[Month], refresh_days: float, today: dt.date | None = None
) -> bool:
    """A kept answer can be used without asking again: every month it holds is final,
    or it was saved less than `refresh_days` days ago."""
    if not path.is_file():
        return False
    if all(is_final(m, today) for m in months):
        return True
    age = time.time() - path.stat().st_mtime
    return age < refresh_days * DAY_SECONDS


# --- the daily budget -------------------------------------------------------------------


class Budget:
    """Calls made today (UTC), persisted in the cache folder."""

    def __init__(self, path: Path, limit: int):
        self.path, self.limit = path, limit
        self.today = dt.datetime.now(dt.UTC).date().isoformat()
        self.calls = 0
        if path.is_file():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                if saved.get("date") == self.today:
                    self.calls = int(saved.get("calls", 0))
            except (json.JSONDecodeError, ValueError, TypeError, AttributeError):
                log.warning("%s is unreadable; starting a new count", path)

    @property
    def left(self) -> int:
        return max(0, self.limit - self.calls)

    def spend(self, calls: int) -> None:
        self.calls += calls
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps({"date": self.today, "calls": self.calls}))


# --- the codes a monthly call asks for --------------------------------------------------


def hs_edition(year: int) -> str:
    """The HS edition national tariffs follow in a year (HS2022 from 2022...)."""
    from critmin.domain import HS_EDITIONS

    edition = "HS92"
    for name, start in HS_EDITIONS.items():
        if year >= start:
            edition = name
    return edition


def chosen_minerals(text: str) -> list[str] | None:
    """--minerals: 'all' -> None, else the basket names (IngestError for an unknown one)."""
    from critmin import reference

    if text.strip().lower() == "all":
        return None
    known = set(reference.load_mineral_baskets()["mineral"].to_list())
    wanted = [m.strip() for m in text.split(",") if m.strip()]
    unknown = sorted(set(wanted) - known)
    if unknown or not wanted:
        raise IngestError(
            f"--minerals: unknown basket(s) {', '.join(unknown) or text!r}; choose from "
            f"{', '.join(sorted(known))}"
        )
    return wanted


def basket_hs6(minerals: list[str] | None, year: int) -> list[str]:
    """The mineral baskets' HS6 codes in the edition of `year`."""
    import polars as pl

    from critmin import reference

    baskets = reference.load_mineral_baskets().filter(pl.col("hs_edition") == hs_edition(year))
    if minerals is not None:
        baskets = baskets.filter(pl.col("mineral").is_in(minerals))
    return sorted(set(baskets["hs6"].to_list()))


def national_codes(classification: str, minerals: list[str] | None, year: int) -> list[str]:
    """The national lines (reference/national_lines.csv) of a classification (CN8, HTS10)
    valid in `year`, whatever their grade (the pages choose which to show)."""
    import polars as pl

    from critmin import reference

    lines = reference.load_national_lines().filter(
        (pl.col("classification") == classification)
        & (pl.col("valid_from").is_null() | (pl.col("valid_from") <= year))
        & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= year))
    )
    if minerals is not None:
        lines = lines.filter(pl.col("mineral").is_in(minerals))
    return sorted(set(lines["code"].to_list()))
