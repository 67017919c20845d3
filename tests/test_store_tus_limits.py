"""What a holder of an app's key may ask of the tus routes, against real store processes: each
partial upload joined once, in a bounded number; HEAD without the policy and signature; bounded
Upload-Metadata; pending uploads bounded per app; uploads without a byte expiring soon; partial
uploads within the app's limits; and expired uploads swept off the request path."""

from __future__ import annotations

import base64
import contextlib
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import pytest

from harness.store_process import TEST_CONFIG, secure_policy, store_process

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = "application/offset+octet-stream"
MIB = 1024 * 1024

LIMITS_CONFIG = TEST_CONFIG + """
[apps.few]
key = "few"
secret = "few-secret"
allowed_origins = ["*"]
max_pending_uploads = 3

[apps.small]
key = "small"
secret = "small-secret"
allowed_origins = ["*"]
max_pending_bytes = 100

[apps.other]
key = "other"
secret = "other-secret"
allowed_origins = ["*"]

[apps.bulk]
key = "bulk"
secret = "bulk-secret"
allowed_origins = ["*"]
max_pending_uploads = 5000

[apps.racing]
key = "racing"
secret = "racing-secret"
allowed_origins = ["*"]
max_pending_uploads = 5
"""


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def decoded(header: str) -> dict[str, str]:
    pairs = (pair.strip().partition(" ") for pair in header.split(","))
    return {key: base64.b64decode(value).decode() for key, _, value in pairs}


def create(client: httpx.Client, length: int | None, concat: str | None = None, **meta: str) -> httpx.Response:
    headers = {**TUS, "Upload-Metadata": metadata(**{"apikey": "demo", "filename": "f.bin", **meta})}
    if length is not None:
        headers["Upload-Length"] = str(length)
    if concat is not None:
        headers["Upload-Concat"] = concat
    return client.post("/api/upload", headers=headers)


def created(client: httpx.Client, length: int, concat: str | None = None, **meta: str) -> str:
    response = create(client, length, concat, **meta)
    assert response.status_code == 201, response.text
    return response.headers["location"]


def patch(client: httpx.Client, url: str, offset: int, body: bytes) -> httpx.Response:
    return client.patch(url, headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_STREAM}, content=body)


def part(client: httpx.Client, data: bytes, **meta: str) -> str:
    url = created(client, len(data), "partial", **meta)
    assert patch(client, url, 0, data).status_code == 204
    return url


