"""Altair charts with titles, units and readable labels. Each helper takes a
polars frame and returns a chart; pages only choose which."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import altair as alt
import polars as pl

PALETTE = [
    "#1f6f8b",
    "#e07a1f",
    "#2a9d5b",
    "#c23b3b",
    "#7b5ea7",
    "#8c6d31",
    "#d16ba5",
    "#5a6b7b",
    "#17becf",
    "#9acd32",
    "#a3a3a3",  # eleventh: grey, which the Overview's "Other minerals" band (last) gets
]


def _year_axis(title: str = "Year") -> alt.X:
    return alt.X("year:Q", title=title, axis=alt.Axis(format="d", tickMinStep=1))


LABEL_GAP = 0.3  # years between two event numbers on one row (about 16 px at 14 years)
LABEL_ROW_PX = 12


def event_rules(events: pl.DataFrame, year_from: int, year_to: int) -> Any:
    """Vertical rules at each event's date (as a fractional year), numbered in date
    order as `event_legend` lists them."""
    if events.is_empty():
        return None
    rows: list[dict[str, object]] = []
    for date, title in events.select("date", "title").iter_rows():
        assert isinstance(date, dt.date)
        position = date.year + (date.timetuple().tm_yday - 1) / 365.25
        if year_from <= position <= year_to + 1:
            rows.append(
                {
                    "year": position,
                    "event": f"{date.isoformat()}: {title}",
                    "number": str(len(rows) + 1),
                }
            )
    if not rows:
        return None
    # Numbers of events close in time go on rows above each other, not on top of
    # one another: a row takes a number once the last one on it is LABEL_GAP away.
    ends: list[float] = []
    for row in rows:
        position = float(row["year"])  # type: ignore[arg-type]
        free = next((i for i, end in enumerate(ends) if position - end >= LABEL_GAP), None)
        if free is None:
            ends.append(position)
            free = len(ends) - 1
        ends[free] = position
        row["dy"] = -6 - LABEL_ROW_PX * free
    frame = pl.DataFrame(rows)
    rule = (
        alt.Chart(frame)
        .mark_rule(color="#777", strokeDash=[4, 3], strokeWidth=1.5)
        .encode(x="year:Q", tooltip=alt.Tooltip("event:N", title="Event"))
    )
    # One text layer per row of numbers (dy is a mark property, not an encoding).
    markers = [
        alt.Chart(frame.filter(pl.col("dy") == dy))
        .mark_text(dy=dy, fontSize=11, fontWeight="bold", color="#555", baseline="bottom")
        .encode(
            x="year:Q",
            y=alt.value(0),
            text="number:N",
            tooltip=alt.Tooltip("event:N", title="Event"),
        )
        for dy in frame["dy"].unique().sort(descending=True)
    ]
    return alt.layer(rule, *markers)


def lines(
    df: pl.DataFrame,
    y: str,
    color: str | None,
    title: str,
    y_title: str,
    y_format: str = ",.0f",
    events: pl.DataFrame | None = None,
    year_span: tuple[int, int] | None = None,
    color_title: str = "Series",
    reverse_y: bool = False,
) -> alt.Chart | alt.LayerChart:
    """A line per `color` value over the years (one line when `color` is None)."""
    tooltip = [alt.Tooltip("year:Q", format="d")]
    encoding: dict[str, Any] = {}
    if color is not None:
        encoding["color"] = alt.Color(
            f"{color}:N", title=color_title, scale=alt.Scale(range=PALETTE)
        )
        tooltip.append(alt.Tooltip(f"{color}:N", title=color_title))
    tooltip.append(alt.Tooltip(f"{y}:Q", title=y_title, format=y_format))
    scale = alt.Scale(reverse=True) if reverse_y else alt.Undefined
    base = (
        alt.Chart(df, title=title)
        .mark_line(point=True, color=PALETTE[0] if color is None else alt.Undefined)
        .encode(
            x=_year_axis(),
            y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format), scale=scale),
            tooltip=tooltip,
            **encoding,
        )
    )
    if events is not None and year_span:
        rules = event_rules(events, *year_span)
        if rules is not None:
            return alt.LayerChart(layer=[base, rules]).properties(height=340)
    return base.properties(height=340)


def stacked_area(
    df: pl.DataFrame,
    y: str,
    color: str,
    title: str,
    y_title: str,
    y_format: str = ",.0f",
    color_title: str = "Series",
    normalize: bool = False,
) -> alt.Chart:
    stack: Literal["normalize", "zero"] = "normalize" if normalize else "zero"
    return (
        alt.Chart(df, title=title)
        .mark_area(opacity=0.85)
        .encode(
            x=_year_axis(),
            y=alt.Y(f"{y}:Q", title=y_title, stack=stack, axis=alt.Axis(format=y_format)),
            color=alt.Color(
                f"{color}:N",
                title=color_title,
                scale=alt.Scale(range=PALETTE),
                sort=alt.SortField("order") if "order" in df.columns else "ascending",
            ),
            tooltip=[
                alt.Tooltip("year:Q", format="d"),
                alt.Tooltip(f"{color}:N", title=color_title),
                alt.Tooltip(f"{y}:Q", title=y_title, format=y_format),
            ],
        )
        .properties(height=340)
    )


def bars(
    df: pl.DataFrame,
    value: str,
    category: str,
    title: str,
    value_title: str,
    value_format: str = ",.0f",
    highlight: str | None = None,
) -> alt.Chart:
    color: Any
    if highlight:
        color = alt.condition(
            alt.datum[category] == highlight, alt.value("#e07a1f"), alt.value("#1f6f8b")
        )
    else:
        color = alt.value("#1f6f8b")
    return (
        alt.Chart(df, title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
            y=alt.Y(
                f"{category}:N",
                title=None,
                sort="-x",
                axis=alt.Axis(labelOverlap=False, labelLimit=200),
            ),
            color=color,
            tooltip=[
                alt.Tooltip(f"{category}:N"),
                alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
            ],
        )
        .properties(height=alt.Step(26))
    )


def event_legend(events: pl.DataFrame, year_from: int, year_to: int) -> str:
    """The numbered list of the events `event_rules` draws."""
    lines: list[str] = []
    for date, title, source, url in events.select("date", "title", "source", "url").iter_rows():
        if year_from <= date.year <= year_to + 1:
            lines.append(f"{len(lines) + 1}. {date.isoformat()} — {title} ([{source}]({url}))")
    return "\n".join(lines)
