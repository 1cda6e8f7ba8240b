"""URL sync: the address bar holds the view, so a copied link restores it exactly.

`bind` reads and validates the query parameters (ui/state.parse), warns about what
a link got wrong, and seeds the widgets' session state on a page's first run;
`sync` writes the widgets' values back to the URL. The country, minerals and years
a user chose travel to the next page opened from the sidebar (a link's own values
win). Widget keys are `<page>:<field>`, built here and nowhere else.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from critmin.ui.state import Spec, parse, to_params

CARRIED_KEY = "critmin:carried"
CARRIED_FIELDS = ("country", "minerals", "year_from", "year_to")
YEARS = "years"  # the one slider that holds year_from and year_to


def key(page: str, name: str) -> str:
    """The session-state key of a page's widget."""
    return f"{page}:{name}"


def bind(page: str, spec: Spec) -> dict[str, Any]:
    """Read and validate the URL; seed the widgets' state from it on first run."""
    url = {k: st.query_params.get_all(k) for k in st.query_params}
    carried = {
        name: value
        for name, value in st.session_state.get(CARRIED_KEY, {}).items()
        if name in spec.names() and name not in url
    }
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
    """Write the widgets' values to the URL; return them."""
    values = current(page, spec)
    params = to_params(values, spec)
    existing = {k: st.query_params.get(k) for k in st.query_params}
    if existing != params:
        st.query_params.from_dict(params)
    carried = st.session_state.setdefault(CARRIED_KEY, {})
    carried.update({name: params[name] for name in CARRIED_FIELDS if name in params})
    return values
