"""What only the S3 backend does, against a real moto server: parts of a multipart upload, objects of
an upload in progress, ACLs, regions, a process stopped half way, and what S3's refusals become.
tests/test_backends.py holds what every backend does."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from harness import free_port
from harness.backend_calls import append, partial_bytes, pieces, read, write
from harness.inthread import run_async
from harness.moto import Moto
from store.backends.s3 import INCOMING, MIN_PART_SIZE, S3Backend
from store.config import Location
from store.errors import StoreError

MIB = 1024 * 1024
PART = MIN_PART_SIZE
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture
def buckets(moto: Moto) -> Iterator[tuple[str, str]]:
    tag = uuid.uuid4().hex[:12]
    made = (f"one-{tag}", f"two-{tag}")
    for bucket in made:
        moto.client().create_bucket(Bucket=bucket)
    yield made


def backend_on(moto: Moto, containers: tuple[str, ...], **settings: object) -> S3Backend:
    return S3Backend(Location("s3", "s3", containers, {**moto.settings(), "part_size": PART, **settings}))


@pytest.fixture
def backend(moto: Moto, buckets: tuple[str, str]) -> S3Backend:
    return backend_on(moto, buckets)


def objects(moto: Moto, bucket: str, prefix: str = "") -> dict[str, int]:
    listed = moto.client().list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {item["Key"]: item["Size"] for item in listed}


def public(moto: Moto, bucket: str, key: str) -> bool:
    try:
        grants = moto.client().get_object_acl(Bucket=bucket, Key=key)["Grants"]
    except ClientError as exc:
        # moto 5.2.5 fails (500) on the ACL of a multipart object made without one: a private object.
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] != 500:
            raise
        return False
    return any(grant["Grantee"].get("URI") == ALL_USERS and grant["Permission"] == "READ" for grant in grants)


def refusal(call) -> StoreError:
    with pytest.raises(StoreError) as caught:
        run_async(call)
    return caught.value


async def write_all(backend: S3Backend, container: str, key: str, data: bytes) -> None:
    writer = backend.writer(container, key)
    async for chunk in pieces(data, 64 * 1024):
        await writer.write(chunk)
    await writer.commit()


# --- parts and upload objects ----------------------------------------------------------------------


def test_a_large_file_is_one_multipart_upload_of_whole_parts(moto, backend, buckets):
    write(backend, buckets[0], "large.bin", os.urandom(12 * MIB), piece=MIB)
    head = moto.client().head_object(Bucket=buckets[0], Key="large.bin")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 2 MiB
    assert head["ContentLength"] == 12 * MIB


def test_a_file_smaller_than_a_part_is_one_put(moto, backend, buckets):
    write(backend, buckets[0], "small.bin", os.urandom(PART - 1))
    assert "-" not in moto.client().head_object(Bucket=buckets[0], Key="small.bin")["ETag"]


def test_an_upload_in_progress_is_whole_parts_and_a_tail_in_the_default_bucket(moto, backend, buckets):
    upload = uuid.uuid4().hex
    run_async(backend.partials.create, upload)
    append(backend, upload, 0, os.urandom(2 * PART + 123))
    prefix = f"{INCOMING}{upload}/"
    assert objects(moto, buckets[0], prefix) == {
        f"{prefix}part-00001": PART, f"{prefix}part-00002": PART, f"{prefix}tail": 123,
    }


def test_a_committed_upload_is_one_object_of_copied_parts_and_its_upload_objects_are_gone(moto, backend, buckets):
    data = os.urandom(2 * PART + 123)
    upload = uuid.uuid4().hex
    run_async(backend.partials.create, upload)
    append(backend, upload, 0, data)
    run_async(backend.partials.commit, upload, buckets[1], "assembled.bin")
    assert read(backend, buckets[1], "assembled.bin", 0, len(data) - 1) == data
    assert moto.client().head_object(Bucket=buckets[1], Key="assembled.bin")["ETag"].strip('"').endswith("-3")
    assert objects(moto, buckets[0], INCOMING) == {}


def test_an_upload_resumes_after_a_process_stopped_between_a_part_and_its_tail(moto, backend, buckets):
    """Stopped after writing a part that begins with the old tail, before writing the new tail: the
    next append cuts back to the index's offset and the bytes are right."""
    data = os.urandom(PART + MIB)
    upload = uuid.uuid4().hex
    run_async(backend.partials.create, upload)
    append(backend, upload, 0, data[:3 * MIB])  # the index records offset 3 MiB
    stray = data[:3 * MIB] + os.urandom(PART - 3 * MIB)
    moto.client().put_object(Bucket=buckets[0], Key=f"{INCOMING}{upload}/part-00001", Body=stray)
    append(backend, upload, 3 * MIB, data[3 * MIB:])
    assert partial_bytes(backend, upload) == data


