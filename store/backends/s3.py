"""S3-compatible object storage (AWS S3, MinIO, Ceph) through boto3: a container is a bucket. A file
streams into a multipart upload, one part buffered at a time, and appears at its key only when the
upload completes. A resumable upload grows as objects under `.incoming/<upload id>/` in the
location's default bucket — whole parts and a tail shorter than a part — where any store process
can read, cut and continue it, and is assembled at its key by server-side copies when whole."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import boto3
from botocore.config import Config as ClientConfig
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError, NoCredentialsError

from ..config import Location
from ..errors import StoreError
from . import UPLOAD_ID, prefixed_url
from .settings import described, read_settings

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3's floor for every part but the last
MAX_PART_SIZE = 5 * 1024 * MIB  # S3's ceiling for a part, and for a single copy
DEFAULT_PART_SIZE = 8 * MIB  # 10,000 parts of it hold the default 50 GiB max_upload_size
MAX_PARTS = 10_000
READ_SIZE = 256 * 1024
COPY_THREADS = 8  # server-side part copies run at once when an upload is assembled
INCOMING = ".incoming/"
TAIL = "tail"
_PART = re.compile(r"part-(\d{5})")

_REFUSED = {"AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccountProblem",
            "InvalidToken", "ExpiredToken"}
_UNAVAILABLE = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}


@dataclass(frozen=True)
class S3Settings:
    """A location's S3 settings, from its table in the store's TOML file."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    part_size: int = DEFAULT_PART_SIZE
    # Make missing buckets on first use: for the demo and tests, never for a real deployment.
    create_buckets: bool = False
    # Where files stored public are read (a CDN in front of the buckets), instead of S3's own URL.
    public_url_prefix: str | None = None

    @classmethod
    def from_location(cls, location: Location) -> S3Settings:
        settings = read_settings(cls, location)
        where = described(location)
        if (settings.access_key_id is None) != (settings.secret_access_key is None):
            raise ValueError(f"{where}: give both access_key_id and secret_access_key, or neither")
        part_size = settings.part_size
        whole = isinstance(part_size, int) and not isinstance(part_size, bool)
        if not whole or not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"{where}: part_size must be a number of bytes from {MIN_PART_SIZE} to {MAX_PART_SIZE}")
        return settings


