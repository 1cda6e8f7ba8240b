"""The map builder: no basemap from the network, land from local shapes."""

import json

import polars as pl

from critmin.ui import maps


def test_serialised_deck_holds_no_url_and_no_basemap():
    sites = pl.DataFrame(
        {
            "name": ["Aktogay"],
            "lat": [46.97],
            "lon": [79.97],
            "commodities": [["Cu"]],
            "status": ["producing"],
            "source": ["curated"],
            "source_reference": ["KAZ Minerals"],
        }
    )
    arcs = pl.DataFrame(
        {
            "from_lon": [66.3],
            "from_lat": [48.0],
            "to_lon": [103.0],
            "to_lat": [35.0],
            "value_usd": [1e6],
            "partner": ["China"],
        }
    )
    spec = maps.deck(sites=sites, arcs=arcs, partner_values={"CHN": 1e6}, focus="KAZ").to_json()
    assert "http://" not in spec and "https://" not in spec
    parsed = json.loads(spec)
    # pydeck's sentinel: Streamlit draws no basemap (an absent style would load Carto's).
    assert parsed["mapStyle"] == "__MAP_STYLE__"
    assert [layer["id"] for layer in parsed["layers"]] == ["countries", "flows", "sites"]
    land = parsed["layers"][0]["data"]["features"]
    assert len(land) > 150
    kaz = next(f for f in land if f["properties"]["iso3"] == "KAZ")
    assert kaz["properties"]["fill"][:3] == [224, 122, 31]


def test_sites_without_coordinates_are_left_off_the_map():
    sites = pl.DataFrame(
        {
            "name": ["A", "B"],
            "lat": [47.0, None],
            "lon": [67.0, None],
            "commodities": [["Zz"], None],
            "status": ["unknown", "unknown"],
            "source": ["x", "x"],
            "source_reference": [None, None],
        },
        schema_overrides={"source_reference": pl.String},
    )
    parsed = json.loads(maps.deck(sites=sites).to_json())
    points = next(layer for layer in parsed["layers"] if layer["id"] == "sites")["data"]
    assert [p["name"] for p in points] == ["A"]
    assert points[0]["colour"] == maps.OTHER_COLOUR
