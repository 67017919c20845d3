"""Storage backends behind one small interface: write a stream to a key, read a byte range back;
and, as a separate capability, resumable appends for uploads that span several requests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import AsyncIterable, AsyncIterator, Protocol

from ..config import Location

# What store.tus_protocol makes upload ids of; backends check it again before naming anything by one.
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Writer(Protocol):
    """Receives a file's bytes in order. Nothing is visible at the key until `commit`."""

    async def write(self, data: bytes) -> None: ...

    async def commit(self) -> None: ...

    async def abort(self) -> None: ...


class PartialStore(Protocol):
    """An upload's bytes grow in a temporary object, across requests and store processes, until it
    is committed whole to a key. Nothing is visible at the key before `commit`."""

    async def create(self, upload_id: str) -> None: ...

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        """Write `chunks` from `offset` on, dropping whatever lay past it (a chunk an earlier,
        interrupted request left behind); return the number of bytes written. If `chunks` raises,
        every chunk it yielded before is written."""
        ...

    async def truncate(self, upload_id: str, size: int) -> None: ...

    async def size(self, upload_id: str) -> int: ...

    def read(self, upload_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end inclusive."""
        ...

    async def commit(self, upload_id: str, container: str, key: str, *, public: bool = False,
                     region: str | None = None) -> None:
        """Make the object the file at `key`; the temporary object is gone afterwards. `public` and
        `region` as for `Backend.writer`."""
        ...

    async def delete(self, upload_id: str) -> None:
        """Remove the temporary object, if there is one."""
        ...


class Backend(Protocol):
    @property
    def partials(self) -> PartialStore | None:
        """None when the backend cannot keep an upload across requests: tus uploads are then refused."""
        ...

    def writer(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> Writer:
        """`public` (the store option access: 'public'): readable straight from the storage where the
        backend can make it so; `region` (storeRegion): the region of an S3 container. Callers pass
        only the ones a client asked for (Destination.storage_options)."""
        ...

    def read(self, container: str, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end inclusive."""
        ...

    async def delete(self, container: str, key: str) -> None: ...


def open_backend(location: Location, data_dir: Path) -> Backend:
    if location.backend == "local":
        from .local import LocalBackend

        return LocalBackend(data_dir / location.settings.get("root", location.name))
    if location.backend == "azure":
        from .azure import AzureBackend

        return AzureBackend(location)
    if location.backend == "s3":
        from .s3 import S3Backend

        return S3Backend(location)
    raise ValueError(f"location {location.name!r}: unknown backend {location.backend!r}")
