"""The URL is the state: each page declares its fields once (name, kind, default,
allowed values), and `parse` / `to_params` translate between query parameters
and validated values. Both are pure; a bad link yields warnings and defaults,
never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["str", "list", "int"]
MAX_PARAM_LENGTH = 2_000
LIST_SEPARATOR = ","


# How the sidebar shows a field (ui/sidebar.py renders each kind):
# select / multiselect / radio: a choice among `choices`, labelled by `labels`;
# minerals / mineral: the mineral picker (by list, stage and search);
# codes: HS6 codes typed in; years: one slider for year_from and year_to (declared on
# year_from; year_to has "none"); number: a whole number; percent: a 0-100 slider;
# none: kept in the URL, not drawn.
Widget = Literal[
    "select",
    "multiselect",
    "radio",
    "minerals",
    "mineral",
    "codes",
    "years",
    "number",
    "percent",
    "none",
]


@dataclass(frozen=True)
class Field:
    """One filter, declared once: its URL name, kind, default, allowed values and the
    widget that shows it."""

    name: str
    kind: Kind
    default: Any
    choices: Collection[Any] | None = None  # strings; whole numbers for a year to pick
    pattern: str | None = None  # for values without a closed list (HS6 codes)
    minimum: int | None = None
    maximum: int | None = None
    max_items: int = 30
    label: str = ""
    widget: Widget = "none"
    labels: Mapping[str, str] | None = None  # how each choice is shown
    help: str | None = None
    # Fields that only steer a widget (the mineral picker's list) are kept in the URL
    # but are not part of the page's state.
    in_state: bool = True
    # The choice this field shares with other pages ("minerals", "country", "years"...):
    # fields carrying the same choice open with it, whether they hold one value or a
    # list (ui/url.py). None: the field is the page's own.
    carry: str | None = None
    # Where the widget is drawn: the sidebar, or the page's own row of controls.
    place: Literal["sidebar", "main"] = "sidebar"

    def accepts(self, item: str) -> bool:
        if self.choices is not None and item not in self.choices:
            return False
        return not (self.pattern and not re.fullmatch(self.pattern, item))


@dataclass(frozen=True)
class Spec:
    fields: tuple[Field, ...]
    checks: tuple[Callable[[dict[str, Any]], str | None], ...] = field(default=())

    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.fields}


def _raw_values(params: Mapping[str, Any], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, Sequence):
        return [str(v) for v in raw]
    return [str(raw)]


def parse(params: Mapping[str, Any], spec: Spec) -> tuple[dict[str, Any], list[str]]:
    """Validated values for every field of `spec`, and warnings for what was dropped.

    `params` maps a name to a string or a list of strings (repeated keys). Unknown
    keys are ignored; an invalid value falls back to the field's default.
    """
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for f in spec.fields:
        raw = _raw_values(params, f.name)
        if not raw:
            values[f.name] = f.default
            continue
        if len(raw) > 1 and f.kind != "list":
            warnings.append(f"'{f.name}' was given {len(raw)} times; using the first")
        text = raw[0] if f.kind != "list" else LIST_SEPARATOR.join(raw)
        if len(text) > MAX_PARAM_LENGTH:
            warnings.append(f"'{f.name}' is too long; using the default")
            values[f.name] = f.default
            continue
        if f.kind == "int":
            try:
                number = int(text.strip())
            except ValueError:
                warnings.append(
                    f"'{f.name}={_shorten(text)}' is not a whole number; using {f.default}"
                )
                values[f.name] = f.default
                continue
            if (f.minimum is not None and number < f.minimum) or (
                f.maximum is not None and number > f.maximum
            ):
                warnings.append(
                    f"'{f.name}={number}' is outside {f.minimum}-{f.maximum}; using {f.default}"
                )
                number = f.default
            values[f.name] = number
        elif f.kind == "str":
            item = text.strip()
            if f.accepts(item):
                values[f.name] = item
            else:
                warnings.append(
                    f"'{f.name}={_shorten(item)}' is not a known value; using {f.default}"
                )
                values[f.name] = f.default
        else:
            items = [i.strip() for i in text.split(LIST_SEPARATOR) if i.strip()]
            kept: list[str] = []
            for item in items:
                if not f.accepts(item):
                    warnings.append(f"'{f.name}' value '{_shorten(item)}' is not known; ignored")
                elif item not in kept:
                    kept.append(item)
            if len(kept) > f.max_items:
                warnings.append(f"'{f.name}' has more than {f.max_items} values; keeping the first")
                kept = kept[: f.max_items]
            values[f.name] = kept if (kept or not items) else list(f.default)
    for check in spec.checks:
        message = check(values)
        if message:
            warnings.append(message)
            for name in _fields_of_check(values, spec):
                values[name] = spec.defaults()[name]
    return values, warnings


def _fields_of_check(values: dict[str, Any], spec: Spec) -> list[str]:
    # Cross-field checks are about the year window: reset both ends together.
    return [n for n in ("year_from", "year_to") if n in values]


def _shorten(text: str, limit: int = 40) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def to_params(values: Mapping[str, Any], spec: Spec) -> dict[str, str]:
    """Query parameters for the values (every field, so a copied link restores the
    view exactly even if defaults change later)."""
    params: dict[str, str] = {}
    for f in spec.fields:
        value = values.get(f.name, f.default)
        if f.kind == "list":
            params[f.name] = LIST_SEPARATOR.join(str(v) for v in value)
        else:
            params[f.name] = str(value)
    return params


def year_window_check(values: dict[str, Any]) -> str | None:
    if values.get("year_from", 0) > values.get("year_to", 0):
        return (
            f"The year window {values['year_from']}-{values['year_to']} is reversed; "
            "using the default years"
        )
    return None


HS6_PATTERN = r"\d{6}"
