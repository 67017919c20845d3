"""Resumable uploads over the index and a backend's PartialStore: create, receive a body, complete,
join partial uploads, terminate, expire. No HTTP here: store/tus_routes.py speaks the protocol."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import replace
from typing import Any

from . import metrics, store_request
from .backends import PartialStore, storage_options
from .content_type import SNIFF_BYTES, check_sniffed
from .crash import crash_point
from .destination import Destination, at_taken_key, checked_access, checked_region, claim, key_taken
from .errors import StoreError, bad_request
from .lease import Lease, leased
from .records import FileRecord, UploadRecord
from .repair import clear_leftovers, committed, settle_writes
from .state import StoreState
from .tus_protocol import CHECKSUM_MISMATCH, LOCKED, UploadChecksum, check_pending, check_room, parse_metadata

SWEEP_BATCH = 50  # expired uploads one sweep step removes before it lets the requests waiting run


class Interrupted(Exception):
    """The body stopped before its end: the client went away."""


def partials(state: StoreState, location: str) -> PartialStore:
    store = state.backends[location].partials
    if store is None:
        raise bad_request(
            f"location {location!r} cannot keep resumable uploads: store files there with POST /api/store"
        )
    return store


def expiry(state: StoreState, offset: int) -> float:
    """How long an unfinished upload is kept from now: upload_expiry once it has bytes, and only
    empty_upload_expiry (when shorter) while it has none, so that uploads declared and never sent
    do not hold their place for long."""
    config = state.config
    return config.upload_expiry if offset else min(config.empty_upload_expiry, config.upload_expiry)


def new_upload(
    upload_id: str,
    *,
    app_key: str,
    location: str,
    length: int,
    metadata: str,
    concat: str,
    target: Destination | None,
    now: float,
    expiry: float,
) -> UploadRecord:
    """A fresh upload's state; `target` is None for a partial upload, which is never a file."""
    return UploadRecord(
        id=upload_id,
        app_key=app_key,
        location=location,
        length=length,
        offset=0,
        metadata=metadata,
        concat=concat,
        container=target.container if target else "",
        key=target.key if target else "",
        handle=target.handle if target else "",
        filename=target.filename if target else "",
        mimetype=target.mimetype if target else "",
        writeable=target.writeable if target else False,
        completed=False,
        created=now,
        expires=now + expiry,
    )


def _target(upload: UploadRecord) -> Destination:
    """Where an upload's file goes, as its creation checked it and its metadata says."""
    options = store_request.from_metadata(parse_metadata(upload.metadata))
    return Destination(
        upload.app_key, upload.location, upload.container, upload.handle, upload.filename, upload.key,
        upload.mimetype, upload.writeable, checked_access(options.access), checked_region(options.region),
    )


async def create(state: StoreState, upload: UploadRecord) -> UploadRecord:
    """Record a new upload and make room for its bytes. An upload of a file claims its key first
    (StoreError 409 when another file or upload holds it), or, when its sender may write the file
    stored there, becomes an overwrite of that file: the upload as created is returned. StoreError
    429 when the app's unfinished uploads are at their limits (checked as the upload is recorded)."""
    store = partials(state, upload.location)
    if not upload.partial:
        options = store_request.from_metadata(parse_metadata(upload.metadata))
        target = await at_taken_key(state.index, state.config, _target(upload), options, now=upload.created)
        upload = replace(
            upload, handle=target.handle, filename=target.filename, mimetype=target.mimetype,
            writeable=target.writeable,
        )
        await claim(state.index, target, upload.id, until=upload.expires, now=time.time())
    try:
        app = state.config.apps[upload.app_key]
        limits = (app.max_pending_uploads, app.max_pending_bytes)
        if (pending := await state.index.add_upload(upload, within=limits)) is not None:
            check_pending(app.key, *pending, upload.length, *limits)
        crash_point("upload-recorded")
        try:
            await store.create(upload.id)
        except BaseException:
            await state.index.delete_upload(upload.id)  # storage that refuses it leaves no upload behind
            raise
    except BaseException:
        await _release(state, upload)
        raise
    return upload


async def _release(state: StoreState, upload: UploadRecord) -> None:
    if upload.key:
        await state.index.release_key(upload.location, upload.container, upload.key, upload.id)


