"""POST /api/store[/{location}]: a whole file in the request body, stored and answered with its Blob;
and the writing path it shares with files the store fetches from elsewhere (store.imports)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterable

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import metrics, store_request
from .backends import storage_options
from .blob import blob, check_host
from .claimed import ClaimedWrite
from .content_type import check_sniffed, sniffing
from .destination import Destination, at_taken_key, destination
from .errors import bad_request
from .policy import Policy
from .state import StoreState, store_state
from .store_request import StoreRequest
from .writing import write_file


async def store_upload(request: Request) -> JSONResponse:
    state = store_state(request)
    check_host(state, request)
    options = store_request.from_query(
        request.query_params, request.path_params.get("location"), request.headers.get("origin")
    )
    declared = request.headers.get("content-length")
    now = time.time()
    # The size rules are checked against Content-Length now, and against the bytes as they arrive.
    size = int(declared) if declared and declared.isdigit() else None
    target, policy = destination(state.config, options, size=size, now=now)
    return await store_stream(state, request, options, target, policy, request.stream(), declared=size, now=now,
                              kind=metrics.WHOLE)


async def store_stream(
    state: StoreState, request: Request, options: StoreRequest, target: Destination, policy: Policy | None,
    chunks: AsyncIterable[bytes], *, declared: int | None, now: float, kind: str,
) -> JSONResponse:
    """`chunks` written at the destination as one whole file (the app's and policy's size and type
    rules checked as they come, the first bytes sniffed), claimed, recorded, and answered with the
    Blob. `declared`: the size the sender announced, which the bytes must match; `kind`: what
    store.metrics counts it as."""
    with metrics.upload_outcome(kind):
        return await _store_stream(state, request, options, target, policy, metrics.received(kind, chunks),
                                   declared=declared, now=now)


async def _store_stream(
    state: StoreState, request: Request, options: StoreRequest, target: Destination, policy: Policy | None,
    chunks: AsyncIterable[bytes], *, declared: int | None, now: float,
) -> JSONResponse:
    app = state.config.apps[target.app_key]
    # A key another file holds is refused, or overwritten as that file when the sender may write it;
    # a free one is claimed before the first byte is read, so that a second store there is refused.
    target = await at_taken_key(state.index, state.config, target, options, now=now)
    head = bytearray()  # the first bytes, sniffed for their type

    def growing(size: int) -> None:
        if policy is not None:
            policy.check_max_size(size)
        app.check_file(target.mimetype, size)

    def whole(size: int) -> None:
        if policy is not None:
            policy.check_size(size)
        check_sniffed(app, bytes(head), size, target.mimetype)
        if declared is not None and declared != size:
            raise bad_request(f"received {size} bytes but Content-Length said {declared}")

    async with ClaimedWrite(state.index, target.whole_write()) as claimed:
        writer = state.backends[target.location].writer(target.container, target.key, **storage_options(target))
        written = await write_file(writer, sniffing(chunks, head, app, target.mimetype), growing=growing,
                                   whole=whole, committing=claimed.committing)
        record = target.record(written.size, written.sha256)
        await claimed.record(record)
    return JSONResponse(blob(state, record, request, target.writeable))
