"""A real store process with `azure` locations on a real Azurite: whole files and tus uploads stored
in Azure and read back through GET /api/file, public access, and the clear errors when Azure says
no or is not there."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient.client import TusClient

from harness.azurite import Azurite, run_azurite
from harness.store_process import TEST_CONFIG, Store, run_store

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def azure_config(azurite: Azurite, containers: str = '["store-files"]') -> str:
    return TEST_CONFIG + f"""
[locations.azure]
backend = "azure"
connection_string = "{azurite.connection_string}"
containers = {containers}

[locations.azure-public]
backend = "azure"
connection_string = "{azurite.connection_string}"
containers = ["store-public"]
public = true
uploads_container = "store-files"
"""


@pytest.fixture(scope="module")
def store(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    azurite.create_container("store-files")
    azurite.create_container("store-public", public=True)
    # "gone" is a container the location names but nobody made in Azure.
    config = azure_config(azurite, '["store-files", "gone"]')
    with run_store(tmp_path_factory.mktemp("store"), config) as running:
        yield running


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=store.url, timeout=60) as c:
        yield c


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def in_azure(azurite: Azurite, blob: dict) -> bytes:
    return azurite.service().get_blob_client(blob["container"], blob["key"]).download_blob().readall()


def recorded_files(store: Store) -> int:
    with sqlite3.connect(store.data_dir / "index.sqlite3") as db:
        return db.execute("SELECT count(*) FROM files").fetchone()[0]


def post(client: httpx.Client, body: bytes, location: str = "azure", **params: str) -> httpx.Response:
    return client.post(f"/api/store/{location}", params={"key": "demo", **params}, content=body)


def test_a_posted_file_is_stored_in_azure_and_served_back(client, azurite):
    data = os.urandom(9 * MIB + 321)  # three blocks
    response = post(client, data, filename="posted.bin")
    assert response.status_code == 200, response.text
    blob = response.json()
    assert blob["container"] == "store-files" and blob["size"] == len(data) and blob["sha256"] == sha256(data)
    assert sha256(in_azure(azurite, blob)) == sha256(data)
    served = client.get(blob["url"])
    assert served.status_code == 200 and sha256(served.content) == sha256(data)
    part = client.get(blob["url"], headers={"Range": f"bytes={4 * MIB - 10}-{4 * MIB + 9}"})
    assert part.status_code == 206 and part.content == data[4 * MIB - 10:4 * MIB + 10]


def test_an_empty_posted_file_round_trips(client, azurite):
    blob = post(client, b"", filename="empty.txt").json()
    assert blob["size"] == 0 and in_azure(azurite, blob) == b""
    assert client.get(blob["url"]).content == b""


def test_tuspy_uploads_10_mib_in_3_mib_chunks_to_azure(store, client, azurite, tmp_path):
    data = os.urandom(10 * MIB + 4321)
    path = tmp_path / "tus.bin"
    path.write_bytes(data)
    uploader = TusClient(f"{store.url}/api/upload").uploader(
        str(path), chunk_size=3 * MIB, upload_checksum=True,
        metadata={"apikey": "demo", "location": "azure", "filename": "tus.bin", "filetype": "application/x-test"},
    )
    uploader.upload()
    assert uploader.request is not None and uploader.url is not None  # the last request stored the file
    blob = json.loads(uploader.request.response_content)
    assert blob["size"] == len(data) and blob["sha256"] == sha256(data) and blob["mimetype"] == "application/x-test"
    assert sha256(in_azure(azurite, blob)) == sha256(data)
    assert sha256(client.get(blob["url"]).content) == sha256(data)
    upload_id = urlsplit(uploader.url).path.rsplit("/", 1)[-1]
    assert not azurite.service().get_blob_client("store-files", f".incoming/uploads/{upload_id}").exists()


def test_a_second_store_process_continues_a_tus_upload_into_azure(azurite, tmp_path):
    data = os.urandom(2 * MIB + 99)
    path = tmp_path / "shared.bin"
    path.write_bytes(data)
    config = azure_config(azurite)
    with run_store(tmp_path, config) as first, run_store(tmp_path, config) as second:  # one index, two processes
        started = TusClient(f"{first.url}/api/upload").uploader(
            str(path), chunk_size=MIB, metadata={"apikey": "demo", "location": "azure", "filename": "shared.bin"}
        )
        started.upload(stop_at=MIB)
        assert started.url is not None
        url = f"{second.url}{urlsplit(started.url).path}"
        resumed = TusClient(f"{second.url}/api/upload").uploader(str(path), url=url, chunk_size=MIB)
        assert resumed.offset == MIB
        resumed.upload()
        assert resumed.request is not None
        blob = json.loads(resumed.request.response_content)
        assert blob["sha256"] == sha256(data)  # the second process read the first MiB back from Azure
        assert httpx.get(blob["url"]).content == data


def test_partial_uploads_in_azure_join_into_one_file(client, azurite):
    meta = "apikey ZGVtbw==,location YXp1cmU="  # apikey "demo", location "azure"
    parts = [os.urandom(300_000), os.urandom(1), os.urandom(5 * MIB)]
    urls = []
    for part in parts:
        created = client.post("/api/upload", headers={**TUS, "Upload-Length": str(len(part)),
                                                      "Upload-Concat": "partial", "Upload-Metadata": meta})
        assert created.status_code == 201, created.text
        urls.append(created.headers["location"])
        sent = client.patch(urls[-1], content=part, headers={**TUS, "Upload-Offset": "0",
                                                             "Content-Type": "application/offset+octet-stream"})
        assert sent.status_code == 204, sent.text
    joined = client.post("/api/upload", headers={**TUS, "Upload-Concat": "final;" + " ".join(urls),
                                                 "Upload-Metadata": meta})
    assert joined.status_code == 201, joined.text
    blob = joined.json()
    assert blob["sha256"] == sha256(b"".join(parts)) and in_azure(azurite, blob) == b"".join(parts)
    uploads = azurite.service().get_container_client("store-files").list_blobs(name_starts_with=".incoming/")
    assert not [item.name for item in uploads if item.name.rsplit("/", 1)[-1] in
                [urlsplit(url).path.rsplit("/", 1)[-1] for url in [*urls, joined.headers["location"]]]]


# --- public access ----------------------------------------------------------------------------------


def test_a_file_stored_public_is_also_readable_at_its_azure_url(client, azurite):
    response = post(client, b"open", location="azure-public", access="public")
    assert response.status_code == 200, response.text
    blob = response.json()
    assert httpx.get(f"{azurite.endpoint}/store-public/{blob['key']}").content == b"open"
    assert client.get(blob["url"]).content == b"open"


def test_a_private_file_is_read_through_the_store_only(client, azurite):
    blob = post(client, b"for the store's readers", filename="private.txt").json()
    assert httpx.get(f"{azurite.endpoint}/store-files/{blob['key']}").status_code in (403, 404)
    assert client.get(blob["url"]).content == b"for the store's readers"


def test_access_public_in_a_private_azure_location_is_a_clear_400(store, client):
    before = recorded_files(store)
    response = post(client, b"x", access="public")
    assert response.status_code == 400
    assert "public = true" in response.json()["message"]
    assert recorded_files(store) == before


# --- refusals ---------------------------------------------------------------------------------------


def test_a_container_the_location_does_not_name_is_a_clear_400(client):
    response = post(client, b"x", container="elsewhere")
    assert response.status_code == 400
    assert "container 'elsewhere' is not allowed in location 'azure'" in response.json()["message"]


def test_a_container_missing_in_azure_is_a_clear_error_and_nothing_is_recorded(store, client):
    before = recorded_files(store)
    response = post(client, b"x" * 1000, container="gone")
    assert response.status_code == 502
    message = response.json()["message"]
    assert "container 'gone'" in message and "does not exist in Azure storage account" in message
    assert recorded_files(store) == before


def test_azure_stopped_is_a_clear_503_and_nothing_is_recorded(tmp_path):
    (tmp_path / "azurite").mkdir()
    with run_azurite(tmp_path / "azurite") as azurite:
        azurite.create_container("store-files")
        with run_store(tmp_path, azure_config(azurite)) as store, httpx.Client(base_url=store.url, timeout=60) as c:
            blob = post(c, b"stored while Azure ran").json()
            azurite.stop()
            response = post(c, os.urandom(5 * MIB))
            assert response.status_code == 503
            assert "cannot reach Azure storage account 'devstoreaccount1'" in response.json()["message"]
            created = c.post("/api/upload", headers={**TUS, "Upload-Length": "10",
                                                     "Upload-Metadata": "apikey ZGVtbw==,location YXp1cmU="})
            assert created.status_code == 503 and "location" not in created.headers
            served = c.get(blob["url"])
            assert served.status_code == 503 and "cannot reach" in served.json()["message"]
            assert recorded_files(store) == 1  # the file stored before Azure stopped, no other
            with sqlite3.connect(store.data_dir / "index.sqlite3") as db:
                assert db.execute("SELECT count(*) FROM uploads").fetchone()[0] == 0


def test_an_azure_location_without_an_account_stops_the_store_at_start(tmp_path: Path):
    config = TEST_CONFIG + '\n[locations.azure]\nbackend = "azure"\ncontainers = ["files"]\n'
    with pytest.raises(RuntimeError, match="connection_string"), run_store(tmp_path, config):
        pass
