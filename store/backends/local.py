"""Local disk: a container is a folder under the location's root; a file is written to a temporary
name and renamed into place when whole. A resumable upload grows in a file of its own under
`.incoming/uploads/` until it is renamed into place the same way.

Files stored with access 'public' go to a folder of their own, `public_root`, which holds nothing
else: the store serves it at /public/<location>/<container>/<key>, and a web server may serve it
as it is (then `public_url_prefix` says where). A location takes such files only with `public =
true`; private files never leave `root`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import anyio

from ..config import Location
from ..errors import StoreError
from . import UPLOAD_ID, prefixed_url
from .settings import MUST_BE, described, read_settings

READ_SIZE = 256 * 1024
WRITE_SIZE = 1024 * 1024
PUBLIC_PATH = "/public"  # the store serves public files at /public/<location>/<container>/<key>
T = TypeVar("T")


@dataclass(frozen=True)
class LocalSettings:
    """A location's local-disk settings, from its table in the store's TOML file."""

    root: str | None = field(default=None, metadata={MUST_BE: "a folder name"})  # relative to data_dir; the location's name by default
    # Files may be stored with access 'public': they go to public_root (relative to data_dir;
    # "<root>-public" by default), on the same file system as root.
    public: bool = False
    public_root: str | None = field(default=None, metadata={MUST_BE: "a folder name"})
    # Where a web server serves public_root, if one does: the store's own /public/<location> else.
    public_url_prefix: str | None = None

    @classmethod
    def from_location(cls, location: Location) -> LocalSettings:
        settings = read_settings(cls, location)
        if not settings.public and (settings.public_root or settings.public_url_prefix):
            raise ValueError(f"{described(location)}: public_root and public_url_prefix need public = true")
        return settings


def check_public(location: str, allowed: bool, public: bool) -> None:
    if public and not allowed:
        raise StoreError(400, f"location {location!r} keeps its files private: access 'public' needs a location "
                              "with public = true in the store's configuration")


def check_options(location: Location, *, public: bool = False, region: str | None = None) -> None:
    # `region` (storeRegion) is for S3 buckets: it means nothing on local disk.
    check_public(location.name, LocalSettings.from_location(location).public, public)


def check_key(key: str) -> None:
    # Uploads in progress live under the location's root, outside every container: no key reaches them.
    pass


def open_backend(location: Location, data_dir: Path) -> LocalBackend:
    settings = LocalSettings.from_location(location)
    root = data_dir / (settings.root or location.name)
    public_root = None
    if settings.public:
        public_root = data_dir / settings.public_root if settings.public_root else root.with_name(f"{root.name}-public")
    return LocalBackend(root, name=location.name, public_root=public_root, public_url_prefix=settings.public_url_prefix)


def _move_into_place(temp: Path, target: Path, stale: Path | None = None) -> None:
    """Rename `temp` to `target`; `stale` is where the key's file lies when it was stored with the
    other access: it goes, as a file stored again at a key replaces what was there."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(temp, target)
        except FileNotFoundError:
            if not temp.exists():
                raise
            # A removal took the folder away, empty, between the two steps: make it again.
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
    except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        raise StoreError(409, "the path clashes with a file or folder already stored there") from exc
    if stale is not None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
            stale.unlink()


def _write_at(path: Path, offset: int, chunks: list[bytes], *, new: bool, sync: bool) -> None:
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb" if new else "r+b") as f:
        f.seek(offset)
        f.writelines(chunks)
        if sync:
            f.flush()
            os.fsync(f.fileno())


