"""The optional password gate: off by default, and when on no page runs before
the right password is typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import APP, run_page
from streamlit.testing.v1 import AppTest

from critmin.ui import access
from critmin.ui.access import password_matches


def test_password_comparison() -> None:
    assert password_matches("s3cret phrase", "s3cret phrase")
    assert not password_matches("s3cret", "s3cret phrase")
    assert not password_matches("", "x")
    assert password_matches("ключ🦆", "ключ🦆")


def test_gate_is_off_by_default(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRITMIN_PASSWORD", raising=False)
    at = run_page("about")
    assert not at.exception
    assert at.title[0].value == "About the data"
    assert not at.text_input


def test_gate_blocks_deep_links(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMIN_PASSWORD", "correct horse")
    at = run_page("explorer")
    assert not at.exception
    assert [t.value for t in at.title] == ["critmin"]
    assert not at.dataframe and not at.get("download_button")


def test_gate_opens_only_for_the_right_password(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (AppTest does not submit forms after switch_page, so this runs the default
    # page; in headless Chromium a deep link to /explorer behaved the same.)
    monkeypatch.setenv("CRITMIN_PASSWORD", "correct horse")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert [t.value for t in at.title] == ["critmin"]
    at.text_input[0].input("wrong")
    at.button[0].click()
    at.run()
    assert "not right" in " ".join(str(e.value) for e in at.error)
    assert [t.value for t in at.title] == ["critmin"]
    at.text_input[0].input("correct horse")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Kazakhstan: critical-mineral exports"]


# --- guesses back off ---------------------------------------------------------------------


@pytest.fixture
def gate(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The gate on, a clock the test moves, no attempts remembered from other tests."""
    monkeypatch.setenv("CRITMIN_PASSWORD", "correct horse")
    clock = [1000.0]
    monkeypatch.setattr(access, "_now", lambda: clock[0])
    access._by_address.clear()
    return clock


def attempt(at: AppTest, password: str) -> str:
    at.text_input[0].input(password)
    at.button[0].click()
    at.run()
    return " ".join(str(e.value) for e in at.error)


def test_wrong_passwords_back_off_within_a_session(
    gate: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    for _ in range(access.FREE_ATTEMPTS):
        assert "not right" in attempt(at, "guess")
    # The next attempt comes too soon: refused without being compared, even if right.
    refused = attempt(at, "correct horse")
    assert "Too many wrong passwords. Wait 1 seconds" in refused
    assert [t.value for t in at.title] == ["critmin"]
    gate[0] += 1.5
    assert "not right" in attempt(at, "guess again")  # heard, wrong: the wait doubles
    gate[0] += 1.5
    assert "Wait 1 seconds" in attempt(at, "correct horse")
    gate[0] += 1.0
    attempt(at, "correct horse")
    assert not at.exception and at.title[0].value != "critmin"
    # Each wrong password is in the log, with the client's address hashed.
    logged = [r.getMessage() for r in caplog.records if "wrong demo password" in r.getMessage()]
    assert len(logged) == access.FREE_ATTEMPTS + 1
    assert all(access.client_tag("unknown") in line for line in logged)


def test_wrong_passwords_back_off_per_client_address(
    gate: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guesser who opens a new session for each guess meets the address's back-off."""
    monkeypatch.setattr(access, "ADDRESS_FREE_ATTEMPTS", 2)
    for _ in range(2):
        at = AppTest.from_file(APP, default_timeout=90)
        at.run()
        assert "not right" in attempt(at, "guess")
    fresh = AppTest.from_file(APP, default_timeout=90)
    fresh.run()
    assert "Too many wrong passwords" in attempt(fresh, "correct horse")
    gate[0] += access.ADDRESS_MAX_WAIT_S
    attempt(fresh, "correct horse")
    assert fresh.title[0].value != "critmin"


class _Context:
    def __init__(self, peer: str | None, headers: list[tuple[str, str]]) -> None:
        self.remote_ip = peer
        self.headers = headers


def test_the_client_address_is_the_peer_or_what_a_local_proxy_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contexts: dict[str, _Context] = {
        "direct": _Context("198.51.100.7", [("X-Real-IP", "203.0.113.1")]),
        "proxied": _Context("127.0.0.1", [("x-real-ip", "203.0.113.9")]),
        "forwarded": _Context("::1", [("X-Forwarded-For", "203.0.113.5, 10.0.0.1")]),
        "local": _Context("127.0.0.1", []),
    }

    class Runtime:
        def get_client(self, session: str) -> object:
            return type("Client", (), {"client_context": contexts[session]})()

    monkeypatch.setattr(access.runtime, "exists", lambda: True)
    monkeypatch.setattr(access.runtime, "get_instance", lambda: Runtime())
    # A client's own header is believed only from a proxy on this machine.
    assert access.client_address("direct") == "198.51.100.7"
    assert access.client_address("proxied") == "203.0.113.9"
    assert access.client_address("forwarded") == "203.0.113.5"
    assert access.client_address("local") == "127.0.0.1"
    tag = access.client_tag("203.0.113.9")
    assert len(tag) == 12 and "203" not in tag and tag != access.client_tag("203.0.113.5")
