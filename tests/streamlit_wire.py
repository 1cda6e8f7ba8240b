"""A browserless Streamlit client for the tests of hostile and heavy visitors (tests/visitor.py):
Streamlit's own websocket protocol, spoken like the frontend.

    async with Session("http://127.0.0.1:8501") as s:
        page = await s.open("/growth", {"country": "KGZ"})
        print(page.titles, page.warnings, page.widget("growth:country").value)
        page = await s.set_widget("growth:country", "Kazakhstan (KAZ)")

What one `Session` does is what one browser tab does (read from streamlit 1.67's
`web/server/starlette` and `runtime/app_session.py`, and the frontend bundle's connection
manager):

1. GET the page's HTML, `/_stcore/health` and `/_stcore/host-config`, keeping every cookie
   the responses set: Streamlit's XSRF cookie `_streamlit_xsrf` and, behind
   `deploy/nginx.conf`, the `critmin_affinity` cookie that pins the tab to one replica.
2. Open the websocket `/_stcore/stream` with the subprotocols `["streamlit", <xsrf cookie
   value>]` (the server selects the first entry and checks the second against the cookie),
   the cookies and a same-origin `Origin` header.
3. Send a `BackMsg.rerun_script` (`ClientState`): the query string, the widget states, and
   for the first page of a tab its URL path as `page_name` (an `st.navigation` page is
   found by its `url_path`); later pages of the same tab are opened by `page_script_hash`,
   as the sidebar does, with the widget states of the main script's widgets only.
4. Read `ForwardMsg`s until `script_finished` (a run ended by `st.rerun()` is followed by
   the next one): `new_session` starts a run and gives the session id, `delta`s build the
   page (an element replaces whatever sat at its `delta_path`), `page_info_changed`
   carries the new query string (`st.query_params`), `navigation` lists the pages.
5. Keep every widget's value the way the frontend's widget manager does: a new widget
   starts at its `default`, a `set_value` from the server overrides it, a widget not
   drawn in a run is forgotten. Changing a widget resends all widget states with that one
   changed and waits for the rerun.

No cached-message hashes are declared, so the server always sends whole messages (the
browser's message cache is not modelled: this client receives more bytes than a warm
browser). Widgets inside `st.form` are sent at once, not on submit. Only loopback URLs are
accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlencode, urlsplit

import h11
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Origin, Subprotocol

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
XSRF_COOKIE = "_streamlit_xsrf"
STREAM_PATH = "/_stcore/stream"
HEALTH_PATH = "/_stcore/health"
HOST_CONFIG_PATH = "/_stcore/host-config"
# Streamlit's own server.maxMessageSize default is 200 MB; websockets' default is 1 MiB.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024

CHART_KINDS = frozenset(
    {"vega_lite_chart", "plotly_chart", "graphviz_chart", "echarts_chart", "bidi_component"}
)
MAP_KINDS = frozenset({"deck_gl_json_chart"})
DATAFRAME_KINDS = frozenset({"dataframe", "table"})
WIDGET_KINDS = frozenset(
    {
        "selectbox",
        "radio",
        "multiselect",
        "slider",
        "checkbox",
        "number_input",
        "text_input",
        "text_area",
        "date_input",
        "button_group",
        "button",
        "download_button",
    }
)
TRIGGER_KINDS = frozenset({"button", "download_button"})
_ARRAY_KINDS = frozenset({"multiselect", "button_group", "date_input"})


class NotLoopbackError(ValueError):
    """A URL that is not on 127.0.0.1, localhost or ::1."""


class RerunFailed(RuntimeError):
    """A script run that did not finish: timed out, or the server closed the connection."""

    def __init__(self, message: str, result: RunResult) -> None:
        super().__init__(message)
        self.result = result


def require_loopback(url: str) -> SplitResult:
    """Parse an http(s) or ws(s) URL and refuse anything not on the loopback interface."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https", "ws", "wss"} or not parts.hostname:
        raise NotLoopbackError(f"not an http or ws URL: {url!r}")
    if parts.hostname.lower() not in LOOPBACK_HOSTS:
        raise NotLoopbackError(f"refusing {url!r}: only loopback URLs (127.0.0.1, localhost)")
    return parts


