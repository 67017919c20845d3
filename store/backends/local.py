"""Local disk: a container is a folder under the location's root; a file is written to a temporary
name and renamed into place when whole."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import AsyncIterator

import anyio

from ..errors import StoreError

READ_SIZE = 256 * 1024


class LocalWriter:
    def __init__(self, incoming: Path, target: Path) -> None:
        self._target = target
        self._temp = incoming / uuid.uuid4().hex
        incoming.mkdir(parents=True, exist_ok=True)
        self._file = open(self._temp, "wb")

    async def write(self, data: bytes) -> None:
        self._file.write(data)

    async def commit(self) -> None:
        self._file.close()
        try:
            self._target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._temp, self._target)
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            raise StoreError(409, "the path clashes with a file or folder already stored there") from exc

    async def abort(self) -> None:
        self._file.close()
        self._temp.unlink(missing_ok=True)


class LocalBackend:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, container: str, key: str) -> Path:
        path = (self.root / container / key).resolve()
        # Keys are normalised before they get here; this is the last line of defence.
        if not path.is_relative_to(self.root / container):
            raise ValueError(f"key {key!r} escapes container {container!r}")
        return path

    def writer(self, container: str, key: str) -> LocalWriter:
        return LocalWriter(self.root / ".incoming", self._path(container, key))

    async def read(self, container: str, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(container, key), "rb") as f:
            await f.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await f.read(min(READ_SIZE, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    async def delete(self, container: str, key: str) -> None:
        self._path(container, key).unlink(missing_ok=True)
