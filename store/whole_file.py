"""POST /api/store[/{location}]: a whole file in the request body, stored and answered with its Blob."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import store_request
from .backends import storage_options
from .blob import blob
from .destination import destination
from .errors import bad_request
from .state import store_state
from .writing import write_file


async def store_upload(request: Request) -> JSONResponse:
    state = store_state(request)
    options = store_request.from_query(
        request.query_params, request.path_params.get("location"), request.headers.get("origin")
    )
    declared = request.headers.get("content-length")
    # The size rules are checked against Content-Length now, and against the bytes as they arrive.
    target, policy = destination(
        state.config, options, size=int(declared) if declared and declared.isdigit() else None, now=time.time()
    )
    app = state.config.apps[target.app_key]

    def growing(size: int) -> None:
        if policy is not None:
            policy.check_max_size(size)
        app.check_file(target.mimetype, size)

    def whole(size: int) -> None:
        if policy is not None:
            policy.check_size(size)
        if declared is not None and int(declared) != size:
            raise bad_request(f"received {size} bytes but Content-Length said {declared}")

    writer = state.backends[target.location].writer(target.container, target.key, **storage_options(target))
    written = await write_file(writer, request.stream(), growing=growing, whole=whole)
    record = target.record(written.size, written.sha256)
    await state.index.add_file(record)
    return JSONResponse(blob(state, record, request, target.writeable))
