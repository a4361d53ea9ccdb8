"""Connection hygiene for `classic2arm serve`: what a client may hold and for how long.

uvicorn's own settings do part of it (`limit_concurrency`: a 503 beyond the connection limit;
`timeout_keep_alive`: idle kept-alive connections closed; h11's `h11_max_incomplete_event_size`: header
bytes, when h11 is the protocol). The rest, which neither uvicorn nor httptools offer, is here:

- `GuardMixin`, mixed into uvicorn's HTTP protocol (see `tls.protocol_class`): a request's headers must
  arrive within `header_timeout` of the connection opening or the previous response (else 408 and close,
  or a plain close when nothing came); at most `max_header_bytes` and `max_headers` of them (else 431 and
  close); a response given before its request's body was read closes the connection (the rest of the body
  is never waited for).
- `BodyGuard`, an ASGI middleware: a request body must arrive within `body_timeout` of the app first
  asking for it, and be at most `max_body_bytes` (else 408 / 413 in the surface's error format, and the
  connection is closed). It streams: nothing is buffered ahead of the route, which checks the caller and
  its own smaller limit (ARM 4 MB, ASM and admin 1 MB) first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from .limit_settings import Limits

if TYPE_CHECKING:  # Starlette is imported where it is used
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("classic2arm.limits")


def _plain(status: int, reason: str, text: str) -> bytes:
    body = text.encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode() + body


class _TooLarge(Exception):
    """Raised from a parser callback to stop parsing a request whose headers are over the limit."""


class GuardMixin:
    """Header deadline and header limits for a uvicorn HTTP protocol (httptools or h11)."""

    limits: Limits = Limits()
    transport: Any
    cycle: Any
    pipeline: Any
    loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._header_timer: asyncio.TimerHandle | None = None
        self._seen: Any = None  # the request cycle whose headers were last complete
        self._pending = 0  # bytes received while waiting for headers
        self._header_bytes = 0
        self._header_count = 0
        self._refused = False
        self._arm_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_headers()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm_headers(self) -> None:
        self._cancel_headers()
        self._pending = self._header_bytes = self._header_count = 0
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._headers_late)

    def _cancel_headers(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._pending:  # a request began and did not finish its headers in time
            self._refuse(408, "Request Timeout", "The request headers did not arrive in time.")
        else:  # nothing came: an idle connection is just closed
            self.transport.close()

    def _refuse(self, status: int, reason: str, text: str) -> None:
        self._refused = True
        self._cancel_headers()
        if not self.transport.is_closing():
            self.transport.write(_plain(status, reason, text))
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        waiting = self._header_timer is not None
        if waiting:
            self._pending += len(data)
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not None and self.cycle is not self._seen:  # a request's headers are complete
            self._seen = self.cycle
            self._cancel_headers()
        elif waiting and self._pending > self.limits.max_header_bytes and not self._refused:
            self._refuse(431, "Request Header Fields Too Large", "The request headers are too large.")

    # httptools parser callbacks (h11 bounds header bytes itself: h11_max_incomplete_event_size)
    def on_url(self, url: bytes) -> None:
        self._count(len(url), 0)
        super().on_url(url)  # type: ignore[misc]

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4, 1)
        super().on_header(name, value)  # type: ignore[misc]

    def _count(self, size: int, headers: int) -> None:
        self._header_bytes += size
        self._header_count += headers
        if self._header_bytes > self.limits.max_header_bytes or self._header_count > self.limits.max_headers:
            raise _TooLarge  # the parser turns it into its error: send_400_response below

    def send_400_response(self, msg: str) -> None:
        if self._header_bytes > self.limits.max_header_bytes or self._header_count > self.limits.max_headers:
            self._refuse(431, "Request Header Fields Too Large",
                         f"At most {self.limits.max_headers} request headers of {self.limits.max_header_bytes} "
                         "bytes in all are accepted.")
            return
        super().send_400_response(msg)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.more_body and not self.pipeline:
            self.transport.close()  # answered before its body was read: the rest is not waited for
            return
        if not self.pipeline:
            self._arm_headers()


# --------------------------------------------------------------------------- bodies


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False


def _error(scope: Scope, status: int, code: str, message: str) -> Response:
    """In the format of the surface the path belongs to (ARM JSON, ASM XML, admin JSON), closing the
    connection: the rest of the body is not read."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    from .arm.responses import error as arm_error
    from .asm.guard import error_response as asm_error

    path = str(scope.get("path", "")).lower()
    if path.startswith(("/subscriptions", "/providers")):
        response = arm_error(Request(scope), status, code, message)
    elif path.startswith("/admin"):
        response = JSONResponse({"error": {"code": code, "message": message}}, status)
    else:
        response = asm_error(status, code, message)
    response.headers["connection"] = "close"
    return response


class BodyGuard:
    """Request bodies: a deadline from the app's first read, and a size backstop (see the module doc)."""

    def __init__(self, app: ASGIApp, limits: Limits = Limits()) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.requests import ClientDisconnect

        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        limits = self.limits  # a declared length is each route's to judge, in its own error format
        loop = asyncio.get_running_loop()
        state: dict[str, Any] = {"deadline": None, "size": 0, "cut": None, "started": False}

        async def guarded_receive() -> Message:
            if state["cut"] is not None:
                return {"type": "http.disconnect"}
            if state["deadline"] is None:
                state["deadline"] = loop.time() + limits.body_timeout
            try:
                async with asyncio.timeout_at(state["deadline"]):
                    message = await receive()
            except TimeoutError:
                state["cut"] = (408, "RequestTimeout",
                                f"The request body did not arrive within {limits.body_timeout:g} seconds.")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                state["size"] += len(message.get("body", b""))
                if state["size"] > limits.max_body_bytes:
                    state["cut"] = (413, "RequestEntityTooLarge",
                                    f"The request body is larger than {limits.max_body_bytes} bytes.")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if state["cut"] is not None and not state["started"]:
                return  # the app's answer to a body it never got; ours goes instead
            state["started"] = True
            await send(message)

        with contextlib.suppress(ClientDisconnect):  # a body that never came: nothing to answer the app's way
            await self.app(scope, guarded_receive, guarded_send)
        if state["cut"] is not None and not state["started"]:
            status, code, message = state["cut"]
            log.info("%s %s: %s", scope.get("method"), scope.get("path"), message)
            await _error(scope, status, code, message)(scope, receive, send)
