"""Charts with titles, units and readable labels, written as Vega-Lite specs. Each
helper takes a polars frame and returns a `Chart`; pages only choose which and `show`
it. The specs are plain dictionaries, not Altair objects: Altair validates every
chart against the Vega-Lite schema each time a page runs, under a lock Streamlit
holds for all sessions, which cost much of a rerun's server time on the shared demo
(see docs/performance.md §9). The helpers are small and tested for the specs they
write, so the schema check buys nothing at run time."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st

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


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite spec and the frame its marks read (Streamlit sends it as Arrow)."""

    spec: dict[str, Any]
    data: pl.DataFrame | None = None


def show(chart: Chart, where: Any = st) -> None:
    """Draw a chart in `where` (the page, a column or a container)."""
    where.vega_lite_chart(chart.data, chart.spec)


def _js(text: str) -> str:
    """A JavaScript string literal (quotes and backslashes escaped) for a Vega test."""
    return json.dumps(text, ensure_ascii=False)


def _field(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"field": name, "type": kind, **extra}


def _year_axis(title: str = "Year") -> dict[str, Any]:
    return _field("year", "quantitative", title=title, axis={"format": "d", "tickMinStep": 1})


def _tooltip(
    name: str, kind: str, title: str | None = None, fmt: str | None = None
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if title is not None:
        extra["title"] = title
    if fmt is not None:
        extra["format"] = fmt
    return _field(name, kind, **extra)


def axis_format(number_format: str) -> str:
    """The axis labels' format for a measure shown with `number_format`: percentages
    as asked; numbers with as many digits as the ticks need, so small values read
    "0.02" and "0.04", not "0.0" all along, and round ones "2,000", not "2,000.0"."""
    if "%" in number_format or number_format == "d":
        return number_format
    sign = "+" if number_format.startswith("+") else ""
    return f"{sign},.6~r"


def tooltip_format(number_format: str) -> str:
    """A tooltip's format: four significant digits at least, so a small value is not
    shown as 0.0."""
    if "%" in number_format or number_format == "d":
        return number_format
    sign = "+" if number_format.startswith("+") else ""
    return f"{sign},.4~r"


def _colors(color: str, title: str, **extra: Any) -> dict[str, Any]:
    return _field(color, "nominal", title=title, scale={"range": PALETTE}, **extra)


LABEL_GAP = 0.3  # years between two event numbers on one row (about 16 px at 14 years)
LABEL_ROW_PX = 12


def event_rules(events: pl.DataFrame, year_from: int, year_to: int) -> dict[str, Any] | None:
    """A layer of vertical rules at each event's date (as a fractional year), numbered
    in date order as `event_legend` lists them; None when no event falls in the years."""
    if events.is_empty():
        return None
    rows: list[dict[str, Any]] = []
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
    _stack_numbers(rows, [row["year"] for row in rows], LABEL_GAP)
    return {"layer": _numbered_rules(rows, _field("year", "quantitative"))}


def _stack_numbers(rows: list[dict[str, Any]], positions: list[float], gap: float) -> None:
    """Numbers of events close in time go on rows above each other, not on top of one
    another: a row takes a number once the last one on it is `gap` away (each row's
    "dy")."""
    ends: list[float] = []
    for row, position in zip(rows, positions, strict=True):
        free = next((i for i, end in enumerate(ends) if position - end >= gap), None)
        if free is None:
            ends.append(position)
            free = len(ends) - 1
        ends[free] = position
        row["dy"] = -6 - LABEL_ROW_PX * free


def _numbered_rules(rows: list[dict[str, Any]], x: dict[str, Any]) -> list[dict[str, Any]]:
    """A dashed rule at each event and its number above the plot: one text layer per row
    of numbers (dy is a mark property, not an encoding)."""
    tooltip = _tooltip("event", "nominal", "Event")
    rule = {
        "data": {"values": rows},
        "mark": {"type": "rule", "color": "#777", "strokeDash": [4, 3], "strokeWidth": 1.5},
        "encoding": {"x": x, "tooltip": tooltip},
    }
    markers = [
        {
            "data": {"values": [row for row in rows if row["dy"] == dy]},
            "mark": {
                "type": "text",
                "dy": dy,
                "fontSize": 11,
                "fontWeight": "bold",
                "color": "#555",
                "baseline": "bottom",
            },
            "encoding": {
                "x": x,
                "y": {"value": 0},
                "text": _field("number", "nominal"),
                "tooltip": tooltip,
            },
        }
        for dy in sorted({row["dy"] for row in rows}, reverse=True)
    ]
    return [rule, *markers]


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
    whole: bool = False,
) -> Chart:
    """A line per `color` value over the years (one line when `color` is None).
    `whole`: the measure takes whole values only (a rank), so are its ticks."""
    tooltip = [_tooltip("year", "quantitative", fmt="d")]
    encoding: dict[str, Any] = {}
    mark: dict[str, Any] = {"type": "line", "point": True}
    if color is None:
        mark["color"] = PALETTE[0]
    else:
        encoding["color"] = _colors(color, color_title)
        tooltip.append(_tooltip(color, "nominal", color_title))
    tooltip.append(_tooltip(y, "quantitative", y_title, "d" if whole else tooltip_format(y_format)))
    axis: dict[str, Any] = (
        {"format": "d", "tickMinStep": 1} if whole else {"format": axis_format(y_format)}
    )
    y_encoding = _field(y, "quantitative", title=y_title, axis=axis)
    scale: dict[str, Any] = {}
    if reverse_y:
        scale["reverse"] = True
    if whole:
        scale.update({"zero": False, "nice": False, "domainMin": 1})
    if scale:
        y_encoding["scale"] = scale
    base = {
        "mark": mark,
        "encoding": {"x": _year_axis(), "y": y_encoding, "tooltip": tooltip, **encoding},
    }
    spec: dict[str, Any] = {"title": title, "height": 340, **base}
    if events is not None and year_span:
        rules = event_rules(events, *year_span)
        if rules is not None:
            spec = {"title": title, "height": 340, "layer": [base, rules]}
    return Chart(spec, df)


