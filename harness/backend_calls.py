"""A store backend called from synchronous tests: a whole file written in pieces through a Writer,
byte ranges read back, and the PartialStore of resumable uploads driven the way the store's tus
uploads drive it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from store.backends import Backend, PartialStore

from .inthread import run_async


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def write(backend: Backend, container: str, key: str, data: bytes, piece: int = 64 * 1024, *, public: bool = False,
          region: str | None = None) -> None:
    async def run() -> None:
        writer = backend.writer(container, key, public=public, region=region)
        async for chunk in pieces(data, piece):
            await writer.write(chunk)
        await writer.commit()

    run_async(run)


def read(backend: Backend, container: str, key: str, start: int, end: int) -> bytes:
    async def run() -> bytes:
        return b"".join([chunk async for chunk in backend.read(container, key, start, end)])

    return run_async(run)


def partials(backend: Backend) -> PartialStore:
    """The backend's PartialStore: every backend these tests drive keeps uploads across requests."""
    store = backend.partials
    assert store is not None, f"{type(backend).__name__} keeps no uploads"
    return store


def append(backend: Backend, upload: str, offset: int, data: bytes, piece: int = 64 * 1024) -> int:
    return run_async(partials(backend).append, upload, offset, pieces(data, piece))


def size(backend: Backend, upload: str) -> int:
    return run_async(partials(backend).size, upload)


def partial_bytes(backend: Backend, upload: str, start: int = 0, end: int | None = None) -> bytes:
    async def run() -> bytes:
        last = await partials(backend).size(upload) - 1 if end is None else end
        if last < start:
            return b""
        return b"".join([chunk async for chunk in partials(backend).read(upload, start, last)])

    return run_async(run)


def commit(backend: Backend, upload: str, container: str, key: str) -> None:
    run_async(partials(backend).commit, upload, container, key)
