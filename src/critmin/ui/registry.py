"""The app's pages, in menu order: one line each.

`app.py` builds its `st.Page` objects from `PAGES`; the tests and the benchmark read the
same list, so a page added here is routed, tested and timed. Each page's script is
`pages/<name>.py` and its view, when it has one, `critmin.views.<name>`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str  # the script's stem in pages/, its view module and its URL path
    title: str  # its name in the sidebar
    icon: str
    default: bool = False  # the default page is served at "/"

    @property
    def file(self) -> str:
        """The page's script, relative to app.py."""
        return f"pages/{self.name}.py"

    @property
    def url_path(self) -> str:
        """Its path in the app's URLs: "" for the default page."""
        return "" if self.default else self.name


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", ":material/dashboard:", default=True),
    Page("growth", "Export growth", ":material/trending_up:"),
    Page("partners", "Partners", ":material/handshake:"),
    Page("suppliers", "Suppliers", ":material/public:"),
    Page("diversification", "Diversification", ":material/swap_horiz:"),
    Page("latest", "Latest months", ":material/calendar_month:"),
    Page("mirror", "Reported vs mirror", ":material/compare_arrows:"),
    Page("map", "Map", ":material/map:"),
    Page("explorer", "Data explorer", ":material/table_view:"),
    Page("about", "About the data", ":material/info:"),
)
NAMES: tuple[str, ...] = tuple(p.name for p in PAGES)
