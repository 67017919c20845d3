"""The file API at /api/file/{handle}: the bytes (GET, HEAD, with ETag and Range), metadata,
removal and overwrite; and files stored with access 'public' on local disk, at their public URL."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from . import metrics
from .backends import storage_options
from .blob import blob, check_host, public_url
from .claimed import ClaimedWrite
from .content_type import check_sniffed, served_inline, served_type, sniffing
from .destination import checked_mimetype
from .errors import StoreError, forbidden, not_found
from .policy import Policy, decode_policy
from .policy import check as check_policy
from .records import FileRecord, WholeWrite
from .state import store_state
from .writing import write_file

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# A position with more digits than this is past the end of any file: it is read as this number
# rather than parsed (Python refuses to parse numbers of thousands of digits).
_PAST_ANY_FILE = 10**18


def _position(digits: str) -> int:
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) < 19 else _PAST_ANY_FILE


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range a Range header asks for, as (first, last) inclusive; None for the whole
    file (no header, or a form we do not serve partially, such as several ranges)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        length = _position(last)
        if length == 0 or size == 0:
            raise StoreError(416, f"range {header!r} asks for no bytes of the file's {size}")
        return max(size - length, 0), size - 1
    start = _position(first)
    end = min(_position(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise StoreError(416, f"range {header!r} is outside the file's {size} bytes")
    return start, end


def _headers(record: FileRecord) -> dict[str, str]:
    # Inline only the types a browser shows without running script (store.content_type); any
    # other is downloaded rather than shown as a page of the store's origin, which serves the picker.
    mimetype = served_type(record.mimetype)
    # A type recorded before types were checked (a list) is served as a download, whatever it lists first.
    disposition = "inline" if served_inline(record.mimetype) and served_inline(mimetype) else "attachment"
    return {
        "Content-Type": mimetype,
        "ETag": f'"{record.sha256}"',
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(record.filename)}",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }


async def _record(request: Request) -> FileRecord:
    record = await store_state(request).index.get_file(request.path_params["handle"])
    if record is None:
        raise not_found(f"no file with handle {request.path_params['handle']!r}")
    return record


def _authorize(request: Request, record: FileRecord, call: str, needs_policy: bool = False) -> Policy | None:
    """A policy, when the app requires one or the request has one, must allow `call` on this file.
    Changing or removing a file always needs one (`needs_policy`). A file of an app no longer
    configured is refused whatever the call: nobody may check who is allowed it."""
    app = store_state(request).config.apps.get(record.app_key)
    params = request.query_params
    if app is None:
        raise forbidden(f"the app that stored {record.handle!r} is no longer configured on this store: "
                        "its files are not served, changed or removed")
    app.check_origin(request.headers.get("origin"))
    policy = check_policy(app, params.get("policy"), params.get("signature"), call=call, now=time.time(),
                          handle=record.handle, path=record.key, container=record.container)
    if needs_policy and policy is None:
        raise forbidden(f"{call!r} needs a policy allowing it: pass `policy` and `signature` signed with the app's secret")
    return policy


async def serve_file(request: Request) -> Response:
    record = await _record(request)
    _authorize(request, record, "read")
    return await _send(request, record, _headers(record))


async def serve_public_file(request: Request) -> Response:
    """GET/HEAD /public/{location}/{container}/{key}: a file stored with access 'public', to anyone,
    without a policy: the public URL of local locations (store.backends.local)."""
    params = request.path_params
    state = store_state(request)
    record = await state.index.find_file(params["location"], params["container"], params["key"])
    if record is None or not record.public:
        raise not_found(f"no public file at {request.url.path!r}")
    if record.app_key not in state.config.apps:
        raise forbidden(f"the app that stored {request.url.path!r} is no longer configured on this store: "
                        "its files are not served")
    return await _send(request, record, _headers(record) | {"Cache-Control": "public, no-cache"})


async def _send(request: Request, record: FileRecord, headers: dict[str, str]) -> Response:
    """The file's bytes, or the range of them asked for, with `headers`."""
    state = store_state(request)
    if request.query_params.get("dl") == "true":
        headers["Content-Disposition"] = headers["Content-Disposition"].replace("inline;", "attachment;", 1)
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers={"ETag": headers["ETag"]})
    try:
        span = parse_range(request.headers.get("range"), record.size)
    except StoreError as exc:
        if exc.code == 416:
            headers["Content-Range"] = f"bytes */{record.size}"
            return Response(exc.message, status_code=416, headers=headers, media_type="text/plain")
        raise
    status = 200
    first, last = 0, record.size - 1
    if span is not None:
        first, last = span
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{record.size}"
    headers["Content-Length"] = str(last - first + 1)
    if request.method == "HEAD" or record.size == 0:
        return Response(status_code=status, headers=headers)
    chunks = state.backends[record.location].read(record.container, record.key, first, last, **storage_options(record))
    # The first chunk comes before the answer starts, so that storage that fails (an object gone, an
    # endpoint down) is answered with its error rather than with a body that breaks off.
    head = await anext(chunks, b"")
    return StreamingResponse(_after(head, chunks), status_code=status, headers=headers)