async def _digest(state: StoreState, store: PartialStore, upload: UploadRecord) -> Any:
    """The sha256 of the upload's bytes so far, to continue: this process's running one when it has
    reached the upload's offset, else rebuilt by reading the bytes once (after a restart, or when
    another store process took the chunks since)."""
    running = state.running.digests.get(upload.id)
    if running is not None and running[0] == upload.offset:
        return running[1].copy()  # a copy: a refused chunk must leave the running one as it was
    digest = hashlib.sha256()
    if upload.offset:
        async for chunk in store.read(upload.id, 0, upload.offset - 1):
            digest.update(chunk)
    return digest


async def _head_so_far(state: StoreState, store: PartialStore, upload: UploadRecord) -> bytearray | None:
    """The first bytes an upload of a file has received, while it has fewer than its type is
    sniffed by; None once they were sniffed, and for a partial upload (its final upload's first
    bytes are sniffed as the parts are joined)."""
    if upload.partial or upload.offset >= min(SNIFF_BYTES, upload.length):
        return None
    head = bytearray()
    if upload.offset:
        async for chunk in store.read(upload.id, 0, upload.offset - 1):
            head.extend(chunk)
    return head


def _sniff(state: StoreState, upload: UploadRecord, head: bytearray, chunk: bytes) -> None:
    """Add the chunk's start to the upload's first bytes; once there are as many as are sniffed
    (or the whole file), StoreError 403 when they show a type the app does not accept."""
    wanted = min(SNIFF_BYTES, upload.length)
    if len(head) < wanted:
        head.extend(chunk[:wanted - len(head)])
        app = state.config.apps.get(upload.app_key)
        if len(head) >= wanted and app is not None:
            check_sniffed(app, bytes(head), upload.length, upload.mimetype)


async def receive(
    state: StoreState, upload: UploadRecord, body: AsyncIterable[bytes], checksum: UploadChecksum | None, lease: Lease
) -> UploadRecord:
    """Append one request body at the upload's offset and advance the offset. A body that fails its
    Upload-Checksum is discarded (460). An interrupted body keeps what arrived, unless a checksum
    was to vouch for it."""
    store = partials(state, upload.location)
    digest = None if upload.partial else await _digest(state, store, upload)
    check = checksum.hasher() if checksum else None
    received = 0
    counter = metrics.BYTES_RECEIVED.labels(metrics.TUS)
    head = await _head_so_far(state, store, upload)

    async def counted() -> AsyncIterator[bytes]:
        nonlocal received
        async for chunk in body:
            counter.inc(len(chunk))  # received, whether kept or refused
            check_room(upload, received + len(chunk))
            if head is not None:
                _sniff(state, upload, head, chunk)
            await lease.renew()
            received += len(chunk)
            if digest is not None:
                digest.update(chunk)
            if check is not None:
                check.update(chunk)
            yield chunk

    interrupted = False
    try:
        await store.append(upload.id, upload.offset, counted())
    except Interrupted:
        interrupted = True
    except BaseException:
        await store.truncate(upload.id, upload.offset)
        raise
    if checksum is not None and check is not None and (interrupted or check.digest() != checksum.digest):
        await store.truncate(upload.id, upload.offset)
        if interrupted:
            return upload  # nobody is listening for the 460
        raise StoreError(
            CHECKSUM_MISMATCH,
            f"the chunk's {checksum.algorithm} does not match its Upload-Checksum: it was not kept; send it again",
        )
    offset = upload.offset + received
    upload = replace(upload, offset=offset, expires=time.time() + expiry(state, offset))
    await state.index.save_upload(upload)
    if digest is not None:
        state.running.digests[upload.id] = (upload.offset, digest)
    return upload


async def complete(state: StoreState, upload: UploadRecord) -> tuple[UploadRecord, FileRecord]:
    """Store a whole upload's bytes at its key and record the file: only now is it visible."""
    store = partials(state, upload.location)
    if not await store.exists(upload.id):
        return await committed(state, upload)  # a store process stopped between its commit and its records
    size = await store.size(upload.id)
    if size != upload.length:
        raise StoreError(500, f"upload {upload.id!r} holds {size} bytes where its Upload-Length is {upload.length}")
    digest = await _digest(state, store, upload)
    target = _target(upload)
    stored = await state.index.find_file(target.location, target.container, target.key)
    if stored is not None and stored.handle == target.handle:  # an overwrite: stored as the file was
        target = replace(target, public=stored.public, region=stored.region)
    # Claimed again, now that the bytes are about to go to the key: an upload whose claim lapsed
    # (it expired) while another file took the key is refused, and that file's bytes are untouched.
    now = time.time()
    await claim(state.index, target, upload.id, until=now + state.config.upload_expiry, now=now)
    await store.commit(upload.id, target.container, target.key, **storage_options(target))
    crash_point("upload-committed")
    record = target.record(upload.length, digest.hexdigest())
    if not await state.index.add_file(record):
        raise key_taken(target.key)
    crash_point("file-recorded")
    upload = replace(upload, completed=True, expires=time.time() + state.config.upload_expiry)
    await state.index.save_upload(upload)
    state.running.digests.pop(upload.id, None)
    metrics.UPLOADS_FINISHED.labels(metrics.TUS).inc()
    return upload, record


