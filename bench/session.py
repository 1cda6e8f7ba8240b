"""One browser tab without a browser: Streamlit's websocket and its own protobufs.

    with Session("http://127.0.0.1:8501") as tab:
        run = tab.open("growth", "country=KGZ")  # run.seconds, run.texts("title"), ...
        run = tab.change(run.widget("growth:country"), "Kazakhstan (KAZ)")

A `Session` opens `/_stcore/stream` as the frontend does (subprotocol `streamlit`, a
same-origin `Origin`), asks for a page by URL path and query string (`BackMsg.rerun_script`)
and reads `ForwardMsg`s until `script_finished` (after `st.rerun()`, the next one). A
change sends that widget's state only: Streamlit keeps the others' from the previous run.
What a run drew is kept by `delta_path`, as in the frontend: titles, alerts, exceptions
and the widgets a user could change. No static files, no message cache; loopback only.
"""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websocket import WebSocketException, create_connection

LOOPBACK = ["127.0.0.1", "localhost", "::1"]
ALERTS = {1: "error", 2: "warning", 3: "info", 4: "success"}  # Alert.Format


class NotLoopbackError(ValueError):
    """A URL that is not on 127.0.0.1, localhost or ::1."""


class RunFailed(RuntimeError):
    """A script run that did not finish: timed out, or the server closed the socket."""


@dataclass
class Widget:
    """A widget a user could change: its id, key, options (labels) and range."""

    id: str
    kind: str  # selectbox, radio, multiselect, slider (numbers), number_input
    key: str  # its st.session_state key, e.g. "growth:country" (its id ends with it)
    options: list[str] = field(default_factory=list)
    minimum: float = 0.0
    maximum: float = 0.0
    max_selections: int = 0
    is_int: bool = False

    def state(self, value: Any) -> WidgetState:
        """The WidgetState the frontend sends for this value (labels for choices)."""
        state = WidgetState(id=self.id)
        if self.kind in {"selectbox", "radio"}:
            state.string_value = str(value)
        elif self.kind == "multiselect":
            state.string_array_value.data.extend(str(v) for v in value)
        elif self.kind == "slider":
            state.double_array_value.data.extend(float(v) for v in value)
        elif self.is_int:
            state.int_value = int(value)
        else:
            state.double_value = float(value)
        return state


@dataclass
class Run:
    """What one script run drew (by delta path: (kind, text) or a Widget), and its cost."""

    page: str
    seconds: float = 0.0
    bytes: int = 0
    query_string: str = ""
    drawn: dict[tuple[int, ...], tuple[str, str] | Widget] = field(default_factory=dict)

    def texts(self, kind: str) -> list[str]:
        """The texts of one kind: title, error, warning, info, success, exception."""
        return [e[1] for e in self.drawn.values() if isinstance(e, tuple) and e[0] == kind]

    @property
    def widgets(self) -> list[Widget]:
        return [e for e in self.drawn.values() if isinstance(e, Widget)]

    def widget(self, key: str) -> Widget:
        return next(w for w in self.widgets if w.key == key)

    def problems(self) -> list[str]:
        """What a user would call broken: an exception, an error alert, no title."""
        found = [f"{k}: {t}" for k in ("exception", "error") for t in self.texts(k)]
        return found if self.texts("title") else [*found, "no title"]


def _drawn(element: Any) -> tuple[str, str] | Widget | None:
    """A title, an alert, an exception or a widget a user could change (a choice with
    options, a slider of numbers, a bounded number), as (kind, text) or a Widget."""
    kind = element.WhichOneof("type") or ""
    proto: Any = getattr(element, kind) if kind else None
    if kind == "heading" and proto.tag == "h1":
        return "title", proto.body
    if kind in {"alert", "exception"}:
        text = proto.body if kind == "alert" else f"{proto.type}: {proto.message}"
        return ALERTS.get(proto.format, "alert") if kind == "alert" else kind, text
    if kind in {"selectbox", "radio", "multiselect"} and proto.options:
        limit = getattr(proto, "max_selections", 0)
        return Widget(
            proto.id, kind, proto.id.split("-", 2)[-1], list(proto.options), max_selections=limit
        )
    if (kind == "slider" and not proto.options) or (
        kind == "number_input" and proto.has_min and proto.has_max
    ):
        is_int = kind == "number_input" and proto.data_type == proto.DataType.Value("INT")
        return Widget(
            proto.id, kind, proto.id.split("-", 2)[-1], [], proto.min, proto.max, is_int=is_int
        )
    return None


