"""critmin: the router. Page config, the list of pages, navigation. Nothing else."""

# Import these libraries completely before any session's script thread runs: Streamlit's
# serialisation looks pandas up in sys.modules, so on a cold server a chart drawn while
# another session was half-way through `import pandas` crashed ("partially initialized
# module 'pandas'"), found by the load run with 20 users. The import lock makes later
# sessions wait for these. (The charts no longer use Altair: ui/charts.py.)
import pandas  # noqa: F401
import pyarrow  # noqa: F401
import pydeck  # noqa: F401
import streamlit as st

from critmin.ui import data, guard
from critmin.ui.access import require_access
from critmin.ui.registry import PAGES

guard.install()  # once per process: what a visitor's browser may ask of the server
data.return_freed_memory()


def pages() -> list[st.Page]:
    """The pages, in menu order (critmin.ui.registry)."""
    return [
        st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path or None, default=p.default)
        for p in PAGES
    ]


# Built once per session: st.Page resolves and checks its file (a twentieth of a loaded
# server's time when built at every rerun). Not shared between sessions: the page
# st.navigation picks is marked callable on the object for that one run.
if "critmin:pages" not in st.session_state:
    st.session_state["critmin:pages"] = pages()

st.set_page_config(page_title="critmin — critical-minerals explorer", layout="wide", page_icon="⛏️")
require_access()  # off unless CRITMIN_PASSWORD or [access] password is set
st.navigation(st.session_state["critmin:pages"]).run()
