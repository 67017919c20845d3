"""POST /api/store[/{location}]: a whole file in the request body, stored and answered with its Blob."""

from __future__ import annotations

import hashlib
import time

from starlette.requests import Request
from starlette.responses import JSONResponse

from .destination import StoreRequest, destination
from .errors import bad_request
from .state import store_state


async def store_upload(request: Request) -> JSONResponse:
    state = store_state(request)
    params = request.query_params
    options = StoreRequest(
        api_key=params.get("key"),
        location=request.path_params.get("location"),
        container=params.get("container"),
        filename=params.get("filename"),
        path=params.get("path"),
        mimetype=params.get("mimetype"),
        multiple=params.get("multiple") == "true",
        policy=params.get("policy"),
        signature=params.get("signature"),
        region=params.get("region"),
        access=params.get("access"),
        origin=request.headers.get("origin"),
    )
    declared = request.headers.get("content-length")
    # The size rules are checked against Content-Length now, and against the bytes as they arrive.
    target, policy = destination(
        state.config, options, size=int(declared) if declared and declared.isdigit() else None, now=time.time()
    )

    app = state.config.apps[target.app_key]
    writer = state.backends[target.location].writer(target.container, target.key, **target.storage_options)
    digest = hashlib.sha256()
    size = 0
    try:
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
            if policy is not None:
                policy.check_max_size(size)
            app.check_file(target.mimetype, size)
            await writer.write(chunk)
        if policy is not None:
            policy.check_size(size)
        if declared is not None and int(declared) != size:
            raise bad_request(f"received {size} bytes but Content-Length said {declared}")
        await writer.commit()
    except BaseException:
        await writer.abort()
        raise

    record = target.record(size, digest.hexdigest())
    state.index.add(record)
    return JSONResponse(state.blob(record, request, target.writeable))
