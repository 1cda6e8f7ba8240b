"""The real-browser check: every page opened from a shared link in headless
Chromium, no Streamlit error box, a chart or map drawn, a screenshot saved under
artifacts/screenshots/ for a person to look at."""

from pathlib import Path

import pytest
from browser import wait_for_render

from bench.headless import CHROMIUM, CHROMIUM_ARGS, REPO, serve
from critmin.ui.registry import NAMES, PAGES

pytestmark = pytest.mark.browser

SHARED_LINKS = {
    "overview": "country=KAZ&year_from=2012&year_to=2024",
    "growth": "country=KAZ&minerals=manganese_sulfate,gallium,graphite&measure=value&view=indexed",
    "partners": "country=KAZ&minerals=manganese_sulfate,gallium,graphite&compare=CHN,RUS,USA,KOR",
    "suppliers": "mineral=gallium&highlight=KAZ&importer=USA",
    "diversification": "importer=USA&mineral=gallium&replace_pct=50&replace_from=both",
    "latest": "country=KAZ&minerals=gallium,manganese_sulfate&window=36&declared_by=mirror",
    "mirror": "country=KAZ&minerals=gallium,manganese_sulfate",
    "map": "country=KAZ&sites_in=KAZ,UZB,KGZ,TJK,TKM&minerals=manganese_sulfate,gallium,graphite",
    "explorer": "exporters=KAZ&minerals=gallium&sort=value_usd&order=desc",
    "about": "",
}


@pytest.fixture(scope="module")
def browser_page(demo_warehouse_dir):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with serve(demo_warehouse_dir) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield server.url, page
        browser.close()


@pytest.mark.parametrize("entry", PAGES, ids=NAMES)
def test_page_opens_from_a_shared_link_without_errors(browser_page, entry):
    url, page = browser_page
    name = entry.name
    query = SHARED_LINKS.get(name, "")
    page.goto(f"{url}/{entry.url_path}" + (f"?{query}" if query else ""))
    wait_for_render(page)
    errors = page.locator(
        '[data-testid="stException"], [data-testid="stAlertContentError"], '
        '[data-testid="stDialog"]'  # e.g. "Page not found"
    )
    assert errors.count() == 0, errors.all_inner_texts()
    # Charts and the map draw after the script run; give them time on a busy machine.
    if name in {"overview", "growth", "partners", "suppliers", "mirror", "latest"}:
        page.wait_for_selector(
            '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg',
            timeout=30_000,
        )
    if name == "map":
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
    for key_value in filter(None, query.split("&")):
        assert key_value.split("=")[0] in page.url, "the link's state stays in the URL"
    out = REPO / "artifacts" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)


def test_map_loads_nothing_from_the_network(browser_page):
    url, page = browser_page
    outside = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(url)
            and not r.url.startswith("data:")
            and not r.url.startswith("blob:")
            else None
        ),
    )
    page.goto(f"{url}/map")
    wait_for_render(page)
    assert outside == []


def test_explorer_groups_pivots_charts_and_downloads_what_it_shows(browser_page):
    """A shared link to a pivot: the stacked chart is drawn and saves as PNG from its
    toolbar; the CSV download holds the table shown, its Total row and column included."""
    import io

    import polars as pl

    url, page = browser_page
    query = "exporters=KAZ&products=all&group=partner_group&across=year&year_from=2020"
    page.goto(f"{url}/explorer?{query}")
    wait_for_render(page)
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator("svg, canvas").first.wait_for(timeout=30_000)
    assert "Value (USD m) by partner group and year" in chart.inner_text()
    chart.scroll_into_view_if_needed()
    chart.hover()
    with page.expect_download() as png:
        page.locator(
            '[data-testid="stElementToolbar"] button[aria-label="Download as PNG"]'
        ).first.click()
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as csv:
        page.get_by_text("Download CSV").click()
    rows = pl.read_csv(io.BytesIO(Path(csv.value.path()).read_bytes()))
    assert rows.columns[0] == "partner_group" and rows.columns[-1] == "Total"
    assert rows["partner_group"][-1] == "Total" and "China" in rows["partner_group"].to_list()
    assert rows.head(-1)["Total"].sum() == pytest.approx(rows["Total"][-1])
    assert page.locator('[data-testid="stDataFrame"]').count() == 1  # drawn on a canvas
    out = REPO / "artifacts" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "explorer-pivot.png"), full_page=True)