def stacked_area(
    df: pl.DataFrame,
    y: str,
    color: str,
    title: str,
    y_title: str,
    y_format: str = ",.0f",
    color_title: str = "Series",
    normalize: bool = False,
) -> Chart:
    sort: Any = {"field": "order"} if "order" in df.columns else "ascending"
    spec = {
        "title": title,
        "height": 340,
        "mark": {"type": "area", "opacity": 0.85},
        "encoding": {
            "x": _year_axis(),
            "y": _field(
                y,
                "quantitative",
                title=y_title,
                stack="normalize" if normalize else "zero",
                axis={"format": axis_format(y_format)},
            ),
            "color": _colors(color, color_title, sort=sort),
            "tooltip": [
                _tooltip("year", "quantitative", fmt="d"),
                _tooltip(color, "nominal", color_title),
                _tooltip(y, "quantitative", y_title, tooltip_format(y_format)),
            ],
        },
    }
    return Chart(spec, df)


def bars(
    df: pl.DataFrame,
    value: str,
    category: str,
    title: str,
    value_title: str,
    value_format: str = ",.0f",
    highlight: str | None = None,
) -> Chart:
    color: dict[str, Any] = {"value": "#1f6f8b"}
    if highlight:
        test = f"datum[{_js(category)}] === {_js(highlight)}"
        color = {"condition": {"test": test, "value": "#e07a1f"}, "value": "#1f6f8b"}
    spec = {
        "title": title,
        "height": {"step": 26},
        "mark": {"type": "bar"},
        "encoding": {
            "x": _field(
                value, "quantitative", title=value_title, axis={"format": axis_format(value_format)}
            ),
            "y": _field(
                category,
                "nominal",
                title=None,
                sort="-x",
                axis={"labelOverlap": False, "labelLimit": 200},
            ),
            "color": color,
            "tooltip": [
                _tooltip(category, "nominal"),
                _tooltip(value, "quantitative", value_title, tooltip_format(value_format)),
            ],
        },
    }
    return Chart(spec, df)


