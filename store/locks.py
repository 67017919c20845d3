"""Upload leases as every store process sees them: the one request that may change an upload holds
its lease (store.lease), kept where all processes find it so that any of them may serve the next
request of an upload."""

from __future__ import annotations

from typing import Protocol


class Locks(Protocol):
    async def take(self, upload_id: str, token: str, now: float, until: float) -> bool:
        """Take or renew the lease on an upload: True when `token` holds it until `until`. A lease
        whose holder died runs out by itself; taking it clears a request to stop made of the holder
        before."""
        ...

    async def want(self, upload_id: str, now: float) -> None:
        """Ask the holder of an upload's lease to stop and let it go."""
        ...

    async def is_wanted(self, upload_id: str, token: str) -> bool:
        """Whether another request asked the holder of `token`'s lease to stop."""
        ...

    async def release(self, upload_id: str, token: str) -> None: ...
