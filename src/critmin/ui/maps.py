"""The one map builder: pydeck with no network basemap, sized for a shared demo.

Every rerun of a page sends its map to the browser again, so what changes is kept
small and what does not is served once:

- **Land** is a static GeoJSON file (`static/countries-110m.geojson`, Natural Earth
  1:110m simplified, written by `scripts/build_static_maps.py` from the bundled
  shapes) that Streamlit serves at `app/static/...` with an ETag: the browser fetches
  it once and revalidates it, it is never inside the map's message.
- **Partners** shaded by the value they receive are the few countries of the chosen
  flows, with shapes simplified further (`PARTNER_TOLERANCE_DEG`).
- **Sites** are points with short keys and a one-line tooltip; past `MAX_POINTS`
  (the worldwide USGS set holds 33,000) they are aggregated into grid cells with a
  count and the main commodities, so any map stays under about 1 MB.

polars rows go in as plain dicts (pydeck converts only pandas); layer ids are fixed.
"""

from __future__ import annotations

import functools
import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize
from shapely.geometry import mapping, shape

from critmin import reference
from critmin.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from critmin.views import map as sites_map

STATIC_DIR = PROJECT_ROOT / "static"
LAND_FILE = "countries-110m.geojson"
# Relative, so it resolves under any base path the demo is served from.
LAND_URL = f"app/static/{LAND_FILE}"
LAND_TOLERANCE_DEG = 0.02
PARTNER_TOLERANCE_DEG = 0.25
MAX_POINTS = 3_000
GRID_DEG = 1.0  # cell size when sites are aggregated

COMMODITY_COLOURS = {
    "Cu": [201, 111, 45],
    "Zn": [90, 110, 160],
    "Pb": [110, 110, 110],
    "Mn": [150, 60, 150],
    "U": [230, 200, 30],
    "REE": [210, 60, 120],
    "Li": [60, 180, 170],
    "Graphite": [40, 40, 40],
    "Ga": [90, 160, 220],
    "Al2O3": [170, 170, 210],
    "Al": [170, 170, 210],
    "Au": [230, 170, 20],
    "Cr": [60, 140, 60],
    "Fe": [140, 70, 40],
    "W": [100, 80, 160],
    "Ti": [120, 150, 170],
}
OTHER_COLOUR = [120, 120, 120]
STATUS_RADIUS = {
    "producing": 9000,
    "plant": 8000,
    "development": 7000,
    "past producer": 5500,
    "exploration": 5000,
    "occurrence": 4000,
    "unknown": 4000,
}
FOCUS_FILL = [224, 122, 31, 200]


def colour_for(commodities: list[str] | None) -> list[int]:
    for commodity in commodities or []:
        if commodity in COMMODITY_COLOURS:
            return COMMODITY_COLOURS[commodity]
    return OTHER_COLOUR


def _unwrapped(geometry: Any) -> Any:
    """Polygons that cross the antimeridian (Russia's Chukotka, Fiji) come from the
    TopoJSON as one ring from -180 to 180, drawn as a band across the whole map: shift
    their western points by 360 degrees so the ring stays in one piece."""
    parts = list(getattr(geometry, "geoms", [geometry]))
    fixed = []
    for part in parts:
        west, _, east, _ = part.bounds
        if east - west > 180:
            part = shapely.transform(
                part,
                lambda xy: np.column_stack(
                    [np.where(xy[:, 0] < 0, xy[:, 0] + 360, xy[:, 0]), xy[:, 1]]
                ),
            )
        fixed.append(part)
    return shapely.MultiPolygon(fixed) if len(fixed) > 1 else fixed[0]


def _rounded(geometry: Any, digits: int) -> dict[str, Any]:
    """GeoJSON of a geometry with coordinates rounded (2 decimals ~ 1 km)."""
    rounded = shapely.transform(geometry, lambda xy: np.round(xy, digits))
    return dict(mapping(rounded))


