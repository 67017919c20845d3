"""A store at a key another file holds never touches that file: refused with 409 naming the key,
through POST /api/store and tus, across apps and accesses, when two uploads race for one free key;
a refused or failed upload gives its claim on the key back; a sender whose policy may write that very
file overwrites it as POST /api/file/{handle} does. Against a real store process, and the index's
claims in CPython."""

from __future__ import annotations

import base64
import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.moto import Moto
from harness.store_process import PUBLIC_LOCAL, TEST_CONFIG, Store, run_store, secure_policy
from store.policy import make_policy, signed

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = "application/offset+octet-stream"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with run_store(tmp_path_factory.mktemp("taken-keys-store"), env=PUBLIC_LOCAL) as running:
        yield running


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=store.url, timeout=30) as c:
        yield c


def unique(name: str = "f.txt") -> str:
    return f"taken-{uuid.uuid4().hex[:10]}/{name}"


def post(client: httpx.Client, body: bytes | Iterator[bytes], **params: str) -> httpx.Response:
    return client.post("/api/store", params={"key": "demo", "filename": "f.txt", **params}, content=body)


def stored(client: httpx.Client, body: bytes, **params: str) -> dict:
    response = post(client, body, **params)
    assert response.status_code == 200, response.text
    return response.json()


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def tus_create(client: httpx.Client, length: int, body: bytes | None = None, **meta: str) -> httpx.Response:
    headers = {**TUS, "Upload-Length": str(length),
               "Upload-Metadata": metadata(**{"apikey": "demo", "filename": "f.txt", **meta})}
    if body is not None:
        headers["Content-Type"] = OFFSET_STREAM
    return client.post("/api/upload", headers=headers, content=body)


def tus_patch(client: httpx.Client, url: str, offset: int, body: bytes) -> httpx.Response:
    headers = {**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_STREAM}
    return client.patch(url, headers=headers, content=body)


def rows(store: Store, sql: str, *params: object) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(f"file:{store.data_dir / 'index.sqlite3'}?mode=ro", uri=True)) as db:
        return db.execute(sql, params).fetchall()


def records_at(store: Store, key: str) -> list[tuple]:
    return rows(store, "SELECT handle, size FROM files WHERE container = 'files' AND key = ?", key)


def claims_at(store: Store, key: str) -> list[tuple]:
    return rows(store, "SELECT owner FROM claims WHERE key = ?", key)


def refused_as_taken(response: httpx.Response, key: str) -> None:
    assert response.status_code == 409, response.text
    assert repr(key) in response.json()["message"]


def demo_policy(call: list[str], handle: str | None = None) -> dict[str, str]:
    return signed(make_policy(expiry=time.time() + 600, call=call, handle=handle), "demo-secret")


# --- the defacement of the issue --------------------------------------------------------------------


def test_a_store_at_another_files_key_is_refused_and_the_file_still_serves_its_bytes(store, client):
    official = stored(client, b"official", filename="logo.png", access="public")
    response = post(client, b"DEFACED", filename="x", path=official["key"], access="public")
    refused_as_taken(response, official["key"])
    assert client.get(f"/api/file/{official['handle']}").content == b"official"
    assert httpx.get(official["publicUrl"]).content == b"official"
    assert records_at(store, official["key"]) == [(official["handle"], 8)]
    assert claims_at(store, official["key"]) == []


def test_a_tus_upload_at_another_files_key_is_refused_at_creation(store, client):
    official = stored(client, b"official", filename="logo.png", access="public")
    before = rows(store, "SELECT count(*) FROM uploads")
    refused_as_taken(tus_create(client, 7, path=official["key"], access="public"), official["key"])
    refused_as_taken(tus_create(client, 7, b"DEFACED", path=official["key"], access="public"), official["key"])
    assert rows(store, "SELECT count(*) FROM uploads") == before  # no upload left to PATCH
    assert client.get(f"/api/file/{official['handle']}").content == b"official"
    assert httpx.get(official["publicUrl"]).content == b"official"
    assert records_at(store, official["key"]) == [(official["handle"], 8)]


def test_an_app_without_security_cannot_take_the_key_of_a_secure_apps_file(store, client):
    key = unique("logo.png")
    query = {"key": "secure", "filename": "logo.png", "path": key, **secure_policy(call=["store"])}
    secure = client.post("/api/store", params=query, content=b"official")
    assert secure.status_code == 200, secure.text
    handle = secure.json()["handle"]
    refused_as_taken(post(client, b"DEFACED", path=key), key)
    refused_as_taken(tus_create(client, 7, b"DEFACED", path=key), key)
    read = client.get(f"/api/file/{handle}", params=secure_policy(call=["read"], handle=handle))
    assert read.content == b"official"
    assert records_at(store, key) == [(handle, 8)]


def test_a_secure_app_cannot_take_the_key_of_another_apps_file_either(store, client):
    key = unique()
    first = stored(client, b"the open app's", path=key)
    query = {"key": "secure", "filename": "f.txt", "path": key, **secure_policy(call=["store", "write"])}
    refused_as_taken(client.post("/api/store", params=query, content=b"the secure app's"), key)
    assert client.get(f"/api/file/{first['handle']}").content == b"the open app's"


