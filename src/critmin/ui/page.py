"""Page furniture: URL-bound sidebar filters, the synthetic-data banner, basket
notes and empty-result messages. Every page calls `bind` first and `sync_url`
after its widgets, so the URL always holds the view."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from critmin.domain import SIDE_LABELS
from critmin.ui.data import Reference
from critmin.ui.state import HS6_PATTERN, Field, Spec, parse, to_params, year_window_check

DEMO_FIX = "critmin ingest baci PATH/TO/BACI_HS17_V202501.zip"


def _key(page: str, name: str) -> str:
    return f"{page}:{name}"


# Filters that mean the same on every page that has them: a choice made on one page is
# carried to the next one the user opens from the sidebar (a link's own values win).
CARRIED_KEY = "critmin:carried"
CARRIED_FIELDS = ("country", "minerals", "year_from", "year_to")


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
        key = _key(page, name)
        if key not in st.session_state:
            st.session_state[key] = value
    if "year_from" in values and _key(page, "years") not in st.session_state:
        st.session_state[_key(page, "years")] = (values["year_from"], values["year_to"])
    return values


def current(page: str, spec: Spec) -> dict[str, Any]:
    values = {}
    for f in spec.fields:
        values[f.name] = st.session_state.get(_key(page, f.name), f.default)
    years = st.session_state.get(_key(page, "years"))
    if years and "year_from" in values:
        values["year_from"], values["year_to"] = int(years[0]), int(years[1])
    return values


def sync_url(page: str, spec: Spec) -> dict[str, Any]:
    """Write the widgets' values to the URL; return them."""
    values = current(page, spec)
    params = to_params(values, spec)
    existing = {k: st.query_params.get(k) for k in st.query_params}
    if existing != params:
        st.query_params.from_dict(params)
    carried = st.session_state.setdefault(CARRIED_KEY, {})
    carried.update({name: params[name] for name in CARRIED_FIELDS if name in params})
    return values


# --- field declarations shared by pages --------------------------------------------


def year_fields(ref: Reference, default_from: int | None = None) -> tuple[Field, Field]:
    first, last = ref.years
    start = max(first, default_from) if default_from else first
    return (
        Field("year_from", "int", start, minimum=first, maximum=last),
        Field("year_to", "int", last, minimum=first, maximum=last),
    )


def spec(*fields: Field) -> Spec:
    checks = (year_window_check,) if any(f.name == "year_from" for f in fields) else ()
    return Spec(tuple(fields), checks)


def codes_field(default: Iterable[str] = ()) -> Field:
    return Field("codes", "list", list(default), pattern=HS6_PATTERN, max_items=10)


# --- sidebar widgets -----------------------------------------------------------------


def country_select(page: str, ref: Reference, name: str = "country", label: str = "Country") -> str:
    options = sorted(ref.country_names, key=lambda c: ref.country_names[c])
    return str(
        st.sidebar.selectbox(
            label,
            options,
            key=_key(page, name),
            format_func=lambda c: f"{ref.country_names.get(c, c)} ({c})",
        )
    )


def countries_select(
    page: str,
    ref: Reference,
    name: str,
    label: str,
    max_selections: int | None = None,
    help: str | None = None,
) -> list[str]:
    options = sorted(ref.country_names, key=lambda c: ref.country_names[c])
    return list(
        st.sidebar.multiselect(
            label,
            options,
            key=_key(page, name),
            format_func=lambda c: f"{ref.country_names.get(c, c)} ({c})",
            max_selections=max_selections,
            help=help,
        )
    )


def minerals_select(
    page: str, ref: Reference, label: str = "Minerals", max_selections: int | None = None
) -> list[str]:
    return list(
        st.sidebar.multiselect(
            label,
            list(ref.mineral_labels),
            key=_key(page, "minerals"),
            format_func=lambda m: ref.mineral_labels.get(m, m),
            max_selections=max_selections,
        )
    )


def codes_input(page: str) -> list[str]:
    return list(
        st.sidebar.multiselect(
            "Extra HS6 codes",
            options=_code_options(page),
            key=_key(page, "codes"),
            accept_new_options=True,
            help="Any six-digit HS code, e.g. 811292. Shown as its own series.",
        )
    )


def _code_options(page: str) -> list[str]:
    chosen = st.session_state.get(_key(page, "codes"), [])
    return sorted({*chosen, "811292", "283329", "250410", "380110", "280530", "283691"})


