"""Polite HTTP for every fetcher: one session type, one way to ask and to read a refusal.

What every request gets, whichever source it goes to:

- **A name.** The User-Agent names critmin and its version (`USER_AGENT`), so a
  publisher can see who calls and which release of critmin does.
- **Pacing.** At most one request per `Policy.pace` seconds to the same host (the UN
  Comtrade client keeps rOpenSci comtradr's 10 calls a minute; a file server gets a
  second between requests). The wait happens in the session, so a fetcher cannot forget it.
- **Retries that listen.** Connection errors, 429 and 5xx answers are retried with
  exponential back-off (urllib3 `Retry`); `Retry-After` is honoured on 429, 503 and also
  on 403 (UN Comtrade's gateway answers a used-up quota with 403 and Retry-After, and
  comtradr retries both). A 403 without Retry-After, and a browser check
  (Cloudflare's `cf-mitigated: challenge`), are never retried: asking again does not help.
  A server that asks to wait longer than `Policy.max_wait` stops the run with the time to
  re-run instead of sleeping for hours.
- **Refusals in words.** A 401/403, a browser check or a web page where a file or JSON was
  expected ends in a `Refused` error that says what the refusal can mean and, when the
  fetcher says how (`ByHand`), what to download in a browser, from where, where to save
  it and which command to run next. A challenge page is never saved as data.

A new fetcher (monthly Comtrade, Eurostat, the US Census API, ...) gets all of this by
building its session with `make_session(policy)` and asking with `get`, `get_json` or
`get_text` (files go through `critmin.fetch.download.fetch_file`, which uses the same
session and adds the cache, resume and checks).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ProtocolError
from urllib3.util import Retry

from critmin import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"critmin/{__version__} (public data fetch; https://github.com/critmin)"
RETRY_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF = 2.0
DEFAULT_TIMEOUT = 60.0
DEFAULT_PACE = 1.0  # seconds between two requests to one host
DEFAULT_MAX_WAIT = 300.0  # the longest Retry-After a run waits for
BACKOFF_MAX = 120.0
CHALLENGE_MARKERS = (
    "<title>just a moment",
    "_cf_chl_opt",
    "/cdn-cgi/challenge-platform/",
    "cf-browser-verification",
)

# The clock and the sleep every wait goes through (pacing, Retry-After, back-off), so
# tests can replace them and read the waits without waiting.
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep


class FetchError(ValueError):
    """A download that cannot complete; the message is one line and says what to do."""


class NotFound(FetchError):
    """The server has no such file (HTTP 404)."""

    def __init__(self, message: str, url: str):
        super().__init__(message)
        self.url = url


class Refused(FetchError):
    """The server refused (401/403, a browser check, a web page instead of the data)."""


class WaitTooLong(FetchError):
    """The server asked to wait longer than the run is willing to (Retry-After)."""

    def __init__(self, seconds: float, status: int):
        super().__init__(f"the server asks to wait {seconds:.0f} s (HTTP {status})")
        self.seconds, self.status = seconds, status


@dataclass(frozen=True)
class ByHand:
    """How a user gets a file a server refuses to a script: what to download, from which
    page, where to save it, and the command that then uses it."""

    what: str
    page: str
    save_as: str
    then: str = ""  # the command to run next; empty: the same command again

    def describe(self) -> str:
        step = f"run `{self.then}`" if self.then else "re-run the same command"
        return (
            f"download it by hand: open {self.page} in a browser, save {self.what} as "
            f"{self.save_as}, then {step} (a file placed there is checked and used without "
            "downloading)"
        )


# --- the session ------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How hard and how fast to ask: retries and back-off (seconds, doubling each
    retry), timeout, the pause between two requests to one host, and the longest
    Retry-After to wait for."""

    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    timeout: float = DEFAULT_TIMEOUT
    pace: float = DEFAULT_PACE
    max_wait: float = DEFAULT_MAX_WAIT

    def retry(self) -> PoliteRetry:
        return PoliteRetry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            backoff_factor=self.backoff,
            backoff_max=BACKOFF_MAX,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            max_wait=self.max_wait,
        )


