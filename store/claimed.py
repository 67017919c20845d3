"""A whole-file write's claim on its key (POST /api/store, an overwrite): taken before the first
byte is read, kept alive in the background while the bytes arrive, taken again with the bytes'
size and sha256 just before they are put in place, and ended by the file's record. The claim is the
write's record of intent: it runs out soon after its process dies, and store.repair then finds the
write by it and puts right what the process left between putting the bytes in place and recording
them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from types import TracebackType

from .destination import key_taken
from .errors import StoreError
from .index import Index
from .lease import LEASE_SECONDS
from .records import FileRecord, WholeWrite
from .writing import Written

# A claim is renewed every CLAIM_SECONDS / 4 while its write runs, so it runs out only when its
# process died (or stood still this long, as an upload's lease does).
CLAIM_SECONDS = LEASE_SECONDS


class ClaimedWrite:
    """`async with ClaimedWrite(index, write) as claim:` holds the key for `write` (StoreError 409
    when another file or upload has it); `committing` before the backend's commit, `record` to
    record the file. Leaving the block any other way gives the key back."""

    def __init__(self, index: Index, write: WholeWrite) -> None:
        self._index = index
        self.write = write
        self._keeper: asyncio.Task[None] | None = None

    async def _claim(self) -> None:
        now = time.time()
        write = self.write
        if not await self._index.claim_key(
            write.location, write.container, write.key, owner=write.handle, handle=write.handle,
            until=now + CLAIM_SECONDS, now=now, write=write,
        ):
            raise key_taken(write.key)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(CLAIM_SECONDS / 4)
            try:
                await self._claim()
            except StoreError:
                return  # lost (this process stood still for CLAIM_SECONDS): committing() says so

    async def _stop_keeping(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.wait([self._keeper])
            self._keeper = None

    async def __aenter__(self) -> ClaimedWrite:
        await self._claim()
        self._keeper = asyncio.create_task(self._keep())
        return self

    async def committing(self, written: Written) -> None:
        """The bytes are whole and about to go to the key: the claim, taken again, says which."""
        self.write = replace(self.write, size=written.size, sha256=written.sha256)
        await self._claim()

    async def record(self, record: FileRecord) -> None:
        """Record the file, which ends the claim; 409 if another handle took the key meanwhile."""
        await self._stop_keeping()
        if not await self._index.add_file(record):
            raise key_taken(record.key)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._stop_keeping()
        if exc is not None:
            with contextlib.suppress(StoreError):
                await self._index.release_key(self.write.location, self.write.container, self.write.key,
                                              self.write.handle)
