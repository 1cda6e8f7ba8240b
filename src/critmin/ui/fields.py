"""The filters pages share, each declared once (name, kind, default, allowed values,
widget): a page lists the ones it shows, and `ui/sidebar.py` draws them.

Allowed values come from the catalog (the countries, minerals and years the
warehouse holds), so a link naming anything else falls back to the default with a
warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from critmin.catalog import MINERAL_LISTS, STAGE_LABELS, Catalog
from critmin.domain import DEFAULT_MINERALS, FOCUS_COUNTRY, SIDE_LABELS, STAGES
from critmin.ui.state import HS6_PATTERN, Field, Widget

PICK_ALL = "all"
PICK_LARGEST = "largest"


def _country_labels(names: Mapping[str, str]) -> dict[str, str]:
    return {iso3: f"{name} ({iso3})" for iso3, name in sorted(names.items(), key=lambda kv: kv[1])}


def country(
    catalog: Catalog, name: str = "country", label: str = "Country", default: str = FOCUS_COUNTRY
) -> Field:
    """The country a page is about (the exporter, or the one highlighted): one choice
    carried to every page."""
    return Field(
        name,
        "str",
        default,
        choices=catalog.country_names,
        label=label,
        widget="select",
        labels=_country_labels(catalog.country_names),
        carry="country",
    )


def countries(
    catalog: Catalog,
    name: str,
    label: str,
    default: Iterable[str] = (),
    max_items: int = 30,
    help: str | None = None,
    carry: str | None = None,
) -> Field:
    return Field(
        name,
        "list",
        list(default),
        choices=catalog.country_names,
        max_items=max_items,
        label=label,
        widget="multiselect",
        labels=_country_labels(catalog.country_names),
        help=help,
        carry=carry,
    )


def importer(catalog: Catalog, default: str = "USA", label: str = "Importer") -> Field:
    """A country or a group of importers (the EU27)."""
    choices = catalog.importer_choices()
    labels = {**{g: n for g, n in choices.items() if g not in catalog.country_names}}
    labels.update(_country_labels(catalog.country_names))
    return Field(
        "importer",
        "str",
        default,
        choices=choices,
        label=label,
        widget="select",
        labels=labels,
        carry="importer",
    )


def minerals(
    catalog: Catalog, default: Iterable[str] = DEFAULT_MINERALS, label: str = "Minerals"
) -> Field:
    return Field(
        "minerals",
        "list",
        list(default),
        choices=catalog.mineral_labels,
        max_items=60,
        label=label,
        widget="minerals",
        labels=catalog.mineral_labels,
        help="Type to search. Codes shared with other goods are noted under the charts.",
        carry="minerals",
    )


def mineral(catalog: Catalog, default: str = "manganese_sulfate", label: str = "Mineral") -> Field:
    return Field(
        "mineral",
        "str",
        default,
        choices=catalog.mineral_labels,
        label=label,
        widget="mineral",
        labels=catalog.mineral_labels,
        carry="minerals",
    )


def mineral_pick(catalog: Catalog) -> Field:
    """Which minerals the picker offers: all, one critical-minerals list, or the chosen
    country's largest exports. Steers the picker; not part of the page's state."""
    choices = {PICK_ALL: "All minerals", **MINERAL_LISTS, PICK_LARGEST: "Largest exports"}
    return Field(
        "pick",
        "str",
        PICK_ALL,
        choices=choices,
        label="Offer minerals from",
        widget="none",
        labels=choices,
        in_state=False,
    )


def stages() -> Field:
    return Field(
        "stages",
        "list",
        [],
        choices=STAGES,
        label="Value-chain stage",
        widget="multiselect",
        labels=STAGE_LABELS,
        help="Keep only the codes of these stages (empty = every stage).",
        carry="stages",
    )


def exports(catalog: Catalog) -> list[Field]:
    """The fields of views.common.ExportsState, but the side (drawn last by pages):
    exporter, the mineral picker, stages, extra codes and years."""
    return [
        country(catalog, label="Exporter"),
        mineral_pick(catalog),
        minerals(catalog),
        stages(),
        codes(catalog),
        *years(catalog),
    ]


def codes(catalog: Catalog, default: Iterable[str] = ()) -> Field:
    """HS6 codes typed in: six digits, and a code of the HS editions loaded (any six
    digits when no trade data are loaded)."""
    return Field(
        "codes",
        "list",
        list(default),
        choices=catalog.code_texts or None,
        pattern=HS6_PATTERN,
        max_items=10,
        label="Extra HS6 codes",
        widget="codes",
        help="Any six-digit HS code, e.g. 811292. Shown as its own series.",
        carry="codes",
    )


def years(catalog: Catalog, default_from: int | None = None) -> tuple[Field, Field]:
    first, last = catalog.years
    start = max(first, default_from) if default_from else first
    return (
        Field(
            "year_from",
            "int",
            start,
            minimum=first,
            maximum=last,
            label="Years",
            widget="years",
            carry="years",
        ),
        Field("year_to", "int", last, minimum=first, maximum=last, carry="years"),
    )


def year(catalog: Catalog, label: str = "Year") -> Field:
    """One year, chosen among the years loaded (newest first): a year outside them
    cannot be typed, and a link naming one says so."""
    first, last = catalog.years
    return Field(
        "year",
        "int",
        last,
        choices=list(range(last, first - 1, -1)),
        minimum=first,
        maximum=last,
        label=label,
        widget="select",
        help=f"The years loaded: {first}–{last}.",
        carry="years",
    )


def side(catalog: Catalog) -> Field:
    options = [s for s in SIDE_LABELS if s in catalog.trade_sides] or ["reconciled"]
    return Field(
        "side",
        "str",
        catalog.default_side(),
        choices=options,
        label="Declaration",
        widget="select",
        labels=SIDE_LABELS,
        help="Reconciled flows (BACI) or one side's own declaration (UN Comtrade).",
        carry="side",
    )


def sides(catalog: Catalog) -> Field:
    return Field(
        "sides",
        "list",
        [catalog.default_side()],
        choices=SIDE_LABELS,
        label="Declarations",
        widget="multiselect",
        labels=SIDE_LABELS,
        help="Empty = all",
        carry="side",
    )


def choice(
    name: str,
    label: str,
    options: Mapping[str, str],
    default: str,
    widget: Widget = "radio",
    help: str | None = None,
) -> Field:
    return Field(
        name, "str", default, choices=options, label=label, widget=widget, labels=options, help=help
    )


def multichoice(
    name: str,
    label: str,
    options: Iterable[str],
    help: str | None = "Empty = all",
    labels: Mapping[str, str] | None = None,
) -> Field:
    """Several of `options` (empty = all), shown by `labels` (in their order) if given."""
    values = list(options)
    return Field(
        name,
        "list",
        [],
        choices=values,
        label=label,
        widget="multiselect",
        help=help,
        max_items=50,
        labels=labels,
    )


def percent(name: str, label: str, default: int, help: str | None = None) -> Field:
    return Field(
        name, "int", default, minimum=0, maximum=100, label=label, widget="percent", help=help
    )


def overview(catalog: Catalog) -> list[Field]:
    """The Overview page's fields (the default page: the server's warm-up builds its
    view for these fields' defaults before the first visitor, ui/warmup.py)."""
    return [country(catalog), *years(catalog)]