def static_land() -> dict[str, Any]:
    """The land layer's GeoJSON (what `static/countries-110m.geojson` holds)."""
    features = []
    for feature in reference.country_features("110m"):
        geometry = _unwrapped(shape(feature["geometry"])).simplify(
            LAND_TOLERANCE_DEG, preserve_topology=True
        )
        name = feature["properties"].get("name", "")
        features.append(
            {
                "type": "Feature",
                "geometry": _rounded(geometry, 2),
                "properties": {"iso3": feature["properties"].get("iso3") or "", "tip": name},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def write_static_land(directory: Path = STATIC_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LAND_FILE
    path.write_text(json.dumps(static_land(), separators=(",", ":")), encoding="utf-8")
    return path


@functools.cache
def _partner_shapes() -> dict[str, tuple[str, dict[str, Any]]]:
    """ISO3 -> (name, coarse GeoJSON geometry) for the partner-shading layer."""
    shapes: dict[str, tuple[str, dict[str, Any]]] = {}
    for feature in reference.country_features("110m"):
        iso3 = feature["properties"].get("iso3")
        if iso3:
            geometry = _unwrapped(shape(feature["geometry"])).simplify(
                PARTNER_TOLERANCE_DEG, preserve_topology=True
            )
            shapes[iso3] = (feature["properties"].get("name", iso3), _rounded(geometry, 1))
    return shapes


def partner_geojson(partner_values: dict[str, float], focus: str | None) -> dict[str, Any]:
    """The focus country and its partners, shaded by the value they receive."""
    from critmin.ui.format import usd

    shapes = _partner_shapes()
    peak = max(partner_values.values(), default=0.0)
    features = []
    for iso3 in [*(c for c in [focus] if c), *partner_values]:
        if iso3 not in shapes:
            continue
        name, geometry = shapes[iso3]
        value = partner_values.get(iso3, 0.0)
        if iso3 == focus:
            fill, tip = FOCUS_FILL, name
        elif value > 0 and peak > 0:
            strength = math.sqrt(value / peak)
            fill = [
                int(230 - 180 * strength),
                int(238 - 120 * strength),
                int(245 - 60 * strength),
                220,
            ]
            tip = f"{name}: exports received {usd(value)}"
        else:
            continue
        features.append(
            {"type": "Feature", "geometry": geometry, "properties": {"fill": fill, "tip": tip}}
        )
    return {"type": "FeatureCollection", "features": features}


def site_points(sites: pl.DataFrame) -> list[dict[str, Any]]:
    """One short record per place with coordinates: sites with the same name,
    commodities, status and point (compilations list some deposits several times) are
    one point whose tooltip counts them (`records` when the view has merged them
    already). Commodities are named ("Chromium, Iron"); an unknown status is not
    repeated in every tooltip."""
    located = sites.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    records = pl.col("records") if "records" in located.columns else pl.lit(1)
    places = (
        located.select(
            "name",
            pl.col("lon").round(3),
            pl.col("lat").round(3),
            pl.col("commodities").fill_null([]),
            pl.col("status").fill_null("unknown"),
            records.alias("records"),
        )
        .group_by("name", "lon", "lat", "commodities", "status", maintain_order=True)
        .agg(pl.col("records").sum().alias("len"))
    )
    points = []
    for row in places.iter_rows(named=True):
        commodities, status = row["commodities"], row["status"]
        named = [reference.commodity_name(c) for c in commodities[:4]]
        tip = f"{row['name']} — {', '.join(named) or 'no commodity listed'}"
        if status != "unknown":
            tip += f"; {status}"
        if row["len"] > 1:
            tip += f" ({row['len']} records)"
        points.append(
            {
                "p": [row["lon"], row["lat"]],
                "c": colour_for(commodities),
                "r": STATUS_RADIUS.get(status, 4000),
                "tip": tip,
            }
        )
    return points


def site_cells(sites: pl.DataFrame) -> list[dict[str, Any]]:
    """Sites aggregated into grid cells (1 degree, coarser until at most MAX_POINTS
    cells remain): position, count and the main commodities."""
    located = sites.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    grid_deg = GRID_DEG
    while True:
        cells = _cells(located, grid_deg)
        if cells.height <= MAX_POINTS:
            break
        grid_deg *= 2
    peak = max(int(cells["n"].max() or 1), 1)  # type: ignore[arg-type]
    return [
        {
            "p": [round(row["lon"], 2), round(row["lat"], 2)],
            "c": colour_for(row["top"]),
            "r": int(15000 * grid_deg + 60000 * grid_deg * math.sqrt(row["n"] / peak)),
            "tip": f"{row['n']:,} sites; most listed: "
            + (", ".join(reference.commodity_name(c) for c in row["top"]) or "none"),
        }
        for row in cells.iter_rows(named=True)
    ]


def _cells(located: pl.DataFrame, grid_deg: float) -> pl.DataFrame:
    return (
        located.with_columns(
            (pl.col("lat") / grid_deg).floor().alias("gy"),
            (pl.col("lon") / grid_deg).floor().alias("gx"),
        )
        .group_by("gx", "gy")
        .agg(
            pl.len().alias("n"),
            pl.col("lat").mean(),
            pl.col("lon").mean(),
            pl.col("commodities")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .drop_nulls()
            .mode()
            .sort()
            .head(3)
            .alias("top"),
        )
        .sort(["n", "gy", "gx"], descending=[True, False, False])  # ties in a stable order
    )


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation and no ASCII escapes: pydeck indents by two
    spaces, which made a map of many sites several times larger over the websocket, and
    an escaped dash takes six bytes where UTF-8 takes three.

    The JSON is written once per deck: a page keeps its deck between reruns
    (`ui.data.drawn`), and writing it was two-fifths of the Map page's server time."""

    _json: str | None = None

    def to_json(self) -> str:
        if self._json is None:
            # pydeck's own serialisation in one pass (its to_json indents; reading that
            # back to write it compactly was two more passes over the whole JSON).
            self._json = json.dumps(
                self,
                sort_keys=True,
                default=default_serialize,
                separators=(",", ":"),
                ensure_ascii=False,
            )
        return self._json


def deck(
    *,
    sites: pl.DataFrame | None = None,
    arcs: pl.DataFrame | None = None,
    partner_values: dict[str, float] | None = None,
    focus: str | None = None,
    view: tuple[float, float, float] = (45.0, 68.0, 2.6),
) -> pdk.Deck:
    """Build the map. `sites` has name, lat, lon, commodities, status; `arcs` has
    from_lon, from_lat, to_lon, to_lat, value_usd, partner."""
    from critmin.ui.format import usd

    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            id="land",
            data=LAND_URL,
            stroked=True,
            filled=True,
            get_fill_color=[236, 236, 232, 255],
            get_line_color=[150, 150, 150],
            line_width_min_pixels=0.5,
            pickable=True,
        ),
        pdk.Layer(
            "GeoJsonLayer",
            id="partners",
            data=partner_geojson(partner_values or {}, focus),
            stroked=False,
            filled=True,
            get_fill_color="properties.fill",
            pickable=True,
        ),
    ]
    if arcs is not None and arcs.height:
        peak = float(arcs["value_usd"].max() or 1.0)  # type: ignore[arg-type]
        rows = [
            {
                "s": [round(row["from_lon"], 2), round(row["from_lat"], 2)],
                "t": [round(row["to_lon"], 2), round(row["to_lat"], 2)],
                "w": round(1 + 5 * math.sqrt(row["value_usd"] / peak), 2) if peak else 1,
                "tip": f"{row.get('partner', '')}: {usd(row['value_usd'])}",
            }
            for row in arcs.to_dicts()
        ]
        layers.append(
            pdk.Layer(
                "ArcLayer",
                id="flows",
                data=rows,
                get_source_position="s",
                get_target_position="t",
                get_width="w",
                get_source_color=[224, 122, 31, 200],
                get_target_color=[31, 111, 139, 200],
                pickable=True,
            )
        )
    if sites is not None and sites.height:
        located = sites.filter(pl.col("lat").is_not_null())
        cells = located.height > MAX_POINTS
        points = site_cells(sites) if cells else site_points(sites)
        layers += site_layers(points, per_point_radius=cells)
    lat, lon, zoom = view
    return CompactDeck(
        layers=layers,
        initial_view_state=pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom),
        # No basemap: map_provider=None and map_style left at pydeck's default sentinel,
        # which Streamlit reads as "draw none". An explicit map_style=None would make
        # Streamlit fetch its online Carto style.
        map_provider=None,
        tooltip={"text": "{tip}"},
    )