async def join(
    state: StoreState, final: UploadRecord, parts: list[UploadRecord]
) -> tuple[UploadRecord, FileRecord]:
    """Fill a final upload with its (leased, whole) partial uploads' bytes in order, store it, and
    remove the parts. If anything fails, the final upload is removed and the parts are kept."""
    store = partials(state, final.location)
    digest = hashlib.sha256()

    head = bytearray()

    async def hashed(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            _sniff(state, final, head, chunk)
            digest.update(chunk)
            yield chunk

    try:
        offset = 0
        for part in parts:
            if part.length:
                chunks = partials(state, part.location).read(part.id, 0, part.length - 1)
                offset += await store.append(final.id, offset, hashed(chunks))
        final = replace(final, offset=offset)
        await state.index.save_upload(final)
        state.running.digests[final.id] = (offset, digest)
        done = await complete(state, final)
    except BaseException:
        await terminate(state, final)
        raise
    for part in {part.id: part for part in parts}.values():
        await terminate(state, part)
    return done


async def terminate(state: StoreState, upload: UploadRecord) -> None:
    """Remove an upload's bytes (a completed file stays where it was stored) and then its state: in
    that order, so that no bytes outlive the state a sweep would find them by."""
    if not upload.completed or upload.partial:
        await partials(state, upload.location).delete(upload.id)
    await state.index.delete_upload(upload.id)
    await _release(state, upload)  # its claim on the key, if it still has one
    state.running.digests.pop(upload.id, None)


async def expire(state: StoreState, upload: UploadRecord) -> bool:
    """Remove an upload past its expiry, unless a request holds it or its storage fails now (the
    next sweep will): whether it went."""
    try:
        async with leased(state.locks, upload.id):
            await terminate(state, upload)
    except StoreError as exc:
        if exc.code != LOCKED and exc.code < 500:
            raise
        return False
    if not upload.completed and not upload.partial:
        metrics.UPLOADS_FAILED.labels(metrics.TUS).inc()  # abandoned by its client
    return True


async def sweep(state: StoreState, now: float) -> int:
    """Remove every upload past its expiry, SWEEP_BATCH at a time, letting other work run between
    two batches: how many went."""
    removed = 0
    while True:
        batch = await state.index.expired_uploads(now, SWEEP_BATCH)
        gone = 0
        for upload in batch:
            gone += await expire(state, upload)
        removed += gone
        if len(batch) < SWEEP_BATCH or not gone:  # all swept, or the rest is for the next sweep
            break
        await asyncio.sleep(0)
    await clear_leftovers(state)
    await settle_writes(state)
    return removed


def sweep_interval(state: StoreState) -> float:
    config = state.config
    return min(config.sweep_interval, config.upload_expiry)


async def _keep_sweeping(state: StoreState) -> None:
    # An upload goes once it has been expired for a sweep interval: a client that comes back just
    # after its upload's expiry hears 410 (expired) rather than 404.
    interval = sweep_interval(state)
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep(state, time.time() - interval)
        except Exception:  # the next sweep tries again
            logging.getLogger(__name__).exception("sweeping expired uploads failed")


@contextlib.asynccontextmanager
async def sweeping(state: StoreState) -> AsyncIterator[None]:
    """While the block runs, expired uploads are swept in the background every sweep_interval, off
    every request's path. Uploads that expired while no store process ran go first, before the
    block (the store's first request) starts."""
    await sweep(state, time.time())
    sweeper = asyncio.create_task(_keep_sweeping(state))
    try:
        yield
    finally:
        sweeper.cancel()
        await asyncio.wait([sweeper])
