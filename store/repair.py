"""What a store process stopped half way (killed, the machine gone) leaves behind, put right when a
store process starts (store.app's lifespan), before the first request:

- the temporary data of whole-file writes (POST /api/store, POST /api/file/{handle}) that no
  running process will commit: each backend's `clear_leftovers`;
- a tus upload whose bytes went to their key before its file was recorded: the upload's record
  holds its destination, so the file is recorded from it (size and sha256 read from the stored
  bytes) and the upload completed; if the key holds other bytes, or none, the upload is removed;
- an upload recorded before its bytes were created: its (empty) bytes are created; an unfinished
  upload whose bytes are gone is removed, since nobody can resume it;
- an upload's bytes that the index does not know, untouched for longer than `upload_expiry`.

An upload whose lease the stopped process still holds is put right once the lease runs out, and
by the next request that wants its file (resumable.complete calls `committed`)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import replace

from . import store_request
from .backends import storage_options
from .destination import Destination, checked_access, checked_region, key_taken
from .errors import StoreError, not_found
from .lease import LEASE_SECONDS, leased
from .records import FileRecord, UploadRecord
from .state import StoreState
from .tus_protocol import LOCKED, parse_metadata

log = logging.getLogger(__name__)


def upload_target(upload: UploadRecord) -> Destination:
    """Where a (non-partial) upload's file goes, as its record and metadata say."""
    options = store_request.from_metadata(parse_metadata(upload.metadata))
    return Destination(
        upload.app_key, upload.location, upload.container, upload.handle, upload.filename, upload.key,
        upload.mimetype, upload.writeable, checked_access(options.access), checked_region(options.region),
    )


async def _stored(state: StoreState, target: Destination, length: int) -> tuple[int, str] | None:
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
    """Try the uploads a lease held again once leases of stopped processes have run out."""
    for _ in range(3):
        if not held:
            return
        await asyncio.sleep(LEASE_SECONDS + 1)
        still = []
        for upload_id in held:
            try:
                if not await _settle(state, upload_id):
                    still.append(upload_id)
            except StoreError as exc:
                log.warning("upload %s: not repaired: %s", upload_id, exc.message)
        held = still