async def _after(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk


async def file_metadata(request: Request) -> JSONResponse:
    record = await _record(request)
    _authorize(request, record, "stat")
    app = store_state(request).config.apps.get(record.app_key)
    policy_text = request.query_params.get("policy")
    writeable = bool(app and policy_text and decode_policy(policy_text).allows("write"))
    return JSONResponse({
        "size": record.size,
        "mimetype": record.mimetype,
        "filename": record.filename,
        "uploaded": record.created,
        "writeable": writeable,
        "sha256": record.sha256,
        "key": record.key,
        "container": record.container,
        "location": record.location,
        "access": record.access,
        "publicUrl": public_url(store_state(request), record, request),
    })


async def remove_file(request: Request) -> JSONResponse:
    state = store_state(request)
    record = await _record(request)
    _authorize(request, record, "remove", needs_policy=True)
    await state.backends[record.location].delete(record.container, record.key, **storage_options(record))
    await state.index.delete_file(record.handle)
    return JSONResponse({"handle": record.handle, "removed": True})


async def overwrite_file(request: Request) -> JSONResponse:
    """POST /api/file/{handle}: new bytes for the same handle, key and container, stored as the
    file was (public, in its region)."""
    state = store_state(request)
    check_host(state, request)
    record = await _record(request)
    policy = _authorize(request, record, "write", needs_policy=True)
    assert policy is not None
    app = state.config.apps[record.app_key]
    asked = request.query_params.get("mimetype")
    mimetype = checked_mimetype(asked) if asked else served_type(record.mimetype)
    declared = request.headers.get("content-length")
    # The app's and the policy's limits, as a store checks them: by Content-Length now, by the
    # bytes as they arrive, and by the type both declared and shown by the first bytes.
    size = int(declared) if declared and declared.isdigit() and len(declared) < 19 else None
    app.check_file(mimetype, size)
    if size is not None:
        policy.check_max_size(size)
    head = bytearray()

    def growing(size: int) -> None:
        policy.check_max_size(size)
        app.check_file(mimetype, size)

    def whole(size: int) -> None:
        policy.check_size(size)
        check_sniffed(app, bytes(head), size, mimetype)

    # Claimed while it runs: a store process that finds the claim of a dead one makes the record
    # say what the key holds (store.repair).
    write = WholeWrite(record.location, record.container, record.key, record.handle, mimetype, record.public,
                       record.region)
    with metrics.upload_outcome(metrics.WHOLE):
        async with ClaimedWrite(state.index, write) as claimed:
            writer = state.backends[record.location].writer(record.container, record.key, **storage_options(record))
            body = metrics.received(metrics.WHOLE, request.stream())
            written = await write_file(writer, sniffing(body, head, app, mimetype), growing=growing,
                                       whole=whole, committing=claimed.committing)
            updated = replace(record, size=written.size, sha256=written.sha256, mimetype=mimetype, created=time.time())
            await claimed.record(updated)
    return JSONResponse(blob(state, updated, request, writeable=True))

