"""Number formatting for people: USD m, kt, percentages, USD/kg."""

from __future__ import annotations

import math


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def usd(value: float | None) -> str:
    if _missing(value):
        return "–"
    assert value is not None
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"USD {value / 1e9:,.2f} bn"
    if magnitude >= 1e6:
        return f"USD {value / 1e6:,.1f} m"
    if magnitude >= 1e3:
        return f"USD {value / 1e3:,.0f} k"
    return f"USD {value:,.0f}"


def tonnes(kg: float | None) -> str:
    if _missing(kg):
        return "–"
    assert kg is not None
    t = kg / 1000.0
    if abs(t) >= 1e6:
        return f"{t / 1e6:,.2f} Mt"
    if abs(t) >= 1e3:
        return f"{t / 1e3:,.1f} kt"
    return f"{t:,.0f} t"


def percent(fraction: float | None, digits: int = 1) -> str:
    if _missing(fraction):
        return "–"
    assert fraction is not None
    return (
        f"{fraction * 100:+.{digits}f}%"
        if fraction < 0 or digits < 0
        else f"{fraction * 100:.{digits}f}%"
    )


def change(fraction: float | None) -> str:
    if _missing(fraction):
        return "n/a"
    assert fraction is not None
    return f"{fraction * 100:+.1f}%"


def usd_per_kg(value: float | None) -> str:
    if _missing(value):
        return "–"
    assert value is not None
    return f"{value:,.2f} USD/kg" if value < 100 else f"{value:,.0f} USD/kg"


def month(first_day: object) -> str:
    """'October 2026' for a date (the first of a month)."""
    return f"{first_day:%B %Y}" if first_day is not None else "–"
