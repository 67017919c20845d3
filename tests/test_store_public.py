"""access 'public' and storeRegion as a file's record keeps them: a real store process with a local
location that takes public files and one that does not, over raw HTTP; and the settings and URLs
of public files for each backend."""

from __future__ import annotations

import base64
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness import free_port
from harness.inthread import run_async
from harness.store_process import PUBLIC_LOCAL, TEST_CONFIG, Store, run_store
from store.backends import open_backend
from store.backends.azure import AzureBackend
from store.backends.local import LocalBackend
from store.backends.s3 import S3Backend
from store.config import Location
from store.policy import make_policy, signed
from store.records import FileRecord
from store.sqlite_index import SQLiteIndex

TUS = {"Tus-Resumable": "1.0.0"}
# The shared test config, whose local location (root "files") takes public files here, with a local
# location that does not, and an S3 one whose endpoint nothing answers.
LOCATIONS = """
[locations.vault]
backend = "local"

[locations.s3]
backend = "s3"
endpoint_url = "http://127.0.0.1:{port}"
access_key_id = "x"
secret_access_key = "x"
containers = ["bucket"]
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    config = TEST_CONFIG + LOCATIONS.replace("{port}", str(free_port()))
    with run_store(tmp_path_factory.mktemp("public-store"), config, PUBLIC_LOCAL) as running:
        yield running


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=store.url, timeout=30) as c:
        yield c


def post(client: httpx.Client, body: bytes, location: str = "local", **params: str) -> httpx.Response:
    return client.post(f"/api/store/{location}", params={"key": "demo", **params}, content=body)


def allowing(*calls: str) -> dict[str, str]:
    return signed(make_policy(expiry=time.time() + 600, call=list(calls)), "demo-secret")


def public_file(store: Store, key: str) -> Path:
    return store.data_dir / "files-public" / "files" / key


def private_file(store: Store, key: str) -> Path:
    return store.data_dir / "files" / "files" / key


def recorded(store: Store, table: str) -> int:
    with sqlite3.connect(store.data_dir / "index.sqlite3") as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


# --- local files stored public ------------------------------------------------------------------------


def test_a_public_file_is_served_at_its_public_url_with_ranges_and_etag(store, client):
    blob = post(client, b"0123456789", access="public", filename="digits.txt", mimetype="text/plain").json()
    assert blob["publicUrl"] == f"{store.url}/public/local/files/{blob['key']}"
    assert public_file(store, blob["key"]).read_bytes() == b"0123456789"
    assert not private_file(store, blob["key"]).exists()
    whole = httpx.get(blob["publicUrl"])
    assert whole.content == b"0123456789" and whole.headers["etag"] == f'"{blob["sha256"]}"'
    assert whole.headers["cache-control"].startswith("public")
    ranged = httpx.get(blob["publicUrl"], headers={"Range": "bytes=2-4"})
    assert ranged.status_code == 206 and ranged.content == b"234"
    assert httpx.get(blob["publicUrl"], headers={"If-None-Match": whole.headers["etag"]}).status_code == 304
    assert httpx.head(blob["publicUrl"]).headers["content-length"] == "10"
    assert client.get(f"/api/file/{blob['handle']}").content == b"0123456789"  # its url works as ever


def test_a_private_file_has_no_public_url_and_is_not_served_at_one(store, client):
    blob = post(client, b"mine", path="secret.txt").json()
    assert blob["publicUrl"] is None
    assert client.get(f"/api/file/{blob['handle']}/metadata").json()["access"] == "private"
    assert httpx.get(f"{store.url}/public/local/files/secret.txt").status_code == 404
    assert httpx.get(f"{store.url}/public/vault/files/secret.txt").status_code == 404


def test_an_overwrite_keeps_a_public_file_public(store, client):
    blob = post(client, b"first", access="public").json()
    response = client.post(f"/api/file/{blob['handle']}", params=allowing("write"), content=b"second")
    assert response.status_code == 200, response.text
    assert response.json()["publicUrl"] == blob["publicUrl"]
    assert httpx.get(blob["publicUrl"]).content == b"second"
    assert public_file(store, blob["key"]).read_bytes() == b"second"
    assert not private_file(store, blob["key"]).exists()
    meta = client.get(f"/api/file/{blob['handle']}/metadata").json()
    assert (meta["access"], meta["publicUrl"], meta["size"]) == ("public", blob["publicUrl"], 6)


def test_a_file_stored_again_at_a_key_with_the_other_access_is_refused_and_both_stay_apart(store, client):
    public = post(client, b"open", access="public", path="avatars/replaced.png").json()
    assert post(client, b"closed", path="avatars/replaced.png").status_code == 409
    assert not private_file(store, "avatars/replaced.png").exists()
    assert httpx.get(public["publicUrl"]).content == b"open"
    private = post(client, b"closed", path="avatars/private.png").json()
    assert post(client, b"open again", access="public", path="avatars/private.png").status_code == 409
    assert not public_file(store, "avatars/private.png").exists()
    assert client.get(f"/api/file/{private['handle']}").content == b"closed"


def test_removing_a_public_file_removes_it_from_its_public_url(store, client):
    blob = post(client, b"short-lived", access="public").json()
    assert client.delete(f"/api/file/{blob['handle']}", params=allowing("remove")).status_code == 200
    assert not public_file(store, blob["key"]).exists()
    assert httpx.get(blob["publicUrl"]).status_code == 404


def test_a_public_html_file_is_a_download_at_its_public_url(client):
    blob = post(client, b"<script>alert(1)</script>", access="public", filename="page.html",
                mimetype="text/html").json()
    response = httpx.get(blob["publicUrl"])
    assert response.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in response.headers["content-security-policy"]


def test_a_tus_upload_stored_public_gets_its_public_url(store, client):
    created = client.post("/api/upload", content=b"by tus", headers={
        **TUS, "Upload-Length": "6", "Content-Type": "application/offset+octet-stream",
        "Upload-Metadata": metadata(apikey="demo", filename="tus.txt", access="public"),
    })
    assert created.status_code == 201, created.text
    blob = created.json()
    assert httpx.get(blob["publicUrl"]).content == b"by tus"
    assert public_file(store, blob["key"]).read_bytes() == b"by tus"


# --- refused before any byte ---------------------------------------------------------------------------


def test_access_public_in_a_location_that_keeps_files_private_is_400_and_stores_nothing(store, client):
    files_before, uploads_before = recorded(store, "files"), recorded(store, "uploads")
    posted = post(client, b"x" * 1000, location="vault", access="public")
    assert posted.status_code == 400
    assert "'vault'" in posted.json()["message"] and "public = true" in posted.json()["message"]
    created = client.post("/api/upload", content=b"x" * 1000, headers={
        **TUS, "Upload-Length": "1000", "Content-Type": "application/offset+octet-stream",
        "Upload-Metadata": metadata(apikey="demo", location="vault", access="public"),
    })
    assert created.status_code == 400 and "public = true" in created.json()["message"]
    assert (recorded(store, "files"), recorded(store, "uploads")) == (files_before, uploads_before)
    assert [p for p in (store.data_dir / "vault").rglob("*") if p.is_file()] == []


def test_a_store_region_s3_does_not_have_is_400_at_creation_before_s3_is_asked(store, client):
    uploads_before = recorded(store, "uploads")
    created = client.post("/api/upload", headers={
        **TUS, "Upload-Length": "5", "Upload-Metadata": metadata(apikey="demo", location="s3", region="mars-north-1"),
    })
    assert created.status_code == 400 and "mars-north-1" in created.json()["message"]
    assert recorded(store, "uploads") == uploads_before


# --- the index keeps access and region -----------------------------------------------------------------


def test_an_index_made_before_access_and_region_were_kept_gains_them(tmp_path):
    path = tmp_path / "index.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE files (handle TEXT PRIMARY KEY, filename TEXT NOT NULL, mimetype TEXT NOT NULL,"
                   "size INTEGER NOT NULL, location TEXT NOT NULL, container TEXT NOT NULL, key TEXT NOT NULL,"
                   "sha256 TEXT NOT NULL, app_key TEXT NOT NULL, created REAL NOT NULL)")
        db.execute("INSERT INTO files VALUES ('old', 'a.txt', 'text/plain', 1, 'local', 'files', 'a.txt', 'x', 'demo', 0)")
    run_async(_old_and_new_files_are_read_back, path)


async def _old_and_new_files_are_read_back(path: Path) -> None:
    index = SQLiteIndex(path)
    try:
        old = await index.get_file("old")
        assert old is not None and (old.public, old.region, old.access) == (False, None, "private")
        new = FileRecord("new", "b.txt", "text/plain", 1, "s3", "bucket", "b.txt", "y", "demo", 1.0, True, "eu-west-1")
        await index.add_file(new)
        assert await index.get_file("new") == new
        assert await index.find_file("s3", "bucket", "b.txt") == new
    finally:
        await index.close()


# --- settings and public URLs ---------------------------------------------------------------------------


def local_location(**settings: object) -> Location:
    return Location("pics", "local", ("files",), settings)


@pytest.mark.parametrize("settings, complaint", [
    ({"public_root": "elsewhere"}, "need public = true"),
    ({"public_url_prefix": "https://static.example.com"}, "need public = true"),
    ({"public": "yes"}, "public must be true or false"),
    ({"public": True, "public_url_prefix": "static.example.com"}, "http:// or https://"),
    ({"public": True, "root": "files", "public_root": "files/open"}, "must not contain one another"),
    ({"public": True, "root": "files/inner", "public_root": "files"}, "must not contain one another"),
    ({"publik": True}, "unknown setting publik"),
])
def test_a_local_location_with_wrong_public_settings_is_refused_at_start(tmp_path, settings, complaint):
    with pytest.raises(ValueError, match=complaint):
        open_backend(local_location(**settings), tmp_path)


def test_a_local_location_says_where_its_public_files_are_read(tmp_path):
    own = open_backend(local_location(public=True), tmp_path)
    assert isinstance(own, LocalBackend)
    assert own.public_root == (tmp_path / "pics-public").resolve()
    assert own.public_url("files", "a b/c.png") == "/public/pics/files/a%20b/c.png"
    served = open_backend(local_location(public=True, public_root="open", public_url_prefix="https://static.example.com/p/"),
                          tmp_path)
    assert isinstance(served, LocalBackend)
    assert served.public_root == (tmp_path / "open").resolve()
    assert served.public_url("files", "c.png") == "https://static.example.com/p/files/c.png"


def s3_location(**settings: object) -> Location:
    return Location("s3", "s3", ("uploads", "my.bucket"), {"access_key_id": "x", "secret_access_key": "x", **settings})


def test_the_public_url_of_an_s3_object():
    aws = S3Backend(s3_location(region="eu-central-1"))
    assert aws.public_url("uploads", "a b.png") == "https://uploads.s3.eu-central-1.amazonaws.com/a%20b.png"
    assert aws.public_url("uploads", "k", region="eu-west-1") == "https://uploads.s3.eu-west-1.amazonaws.com/k"
    assert aws.public_url("my.bucket", "k") == "https://s3.eu-central-1.amazonaws.com/my.bucket/k"
    minio = S3Backend(s3_location(endpoint_url="https://minio.example.com"))
    assert minio.public_url("uploads", "f/k.png") == "https://minio.example.com/uploads/f/k.png"
    cdn = S3Backend(s3_location(endpoint_url="https://minio.example.com", public_url_prefix="https://cdn.example.com"))
    assert cdn.public_url("uploads", "k") == "https://cdn.example.com/uploads/k"
    with pytest.raises(ValueError, match="public_url_prefix"):
        S3Backend(s3_location(public_url_prefix="/cdn"))


def test_the_public_url_of_an_azure_blob():
    connection = ("DefaultEndpointsProtocol=https;AccountName=acct;"
                  "AccountKey=a2V5;EndpointSuffix=core.windows.net")
    location = Location("azure", "azure", ("pub",), {"connection_string": connection, "public": True})
    assert AzureBackend(location).public_url("pub", "a b.png") == "https://acct.blob.core.windows.net/pub/a%20b.png"
    cdn = Location("azure", "azure", ("pub",), {**location.settings, "public_url_prefix": "https://cdn.example.com"})
    assert AzureBackend(cdn).public_url("pub", "k") == "https://cdn.example.com/pub/k"