class PoliteRetry(Retry):
    """urllib3's Retry, honouring Retry-After on 403 too, never retrying a browser
    check, refusing to sleep longer than `max_wait`, and waiting through `_sleep`."""

    RETRY_AFTER_STATUS_CODES = frozenset({403, 413, 429, 503})

    def __init__(self, *args: Any, max_wait: float = DEFAULT_MAX_WAIT, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait

    def new(self, **kwargs: Any) -> PoliteRetry:
        kwargs.setdefault("max_wait", self.max_wait)
        return super().new(**kwargs)

    def increment(self, *args: Any, **kwargs: Any) -> PoliteRetry:
        response = kwargs.get("response")
        if response is not None and is_challenge_headers(response.headers):
            # A browser check: asking again only spends the server's patience.
            raise MaxRetryError(
                kwargs.get("_pool"),  # type: ignore[arg-type]
                kwargs.get("url") or "",
                ProtocolError("a browser check (cf-mitigated: challenge)"),
            )
        return super().increment(*args, **kwargs)

    def sleep_for_retry(self, response: Any) -> bool:
        seconds = self.get_retry_after(response)
        if not seconds:
            return False
        if seconds > self.max_wait:
            raise WaitTooLong(seconds, response.status)
        log.info("the server asks to wait %.0f s (Retry-After)", seconds)
        _sleep(seconds)
        return True

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            _sleep(backoff)


@dataclass
class Pacer:
    """At most one request per `interval` seconds to each host."""

    interval: float
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, host: str) -> float:
        """Sleep until the host may be asked again; the seconds waited."""
        if self.interval <= 0:
            return 0.0
        with self._lock:
            now = _clock()
            due = self._last.get(host, now - self.interval) + self.interval
            waited = max(0.0, due - now)
            if waited:
                _sleep(waited)
            self._last[host] = _clock()
            return waited


class PoliteSession(requests.Session):
    """A requests session that paces its requests per host."""

    def __init__(self, policy: Policy):
        super().__init__()
        self.policy = policy
        self.pacer = Pacer(policy.pace)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.pacer.wait(urlsplit(request.url or "").netloc)
        return super().send(request, **kwargs)


def make_session(
    policy: Policy, *, user_agent: str = USER_AGENT, headers: dict[str, str] | None = None
) -> PoliteSession:
    """The session every fetcher uses: paced, retrying with back-off, named; proxies
    come from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as requests reads them."""
    session = PoliteSession(policy)
    adapter = HTTPAdapter(max_retries=policy.retry())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    session.headers.update(headers or {})
    return session


def attempts(response: requests.Response) -> int:
    """How many requests the adapter made for this answer (1 + its retries)."""
    retries = getattr(response.raw, "retries", None)
    history = getattr(retries, "history", ()) or ()
    return 1 + len(history)


def reason(error: Exception) -> str:
    """A short reason from requests' long exception texts."""
    text = str(error)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "Temporary failure in name resolution",
        "timed out",
        "Connection reset",
        "Remote end closed connection",
        "Connection broken",
        "too many 429",
        "too many 5",
    ):
        if marker.lower() in text.lower():
            return marker
    return text.splitlines()[0][:160] if text else type(error).__name__


