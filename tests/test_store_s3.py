"""A real store process with an `s3` location on a real moto server: POST /api/store and tus uploads
(the tuspy client) to location "S3" round-trip their exact bytes, storeContainer picks the bucket,
access 'public' sets the ACL, and S3 that refuses or cannot be reached gives a clear error with
nothing recorded."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tusclient.client import TusClient

from harness import free_port
from harness.moto import Moto, run_moto
from harness.store_process import Store, run_store

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
CONFIG = """
[store]
data_dir = "{{data_dir}}"
default_location = "local"

[apps.demo]
key = "demo"
secret = "demo-secret"
allowed_origins = ["*"]

[locations.local]
backend = "local"
root = "files"
containers = ["files"]

[locations.S3]
backend = "s3"
{settings}
containers = {containers}
"""


def s3_config(settings: dict[str, str], containers: list[str]) -> str:
    lines = "\n".join(f'{name} = "{value}"' for name, value in settings.items())
    return CONFIG.format(settings=lines, containers=json.dumps(containers))


@pytest.fixture(scope="module")
def buckets(moto: Moto) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:12]
    made = (f"one-{tag}", f"two-{tag}")
    for bucket in made:
        moto.client().create_bucket(Bucket=bucket)
    return made


@pytest.fixture(scope="module")
def s3_store(moto: Moto, buckets: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    config = s3_config(moto.settings(), [*buckets, "missing-bucket"])
    with run_store(tmp_path_factory.mktemp("s3-store"), config) as running:
        yield running


@pytest.fixture(scope="module")
def client(s3_store: Store) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=s3_store.url, timeout=60) as c:
        yield c


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def in_s3(moto: Moto, bucket: str, key: str) -> bytes:
    return moto.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def recorded(store: Store, container: str) -> int:
    """How many files the store's index has in `container`."""
    with sqlite3.connect(store.data_dir / "index.sqlite3") as db:
        return db.execute("SELECT count(*) FROM files WHERE container = ?", (container,)).fetchone()[0]


def incoming(moto: Moto, bucket: str) -> list[str]:
    listed = moto.client().list_objects_v2(Bucket=bucket, Prefix=".incoming/").get("Contents", [])
    return [item["Key"] for item in listed]


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def test_post_api_store_to_location_s3_round_trips_the_exact_bytes(moto, buckets, client):
    data = os.urandom(9 * MIB + 123)  # more than one part of the default 8 MiB
    response = client.post("/api/store/S3", params={"key": "demo", "filename": "posted.bin"}, content=data)
    assert response.status_code == 200, response.text
    blob = response.json()
    assert blob["container"] == buckets[0] and blob["size"] == len(data) and blob["sha256"] == sha256(data)
    assert sha256(in_s3(moto, buckets[0], blob["key"])) == sha256(data)
    assert sha256(client.get(f"/api/file/{blob['handle']}").content) == sha256(data)
    ranged = client.get(f"/api/file/{blob['handle']}", headers={"Range": "bytes=8388600-8388615"})
    assert ranged.status_code == 206 and ranged.content == data[8388600:8388616]


def test_tuspy_uploads_12_mib_in_3_mib_chunks_to_the_bucket_store_container_names(moto, buckets, s3_store, tmp_path):
    data = os.urandom(12 * MIB + 4321)
    path = tmp_path / "source.bin"
    path.write_bytes(data)
    uploader = TusClient(f"{s3_store.url}/api/upload").uploader(
        str(path), chunk_size=3 * MIB, upload_checksum=True,
        metadata={"apikey": "demo", "filename": "tus.bin", "location": "S3", "container": buckets[1]},
    )
    uploader.upload()
    assert uploader.request is not None  # the last request, which stored the file
    blob = json.loads(uploader.request.response_content)
    assert blob["container"] == buckets[1] and blob["sha256"] == sha256(data)
    assert sha256(in_s3(moto, buckets[1], blob["key"])) == sha256(data)
    with httpx.Client(timeout=60) as c:
        assert sha256(c.get(blob["url"]).content) == sha256(data)
    assert incoming(moto, buckets[0]) == []