def query_string(query: str | Mapping[str, str | Sequence[str]] | None) -> str:
    """A query string without the leading '?', from a string or a mapping (lists repeat)."""
    if query is None:
        return ""
    if isinstance(query, str):
        return query.removeprefix("?")
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        values = [value] if isinstance(value, str) else list(value)
        pairs.extend((key, v) for v in values)
    return urlencode(pairs)


# --- plain HTTP ----------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    elapsed_s: float

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


async def http_get(
    url: str, *, timeout: float, headers: Iterable[tuple[str, str]] = ()
) -> HttpResponse:
    """GET a loopback URL over asyncio (h11 frames HTTP/1.1), bounded by `timeout` seconds.

    Raises TimeoutError when no complete answer came in time and OSError when the connection
    failed. Runs on the event loop, not in a thread pool, so a health probe is never queued
    behind other sessions' requests.
    """
    parts = require_loopback(url)
    port = parts.port or (443 if parts.scheme in {"https", "wss"} else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(parts.hostname, port)
        try:
            conn = h11.Connection(h11.CLIENT)
            request = h11.Request(
                method="GET",
                target=target,
                headers=[("Host", parts.netloc), ("Connection", "close"), *headers],
            )
            writer.write(conn.send(request) or b"")
            writer.write(conn.send(h11.EndOfMessage()) or b"")
            await writer.drain()
            status, response_headers, body = 0, [], bytearray()
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                    response_headers = [
                        (k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers
                    ]
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    return HttpResponse(status, response_headers, bytes(body), time.monotonic() - started)


# --- what a run shows ----------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element of the page: its proto field name, where it sits, its text."""

    kind: str  # heading, markdown, alert, exception, metric, dataframe, selectbox, ...
    path: tuple[int, ...]  # delta_path: (0 main | 1 sidebar | ..., index, ...)
    text: str = ""  # body, label, or "Type: message" for an exception
    detail: str = ""  # heading tag, markdown type (CAPTION), alert format (WARNING)


@dataclass
class Widget:
    """A widget as the frontend holds it: id, st.session_state key, options, current value.

    Values are in the wire's terms: a selectbox or radio holds its option label (the text
    after format_func), a multiselect a list of labels, a slider a list of floats (a select
    slider a list of labels), a number input a number, a checkbox a bool.
    """

    id: str
    kind: str
    label: str
    key: str | None
    options: list[str] = field(default_factory=list)
    value: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_selections: int = 0
    accept_new_options: bool = False
    is_int: bool = False
    form_id: str = ""
    script_hash: str = ""

    def check(self, value: Any) -> Any:
        """Return `value` in this widget's wire form, or raise ValueError if no user could
        give it (an option that is not offered, a number out of range)."""
        kind = self.kind
        if kind in {"selectbox", "radio"}:
            if value is not None and value not in self.options and not self.accept_new_options:
                raise ValueError(f"{self.key or self.id}: {value!r} is not an option")
            return value
        if kind in _ARRAY_KINDS or (kind == "slider" and self.options):
            values = [value] if isinstance(value, str) else list(value)
            if kind != "date_input" and not self.accept_new_options:
                unknown = [v for v in values if v not in self.options]
                if unknown:
                    raise ValueError(f"{self.key or self.id}: {unknown!r} are not options")
            if self.max_selections and len(values) > self.max_selections:
                raise ValueError(f"{self.key or self.id}: at most {self.max_selections}")
            return [str(v) for v in values]
        if kind in {"slider", "number_input"}:
            numbers = [value] if isinstance(value, int | float) else list(value)
            for number in numbers:
                low = self.minimum if self.minimum is not None else float("-inf")
                high = self.maximum if self.maximum is not None else float("inf")
                if not low <= float(number) <= high:
                    raise ValueError(f"{self.key or self.id}: {number} outside [{low}, {high}]")
            if kind == "number_input":
                return int(numbers[0]) if self.is_int else float(numbers[0])
            return [float(n) for n in numbers]
        if kind == "checkbox":
            return bool(value)
        if kind in {"text_input", "text_area"}:
            return None if value is None else str(value)
        if kind in TRIGGER_KINDS:
            return bool(value)
        raise ValueError(f"{self.key or self.id}: cannot set a {kind}")

    def state(self, trigger: bool = False) -> WidgetState | None:
        """The WidgetState the frontend would send for this widget (None: sends nothing)."""
        state = WidgetState(id=self.id)
        value = self.value
        if self.kind in TRIGGER_KINDS:
            if not trigger:
                return None
            state.trigger_value = True
        elif value is None:
            pass  # an empty selection: the server deserialises it as None
        elif self.kind in {"selectbox", "radio", "text_input", "text_area"}:
            state.string_value = str(value)
        elif self.kind in _ARRAY_KINDS or (self.kind == "slider" and self.options):
            state.string_array_value.data.extend(str(v) for v in value)
        elif self.kind == "slider":
            state.double_array_value.data.extend(float(v) for v in value)
        elif self.kind == "number_input":
            if self.is_int:
                state.int_value = int(value)
            else:
                state.double_value = float(value)
        elif self.kind == "checkbox":
            state.bool_value = bool(value)
        return state


@dataclass
class RunResult:
    """What one script run showed, and what it cost on the wire."""

    page: str
    query_string: str = ""
    status: str = "running"  # finished | compile_error | timeout | disconnected
    wall_s: float = 0.0
    bytes_received: int = 0
    messages: int = 0
    reruns: int = 0  # runs ended by st.rerun() before this one
    session_id: str = ""
    page_script_hash: str = ""
    page_not_found: bool = False
    elements: list[Element] = field(default_factory=list)
    widgets: list[Widget] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "finished"

    def of_kind(self, *kinds: str) -> list[Element]:
        return [e for e in self.elements if e.kind in kinds]

    def _texts(self, kind: str, detail: str | None = None) -> list[str]:
        return [e.text for e in self.elements if e.kind == kind and detail in {None, e.detail}]

    @property
    def titles(self) -> list[str]:
        return self._texts("heading", "h1")

    @property
    def headings(self) -> list[str]:
        return self._texts("heading")

    @property
    def markdown(self) -> list[str]:
        return [e.text for e in self.elements if e.kind == "markdown" and e.detail != "CAPTION"]

    @property
    def captions(self) -> list[str]:
        return self._texts("markdown", "CAPTION")

    @property
    def warnings(self) -> list[str]:
        return self._texts("alert", "WARNING")

    @property
    def errors(self) -> list[str]:
        return self._texts("alert", "ERROR")

    @property
    def infos(self) -> list[str]:
        return self._texts("alert", "INFO")

    @property
    def exceptions(self) -> list[str]:
        return self._texts("exception")

    @property
    def charts(self) -> int:
        return len(self.of_kind(*CHART_KINDS))

    @property
    def maps(self) -> int:
        return len(self.of_kind(*MAP_KINDS))

    @property
    def dataframes(self) -> int:
        return len(self.of_kind(*DATAFRAME_KINDS))

    def widget(self, key: str) -> Widget:
        """The widget with this st.session_state key (or element id)."""
        for w in self.widgets:
            if key in {w.key, w.id}:
                return w
        raise KeyError(f"no widget {key!r} on {self.page!r}; keys: {[w.key for w in self.widgets]}")

    def summary(self) -> str:
        return (
            f"{self.page or '/'}?{self.query_string[:60]} {self.status} {self.wall_s:.2f}s "
            f"{self.messages} msgs {self.bytes_received} B; titles={self.titles} "
            f"warnings={len(self.warnings)} errors={self.errors[:2]} "
            f"exceptions={self.exceptions[:2]}"
        )


def _element(kind: str, path: tuple[int, ...], proto: Any) -> Element:
    if kind == "heading":
        return Element(kind, path, proto.body, proto.tag)
    if kind == "markdown":
        return Element(kind, path, proto.body, type(proto).Type.Name(proto.element_type))
    if kind == "alert":
        return Element(kind, path, proto.body, type(proto).Format.Name(proto.format))
    if kind == "exception":
        return Element(kind, path, f"{proto.type}: {proto.message}", proto.type)
    if kind == "metric":
        return Element(kind, path, f"{proto.label}: {proto.body}", proto.delta)
    if kind in {"text", "code"}:
        return Element(kind, path, proto.body if kind == "text" else proto.code_text)
    if kind in WIDGET_KINDS:
        return Element(kind, path, getattr(proto, "label", ""), proto.id)
    return Element(kind, path)


def _user_key(element_id: str) -> str | None:
    # Streamlit's element ids are "$$ID-<hash>-<user key or None>".
    key = element_id.split("-", maxsplit=2)[-1]
    return None if key == "None" else key


def _widget_from_proto(kind: str, proto: Any, known: Widget | None, script_hash: str) -> Widget:
    """Build the widget's entry the way the frontend's widget manager updates its state."""
    w = Widget(
        id=proto.id,
        kind=kind,
        label=getattr(proto, "label", ""),
        key=_user_key(proto.id),
        form_id=getattr(proto, "form_id", ""),
        script_hash=script_hash,
    )
    set_value = bool(getattr(proto, "set_value", False))
    default: Any = None
    server_value: Any = None
    if kind in {"selectbox", "radio"}:
        w.options = list(proto.options)
        w.accept_new_options = bool(getattr(proto, "accept_new_options", False))
        if proto.HasField("default") and 0 <= proto.default < len(w.options):
            default = w.options[proto.default]
        server_value = proto.raw_value if proto.HasField("raw_value") else None
    elif kind == "multiselect":
        w.options = list(proto.options)
        w.max_selections = proto.max_selections
        w.accept_new_options = bool(proto.accept_new_options)
        default = [w.options[i] for i in proto.default if 0 <= i < len(w.options)]
        server_value = list(proto.raw_values)
    elif kind == "button_group":
        w.options = [o.content for o in proto.options]
        default = [w.options[i] for i in proto.default if 0 <= i < len(w.options)]
        server_value = list(proto.raw_values)
    elif kind == "slider":
        w.options = list(proto.options)
        if w.options:  # a select slider: indices by default, labels on the wire
            default = [w.options[int(i)] for i in proto.default if 0 <= int(i) < len(w.options)]
            server_value = list(proto.raw_value)
        else:
            w.minimum, w.maximum = proto.min, proto.max
            default = list(proto.default)
            server_value = list(proto.value)
    elif kind == "number_input":
        w.is_int = proto.data_type == type(proto).DataType.Value("INT")
        w.minimum = proto.min if proto.has_min else None
        w.maximum = proto.max if proto.has_max else None
        default = proto.default if proto.HasField("default") else None
        server_value = proto.value if proto.HasField("value") else None
        if w.is_int:
            default = None if default is None else int(default)
            server_value = None if server_value is None else int(server_value)
    elif kind == "checkbox":
        default, server_value = proto.default, proto.value
    elif kind in {"text_input", "text_area"}:
        default = proto.default if proto.HasField("default") else None
        server_value = proto.value if proto.HasField("value") else None
    elif kind == "date_input":
        default, server_value = list(proto.default), list(proto.value)
    if set_value:
        w.value = server_value
    elif known is not None and known.kind == kind:
        w.value = known.value
    else:
        w.value = default
    return w


# --- one browser tab ---------------------------------------------------------------------


class Session:
    """One browser tab on a Streamlit app: open pages, read them, change widgets.

    A Session is driven by one task at a time. `timeout` bounds every script run (and the
    connection set-up); a run past it raises RerunFailed with what had arrived.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 60.0,
        connect_timeout: float = 20.0,
        load_html: bool = True,
    ) -> None:
        parts = require_loopback(base_url)
        self.base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.load_html = load_html
        self.cookies: dict[str, str] = {}
        self.session_id = ""
        self.history: list[RunResult] = []
        self.query_string = ""
        self.page = ""
        self._ws: ClientConnection | None = None
        self._widgets: dict[str, Widget] = {}
        self._pages: dict[str, str] = {}  # url path -> page script hash
        self._main_script_hash = ""
        self._page_script_hash = ""
        self.bytes_received = 0
        self.messages = 0

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._ws is not None

    @property
    def widgets(self) -> list[Widget]:
        return list(self._widgets.values())

    def widget(self, key: str) -> Widget:
        for w in self._widgets.values():
            if key in {w.key, w.id}:
                return w
        raise KeyError(f"no widget {key!r}; keys: {[w.key for w in self._widgets.values()]}")

    # -- connection ----------------------------------------------------------------

    def _cookie_header(self) -> list[tuple[str, str]]:
        if not self.cookies:
            return []
        return [("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))]

    async def _get(self, path_and_query: str) -> HttpResponse:
        response = await http_get(
            self.base_url + path_and_query,
            timeout=self.connect_timeout,
            headers=self._cookie_header(),
        )
        for header in response.header_values("set-cookie"):
            name, _, value = header.split(";", 1)[0].partition("=")
            if name.strip():
                self.cookies[name.strip()] = value.strip()
        return response

    async def connect(self, path: str = "/", query: str = "") -> None:
        """Load the page's HTML and the health/host-config endpoints as the frontend does,
        then open the websocket with the XSRF token and the cookies they set."""
        if self._ws is not None:
            return
        if self.load_html:
            await self._get("/" + path.strip("/") + (f"?{query}" if query else ""))
        health = await self._get(HEALTH_PATH)
        if health.status != 200:
            raise ConnectionError(f"{self.base_url}{HEALTH_PATH} answered {health.status}")
        await self._get(HOST_CONFIG_PATH)
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        token = self.cookies.get(XSRF_COOKIE, "PLACEHOLDER_AUTH_TOKEN")
        self._ws = await connect(
            f"{scheme}://{parts.netloc}{parts.path}{STREAM_PATH}",
            subprotocols=[Subprotocol("streamlit"), Subprotocol(token)],
            origin=Origin(f"{parts.scheme}://{parts.netloc}"),
            additional_headers=self._cookie_header(),
            max_size=MAX_MESSAGE_BYTES,
            open_timeout=self.connect_timeout,
            proxy=None,  # loopback only: never through an HTTP(S)_PROXY of the environment
        )

    async def close(self) -> None:
        if self._ws is not None:
            ws, self._ws = self._ws, None
            with contextlib.suppress(WebSocketException, OSError, asyncio.TimeoutError):
                await asyncio.wait_for(ws.close(), timeout=5)

    # -- driving the app -------------------------------------------------------------

    async def open(
        self, path: str, query: str | Mapping[str, str | Sequence[str]] | None = None
    ) -> RunResult:
        """Open a page by its URL path ("/", "/growth", "growth?country=KAZ") and wait for
        its run. The first page of a tab is a page load; later ones navigate as the
        sidebar does (page script hash, the given query string)."""
        path, _, inline = path.partition("?")
        page = path.strip("/")
        qs = query_string(query) if query is not None else inline
        state = ClientState(query_string=qs)
        if self._ws is None:
            await self.connect(page, qs)
            state.page_name = page
        else:
            target = self._pages.get(page)
            if target:
                state.page_script_hash = target
            else:
                state.page_name = page
            kept = [w for w in self._widgets.values() if w.script_hash == self._main_script_hash]
            self._add_states(state, kept)
        self.page = page
        return await self._rerun(state)

    async def set_widget(self, key: str, value: Any) -> RunResult:
        """Change one widget like a user (by st.session_state key or id) and wait for the
        rerun: every widget's state is sent, this one with its new value."""
        widget = self.widget(key)
        widget.value = widget.check(value)
        return await self.rerun()

    async def click(self, key: str) -> RunResult:
        """Press a button: its trigger is sent with this rerun only."""
        widget = self.widget(key)
        if widget.kind not in TRIGGER_KINDS:
            raise ValueError(f"{key} is a {widget.kind}, not a button")
        return await self.rerun(trigger=widget.id)

    async def rerun(self, trigger: str | None = None) -> RunResult:
        """Rerun the current page with the current widget states (the 'R' key)."""
        state = ClientState(query_string=self.query_string, page_script_hash=self._page_script_hash)
        self._add_states(state, self._widgets.values(), trigger)
        return await self._rerun(state)

    def _add_states(
        self, state: ClientState, widgets: Iterable[Widget], trigger: str | None = None
    ) -> None:
        for w in widgets:
            ws = w.state(trigger=w.id == trigger)
            if ws is not None:
                state.widget_states.widgets.append(ws)

    async def _rerun(self, state: ClientState) -> RunResult:
        ws = self._ws
        if ws is None:
            raise RuntimeError("not connected: open a page first")
        url = f"{self.base_url}/{self.page}" + (
            f"?{state.query_string}" if state.query_string else ""
        )
        state.context_info.timezone = "UTC"
        state.context_info.timezone_offset = 0
        state.context_info.locale = "en-US"
        state.context_info.url = url
        state.context_info.is_embedded = False
        state.context_info.color_scheme = "light"
        result = RunResult(page=self.page, query_string=state.query_string)
        self.query_string = state.query_string
        msg = BackMsg()
        msg.rerun_script.CopyFrom(state)
        started = time.monotonic()
        tree: dict[tuple[int, ...], tuple[str, Any]] = {}
        seen: dict[str, Widget] = {}
        try:
            async with asyncio.timeout(self.timeout):
                await ws.send(msg.SerializeToString())
                while True:
                    data = await ws.recv()
                    raw = data if isinstance(data, bytes) else data.encode()
                    result.bytes_received += len(raw)
                    result.messages += 1
                    fmsg = ForwardMsg()
                    fmsg.ParseFromString(raw)
                    if self._handle(fmsg, result, tree, seen):
                        break
        except TimeoutError:
            result.status = "timeout"
        except ConnectionClosed as exc:
            result.status = "disconnected"
            log.debug("websocket closed: %s", exc)
            self._ws = None
        finally:
            result.wall_s = time.monotonic() - started
            result.query_string = self.query_string
            result.session_id = self.session_id
            result.page_script_hash = self._page_script_hash
            result.elements = [
                _element(kind, path, proto) for path, (kind, proto) in sorted(tree.items())
            ]
            self.bytes_received += result.bytes_received
            self.messages += result.messages
            self.history.append(result)
        if result.status == "finished":
            self._widgets = seen  # widgets not drawn in this run are forgotten
            result.widgets = list(seen.values())
            return result
        result.widgets = list(seen.values())
        raise RerunFailed(
            f"{self.base_url}/{result.page}: {result.status} after {result.wall_s:.1f}s "
            f"({result.messages} messages)",
            result,
        )

    def _handle(
        self,
        fmsg: ForwardMsg,
        result: RunResult,
        tree: dict[tuple[int, ...], tuple[str, Any]],
        seen: dict[str, Widget],
    ) -> bool:
        """Apply one ForwardMsg; True when the run is over."""
        kind = fmsg.WhichOneof("type")
        if kind == "new_session":
            new = fmsg.new_session
            if new.initialize.session_id:
                self.session_id = new.initialize.session_id
            self._main_script_hash = new.main_script_hash
            self._page_script_hash = new.page_script_hash
            tree.clear()  # a new run draws the page afresh
            seen.clear()
        elif kind == "delta":
            delta = fmsg.delta
            path = tuple(fmsg.metadata.delta_path)
            dkind = delta.WhichOneof("type")
            if dkind in {"new_element", "add_block"}:
                for stale in [p for p in tree if p[: len(path)] == path]:
                    del tree[stale]
            if dkind == "new_element":
                element = delta.new_element
                ekind = element.WhichOneof("type")
                if ekind:
                    proto = getattr(element, ekind)
                    tree[path] = (ekind, proto)
                    if ekind in WIDGET_KINDS:
                        script = fmsg.metadata.active_script_hash or self._page_script_hash
                        widget = _widget_from_proto(
                            ekind, proto, self._widgets.get(proto.id), script
                        )
                        seen[widget.id] = widget
        elif kind == "page_info_changed":
            self.query_string = fmsg.page_info_changed.query_string
        elif kind == "navigation":
            self._pages = {p.url_pathname: p.page_script_hash for p in fmsg.navigation.app_pages}
            if fmsg.navigation.page_script_hash:
                self._page_script_hash = fmsg.navigation.page_script_hash
        elif kind == "page_not_found":
            result.page_not_found = True
        elif kind == "session_event":
            event = fmsg.session_event
            if event.WhichOneof("type") == "script_compilation_exception":
                exc = event.script_compilation_exception
                tree[(99, len(tree))] = ("exception", exc)
        elif kind == "script_finished":
            status = fmsg.script_finished
            if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                result.reruns += 1
                return False
            result.status = (
                "compile_error" if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR else "finished"
            )
            return True
        return False