# --- asking -----------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def get(
    session: requests.Session,
    url: str,
    policy: Policy,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    stream: bool = False,
    method: str = "GET",
    keep_note: str = "",
    refusal_hint: str = "",
) -> requests.Response:
    """Ask with the session's pacing and retries; FetchError in one line on a network
    failure. The answer may still be an HTTP error (after retries): see `raise_for_answer`."""
    try:
        return session.request(
            method, url, headers=headers, params=params, stream=stream, timeout=policy.timeout
        )
    except WaitTooLong as wait:
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait.seconds)
        hint = f" ({refusal_hint})" if refusal_hint and wait.status in (401, 403) else ""
        raise FetchError(
            f"{url}: the server asks to wait {_duration(wait.seconds)} before the next request "
            f"(HTTP {wait.status} with Retry-After){hint}, longer than --max-wait "
            f"{policy.max_wait:g} s: re-run after {until:%Y-%m-%d %H:%M} UTC{keep_note}"
        ) from wait
    except requests.exceptions.RetryError as error:
        raise FetchError(
            f"{url}: still failing after retries ({reason(error)}){keep_note}"
        ) from error
    except requests.exceptions.ConnectionError as error:
        host = urlsplit(url).netloc
        raise FetchError(
            f"cannot reach {host} ({reason(error)}) for {url}; check the network, the base URL "
            f"(--base-url) or the HTTPS_PROXY setting, then re-run{keep_note}"
        ) from error
    except requests.exceptions.Timeout as error:
        raise FetchError(
            f"{url}: no answer within {policy.timeout:g} s (--timeout); the server is slow or "
            f"the connection filtered: re-run later or with a longer --timeout{keep_note}"
        ) from error


# --- reading refusals -------------------------------------------------------------------


def is_challenge_headers(headers: Any) -> bool:
    """Cloudflare marks every challenge page with `cf-mitigated: challenge`."""
    return str(headers.get("cf-mitigated", "")).strip().lower() == "challenge"


def looks_like_html(head: bytes | str) -> bool:
    """The start of a body is a web page (not a CSV, a zip or JSON)."""
    text = head[:2048].decode("utf-8", "replace") if isinstance(head, bytes) else head[:2048]
    start = text.lstrip("\ufeff \t\r\n").lower()
    return start.startswith(("<!doctype html", "<html", "<head", "<body"))


def challenge_in(text: str) -> bool:
    """The page is a browser check ("Just a moment...")."""
    lowered = text[:65536].lower()
    return any(marker in lowered for marker in CHALLENGE_MARKERS)


def _body_head(response: requests.Response) -> str:
    """The start of an error answer's body (read or not yet), for its message."""
    try:
        head = next(response.iter_content(65536), b"")
    except (requests.exceptions.RequestException, OSError):
        return ""  # a body that cannot be read adds nothing to the message
    return head.decode("utf-8", "replace") if isinstance(head, bytes) else str(head)


def _server_message(body: str) -> str:
    """The one-line message an API put in its error body (UN Comtrade's gateway writes
    {"statusCode": 403, "message": "Out of call volume quota. ..."})."""
    match = re.search(r'"message"\s*:\s*"([^"]{1,200})"', body)
    return f' (the server says: "{match[1]}")' if match else ""


def refusal(
    url: str,
    status: int,
    *,
    challenge: bool,
    by_hand: ByHand | None = None,
    hint: str = "",
    server_message: str = "",
) -> Refused:
    what = (
        f"HTTP {status}, a browser check (Cloudflare) that a script cannot pass"
        if challenge
        else f"HTTP {status}"
    )
    meaning = hint or (
        "the site may refuse scripted downloads from this network, filter this address, "
        "or ask for a browser"
    )
    then = f"; {by_hand.describe()}" if by_hand else "; re-run later"
    return Refused(
        f"{url}: the server refused the request ({what}){server_message}: {meaning}{then}"
    )


def raise_for_answer(
    response: requests.Response,
    url: str,
    *,
    by_hand: ByHand | None = None,
    keep_note: str = "",
    refusal_hint: str = "",
) -> None:
    """FetchError with the fix for any answer that is not 200/206: NotFound for 404,
    Refused for 401/403 or a browser check (what it can mean, and how to get the file
    by hand when the fetcher says), a busy server for 429/5xx."""
    status = response.status_code
    challenge = is_challenge_headers(response.headers)
    if status in (200, 206) and not challenge:
        return
    tries = attempts(response)
    if status == 404:
        raise NotFound(f"{url}: not found (HTTP 404)", url)
    if status in (401, 403) or challenge:
        body = _body_head(response)
        raise refusal(
            url,
            status,
            challenge=challenge or challenge_in(body),
            by_hand=by_hand,
            hint=refusal_hint,
            server_message=_server_message(body),
        )
    if status in RETRY_STATUSES:
        raise FetchError(
            f"{url}: HTTP {status} after {tries} attempt(s): the server is busy or down; "
            f"re-run later{keep_note}"
        )
    raise FetchError(f"{url}: unexpected HTTP {status}{keep_note}")


