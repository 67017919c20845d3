"""What keeps slow or greedy clients from holding the store: a bound on the time and size of a
request's headers and on idle connections (the HTTP protocol the server runs), a minimum rate for
request bodies, and a 503 rather than a 500 when the process runs out of descriptors or disk space
(ASGI middleware). The limits are the config's `ConnectionLimits`."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
from collections import deque
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .config import ConnectionLimits

log = logging.getLogger("pickstore")

RETRY_AFTER_SECONDS = 10
LINGER_SECONDS = 2.0  # a refused connection is kept this long to drop what its client still sends
# What a request can run out of for a while: it may well pass once other requests have ended.
SHORTAGES = {errno.EMFILE: "open files", errno.ENFILE: "open files", errno.ENOSPC: "disk space"}


# --- the connection: headers and idle time ------------------------------------------------------------


def _raw_answer(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"code": status, "message": message}).encode() if message else b""
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def guarded_http(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, which bounds neither the size of a request's headers nor the
    time they take (its keep-alive timer stops at the first byte), with both bounds: a request's
    line and headers must come within `header_timeout` seconds of the connection or of the last
    answer, and within `max_header_size` bytes (else 431); an idle connection is closed after
    `keep_alive_timeout` seconds."""

    class GuardedHttpTools(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.timeout_keep_alive = limits.keep_alive_timeout  # type: ignore[assignment]
            self._awaiting_headers = True
            self._header_bytes = 0
            self._header_timer: asyncio.TimerHandle | None = None
            self._parsed_header_bytes = 0  # of the request line's target and the headers, as parsed
            self._refused = False
            self._too_large = f"the request's line and headers are over {limits.max_header_size} bytes"

        def _arm_header_timer(self) -> None:
            self._cancel_header_timer()
            self._header_timer = self.loop.call_later(limits.header_timeout, self._headers_too_slow)

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _between_answers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _refuse(self, status: int, reason: str, message: str) -> None:
            """Answer, then read and drop what the client still sends for a while before closing:
            closing on unread bytes would reset the connection, and the client lose the answer."""
            self._refused = True
            if self.transport.is_closing():
                return
            if not self._between_answers():  # an answer is under way: no second one in the middle of it
                self.transport.close()
                return
            self.transport.write(_raw_answer(status, reason, message))
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self._awaiting_headers:
                if self._header_bytes:
                    self._refuse(408, "Request Timeout", f"the request's headers did not come within {limits.header_timeout:g} s")
                elif not self.transport.is_closing():
                    self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return  # what follows a refused request
            if self._awaiting_headers:
                self._header_bytes += len(data)
            super().data_received(data)
            # Bytes that completed the headers may carry the body's first bytes too: only headers
            # still incomplete are measured.
            if self._awaiting_headers and self._header_bytes > limits.max_header_size:
                self._refuse(431, "Request Header Fields Too Large", self._too_large)

        def on_message_begin(self) -> None:
            self._parsed_header_bytes = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._parsed_header_bytes += len(url)
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._parsed_header_bytes += len(name) + len(value) + 4  # ": " and CRLF
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._awaiting_headers = False
            self._header_bytes = 0
            self._cancel_header_timer()
            if self._parsed_header_bytes > limits.max_header_size:  # headers that came whole in one read
                self._refuse(431, "Request Header Fields Too Large", self._too_large)
                return
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if self._refused:
                return
            super().on_message_complete()
            self._awaiting_headers = True
            self._header_bytes = 0

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # The next request's time starts now (the app's time answering this one is not the client's).
            if self._awaiting_headers and not self.transport.is_closing():
                self._arm_header_timer()

    return GuardedHttpTools


# --- request bodies: a minimum rate ------------------------------------------------------------------


class _BodyMeter:
    """The bytes of a body against the time spent waiting for them (time the app spends elsewhere
    is not the client's): too slow once the last `window` seconds of waiting brought fewer than
    `rate * window` bytes, the first window being a grace period. Arrivals are kept in buckets of
    window/32, each at the time of its last bytes."""

    def __init__(self, rate: float, window: float) -> None:
        self.rate = rate
        self.window = window
        self.bucket = window / 32
        self.waited = 0.0  # seconds spent waiting for the body
        self.received = 0
        self._arrivals: deque[list[float]] = deque([[0.0, 0.0, 0.0]])  # [first time, last time, bytes so far]

    def arrived(self, size: int) -> None:
        self.received += size
        last = self._arrivals[-1]
        if self.waited - last[0] < self.bucket:
            last[1], last[2] = self.waited, self.received
        else:
            self._arrivals.append([self.waited, self.waited, self.received])

    def time_left(self) -> float:
        """Seconds of waiting, without another byte, until the body is too slow."""
        enough_before = self.received - self.rate * self.window
        arrivals = self._arrivals
        while len(arrivals) > 1 and arrivals[1][2] <= enough_before:
            arrivals.popleft()
        # The first arrival after which fewer than rate * window bytes came: once it is `window`
        # seconds old, the last window is too slow.
        first = arrivals[0] if arrivals[0][2] > enough_before else arrivals[1]
        return max(self.window, first[1] + self.window) - self.waited


class BodyRate:
    """Cuts a request whose body comes slower than `min_rate` bytes/s averaged over `window`
    seconds of waiting for it: the app reads a disconnect, and the connection closes after the
    answer. A tus upload keeps the bytes that came, and its answer says the offset reached (and a
    creation its Location), so that the client goes on from there; a whole file is not stored, and
    the client gets 408."""

    def __init__(self, app: ASGIApp, min_rate: float, window: float) -> None:
        self.app = app
        self.min_rate = min_rate
        self.window = window

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.min_rate <= 0:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        meter = _BodyMeter(self.min_rate, self.window)
        body_done = cut = started = False

        async def metered_receive() -> Message:
            nonlocal body_done, cut
            if cut:
                return {"type": "http.disconnect"}
            if body_done:
                return await receive()
            while True:
                began = loop.time()
                try:
                    # uvicorn's receive only waits for an event: cancelling it loses nothing.
                    async with asyncio.timeout(meter.time_left()):
                        message = await receive()
                except TimeoutError:
                    meter.waited += loop.time() - began
                    if meter.time_left() <= 0:
                        cut = True
                        return {"type": "http.disconnect"}
                    continue
                meter.waited += loop.time() - began
                if message["type"] == "http.request":
                    meter.arrived(len(message.get("body", b"")))
                    body_done = not message.get("more_body", False)
                else:
                    body_done = True
                return message

        async def checked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if cut:  # the rest of the body is not read: the connection cannot serve another request
                    MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        try:
            await self.app(scope, metered_receive, checked_send)
        except Exception:
            if not cut:
                raise
        if cut:
            log.warning("cut %s %s: its body came slower than %g bytes/s", scope["method"], scope["path"], self.min_rate)
        if cut and not started:
            answer = JSONResponse(
                {"code": 408, "message": (
                    f"the request's body came slower than {self.min_rate:g} bytes/s over {self.window:g} s, and the"
                    " store stopped reading it: nothing was stored"
                )},
                status_code=408, headers={"Connection": "close"},
            )
            await answer(scope, receive, send)


# --- resources: 503, not 500 ---------------------------------------------------------------------------


def shortage(exc: BaseException) -> str | None:
    """What the process ran out of, when `exc` (or what caused it) is an OSError saying so."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        error = todo.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in SHORTAGES:
            return SHORTAGES[error.errno]
        if isinstance(error, BaseExceptionGroup):
            todo.extend(error.exceptions)
        todo.extend(e for e in (error.__cause__, error.__context__) if e is not None)
    return None


class OutOfResources:
    """A request that fails because the process has no descriptor or the disk no room left gets 503
    with Retry-After rather than a 500: it may pass once other requests have ended. What the store
    held before the request stays (each writer aborts or keeps its upload's offset on the way)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            short = shortage(exc)
            if short is None or started:
                raise
            log.warning("%s %s: out of %s (%s); answered 503", scope["method"], scope["path"], short, exc)
            answer = JSONResponse(
                {"code": 503, "message": f"the store is out of {short} for the moment: try again in a while"},
                status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"},
            )
            await answer(scope, receive, send)
