"""tus 1.0 over HTTP at /api/upload: each request's headers go through the protocol's rules
(tus_protocol), the upload changes through resumable under its lease, and the answer is made here.
docs/protocol.md describes it for clients."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics, resumable, store_request
from .blob import base_url, blob, check_host
from .destination import destination
from .errors import StoreError, forbidden
from .lease import Lease, leased
from .policy import check as check_policy
from .records import FileRecord, UploadRecord
from .state import StoreState, store_state
from .store_request import StoreRequest
from .tus_protocol import (
    VERSION,
    Concat,
    check_alive,
    check_length,
    check_offset,
    check_part,
    check_patch,
    check_version,
    creation_length,
    http_date,
    is_offset_stream,
    is_upload_id,
    new_upload_id,
    options_headers,
    parse_checksum,
    parse_concat,
    parse_metadata,
    state_headers,
)

METHODS = ["OPTIONS", "POST", "HEAD", "PATCH", "DELETE", "GET"]
BODY_IDLE_SECONDS = 60.0


class TusResumable:
    """Every answer on a tus route, refusals included, says which tus version made it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Tus-Resumable"] = VERSION
            await send(message)

        await self.app(scope, receive, send_with_version)


async def _body(request: Request, lease: Lease) -> AsyncIterator[bytes]:
    """The request's body; Interrupted when the client goes away, sends nothing for
    BODY_IDLE_SECONDS (a connection that died without a word would otherwise hold the upload's
    lease, which its request keeps renewing, for ever), or another request wants the upload (its
    client gave this one up)."""
    loop = asyncio.get_running_loop()
    chunks = request.stream().__aiter__()
    wanted = waiting = False
    # One deadline, moved at each chunk (a wait_for per chunk would make a task per chunk: a
    # noticeable share of the CPU time of a large upload), and off while the caller has the chunk.
    try:
        async with asyncio.timeout(None) as idle:

            def stop() -> None:
                nonlocal wanted
                wanted = True
                if waiting:  # else the caller has a chunk: stop before the next one
                    idle.reschedule(loop.time())

            lease.on_wanted = stop
            while not wanted:
                idle.reschedule(loop.time() + BODY_IDLE_SECONDS)
                waiting = True
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return
                finally:
                    waiting = False
                idle.reschedule(None)
                if chunk:
                    yield chunk
        raise resumable.Interrupted()
    except (ClientDisconnect, TimeoutError):
        raise resumable.Interrupted() from None
    finally:
        lease.on_wanted = None


async def _alive(state: StoreState, upload_id: str) -> UploadRecord:
    """The upload, or 404; an expired one is removed on the way to its 410."""
    upload = await state.index.get_upload(upload_id) if is_upload_id(upload_id) else None
    try:
        return check_alive(upload, upload_id, time.time())
    except StoreError as exc:
        if exc.code == 410 and upload is not None:
            await resumable.expire(state, upload)
        raise


def _progress_headers(upload: UploadRecord) -> dict[str, str]:
    return {"Upload-Offset": str(upload.offset), "Upload-Expires": http_date(upload.expires)}


def _answer(
    state: StoreState,
    request: Request,
    upload: UploadRecord,
    record: FileRecord | None,
    headers: dict[str, str],
    created: bool = False,
) -> Response:
    """201 for a creation, else 204 as tus says; but once the file is stored, with the Blob as JSON
    (and so 200 rather than 204, which can have no body)."""
    if record is not None:
        return JSONResponse(blob(state, record, request, upload.writeable), status_code=201 if created else 200, headers=headers)
    return Response(status_code=201 if created else 204, headers=headers)


# --- /api/upload -------------------------------------------------------------------------------------


async def tus_options(request: Request) -> Response:
    """OPTIONS: the tus version, extensions and limits this store has."""
    return Response(status_code=204, headers=options_headers(store_state(request).config.max_upload_size))


