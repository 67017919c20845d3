"""Storage backends behind one small interface: write a stream to a key, read a byte range back;
and, as a separate capability, resumable appends for uploads that span several requests.

A file stored with access 'public' is readable by anyone at a URL of the storage's own (an S3
object's, an Azure blob's, a public folder's on local disk), reported as the Blob's `publicUrl`.
A location's `public_url_prefix` setting replaces that URL's start, for a CDN or a web server in
front of the storage: the file is then at `<public_url_prefix>/<container>/<key>`."""

from __future__ import annotations

import importlib
import re
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

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

    async def exists(self, upload_id: str) -> bool:
        """Whether the upload's temporary object is there (it is not once committed)."""
        ...

    async def upload_ids(self, before: float) -> list[str]:
        """The uploads whose temporary object was last written before `before` (a Unix time):
        store.repair removes those the index does not know."""
        ...


class Backend(Protocol):
    @property
    def partials(self) -> PartialStore | None:
        """None when the backend cannot keep an upload across requests: tus uploads are then refused."""
        ...

    def writer(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> Writer:
        """`public` (the store option access: 'public'): readable straight from the storage, at
        `public_url`; `region` (storeRegion): the region of an S3 container. Callers pass only the
        ones a client asked for (`storage_options`), and the same again to read, overwrite or
        delete the file."""
        ...

    def read(self, container: str, key: str, start: int, end: int, *, public: bool = False,
             region: str | None = None) -> AsyncIterator[bytes]:
        """Bytes start..end inclusive."""
        ...

    async def delete(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> None: ...

    def public_url(self, container: str, key: str, *, region: str | None = None) -> str:
        """Where anyone reads the file stored public at `key`: an absolute URL, or a path on the
        store itself (starting with `/`)."""
        ...

    def storage_roots(self) -> list[str]:
        """Where the location keeps its files, one entry per folder or bucket, each ending in `/`:
        two locations whose places overlap would write each other's keys (see `check_apart`)."""
        ...

    async def reachable(self) -> None:
        """Raise unless the storage answers a cheap call now (local: the folder takes a file; S3: a
        HEAD of each bucket; Azure: each container's properties): GET /readyz asks, with a time limit."""
        ...

    async def clear_leftovers(self, started: float, expiry: float) -> list[str]:
        """Remove what whole-file writes left behind that no running store process will finish (a
        process killed before its commit), and name it: on local disk, temporary files written
        before `started` (when this store process started) by a process no longer running; on S3,
        multipart uploads begun more than `expiry` seconds ago (S3 does not say which process began
        one); on Azure nothing (uncommitted blocks are never read, and Azure drops them by itself)."""
        ...


BACKENDS = ("local", "s3", "azure")


class Placement(Protocol):
    """How a file is (or will be) stored: a FileRecord, a Destination."""

    @property
    def public(self) -> bool: ...

    @property
    def region(self) -> str | None: ...


def storage_options(placement: Placement) -> dict[str, Any]:
    """`public` and `region` as a backend's keyword arguments: only those asked for, so that a
    backend that knows neither is called as before."""
    options: dict[str, Any] = {"public": True} if placement.public else {}
    return options | ({"region": placement.region} if placement.region else {})


def prefixed_url(prefix: str, container: str, key: str) -> str:
    return f"{prefix.rstrip('/')}/{quote(container, safe='')}/{quote(key)}"


def _module(location: Location) -> Any:
    if location.backend not in BACKENDS:
        raise ValueError(f"location {location.name!r}: unknown backend {location.backend!r}; known: {', '.join(BACKENDS)}")
    return importlib.import_module(f"{__name__}.{location.backend}")


def open_backend(location: Location, data_dir: Path) -> Backend:
    return _module(location).open_backend(location, data_dir)


def check_apart(backends: dict[str, Backend]) -> None:
    """ValueError, at start, when two locations keep their files in the same folder or bucket (or
    one within the other's): each one's claims on keys are its own, so a store in one would replace
    a file of the other at the same key."""
    seen: list[tuple[str, str]] = []
    for name, backend in backends.items():
        for place in backend.storage_roots():
            for other, there in seen:
                if other != name and (place.startswith(there) or there.startswith(place)):
                    raise ValueError(
                        f"locations {other!r} and {name!r} keep their files in the same place ({there} and {place}): "
                        "give each location a folder or bucket of its own"
                    )
            seen.append((name, place))


def check_key(location: Location, key: str) -> None:
    """StoreError 400 when the key is one the backend keeps for itself (its uploads in progress):
    checked where the key is made, before any byte is accepted."""
    _module(location).check_key(key)


def check_options(location: Location, *, public: bool = False, region: str | None = None) -> None:
    """StoreError 400 when the location cannot store a file with these options (access 'public'
    where its files stay private, a storeRegion S3 does not have): checked before any byte is
    accepted. The backend checks them again when it stores the file."""
    _module(location).check_options(location, public=public, region=region)