def years_slider(page: str, ref: Reference) -> tuple[int, int]:
    first, last = ref.years
    if first == last:
        st.sidebar.caption(f"Year: {first} (the only year loaded)")
        return first, last
    window = st.sidebar.slider("Years", min_value=first, max_value=last, key=_key(page, "years"))
    low, high = window if isinstance(window, tuple) else (window, window)
    return int(low), int(high)


def side_select(page: str, ref: Reference) -> str:
    options = [s for s in SIDE_LABELS if s in ref.trade_sides] or ["reconciled"]
    return str(
        st.sidebar.selectbox(
            "Declaration",
            options,
            key=_key(page, "side"),
            format_func=lambda s: SIDE_LABELS.get(s, s),
            help="Reconciled flows (BACI) or one side's own declaration (UN Comtrade).",
        )
    )


def clean_codes(codes: list[str]) -> list[str]:
    """Keep valid HS6 codes typed into the codes box; warn about the rest."""
    import re

    good = [c for c in codes if re.fullmatch(HS6_PATTERN, c)]
    bad = [c for c in codes if c not in good]
    if bad:
        st.sidebar.warning(f"Ignored: {', '.join(bad)} (HS6 codes have six digits).")
    return good


# --- banners and notes ---------------------------------------------------------------


def data_banner(ref: Reference) -> None:
    if "demo" in ref.trade_sources:
        st.warning(
            "**Synthetic demo data.** Trade figures on this page are generated for "
            "demonstration, not real statistics. Load real flows with "
            f"`{DEMO_FIX}` (see README, *Loading real data*).",
            icon=":material/science:",
        )
    elif not ref.trade_sources:
        st.info(
            "No trade flows are loaded. Load them with `critmin ingest baci PATH` or "
            "`critmin fetch comtrade --reporter KAZ`."
        )


def basket_notes(ref: Reference, minerals: Iterable[str]) -> None:
    baskets = ref.basket_codes.filter(ref.basket_codes["mineral"].is_in(list(minerals)))
    shared = baskets.filter(
        baskets["shared_basket"] & baskets["hs_edition"].is_in(list(ref.editions))
    )
    if shared.height:
        lines = []
        for (mineral, hs6), group in shared.group_by(["mineral", "hs6"], maintain_order=True):
            lines.append(
                f"- **{ref.mineral_labels.get(str(mineral), mineral)} — HS {hs6}**: "
                f"{group['note'][0]}"
            )
        st.caption(
            "**Basket codes shared with other goods** — values may include them:\n"
            + "\n".join(sorted(set(lines)))
        )


def codes_used(ref: Reference, minerals: Iterable[str]) -> str:
    baskets = ref.basket_codes.filter(
        ref.basket_codes["mineral"].is_in(list(minerals))
        & ref.basket_codes["hs_edition"].is_in(list(ref.editions))
    )
    parts = []
    for (mineral,), group in baskets.group_by(["mineral"], maintain_order=True):
        codes = ", ".join(sorted(set(group["hs6"].to_list())))
        parts.append(f"{ref.mineral_labels.get(str(mineral), mineral)}: {codes}")
    editions = ", ".join(ref.editions) or "none"
    return f"HS codes ({editions}) — " + "; ".join(parts) if parts else ""


def series_label(ref: Reference, series: str) -> str:
    return ref.mineral_labels.get(series, series)


def empty(message: str) -> None:
    st.info(message, icon=":material/search_off:")


def default_side(ref: Reference) -> str:
    """The side headline figures use: reconciled if loaded, else the exporter's own."""
    for side in ("reconciled", "exporter_reported", "importer_reported"):
        if side in ref.trade_sides:
            return side
    return "reconciled"


def side_caption(side: str) -> str:
    return f"Figures: {SIDE_LABELS.get(side, side)} flows."


def partner_group_expr(ref: Reference, column: str = "partner") -> Any:
    """A polars expression naming each partner's group (China, Russia, ..., EU27,
    C5 neighbours, Rest of world), in the Partners page's order."""
    import polars as pl

    from critmin.domain import PARTNER_GROUPS, REST_OF_WORLD

    mapping: dict[str, str] = {}
    for group, members in PARTNER_GROUPS.items():
        for iso3 in members or tuple(ref.country_groups.get(group, [])):
            mapping.setdefault(iso3, group)
    return pl.col(column).replace_strict(mapping, default=REST_OF_WORLD).alias("group")


GROUP_ORDER = [
    "China",
    "Russia",
    "United States",
    "EU27",
    "Korea",
    "Japan",
    "Turkey",
    "C5 neighbours",
    "Rest of world",
]


def side_phrase(side: str) -> str:
    """'Reconciled (BACI) flows', for sentences."""
    return f"{SIDE_LABELS.get(side, side)} flows"
