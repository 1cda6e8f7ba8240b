"""A browser tab that also clicks download buttons and sends any message it likes: the
`streamlit_wire.Session` (a websocket client) plus what a careless or hostile
visitor's client can do over Streamlit's websocket (streamlit 1.67's protocol):

- `download(label)`: what the frontend does when a download button made with a callable
  is clicked: a `backend_operation_request` with the button's `deferred_file_id`, the
  answer (a URL, or an error message shown under the button), then a GET of the URL;
- `send(msg)`: any BackMsg, such as `clear_cache`, without waiting for an answer.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit_wire import RunResult, Session, http_get

_request_ids = itertools.count(1)


@dataclass(frozen=True)
class Answer:
    """What a click on a download button gave."""

    body: bytes | None  # the file, or None when refused
    message: str  # the error shown under the button ("" when the file came)
    seconds: float


class Visitor(Session):
    """A Session that remembers the download buttons of its last run (label -> the
    deferred file id a click asks for)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buttons: dict[str, str] = {}
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None

    def _handle(
        self,
        fmsg: ForwardMsg,
        result: RunResult,
        tree: dict[tuple[int, ...], tuple[str, Any]],
        seen: dict[str, Any],
    ) -> bool:
        if fmsg.WhichOneof("type") == "new_session":
            self.buttons = {}
        if fmsg.WhichOneof("type") == "delta" and fmsg.delta.WhichOneof("type") == "new_element":
            element = fmsg.delta.new_element
            if element.WhichOneof("type") == "download_button":
                button = element.download_button
                if button.deferred_file_id:
                    self.buttons[button.label] = button.deferred_file_id
        return super()._handle(fmsg, result, tree, seen)

    async def send(self, msg: BackMsg) -> None:
        if self._ws is None:
            raise RuntimeError("not connected: open a page first")
        await self._ws.send(msg.SerializeToString())

    async def download(self, label: str, timeout: float = 180.0) -> Answer:
        """Click the download button `label` of the last run, as the frontend does.
        Several clicks may be awaited at once (do not open a page meanwhile).

        Streamlit 1.67 keeps a file made at a click unreferenced, and another session's
        run that ends in between may remove it before the browser fetches it (HTTP 404):
        the user clicks again, and so does this (the file is cached, the second click is
        served at once)."""
        for _ in range(3):
            answer = await self._click(label, timeout)
            if answer is not None:
                return answer
        raise AssertionError(f"{label}: the file was removed before it could be fetched, 3 times")

    async def _click(self, label: str, timeout: float) -> Answer | None:
        if self._ws is None:
            raise RuntimeError("not connected: open a page first")
        msg = BackMsg()
        request = msg.backend_operation_request
        request.request_id = f"visitor-{next(_request_ids)}"
        request.session_id = self.session_id
        request.deferred_file.file_id = self.buttons[label]
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request.request_id] = answer
        started = time.monotonic()
        async with asyncio.timeout(timeout):
            await self._ws.send(msg.SerializeToString())
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read_answers())
            response = await answer
            if response.error_msg:
                return Answer(None, response.error_msg, time.monotonic() - started)
            url = response.deferred_file.url
            got = await http_get(
                self.base_url + url if url.startswith("/") else url,
                timeout=timeout,
                headers=self._cookie_header(),
            )
            if got.status == 404:
                return None
            assert got.status == 200, (got.status, url)
            return Answer(got.body, "", time.monotonic() - started)

    async def _read_answers(self) -> None:
        """Hand each backend_operation_response to the click that asked for it, until
        no click waits."""
        assert self._ws is not None
        while self._pending:
            data = await self._ws.recv()
            fmsg = ForwardMsg()
            fmsg.ParseFromString(data if isinstance(data, bytes) else data.encode())
            if fmsg.WhichOneof("type") == "backend_operation_response":
                response = fmsg.backend_operation_response
                waiting = self._pending.pop(response.request_id, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(response)
