"""End to end on a real-shaped BACI release: a release of our own in CEPII's layout
(a zip of yearly t,i,j,k,v,q files, the current dictionaries with
country_code,country_name,country_iso2,country_iso3 and BACI's own codes: 842 USA,
251 France, 699 India, 490 Other Asia), loaded with `critmin ingest baci`, then every
page opened in Chromium: the figures on the pages and in the explorer's download are
checked against the fixture's rows, not only that nothing raised."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from baci_release import crafted_zip
from browser import wait_for_render

from bench.headless import CHROMIUM, CHROMIUM_ARGS, serve
from critmin.cli import main
from critmin.ui import format as fmt
from critmin.ui.registry import PAGES

pytestmark = pytest.mark.browser

RELEASE = "V202501"
# (t, i, j, k, v in thousand USD, q in tons); i/j are BACI country codes.
FLOWS = [
    (2021, 398, 156, "720241", 1200.0, 1000.0),  # KAZ -> CHN ferrochrome
    (2021, 398, 842, "720241", 300.0, 250.0),  # KAZ -> USA (BACI's 842)
    (2022, 398, 156, "720241", 1500.0, 1200.0),
    (2022, 398, 842, "811292", 40.5, 0.1),  # gallium basket (shared code)
    (2022, 398, 251, "283329", 12.0, 15.0),  # KAZ -> France (BACI's 251), manganese sulfate
    (2023, 398, 156, "720241", 1800.0, 1400.0),
    (2023, 398, 842, "720241", 900.0, 700.0),
    (2023, 398, 251, "283329", 20.0, 22.0),
    (2023, 398, 699, "811292", 60.0, None),  # KAZ -> India (BACI's 699), no quantity
    (2023, 156, 842, "811292", 5000.0, 20.0),  # CHN -> USA gallium
    (2023, 710, 156, "720241", 4000.0, 3500.0),  # ZAF -> CHN ferrochrome
    (2023, 490, 398, "720241", 7.0, 5.0),  # Other Asia (Taiwan) -> KAZ
    (2023, 398, 156, "010121", 99.0, 1.0),  # horses: outside every basket
]
COUNTRIES = [
    (156, "China", "CN", "CHN"),
    (251, "France", "FR", "FRA"),
    (398, "Kazakhstan", "KZ", "KAZ"),
    (490, "Other Asia, nes", "", "S19"),
    (699, "India", "IN", "IND"),
    (710, "South Africa", "ZA", "ZAF"),
    (842, "USA", "US", "USA"),
]
PRODUCTS = [
    ("720241", "Ferro-alloys; ferro-chromium, containing by weight more than 4% of carbon"),
    ("811292", "Gallium, germanium, indium, niobium, vanadium: unwrought; powders"),
    ("283329", "Sulphates; other than of sodium, magnesium, aluminium, nickel, copper"),
    ("010121", "Horses; live, pure-bred breeding animals"),
]


def release(tmp_path: Path) -> Path:
    return crafted_zip(tmp_path, FLOWS, COUNTRIES, PRODUCTS, release=RELEASE)


def kaz_exports(year: int, codes: set[str]) -> float:
    return sum(v * 1000 for t, i, _, k, v, _ in FLOWS if t == year and i == 398 and k in codes)


@pytest.fixture(scope="module")
def real_shaped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    root = tmp_path_factory.mktemp("baci-e2e")
    data_dir = root / "warehouse"
    assert main(["--data-dir", str(data_dir), "ingest", "baci", str(release(root))]) == 0
    return data_dir


@pytest.fixture(scope="module")
def browser(real_shaped: Path):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with serve(real_shaped) as server, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = chromium.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        yield server.url, page
        chromium.close()


def open_page(browser, path: str) -> str:  # type: ignore[no-untyped-def]
    url, page = browser
    page.goto(f"{url}/{path}")
    wait_for_render(page)
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()
    assert "Synthetic" not in page.inner_text("body"), "real data carries no synthetic banner"
    return str(page.inner_text('[data-testid="stMain"]'))


def test_every_page_opens_on_the_loaded_release(browser) -> None:  # type: ignore[no-untyped-def]
    for page in PAGES:
        text = open_page(browser, page.url_path)
        assert text.strip(), page.name


def test_overview_figures_are_the_release_rows(browser) -> None:  # type: ignore[no-untyped-def]
    text = open_page(browser, "?country=KAZ&year_from=2021&year_to=2023")
    baskets = {"720241", "811292", "283329"}  # 010121 (horses) is in no basket
    latest, previous = kaz_exports(2023, baskets), kaz_exports(2022, baskets)
    assert fmt.usd(latest) in text  # USD 2.78 m
    assert fmt.change(latest / previous - 1) in text
    assert "China" in text  # the largest destination


def test_suppliers_world_total_is_the_release_rows(browser) -> None:  # type: ignore[no-untyped-def]
    text = open_page(browser, "suppliers?mineral=chromium&highlight=KAZ&importer=USA")
    world = sum(v * 1000 for t, _, _, k, v, _ in FLOWS if t == 2023 and k == "720241")
    assert fmt.usd(world) in text
    kaz = kaz_exports(2023, {"720241"})
    assert fmt.percent(kaz / world, 2) in text


def test_the_explorer_download_holds_exactly_the_release_rows(browser) -> None:  # type: ignore[no-untyped-def]
    text = open_page(
        browser, "explorer?exporters=KAZ&minerals=chromium,gallium,manganese_sulfate&sides="
    )
    wanted = [r for r in FLOWS if r[1] == 398 and r[3] in {"720241", "811292", "283329"}]
    assert f"{len(wanted):,} rows" in text
    _, page = browser
    with page.expect_download() as info:
        page.get_by_text("Download CSV").click()
    rows = pl.read_csv(
        io.BytesIO(Path(info.value.path()).read_bytes()), schema_overrides={"hs6": pl.String}
    )
    assert rows.height == len(wanted)
    # BACI's thousands of USD, shown and downloaded as USD millions
    assert rows["value_usd_m"].sum() * 1e6 == pytest.approx(sum(v * 1000 for *_, v, _ in wanted))
    expected = {
        (t, {156: "CHN", 842: "USA", 251: "FRA", 699: "IND"}[j], k) for t, _, j, k, *_ in wanted
    }
    assert set(rows.select("year", "importer_iso3", "hs6").iter_rows()) == expected
    # One text per code: the release's own dictionary wins over the bundled texts.
    ferro = rows.filter(pl.col("hs6") == "720241")["description"].unique().to_list()
    assert ferro == [PRODUCTS[0][1]]
