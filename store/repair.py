"""What a store process stopped half way (killed, the machine gone) leaves behind, put right when a
store process starts (store.app's lifespan), before the first request:

- the temporary data of whole-file writes (POST /api/store, POST /api/file/{handle}) that no
  running process will commit: each backend's `clear_leftovers`;
- a whole-file write whose process died after putting its bytes at the key and before recording
  them, found by its claim once that runs out (store.claimed): a new file's bytes, which its sender
  never heard of, are removed so that the sender's retry finds the key free; an overwrite's record
  is made to say what the key now holds;
- a tus upload whose bytes went to their key before its file was recorded: the upload's record
  holds its destination, so the file is recorded from it (size and sha256 read from the stored
  bytes) and the upload completed; if the key holds other bytes, or none, the upload is removed;
- an upload recorded before its bytes were created: its (empty) bytes are created; an unfinished
  upload whose bytes are gone is removed, since nobody can resume it;
- an upload's bytes that the index does not know, untouched for longer than `upload_expiry`.

An upload whose lease the stopped process still holds (or a write whose claim it holds) is put
right once that runs out, and an upload by the next request that wants its file
(resumable.complete calls `committed`)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import replace

from . import store_request
from .backends import storage_options
from .claimed import CLAIM_SECONDS
from .destination import Destination, checked_access, checked_region, key_taken
from .errors import StoreError, not_found
from .lease import LEASE_SECONDS, leased
from .records import FileRecord, UploadRecord, WholeWrite
from .state import StoreState
from .tus_protocol import LOCKED, parse_metadata

log = logging.getLogger(__name__)
WRITES_BATCH = 50  # whole-file writes of dead processes taken at a time


def upload_target(upload: UploadRecord) -> Destination:
    """Where a (non-partial) upload's file goes, as its record and metadata say."""
    options = store_request.from_metadata(parse_metadata(upload.metadata))
    return Destination(
        upload.app_key, upload.location, upload.container, upload.handle, upload.filename, upload.key,
        upload.mimetype, upload.writeable, checked_access(options.access), checked_region(options.region),
    )


async def _stored(state: StoreState, target: Destination | WholeWrite, length: int) -> tuple[int, str] | None:
    """The size and sha256 of the first `length` bytes at the target's key; None if none are there."""
    digest = hashlib.sha256()
    size = 0
    if length:
        chunks = state.backends[target.location].read(target.container, target.key, 0, length - 1,
                                                       **storage_options(target))
        try:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
        except FileNotFoundError:
            return None
        except StoreError as exc:
            if exc.code == 404:
                return None
            raise
    return size, digest.hexdigest()


async def _remove(state: StoreState, upload: UploadRecord) -> None:
    """An upload whose bytes are gone: its state goes, and its claim on its key."""
    await state.index.delete_upload(upload.id)
    if upload.key:
        await state.index.release_key(upload.location, upload.container, upload.key, upload.id)
    state.running.digests.pop(upload.id, None)


async def committed(state: StoreState, upload: UploadRecord) -> tuple[UploadRecord, FileRecord]:
    """Complete an upload whose bytes are no longer where uploads grow: they were committed to its
    key, and the process stopped before recording the file (or its overwrite), or before marking the
    upload completed. Called holding the upload's lease. Removes the upload (404) when its key holds
    other bytes, or none."""
    target = upload_target(upload)
    record = await state.index.get_file(upload.handle)
    if record is not None:  # an overwrite, or a file recorded before the process stopped: stored as it is
        target = replace(target, public=record.public, region=record.region)
    stored = await _stored(state, target, upload.length)
    if stored is None or stored[0] != upload.length:
        await _remove(state, upload)
        raise not_found(f"upload {upload.id!r}: its bytes are lost (a store process stopped while storing "
                        "them): send the file again")
    if record is None or (record.size, record.sha256) != stored:
        record = target.record(*stored)
        if not await state.index.add_file(record):
            raise key_taken(target.key)
        log.warning("upload %s: recorded its file %s, stored before a store process stopped", upload.id, record.handle)
    upload = replace(upload, completed=True, expires=time.time() + state.config.upload_expiry)
    await state.index.save_upload(upload)
    state.running.digests.pop(upload.id, None)
    return upload, record


