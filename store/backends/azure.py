"""Azure Blob Storage through azure-storage-blob (its sync client, on worker threads): a container is
an Azure container, a file a block blob. A file goes up as staged blocks of at most 4 MiB and
appears at its key only when one Put Block List commits them. A resumable upload grows in a block
blob of its own, `.incoming/uploads/<upload id>`, committed after every request so that any store
process can read, cut and continue it, and is copied into blocks of the final blob inside Azure
(Put Block From URL) and committed there at once when whole.

Why not uncommitted blocks of the final blob all along: resumable.py reads an upload's bytes back
(another process rebuilds its sha256 from them; partial uploads are joined by reading them), Azure
cannot read an uncommitted block, and the final key is not known before the upload completes.

Public access is a property of an Azure container, never of one blob: a location with `public =
true` declares that its containers were made public (anyone may read a blob by its URL), and only
such a location takes files stored with access 'public'."""

from __future__ import annotations

import asyncio
import datetime
import functools
import logging
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobClient, BlobSasPermissions, BlobServiceClient, LinearRetry, generate_blob_sas

from ..config import Location
from ..errors import StoreError
from . import UPLOAD_ID, prefixed_url
from .settings import described, read_settings

log = logging.getLogger(__name__)

BLOCK_SIZE = 4 * 1024 * 1024  # a staged block's size, and the most of a file a write holds in memory
COPY_SIZE = 100 * 1024 * 1024  # bytes per Put Block From URL: the most every API version accepts
COPY_THREADS = 8  # Put Block From URL calls at once when an upload is copied into place
MAX_BLOCKS = 50_000  # committed blocks in one blob, Azure's limit
INCOMING = ".incoming/"
UPLOADS = INCOMING + "uploads/"
SAS_LIFETIME = datetime.timedelta(minutes=15)
_REFUSED = {"AuthenticationFailed", "AuthorizationFailure", "AuthorizationPermissionMismatch",
            "InvalidAuthenticationInfo", "NoAuthenticationInformation", "InsufficientAccountPermissions"}
_UNAVAILABLE = {"ServerBusy", "InternalError", "OperationTimedOut"}

T = TypeVar("T")


@dataclass(frozen=True)
class AzureSettings:
    """A location's Azure settings, from its table in the store's TOML file."""

    connection_string: str | None = None
    account_url: str | None = None
    account_name: str | None = None
    account_key: str | None = None
    # Where uploads in progress grow (default: the location's first container). Give a private one
    # when the location is public: a public container lets anyone read them by name.
    uploads_container: str | None = None
    # The location's containers were made public: files stored with access 'public' may go there.
    public: bool = False
    # Where files stored public are read (a CDN in front of the account), instead of the blob's URL.
    public_url_prefix: str | None = None

    @classmethod
    def from_location(cls, location: Location) -> AzureSettings:
        settings = read_settings(cls, location)
        if not settings.connection_string and not (settings.account_url and settings.account_name
                                                   and settings.account_key):
            raise ValueError(f"{described(location)}: give connection_string, or account_url with account_name "
                             "and account_key")
        return settings

    def client(self) -> BlobServiceClient:
        options: dict[str, Any] = {
            # The SDK's own default waits minutes on an endpoint that is down; a request should fail
            # in seconds (the picker retries a 5xx itself, with its own backoff).
            # (The SDK's hint says whole seconds of jitter; it draws them with random.uniform, which
            # takes half of one.)
            "retry_policy": LinearRetry(backoff=1, retry_total=3, random_jitter_range=0.5),  # type: ignore[arg-type]
            "connection_timeout": 10,
            # Downloads come in pieces of a block, never a whole file in memory.
            "max_single_get_size": BLOCK_SIZE,
            "max_chunk_get_size": BLOCK_SIZE,
        }
        if self.connection_string:
            return BlobServiceClient.from_connection_string(self.connection_string, **options)
        # from_location has made sure of all three when there is no connection string.
        assert self.account_url and self.account_name and self.account_key
        credential = {"account_name": self.account_name, "account_key": self.account_key}
        return BlobServiceClient(self.account_url, credential=credential, **options)


def _block_id(offset: int, prefix: str = "") -> str:
    """A block is named by the offset of its first byte (zero-padded: the ids of one blob must all
    have one length); the prefix, one per write, keeps two writes of one key out of each other's way."""
    return f"{prefix}{offset:020d}"


