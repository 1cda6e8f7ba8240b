"""The chart specs the pages draw: valid Vega-Lite (checked against the schema Altair
ships, which the app itself no longer runs on every rerun), titled, reading the
page's frame, with the events layered on top and names written safely into the
highlight test."""

import datetime as dt
import json

import jsonschema
import polars as pl
import pytest
from altair.vegalite.v6.schema.core import load_schema

from critmin.ui import charts

SERIES = pl.DataFrame(
    {
        "year": [2020, 2021, 2020, 2021],
        "label": ["Gallium", "Gallium", "Graphite", "Graphite"],
        "value_musd": [1.0, 2.5, 3.0, 4.0],
        "order": [0, 0, 1, 1],
    }
)
EVENTS = pl.DataFrame(
    {
        "date": [dt.date(2020, 7, 1), dt.date(2020, 8, 1), dt.date(2030, 1, 1)],
        "title": ["licences", "summit", "outside the years"],
    }
)
PARTNERS = pl.DataFrame({"Partner": ["China", "Côte d'Ivoire"], "USD million": [5.0, 1.0]})


def every_chart() -> dict[str, charts.Chart]:
    return {
        "lines": charts.lines(SERIES, "value_musd", "label", "Exports", "USD million"),
        "one line, reversed": charts.lines(
            SERIES, "value_musd", None, "Rank", "Rank", "d", reverse_y=True
        ),
        "lines and events": charts.lines(
            SERIES,
            "value_musd",
            "label",
            "Exports",
            "USD million",
            events=EVENTS,
            year_span=(2020, 2021),
        ),
        "stacked": charts.stacked_area(
            SERIES, "value_musd", "label", "Shares", "%", normalize=True
        ),
        "bars": charts.bars(PARTNERS, "USD million", "Partner", "Destinations", "USD million"),
        "stacked bars over the years": charts.stacked_bars(
            SERIES, "value_musd", "year", "label", "Exports", "USD million"
        ),
        "stacked bars lying, one colour": charts.stacked_bars(
            PARTNERS, "USD million", "Partner", None, "Destinations", "USD million"
        ),
        "bars, highlighted": charts.bars(
            PARTNERS,
            "USD million",
            "Partner",
            "Destinations",
            "USD million",
            highlight="Côte d'Ivoire",
        ),
    }


@pytest.mark.parametrize("name", list(every_chart()))
def test_every_chart_is_valid_vega_lite_with_its_title_and_frame(name: str) -> None:
    chart = every_chart()[name]
    # Streamlit adds the frame as the spec's data; a named dataset stands for it here.
    jsonschema.validate({**chart.spec, "data": {"name": "frame"}}, load_schema())
    assert chart.spec["title"]
    assert chart.data is not None and chart.data.height > 0
    json.dumps(chart.spec)  # plain JSON: no frames or Altair objects inside


def test_events_are_a_layer_over_the_lines_and_only_those_in_the_years() -> None:
    spec = every_chart()["lines and events"].spec
    lines, events = spec["layer"]
    assert lines["mark"]["type"] == "line" and "data" not in lines  # the page's frame
    rule = events["layer"][0]
    assert [r["event"] for r in rule["data"]["values"]] == [
        "2020-07-01: licences",
        "2020-08-01: summit",
    ]
    # Without events in the years, the chart is the lines alone.
    alone = charts.lines(
        SERIES, "value_musd", "label", "T", "Y", events=EVENTS.tail(1), year_span=(2020, 2021)
    )
    assert "layer" not in alone.spec and alone.spec["mark"]["type"] == "line"


def test_a_highlighted_name_with_a_quote_is_a_string_literal_in_the_test() -> None:
    color = every_chart()["bars, highlighted"].spec["encoding"]["color"]
    assert color["condition"]["test"] == 'datum["Partner"] === "Côte d\'Ivoire"'
    plain = every_chart()["bars"].spec["encoding"]["color"]
    assert "condition" not in plain


def test_stacked_bands_follow_the_order_column_when_there_is_one() -> None:
    with_order = charts.stacked_area(SERIES, "value_musd", "label", "T", "Y")
    without = charts.stacked_area(SERIES.drop("order"), "value_musd", "label", "T", "Y")
    assert with_order.spec["encoding"]["color"]["sort"] == {"field": "order"}
    assert without.spec["encoding"]["color"]["sort"] == "ascending"
    assert with_order.spec["encoding"]["y"]["stack"] == "zero"


def test_a_chart_saves_as_svg_drawn_by_vega_with_its_rows() -> None:
    """The explorer's SVG download: Vega draws the same spec with the frame's rows in
    it, offline."""
    chart = charts.stacked_bars(SERIES, "value_musd", "year", "label", "Exports", "USD million")
    picture = charts.svg(chart).decode("utf-8")
    assert picture.startswith("<svg") and picture.rstrip().endswith("</svg>")
    assert "Exports" in picture and "Graphite" in picture and "2021" in picture
    assert "http://" not in picture.replace("http://www.w3.org", "")
