"""Keep every request on the router of app.py.

Streamlit treats a folder named `pages/` beside the entry script as its older
multipage layout until `st.navigation` has run once in the process; until then
a deep link (say `/partners?country=UZB`) as the first request of a fresh
server would run the page without app.py's router. `ensure_router` switches
the process over and reruns, so the router serves the link.
"""

from __future__ import annotations

import streamlit as st


def ensure_router() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
