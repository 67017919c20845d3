"""One suite for every storage backend, each on real storage (a folder; a moto server for S3): whole
files through a Writer, byte ranges, deletion, and resumable uploads through the PartialStore the
way store/resumable.py drives it. A backend joins by adding a factory to BACKENDS."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from harness.backend_calls import append, commit, partial_bytes, partials, pieces, read, size, write
from harness.inthread import run_async
from store.backends import Backend
from store.backends.azure import AzureBackend
from store.backends.local import LocalBackend
from store.backends.s3 import MIN_PART_SIZE, S3Backend
from store.config import Location

MIB = 1024 * 1024
PART = MIN_PART_SIZE  # S3's part size here: the smallest S3 takes, so that files span several parts


@dataclass
class Subject:
    """A backend on storage of its own, and what that storage itself says, without the backend."""

    backend: Backend
    containers: tuple[str, str]  # the default container first
    exists: Callable[[str, str], bool]  # is a file visible at (container, key)?
    leftovers: Callable[[], list[str]]  # temporary objects: uploads in progress, unfinished parts
    another: Callable[[], Backend]  # the same storage as another store process sees it


def local(request: pytest.FixtureRequest) -> Subject:
    root = request.getfixturevalue("tmp_path") / "root"
    return Subject(
        backend=LocalBackend(root),
        containers=("files", "other-files"),
        exists=lambda container, key: (root / container / key).is_file(),
        leftovers=lambda: [str(p) for p in (root / ".incoming").rglob("*") if p.is_file()],
        another=lambda: LocalBackend(root),
    )


def s3(request: pytest.FixtureRequest) -> Subject:
    moto = request.getfixturevalue("moto")
    client = moto.client()
    tag = uuid.uuid4().hex[:12]
    containers = (f"one-{tag}", f"two-{tag}")
    for bucket in containers:
        client.create_bucket(Bucket=bucket)
    location = Location("s3", "s3", containers, {**moto.settings(), "part_size": PART})

    def exists(container: str, key: str) -> bool:
        try:
            client.head_object(Bucket=container, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return False
            raise
        return True

    def leftovers() -> list[str]:
        found = []
        for bucket in containers:
            listed = client.list_objects_v2(Bucket=bucket, Prefix=".incoming/").get("Contents", [])
            found += [item["Key"] for item in listed]
            found += [f"unfinished multipart upload of {upload['Key']}"
                      for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
        return found

    return Subject(S3Backend(location), containers, exists, leftovers, lambda: S3Backend(location))


def azure(request: pytest.FixtureRequest) -> Subject:
    azurite = request.getfixturevalue("azurite")
    service = azurite.service()
    tag = uuid.uuid4().hex[:12]
    containers = (f"one-{tag}", f"two-{tag}")
    for container in containers:
        service.create_container(container)
    location = Location("azure", "azure", containers, {"connection_string": azurite.connection_string})

    def leftovers() -> list[str]:
        # Uploads in progress are blobs under .incoming/. An aborted write's uncommitted blocks are
        # no object (nothing reads them, listings leave them out, Azure drops them itself): see
        # test_backend_azure.py.
        return [blob.name for container in containers
                for blob in service.get_container_client(container).list_blobs(name_starts_with=".incoming/")]

    return Subject(
        backend=AzureBackend(location),
        containers=containers,
        exists=lambda container, key: service.get_blob_client(container, key).exists(),
        leftovers=leftovers,
        another=lambda: AzureBackend(location),
    )


BACKENDS: dict[str, Callable[[pytest.FixtureRequest], Subject]] = {"local": local, "s3": s3, "azure": azure}


@pytest.fixture(params=sorted(BACKENDS))
def subject(request: pytest.FixtureRequest) -> Subject:
    return BACKENDS[request.param](request)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored(subject: Subject, container: str, key: str, size: int) -> bytes:
    assert subject.exists(container, key)
    return read(subject.backend, container, key, 0, size - 1) if size else b""


# --- whole files through a Writer -----------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1000, 12 * MIB + 345], ids=["empty", "small", "12-mib-in-parts"])
def test_a_file_is_stored_whole_and_reads_back_exactly(subject, size):
    data = os.urandom(size)
    container = subject.containers[0]
    write(subject.backend, container, "dir/file.bin", data)
    assert sha256(stored(subject, container, "dir/file.bin", size)) == sha256(data)
    assert subject.leftovers() == []


def test_nothing_is_visible_at_the_key_before_commit(subject):
    container = subject.containers[0]

    async def run() -> None:
        writer = subject.backend.writer(container, "pending.bin")
        await writer.write(os.urandom(PART + 1))  # a whole part is on its way already
        assert not subject.exists(container, "pending.bin")
        await writer.write(b"end")
        assert not subject.exists(container, "pending.bin")
        await writer.commit()

    run_async(run)
    assert subject.exists(container, "pending.bin")


def test_an_aborted_file_leaves_nothing_behind(subject):
    container = subject.containers[0]

    async def run() -> None:
        writer = subject.backend.writer(container, "aborted.bin")
        await writer.write(os.urandom(2 * PART + 1))
        await writer.abort()

    run_async(run)
    assert not subject.exists(container, "aborted.bin")
    assert subject.leftovers() == []


def test_a_second_commit_at_a_key_replaces_the_first(subject):
    container = subject.containers[0]
    write(subject.backend, container, "again.txt", b"first version, longer")
    write(subject.backend, container, "again.txt", b"second")
    assert stored(subject, container, "again.txt", 6) == b"second"


def test_a_file_goes_to_the_container_named(subject):
    default, other = subject.containers
    write(subject.backend, other, "elsewhere.txt", b"other container")
    assert stored(subject, other, "elsewhere.txt", 15) == b"other container"
    assert not subject.exists(default, "elsewhere.txt")


def test_byte_ranges_read_back_exactly_across_part_boundaries(subject):
    data = os.urandom(2 * PART + 1000)
    container = subject.containers[0]
    write(subject.backend, container, "ranges.bin", data, piece=MIB)
    last = len(data) - 1
    for start, end in [(0, 0), (10, 99), (PART - 5, PART + 5), (PART, 2 * PART - 1), (last, last), (0, last),
                       (PART + 7, last)]:
        assert read(subject.backend, container, "ranges.bin", start, end) == data[start:end + 1], (start, end)


def test_delete_removes_the_file_and_a_second_delete_is_no_error(subject):
    container = subject.containers[0]
    write(subject.backend, container, "deleted.txt", b"bye")
    run_async(subject.backend.delete, container, "deleted.txt")
    assert not subject.exists(container, "deleted.txt")
    run_async(subject.backend.delete, container, "deleted.txt")


# --- resumable uploads through the PartialStore, as store/resumable.py drives it --------------------


def new_upload(subject: Subject) -> str:
    upload = uuid.uuid4().hex
    run_async(partials(subject.backend).create, upload)
    return upload


def test_chunks_that_cross_part_boundaries_grow_an_upload_committed_whole(subject):
    data = os.urandom(12 * MIB + 345)
    chunk = 3 * MIB + 1  # chunk ends fall inside parts, and parts end inside chunks
    upload, container = new_upload(subject), subject.containers[0]
    assert size(subject.backend, upload) == 0
    for offset in range(0, len(data), chunk):
        piece = data[offset:offset + chunk]
        assert append(subject.backend, upload, offset, piece) == len(piece)
        assert size(subject.backend, upload) == offset + len(piece)
    assert sha256(partial_bytes(subject.backend, upload)) == sha256(data)
    assert not subject.exists(container, "resumed.bin")
    commit(subject.backend, upload, container, "resumed.bin")
    assert sha256(stored(subject, container, "resumed.bin", len(data))) == sha256(data)
    assert subject.leftovers() == []


def test_an_upload_reads_back_any_range_of_its_bytes_so_far(subject):
    data = os.urandom(PART + 2 * MIB)
    upload = new_upload(subject)
    append(subject.backend, upload, 0, data[:PART - 10])
    append(subject.backend, upload, PART - 10, data[PART - 10:])
    for start, end in [(0, 0), (PART - 20, PART + 20), (PART, len(data) - 1), (len(data) - 1, len(data) - 1)]:
        assert partial_bytes(subject.backend, upload, start, end) == data[start:end + 1], (start, end)


def test_truncate_drops_a_refused_chunk_from_the_tail(subject):
    data = os.urandom(3 * MIB)
    upload, container = new_upload(subject), subject.containers[0]
    append(subject.backend, upload, 0, data[:2 * MIB])
    append(subject.backend, upload, 2 * MIB, os.urandom(MIB // 2))  # its checksum did not match
    run_async(partials(subject.backend).truncate, upload, 2 * MIB)
    assert size(subject.backend, upload) == 2 * MIB
    append(subject.backend, upload, 2 * MIB, data[2 * MIB:])
    commit(subject.backend, upload, container, "refused-then-resent.bin")
    assert stored(subject, container, "refused-then-resent.bin", len(data)) == data


def test_truncate_back_across_a_part_already_flushed(subject):
    data = os.urandom(2 * PART)
    upload, container = new_upload(subject), subject.containers[0]
    append(subject.backend, upload, 0, data[:PART - MIB])
    append(subject.backend, upload, PART - MIB, os.urandom(3 * MIB))  # a part filled, then refused
    run_async(partials(subject.backend).truncate, upload, PART - MIB)
    assert partial_bytes(subject.backend, upload) == data[:PART - MIB]
    append(subject.backend, upload, PART - MIB, data[PART - MIB:])
    commit(subject.backend, upload, container, "cut-back.bin")
    assert sha256(stored(subject, container, "cut-back.bin", len(data))) == sha256(data)
    assert subject.leftovers() == []


def test_append_drops_what_an_earlier_request_left_past_its_offset(subject):
    upload = new_upload(subject)
    append(subject.backend, upload, 0, b"a" * 1000)
    append(subject.backend, upload, 1000, os.urandom(PART))  # bytes the index never counted
    append(subject.backend, upload, 1000, b"b" * 10)
    assert partial_bytes(subject.backend, upload) == b"a" * 1000 + b"b" * 10


def test_append_keeps_what_a_failing_body_yielded_before_it_failed(subject):
    data = os.urandom(PART + MIB)
    upload = new_upload(subject)

    async def failing() -> AsyncIterator[bytes]:
        async for chunk in pieces(data, 64 * 1024):
            yield chunk
        raise ConnectionError("the client went away")

    with pytest.raises(ConnectionError):
        run_async(partials(subject.backend).append, upload, 0, failing())
    assert size(subject.backend, upload) == len(data)
    assert sha256(partial_bytes(subject.backend, upload)) == sha256(data)


def test_another_store_process_continues_an_upload_from_the_storage_alone(subject):
    data = os.urandom(PART + 3 * MIB)
    upload, container = new_upload(subject), subject.containers[1]
    append(subject.backend, upload, 0, data[:PART + MIB])
    other = subject.another()  # nothing in memory
    assert size(other, upload) == PART + MIB
    assert sha256(partial_bytes(other, upload)) == sha256(data[:PART + MIB])
    append(other, upload, PART + MIB, data[PART + MIB:])
    commit(other, upload, container, "shared.bin")
    assert sha256(stored(subject, container, "shared.bin", len(data))) == sha256(data)


def test_an_empty_upload_commits_an_empty_file(subject):
    upload, container = new_upload(subject), subject.containers[0]
    commit(subject.backend, upload, container, "empty-upload")
    assert stored(subject, container, "empty-upload", 0) == b""
    assert subject.leftovers() == []


def test_delete_removes_an_upload_and_a_second_delete_is_no_error(subject):
    upload = new_upload(subject)
    append(subject.backend, upload, 0, os.urandom(PART + 10))
    run_async(partials(subject.backend).delete, upload)
    assert subject.leftovers() == []
    run_async(partials(subject.backend).delete, upload)
