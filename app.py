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

from critmin.ui.access import require_access


def pages() -> list[st.Page]:
    """The pages, in menu order."""
    return [
        st.Page(
            "pages/overview.py",
            title="Overview",
            icon=":material/dashboard:",
            default=True,  # served at "/": a default page has no path of its own
        ),
        st.Page(
            "pages/growth.py",
            title="Export growth",
            icon=":material/trending_up:",
            url_path="growth",
        ),
        st.Page(
            "pages/partners.py", title="Partners", icon=":material/handshake:", url_path="partners"
        ),
        st.Page(
            "pages/suppliers.py", title="Suppliers", icon=":material/public:", url_path="suppliers"
        ),
        st.Page(
            "pages/diversification.py",
            title="Diversification",
            icon=":material/swap_horiz:",
            url_path="diversification",
        ),
        st.Page(
            "pages/latest.py",
            title="Latest months",
            icon=":material/calendar_month:",
            url_path="latest",
        ),
        st.Page(
            "pages/mirror.py",
            title="Reported vs mirror",
            icon=":material/compare_arrows:",
            url_path="mirror",
        ),
        st.Page("pages/map.py", title="Map", icon=":material/map:", url_path="map"),
        st.Page(
            "pages/explorer.py",
            title="Data explorer",
            icon=":material/table_view:",
            url_path="explorer",
        ),
        st.Page("pages/about.py", title="About the data", icon=":material/info:", url_path="about"),
    ]


# Built once per session: st.Page resolves and checks its file (a twentieth of a loaded
# server's time when built at every rerun). Not shared between sessions: the page
# st.navigation picks is marked callable on the object for that one run.
if "critmin:pages" not in st.session_state:
    st.session_state["critmin:pages"] = pages()

st.set_page_config(page_title="critmin — critical-minerals explorer", layout="wide", page_icon="⛏️")
require_access()  # off unless CRITMIN_PASSWORD or [access] password is set
st.navigation(st.session_state["critmin:pages"]).run()