def _remove(path: Path, container_root: Path) -> None:
    """Remove a stored file, and then its folders up to the container's as they become empty: an
    empty folder left at a name would refuse (409) a file stored there later."""
    path.unlink(missing_ok=True)
    folder = path.parent
    while folder != container_root and folder.is_relative_to(container_root):
        try:
            folder.rmdir()
        except OSError:  # not empty (or gone, or in use): the folders above are not empty either
            return
        folder = folder.parent


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def _clear_temporary(incoming: Path, started: float) -> list[str]:
    """Remove the temporary files of whole-file writes (named `<pid>-<random>`) that were written
    before `started` by a process that is no longer running, or by an earlier process of this
    process's id: no one will finish them."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(incoming))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.is_file(follow_symlinks=False):
            continue  # uploads/: resumable uploads, which the index owns
        pid, _, _ = entry.name.partition("-")
        owner = int(pid) if pid.isdigit() else None
        try:
            written = entry.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue
        if written < started and (owner is None or owner == os.getpid() or not _running(owner)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
            removed.append(entry.path)
    return removed


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as f:
        f.truncate(size)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.open("xb").close()


async def _in_thread(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The disk can stall (a busy or networked one, an fsync behind much dirty data) and the event
    loop must not stall with it: every write, fsync, rename and removal runs in a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(call, *args, **kwargs))


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


class _FileStream:
    """Bytes written to a file from `offset` on, WRITE_SIZE at a time in a worker thread: one thread
    hop per WRITE_SIZE rather than one per chunk the server hands over (64 KiB or less)."""

    def __init__(self, path: Path, offset: int = 0, *, new: bool = False) -> None:
        self.path = path
        self.offset = offset  # where the next write goes
        self._new = new  # the file is made, and its folder, by the first write
        self._chunks: list[bytes] = []
        self._gathered = 0

    async def write(self, data: bytes) -> None:
        self._chunks.append(data)
        self._gathered += len(data)
        if self._gathered >= WRITE_SIZE:
            await self.flush()

    async def flush(self, sync: bool = False) -> None:
        chunks, self._chunks, self._gathered = self._chunks, [], 0
        if chunks or self._new or sync:
            await _in_thread(_write_at, self.path, self.offset, chunks, new=self._new, sync=sync)
            self._new = False
            self.offset += sum(map(len, chunks))


class LocalWriter:
    def __init__(self, incoming: Path, target: Path, stale: Path | None = None) -> None:
        self._target = target
        self._stale = stale
        # Named by the process writing it, so that a later store knows whether anyone will finish it.
        self._temp = incoming / f"{os.getpid()}-{uuid.uuid4().hex}"
        self._stream = _FileStream(self._temp, new=True)

    async def write(self, data: bytes) -> None:
        await self._stream.write(data)

    async def commit(self) -> None:
        await self._stream.flush()
        await _in_thread(_move_into_place, self._temp, self._target, self._stale)

    async def abort(self) -> None:
        await _in_thread(self._temp.unlink, missing_ok=True)


class LocalPartials:
    """Resumable uploads on local disk: one file per upload, written in place at each offset."""

    def __init__(self, backend: LocalBackend) -> None:
        self._backend = backend
        self._folder = backend.root / ".incoming" / "uploads"

    def _path(self, upload_id: str) -> Path:
        # Upload ids are checked before they get here; this is the last line of defence.
        if not UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"{upload_id!r} is not an upload id")
        return self._folder / upload_id

    async def create(self, upload_id: str) -> None:
        await _in_thread(_create, self._path(upload_id))

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        path = self._path(upload_id)
        await _in_thread(_truncate, path, offset)
        stream = _FileStream(path, offset)
        try:
            async for chunk in chunks:
                await stream.write(chunk)
        finally:
            # Every chunk that came is written, even when the body broke off. And the offset
            # recorded after this must not run ahead of the bytes on disk, even if the machine
            # stops: clients resume from it.
            await stream.flush(sync=True)
        return stream.offset - offset

    async def truncate(self, upload_id: str, size: int) -> None:
        await _in_thread(_truncate, self._path(upload_id), size)

    async def size(self, upload_id: str) -> int:
        return (await _in_thread(self._path(upload_id).stat)).st_size

    def read(self, upload_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        return _read(self._path(upload_id), start, end)

    async def commit(self, upload_id: str, container: str, key: str, *, public: bool = False,
                     region: str | None = None) -> None:
        target, stale = self._backend.places(container, key, public)
        await _in_thread(_move_into_place, self._path(upload_id), target, stale)

    async def delete(self, upload_id: str) -> None:
        await _in_thread(self._path(upload_id).unlink, missing_ok=True)

    async def exists(self, upload_id: str) -> bool:
        return await _in_thread(self._path(upload_id).is_file)

    async def upload_ids(self, before: float) -> list[str]:
        def listed() -> list[str]:
            try:
                entries = list(os.scandir(self._folder))
            except FileNotFoundError:
                return []
            ids = []
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    if UPLOAD_ID.fullmatch(entry.name) and entry.stat().st_mtime < before:
                        ids.append(entry.name)
            return ids

        return await _in_thread(listed)


class LocalBackend:
    """`public_root`: where files stored public go (None: the location takes none);
    `public_url_prefix`: where a web server serves that folder, if one does."""

    def __init__(self, root: Path, *, name: str = "local", public_root: Path | None = None,
                 public_url_prefix: str | None = None) -> None:
        self.name = name
        self.root = root.resolve()
        self.public_root = public_root.resolve() if public_root is not None else None
        self.public_url_prefix = public_url_prefix
        self.partials = LocalPartials(self)
        if self.public_root is not None:
            self._check_public_root()

    def _check_public_root(self) -> None:
        assert self.public_root is not None
        where = f"location {self.name!r} (backend local)"
        if self.public_root.is_relative_to(self.root) or self.root.is_relative_to(self.public_root):
            raise ValueError(f"{where}: public_root {str(self.public_root)!r} and root {str(self.root)!r} must not "
                             "contain one another: anyone may read what public_root holds")
        self.root.mkdir(parents=True, exist_ok=True)
        self.public_root.mkdir(parents=True, exist_ok=True)
        if self.root.stat().st_dev != self.public_root.stat().st_dev:
            raise ValueError(f"{where}: public_root and root must be on one file system: files are renamed "
                             "from one to the other")

    def path(self, container: str, key: str, public: bool = False) -> Path:
        check_public(self.name, self.public_root is not None, public)
        root = self.public_root if public and self.public_root is not None else self.root
        path = (root / container / key).resolve()
        # Keys are normalised before they get here; this is the last line of defence.
        if not path.is_relative_to(root / container):
            raise ValueError(f"key {key!r} escapes container {container!r}")
        return path

    def places(self, container: str, key: str, public: bool) -> tuple[Path, Path | None]:
        """Where a file stored with this access goes, and where the key's file stored with the
        other access would lie (None when the location keeps every file private)."""
        target = self.path(container, key, public)
        return target, self.path(container, key, not public) if self.public_root is not None else None

    def writer(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> LocalWriter:
        # `region` means nothing on local disk.
        return LocalWriter(self.root / ".incoming", *self.places(container, key, public))

    def read(self, container: str, key: str, start: int, end: int, *, public: bool = False,
             region: str | None = None) -> AsyncIterator[bytes]:
        return _read(self.path(container, key, public), start, end)

    async def delete(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> None:
        root = self.public_root if public and self.public_root is not None else self.root
        await _in_thread(_remove, self.path(container, key, public), root / container)

    async def reachable(self) -> None:
        def probe() -> None:
            for root in (self.root, self.public_root):
                if root is not None:
                    root.mkdir(parents=True, exist_ok=True)
                    with tempfile.TemporaryFile(dir=root, prefix=".ready-"):
                        pass

        # asyncio's thread rather than anyio's: a caller that stops waiting (a stuck disk) is not held.
        await asyncio.to_thread(probe)

    async def clear_leftovers(self, started: float, expiry: float) -> list[str]:
        return await _in_thread(_clear_temporary, self.root / ".incoming", started)

    def storage_roots(self) -> list[str]:
        return [f"{root}/" for root in (self.root, self.public_root) if root is not None]

    def public_url(self, container: str, key: str, *, region: str | None = None) -> str:
        return prefixed_url(self.public_url_prefix or f"{PUBLIC_PATH}/{quote(self.name, safe='')}", container, key)