class _Blocks:
    """Stages bytes written in order as blocks of at most BLOCK_SIZE of one blob, the first at
    `offset`; `ids` lists them in order, ready for a commit."""

    def __init__(self, backend: AzureBackend, blob: BlobClient, offset: int = 0, prefix: str = "") -> None:
        self._backend = backend
        self._blob = blob
        self._prefix = prefix
        self._offset = offset
        self._buffer = bytearray()
        self.ids: list[str] = []
        self.size = 0

    async def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= BLOCK_SIZE:
            await self._stage(bytes(memoryview(self._buffer)[:BLOCK_SIZE]))
            del self._buffer[:BLOCK_SIZE]

    async def flush(self) -> None:
        if self._buffer:
            await self._stage(bytes(self._buffer))
            self._buffer.clear()

    async def _stage(self, block: bytes) -> None:
        block_id = _block_id(self._offset + self.size, self._prefix)
        await self._backend.call(self._blob, self._blob.stage_block, block_id, block, len(block))
        self.ids.append(block_id)
        self.size += len(block)


class AzureWriter:
    """Until `commit` the bytes are uncommitted blocks: no reader sees them, and Azure drops them by
    itself (at the blob's next commit, or after a week)."""

    def __init__(self, backend: AzureBackend, container: str, key: str) -> None:
        self._backend = backend
        self._blob = backend.blob(container, key)
        self._blocks = _Blocks(backend, self._blob, prefix=secrets.token_hex(8))

    async def write(self, data: bytes) -> None:
        await self._blocks.write(data)

    async def commit(self) -> None:
        await self._blocks.flush()
        await self._backend.call(self._blob, self._blob.commit_block_list, self._blocks.ids)

    async def abort(self) -> None:
        """Nothing to remove: Azure has no call that drops uncommitted blocks, and they expire unseen."""


