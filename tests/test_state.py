"""The URL state: declared fields, bad links falling back to defaults. Examples first,
then property tests: whatever a link holds, `parse` returns values inside the spec,
never raises, and round-trips through `to_params`."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critmin.ui.state import (
    HS6_PATTERN,
    LIST_SEPARATOR,
    Field,
    Spec,
    parse,
    to_params,
    year_window_check,
)

COUNTRIES = ("KAZ", "UZB", "CHN", "RUS", "USA", "DEU")
MINERALS = ("gallium", "graphite", "lithium", "rare_earths", "manganese_sulfate")
SPEC = Spec(
    (
        Field("country", "str", "KAZ", choices=COUNTRIES),
        Field("exporters", "list", ["KAZ"], choices=COUNTRIES, max_items=3),
        Field("minerals", "list", ["gallium"], choices=MINERALS),
        Field("codes", "list", [], pattern=HS6_PATTERN, max_items=3),
        Field("year_from", "int", 2015, minimum=2012, maximum=2024),
        Field("year_to", "int", 2024, minimum=2012, maximum=2024),
        Field("order", "str", "desc", choices=("asc", "desc")),
        Field("year", "int", 2024, minimum=2012, maximum=2024),
    ),
    (year_window_check,),
)

# Invalid for every field of SPEC (not a choice, not six digits, not a whole number in range).
INVALID = [
    "'",
    '"',
    "''; DROP TABLE trade_flows; --",
    "1 OR 1=1",
    "$exporter",
    "?",
    "%00",
    "\x00",
    "-1",
    "-2024",
    "2024.0",
    "1e3",
    "0x7e8",
    "99999999999999999999",
    "kaz",
    "XXX",
    "<script>alert(1)</script>",
    "ÄÖÜ",
    "🦆",
    "\u202e",
    "NaN",
    "None",
    "null",
    "[]",
    "2030",
    "KAZ' UNION SELECT * FROM read_csv('/etc/passwd') --",
    "x" * 5_000,
]
# ... and values valid for some field, or odd but harmless.
HOSTILE = [
    *INVALID,
    "",
    " ",
    ",",
    ",,,",
    "２０１５",
    "2_015",
    "KAZ,KAZ,KAZ",
    " KAZ ",
    "gallium,lithium,rare_earths,manganese_sulfate",
    "123456,12345,1234567,abcdef",
    "811292",
    "KAZ," * 800,
    "2012",
    "2024",
]


def test_defaults_when_empty() -> None:
    values, warnings = parse({}, SPEC)
    assert values == SPEC.defaults()
    assert warnings == []


def test_valid_link_round_trips() -> None:
    params = {
        "country": "CHN",
        "exporters": "KAZ,UZB",
        "minerals": "graphite,lithium",
        "codes": "811292",
        "year_from": "2015",
        "year_to": "2020",
        "order": "asc",
        "year": "2019",
    }
    values, warnings = parse(params, SPEC)
    assert warnings == []
    assert values == {
        "country": "CHN",
        "exporters": ["KAZ", "UZB"],
        "minerals": ["graphite", "lithium"],
        "codes": ["811292"],
        "year_from": 2015,
        "year_to": 2020,
        "order": "asc",
        "year": 2019,
    }
    assert to_params(values, SPEC) == params


def test_unknown_values_fall_back_with_a_warning() -> None:
    values, warnings = parse(
        {
            "country": "XXX",
            "minerals": "gallium,unobtainium",
            "year_from": "abc",
            "codes": "81129,811292",
        },
        SPEC,
    )
    assert values["country"] == "KAZ"
    assert values["minerals"] == ["gallium"]
    assert values["year_from"] == 2015
    assert values["codes"] == ["811292"]
    assert len(warnings) == 4
    assert any("unobtainium" in w for w in warnings)


def test_all_list_items_invalid_gives_default() -> None:
    values, warnings = parse({"minerals": "nope"}, SPEC)
    assert values["minerals"] == ["gallium"]
    assert warnings


def test_reversed_or_out_of_range_years() -> None:
    values, warnings = parse({"year_from": "2020", "year_to": "2013"}, SPEC)
    assert (values["year_from"], values["year_to"]) == (2015, 2024)  # both reset
    assert any("reversed" in w for w in warnings)
    values, warnings = parse({"year_from": "-5"}, SPEC)
    assert values["year_from"] == 2015 and any("outside" in w for w in warnings)


def test_repeated_keys_long_values_and_sql() -> None:
    values, warnings = parse({"year_from": ["-5", "2013"], "country": ["UZB", "KAZ"]}, SPEC)
    assert values["year_from"] == 2015 and values["country"] == "UZB"  # the first given
    assert any("given 2 times" in w for w in warnings)
    assert any("outside" in w for w in warnings)
    values, warnings = parse({"country": "KAZ' OR 1=1; --"}, SPEC)
    assert values["country"] == "KAZ" and warnings
    values, warnings = parse({"minerals": "g" * 5000}, SPEC)
    assert values["minerals"] == ["gallium"] and "too long" in warnings[0]


def test_list_cap_and_duplicates() -> None:
    values, warnings = parse({"codes": "000001,000002,000002,000003,000004"}, SPEC)
    assert values["codes"] == ["000001", "000002", "000003"]
    assert any("more than 3" in w for w in warnings)


values_st = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=60),
    st.sampled_from(COUNTRIES + MINERALS),
    st.integers(-(10**6), 10**6).map(str),
)
param_value_st = st.one_of(values_st, st.lists(values_st, min_size=0, max_size=4))
params_st = st.dictionaries(
    st.one_of(st.sampled_from(SPEC.names()), st.text(max_size=10)), param_value_st, max_size=10
)


def assert_within_spec(values: dict[str, Any], spec: Spec) -> None:
    assert set(values) == set(spec.names())
    for f in spec.fields:
        value = values[f.name]
        if f.kind == "int":
            assert type(value) is int
            assert f.minimum is None or value >= f.minimum
            assert f.maximum is None or value <= f.maximum
        elif f.kind == "str":
            assert isinstance(value, str) and f.accepts(value)
        else:
            assert isinstance(value, list)
            assert all(isinstance(v, str) and f.accepts(v) for v in value)
            assert len(value) == len(set(value)) <= f.max_items
            assert all(LIST_SEPARATOR not in v and v == v.strip() and v for v in value)
    assert values["year_from"] <= values["year_to"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params_st)
def test_parse_never_raises_and_stays_in_spec(params: dict[str, Any]) -> None:
    values, warnings = parse(params, SPEC)
    assert_within_spec(values, SPEC)
    assert all(isinstance(w, str) and len(w) < 500 for w in warnings)
    again, again_warnings = parse(to_params(values, SPEC), SPEC)
    assert again == values
    assert again_warnings == []


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(SPEC.names()), st.sampled_from(INVALID), st.booleans())
def test_an_invalid_value_gives_a_warning(name: str, invalid: str, repeated: bool) -> None:
    values, warnings = parse({name: [invalid, invalid] if repeated else invalid}, SPEC)
    assert_within_spec(values, SPEC)
    assert values[name] == SPEC.defaults()[name]
    assert warnings, f"{name}={invalid!r} fell back silently"
