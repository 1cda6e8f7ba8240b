"""Property tests of the URL state: whatever a link holds, `parse` returns values
inside the spec, never raises, and round-trips through `to_params`."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critmin.ui.state import (
    LIST_SEPARATOR,
    Field,
    Spec,
    parse,
    to_params,
    year_window_check,
)

COUNTRIES = ("KAZ", "UZB", "CHN", "RUS", "USA", "DEU")
MINERALS = ("gallium", "lithium", "rare_earths", "manganese_sulfate")
SPEC = Spec(
    (
        Field("country", "str", "KAZ", choices=COUNTRIES),
        Field("exporters", "list", ["KAZ"], choices=COUNTRIES, max_items=3),
        Field("minerals", "list", ["gallium"], choices=MINERALS),
        Field("codes", "list", [], pattern=r"\d{6}", max_items=10),
        Field("year_from", "int", 2015, minimum=2012, maximum=2024),
        Field("year_to", "int", 2024, minimum=2012, maximum=2024),
        Field("order", "str", "desc", choices=("asc", "desc")),
        Field("year", "int", 2024, minimum=2012, maximum=2024),
    ),
    (year_window_check,),
)

HOSTILE = [
    "",
    " ",
    ",",
    ",,,",
    "'",
    '"',
    "''; DROP TABLE trade_flows; --",
    "1 OR 1=1",
    "KAZ' UNION SELECT * FROM read_csv('/etc/passwd') --",
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
    "２０１５",
    "2_015",
    "KAZ,KAZ,KAZ",
    "kaz",
    " KAZ ",
    "XXX",
    "<script>alert(1)</script>",
    "ÄÖÜ",
    "🦆",
    "\u202e",
    "gallium,lithium,rare_earths,manganese_sulfate",
    "123456,12345,1234567,abcdef",
    "811292",
    "x" * 5_000,
    "KAZ," * 800,
    "2012",
    "2024",
    "2030",
    "NaN",
    "None",
    "null",
    "[]",
]
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


def test_repeated_keys_and_negative_years() -> None:
    values, warnings = parse({"year_from": ["-5", "2013"], "country": ["UZB", "KAZ"]}, SPEC)
    assert values["year_from"] == 2015 and values["country"] == "UZB"
    assert any("given 2 times" in w for w in warnings)
    assert any("outside" in w for w in warnings)


def test_reversed_window_resets_both_years() -> None:
    values, warnings = parse({"year_from": "2020", "year_to": "2013"}, SPEC)
    assert (values["year_from"], values["year_to"]) == (2015, 2024)
    assert any("reversed" in w for w in warnings)