class AzurePartials:
    """Resumable uploads as block blobs `.incoming/uploads/<upload id>` in the uploads container,
    each block named by its offset, committed after every append: the block list and the bytes so
    far live in Azure, readable by every store process."""

    def __init__(self, backend: AzureBackend, container: str) -> None:
        self._backend = backend
        self._container = container

    def _blob(self, upload_id: str) -> BlobClient:
        # Upload ids are checked before they get here; this is the last line of defence.
        if not UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"{upload_id!r} is not an upload id")
        return self._backend.service.get_blob_client(self._container, UPLOADS + upload_id)

    async def _blocks_before(self, blob: BlobClient, offset: int) -> list[str]:
        """The committed blocks that hold bytes 0..offset-1, in order. A block reaching past `offset`
        is staged again with its head only, under its own id: a commit takes the newer block."""
        committed, _ = await self._backend.call(blob, blob.get_block_list, "committed")
        ids: list[str] = []
        start = 0
        for block in committed:
            if start >= offset:
                break
            if start + block.size > offset:
                head = await self._backend.call(blob, _download, blob, start, offset - start)
                await self._backend.call(blob, blob.stage_block, block.id, head, len(head))
            ids.append(block.id)
            start += block.size
        if start < offset:
            raise StoreError(500, f"upload blob {blob.blob_name!r} holds {start} bytes: it cannot go on at {offset}")
        return ids

    async def create(self, upload_id: str) -> None:
        blob = self._blob(upload_id)
        await self._backend.call(blob, blob.commit_block_list, [])

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        blob = self._blob(upload_id)
        kept = await self._blocks_before(blob, offset)
        blocks = _Blocks(self._backend, blob, offset)
        try:
            async for chunk in chunks:
                await blocks.write(chunk)
        finally:
            # Also when `chunks` broke off: what it yielded is kept, and the client resumes after it.
            await blocks.flush()
            if len(kept) + len(blocks.ids) > MAX_BLOCKS:
                raise StoreError(413, f"the upload would be more than Azure's {MAX_BLOCKS} blocks: send it in "
                                      "fewer, larger chunks")
            await self._backend.call(blob, blob.commit_block_list, kept + blocks.ids)
        return blocks.size

    async def truncate(self, upload_id: str, size: int) -> None:
        blob = self._blob(upload_id)
        await self._backend.call(blob, blob.commit_block_list, await self._blocks_before(blob, size))

    async def size(self, upload_id: str) -> int:
        blob = self._blob(upload_id)
        return (await self._backend.call(blob, blob.get_blob_properties)).size

    def read(self, upload_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        return self._backend.stream(self._blob(upload_id), start, end)

    async def commit(self, upload_id: str, container: str, key: str, *, public: bool = False,
                     region: str | None = None) -> None:
        """Copy the upload into blocks of the final blob inside Azure, then commit them at once:
        until then nothing is at the key."""
        self._backend.check_access(public)
        target = self._backend.blob(container, key)
        size = await self.size(upload_id)
        source = self._backend.readable_url(self._blob(upload_id))
        ids = await anyio.to_thread.run_sync(self._copy, source, target, size)
        await self._backend.call(target, target.commit_block_list, ids)
        try:
            await self.delete(upload_id)
        except StoreError as exc:
            # The file is whole at its key: the client hears of success. A lifecycle rule on
            # .incoming/ clears what stays.
            log.warning("upload %s: its blob stays under %s: %s", upload_id, UPLOADS, exc.message)

    def _copy(self, source: str, target: BlobClient, size: int) -> list[str]:
        """In a worker thread: `size` bytes of `source` staged as blocks of `target` by Azure itself,
        a few at once; their ids in order."""
        prefix = secrets.token_hex(8)

        def block(start: int) -> str:
            block_id = _block_id(start, prefix)
            self._backend.call_blocking(target, target.stage_block_from_url, block_id, source, source_offset=start,
                                        source_length=min(COPY_SIZE, size - start))
            return block_id

        with ThreadPoolExecutor(COPY_THREADS) as pool:
            return list(pool.map(block, range(0, size, COPY_SIZE)))

    async def delete(self, upload_id: str) -> None:
        await self._backend.delete_blob(self._blob(upload_id))

    async def exists(self, upload_id: str) -> bool:
        blob = self._blob(upload_id)
        return await self._backend.call(blob, blob.exists)

    async def upload_ids(self, before: float) -> list[str]:
        container = self._backend.service.get_container_client(self._container)

        def listed() -> list[str]:
            try:
                items = list(container.list_blobs(name_starts_with=UPLOADS))
            except AzureError as exc:
                raise self._backend.error(exc, self._container, UPLOADS) from exc
            return [item.name[len(UPLOADS):] for item in items
                    if UPLOAD_ID.fullmatch(item.name[len(UPLOADS):]) and item.last_modified.timestamp() < before]

        return await anyio.to_thread.run_sync(listed)


def _download(blob: BlobClient, offset: int, length: int) -> bytes:
    return blob.download_blob(offset=offset, length=length).readall()


class AzureBackend:
    def __init__(self, location: Location) -> None:
        self.name = location.name
        self.settings = AzureSettings.from_location(location)
        self.service = self.settings.client()  # no request yet: the store starts with Azure down
        self.partials = AzurePartials(self, self.settings.uploads_container or location.default_container)
        self.containers = location.containers

    # --- Azure calls ----------------------------------------------------------------------------

    def call_blocking(self, blob: BlobClient, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One SDK call about `blob`, in the calling (worker) thread; what Azure refuses, and an
        account that cannot be reached, become StoreErrors that say which."""
        try:
            return fn(*args, **kwargs)
        except AzureError as exc:
            raise self.error(exc, blob.container_name, blob.blob_name) from exc

    async def call(self, blob: BlobClient, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(self.call_blocking, blob, fn, *args, **kwargs))

    def error(self, exc: AzureError, container: str, key: str) -> StoreError:
        code = getattr(exc, "error_code", None)
        code = str(getattr(code, "value", code) or "")  # the SDK gives an enum or a plain string
        status = exc.status_code if isinstance(exc, HttpResponseError) else None
        where = f"location {self.name!r}, container {container!r}"
        account = f"Azure storage account {self.service.account_name!r}"
        if code == "ContainerNotFound":
            return StoreError(502, f"{where}: the container does not exist in {account}: create it, or correct "
                                   "the location's containers")
        if code == "BlobNotFound" or (isinstance(exc, ResourceNotFoundError) and not code):
            return StoreError(404, f"{where}: no blob at key {key!r}: the stored bytes are gone")
        if code in _REFUSED or isinstance(exc, ClientAuthenticationError):
            return StoreError(502, f"{where}: {account} refused the store's credentials ({code or status}): check "
                                   "the location's connection_string or account_key")
        if code == "InvalidBlockList":
            return StoreError(409, f"{where}: another write to key {key!r} was committed while this one went on: "
                                   "send the file again")
        if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
            return StoreError(503, f"{where}: cannot reach {account} at {self.service.primary_endpoint}: retry later")
        if code in _UNAVAILABLE or (status or 0) >= 500:
            return StoreError(503, f"{where}: {account} is unavailable ({code or status}): retry later")
        detail = exc.reason if isinstance(exc, HttpResponseError) else type(exc).__name__
        return StoreError(502, f"{where}: {account} answered {code or status}: {detail}")

    def readable_url(self, blob: BlobClient) -> str:
        """The blob's URL with the right to read it for a while: Azure copies from it."""
        key = getattr(self.service.credential, "account_key", None)
        account = self.service.account_name
        if key is None or account is None:
            return blob.url  # a connection string's shared access signature is in the URL already
        expiry = datetime.datetime.now(datetime.UTC) + SAS_LIFETIME
        sas = generate_blob_sas(account, blob.container_name, blob.blob_name, account_key=key,
                                permission=BlobSasPermissions(read=True), expiry=expiry)
        return f"{blob.url}?{sas}"

    async def stream(self, blob: BlobClient, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end inclusive of one blob, a block at a time."""
        downloader = await self.call(blob, blob.download_blob, offset=start, length=end - start + 1)
        pieces = downloader.chunks()
        while (piece := await self.call(blob, next, pieces, None)) is not None:
            yield piece

    async def delete_blob(self, blob: BlobClient) -> None:
        try:
            await self.call(blob, blob.delete_blob)
        except StoreError as exc:
            if exc.code != 404:
                raise

    # --- the Backend interface ------------------------------------------------------------------

    def blob(self, container: str, key: str) -> BlobClient:
        check_key(key)
        return self.service.get_blob_client(container, key)

    def check_access(self, public: bool) -> None:
        check_public(self.name, self.settings, public)

    def writer(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> AzureWriter:
        # `region` (storeRegion) is for S3 buckets: an Azure container's region is its account's.
        self.check_access(public)
        return AzureWriter(self, container, key)

    def read(self, container: str, key: str, start: int, end: int, *, public: bool = False,
             region: str | None = None) -> AsyncIterator[bytes]:
        return self.stream(self.blob(container, key), start, end)

    async def delete(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> None:
        await self.delete_blob(self.blob(container, key))

    def storage_roots(self) -> list[str]:
        return [f"{self.service.url.rstrip('/')}/{container}/" for container in self.containers]

    def public_url(self, container: str, key: str, *, region: str | None = None) -> str:
        if self.settings.public_url_prefix:
            return prefixed_url(self.settings.public_url_prefix, container, key)
        return self.blob(container, key).url

    async def reachable(self) -> None:
        def probe() -> None:
            for container in self.containers:
                try:
                    self.service.get_container_client(container).get_container_properties()
                except AzureError as exc:
                    raise self.error(exc, container, "") from exc

        # asyncio's thread rather than anyio's: a caller that stops waiting is not held by the SDK's retries.
        await asyncio.to_thread(probe)

    async def clear_leftovers(self, started: float, expiry: float) -> list[str]:
        # A writer's uncommitted blocks: no reader sees them, and Azure drops them by itself (at the
        # blob's next commit, or after a week); Azure has no call that removes them alone.
        return []


def check_key(key: str) -> None:
    if key.startswith(INCOMING):
        raise StoreError(400, f"key {key!r}: keys under {INCOMING!r} are kept for uploads in progress")


def check_public(location: str, settings: AzureSettings, public: bool) -> None:
    if public and not settings.public:
        raise StoreError(400, f"location {location!r} keeps its files private, and Azure makes a whole container "
                              "public, never one file: store with access 'public' in a location with public = true")


def check_options(location: Location, *, public: bool = False, region: str | None = None) -> None:
    check_public(location.name, AzureSettings.from_location(location), public)


def open_backend(location: Location, data_dir: Path) -> AzureBackend:
    return AzureBackend(location)