async def create_upload(request: Request) -> Response:
    """POST: creation (a body of application/offset+octet-stream is the first chunk), or
    concatenation of partial uploads into a final one."""
    state = store_state(request)
    check_host(state, request)  # before anything is stored: its Location names this host
    config = state.config
    now = time.time()
    headers = request.headers
    concat = parse_concat(headers.get("upload-concat"))
    length = creation_length(headers.get("upload-length"), headers.get("upload-defer-length"), concat)
    metadata = headers.get("upload-metadata", "").strip()
    options = store_request.from_metadata(parse_metadata(metadata), request.headers.get("origin"))
    with_body = is_offset_stream(headers.get("content-type"))
    if concat is not None and not concat.partial:
        if with_body:
            raise forbidden("a final upload (Upload-Concat: final) is made of its parts and takes no bytes")
        return await _create_final(request, state, concat, headers["upload-concat"].strip(), metadata, options, now)

    assert length is not None
    check_length(length, config.max_upload_size)
    if concat is not None:
        # A partial upload is no file: its destination is the final upload's to name. Its sender
        # must still be an app, and may not send more than its policy allows in a whole file.
        app = config.app(options.api_key, options.origin)
        location = config.location(options.location)
        policy = check_policy(app, options.policy, options.signature, call="store", now=now)
        if policy is not None:
            policy.check_max_size(length)
        if app.max_size is not None and length > app.max_size:
            raise StoreError(
                413, f"the partial upload is {length} bytes, larger than app {app.key!r} accepts ({app.max_size} bytes)"
            )
        app_key, location_name, target, kind = app.key, location.name, None, "partial"
    else:
        target, _ = destination(config, options, size=length, now=now)
        app_key, location_name, kind = target.app_key, target.location, ""
        app = config.apps[app_key]
    upload = resumable.new_upload(
        new_upload_id(), app_key=app_key, location=location_name, length=length, metadata=metadata, concat=kind,
        target=target, now=now, expiry=resumable.expiry(state, 0),
    )
    checksum = parse_checksum(headers.get("upload-checksum"))
    upload = await resumable.create(state, upload)
    if not upload.partial:
        metrics.UPLOADS_STARTED.labels(metrics.TUS).inc()
    record = None
    try:
        async with leased(state.locks, upload.id) as lease:
            if with_body:
                upload = await resumable.receive(state, upload, _body(request, lease), checksum, lease)
            if upload.offset == upload.length and not upload.partial:
                upload, record = await resumable.complete(state, upload)
    except StoreError:
        # A refusal carries no Location: nobody could ever resume or terminate this upload.
        if not upload.partial:
            metrics.UPLOADS_FAILED.labels(metrics.TUS).inc()
        await resumable.terminate(state, upload)
        raise
    return _answer(state, request, upload, record, _created_headers(state, request, upload), created=True)


async def _create_final(
    request: Request, state: StoreState, concat: Concat, concat_header: str, metadata: str, options: StoreRequest,
    now: float,
) -> Response:
    """A final upload: its parts joined at once, so that it is created whole."""
    config = state.config
    app = config.app(options.api_key, options.origin)
    parts = [check_part(await state.index.get_upload(part), part, app.key, now) for part in concat.parts]
    length = sum(part.length for part in parts)
    check_length(length, config.max_upload_size)
    target, _ = destination(config, options, size=length, now=now)
    async with contextlib.AsyncExitStack() as held:
        for part_id in dict.fromkeys(concat.parts):
            await held.enter_async_context(leased(state.locks, part_id))
        # Again, as they are now that no other request can change them.
        parts = [check_part(await state.index.get_upload(part), part, app.key, now) for part in concat.parts]
        final = resumable.new_upload(
            new_upload_id(), app_key=app.key, location=target.location, length=length, metadata=metadata,
            concat=concat_header, target=target, now=now, expiry=config.upload_expiry,
        )
        final = await resumable.create(state, final)
        metrics.UPLOADS_STARTED.labels(metrics.TUS).inc()
        try:
            async with leased(state.locks, final.id):
                final, record = await resumable.join(state, final, parts)
        except BaseException:
            metrics.UPLOADS_FAILED.labels(metrics.TUS).inc()  # join removed it
            raise
    return _answer(state, request, final, record, _created_headers(state, request, final), created=True)


def _upload_url(state: StoreState, request: Request, upload: UploadRecord) -> str:
    return f"{base_url(state, request)}/api/upload/{upload.id}"


def _blob_location(state: StoreState, request: Request, upload: UploadRecord) -> dict[str, str]:
    """Blob-Location: where a client GETs the Blob once the upload is whole (docs/protocol.md). A
    client sees from it that this is a pickstore: on other tus servers a GET on an upload is no
    tus request, and on some it sends the whole file back."""
    return {} if upload.partial else {"Blob-Location": _upload_url(state, request, upload)}


