"""critmin: the router. Page config, the list of pages, navigation. Nothing else."""

import streamlit as st

from critmin.ui.access import require_access

PAGES = [
    st.Page(
        "pages/overview.py",
        title="Overview",
        icon=":material/dashboard:",
        default=True,  # served at "/": a default page has no path of its own
    ),
    st.Page(
        "pages/growth.py", title="Export growth", icon=":material/trending_up:", url_path="growth"
    ),
    st.Page(
        "pages/partners.py", title="Partners", icon=":material/handshake:", url_path="partners"
    ),
    st.Page(
        "pages/suppliers.py", title="Suppliers", icon=":material/public:", url_path="suppliers"
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

st.set_page_config(page_title="critmin — critical-minerals explorer", layout="wide", page_icon="⛏️")
require_access()  # off unless CRITMIN_PASSWORD or [access] password is set
st.navigation(PAGES).run()
