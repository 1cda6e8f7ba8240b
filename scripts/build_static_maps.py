"""Write static/countries-110m.geojson, the map's land layer, from the Natural Earth
shapes bundled with critmin (src/critmin/reference/boundaries, public domain).

Streamlit serves the file at app/static/ (server.enableStaticServing), so the browser
downloads the land once and revalidates it, instead of receiving it inside every map
message. Run it after the bundled boundaries change:

    .venv/bin/python scripts/build_static_maps.py

tests/test_maps.py checks the committed file is what this script writes.
"""

from critmin.ui.maps import write_static_land

if __name__ == "__main__":
    path = write_static_land()
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
