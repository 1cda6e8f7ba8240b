"""The optional password gate of the hosted demo.

Off unless a password is configured: the environment variable
`CRITMIN_PASSWORD`, or `[access] password = "..."` in `.streamlit/secrets.toml`
(the environment wins). When on, every session must type the password once; it
is compared in constant time (`hmac.compare_digest`) and never stored in the
session, only the fact that it matched. Streamlit's built-in `st.login` (OpenID
Connect) is the alternative for named users; see docs/deploying.md.

Guesses back off: after FREE_ATTEMPTS wrong passwords in a session, and after
ADDRESS_FREE_ATTEMPTS from one client address (over all its sessions), each further
attempt must wait twice as long as the one before (up to SESSION_MAX_WAIT_S and
ADDRESS_MAX_WAIT_S); an attempt made too soon is refused without being compared. Every
wrong password is logged with the client's address hashed (`client_tag`), so that the
log tells clients apart without holding their addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

log = logging.getLogger(__name__)

ENV_VAR = "CRITMIN_PASSWORD"
SESSION_KEY = "critmin:access_granted"
ATTEMPTS_KEY = "critmin:password_attempts"
FREE_ATTEMPTS = 3  # per session, before waits begin
ADDRESS_FREE_ATTEMPTS = 10  # per client address
SESSION_MAX_WAIT_S = 300.0
# Lower: behind a proxy that does not pass the client's address, every visitor shares
# one, and a guesser must not keep the others out for long.
ADDRESS_MAX_WAIT_S = 60.0
ADDRESSES_KEPT = 10_000
# Hashes of addresses are comparable within one server's run, not across runs, unless
# CRITMIN_LOG_SALT is set.
_SALT = os.environ.get("CRITMIN_LOG_SALT", "").encode() or secrets.token_bytes(16)
LOOPBACK = {"127.0.0.1", "::1"}


def _now() -> float:
    return time.monotonic()


@dataclass
class Attempts:
    """Wrong passwords so far and the earliest time the next attempt is heard."""

    failures: int = 0
    not_before: float = 0.0

    def wait(self, now: float) -> float:
        return max(0.0, self.not_before - now)

    def failed(self, now: float, free: int, longest: float) -> None:
        self.failures += 1
        if self.failures >= free:
            self.not_before = now + min(longest, 2.0 ** (self.failures - free))


_by_address: OrderedDict[str, Attempts] = OrderedDict()
_by_address_lock = threading.Lock()


def _address_attempts(tag: str) -> Attempts:
    with _by_address_lock:
        attempts = _by_address.pop(tag, None) or Attempts()
        _by_address[tag] = attempts
        while len(_by_address) > ADDRESSES_KEPT:
            _by_address.popitem(last=False)
        return attempts


def client_address(session_id: str | None = None) -> str:
    """The visitor's address: the connection's peer or, when the peer is this machine
    (a proxy in front, deploy/nginx.conf), the X-Real-IP (else the first
    X-Forwarded-For) the proxy set; "unknown" outside a server."""
    if session_id is None:
        ctx = get_script_run_ctx()
        session_id = ctx.session_id if ctx is not None else None
    if not session_id or not runtime.exists():
        return "unknown"
    client = runtime.get_instance().get_client(session_id)
    context = getattr(client, "client_context", None)
    if context is None:
        return "unknown"
    peer = context.remote_ip
    if not isinstance(peer, str) or not peer:
        return "unknown"  # e.g. a test harness's stand-in connection
    if peer in LOOPBACK:
        try:
            pairs = list(context.headers)
        except TypeError:
            pairs = []
        headers = {str(name).lower(): str(value) for name, value in pairs}
        forwarded = headers.get("x-forwarded-for", "").split(",")[0].strip()
        return headers.get("x-real-ip", "").strip() or forwarded or peer
    return peer


def client_tag(address: str) -> str:
    """A short keyed hash of a client address, for the log."""
    return hmac.new(_SALT, address.encode(), hashlib.sha256).hexdigest()[:12]


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
        tag = client_tag(client_address())
        mine: Attempts = st.session_state.setdefault(ATTEMPTS_KEY, Attempts())
        theirs = _address_attempts(tag)
        now = _now()
        wait = max(mine.wait(now), theirs.wait(now))
        if wait > 0:
            log.warning("a demo password attempt came too soon: client %s", tag)
            st.error(f"Too many wrong passwords. Wait {math.ceil(wait)} seconds, then try again.")
        elif password_matches(typed, expected):
            st.session_state[SESSION_KEY] = True
            st.session_state.pop(ATTEMPTS_KEY, None)
            with _by_address_lock:
                _by_address.pop(tag, None)
            st.rerun()
        else:
            mine.failed(now, FREE_ATTEMPTS, SESSION_MAX_WAIT_S)
            theirs.failed(now, ADDRESS_FREE_ATTEMPTS, ADDRESS_MAX_WAIT_S)
            log.warning(
                "a wrong demo password: client %s (%d in this session, %d from this address)",
                tag,
                mine.failures,
                theirs.failures,
            )
            st.error("That password is not right. Ask the person who shared the link.")
    st.stop()
