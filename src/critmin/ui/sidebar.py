"""The one sidebar helper: a page lists its fields (ui/fields.py) and the dataclass of
its state (views/<page>.State); `render` binds the URL, draws each field's widget,
writes the URL back and returns the validated state, typed.

    state = sidebar.render("growth", "Export growth", growth.State, catalog, [...])

Pages never build widget keys or parse parameters themselves. A field placed "main"
is drawn in the page's own controls (`main`, e.g. a row of columns) instead of the
sidebar. `counts(state)` may add a note to each option of some fields (how many flows
each would match: the explorer's facets), computed from the widgets' current values
before they are drawn.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import streamlit as st

from critmin import loaded
from critmin.catalog import MINERAL_LISTS, Catalog
from critmin.ui import data, url
from critmin.ui.fields import PICK_ALL, PICK_LARGEST
from critmin.ui.state import HS6_PATTERN, Field, Spec, year_window_check

S = TypeVar("S")
# Short tags of the critical-minerals lists, shown after a mineral's name in the picker.
LIST_TAGS = {"USGS2025": "US", "EU2023": "EU"}
# Codes offered in the codes box before the user types one.
COMMON_CODES = ("811292", "283329", "250410", "380110", "280530", "283691", "720241", "810820")


def render(
    page: str,
    header: str,
    state_type: type[S],
    catalog: Catalog,
    fields: Sequence[Field],
    largest: Callable[[str], list[str]] | None = None,
    main: Sequence[Any] = (),
    counts: Callable[[S], Mapping[str, Mapping[str, str]]] | None = None,
) -> S:
    """Bind the URL, draw the widgets, sync the URL; the page's validated state.

    `largest(country)` lists a country's largest mineral exports, for the mineral
    picker's "largest exports" choice (by default the cached view of ui/data). Fields
    placed "main" go, in order, into the containers of `main`. `counts(state)` gives,
    per field name, a note to show after each option's label."""
    largest = largest or data.largest_exports
    spec = Spec(tuple(fields), (year_window_check,) if _has(fields, "year_from") else ())
    _check_state_type(state_type, fields)
    url.bind(page, spec)
    notes: Mapping[str, Mapping[str, str]] = {}
    if counts is not None:
        notes = counts(_state(state_type, fields, url.current(page, spec)))
    st.sidebar.header(header)
    drawn: dict[str, Any] = {}
    by_name = {f.name: f for f in fields}
    places = iter(main)
    for field in fields:
        where = next(places) if field.place == "main" and main else st.sidebar
        drawn[field.name] = _draw(
            page, field, by_name, drawn, catalog, largest, where, notes.get(field.name, {})
        )
    values = url.sync(page, spec)
    values.update({k: v for k, v in drawn.items() if v is not None})
    return _state(state_type, fields, values)


def defaults(state_type: type[S], fields: Sequence[Field]) -> S:
    """The state a page opened without parameters shows: every field's default."""
    _check_state_type(state_type, fields)
    return _state(state_type, fields, {f.name: f.default for f in fields})


def _state(state_type: type[S], fields: Sequence[Field], values: Mapping[str, Any]) -> S:
    """The typed state of the fields' values (codes that are not six digits left out)."""
    state = {
        f.name: tuple(values[f.name]) if f.kind == "list" else values[f.name]
        for f in fields
        if f.in_state
    }
    if "codes" in state:
        state["codes"] = tuple(c for c in state["codes"] if re.fullmatch(HS6_PATTERN, str(c)))
    return state_type(**state)


def _has(fields: Sequence[Field], name: str) -> bool:
    return any(f.name == name for f in fields)


def _check_state_type(state_type: type[Any], fields: Sequence[Field]) -> None:
    declared = {f.name for f in fields if f.in_state}
    wanted = {f.name for f in dataclasses.fields(state_type)}
    if declared != wanted:
        raise TypeError(
            f"{state_type.__name__} has fields {sorted(wanted)} but the page declares "
            f"{sorted(declared)}"
        )


def _format(field: Field, notes: Mapping[str, str]) -> Callable[[Any], str]:
    labels = field.labels or {}
    return lambda value: labels.get(value, str(value)) + notes.get(value, "")


def _options(field: Field, notes: Mapping[str, str] | None = None) -> list[str]:
    """The field's options; those with a note come first, in the notes' order (the
    explorer's facets: the values with flows, largest first)."""
    if field.labels:
        options = [o for o in field.labels if field.choices is None or o in field.choices]
    else:
        options = list(field.choices or [])
    if notes:
        offered = set(options)
        options = [o for o in notes if o in offered] + [o for o in options if o not in notes]
    return options