def test_an_upload_resumes_after_a_process_stopped_half_way_through_a_cut(moto, backend, buckets):
    """Stopped after writing the new tail of a cut inside a part, before deleting that part."""
    data = os.urandom(PART + MIB)
    upload = uuid.uuid4().hex
    run_async(backend.partials.create, upload)
    append(backend, upload, 0, data[:2 * MIB])
    append(backend, upload, 2 * MIB, os.urandom(PART))  # a part written, then refused
    head = f"{INCOMING}{upload}/part-00001"
    moto.client().put_object(Bucket=buckets[0], Key=f"{INCOMING}{upload}/tail", Body=data[:2 * MIB])
    assert head in objects(moto, buckets[0], INCOMING)
    append(backend, upload, 2 * MIB, data[2 * MIB:])
    assert partial_bytes(backend, upload) == data


def test_the_upload_folder_is_not_a_key_a_file_may_take(backend, buckets):
    with pytest.raises(StoreError) as caught:
        backend.writer(buckets[0], f"{INCOMING}someone-elses-upload/tail")
    assert caught.value.code == 400


# --- access and region -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, PART + 10], ids=["one-put", "multipart"])
def test_access_public_stores_the_object_public_read_and_private_is_the_default(moto, backend, buckets, size):
    write(backend, buckets[0], "public.bin", os.urandom(size), public=True)
    write(backend, buckets[0], "private.bin", os.urandom(size))
    assert public(moto, buckets[0], "public.bin")
    assert not public(moto, buckets[0], "private.bin")


def test_access_public_on_a_resumable_upload(moto, backend, buckets):
    upload = uuid.uuid4().hex
    run_async(backend.partials.create, upload)
    append(backend, upload, 0, os.urandom(PART + 10))
    run_async(lambda: backend.partials.commit(upload, buckets[0], "public-upload.bin", public=True))
    assert public(moto, buckets[0], "public-upload.bin")


def test_store_region_picks_a_client_of_that_region_and_an_unknown_region_is_400(backend, buckets):
    write(backend, buckets[0], "regional.txt", b"eu", region="eu-west-1")
    assert read(backend, buckets[0], "regional.txt", 0, 1) == b"eu"
    with pytest.raises(StoreError) as caught:
        backend.writer(buckets[0], "nowhere.txt", region="mars-north-1")
    assert caught.value.code == 400 and "mars-north-1" in caught.value.message


# --- what S3 refuses -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, PART + 10], ids=["one-put", "multipart"])
def test_a_bucket_missing_in_s3_is_a_clear_502_and_nothing_is_stored(moto, buckets, size):
    backend = backend_on(moto, (buckets[0], "missing-bucket"))
    error = refusal(lambda: write_all(backend, "missing-bucket", "f.bin", os.urandom(size)))
    assert error.code == 502
    assert "'missing-bucket'" in error.message and "does not exist" in error.message


def test_a_missing_default_bucket_refuses_a_resumable_upload_at_creation(moto):
    backend = backend_on(moto, ("missing-bucket",))
    error = refusal(lambda: backend.partials.create(uuid.uuid4().hex))
    assert error.code == 502 and "does not exist" in error.message


def test_committing_to_a_missing_bucket_is_a_clear_502_and_keeps_the_upload(moto, buckets):
    backend = backend_on(moto, (buckets[0], "missing-bucket"))
    data = os.urandom(PART + 10)
    upload = uuid.uuid4().hex
    run_async(backend.partials.create, upload)
    append(backend, upload, 0, data)
    error = refusal(lambda: backend.partials.commit(upload, "missing-bucket", "f.bin"))
    assert error.code == 502 and "'missing-bucket'" in error.message
    assert partial_bytes(backend, upload) == data  # a commit to the right place can follow


def test_an_unreachable_endpoint_is_a_clear_503(moto, buckets):
    dead = f"http://127.0.0.1:{free_port()}"
    backend = S3Backend(Location("s3", "s3", buckets, {**moto.settings(), "endpoint_url": dead}))
    error = refusal(lambda: write_all(backend, buckets[0], "f.bin", b"x"))
    assert error.code == 503 and "cannot reach S3" in error.message


def test_a_file_whose_object_is_gone_is_a_clear_404(backend, buckets):
    error = refusal(lambda: read_all(backend, buckets[0], "never-stored.bin"))
    assert error.code == 404 and "never-stored.bin" in error.message


async def read_all(backend: S3Backend, container: str, key: str) -> bytes:
    return b"".join([chunk async for chunk in backend.read(container, key, 0, 9)])


def test_create_buckets_makes_a_missing_bucket_on_first_use(moto):
    bucket = f"made-{uuid.uuid4().hex[:12]}"
    backend = backend_on(moto, (bucket,), create_buckets=True)
    write(backend, bucket, "first.txt", b"made")
    assert objects(moto, bucket) == {"first.txt": 4}


@pytest.mark.parametrize("settings, message", [
    ({"endpoint": "http://x"}, "unknown setting endpoint"),
    ({"part_size": 1024}, "part_size"),
    ({"access_key_id": "only-half"}, "both access_key_id and secret_access_key"),
    ({"create_buckets": "yes"}, "create_buckets"),
])
def test_a_location_with_wrong_settings_is_refused_at_start(settings, message):
    with pytest.raises(ValueError, match=message):
        S3Backend(Location("s3", "s3", ("files",), settings))