def for_view(view: sites_map.View, state: sites_map.State) -> CompactDeck:
    """The Map page's deck for its view (`views.map.View`) and state (the country
    whose flows are drawn), made once per state through `ui.data.drawn`."""
    return deck(
        sites=view.sites,
        arcs=view.arcs,
        partner_values=view.partner_values,
        focus=state.country,
    )


def site_layers(points: list[dict[str, Any]], per_point_radius: bool) -> list[pdk.Layer]:
    """The sites as one ScatterplotLayer per colour (and radius, for single sites), so
    that no point carries its colour and radius: a third less JSON per rerun. Layer ids
    are "sites-<n>"."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for point in points:
        key = (tuple(point["c"]), None if per_point_radius else point["r"])
        record = {k: v for k, v in point.items() if k == "p" or k == "tip"}
        if per_point_radius:
            record["r"] = point["r"]
        groups.setdefault(key, []).append(record)
    return [
        pdk.Layer(
            "ScatterplotLayer",
            id=f"sites-{n}",
            data=records,
            get_position="p",
            get_fill_color=list(colour),
            get_radius="r" if radius is None else radius,
            radius_min_pixels=4,
            radius_max_pixels=18,
            stroked=True,
            get_line_color=[255, 255, 255],
            line_width_min_pixels=1,
            pickable=True,
        )
        for n, ((colour, radius), records) in enumerate(groups.items())
    ]


def legend(sites: pl.DataFrame) -> list[tuple[str, list[int]]]:
    """The colours the map's sites take (`colour_for`: a site's first listed commodity
    that has a colour), named, in COMMODITY_COLOURS' order, "Other" last."""
    if sites.is_empty():
        return []
    coloured = list(COMMODITY_COLOURS)
    firsts = (
        sites.select(pl.col("commodities").fill_null([]))
        .with_row_index("site")
        .explode("commodities")
        .filter(pl.col("commodities").is_in(coloured))
        .group_by("site")
        .agg(pl.col("commodities").first())
    )
    present = set(firsts["commodities"].to_list())
    shown: dict[str, list[int]] = {}
    for symbol in coloured:
        if symbol in present:
            shown.setdefault(reference.commodity_label(symbol), COMMODITY_COLOURS[symbol])
    if firsts.height < sites.height:
        shown["Other or none listed"] = OTHER_COLOUR
    return list(shown.items())


