"""The right to change one upload, held by one request at a time across every store process."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable

from .errors import StoreError
from .locks import Locks
from .metrics import LEASE_TAKEOVERS
from .tus_protocol import LOCKED

# A lease is renewed every LEASE_SECONDS / 4 while its request runs (and as its body streams), so it
# only runs out when its holder died: then the upload waits this long, not longer, for a client's
# retry, which comes after a few seconds (the picker's first retries: 0.5 s, 1 s, 2 s, 4 s, 8 s).
# A request refused because another holds the lease asks that one to stop: a client that gave up a
# request on a connection gone dead (the store still waiting for its body) takes its upload back
# within LEASE_SECONDS / 4, with what arrived of that body kept.
LEASE_SECONDS = 10.0


class Lease:
    """An upload's lease, kept by the Locks so that every store process respects it. Renewed while a
    long body streams; if its holder dies it runs out by itself."""

    def __init__(self, locks: Locks, upload_id: str) -> None:
        self._locks = locks
        self.upload_id = upload_id
        self._token = secrets.token_hex(8)
        self._renew_at = 0.0
        # Called when another request wants the upload: the request body under way, if any, stops.
        self.on_wanted: Callable[[], None] | None = None
        self.given_up = False  # on_wanted was called: another request takes the upload over

    async def take(self) -> None:
        now = time.time()
        if not await self._locks.take(self.upload_id, self._token, now, now + LEASE_SECONDS):
            await self._locks.want(self.upload_id, now)
            raise StoreError(
                LOCKED, f"upload {self.upload_id!r} is busy with another request, now asked to stop: retry shortly"
            )
        self._renew_at = now + LEASE_SECONDS / 2

    async def check_wanted(self) -> None:
        if self.on_wanted is not None and await self._locks.is_wanted(self.upload_id, self._token):
            if not self.given_up:
                self.given_up = True
                LEASE_TAKEOVERS.inc()
            self.on_wanted()

    async def renew(self) -> None:
        if time.time() >= self._renew_at:
            await self.take()

    async def release(self) -> None:
        await self._locks.release(self.upload_id, self._token)


async def _keep(lease: Lease) -> None:
    while True:
        await asyncio.sleep(LEASE_SECONDS / 4)
        try:
            await lease.take()
        except StoreError:
            return  # lost (this process stood still for LEASE_SECONDS): the next renew() says so
        await lease.check_wanted()


@contextlib.asynccontextmanager
async def leased(locks: Locks, upload_id: str) -> AsyncIterator[Lease]:
    """Hold an upload's lease while the block runs, renewed in the background so that a slow body
    or a slow commit keeps it and a dead process loses it soon."""
    lease = Lease(locks, upload_id)
    await lease.take()
    keeper = asyncio.create_task(_keep(lease))
    try:
        yield lease
    finally:
        keeper.cancel()
        await asyncio.wait([keeper])  # so that no renewal of the keeper's comes after the release
        await lease.release()