def upload_id(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["message"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with store_process(tmp_path_factory.mktemp("limits"), LIMITS_CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def client(store):
    with httpx.Client(base_url=store.url, timeout=60) as c:
        yield c


def stored_files(store) -> list:
    return sorted(path for path in store.data_dir.rglob("*") if path.is_file() and ".incoming" not in path.parts
                  and not path.name.startswith("index.sqlite3"))


def uploads(store) -> set[str]:
    return {row[0] for row in store.index_rows("SELECT id FROM uploads")}


# --- concatenation -----------------------------------------------------------------------------------


def test_a_part_named_twice_is_refused_and_nothing_is_stored(store, client):
    url = part(client, b"x" * 1000)
    before, files = uploads(store), stored_files(store)
    refused(create(client, None, f"final;{url} {url}"), 400, f"names partial upload {upload_id(url)!r} twice")
    refused(create(client, None, "final;" + " ".join([url] * 300)), 400, "Upload-Concat has")
    refused(create(client, None, "final;" + " ".join([url] * 150)), 400, "names 150 partial uploads")
    assert uploads(store) == before  # no final upload recorded; the part is still there, once
    assert stored_files(store) == files
    assert upload_id(url) in {path.name for path in store.incoming()}


def test_at_most_100_parts_and_a_bounded_header(store, client):
    parts = [part(client, bytes([n])) for n in range(101)]
    refused(create(client, None, "final;" + " ".join(parts)), 400, "names 101 partial uploads; a final upload joins at most 100")
    response = create(client, None, "final;" + " ".join(parts[:100]))
    assert response.status_code == 201, response.text
    assert client.get(response.json()["url"]).content == bytes(range(100))
    long = "final;" + " ".join([f"{store.url}/api/upload/{'a' * 64}"] * 100) + "/" * 10000
    refused(create(client, None, long), 400, "characters; this store accepts at most 16384")


def test_parts_a_final_upload_used_cannot_be_joined_again(store, client):
    first, second = part(client, b"ab"), part(client, b"cd")
    response = create(client, None, f"final;{first} {second}")
    assert response.status_code == 201, response.text
    assert client.get(response.json()["url"]).content == b"abcd"
    refused(create(client, None, f"final;{first} {second}"), 400, "does not have")
    assert upload_id(first) not in uploads(store) and upload_id(second) not in uploads(store)


def test_only_whole_partial_uploads_of_the_same_app_are_joined(store, client):
    whole = part(client, b"ab")
    unfinished = created(client, 10, "partial")
    refused(create(client, None, f"final;{whole} {unfinished}"), 400, "holds 0 of its 10 bytes")
    other = part(client, b"cd", apikey="other")
    refused(create(client, None, f"final;{whole} {other}"), 403, "belongs to another app")


# --- HEAD and metadata -------------------------------------------------------------------------------


def test_head_echoes_the_file_and_store_options_but_never_the_policy_or_signature(client):
    fields = secure_policy(call=["store"])
    url = created(
        client, 10, apikey="secure", filename="report.pdf", filetype="application/pdf", path="up/report.pdf",
        container="other-files", access="private", **fields,
    )
    response = client.head(url, headers=TUS)
    assert response.status_code == 200
    echoed = decoded(response.headers["upload-metadata"])
    assert echoed == {"apikey": "secure", "filename": "report.pdf", "filetype": "application/pdf", "path": "up/report.pdf",
                      "container": "other-files", "access": "private"}
    assert fields["policy"] not in response.headers["upload-metadata"]
    assert base64.b64encode(fields["signature"].encode()).decode() not in response.headers["upload-metadata"]


def test_upload_metadata_is_bounded(store, client):
    before = uploads(store)
    refused(create(client, 10, filename="n" * 4000), 400, "Upload-Metadata has 53")
    refused(create(client, 10, filename="n" * 40_000), 400, "at most 4096")
    assert create(client, 10, filename="n" * 1_000_000).status_code in (400, 431)  # 431: over the header guard
    assert uploads(store) == before
    assert create(client, 10, filename="n" * 2000).status_code == 201


# --- pending uploads per app -------------------------------------------------------------------------


def test_an_app_has_at_most_its_max_pending_uploads(store, client):
    urls = [created(client, 10, apikey="few") for _ in range(3)]
    refused(create(client, 10, apikey="few"), 429, "app 'few' has 3 unfinished uploads, its limit (max_pending_uploads 3)")
    refused(create(client, 10, "partial", apikey="few"), 429, "max_pending_uploads 3")
    assert len(store.index_rows("SELECT id FROM uploads WHERE app_key = 'few'")) == 3
    assert patch(client, urls[0], 0, b"0123456789").status_code == 200  # stored: no longer pending
    assert client.delete(urls[1], headers=TUS).status_code == 204
    created(client, 10, apikey="few")
    created(client, 10, apikey="few")
    refused(create(client, 10, apikey="few"), 429, "max_pending_uploads 3")


def test_uploads_created_at_the_same_time_stay_within_the_limit(store, client):
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(lambda _: create(client, 10, apikey="racing").status_code, range(30)))
    assert sorted(set(answers)) == [201, 429] and answers.count(201) == 5
    assert len(store.index_rows("SELECT id FROM uploads WHERE app_key = 'racing'")) == 5


def test_an_app_declares_at_most_its_max_pending_bytes(client):
    created(client, 60, apikey="small")
    refused(create(client, 41, apikey="small"), 429, "declaring 60 bytes; 41 more would pass its limit (max_pending_bytes 100)")
    created(client, 40, apikey="small")
    refused(create(client, 1, "partial", apikey="small"), 429, "max_pending_bytes 100")


# --- partial uploads and the app's limits ------------------------------------------------------------


def test_a_partial_upload_larger_than_the_app_accepts_is_refused_and_leaves_nothing(store, client):
    before, incoming = uploads(store), store.incoming()
    refused(create(client, 20 * MIB, "partial", apikey="limited"), 413, "larger than app 'limited' accepts (1000 bytes)")
    assert uploads(store) == before and store.incoming() == incoming
    url = created(client, 1000, "partial", apikey="limited")
    refused(patch(client, url, 0, b"x" * 1001), 413, "past its Upload-Length 1000")
    assert client.head(url, headers=TUS).headers["upload-offset"] == "0"


def test_a_partial_upload_larger_than_its_policy_allows_is_refused(client):
    fields = secure_policy(call=["store"], max_size=100)
    refused(create(client, 101, "partial", apikey="secure", **fields), 403, "size 101 is above the policy's maxSize 100")


def test_a_final_upload_too_large_for_the_app_stores_nothing_and_its_parts_expire_as_usual(store, client):
    parts = [part(client, b"y" * 600, apikey="limited", filetype="image/png") for _ in range(2)]
    expires = {upload_id(url): client.head(url, headers=TUS).headers["upload-expires"] for url in parts}
    files, before = stored_files(store), uploads(store)
    response = create(client, None, "final;" + " ".join(parts), apikey="limited", filetype="image/png")
    refused(response, 413, "1200 bytes, larger than app 'limited' accepts (1000 bytes)")
    assert stored_files(store) == files and uploads(store) == before
    assert {upload_id(url): client.head(url, headers=TUS).headers["upload-expires"] for url in parts} == expires


# --- expiry and sweeping -----------------------------------------------------------------------------


def test_an_upload_without_a_byte_expires_soon_and_is_swept_unasked(tmp_path):
    env = {"PICKSTORE__store__empty_upload_expiry": "1", "PICKSTORE__store__sweep_interval": "0.3"}
    with store_process(tmp_path, env=env) as running, httpx.Client(base_url=running.url) as c:
        empty, started = created(c, 10), created(c, 10)
        assert patch(c, started, 0, b"abc").status_code == 204
        expires = c.head(started, headers=TUS).headers["upload-expires"]
        time.sleep(2)
        assert uploads(running) == {upload_id(started)}  # swept without a request naming it
        assert [path.name for path in running.incoming()] == [upload_id(started)]
        assert c.head(empty, headers=TUS).status_code == 404
        assert c.head(started, headers=TUS).headers["upload-expires"] == expires  # 24 hours on


def expired_copies(store, model_url: str, count: int) -> None:
    """`count` uploads like the one at `model_url`, recorded in the store's index as expired long
    ago, in one transaction: the store's next sweep finds them all at once."""
    with contextlib.closing(sqlite3.connect(store.data_dir / "index.sqlite3", timeout=10)) as db, db:
        row = db.execute("SELECT * FROM uploads WHERE id = ?", (upload_id(model_url),)).fetchone()
        columns = [d[0] for d in db.execute("SELECT * FROM uploads LIMIT 0").description]
        values = dict(zip(columns, row, strict=True))
        copies = [{**values, "id": f"expired{n:04d}", "expires": time.time() - 100} for n in range(count)]
        db.executemany(f"INSERT INTO uploads ({', '.join(f'{c!r}' for c in columns)}) VALUES "
                       f"({', '.join(f':{c}' for c in columns)})", copies)


def test_requests_are_answered_promptly_while_1000_expired_uploads_are_swept(tmp_path):
    env = {"PICKSTORE__store__sweep_interval": "3"}
    with store_process(tmp_path, LIMITS_CONFIG, env) as running, httpx.Client(base_url=running.url) as c:
        model = created(c, 10, apikey="bulk")
        expired_copies(running, model, 1000)
        assert c.delete(model, headers=TUS).status_code == 204
        waiting = len(uploads(running))
        latencies, first_gone = [], None
        deadline = time.monotonic() + 20
        while (left := len(uploads(running))) and time.monotonic() < deadline:
            if left < waiting and first_gone is None:
                first_gone = time.monotonic()
            start = time.monotonic()
            url = created(c, 10)
            latencies.append(time.monotonic() - start)
            start = time.monotonic()
            assert c.head(url, headers=TUS).status_code == 200
            latencies.append(time.monotonic() - start)
            start = time.monotonic()
            assert c.delete(url, headers=TUS).status_code == 204
            latencies.append(time.monotonic() - start)
        assert not uploads(running), "the expired uploads were not swept"
        assert first_gone is not None, "the sweep was over before a request was sent"
        sweeping = time.monotonic() - first_gone
        # Swept in one go inside a request, as before, that request waited for the whole sweep; in
        # batches between requests none waits for more than a batch (about a twentieth of it). Both
        # grow alike on a busy machine, so the bound is the sweep's own duration, not a time.
        assert max(latencies) < sweeping / 2, (
            f"a request waited {max(latencies):.3f} s of the sweep's {sweeping:.3f} s"
        )
        assert running.incoming() == []