def test_access_public_stores_a_public_read_object(moto, buckets, client):
    response = client.post("/api/store/s3", params={"key": "demo", "access": "public"}, content=b"for all")
    assert response.status_code == 200, response.text
    grants = moto.client().get_object_acl(Bucket=buckets[0], Key=response.json()["key"])["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in [g["Grantee"] for g in grants]


def test_access_other_than_public_or_private_is_400(client):
    response = client.post("/api/store/s3", params={"key": "demo", "access": "everyone"}, content=b"x")
    assert response.status_code == 400 and "access" in response.json()["message"]


def test_a_missing_bucket_is_a_clear_error_and_nothing_is_recorded(s3_store, client):
    response = client.post("/api/store/s3", params={"key": "demo", "container": "missing-bucket"},
                           content=os.urandom(9 * MIB))
    assert response.status_code == 502
    assert "'missing-bucket'" in response.json()["message"] and "does not exist" in response.json()["message"]
    assert recorded(s3_store, "missing-bucket") == 0


def test_a_tus_upload_to_a_missing_bucket_is_a_clear_error_and_leaves_nothing(moto, buckets, s3_store, client):
    data = os.urandom(6 * MIB)
    meta = metadata(apikey="demo", filename="lost.bin", location="s3", container="missing-bucket")
    response = client.post("/api/upload", content=data, headers={
        **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": meta,
        "Content-Type": "application/offset+octet-stream",
    })
    assert response.status_code == 502 and "'missing-bucket'" in response.json()["message"]
    assert recorded(s3_store, "missing-bucket") == 0
    assert incoming(moto, buckets[0]) == []


def test_the_upload_folder_of_a_bucket_is_no_path_a_file_may_take(client):
    response = client.post("/api/store/s3", params={"key": "demo", "path": ".incoming/x/tail"}, content=b"x")
    assert response.status_code == 400 and ".incoming/" in response.json()["message"]


def test_unreachable_s3_is_a_clear_503_for_uploads_and_reads_and_the_store_still_serves(tmp_path: Path):
    short = {"PICKSTORE__store__upload_expiry": "1"}  # unfinished uploads expire after a second
    with run_moto() as moto:
        bucket = f"gone-{uuid.uuid4().hex[:12]}"
        moto.client().create_bucket(Bucket=bucket)
        config = s3_config(moto.settings(), [bucket])
        with run_store(tmp_path, config, short) as store, httpx.Client(base_url=store.url, timeout=60) as c:
            blob = c.post("/api/store/s3", params={"key": "demo"}, content=b"stored before S3 went").json()
            unfinished = c.post("/api/upload", headers={**TUS, "Upload-Length": "5",
                                                        "Upload-Metadata": metadata(apikey="demo", location="s3")})
            assert unfinished.status_code == 201, unfinished.text
    time.sleep(1.1)
    dead = {**moto.settings(), "endpoint_url": f"http://127.0.0.1:{free_port()}"}
    # Starting, the store sweeps the expired upload; S3 cannot be reached, so it stays for a later sweep.
    with run_store(tmp_path, s3_config(dead, [bucket]), short) as store, \
            httpx.Client(base_url=store.url, timeout=60) as c:
        posted = c.post("/api/store/s3", params={"key": "demo"}, content=b"x")
        assert posted.status_code == 503 and "cannot reach S3" in posted.json()["message"]
        created = c.post("/api/upload", headers={**TUS, "Upload-Length": "5",
                                                 "Upload-Metadata": metadata(apikey="demo", location="s3")})
        assert created.status_code == 503 and "cannot reach S3" in created.json()["message"]
        read = c.get(f"/api/file/{blob['handle']}")
        assert read.status_code == 503 and "cannot reach S3" in read.json()["message"]
        assert c.post("/api/store", params={"key": "demo"}, content=b"local still works").status_code == 200
    assert recorded(store, bucket) == 1  # only the file stored before
    with sqlite3.connect(store.data_dir / "index.sqlite3") as db:
        assert db.execute("SELECT id FROM uploads").fetchall() == [(unfinished.headers["location"].rsplit("/", 1)[1],)]


def test_store_region_chooses_the_client_and_one_that_is_no_region_is_400_at_creation(moto, buckets, client):
    response = client.post("/api/store/s3", params={"key": "demo", "region": "eu-west-1"}, content=b"regional")
    assert response.status_code == 200, response.text
    assert in_s3(moto, buckets[0], response.json()["key"]) == b"regional"
    created = client.post("/api/upload", headers={
        **TUS, "Upload-Length": "5", "Upload-Metadata": metadata(apikey="demo", location="s3", region="../x"),
    })
    assert created.status_code == 400 and "storeRegion" in created.json()["message"]


def test_two_store_processes_serve_one_s3_upload_in_turns(moto, buckets, tmp_path):
    """Each takes a chunk in turn: the bytes so far, and the sha256 each rebuilds from them, come
    from S3 alone."""
    data = os.urandom(12 * MIB + 99)
    chunk = 3 * MIB
    config = s3_config(moto.settings(), list(buckets))
    with run_store(tmp_path, config) as one, run_store(tmp_path, config) as two, httpx.Client(timeout=60) as c:
        created = c.post(f"{one.url}/api/upload", headers={
            **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata(apikey="demo", location="S3"),
        })
        assert created.status_code == 201, created.text
        path = httpx.URL(created.headers["location"]).path
        response = None
        for turn, offset in enumerate(range(0, len(data), chunk)):
            store = (one, two)[turn % 2]
            response = c.patch(f"{store.url}{path}", content=data[offset:offset + chunk], headers={
                **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
            })
            assert response.status_code in (200, 204), response.text
        assert response is not None
        blob = response.json()
        assert blob["sha256"] == sha256(data)
        assert sha256(in_s3(moto, buckets[0], blob["key"])) == sha256(data)


def test_partial_uploads_in_s3_join_into_one_file(moto, buckets, client):
    parts = [os.urandom(6 * MIB), os.urandom(3 * MIB + 1)]
    urls = []
    for part in parts:
        created = client.post("/api/upload", content=part, headers={
            **TUS, "Upload-Length": str(len(part)), "Upload-Concat": "partial",
            "Upload-Metadata": metadata(apikey="demo", location="s3"),
            "Content-Type": "application/offset+octet-stream",
        })
        assert created.status_code == 201, created.text
        urls.append(created.headers["location"])
    final = client.post("/api/upload", headers={
        **TUS, "Upload-Concat": "final;" + " ".join(urls),
        "Upload-Metadata": metadata(apikey="demo", location="s3", filename="joined.bin"),
    })
    assert final.status_code == 201, final.text
    blob = final.json()
    assert sha256(in_s3(moto, buckets[0], blob["key"])) == sha256(b"".join(parts))
    assert incoming(moto, buckets[0]) == []