def _created_headers(state: StoreState, request: Request, upload: UploadRecord) -> dict[str, str]:
    return {"Location": _upload_url(state, request, upload), **_progress_headers(upload),
            **_blob_location(state, request, upload)}


# --- /api/upload/{upload_id} --------------------------------------------------------------------------


async def head_upload(request: Request) -> Response:
    state = store_state(request)
    upload = await _alive(state, request.path_params["upload_id"])
    return Response(status_code=200, headers={**state_headers(upload), **_blob_location(state, request, upload)})


async def patch_upload(request: Request) -> Response:
    state = store_state(request)
    upload_id = request.path_params["upload_id"]
    headers = request.headers
    upload = await _alive(state, upload_id)
    offset = check_patch(upload, headers.get("content-type"), headers.get("upload-offset"))
    checksum = parse_checksum(headers.get("upload-checksum"))
    record = None
    async with leased(state.locks, upload_id) as lease:
        upload = await _alive(state, upload_id)  # as the request that held the lease before left it
        check_offset(upload, offset, headers.get("content-length"))
        if not upload.completed:
            if upload.offset < upload.length or upload.partial:  # else its bytes may be at their key already
                upload = await resumable.receive(state, upload, _body(request, lease), checksum, lease)
            if upload.offset == upload.length and not upload.partial:
                upload, record = await resumable.complete(state, upload)
        elif not upload.partial:
            record = await state.index.get_file(upload.handle)  # a repeated last PATCH gets the Blob again
    return _answer(state, request, upload, record, {**_progress_headers(upload), **_blob_location(state, request, upload)})


async def delete_upload(request: Request) -> Response:
    """Termination: the upload's bytes and state go; a file it already stored stays."""
    state = store_state(request)
    upload = await _alive(state, request.path_params["upload_id"])
    async with leased(state.locks, upload.id):
        await resumable.terminate(state, upload)
    return Response(status_code=204)


async def get_upload(request: Request) -> Response:
    """Not tus: the Blob of a completed upload, for clients that did not read the last PATCH's body."""
    state = store_state(request)
    upload = await _alive(state, request.path_params["upload_id"])
    if upload.partial:
        raise StoreError(
            400, f"upload {upload.id!r} is partial: it becomes part of a file through Upload-Concat: final"
        )
    if not upload.completed and upload.offset == upload.length:
        # Every byte came but storing the file failed (its key clashed, the storage refused):
        # try again, so that the client gets its Blob if the cause has passed, else hears why.
        async with leased(state.locks, upload.id):
            upload = await _alive(state, upload.id)
            if not upload.completed:
                upload, _ = await resumable.complete(state, upload)
    if not upload.completed:
        raise StoreError(409, f"upload {upload.id!r} holds {upload.offset} of its {upload.length} bytes: no file yet")
    record = await state.index.get_file(upload.handle)
    if record is None:
        raise StoreError(404, f"the file upload {upload.id!r} stored has since been replaced or removed")
    return JSONResponse(blob(state, record, request, upload.writeable), headers={"Cache-Control": "no-store"})


Handler = Callable[[Request], Awaitable[Response]]
_ON_CREATION_URL: dict[str, Handler] = {"OPTIONS": tus_options, "POST": create_upload}
_ON_UPLOAD_URL: dict[str, Handler] = {
    "OPTIONS": tus_options,
    "HEAD": head_upload,
    "PATCH": patch_upload,
    "DELETE": delete_upload,
    "GET": get_upload,
}


def _dispatch(handlers: dict[str, Handler]) -> Handler:
    async def endpoint(request: Request) -> Response:
        handler = handlers.get(request.method)
        if handler is None:
            allowed = ", ".join(handlers)
            raise StoreError(405, f"{request.method} is not allowed here; allowed: {allowed}", {"Allow": allowed})
        check_version(request.method, request.headers.get("tus-resumable"))
        return await handler(request)

    return endpoint


def tus_routes() -> list[Route]:
    tus = [Middleware(TusResumable)]
    return [
        Route("/api/upload", _dispatch(_ON_CREATION_URL), methods=METHODS, middleware=tus),
        Route("/api/upload/{upload_id}", _dispatch(_ON_UPLOAD_URL), methods=METHODS, middleware=tus),
    ]