def test_a_public_store_at_a_private_files_key_leaves_the_private_file(store, client):
    key = unique()
    private = stored(client, b"private", path=key)
    refused_as_taken(post(client, b"public", path=key, access="public"), key)
    refused_as_taken(tus_create(client, 6, b"public", path=key, access="public"), key)
    assert client.get(f"/api/file/{private['handle']}").content == b"private"
    assert (store.data_dir / "files" / "files" / key).read_bytes() == b"private"
    assert not (store.data_dir / "files-public" / "files" / key).exists()
    assert httpx.get(f"{store.url}/public/local/files/{key}").status_code == 404


# --- two uploads, one free key ----------------------------------------------------------------------


def _slow_store(url: str, key: str, go_on: threading.Event, answers: list[httpx.Response]) -> None:
    def body() -> Iterator[bytes]:
        yield b"winner, "
        go_on.wait(20)
        yield b"whole"

    with httpx.Client(base_url=url, timeout=30) as own:
        answers.append(post(own, body(), path=key))


def _wait_for_claim(store: Store, key: str) -> None:
    deadline = time.monotonic() + 10
    while not claims_at(store, key):
        assert time.monotonic() < deadline, "the first store never claimed its key"
        time.sleep(0.02)


def test_two_stores_at_one_free_key_one_wins_and_the_other_is_refused(store, client):
    key = unique()
    go_on, answers = threading.Event(), list[httpx.Response]()
    first = threading.Thread(target=_slow_store, args=(store.url, key, go_on, answers))
    first.start()
    try:
        _wait_for_claim(store, key)
        second = post(client, b"loser", path=key)
    finally:
        go_on.set()
        first.join(30)
    refused_as_taken(second, key)
    assert answers[0].status_code == 200, answers[0].text
    winner = answers[0].json()
    assert client.get(f"/api/file/{winner['handle']}").content == b"winner, whole"
    assert records_at(store, key) == [(winner["handle"], 13)]
    assert claims_at(store, key) == []
    assert (store.data_dir / "files" / "files" / key).read_bytes() == b"winner, whole"


def test_a_store_while_a_tus_upload_is_under_way_at_its_key_is_refused(store, client):
    key = unique()
    created = tus_create(client, 10, path=key)
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    refused_as_taken(post(client, b"DEFACED", path=key), key)
    refused_as_taken(tus_create(client, 7, b"DEFACED", path=key), key)
    done = tus_patch(client, url, 0, b"tus winner")
    assert done.status_code == 200, done.text
    blob = done.json()
    assert client.get(f"/api/file/{blob['handle']}").content == b"tus winner"
    assert records_at(store, key) == [(blob["handle"], 10)]
    assert claims_at(store, key) == []


# --- claims given back ------------------------------------------------------------------------------


def test_a_refused_store_gives_its_key_back(store, client):
    key = unique("photo.png")
    big = {"key": "limited", "filename": "photo.png", "mimetype": "image/png", "path": key}
    too_big = client.post("/api/store", params=big, content=iter([b"x" * 600, b"x" * 600]))
    assert too_big.status_code in (403, 413), too_big.text
    assert claims_at(store, key) == []
    assert records_at(store, key) == []
    assert stored(client, b"after", path=key)["key"] == key


def test_a_terminated_tus_upload_gives_its_key_back(store, client):
    key = unique()
    created = tus_create(client, 10, path=key)
    assert created.status_code == 201, created.text
    assert claims_at(store, key)
    assert client.delete(created.headers["location"], headers=TUS).status_code == 204
    assert claims_at(store, key) == []
    assert stored(client, b"after", path=key)["key"] == key


def test_a_tus_creation_whose_body_is_refused_gives_its_key_back(store, client):
    key = unique()
    headers = {"Upload-Checksum": f"sha1 {base64.b64encode(b'0' * 20).decode()}"}
    refused = client.post("/api/upload", headers={
        **TUS, **headers, "Upload-Length": "5", "Content-Type": OFFSET_STREAM,
        "Upload-Metadata": metadata(apikey="demo", filename="f.txt", path=key),
    }, content=b"hello")
    assert refused.status_code == 460, refused.text
    assert claims_at(store, key) == []
    assert stored(client, b"after", path=key)["key"] == key

def test_a_final_upload_at_a_taken_key_is_refused_and_keeps_its_parts(store, client):
    official = stored(client, b"official")
    urls = []
    for part in (b"DEF", b"ACED"):
        created = client.post("/api/upload", headers={
            **TUS, "Upload-Length": str(len(part)), "Upload-Concat": "partial",
            "Upload-Metadata": metadata(apikey="demo", filename="f.txt"),
        })
        assert created.status_code == 201, created.text
        assert tus_patch(client, created.headers["location"], 0, part).status_code == 204
        urls.append(created.headers["location"])
    refused = client.post("/api/upload", headers={
        **TUS, "Upload-Concat": "final;" + " ".join(urls),
        "Upload-Metadata": metadata(apikey="demo", filename="f.txt", path=official["key"]),
    })
    refused_as_taken(refused, official["key"])
    assert [client.head(url, headers=TUS).status_code for url in urls] == [200, 200]
    assert client.get(f"/api/file/{official['handle']}").content == b"official"
    assert records_at(store, official["key"]) == [(official["handle"], 8)]


