"""URL sync: the address bar holds the view, so a copied link restores it exactly.

`bind` reads and validates the query parameters (ui/state.parse), warns about what
a link got wrong, and seeds the widgets' session state on a page's first run;
`sync` writes the widgets' values back to the URL. Widget keys are `<page>:<field>`,
built here and nowhere else.

**One choice, carried everywhere.** A field that declares `carry` (ui/state.Field)
shares its choice with every field of the same name on other pages: the minerals,
the value-chain stages, the country, the years, the declaration, the importer. The
session holds each choice once, as a list whose first item is the one in focus:

- a field of one value (Suppliers' `mineral`, Diversification's `year`) opens with
  the first item; a field of several (Export growth's `minerals`) with all of them;
- a change on any page updates the choice: items added to a list come first (so a
  mineral added on Export growth is the one Suppliers opens with); a single value
  chosen moves to the front if it was among the items, else it becomes the only one;
- the years are one window: a page of one year opens with its last year, and a
  year chosen there ends the window.

A link's own values win over the carried ones and are carried from then on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from critmin.ui.state import Field, Spec, parse, to_params

CARRIED_KEY = "critmin:carried"
YEARS = "years"  # the one slider that holds year_from and year_to; also the window's choice


def key(page: str, name: str) -> str:
    """The session-state key of a page's widget."""
    return f"{page}:{name}"


def implied(field: Field, held: Mapping[str, list[str]]) -> str | list[str] | None:
    """What a carried choice gives this field, as raw URL text (None: nothing held)."""
    items = held.get(field.carry or "")
    if not field.carry or not items:
        return None
    if field.carry == YEARS:  # [first year or "" (not chosen yet), last year]
        return (items[0] or None) if field.name == "year_from" else items[-1]
    return list(items) if field.kind == "list" else items[0]


def merged(field: Field, items: list[str], value: Any) -> list[str]:
    """The carried choice after this field was set to `value` on a page."""
    if field.carry == YEARS:
        year = str(value)
        start, end = (items[0], items[-1]) if items else ("", year)
        if field.name == "year_from":
            return [year, end]
        if field.name == "year_to":
            return [start, year]
        # One year: the window ends there (and starts no later); a page of one year
        # never chose where a window starts.
        return [str(min(int(start), int(year))) if start else "", year]
    if field.kind == "list":
        chosen = [str(v) for v in value]
        added = [v for v in chosen if v not in items]
        return [*reversed(added), *(v for v in chosen if v not in added)]
    item = str(value)
    return [item, *(i for i in items if i != item)] if item in items else [item]


def carried_values(spec: Spec, held: Mapping[str, list[str]]) -> dict[str, Any]:
    """The raw values the carried choices give the spec's fields (those held)."""
    return {f.name: raw for f in spec.fields if f.carry and (raw := implied(f, held)) is not None}


def carry(spec: Spec, values: Mapping[str, Any], held: dict[str, list[str]]) -> None:
    """Update the carried choices (`held`, in place) with the fields whose values
    differ from what the choices gave them: the user changed them, or a link did."""
    for f in spec.fields:
        if not f.carry or f.name not in values:
            continue
        raw = implied(f, held)
        if raw is not None:
            given, _ = parse({f.name: raw}, Spec((f,)))
            if _same(given[f.name], values[f.name]):
                continue
        held[f.carry] = merged(f, list(held.get(f.carry, [])), values[f.name])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return [str(v) for v in a] == [str(v) for v in b]
    return str(a) == str(b)


def bind(page: str, spec: Spec) -> dict[str, Any]:
    """Read and validate the URL; seed the widgets' state from it, or from the choices
    carried from other pages, on first run."""
    url = {k: st.query_params.get_all(k) for k in st.query_params}
    held = st.session_state.get(CARRIED_KEY, {})
    carried = {k: v for k, v in carried_values(spec, held).items() if k not in url}
    values, _ = parse({**carried, **url}, spec)
    _, warnings = parse(url, spec)  # only what the link itself got wrong
    for message in warnings:
        st.warning(f"Link problem: {message}.", icon=":material/link_off:")
    for name, value in values.items():
        if key(page, name) not in st.session_state:
            st.session_state[key(page, name)] = value
    if "year_from" in values and key(page, YEARS) not in st.session_state:
        st.session_state[key(page, YEARS)] = (values["year_from"], values["year_to"])
    return values


def current(page: str, spec: Spec) -> dict[str, Any]:
    """The widgets' values, by field name."""
    values = {f.name: st.session_state.get(key(page, f.name), f.default) for f in spec.fields}
    years = st.session_state.get(key(page, YEARS))
    if years and "year_from" in values:
        values["year_from"], values["year_to"] = int(years[0]), int(years[1])
    return values


def sync(page: str, spec: Spec) -> dict[str, Any]:
    """Write the widgets' values to the URL and carry the shared choices; return them."""
    values = current(page, spec)
    params = to_params(values, spec)
    existing = {k: st.query_params.get(k) for k in st.query_params}
    if existing != params:
        st.query_params.from_dict(params)
    carry(spec, values, st.session_state.setdefault(CARRIED_KEY, {}))
    return values
