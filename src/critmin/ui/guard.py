"""What a visitor's browser may ask of the server besides running the pages.

Every visitor speaks Streamlit's websocket protocol, and some of its messages act on
the whole process: `clear_cache` empties every `st.cache_data` and `st.cache_resource`
(the DuckDB connection included) for all sessions, whether or not the sender ever
entered the demo's password. `install()`, called by app.py, lets through only the
messages a visitor's pages need (running a page, heartbeats, stopping a run, fetching
a download or upload URL) and logs the others once per session with the client's
hashed address (`critmin.ui.access.client_tag`). A maintainer clears caches by
restarting the server.

It also carries the reason a download was refused (`critmin.ui.downloads`) to the
message under the button, where Streamlit would show "Failed to generate file".

Both hook into Streamlit's own classes (`AppSession.handle_backmsg` and
`DeferredFileHandler.handle`, streamlit 1.67); tests/test_guard.py pins the behaviour
relied on through a real server, so an upgrade that changes them fails there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import BackendOperationResponse, DeferredFileResponsePayload
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.backend_operation_handler import DeferredFileHandler

log = logging.getLogger(__name__)

# The back messages a visitor's pages need; everything else is dropped.
ALLOWED = frozenset(
    {
        "rerun_script",
        "app_heartbeat",
        "stop_script",
        "backend_operation_request",  # a deferred download, a table's lazy chunks
        "file_urls_request",  # an upload's target
    }
)

_installed = False
_lock = threading.Lock()
_logged: set[tuple[str, str]] = set()  # (session, message type) already logged
_LOGGED_MAX = 10_000


def install() -> None:
    """Put both guards in place, once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        _guard_back_messages()
        _explain_refused_downloads()
        _installed = True


def _guard_back_messages() -> None:
    handle = AppSession.handle_backmsg

    def guarded(self: AppSession, msg: BackMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind in ALLOWED:
            handle(self, msg)
            return
        _log_dropped(self.id, str(kind))

    guarded.__wrapped__ = handle  # type: ignore[attr-defined]
    AppSession.handle_backmsg = guarded  # type: ignore[method-assign]


def _log_dropped(session: str, kind: str) -> None:
    from critmin.ui.access import client_address, client_tag

    with _lock:
        first = (session, kind) not in _logged
        if first:
            if len(_logged) > _LOGGED_MAX:
                _logged.clear()
            _logged.add((session, kind))
    if first:
        log.warning(
            "ignored a %r message from session %s, client %s (not allowed for visitors)",
            kind,
            session[:8],
            client_tag(client_address(session)),
        )


def _explain_refused_downloads() -> None:
    from critmin.ui.downloads import DownloadRefused

    async def handle(
        self: DeferredFileHandler, request: Any, session_id: str
    ) -> BackendOperationResponse:
        file_id = request.deferred_file.file_id
        try:
            url = await asyncio.to_thread(self._get_media_file_mgr().execute_deferred, file_id)
        except Exception as error:
            cause = error.__cause__
            if isinstance(cause, DownloadRefused):
                return BackendOperationResponse(request_id=request.request_id, error_msg=str(cause))
            log.exception("a download could not be built (file %s)", file_id)
            return BackendOperationResponse(
                request_id=request.request_id, error_msg="Failed to generate file for download"
            )
        return BackendOperationResponse(
            request_id=request.request_id, deferred_file=DeferredFileResponsePayload(url=url)
        )

    DeferredFileHandler.handle = handle  # type: ignore[method-assign]
