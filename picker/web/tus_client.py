"""Drives the tus engine (picker/engine.py) in the browser: XMLHttpRequest with File.slice bodies,
so a file's bytes go from disk to the network without entering Python; crypto.subtle for chunk
checksums; upload URLs remembered in localStorage so that a reload can resume. The requests and
reads are the loader's `filepicker._io` (static/filepicker.js): one call across the JS/Python
boundary each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import js
from pyodide.ffi import JsException, create_proxy, to_js

from ..engine import (
    DEFAULT_CHUNK_SIZE,
    Checksum,
    ComputeChecksum,
    Done,
    Failed,
    NetworkError,
    Request,
    Response,
    RetryPolicy,
    Sent,
    Upload,
    Wait,
    fingerprint,
)
from ..fperror import FPError, Unreadable
from ..progress import FileProgress
from ..transfer import KeptUrl, read_ahead, with_creation

SUBTLE_NAMES = {"sha256": "SHA-256", "sha1": "SHA-1"}


def _headers(raw: str) -> dict[str, str]:
    headers = {}
    for line in raw.strip().splitlines():
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


async def send(request: Request, body: Any, on_sent: Any, stall_timeout: float = 0) -> Response:
    """One request (the loader's `_io.send`); raises ConnectionError when no answer arrives, or
    when its body makes no progress for `stall_timeout` seconds (0: no limit). A cancelled task
    aborts its request. `on_sent` is a JS function proxy, made once per upload."""
    headers = [item for pair in request.headers.items() for item in pair]
    sending = js.filepicker._io.send(request.method, request.url, to_js(headers), body, on_sent,
                                     round(stall_timeout * 1000))
    try:
        status, raw, text = (await sending.promise).to_py()
    except JsException as exc:
        raise ConnectionError(str(exc)) from None
    except asyncio.CancelledError:
        sending.abort()
        raise
    return Response(int(status), _headers(raw), text)


async def digest(file: Any, part: tuple[int, int], algorithm: str, holder: Any) -> bytes:
    """The digest of the file's bytes `part`, read into `holder.buffer` (reused from chunk to
    chunk) by the loader; Unreadable when the browser can no longer read the file."""
    try:
        return bytes.fromhex(await js.filepicker._io.digest(file.slice(*part), SUBTLE_NAMES[algorithm], holder))
    except JsException:
        raise Unreadable(str(file.name)) from None


class Remembered:
    """Upload URLs by file fingerprint, kept in localStorage (absent in some sandboxed frames)."""

    def get(self, key: str) -> str | None:
        try:
            value = js.localStorage.getItem(key)
        except Exception:
            return None
        return str(value) if value else None

    def set(self, key: str, value: str | None) -> None:
        try:
            if value:
                js.localStorage.setItem(key, value)
            else:
                js.localStorage.removeItem(key)
        except Exception:
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
    stall_timeout: float = 0,
) -> dict:
    key = fingerprint(str(file.name), int(file.size), int(file.lastModified), mimetype, endpoint)
    kept = KeptUrl(remembered.get(key))
    upload = Upload(
        endpoint, str(file.name), mimetype, int(file.size),
        metadata=metadata, upload_url=kept.url, checksum_algorithm=checksum,
        chunk_size=chunk_size, retry=retry, upload_with_creation=with_creation(int(file.size), chunk_size),
    )
    ahead: dict[tuple[int, int], asyncio.Future[bytes]] = {}  # the checksum being computed ahead
    holder = js.Object.new()  # the buffer chunks are read into to be hashed, one per upload
    sending: list[Request] = []  # the request whose progress on_sent hears

    def sent(count: int) -> None:
        upload.receive(sending[0], Sent(int(count)))
        on_progress(upload.progress)

    on_sent = create_proxy(sent)
    loop = asyncio.get_running_loop()
    try:
        while True:
            action = upload.next_action()
            if isinstance(action, Request):
                body = file.slice(*action.file_slice) if action.file_slice else None
                following = read_ahead(upload, action)
                if following is not None and following.file_slice not in ahead:
                    for pending in ahead.values():
                        pending.cancel()
                    ahead = {following.file_slice: asyncio.ensure_future(
                        digest(file, following.file_slice, following.algorithm, holder))}
                sending[:] = [action]
                try:
                    response = await send(action, body, on_sent, stall_timeout)
                except ConnectionError as exc:
                    if body is not None and not await js.filepicker._io.readable(file):
                        raise Unreadable(str(file.name)) from None  # no retry can read it
                    upload.receive(action, NetworkError(str(exc)))
                    continue
                upload.receive(action, response)
                # Told once the next request is on its way: showing progress takes milliseconds
                # (the dialog, the page's onProgress) that would otherwise leave the connection idle.
                loop.call_soon(on_progress, upload.progress)
                if kept.after_response(upload):
                    remembered.set(key, kept.url)
            elif isinstance(action, ComputeChecksum):
                computing = ahead.pop(action.file_slice, None)
                hashed = await computing if computing else await digest(
                    file, action.file_slice, action.algorithm, holder)
                upload.receive(action, Checksum(hashed))
            elif isinstance(action, Wait):
                await asyncio.sleep(action.seconds)
            elif isinstance(action, Done):
                if kept.done():
                    remembered.set(key, None)
                return action.blob
            elif isinstance(action, Failed):
                raise action.error
            else:
                raise FPError(400, f"upload of {file.name} stopped: {type(action).__name__}")
    finally:
        for pending in ahead.values():
            pending.cancel()
        on_sent.destroy()