def stacked_bars(
    df: pl.DataFrame,
    value: str,
    category: str,
    color: str | None,
    title: str,
    value_title: str,
    value_format: str = ",.0f",
    color_title: str = "Series",
) -> Chart:
    """Bars per `category`, stacked by `color` (one colour when None): upright over the
    years when `category` is "year", otherwise lying, largest total first."""
    tooltip = [_tooltip(category, "ordinal" if category == "year" else "nominal")]
    encoding: dict[str, Any] = {}
    if color is not None:
        encoding["color"] = _colors(color, color_title)
        tooltip.append(_tooltip(color, "nominal", color_title))
    tooltip.append(_tooltip(value, "quantitative", value_title, value_format))
    measure = _field(value, "quantitative", title=value_title, axis={"format": value_format})
    if category == "year":
        spec: dict[str, Any] = {
            "title": title,
            "height": 340,
            "encoding": {
                "x": _field("year", "ordinal", title="Year", axis={"labelAngle": 0}),
                "y": measure,
            },
        }
    else:
        spec = {
            "title": title,
            "height": {"step": 22},
            "encoding": {
                "x": measure,
                "y": _field(
                    category,
                    "nominal",
                    title=None,
                    sort="-x",
                    axis={"labelOverlap": False, "labelLimit": 220},
                ),
            },
        }
    spec["mark"] = {"type": "bar"} if color is not None else {"type": "bar", "color": PALETTE[0]}
    spec["encoding"].update(encoding, tooltip=tooltip)
    return Chart(spec, df)


def svg(chart: Chart) -> bytes:
    """The chart as an SVG file, drawn by Vega itself (vl-convert runs the Vega and
    Vega-Lite libraries in the server, without a browser or the network), its rows
    written into the spec. Streamlit's chart toolbar keeps only its own "Download as
    PNG", so this is how a chart is saved as SVG."""
    import vl_convert

    values = chart.data.to_dicts() if chart.data is not None else []
    spec = {**chart.spec, "data": {"values": values}}
    return str(vl_convert.vegalite_to_svg(spec)).encode("utf-8")


def event_legend(events: pl.DataFrame, year_from: int, year_to: int) -> str:
    """The numbered list of the events `event_rules` draws."""
    lines: list[str] = []
    for date, title, source, url in events.select("date", "title", "source", "url").iter_rows():
        if year_from <= date.year <= year_to + 1:
            lines.append(f"{len(lines) + 1}. {date.isoformat()} — {title} ([{source}]({url}))")
    return "\n".join(lines)


# --- months and provisional years ---------------------------------------------------------

PROVISIONAL_DASH = [6, 4]


def provisional_layer(
    frame: pl.DataFrame,
    y: str,
    color: str | None,
    y_title: str,
    y_format: str,
    color_title: str = "Series",
) -> dict[str, Any]:
    """A dashed line, with hollow points, of provisional years (its own inline data:
    `year`, `y`, `color` and `basis`, the last reconciled year included so the dash
    starts where the solid line ends). Never stacked with the reconciled marks."""
    values = frame.select(
        "year", y, *([color] if color else []), *(["basis"] if "basis" in frame.columns else [])
    ).to_dicts()
    encoding: dict[str, Any] = {
        "x": _field("year", "quantitative"),
        "y": _field(y, "quantitative"),
        "tooltip": [
            _tooltip("year", "quantitative", fmt="d"),
            *([_tooltip(color, "nominal", color_title)] if color else []),
            _tooltip(y, "quantitative", f"{y_title} (provisional)", y_format),
            *([_tooltip("basis", "nominal", "Basis")] if "basis" in frame.columns else []),
        ],
    }
    mark: dict[str, Any] = {
        "type": "line",
        "strokeDash": PROVISIONAL_DASH,
        "point": {"filled": False, "fill": "white"},
    }
    if color:
        encoding["color"] = _colors(color, color_title)
    else:
        mark["color"] = PALETTE[0]
    return {"data": {"values": values}, "mark": mark, "encoding": encoding}


