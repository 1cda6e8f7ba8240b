"""The optional password gate of the hosted demo.

Off unless a password is configured: the environment variable
`CRITMIN_PASSWORD`, or `[access] password = "..."` in `.streamlit/secrets.toml`
(the environment wins). When on, every session must type the password once; it
is compared in constant time (`hmac.compare_digest`) and never stored in the
session, only the fact that it matched. Streamlit's built-in `st.login` (OpenID
Connect) is the alternative for named users; see docs/deploying.md.
"""

from __future__ import annotations

import hmac
import logging
import os

import streamlit as st

log = logging.getLogger(__name__)

ENV_VAR = "CRITMIN_PASSWORD"
SESSION_KEY = "critmin:access_granted"


def configured_password() -> str | None:
    """The demo's password, or None when the gate is off."""
    from_env = os.environ.get(ENV_VAR, "")
    if from_env:
        return from_env
    try:
        value = st.secrets["access"]["password"]
    except Exception:  # no secrets.toml, no [access] section: the gate is off
        return None
    return str(value) or None


def password_matches(typed: str, expected: str) -> bool:
    return hmac.compare_digest(typed.encode("utf-8"), expected.encode("utf-8"))


def require_access() -> None:
    """Stop the run with a password form unless access is open or already granted."""
    expected = configured_password()
    if expected is None or st.session_state.get(SESSION_KEY):
        return
    st.title("critmin")
    st.write("This demo is for invited colleagues. Enter the password you were given.")
    with st.form("critmin-access"):
        typed = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Enter")
    if submitted:
        if password_matches(typed, expected):
            st.session_state[SESSION_KEY] = True
            st.rerun()
        log.warning("a wrong demo password was entered")
        st.error("That password is not right. Ask the person who shared the link.")
    st.stop()
