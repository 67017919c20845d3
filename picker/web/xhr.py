"""Upload transport: a browser File sent by XMLHttpRequest, which reports upload progress. The
file's bytes go from the browser to the network and never into Python's memory."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import js
from pyodide.ffi import create_proxy


class XhrTransport:
    async def send(self, url: str, file: Any, on_sent: Callable[[int], None]) -> tuple[int, str]:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[int, str]] = loop.create_future()
        xhr = js.XMLHttpRequest.new()

        def progress(event: Any) -> None:
            on_sent(int(event.loaded))

        def load(event: Any) -> None:
            if not answer.done():
                answer.set_result((int(xhr.status), str(xhr.responseText)))

        def fail(event: Any) -> None:
            if not answer.done():
                answer.set_exception(ConnectionError(f"network error while sending to {url}"))

        proxies = [create_proxy(f) for f in (progress, load, fail)]
        xhr.upload.onprogress = proxies[0]
        xhr.onload = proxies[1]
        xhr.onerror = proxies[2]
        xhr.open("POST", url)
        xhr.setRequestHeader("Content-Type", "application/octet-stream")
        xhr.send(file)
        try:
            return await answer
        finally:
            if not answer.done() or answer.cancelled():
                xhr.abort()
            xhr.upload.onprogress = None
            xhr.onload = None
            xhr.onerror = None
            for proxy in proxies:
                proxy.destroy()
