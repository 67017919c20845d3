"""Faults between a client and a server, on loopback: a TCP proxy that reads the HTTP requests going
through it, to count, slow, stall, cut or damage their bodies. (The store killed and started again
is harness.store_process.StoreProcess.)"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

PIECE = 16 * 1024  # the proxy forwards request bodies in pieces of at most this many bytes


@dataclass
class Seen:
    """One request as the proxy forwarded it."""

    method: str
    path: str
    headers: dict[str, str]
    length: int  # Content-Length
    forwarded: int = 0  # body bytes passed on to the store
    cut: bool = False  # the proxy cut the connection in the middle of this body
    damaged: int | None = None  # the body offset of the byte the proxy flipped

    @property
    def whole(self) -> bool:
        return self.forwarded == self.length and not self.cut


@dataclass
class Proxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:upstream. Responses pass untouched; requests are
    parsed (HTTP/1.1, Content-Length bodies: what XMLHttpRequest sends) so that their bodies can be

    - cut: when the body bytes forwarded so far, all connections together, reach the next multiple
      of `cut_every`, both sides of the connection are closed there, in the middle of a request;
    - slowed to `rate` bytes a second;
    - stalled: when the body bytes forwarded so far reach `stall_at`, the proxy stops reading that
      request's body and forwards nothing more on its connection, which it leaves open (once);
    - damaged: `damage(seen)` returning a body offset makes the proxy flip that byte.
    """

    upstream: int
    cut_every: int | None = None
    rate: float | None = None
    damage: Callable[[Seen], int | None] | None = None
    stall_at: int | None = None
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    body_bytes: int = 0
    cuts: int = 0
    stalled: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self, method: str | None = None) -> list[Seen]:
        return [s for s in list(self.seen) if method is None or s.method == method]

    def patched(self, after: int = 0) -> int:
        """PATCH body bytes forwarded in the requests from number `after` on."""
        return sum(s.forwarded for s in list(self.seen)[after:] if s.method == "PATCH")

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _connection(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            store_reader, store_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:  # the store is down: the browser sees the connection fail, as without a proxy
            client_writer.transport.abort()
            return
        answers = asyncio.ensure_future(self._pipe(store_reader, client_writer))
        try:
            while True:
                head = await client_reader.readuntil(b"\r\n\r\n")
                seen = _parse(head)
                self.seen.append(seen)
                store_writer.write(head)
                if not await self._body(seen, client_reader, store_writer):
                    client_writer.transport.abort()
                    store_writer.transport.abort()
                    return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
            pass
        finally:
            store_writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(answers, 5)

    async def _body(self, seen: Seen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Forward one request's body; False when the proxy cut the connection."""
        flip = self.damage(seen) if self.damage is not None and seen.length else None
        while seen.forwarded < seen.length:
            piece = bytearray(await reader.readexactly(min(PIECE, seen.length - seen.forwarded)))
            if flip is not None and seen.forwarded <= flip < seen.forwarded + len(piece):
                piece[flip - seen.forwarded] ^= 0xFF
                seen.damaged = flip
            if self.cut_every:
                room = self.cut_every - self.body_bytes % self.cut_every
                if len(piece) >= room:
                    writer.write(bytes(piece[:room]))
                    await writer.drain()
                    seen.forwarded += room
                    self.body_bytes += room
                    seen.cut = True
                    self.cuts += 1
                    return False
            writer.write(bytes(piece))
            await writer.drain()
            seen.forwarded += len(piece)
            self.body_bytes += len(piece)
            if self.stall_at is not None and not self.stalled and self.body_bytes >= self.stall_at:
                self.stalled.append(seen)
                await asyncio.Event().wait()  # until the proxy is closed: the client must give up
            if self.rate:
                await asyncio.sleep(len(piece) / self.rate)
        return True


def _parse(head: bytes) -> Seen:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("the proxy forwards Content-Length bodies only")
    return Seen(method, path, headers, int(headers.get("content-length", "0")))


@contextlib.contextmanager
def run_proxy(upstream: int, **options: Any) -> Iterator[Proxy]:
    proxy = Proxy(upstream, **options)
    # A loop of its own in a thread of its own: Playwright's sync API runs one in the test's thread.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def serve() -> asyncio.Server:
        server = await asyncio.start_server(proxy._connection, "127.0.0.1", 0)
        proxy.port = server.sockets[0].getsockname()[1]
        return server

    server = asyncio.run_coroutine_threadsafe(serve(), loop).result(10)
    try:
        yield proxy
    finally:
        async def close() -> None:
            server.close()
            loop.set_exception_handler(lambda loop, context: None)  # connections cut short by the end
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
