"""POST /api/store[/{location}]: a whole file in the request body, stored and answered with its Blob."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import store_request
from .backends import Writer, storage_options
from .blob import blob, check_host
from .content_type import check_sniffed, sniffing
from .destination import Destination, at_taken_key, claim, destination, key_taken
from .errors import bad_request
from .index import Index
from .state import store_state
from .writing import write_file

# How long a whole-file store's claim on its key lasts unless renewed: it is renewed while the
# bytes arrive, and lapses this long after a store process that died holding it.
CLAIM_SECONDS = 600.0
RENEW_EVERY = 60.0


class ClaimedWriter:
    """A backend Writer whose key stays claimed while bytes arrive, and is claimed once more
    just before the commit puts them in place: bytes never land on a key another file has."""

    def __init__(self, writer: Writer, index: Index, target: Destination) -> None:
        self._writer = writer
        self._index = index
        self._target = target
        self._renewed = time.monotonic()

    async def _claim(self) -> None:
        now = time.time()
        await claim(self._index, self._target, self._target.handle, until=now + CLAIM_SECONDS, now=now)
        self._renewed = time.monotonic()

    async def write(self, data: bytes) -> None:
        if time.monotonic() - self._renewed >= RENEW_EVERY:
            await self._claim()
        await self._writer.write(data)

    async def commit(self) -> None:
        await self._claim()
        await self._writer.commit()

    async def abort(self) -> None:
        await self._writer.abort()


async def store_upload(request: Request) -> JSONResponse:
    state = store_state(request)
    check_host(state, request)
    options = store_request.from_query(
        request.query_params, request.path_params.get("location"), request.headers.get("origin")
    )
    declared = request.headers.get("content-length")
    now = time.time()
    # The size rules are checked against Content-Length now, and against the bytes as they arrive.
    target, policy = destination(
        state.config, options, size=int(declared) if declared and declared.isdigit() else None, now=now
    )
    app = state.config.apps[target.app_key]
    # A key another file holds is refused, or overwritten as that file when the sender may write it;
    # a free one is claimed before the first byte is read, so that a second store there is refused.
    target = await at_taken_key(state.index, state.config, target, options, now=now)
    await claim(state.index, target, target.handle, until=now + CLAIM_SECONDS, now=now)
    head = bytearray()  # the first bytes, sniffed for their type

    def growing(size: int) -> None:
        if policy is not None:
            policy.check_max_size(size)
        app.check_file(target.mimetype, size)

    def whole(size: int) -> None:
        if policy is not None:
            policy.check_size(size)
        check_sniffed(app, bytes(head), size, target.mimetype)
        if declared is not None and int(declared) != size:
            raise bad_request(f"received {size} bytes but Content-Length said {declared}")

    try:
        writer = state.backends[target.location].writer(target.container, target.key, **storage_options(target))
        claimed = ClaimedWriter(writer, state.index, target)
        written = await write_file(claimed, sniffing(request.stream(), head, app, target.mimetype), growing=growing, whole=whole)
        record = target.record(written.size, written.sha256)
        if not await state.index.add_file(record):
            raise key_taken(target.key)
    except BaseException:
        await state.index.release_key(target.location, target.container, target.key, target.handle)
        raise
    return JSONResponse(blob(state, record, request, target.writeable))