class S3Backend:
    def __init__(self, location: Location) -> None:
        self.name = location.name
        self.settings = S3Settings.from_location(location)
        self.part_size = self.settings.part_size
        self.endpoint = self.settings.endpoint_url or "AWS S3"
        self.containers = location.containers
        self.partials = S3Partials(self, location.default_container)
        self._clients: dict[str | None, Any] = {}
        self._created: set[str] = set()
        self._lock = threading.Lock()
        _aws_regions()  # read once, at start rather than on the first request that names a region

    # --- S3 calls -------------------------------------------------------------------------------

    def _client(self, region: str | None) -> Any:
        """One client per region, made on first use: a client is thread-safe, a session is not."""
        region = region or self.settings.region
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                session = boto3.session.Session(
                    aws_access_key_id=self.settings.access_key_id,
                    aws_secret_access_key=self.settings.secret_access_key,
                    region_name=region,
                )
                config = ClientConfig(
                    connect_timeout=5,
                    read_timeout=60,
                    retries={"mode": "standard", "max_attempts": 3},
                    max_pool_connections=COPY_THREADS * 2,
                    # S3-compatible stores (MinIO, Ceph, moto) serve buckets as paths, not host names,
                    # and several refuse the checksums AWS's SDKs now send by default.
                    s3={"addressing_style": "path"} if self.settings.endpoint_url else {},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                )
                client = session.client("s3", endpoint_url=self.settings.endpoint_url, config=config)
                self._clients[region] = client
            return client

    def check_region(self, region: str | None) -> None:
        check_region(self.settings, region)

    def call_blocking(self, operation: str, region: str | None = None, **params: Any) -> Any:
        """One S3 operation, in the calling (worker) thread. S3's refusals and an endpoint that
        cannot be reached become StoreErrors that say which."""
        bucket = params.get("Bucket")
        try:
            client = self._client(region)
            if self.settings.create_buckets and bucket and bucket not in self._created:
                self._create_bucket(client, bucket)
            return getattr(client, operation)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise self.error(exc, bucket, params.get("Key")) from exc

    async def call(self, operation: str, region: str | None = None, **params: Any) -> Any:
        return await anyio.to_thread.run_sync(functools.partial(self.call_blocking, operation, region, **params))

    def _create_bucket(self, client: Any, bucket: str) -> None:
        region = client.meta.region_name
        params: dict[str, Any] = {"Bucket": bucket}
        if region and region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            client.create_bucket(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        with self._lock:
            self._created.add(bucket)

    def error(self, exc: Exception, bucket: str | None, key: str | None = None) -> StoreError:
        where = f"location {self.name!r}" + (f", bucket {bucket!r}" if bucket else "")
        if isinstance(exc, ClientError):
            error: Mapping[str, Any] = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code == "NoSuchBucket":
                return StoreError(502, f"{where}: the bucket does not exist at {self.endpoint}: "
                                       "create it, or correct the location's containers")
            if code in _REFUSED:
                return StoreError(502, f"{where}: S3 refused access ({code}): check the location's "
                                       "credentials and the bucket's policy")
            if code == "AccessControlListNotSupported":
                return StoreError(502, f"{where}: the bucket takes no ACLs, and access 'public' needs one: "
                                       "enable ACLs on the bucket (Object Ownership) or store the file private")
            if code in ("NoSuchKey", "404"):
                return StoreError(404, f"{where}: no object at key {key!r}: the stored bytes are gone")
            if code in _UNAVAILABLE or status >= 500:
                return StoreError(503, f"{where}: S3 at {self.endpoint} is unavailable ({code}): retry later")
            return StoreError(502, f"{where}: S3 at {self.endpoint} answered {code}: {error.get('Message', '')}")
        if isinstance(exc, (ConnectionError, HTTPClientError)):
            return StoreError(503, f"{where}: cannot reach S3 at {self.endpoint}: {exc}")
        if isinstance(exc, NoCredentialsError):
            return StoreError(503, f"{where}: no S3 credentials: set access_key_id and secret_access_key, "
                                   "or give the store process AWS credentials")
        return StoreError(502, f"{where}: S3 request failed: {exc}")

    async def stream(self, bucket: str, key: str, start: int, end: int,
                     region: str | None = None) -> AsyncIterator[bytes]:
        """Bytes start..end inclusive of one object, in chunks as they arrive."""
        response = await self.call("get_object", region, Bucket=bucket, Key=key, Range=f"bytes={start}-{end}")
        body = response["Body"]

        def read() -> bytes:
            try:
                return body.read(READ_SIZE)
            except BotoCoreError as exc:
                raise self.error(exc, bucket, key) from exc

        try:
            while chunk := await anyio.to_thread.run_sync(read):
                yield chunk
        finally:
            body.close()

    # --- the Backend interface ------------------------------------------------------------------

    def check_key(self, key: str) -> None:
        check_key(key)

    def writer(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> S3Writer:
        self.check_key(key)
        self.check_region(region)
        return S3Writer(self, container, key, public, region)

    def read(self, container: str, key: str, start: int, end: int, *, public: bool = False,
             region: str | None = None) -> AsyncIterator[bytes]:
        return self.stream(container, key, start, end, region)

    async def delete(self, container: str, key: str, *, public: bool = False, region: str | None = None) -> None:
        await self.call("delete_object", region, Bucket=container, Key=key)

    async def reachable(self) -> None:
        def probe() -> None:
            for bucket in self.containers:
                self.call_blocking("head_bucket", Bucket=bucket)

        # asyncio's thread rather than anyio's: a caller that stops waiting is not held by boto3's retries.
        await asyncio.to_thread(probe)

    async def clear_leftovers(self, started: float, expiry: float) -> list[str]:
        """Abort the multipart uploads of the location's buckets begun more than `expiry` seconds
        ago: a whole file's writer that never committed (its process was killed)."""
        return await anyio.to_thread.run_sync(self._abort_stale, time.time() - expiry)

    def _abort_stale(self, before: float) -> list[str]:
        aborted: list[str] = []
        for bucket in self.containers:
            token: dict[str, str] = {}
            while True:
                listed = self.call_blocking("list_multipart_uploads", Bucket=bucket, **token)
                for upload in listed.get("Uploads", []):
                    if upload["Initiated"].timestamp() < before:
                        self.call_blocking("abort_multipart_upload", Bucket=bucket, Key=upload["Key"],
                                           UploadId=upload["UploadId"])
                        aborted.append(f"{bucket}/{upload['Key']} ({upload['UploadId']})")
                if not listed.get("IsTruncated"):
                    break
                token = {"KeyMarker": listed["NextKeyMarker"], "UploadIdMarker": listed["NextUploadIdMarker"]}
        return aborted

    def storage_roots(self) -> list[str]:
        return [f"s3://{self.endpoint}/{bucket}/" for bucket in self.containers]

    def public_url(self, container: str, key: str, *, region: str | None = None) -> str:
        """The object's own URL: on the endpoint, bucket first, as the store addresses it there; on
        AWS, at the bucket's host name in its region."""
        if self.settings.public_url_prefix:
            return prefixed_url(self.settings.public_url_prefix, container, key)
        if self.settings.endpoint_url:
            return prefixed_url(self.settings.endpoint_url, container, key)
        region = region or self.settings.region or "us-east-1"
        if "." in container:  # a host name with more labels than AWS's certificate covers
            return prefixed_url(f"https://s3.{region}.amazonaws.com", container, key)
        return f"https://{container}.s3.{region}.amazonaws.com/{quote(key)}"


@functools.lru_cache(maxsize=1)
def _aws_regions() -> frozenset[str]:
    session = boto3.session.Session()
    return frozenset(region for partition in session.get_available_partitions()
                     for region in session.get_available_regions("s3", partition))


def check_region(settings: S3Settings, region: str | None) -> None:
    """storeRegion comes from clients: only real regions (and the location's own) get a client, so
    that the cache of clients stays small."""
    if region is not None and region != settings.region and region not in _aws_regions():
        raise StoreError(400, f"storeRegion {region!r} is not an S3 region this store knows")


def check_key(key: str) -> None:
    if key.startswith(INCOMING):
        raise StoreError(400, f"key {key!r}: keys under {INCOMING!r} are kept for uploads in progress")


def check_options(location: Location, *, public: bool = False, region: str | None = None) -> None:
    # Any object may be public: its ACL says so.
    check_region(S3Settings.from_location(location), region)


def open_backend(location: Location, data_dir: Path) -> S3Backend:
    return S3Backend(location)


def _acl(public: bool) -> dict[str, str]:
    # Private objects get no ACL at all: buckets that enforce their owner's rights refuse any.
    return {"ACL": "public-read"} if public else {}


class S3Writer:
    """A file into a multipart upload, one part at a time; a file smaller than a part is one PUT."""

    def __init__(self, backend: S3Backend, bucket: str, key: str, public: bool, region: str | None) -> None:
        self._backend = backend
        self._object = {"Bucket": bucket, "Key": key}
        self._public = public
        self._region = region
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    async def _call(self, operation: str, **params: Any) -> Any:
        return await self._backend.call(operation, self._region, **self._object, **params)

    async def _send_part(self, size: int) -> None:
        if self._upload_id is None:
            created = await self._call("create_multipart_upload", **_acl(self._public))
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        if number > MAX_PARTS:
            raise StoreError(413, f"the file is larger than S3's {MAX_PARTS} parts of {self._backend.part_size} "
                                  "bytes: raise the location's part_size")
        body = bytes(memoryview(self._buffer)[:size])
        sent = await self._call("upload_part", UploadId=self._upload_id, PartNumber=number, Body=body)
        del self._buffer[:size]
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= self._backend.part_size:
            await self._send_part(self._backend.part_size)

    async def commit(self) -> None:
        if self._upload_id is None:
            await self._call("put_object", Body=bytes(self._buffer), **_acl(self._public))
        else:
            if self._buffer:
                await self._send_part(len(self._buffer))
            await self._call("complete_multipart_upload", UploadId=self._upload_id,
                             MultipartUpload={"Parts": self._parts})
        self._buffer = bytearray()

    async def abort(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is not None:
            try:
                await self._call("abort_multipart_upload", UploadId=self._upload_id)
            except StoreError as exc:
                # The refusal that led here is what the client hears; S3 lifecycle rules that abort
                # incomplete multipart uploads clear this one.
                log.warning("multipart upload %s stays behind: %s", self._upload_id, exc.message)


@dataclass(frozen=True)
class _Layout:
    """An upload's objects as listed: its whole parts in order, then its tail (None if missing)."""

    parts: list[tuple[int, int]]  # (part number, size)
    tail: int | None

    @property
    def size(self) -> int:
        return sum(size for _, size in self.parts) + (self.tail or 0)


class S3Partials:
    """Resumable uploads as objects in the location's default bucket: `.incoming/<id>/part-00001`…
    each one part long, and `.incoming/<id>/tail` with the bytes after the last whole part. Each step
    leaves objects that truncating to the index's recorded offset puts right, so an upload survives
    the store process that was writing it."""

    def __init__(self, backend: S3Backend, bucket: str) -> None:
        self._backend = backend
        self._bucket = bucket

    def _key(self, upload_id: str, name: str) -> str:
        # Upload ids are checked before they get here; this is the last line of defence.
        if not UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"{upload_id!r} is not an upload id")
        return f"{INCOMING}{upload_id}/{name}"

    def _part(self, upload_id: str, number: int) -> str:
        return self._key(upload_id, f"part-{number:05d}")

    async def _call(self, operation: str, **params: Any) -> Any:
        return await self._backend.call(operation, Bucket=self._bucket, **params)

    async def _layout(self, upload_id: str) -> _Layout:
        prefix = self._key(upload_id, "")
        parts: list[tuple[int, int]] = []
        tail = None
        token: dict[str, str] = {}
        while True:
            listed = await self._call("list_objects_v2", Prefix=prefix, **token)
            for item in listed.get("Contents", []):
                name = item["Key"][len(prefix):]
                if name == TAIL:
                    tail = item["Size"]
                elif match := _PART.fullmatch(name):
                    parts.append((int(match.group(1)), item["Size"]))
            if not listed.get("IsTruncated"):
                break
            token = {"ContinuationToken": listed["NextContinuationToken"]}
        return _Layout(sorted(parts), tail)

    async def _get(self, key: str, size: int) -> bytes:
        """The first `size` bytes of an object no longer than a part or two."""
        if size <= 0:
            return b""
        return b"".join([chunk async for chunk in self._backend.stream(self._bucket, key, 0, size - 1)])

    async def _put_tail(self, upload_id: str, data: bytes) -> None:
        await self._call("put_object", Key=self._key(upload_id, TAIL), Body=data)

    async def _delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes 1000 keys at most
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            deleted = await self._call("delete_objects", Delete={"Objects": batch, "Quiet": True})
            if deleted.get("Errors"):
                first = deleted["Errors"][0]
                raise StoreError(502, f"location {self._backend.name!r}: S3 did not delete {first.get('Key')!r}: "
                                      f"{first.get('Code')}: {first.get('Message')}")

    async def _cut(self, upload_id: str, layout: _Layout, size: int) -> tuple[list[tuple[int, int]], bytes]:
        """Drop every byte from `size` on; return the parts kept and the tail's bytes."""
        if size > layout.size:
            raise StoreError(500, f"upload {upload_id!r} holds {layout.size} bytes in bucket {self._bucket!r}: "
                                  f"it cannot continue at {size}")
        start = 0
        for index, (number, part_size) in enumerate(layout.parts):
            if size < start + part_size:
                # The cut falls in this part: its head becomes the tail. The tail is written before
                # any part goes, and this part goes last, so that a process stopping half way
                # leaves objects the same cut puts right.
                tail = await self._get(self._part(upload_id, number), size - start)
                await self._put_tail(upload_id, tail)
                await self._delete([self._part(upload_id, n) for n, _ in layout.parts[index + 1:]])
                await self._delete([self._part(upload_id, number)])
                return layout.parts[:index], tail
            start += part_size
        tail = await self._get(self._key(upload_id, TAIL), size - start)
        if layout.tail != len(tail):
            await self._put_tail(upload_id, tail)
        return layout.parts, tail

    async def create(self, upload_id: str) -> None:
        await self._put_tail(upload_id, b"")

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        parts, tail = await self._cut(upload_id, await self._layout(upload_id), offset)
        number = parts[-1][0] if parts else 0
        part_size = self._backend.part_size
        buffer = bytearray(tail)
        written = 0
        try:
            async for chunk in chunks:
                buffer += chunk
                written += len(chunk)
                while len(buffer) >= part_size:
                    if number + 1 >= MAX_PARTS:  # and the tail is a part of its own at the end
                        raise StoreError(413, f"the upload is larger than S3's {MAX_PARTS} parts of {part_size} "
                                              "bytes: raise the location's part_size")
                    body = bytes(memoryview(buffer)[:part_size])
                    await self._call("put_object", Key=self._part(upload_id, number + 1), Body=body)
                    number += 1
                    del buffer[:part_size]
        finally:
            # Even when `chunks` broke off: what it yielded is kept. Until this write, the last
            # part begins with the old tail, which is what a cut back to the old offset restores.
            await self._put_tail(upload_id, bytes(buffer))
        return written

    async def truncate(self, upload_id: str, size: int) -> None:
        await self._cut(upload_id, await self._layout(upload_id), size)

    async def size(self, upload_id: str) -> int:
        return (await self._layout(upload_id)).size

    async def read(self, upload_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        layout = await self._layout(upload_id)
        pieces = [(self._part(upload_id, number), size) for number, size in layout.parts]
        pieces.append((self._key(upload_id, TAIL), layout.tail or 0))
        first = 0
        for key, size in pieces:
            last = first + size - 1
            if size and first <= end and start <= last:
                async for chunk in self._backend.stream(self._bucket, key, max(start, first) - first,
                                                        min(end, last) - first):
                    yield chunk
            first += size

    async def commit(self, upload_id: str, container: str, key: str, *, public: bool = False,
                     region: str | None = None) -> None:
        self._backend.check_key(key)
        self._backend.check_region(region)
        layout = await self._layout(upload_id)
        pieces = [self._part(upload_id, number) for number, _ in layout.parts]
        if layout.tail or not pieces:
            pieces.append(self._key(upload_id, TAIL))
        target = {"Bucket": container, "Key": key}
        if len(pieces) == 1:
            source = {"Bucket": self._bucket, "Key": pieces[0]}
            await self._backend.call("copy_object", region, **target, CopySource=source, **_acl(public))
        else:
            await anyio.to_thread.run_sync(self._assemble, pieces, target, public, region)
        try:
            await self.delete(upload_id)
        except StoreError as exc:
            # The file is whole at its key; a lifecycle rule on .incoming/ clears what stays.
            log.warning("upload %s: its parts stay under %s: %s", upload_id, INCOMING, exc.message)

    def _assemble(self, pieces: list[str], target: dict[str, str], public: bool, region: str | None) -> None:
        """In a worker thread: a multipart upload at the key made of server-side copies of the
        pieces, a few at once, completed only when every piece is in: until then nothing is there."""
        def call(operation: str, **params: Any) -> Any:
            return self._backend.call_blocking(operation, region, **target, **params)

        upload_id = call("create_multipart_upload", **_acl(public))["UploadId"]

        def copy(numbered: tuple[int, str]) -> dict[str, Any]:
            number, piece = numbered
            copied = call("upload_part_copy", UploadId=upload_id, PartNumber=number,
                          CopySource={"Bucket": self._bucket, "Key": piece})
            return {"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]}

        try:
            with ThreadPoolExecutor(COPY_THREADS) as pool:
                parts = list(pool.map(copy, enumerate(pieces, 1)))
            call("complete_multipart_upload", UploadId=upload_id, MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                call("abort_multipart_upload", UploadId=upload_id)
            except StoreError as exc:
                log.warning("multipart upload %s stays behind: %s", upload_id, exc.message)
            raise

    async def delete(self, upload_id: str) -> None:
        layout = await self._layout(upload_id)
        keys = [self._part(upload_id, number) for number, _ in layout.parts]
        if layout.tail is not None:
            keys.append(self._key(upload_id, TAIL))
        await self._delete(keys)

    async def exists(self, upload_id: str) -> bool:
        layout = await self._layout(upload_id)
        return layout.tail is not None or bool(layout.parts)

    async def upload_ids(self, before: float) -> list[str]:
        written: dict[str, float] = {}  # upload id: when its newest object was written
        token: dict[str, str] = {}
        while True:
            listed = await self._call("list_objects_v2", Prefix=INCOMING, **token)
            for item in listed.get("Contents", []):
                name = item["Key"][len(INCOMING):].partition("/")[0]
                if UPLOAD_ID.fullmatch(name):
                    written[name] = max(written.get(name, 0.0), item["LastModified"].timestamp())
            if not listed.get("IsTruncated"):
                return [name for name, when in written.items() if when < before]
            token = {"ContinuationToken": listed["NextContinuationToken"]}
