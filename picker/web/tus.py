"""Drives the tus engine (picker/engine.py) in the browser: XMLHttpRequest with File.slice bodies,
so a file's bytes go from disk to the network without entering Python; crypto.subtle for chunk
checksums; upload URLs remembered in localStorage so that a reload can resume."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Mapping

import js
from pyodide.ffi import create_proxy

from ..engine import (
    DEFAULT_CHUNK_SIZE, Checksum, ComputeChecksum, Done, Failed, NetworkError, Request, Response, RetryPolicy,
    Sent, Upload, Wait, fingerprint,
)
from ..errors import FPError
from ..progress import FileProgress

SUBTLE_NAMES = {"sha256": "SHA-256", "sha1": "SHA-1"}
# A file up to this size goes in its creation request (tus creation-with-upload): one request, not
# two. Larger files are created first, so that a refusal comes before their bytes are sent.
WITH_CREATION = 1024 * 1024


def _headers(raw: str) -> dict[str, str]:
    headers = {}
    for line in raw.strip().splitlines():
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


async def send(request: Request, body: Any, on_sent: Callable[[int], None]) -> Response:
    """One request; raises ConnectionError when no answer arrives (or the task is cancelled,
    which aborts the request)."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Response] = loop.create_future()
    xhr = js.XMLHttpRequest.new()

    def loaded(event: Any) -> None:
        if not answer.done():
            answer.set_result(Response(int(xhr.status), _headers(str(xhr.getAllResponseHeaders())), str(xhr.responseText)))

    def failed(event: Any) -> None:
        if not answer.done():
            answer.set_exception(ConnectionError(f"no answer from {request.url}"))

    proxies = [create_proxy(f) for f in (lambda e: on_sent(int(e.loaded)), loaded, failed)]
    xhr.upload.onprogress = proxies[0]
    xhr.onload = proxies[1]
    xhr.onerror = xhr.ontimeout = proxies[2]
    xhr.open(request.method, request.url)
    for name, value in request.headers.items():
        xhr.setRequestHeader(name, value)
    xhr.send(body)
    try:
        return await answer
    finally:
        if not answer.done() or answer.cancelled():
            xhr.abort()
        xhr.upload.onprogress = xhr.onload = xhr.onerror = xhr.ontimeout = None
        for proxy in proxies:
            proxy.destroy()


async def digest(blob: Any, algorithm: str) -> bytes:
    buffer = await blob.arrayBuffer()
    hashed = await js.crypto.subtle.digest(SUBTLE_NAMES[algorithm], buffer)
    # digest() copied the bytes when called: give the chunk's memory back now rather than at V8's
    # next garbage collection, which lets tens of MiB of read chunks pile up first.
    if hasattr(buffer, "transfer"):
        buffer.transfer(0)
    return bytes(js.Uint8Array.new(hashed).to_py())


class Remembered:
    """Upload URLs by file fingerprint, kept in localStorage (absent in some sandboxed frames)."""

    def get(self, key: str) -> str | None:
        try:
            value = js.localStorage.getItem(key)
        except Exception:  # noqa: BLE001 - storage refused by the browser
            return None
        return str(value) if value else None

    def set(self, key: str, value: str | None) -> None:
        try:
            if value:
                js.localStorage.setItem(key, value)
            else:
                js.localStorage.removeItem(key)
        except Exception:  # noqa: BLE001 - storage refused: the upload just cannot resume
            pass


async def upload_file(
    file: Any,
    endpoint: str,
    mimetype: str,
    metadata: Mapping[str, str | None],
    on_progress: Callable[[FileProgress], None],
    remembered: Remembered,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    retry: RetryPolicy | None = None,
    checksum: str | None = "sha256",
) -> dict:
    key = fingerprint(str(file.name), int(file.size), int(file.lastModified), mimetype, endpoint)
    upload = Upload(
        endpoint, str(file.name), mimetype, int(file.size),
        metadata=metadata, upload_url=remembered.get(key), checksum_algorithm=checksum,
        chunk_size=chunk_size, retry=retry, upload_with_creation=int(file.size) <= min(chunk_size, WITH_CREATION),
    )
    # The next chunk's checksum, computed while this chunk uploads: reading and hashing a chunk takes
    # tens of ms (benchmarked in bench/uploads.py) that would otherwise leave the connection idle.
    ahead: dict[tuple[int, int], asyncio.Future[bytes]] = {}
    try:
        while True:
            action = upload.next_action()
            if isinstance(action, Request):
                body = file.slice(*action.file_slice) if action.file_slice else None
                end = action.file_slice[1] if action.file_slice else upload.size
                following = (end, min(end + upload.chunk_size, upload.size))
                if upload.checksum_algorithm and end < upload.size and following not in ahead:
                    for pending in ahead.values():
                        pending.cancel()
                    ahead = {following: asyncio.ensure_future(digest(file.slice(*following), upload.checksum_algorithm))}

                def sent(count: int, action: Request = action) -> None:
                    upload.receive(action, Sent(count))
                    on_progress(upload.progress)

                try:
                    response = await send(action, body, sent)
                except ConnectionError as exc:
                    upload.receive(action, NetworkError(str(exc)))
                    continue
                upload.receive(action, response)
                remembered.set(key, upload.upload_url)
                on_progress(upload.progress)
            elif isinstance(action, ComputeChecksum):
                pending = ahead.pop(action.file_slice, None)
                hashed = await pending if pending else await digest(file.slice(*action.file_slice), action.algorithm)
                upload.receive(action, Checksum(hashed))
            elif isinstance(action, Wait):
                await asyncio.sleep(action.seconds)
            elif isinstance(action, Done):
                remembered.set(key, None)
                return action.blob
            elif isinstance(action, Failed):
                raise action.error
            else:
                raise FPError(400, f"upload of {file.name} stopped: {type(action).__name__}")
    finally:
        for pending in ahead.values():
            pending.cancel()