def reject_web_page(head: bytes, url: str, expected: str, by_hand: ByHand | None) -> None:
    """Refused when a 200 answer is a web page where `expected` (a zip, a CSV, JSON) was
    asked for: a login, landing or browser-check page is never kept as data. The body
    decides, not the Content-Type a server may get wrong."""
    if not looks_like_html(head):
        return
    text = head.decode("utf-8", "replace")
    kind = "a browser check (Cloudflare)" if challenge_in(text) else "a web page"
    then = f"; {by_hand.describe()}" if by_hand else "; re-run later"
    raise Refused(
        f"{url}: the server answered with {kind} instead of {expected}; nothing was saved{then}"
    )


def get_json(
    session: requests.Session,
    url: str,
    policy: Policy,
    *,
    by_hand: ByHand | None = None,
    **kwargs: Any,
) -> Any:
    """A small JSON document (a catalogue entry): parsed, or FetchError."""
    response = get(session, url, policy, **kwargs)
    with response:
        raise_for_answer(response, url, by_hand=by_hand)
        body = response.content
        reject_web_page(body[:4096], url, "JSON", by_hand)
        try:
            return response.json()
        except ValueError as error:
            raise FetchError(f"{url}: the answer is not JSON") from error


def get_text(
    session: requests.Session,
    url: str,
    policy: Policy,
    *,
    by_hand: ByHand | None = None,
    **kwargs: Any,
) -> str:
    """A small text document (a listing page): decoded, or FetchError (Refused for a
    browser check served in place of the page)."""
    response = get(session, url, policy, **kwargs)
    with response:
        raise_for_answer(response, url, by_hand=by_hand)
        text = response.text
        if challenge_in(text):
            raise refusal(url, response.status_code, challenge=True, by_hand=by_hand)
        return text


@dataclass(frozen=True)
class Probe:
    """What a server says about a file without sending it (HEAD, else a one-byte GET)."""

    url: str
    answered: bool
    status: int | None
    size: int | None
    detail: str


def probe(session: requests.Session, url: str, policy: Policy) -> Probe:
    """Ask for a file's size without downloading it: HEAD, or a ranged GET of its first
    byte where HEAD is refused or says nothing of the size."""
    try:
        response = get(session, url, policy, method="HEAD")
        with response:
            size = _size_of(response)
            status = response.status_code
            challenge = is_challenge_headers(response.headers)
        if status in (200, 206) and size is None or status in (405, 501):
            response = get(session, url, policy, headers={"Range": "bytes=0-0"}, stream=True)
            with response:
                size = _size_of(response)
                status = response.status_code
                challenge = is_challenge_headers(response.headers)
    except FetchError as error:
        return Probe(url, False, None, None, str(error))
    if challenge or status in (401, 403):
        what = "a browser check" if challenge else "a refusal"
        return Probe(url, False, status, None, f"HTTP {status}: {what}")
    if status in (200, 206):
        return Probe(url, True, status, size, f"HTTP {status}")
    if status == 404:
        return Probe(url, False, status, None, "HTTP 404: no such file")
    return Probe(url, status < 500, status, size, f"HTTP {status}")


def _size_of(response: requests.Response) -> int | None:
    ranged = re.fullmatch(r"\s*bytes\s+\d+-\d+/(\d+)\s*", response.headers.get("Content-Range", ""))
    if ranged:
        return int(ranged[1])
    length = response.headers.get("Content-Length", "")
    return int(length) if length.isdigit() and response.status_code == 200 else None
