"""An HTTP/1.1 server that reads each request's body and discards it: `python -m bench.sink PORT`.

The upload benchmark sends the same file to it from curl and from the browser, to measure what
sending the bytes costs the client itself, with as little server work behind it as can be: the
bytes are counted as the event loop hands them over, never copied or awaited piece by piece. Any
method (preflights included) gets `204 No Content` with CORS headers that allow any origin, method
and header; the connection stays open for the next request.
"""

from __future__ import annotations

import asyncio
import sys
from typing import cast

ANSWER = (b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: *\r\n"
          b"Access-Control-Allow-Headers: *\r\nAccess-Control-Max-Age: 600\r\nContent-Length: 0\r\n\r\n")


class Discard(asyncio.Protocol):
    transport: asyncio.Transport  # from connection_made on, which asyncio calls before any data_received

    def __init__(self) -> None:
        self.head = b""  # the request head read so far, while no body is being read
        self.left = 0  # body bytes still to come

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP server's transport: asyncio's is a Transport, uvloop's has its methods without
        # subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        while data:
            if self.left:
                taken = min(self.left, len(data))
                self.left -= taken
                data = data[taken:]
                if not self.left:
                    self.transport.write(ANSWER)
                continue
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data, self.head = self.head[:end], self.head[end + 4:], b""
            self.left = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                              if line.lower().startswith(b"content-length:")), 0)
            if not self.left:
                self.transport.write(ANSWER)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Discard, "127.0.0.1", port)
    await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(int(sys.argv[1])))
    else:
        uvloop.run(serve(int(sys.argv[1])))
