"""The one map builder: pydeck with no network basemap. Land comes from the
bundled Natural Earth shapes; polars rows go in as plain dicts."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pydeck as pdk

from critmin import reference

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


def colour_for(commodities: list[str] | None) -> list[int]:
    for commodity in commodities or []:
        if commodity in COMMODITY_COLOURS:
            return COMMODITY_COLOURS[commodity]
    return OTHER_COLOUR


def land_geojson(
    partner_values: dict[str, float] | None = None, focus: str | None = None
) -> dict[str, Any]:
    """Country shapes with a fill colour: focus country, partners shaded by value."""
    partner_values = partner_values or {}
    peak = max(partner_values.values(), default=0.0)
    features = []
    for feature in reference.country_features("110m"):
        iso3 = feature["properties"].get("iso3")
        value = partner_values.get(iso3 or "", 0.0)
        if iso3 and iso3 == focus:
            fill = [224, 122, 31, 200]
        elif value > 0 and peak > 0:
            strength = math.sqrt(value / peak)
            fill = [
                int(230 - 180 * strength),
                int(238 - 120 * strength),
                int(245 - 60 * strength),
                220,
            ]
        else:
            fill = [236, 236, 232, 255]
        features.append(
            {
                "type": "Feature",
                "geometry": feature["geometry"],
                "properties": {
                    "iso3": iso3 or "",
                    "name": feature["properties"].get("name", ""),
                    "fill": fill,
                    "tip": _country_tip(feature["properties"].get("name", ""), value),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _country_tip(name: str, value: float) -> str:
    from critmin.ui.format import usd

    return f"{name}: exports received {usd(value)}" if value else name


def deck(
    *,
    sites: pl.DataFrame | None = None,
    arcs: pl.DataFrame | None = None,
    partner_values: dict[str, float] | None = None,
    focus: str | None = None,
    view: tuple[float, float, float] = (45.0, 68.0, 2.6),
) -> pdk.Deck:
    """Build the map. `sites` has name, lat, lon, commodities, status, source;
    `arcs` has from_lon, from_lat, to_lon, to_lat, value_usd, partner."""
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            id="countries",
            data=land_geojson(partner_values, focus),
            stroked=True,
            filled=True,
            get_fill_color="properties.fill",
            get_line_color=[150, 150, 150],
            line_width_min_pixels=0.5,
            pickable=True,
        ),
    ]
    if arcs is not None and arcs.height:
        peak = float(arcs["value_usd"].max() or 1.0)  # type: ignore[arg-type]
        from critmin.ui.format import usd

        rows = [
            {
                **row,
                "width": 1 + 5 * math.sqrt(row["value_usd"] / peak) if peak else 1,
                "tip": f"{row.get('partner', '')}: {usd(row['value_usd'])}",
            }
            for row in arcs.to_dicts()
        ]
        layers.append(
            pdk.Layer(
                "ArcLayer",
                id="flows",
                data=rows,
                get_source_position=["from_lon", "from_lat"],
                get_target_position=["to_lon", "to_lat"],
                get_width="width",
                get_source_color=[224, 122, 31, 200],
                get_target_color=[31, 111, 139, 200],
                pickable=True,
            )
        )
    if sites is not None and sites.height:
        rows = []
        for row in sites.filter(
            pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
        ).to_dicts():
            rows.append(
                {
                    "name": row["name"],
                    "lat": row["lat"],
                    "lon": row["lon"],
                    "colour": colour_for(row.get("commodities")),
                    "radius": STATUS_RADIUS.get(row.get("status") or "unknown", 4000),
                    "tip": (
                        f"{row['name']} — {', '.join(row.get('commodities') or [])}; "
                        f"{row.get('status')}; source: {row.get('source')}"
                        + (f" ({row['source_reference']})" if row.get("source_reference") else "")
                    ),
                }
            )
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="sites",
                data=rows,
                get_position=["lon", "lat"],
                get_fill_color="colour",
                get_radius="radius",
                radius_min_pixels=5,
                radius_max_pixels=14,
                stroked=True,
                get_line_color=[255, 255, 255],
                line_width_min_pixels=1,
                pickable=True,
            )
        )
    lat, lon, zoom = view
    return pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom),
        # No basemap: map_provider=None and map_style left at pydeck's default sentinel,
        # which Streamlit reads as "draw none". An explicit map_style=None would make
        # Streamlit fetch its online Carto style.
        map_provider=None,
        tooltip={"text": "{tip}"},
    )