class Session:
    """One tab on a Streamlit app; `timeout` bounds each script run, in seconds."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK:
            raise NotLoopbackError(f"refusing {url!r}: only http://127.0.0.1 or localhost")
        self.origin, self.timeout = f"http://{parts.netloc}", timeout
        self.socket = create_connection(
            f"ws://{parts.netloc}/_stcore/stream",
            subprotocols=["streamlit"],
            origin=self.origin,
            timeout=timeout,
            http_no_proxy=LOOPBACK,  # never through a proxy of the environment
        )
        self.page = self.query_string = ""

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Say goodbye as a closing tab does, without waiting for the answer (the
        library's `close` waits, and swallows every exception, a load tool's stop too)."""
        with contextlib.suppress(OSError, WebSocketException):
            self.socket.send_close()
        self.socket.shutdown()

    def open(self, page: str = "", query_string: str = "") -> Run:
        """Open a page by its URL path ("": the default page), as a link does."""
        self.page, self.query_string = page, query_string.removeprefix("?")
        return self._run()

    def change(self, widget: Widget, value: Any) -> Run:
        """Change one widget of the current page, as a user does."""
        return self._run(widget.state(value))

    def _run(self, state: WidgetState | None = None) -> Run:
        message = BackMsg()
        rerun = message.rerun_script
        rerun.query_string, rerun.page_name = self.query_string, self.page
        rerun.context_info.url = f"{self.origin}/{self.page}?{self.query_string}"
        rerun.context_info.timezone = "UTC"
        if state is not None:
            rerun.widget_states.widgets.append(state)
        run, started = Run(self.page), time.perf_counter()
        try:
            self.socket.send_bytes(message.SerializeToString())
            while not self._read(self.socket.recv(), run):
                if time.perf_counter() - started > self.timeout:
                    raise TimeoutError
        except (TimeoutError, OSError, WebSocketException) as error:
            raise RunFailed(f"/{self.page}: the run did not finish ({error!r})") from error
        run.seconds, run.query_string = time.perf_counter() - started, self.query_string
        return run

    def _read(self, data: str | bytes, run: Run) -> bool:
        """Apply one ForwardMsg to the run; True at the end of the run."""
        raw = data if isinstance(data, bytes) else data.encode()
        run.bytes += len(raw)
        message = ForwardMsg.FromString(raw)
        kind = message.WhichOneof("type")
        if kind == "new_session":  # a run starts: the page is drawn afresh
            run.drawn.clear()
        elif kind == "delta" and message.delta.WhichOneof("type") in {"new_element", "add_block"}:
            path = tuple(message.metadata.delta_path)  # replaces all that was drawn below
            run.drawn = {p: e for p, e in run.drawn.items() if p[: len(path)] != path}
            if message.delta.HasField("new_element") and (e := _drawn(message.delta.new_element)):
                run.drawn[path] = e
        elif kind == "session_event" and message.session_event.HasField(
            "script_compilation_exception"
        ):
            error = message.session_event.script_compilation_exception
            run.drawn[(99,)] = ("exception", f"{error.type}: {error.message}")
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "script_finished":
            return message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
        return False


def a_change(run: Run, rng: random.Random) -> tuple[Widget, Any] | None:
    """A change a user could make on this page: one of its widgets, a new value."""
    if not run.widgets:
        return None
    w = rng.choice(run.widgets)
    if w.kind in {"selectbox", "radio"}:
        return w, rng.choice(w.options)
    if w.kind == "multiselect":
        return w, rng.sample(
            w.options, rng.randint(1, min(3, len(w.options), w.max_selections or 3))
        )
    start = rng.randint(int(w.minimum), int(w.maximum))
    if w.kind == "number_input":
        return w, start
    return w, (start, rng.randint(start, int(w.maximum)))
