"""An HTTP/1.1 server that reads each request's body and discards it: `python -m bench.sink PORT`.

The upload benchmark sends the same file to it from curl and from the browser, to measure what
sending the bytes costs the client itself, with no server work behind it. Any method (preflights
included) gets `204 No Content` with CORS headers that allow any origin, method and header; the
connection stays open for the next request.
"""

from __future__ import annotations

import asyncio
import sys

MiB = 1024 * 1024
ANSWER = (b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: *\r\n"
          b"Access-Control-Allow-Headers: *\r\nAccess-Control-Max-Age: 600\r\nContent-Length: 0\r\n\r\n")


async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            left = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                         if line.lower().startswith(b"content-length:")), 0)
            while left:
                piece = await reader.read(min(left, MiB))
                if not piece:
                    return
                left -= len(piece)
            writer.write(ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(connection, "127.0.0.1", port, limit=MiB)
    await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(int(sys.argv[1])))
    else:
        uvloop.run(serve(int(sys.argv[1])))