def with_provisional(
    chart: Chart,
    provisional: pl.DataFrame | None,
    y: str,
    color: str | None,
    y_title: str,
    y_format: str,
    color_title: str = "Series",
) -> Chart:
    """The chart with a dashed provisional layer added (unchanged when there is none)."""
    if provisional is None or provisional.is_empty():
        return chart
    spec = dict(chart.spec)
    title, height = spec.pop("title", None), spec.pop("height", 340)
    layers = spec.pop("layer", None) or [spec]
    layered = {
        "title": title,
        "height": height,
        "layer": [
            *layers,
            provisional_layer(provisional, y, color, y_title, y_format, color_title),
        ],
    }
    return Chart(layered, chart.data)


def monthly_bars(
    df: pl.DataFrame,
    y: str,
    color: str,
    title: str,
    y_title: str,
    y_format: str = ",.1f",
    events: pl.DataFrame | None = None,
    color_title: str = "Partner",
) -> Chart:
    """Stacked bars per month (`month_start`, a date) and `color`, with the events that
    fall in the months shown as dashed rules numbered as `monthly_event_legend` lists them."""
    x = {
        "field": "month_start",
        "type": "temporal",
        "timeUnit": "yearmonth",
        "title": "Month",
        "axis": {"format": "%b %Y", "labelAngle": -40},
    }
    base = {
        "mark": {"type": "bar"},
        "encoding": {
            "x": x,
            "y": _field(y, "quantitative", title=y_title, stack="zero", axis={"format": y_format}),
            "color": _colors(
                color,
                color_title,
                sort={"field": "order"} if "order" in df.columns else "ascending",
            ),
            "tooltip": [
                {
                    "field": "month_start",
                    "type": "temporal",
                    "timeUnit": "yearmonth",
                    "title": "Month",
                },
                _tooltip(color, "nominal", color_title),
                _tooltip(y, "quantitative", y_title, y_format),
            ],
        },
    }
    layers: list[dict[str, Any]] = [base]
    if events is not None and not events.is_empty() and df.height:
        first, last = df["month_start"].min(), df["month_start"].max()
        assert isinstance(first, dt.date) and isinstance(last, dt.date)
        rows = [
            {"date": date.isoformat(), "event": f"{date.isoformat()}: {title_}", "number": str(i)}
            for i, (date, title_) in enumerate(
                [
                    (d, t)
                    for d, t in events.select("date", "title").iter_rows()
                    if first <= d <= _month_end(last)
                ],
                start=1,
            )
        ]
        # Positions in months: numbers within 0.9 of a month go on rows above each other.
        days = [dt.date.fromisoformat(row["date"]) for row in rows]
        _stack_numbers(rows, [d.year * 12 + d.month + d.day / 31 for d in days], 0.9)
        if rows:
            layers += _numbered_rules(rows, {"field": "date", "type": "temporal"})
    spec = (
        {"title": title, "height": 340, "layer": layers}
        if len(layers) > 1
        else {"title": title, "height": 340, **base}
    )
    return Chart(spec, df)


def _month_end(first_day: dt.date) -> dt.date:
    following = dt.date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def monthly_event_legend(events: pl.DataFrame, first: dt.date, last: dt.date) -> str:
    """The numbered list of the events `monthly_bars` draws between two months."""
    lines: list[str] = []
    for date, title, source, url in events.select("date", "title", "source", "url").iter_rows():
        if first <= date <= _month_end(last):
            lines.append(f"{len(lines) + 1}. {date.isoformat()} — {title} ([{source}]({url}))")
    return "\n".join(lines)
