"""The URL-state parser: declared fields, bad links falling back to defaults."""

from critmin.ui.state import HS6_PATTERN, Field, Spec, parse, to_params, year_window_check

SPEC = Spec(
    (
        Field("country", "str", "KAZ", choices={"KAZ", "CHN", "USA"}),
        Field("minerals", "list", ["gallium"], choices={"gallium", "graphite", "lithium"}),
        Field("codes", "list", [], pattern=HS6_PATTERN, max_items=3),
        Field("year_from", "int", 2012, minimum=2012, maximum=2024),
        Field("year_to", "int", 2024, minimum=2012, maximum=2024),
    ),
    (year_window_check,),
)


def test_defaults_when_empty():
    values, warnings = parse({}, SPEC)
    assert values == SPEC.defaults()
    assert warnings == []


def test_valid_link_round_trips():
    params = {
        "country": "CHN",
        "minerals": "graphite,lithium",
        "codes": "811292",
        "year_from": "2015",
        "year_to": "2020",
    }
    values, warnings = parse(params, SPEC)
    assert warnings == []
    assert values == {
        "country": "CHN",
        "minerals": ["graphite", "lithium"],
        "codes": ["811292"],
        "year_from": 2015,
        "year_to": 2020,
    }
    assert to_params(values, SPEC) == params


def test_unknown_values_fall_back_with_a_warning():
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
    assert values["year_from"] == 2012
    assert values["codes"] == ["811292"]
    assert len(warnings) == 4
    assert any("unobtainium" in w for w in warnings)


def test_all_list_items_invalid_gives_default():
    values, warnings = parse({"minerals": "nope"}, SPEC)
    assert values["minerals"] == ["gallium"]
    assert warnings


def test_reversed_or_out_of_range_years():
    values, warnings = parse({"year_from": "2020", "year_to": "2013"}, SPEC)
    assert (values["year_from"], values["year_to"]) == (2012, 2024)
    assert any("reversed" in w for w in warnings)
    values, warnings = parse({"year_from": "-5"}, SPEC)
    assert values["year_from"] == 2012 and warnings


def test_repeated_keys_long_values_and_sql():
    values, warnings = parse({"country": ["USA", "CHN"]}, SPEC)
    assert values["country"] == "USA" and warnings
    values, warnings = parse({"country": "KAZ' OR 1=1; --"}, SPEC)
    assert values["country"] == "KAZ" and warnings
    values, warnings = parse({"minerals": "g" * 5000}, SPEC)
    assert values["minerals"] == ["gallium"] and "too long" in warnings[0]


def test_list_cap_and_duplicates():
    values, warnings = parse({"codes": "000001,000002,000002,000003,000004"}, SPEC)
    assert values["codes"] == ["000001", "000002", "000003"]
    assert any("more than 3" in w for w in warnings)
