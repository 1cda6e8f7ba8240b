"""A first-time analyst's walk through the app in headless Chromium, step by step, with
a screenshot of each step: the browser test runs it on a real-shaped release, and it
can be run by hand against any server (`python tests/walk.py URL OUT_DIR`).

Each step does what a user does (opens a page from the sidebar, types in a box, picks
an option) and returns what the page then says, for the test to check."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from browser import wait_for_render

MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'


class Walk:
    def __init__(self, page: Any, url: str, shots: Path):
        self.page, self.url, self.shots = page, url, shots
        self.shots.mkdir(parents=True, exist_ok=True)
        self.step = 0

    # --- what a user does ------------------------------------------------------------

    def open(self, path: str) -> str:
        """Open a page by its address (a shared link)."""
        self.page.goto(f"{self.url}/{path}")
        return self.settle()

    def go(self, title: str) -> str:
        """Open a page from the sidebar's menu, as a user does (no link carried)."""
        self.page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
        return self.settle()

    def settle(self) -> str:
        wait_for_render(self.page)
        return self.text()

    def text(self) -> str:
        return str(self.page.inner_text(MAIN))

    def sidebar_text(self) -> str:
        return str(self.page.inner_text(SIDEBAR))

    def widget(self, key: str) -> Any:
        """A widget by its key ("growth:minerals"): Streamlit marks its box with it."""
        return self.page.locator(f".st-key-{key.replace(':', '-')}")

    def clear(self, key: str) -> None:
        """Empty a multiselect (its "clear all" cross)."""
        clear = self.widget(key).get_by_role("button", name=re.compile("clear", re.I))
        if clear.count():
            clear.first.click()
            self.settle()

    def type_in(self, key: str, text: str, pick: str | None = None) -> list[str]:
        """Type in a select or multiselect; pick the first option that starts with
        `pick`, or accept what was typed (Enter). Returns the options offered for what
        was typed."""
        field = self.widget(key).locator("input").first
        field.click()
        field.fill(text)
        self.page.wait_for_timeout(500)
        texts = [o.strip() for o in self.page.locator('[role="option"]').all_inner_texts()]
        if pick is not None:
            index = next(i for i, o in enumerate(texts) if o.startswith(pick))
            self.page.locator('[role="option"]').nth(index).click()
        else:
            field.press("Enter")
        self.page.keyboard.press("Escape")
        self.settle()
        # Without the bulk actions ("Select all", "Select 4 matches").
        return [o for o in texts if o and not re.match(r"Select (all|\d+ match)", o)]

    def chosen(self, key: str) -> list[str]:
        """What a select or multiselect shows as chosen."""
        box = self.widget(key)
        tags = box.locator("[data-tag]")
        if tags.count():
            return [str(t.get_attribute("aria-label")) for t in tags.all()]
        field = box.locator("input").first
        value = str(field.input_value() or "") if field.count() else ""
        if value:
            return [value]
        label = str(box.locator('[data-testid="stWidgetLabel"]').inner_text()).strip()
        lines = [line.strip() for line in str(box.inner_text()).splitlines() if line.strip()]
        return [line for line in lines if line != label][:1]

    def shoot(self, name: str) -> Path:
        """A full-page screenshot of the main area as it is now."""
        self.step += 1
        height = self.page.evaluate(
            "() => { const m = document.querySelector('[data-testid=stMainBlockContainer]');"
            " return m ? Math.ceil(m.getBoundingClientRect().height) + 150 : 1000; }"
        )
        width = self.page.viewport_size["width"]
        self.page.set_viewport_size({"width": width, "height": int(min(max(height, 900), 6000))})
        self.page.wait_for_timeout(1200)  # charts redraw at the new size
        path = self.shots / f"{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        self.page.set_viewport_size({"width": width, "height": 1000})
        return path


def main(url: str, out: str) -> None:  # pragma: no cover - a person's tool
    """Walk the app at `url` and save the screenshots in `out`."""
    from playwright.sync_api import sync_playwright

    from bench.headless import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        from test_browser_walk import walk_everything

        for step, said in walk_everything(Walk(page, url, Path(out))):
            print(step, "—", said)
        browser.close()


if __name__ == "__main__":  # pragma: no cover
    main(*sys.argv[1:3])
