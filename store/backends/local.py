"""Local disk: a container is a folder under the location's root; a file is written to a temporary
name and renamed into place when whole. A resumable upload grows in a file of its own under
`.incoming/uploads/` until it is renamed into place the same way."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import AsyncIterable, AsyncIterator

import anyio

from ..errors import StoreError
from . import UPLOAD_ID

READ_SIZE = 256 * 1024


def _move_into_place(temp: Path, target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
    except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        raise StoreError(409, "the path clashes with a file or folder already stored there") from exc


async def _read(path: Path, start: int, end: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        await f.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = await f.read(min(READ_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


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
        _move_into_place(self._temp, self._target)

    async def abort(self) -> None:
        self._file.close()
        self._temp.unlink(missing_ok=True)


class LocalPartials:
    """Resumable uploads on local disk: one file per upload, written in place at each offset."""

    def __init__(self, backend: "LocalBackend") -> None:
        self._backend = backend
        self._folder = backend.root / ".incoming" / "uploads"

    def _path(self, upload_id: str) -> Path:
        # Upload ids are checked before they get here; this is the last line of defence.
        if not UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"{upload_id!r} is not an upload id")
        return self._folder / upload_id

    async def create(self, upload_id: str) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        self._path(upload_id).open("xb").close()

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        written = 0
        with self._path(upload_id).open("r+b") as f:
            f.truncate(offset)
            f.seek(offset)
            async for chunk in chunks:
                f.write(chunk)
                written += len(chunk)
            f.flush()
            # The offset recorded after this must not run ahead of the bytes on disk, even if
            # the machine stops: clients resume from it.
            os.fsync(f.fileno())
        return written

    async def truncate(self, upload_id: str, size: int) -> None:
        with self._path(upload_id).open("r+b") as f:
            f.truncate(size)

    async def size(self, upload_id: str) -> int:
        return self._path(upload_id).stat().st_size

    def read(self, upload_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        return _read(self._path(upload_id), start, end)

    async def commit(self, upload_id: str, container: str, key: str, *, public: bool = False,
                     region: str | None = None) -> None:
        _move_into_place(self._path(upload_id), self._backend.path(container, key))

    async def delete(self, upload_id: str) -> None:
        self._path(upload_id).unlink(missing_ok=True)


class LocalBackend:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.partials = LocalPartials(self)

    def path(self, container: str, key: str) -> Path:
        path = (self.root / container / key).resolve()
        # Keys are normalised before they get here; this is the last line of defence.
        if not path.is_relative_to(self.root / container):
            raise ValueError(f"key {key!r} escapes container {container!r}")
        return path

    def writer(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> LocalWriter:
        # `public` and `region` mean nothing on local disk: its files are read through the store only.
        return LocalWriter(self.root / ".incoming", self.path(container, key))

    def read(self, container: str, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        return _read(self.path(container, key), start, end)

    async def delete(self, container: str, key: str) -> None:
        self.path(container, key).unlink(missing_ok=True)