async def _settle(state: StoreState, upload_id: str) -> bool:
    """Put one unfinished upload right; False when a request (or a stopped process) holds it.
    StoreErrors of 500 and more (the storage down) are the caller's."""
    try:
        async with leased(state.locks, upload_id):
            upload = await state.index.get_upload(upload_id)
            backend = state.backends.get(upload.location) if upload is not None else None
            if upload is None or upload.completed or backend is None or backend.partials is None:
                return True
            store = backend.partials
            if await store.exists(upload.id):
                return True  # it resumes from its offset, or completes on its next request
            if upload.offset == upload.length and not upload.partial:
                await committed(state, upload)
            elif upload.offset == 0:
                await store.create(upload.id)  # stopped between its record and its bytes
            else:
                await _remove(state, upload)
                log.warning("upload %s: its bytes are gone, so it was removed", upload.id)
    except StoreError as exc:
        if exc.code == LOCKED:
            return False
        if exc.code >= 500:
            raise
        log.warning("upload %s: not repaired: %s", upload_id, exc.message)
    return True


async def _settle_write(state: StoreState, write: WholeWrite) -> None:
    backend = state.backends.get(write.location)
    record = await state.index.find_file(write.location, write.container, write.key)
    if backend is not None and write.size is not None and (record is None or record.handle == write.handle):
        stored = await _stored(state, write, write.size)
        if stored == (write.size, write.sha256):  # the bytes went to the key: the process died after that
            if record is None:
                await backend.delete(write.container, write.key, **storage_options(write))
                log.warning("location %s: removed %s, stored by a store process that stopped before recording "
                            "it or answering its sender", write.location, write.key)
            elif (record.size, record.sha256) != stored:
                await state.index.add_file(replace(
                    record, size=stored[0], sha256=stored[1], mimetype=write.mimetype, created=time.time()
                ))
                log.warning("file %s: recorded its new bytes, overwritten by a store process that stopped before "
                            "recording them", record.handle)
    await state.index.release_key(write.location, write.container, write.key, write.handle)


async def settle_writes(state: StoreState) -> None:
    """Put right the whole-file writes whose claims ran out (see the module's text). A write whose
    storage fails now is left: its claim runs out again and a later sweep tries it again."""
    while True:
        now = time.time()
        batch = await state.index.take_lapsed_writes(now, now + CLAIM_SECONDS, WRITES_BATCH)
        for write in batch:
            try:
                await _settle_write(state, write)
            except StoreError as exc:
                log.warning("location %s: the write of %s not repaired: %s", write.location, write.key, exc.message)
        if len(batch) < WRITES_BATCH:
            return
        await asyncio.sleep(0)


async def _drop_unknown(state: StoreState, location: str, before: float) -> None:
    store = state.backends[location].partials
    if store is not None:
        for upload_id in await store.upload_ids(before):
            if await state.index.get_upload(upload_id) is None:
                await store.delete(upload_id)
                log.warning("location %s: removed the bytes of upload %s, which the index does not know", location,
                            upload_id)


async def clear_leftovers(state: StoreState) -> set[str]:
    """What whole-file writes of stopped processes left: at start, and with every sweep of expired
    uploads (one listing per location), for processes that stopped since. The locations whose
    storage failed."""
    failed = set()
    for name, backend in state.backends.items():
        try:
            for left in await backend.clear_leftovers(state.running.started, state.config.upload_expiry):
                log.warning("location %s: removed %s, left by a store process that stopped", name, left)
        except StoreError as exc:
            log.warning("location %s: leftovers not cleared: %s", name, exc.message)
            failed.add(name)
    return failed


async def repair(state: StoreState) -> list[str]:
    """Put right what stopped processes left (see the module's text), when this process starts. The
    ids of the uploads still held by a lease, to try again once it has run out. A location whose
    storage fails is left for the next start, after one try: the store starts with it down."""
    failed = await clear_leftovers(state)
    await settle_writes(state)
    held = []
    for upload in await state.index.unfinished_uploads():
        if upload.location in failed:
            continue
        try:
            if not await _settle(state, upload.id):
                held.append(upload.id)
        except StoreError as exc:
            log.warning("location %s: uploads not repaired: %s", upload.location, exc.message)
            failed.add(upload.location)
    for location in state.backends.keys() - failed:
        try:
            await _drop_unknown(state, location, state.running.started - state.config.upload_expiry)
        except StoreError as exc:
            log.warning("location %s: uploads the index does not know not cleared: %s", location, exc.message)
    return held


async def repair_held(state: StoreState, held: list[str]) -> None:
    """Try the uploads a lease held again, and the whole-file writes a claim held, once leases and
    claims of stopped processes have run out."""
    for _ in range(3):
        await asyncio.sleep(max(LEASE_SECONDS, CLAIM_SECONDS) + 1)
        await settle_writes(state)
        if not held:
            return
        still = []
        for upload_id in held:
            try:
                if not await _settle(state, upload_id):
                    still.append(upload_id)
            except StoreError as exc:
                log.warning("upload %s: not repaired: %s", upload_id, exc.message)
        held = still
