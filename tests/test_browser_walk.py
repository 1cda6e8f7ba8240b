"""The walk of a first-time analyst, in headless Chromium, on a real-shaped BACI release
(the project's generator in CEPII's layout, loaded with `critmin ingest baci` over the
embedded default): every step is done as a user does it (the sidebar's menu, typing in
the boxes) and photographed under artifacts/screenshots/walk/ for a person to look at.

The steps: a one-year window on Export growth; a mineral, a stage and a country chosen
there and found again on Suppliers, Diversification and Partners; the Overview's count
of minerals and the Diversification headline of a shared code; the Map found chromium
by its name; the About page read from the warehouse; typed codes checked at once; the
explorer in tonnes; the Suppliers' peers with tonnes per stage; the data-as-of line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from baci_release import write_release
from walk import Walk

from bench.headless import CHROMIUM, CHROMIUM_ARGS, REPO, serve
from critmin.cli import main
from critmin.demo import build_demo

pytestmark = pytest.mark.browser
AS_OF = "Trade data to 2024, released January 2026"


def walk_everything(walk: Walk) -> Iterator[tuple[str, str]]:
    """The walk; yields (step, what the page said) and asserts as it goes."""
    said = walk.open("growth?year_from=2024&year_to=2024")
    assert "encountered an error" not in said and "One year chosen" in said, said
    assert AS_OF in said
    walk.shoot("growth-one-year")
    yield "one year on Export growth", "no error"

    said = walk.open("growth")
    walk.clear("growth:minerals")
    walk.type_in("growth:minerals", "Titan", pick="Titanium")
    walk.type_in("growth:stages", "Intermed", pick="Intermediates")
    said = walk.type_in("growth:country", "Uzbek", pick="Uzbekistan")[0]
    said = walk.text()
    assert "Export growth: Uzbekistan" in said, said
    walk.shoot("growth-titanium-uzbekistan")
    yield "titanium, intermediates and Uzbekistan chosen on Export growth", said[:80]

    said = walk.go("Suppliers")
    assert "Suppliers: the world market for titanium" in said, said[:300]
    assert walk.chosen("suppliers:stages")[0].startswith("Intermediates")
    assert walk.chosen("suppliers:highlight") == ["Uzbekistan (UZB)"]
    walk.shoot("suppliers-carried")
    yield "Suppliers opens with them", said[:80]

    said = walk.go("Diversification")
    assert "— titanium" in said, said[:300]
    assert walk.chosen("diversification:stages")[0].startswith("Intermediates")
    walk.shoot("diversification-carried")
    yield "Diversification opens with titanium", said[:80]

    said = walk.go("Partners")
    assert "Partners: where Uzbekistan's exports go" in said, said[:300]
    assert [m.split(" [")[0] for m in walk.chosen("partners:minerals")] == ["Titanium"]
    assert walk.chosen("partners:stages")[0].startswith("Intermediates")
    walk.shoot("partners-carried")
    yield "Partners opens with them", said[:80]

    said = walk.open("?country=KAZ&year_from=2017&year_to=2024")
    assert "through shared codes" in said and "Counted once each" in said, said[:600]
    walk.shoot("overview-shared-codes")
    yield "Overview counts each code once", said[:80]

    said = walk.open("diversification?importer=USA&mineral=gallium&year=2024&stages=")
    assert "Shared codes" in said and "HS 811292" in said, said[:800]
    # The share of the gap covered, by value and tonnes (when China or Russia sold any).
    assert ("by value" in said and "by tonnes" in said) or "nothing to replace" in said
    walk.shoot("diversification-gallium")
    yield "the gallium headline says its code is shared", said[:80]

    walk.open("map?country=KAZ&sites_in=KAZ&minerals=chromium&year=2024")
    offered = walk.type_in("map:commodities", "chrom", pick="Chromium (Cr)")
    assert offered[0] == "Chromium (Cr)", offered
    said = walk.text()
    assert "Sites shown" in said and "Chromium (Cr)" in said  # the legend
    assert "the arcs" in said
    walk.page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
    walk.shoot("map-chromium")
    yield "the Map finds chromium by its name", offered[0]

    said = walk.go("About the data")
    assert "released January 2026" in said and "given for every flow in 2017–2023" in said
    assert "about 2%" not in said and "Synthetic demo flows" not in said
    walk.shoot("about")
    yield "About says what is loaded", "released January 2026"

    walk.open("growth")
    walk.type_in("growth:codes", "abc123")
    assert "is not an HS6 code" in walk.sidebar_text()
    walk.type_in("growth:codes", "999998")
    assert "999998 is not a code of HS2017" in walk.sidebar_text()
    walk.shoot("growth-typed-codes")
    yield "typed codes are checked at once", "abc123 and 999998 said"

    said = walk.go("Data explorer")
    assert "quantity in tonnes" in said
    walk.shoot("explorer")
    yield "the explorer is in tonnes", "tonnes"

    said = walk.open("suppliers?mineral=chromium&highlight=KAZ&importer=USA&stages=")
    assert "Kazakhstan and its peers" in said and "By value-chain stage" in said
    walk.shoot("suppliers-peers")
    yield "Suppliers shows the peers with tonnes per stage", said[:80]


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    root = tmp_path_factory.mktemp("walk")
    data_dir = root / "warehouse"
    build_demo(data_dir, last_year=2024)
    release = write_release(root, years=range(2017, 2025), rows_per_year=8_000)
    assert main(["--data-dir", str(data_dir), "ingest", "baci", str(release)]) == 0
    return data_dir


def test_a_first_time_analyst_walks_the_app(released: Path) -> None:
    from playwright.sync_api import sync_playwright

    with serve(released) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        try:
            shots = REPO / "artifacts/screenshots/walk"
            steps = list(walk_everything(Walk(page, server.url, shots)))
        finally:
            browser.close()
    assert len(steps) == 12
