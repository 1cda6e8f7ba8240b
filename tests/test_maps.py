"""The map builder: no basemap from the network, land from a static local file, and
a payload that stays small whatever the number of sites."""

import json

import numpy as np
import polars as pl

from critmin.ui import maps


def sites_frame(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "name": [f"Site {i}" for i in range(n)],
            "lat": rng.uniform(-50, 70, n),
            "lon": rng.uniform(-170, 170, n),
            "commodities": [["Cu", "Au"] if i % 2 else ["Zn"] for i in range(n)],
            "status": ["unknown"] * n,
        }
    )


def site_records(spec: str) -> list[dict]:
    """Every site point or cell of a serialised deck, over its per-colour layers."""
    layers = json.loads(spec)["layers"]
    return [r for layer in layers if layer["id"].startswith("sites-") for r in layer["data"]]


def test_serialised_deck_holds_no_url_and_no_basemap():
    sites = pl.DataFrame(
        {
            "name": ["Aktogay"],
            "lat": [46.97],
            "lon": [79.97],
            "commodities": [["Cu"]],
            "status": ["producing"],
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
    assert [layer["id"] for layer in parsed["layers"]] == ["land", "partners", "flows", "sites-0"]
    # Land is a relative URL of the app's static files, not inside the message.
    assert parsed["layers"][0]["data"] == maps.LAND_URL and not maps.LAND_URL.startswith("/")
    shaded = parsed["layers"][1]["data"]["features"]
    assert [f["properties"]["fill"][:3] for f in shaded][0] == maps.FOCUS_FILL[:3]
    assert "China" in shaded[1]["properties"]["tip"]
    assert len(spec) < 40_000


def test_the_static_land_file_is_what_the_script_writes():
    committed = json.loads((maps.STATIC_DIR / maps.LAND_FILE).read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(maps.static_land()))
    assert len(committed["features"]) > 150
    iso3 = {f["properties"]["iso3"] for f in committed["features"]}
    assert {"KAZ", "CHN", "USA", "RUS", "UZB"} <= iso3


def test_sites_without_coordinates_are_left_off_the_map():
    sites = pl.DataFrame(
        {
            "name": ["A", "B"],
            "lat": [47.0, None],
            "lon": [67.0, None],
            "commodities": [["Zz"], None],
            "status": ["unknown", "unknown"],
        }
    )
    spec = maps.deck(sites=sites).to_json()
    points = site_records(spec)
    assert [p["tip"].split(" — ")[0] for p in points] == ["A"]
    (layer,) = [layer for layer in json.loads(spec)["layers"] if layer["id"].startswith("sites")]
    assert layer["getFillColor"] == maps.OTHER_COLOUR


def test_many_sites_are_aggregated_and_the_map_stays_under_a_megabyte():
    few = maps.deck(sites=sites_frame(maps.MAX_POINTS)).to_json()
    assert len(site_records(few)) == maps.MAX_POINTS
    many = sites_frame(40_000)
    spec = maps.deck(sites=many, partner_values={"CHN": 1.0, "USA": 2.0}, focus="KAZ").to_json()
    cells = site_records(spec)
    assert maps.aggregated(many) and len(cells) < 40_000
    counts = [int(c["tip"].split(" sites")[0].replace(",", "")) for c in cells]
    assert sum(counts) == 40_000  # every site is in one cell
    assert len(spec) < 1_000_000


def test_the_compact_json_is_pydecks_own_and_the_same_whatever_the_row_order():
    many = sites_frame(20_000, seed=3)
    deck = maps.deck(sites=many, partner_values={"CHN": 1.0}, focus="KAZ")
    indented = maps.pdk.Deck.to_json(deck)  # pydeck's own
    spec = deck.to_json()
    assert "\n" not in spec and '": ' not in spec  # no indentation, no spaces
    assert json.loads(spec) == json.loads(indented)
    shuffled = many.sample(fraction=1.0, shuffle=True, seed=1)
    assert maps.deck(sites=shuffled, partner_values={"CHN": 1.0}, focus="KAZ").to_json() == spec


def test_sites_listed_twice_at_one_place_are_one_point_that_counts_them():
    sites = pl.DataFrame(
        {
            "name": ["Kounrad", "Kounrad", "Aktogay"],
            "lat": [46.9701, 46.9702, 46.97],
            "lon": [75.0, 75.0, 79.97],
            "commodities": [["Cu"], ["Cu"], ["Cu"]],
            "status": ["unknown", "unknown", "producing"],
        }
    )
    tips = sorted(p["tip"] for p in site_records(maps.deck(sites=sites).to_json()))
    assert tips == ["Aktogay — Copper; producing", "Kounrad — Copper (2 records)"]


def test_a_deck_is_made_once_per_state_and_written_to_json_once(app_env):
    """The Map page keeps its deck between reruns and sessions (`data.drawn`): the same
    state gets the same deck without building it again, another state a new one."""
    import streamlit as st

    from critmin.ui import data

    made: list[str] = []

    def make(view: pl.DataFrame, state: str) -> maps.CompactDeck:
        made.append(state)
        return maps.deck(sites=view)

    st.cache_resource.clear()
    first = data.drawn(make, sites_frame(5), "KAZ")
    again = data.drawn(make, sites_frame(5), "KAZ")
    other = data.drawn(make, sites_frame(7, seed=1), "UZB")
    assert made == ["KAZ", "UZB"] and again is first and other is not first
    spec = first.to_json()
    assert first.to_json() is spec and len(site_records(spec)) == 5