def _draw(
    page: str,
    field: Field,
    fields: dict[str, Field],
    drawn: dict[str, Any],
    catalog: Catalog,
    largest: Callable[[str], list[str]] | None,
    bar: Any,
    notes: Mapping[str, str],
) -> Any:
    """Draw one field's widget in `bar` (the sidebar or a container of the page), each
    option's label followed by its note; return a cleaned value where the widget's own
    value needs cleaning (codes), else None."""
    key = url.key(page, field.name)
    if field.widget == "select":
        bar.selectbox(
            field.label,
            _options(field),
            key=key,
            format_func=_format(field, notes),
            help=field.help,
        )
    elif field.widget == "multiselect":
        bar.multiselect(
            field.label,
            _options(field, notes),
            key=key,
            format_func=_format(field, notes),
            max_selections=field.max_items,
            help=field.help,
            # What is typed matches anywhere in a label, and matches keep the declared
            # order (the Map's "chrom" offers "Chromium (Cr)" before "Chromite").
            filter_mode="contains",
        )
    elif field.widget == "radio":
        bar.radio(
            field.label,
            _options(field),
            key=key,
            format_func=_format(field, notes),
            help=field.help,
        )
    elif field.widget in ("minerals", "mineral"):
        _mineral_picker(page, field, fields, drawn, catalog, largest, notes)
    elif field.widget == "codes":
        return _codes(page, field, catalog)
    elif field.widget == "years":
        low, high = field.minimum, field.maximum
        assert low is not None and high is not None
        if low == high:
            bar.caption(f"Year: {low} (the only year loaded)")
            st.session_state[url.key(page, url.YEARS)] = (low, high)
        else:
            bar.slider(field.label, min_value=low, max_value=high, key=url.key(page, url.YEARS))
    elif field.widget == "number":
        bar.number_input(
            field.label,
            min_value=field.minimum,
            max_value=field.maximum,
            step=1,
            key=key,
            help=field.help,
        )
    elif field.widget == "percent":
        bar.slider(field.label, min_value=0, max_value=100, step=5, key=key, help=field.help)
    return None


def _mineral_picker(
    page: str,
    field: Field,
    fields: dict[str, Field],
    drawn: dict[str, Any],
    catalog: Catalog,
    largest: Callable[[str], list[str]] | None,
    notes: Mapping[str, str],
) -> None:
    """Minerals offered by list (USGS 2025, EU 2023, a country's largest exports), with
    search; what is already chosen always stays offered."""
    key = url.key(page, field.name)
    chosen = st.session_state.get(key, field.default)
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    options = list(catalog.mineral_labels)
    pick = fields.get("pick")
    if pick is not None:
        country = st.session_state.get(url.key(page, "country")) or st.session_state.get(
            url.key(page, "highlight")
        )
        labels = dict(pick.labels or {})
        if country:
            labels[PICK_LARGEST] = f"{catalog.country_name(str(country))}'s largest exports"
        if largest is None or not country:
            labels.pop(PICK_LARGEST, None)
        st.sidebar.selectbox(
            pick.label,
            list(labels),
            key=url.key(page, "pick"),
            format_func=lambda value: labels.get(value, value),
            help="Narrows the list below; minerals already chosen stay.",
        )
        offered = st.session_state.get(url.key(page, "pick"), PICK_ALL)
        if offered == PICK_LARGEST and largest is not None and country:
            ranked = [m for m in largest(str(country)) if m in catalog.mineral_labels]
            options = ranked + [m for m in chosen if m not in ranked]
        elif offered in MINERAL_LISTS:
            listed = catalog.minerals_on(str(offered))
            options = listed + [m for m in chosen if m not in listed]

    def label(mineral: str) -> str:
        lists = ", ".join(LIST_TAGS.get(m, m) for m in catalog.mineral_lists.get(mineral, ()))
        text = catalog.mineral_label(mineral)
        return (f"{text} [{lists}]" if lists else text) + notes.get(mineral, "")

    if field.widget == "mineral":
        st.sidebar.selectbox(field.label, options, key=key, format_func=label, help=field.help)
    else:
        st.sidebar.multiselect(
            field.label,
            options,
            key=key,
            format_func=label,
            max_selections=field.max_items,
            help=field.help,
        )


def check_codes(typed: Sequence[str], catalog: Catalog) -> tuple[list[str], list[str]]:
    """The typed codes to keep, and a sentence for each one left out: a code has six
    digits and is a code of the HS editions loaded."""
    editions = " and ".join(loaded.edition_name(e) for e in catalog.editions)
    good: list[str] = []
    problems: list[str] = []
    for raw in typed:
        code = str(raw).strip()
        if not re.fullmatch(HS6_PATTERN, code):
            problems.append(f"“{code}” is not an HS6 code: codes have six digits, e.g. 811292.")
        elif not catalog.code_known(code):
            problems.append(
                f"{code} is not a code of {editions}, the HS edition of the data loaded: "
                "no flow can match it."
                if catalog.codes_of_editions
                else f"{code} is not a code of the Harmonized System (any edition): no flow "
                "can match it."
            )
        elif code not in good:
            good.append(code)
    return good, problems


def _codes(page: str, field: Field, catalog: Catalog) -> list[str]:
    """HS6 codes typed in, checked the moment they are typed: a code that is not six
    digits, or not a code of the editions loaded, is taken out with a sentence saying
    why; each code kept is named with its HS text."""
    key = url.key(page, field.name)
    said = f"{key}:problems"

    def check() -> None:
        good, problems = check_codes(st.session_state.get(key, []), catalog)
        st.session_state[key] = good
        st.session_state[said] = problems

    chosen = list(st.session_state.get(key, []))
    typed = st.sidebar.multiselect(
        field.label,
        options=sorted({*chosen, *(c for c in COMMON_CODES if catalog.code_known(c))}),
        key=key,
        accept_new_options=True,
        max_selections=field.max_items,
        help=field.help,
        on_change=check,
    )
    good, problems = check_codes(typed, catalog)
    for problem in [*st.session_state.pop(said, []), *problems]:
        st.sidebar.warning(problem, icon=":material/error:")
    for code in good:
        text = catalog.code_texts.get(code)
        if text:
            st.sidebar.caption(f"{code}: {text}")
    return good
