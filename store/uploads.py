"""POST /api/store[/{location}]: a whole file in the request body, stored and answered with its Blob."""

from __future__ import annotations

import hashlib
import re
import time

from starlette.requests import Request
from starlette.responses import JSONResponse

from .errors import bad_request
from .index import FileRecord
from .keys import new_handle, safe_filename, storage_key
from .state import store_state

DEFAULT_MIMETYPE = "application/octet-stream"
# type/subtype with optional parameters, visible ASCII only: it is sent back as a header value.
_MIMETYPE = re.compile(r"[\x21-\x7e]+/[\x21-\x7e]+(?:[ \t]*;[\x20-\x7e]*)?")


async def store_upload(request: Request) -> JSONResponse:
    state = store_state(request)
    params = request.query_params
    app = state.config.app(params.get("key"))
    location = state.config.location(request.path_params.get("location"))
    container = location.container(params.get("container"))
    handle = new_handle()
    filename = safe_filename(params.get("filename"))
    key = storage_key(params.get("path"), handle, filename, multiple=params.get("multiple") == "true")
    mimetype = params.get("mimetype") or DEFAULT_MIMETYPE
    if not _MIMETYPE.fullmatch(mimetype):
        raise bad_request(f"mimetype {mimetype!r} is not a valid MIME type such as 'image/png'")
    declared = request.headers.get("content-length")

    writer = state.backends[location.name].writer(container, key)
    digest = hashlib.sha256()
    size = 0
    try:
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
            await writer.write(chunk)
        if declared is not None and int(declared) != size:
            raise bad_request(f"received {size} bytes but Content-Length said {declared}")
        await writer.commit()
    except BaseException:
        await writer.abort()
        raise

    record = FileRecord(
        handle=handle,
        filename=filename,
        mimetype=mimetype,
        size=size,
        location=location.name,
        container=container,
        key=key,
        sha256=digest.hexdigest(),
        app_key=app.key,
        created=time.time(),
    )
    state.index.add(record)
    return JSONResponse(state.blob(record, request))
