"""Storage backends behind one small interface: write a stream to a key, read a byte range back."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Protocol

from ..config import Location


class Writer(Protocol):
    """Receives a file's bytes in order. Nothing is visible at the key until `commit`."""

    async def write(self, data: bytes) -> None: ...

    async def commit(self) -> None: ...

    async def abort(self) -> None: ...


class Backend(Protocol):
    def writer(self, container: str, key: str) -> Writer: ...

    def read(self, container: str, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end inclusive."""
        ...

    async def delete(self, container: str, key: str) -> None: ...


def open_backend(location: Location, data_dir: Path) -> Backend:
    if location.backend == "local":
        from .local import LocalBackend

        return LocalBackend(data_dir / location.settings.get("root", location.name))
    raise ValueError(f"location {location.name!r}: unknown backend {location.backend!r}")