def test_an_expired_upload_gives_its_key_back_and_cannot_take_it_again(tmp_path: Path):
    with run_store(tmp_path, env={"PICKSTORE__store__upload_expiry": "1"}) as short, \
            httpx.Client(base_url=short.url, timeout=30) as own:
        key = unique()
        created = tus_create(own, 5, path=key)
        assert created.status_code == 201, created.text
        refused_as_taken(post(own, b"early", path=key), key)
        time.sleep(1.2)  # the upload expires, and nothing has swept it yet
        later = stored(own, b"later", path=key)
        assert tus_patch(own, created.headers["location"], 0, b"stale").status_code in (404, 410)
        assert own.get(f"/api/file/{later['handle']}").content == b"later"
        assert records_at(short, key) == [(later["handle"], 5)]

S3_LOCATION = """
[locations.S3]
backend = "s3"
{settings}
containers = ["{bucket}"]
"""


def test_on_s3_a_store_at_a_taken_key_never_reaches_the_object(moto: Moto, tmp_path: Path):
    """S3 puts at commit, and a put replaces: the key is refused before any byte is sent to S3."""
    bucket = f"taken-{uuid.uuid4().hex[:12]}"
    moto.client().create_bucket(Bucket=bucket)
    settings = "\n".join(f'{name} = "{value}"' for name, value in moto.settings().items())
    config = TEST_CONFIG + S3_LOCATION.format(settings=settings, bucket=bucket)
    with run_store(tmp_path, config) as s3, httpx.Client(base_url=s3.url, timeout=30) as own:
        first = own.post("/api/store/S3", params={"key": "demo", "filename": "f.txt", "path": "logo.png"},
                         content=b"official")
        assert first.status_code == 200, first.text
        again = own.post("/api/store/S3", params={"key": "demo", "filename": "f.txt", "path": "logo.png"},
                         content=b"DEFACED")
        refused_as_taken(again, "logo.png")
        refused_as_taken(tus_create(own, 7, b"DEFACED", location="S3", path="logo.png"), "logo.png")
        assert moto.client().get_object(Bucket=bucket, Key="logo.png")["Body"].read() == b"official"
        assert own.get(f"/api/file/{first.json()['handle']}").content == b"official"


# --- an overwrite by a sender that may write the file --------------------------------------------------


def test_a_store_with_a_write_policy_for_the_files_handle_overwrites_that_record(store, client):
    key = unique("logo.png")
    first = stored(client, b"official", filename="logo.png", path=key, access="public")
    allowed = demo_policy(["store", "write"], first["handle"])
    response = post(client, b"new official", filename="other.png", path=key, **allowed)
    assert response.status_code == 200, response.text
    blob = response.json()
    assert (blob["handle"], blob["filename"], blob["size"], blob["isWriteable"]) == (
        first["handle"], "logo.png", 12, True)
    assert blob["publicUrl"] == first["publicUrl"]
    assert client.get(f"/api/file/{first['handle']}").content == b"new official"
    assert httpx.get(first["publicUrl"]).content == b"new official"
    assert records_at(store, key) == [(first["handle"], 12)]


def test_a_tus_upload_with_a_write_policy_for_the_files_handle_overwrites_that_record(store, client):
    key = unique()
    first = stored(client, b"first", path=key)
    allowed = demo_policy(["store", "write"], first["handle"])
    response = tus_create(client, 6, b"second", path=key, **allowed)
    assert response.status_code == 201, response.text
    assert client.get(f"/api/file/{first['handle']}").content == b"second"
    assert records_at(store, key) == [(first["handle"], 6)]


@pytest.mark.parametrize(("call", "names_the_handle"), [
    (["store", "write"], False),  # the policy names no file to write
    (["store"], True),  # it may not write
])
def test_a_policy_that_may_not_write_that_file_cannot_overwrite_it(store, client, call, names_the_handle):
    key = unique()
    first = stored(client, b"first", path=key)
    allowed = demo_policy(call, first["handle"] if names_the_handle else None)
    refused_as_taken(post(client, b"second", path=key, **allowed), key)
    assert client.get(f"/api/file/{first['handle']}").content == b"first"


def test_a_write_policy_for_another_file_does_not_overwrite_this_one(store, client):
    key = unique()
    first = stored(client, b"first", path=key)
    other = stored(client, b"other")
    allowed = demo_policy(["store", "write"], other["handle"])
    refused_as_taken(post(client, b"second", path=key, **allowed), key)
    assert client.get(f"/api/file/{first['handle']}").content == b"first"