def legend_html(entries: list[tuple[str, list[int]]], aggregated: bool) -> str:
    """The legend under the map: a swatch per colour, what size and arcs mean. Built
    from our own constants and the reference table's names only."""
    swatches = " ".join(
        '<span style="white-space:nowrap;margin-right:0.9em">'
        f'<span style="display:inline-block;width:0.8em;height:0.8em;border-radius:50%;'
        f'background:rgb({r},{g},{b});margin-right:0.3em;vertical-align:middle"></span>'
        f"{html.escape(name)}</span>"
        for name, (r, g, b) in entries
    )
    size = (
        "size = number of sites in the cell"
        if aggregated
        else "size = status (producing largest, then plants, development, past producers, "
        "exploration, occurrences)"
    )
    arcs = (
        '<span style="display:inline-block;width:1.6em;height:0.3em;vertical-align:middle;'
        "background:linear-gradient(90deg, rgb(224,122,31), rgb(31,111,139));"
        'margin-right:0.3em"></span>exports, from the exporter (orange) to the partner (blue); '
        "width ∝ √value; partners shaded by the value they receive"
    )
    return (
        '<div style="font-size:0.85em;line-height:1.9">'
        f"<b>Sites</b> (colour = first listed commodity; {size}): {swatches}<br>"
        f"<b>Arcs</b>: {arcs}</div>"
    )


def aggregated(sites: pl.DataFrame) -> bool:
    """Whether the map shows these sites as grid cells rather than points."""
    return sites.filter(pl.col("lat").is_not_null()).height > MAX_POINTS
