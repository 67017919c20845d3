"""tus 1.0 at /api/upload against real store processes: every rule with raw HTTP, then the tuspy
client, a resumed upload, a restarted store, two stores sharing one upload, and concatenation."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TypedDict, Unpack
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient.client import TusClient

from harness.store_process import run_store
from store.policy import make_policy, signed

TUS = {"Tus-Resumable": "1.0.0"}
DEMO = "apikey ZGVtbw=="  # Upload-Metadata: apikey "demo"
OFFSET_STREAM = "application/offset+octet-stream"
ORIGIN = "http://127.0.0.1:9"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def client(store):
    with httpx.Client(base_url=store.url, timeout=60) as c:
        yield c


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


class Meta(TypedDict, total=False):
    """Upload-Metadata the tests send (None: left out)."""

    apikey: str | None
    filename: str
    filetype: str
    location: str
    container: str
    path: str
    multiple: str
    policy: str
    signature: str


def create(
    client: httpx.Client, length: int | None, *, body: bytes | Iterator[bytes] | None = None,
    headers: dict[str, str] | None = None, **meta: Unpack[Meta],
) -> httpx.Response:
    values = {"apikey": "demo", "filename": "f.bin", **meta}
    sent = {**TUS, "Upload-Metadata": metadata(**{k: str(v) for k, v in values.items() if v is not None})}
    if length is not None:
        sent["Upload-Length"] = str(length)
    if body is not None:
        sent["Content-Type"] = OFFSET_STREAM
    return client.post("/api/upload", headers={**sent, **(headers or {})}, content=body)


def created(client: httpx.Client, length: int, **meta: Unpack[Meta]) -> str:
    response = create(client, length, **meta)
    assert response.status_code == 201, response.text
    return response.headers["location"]


def patch(client: httpx.Client, url: str, offset: int, body: bytes, **headers: str) -> httpx.Response:
    sent = {**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_STREAM, **headers}
    return client.patch(url, headers=sent, content=body)


def upload_whole(client: httpx.Client, data: bytes, **meta: Unpack[Meta]) -> tuple[str, dict]:
    """Create, PATCH a MiB at a time; the upload URL and the Blob of the last PATCH."""
    url = created(client, len(data), **meta)
    response = None
    for start in range(0, len(data), MIB):
        response = patch(client, url, start, data[start:start + MIB])
        assert response.status_code in (200, 204), response.text
    assert response is not None and response.status_code == 200
    return url, response.json()


def head(client: httpx.Client, url: str) -> httpx.Response:
    return client.head(url, headers=TUS)


def busy(client: httpx.Client, url: str) -> bool:
    """Whether a request holds the upload: a PATCH too big to be taken is refused with 423 while
    one does, and otherwise with 409 or 413 (having held the lease for a moment itself)."""
    length = int(head(client, url).headers["upload-length"])
    return patch(client, url, 0, b"x" * (length + 1)).status_code == 423


def lease_held(store, url: str) -> bool:
    """Whether a request holds the upload's lease, as the index says: unlike busy(), without taking
    the lease, so that a request under way is never refused for the probe."""
    with sqlite3.connect(store.data_dir / "index.sqlite3") as db:
        row = db.execute("SELECT lock_until FROM uploads WHERE id = ?", (upload_id(url),)).fetchone()
    return row is not None and row[0] is not None and row[0] > time.time()


def upload_id(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def partial_data(store, url: str) -> Path:
    """Where the local backend keeps an unfinished upload's bytes."""
    return store.data_dir / "files" / ".incoming" / "uploads" / upload_id(url)


def uploads_in_progress(store) -> set[Path]:
    folder = store.data_dir / "files" / ".incoming" / "uploads"
    return set(folder.iterdir()) if folder.exists() else set()


def checksum(algorithm: str, data: bytes) -> str:
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- core: OPTIONS, versions, HEAD, PATCH ----------------------------------------------------------


def test_options_advertises_version_extensions_max_size_and_checksums(client):
    response = client.options("/api/upload")  # OPTIONS needs no Tus-Resumable
    assert response.status_code in (200, 204)
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) == {
        "creation", "creation-with-upload", "expiration", "checksum", "termination", "concatenation"
    }
    assert int(response.headers["tus-max-size"]) == 50 * 1024**3
    assert set(response.headers["tus-checksum-algorithm"].split(",")) == {"sha1", "sha256", "md5"}
    assert response.headers["tus-resumable"] == "1.0.0"


@pytest.mark.parametrize("version", [None, "0.2.2", "1.0"])
def test_request_without_tus_resumable_1_0_0_is_412_naming_tus_version(client, version):
    url = created(client, 10)
    headers = {} if version is None else {"Tus-Resumable": version}
    requests = [
        client.post("/api/upload", headers={**headers, "Upload-Length": "1", "Upload-Metadata": DEMO}),
        client.head(url, headers=headers),
        client.patch(url, headers={**headers, "Upload-Offset": "0", "Content-Type": OFFSET_STREAM}, content=b"x"),
        client.delete(url, headers=headers),
    ]
    for response in requests:
        assert response.status_code == 412, (response.request.method, response.text)
        assert response.headers["tus-version"] == "1.0.0"
        assert response.headers["tus-resumable"] == "1.0.0"
    assert head(client, url).headers["upload-offset"] == "0"  # nothing was taken


def test_every_answer_carries_tus_resumable_refusals_included(client):
    url = created(client, 10)
    answers = [
        create(client, 10),
        head(client, url),
        patch(client, url, 0, b"abc"),
        patch(client, url, 0, b"abc"),  # 409
        create(client, None),  # 400
        head(client, "/api/upload/AAAAAAAAAAAAAAAAAAAAAA"),  # 404
        client.post(url, headers=TUS),  # 405: POST is for the creation URL
        client.delete(url, headers=TUS),
    ]
    assert [a.status_code for a in answers] == [201, 200, 204, 409, 400, 404, 405, 204]
    for answer in answers:
        assert answer.headers["tus-resumable"] == "1.0.0", answer.request.method


def test_creation_is_201_with_absolute_location_and_upload_expires(store, client):
    before = time.time()
    response = create(client, 100)
    assert response.status_code == 201
    location = response.headers["location"]
    assert location.startswith(f"{store.url}/api/upload/")
    expires = parsedate_to_datetime(response.headers["upload-expires"]).timestamp()
    assert before + 3599 <= expires <= time.time() + 3600  # the default while no byte came: an hour
    assert response.headers["upload-expires"].endswith(" GMT")


def test_head_reports_offset_length_metadata_and_no_store(client):
    meta = metadata(apikey="demo", filename="h.txt")
    response = client.post("/api/upload", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": meta})
    url = response.headers["location"]
    patch(client, url, 0, b"1234")
    response = head(client, url)
    assert response.status_code == 200
    assert response.headers["upload-offset"] == "4"
    assert response.headers["upload-length"] == "10"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["upload-metadata"] == meta
    assert parsedate_to_datetime(response.headers["upload-expires"]).timestamp() > time.time()
    assert response.content == b""


def test_patch_advances_the_offset_by_the_bytes_sent(client):
    url = created(client, 10)
    response = patch(client, url, 0, b"abcd")
    assert response.status_code == 204
    assert response.headers["upload-offset"] == "4"
    assert head(client, url).headers["upload-offset"] == "4"


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "text/plain"])
def test_patch_with_another_content_type_is_415(client, content_type):
    url = created(client, 10)
    headers = {**TUS, "Upload-Offset": "0"}
    if content_type:
        headers["Content-Type"] = content_type
    response = client.patch(url, headers=headers, content=b"abc")
    assert response.status_code == 415
    assert response.json()["code"] == 415
    assert head(client, url).headers["upload-offset"] == "0"


@pytest.mark.parametrize("offset", [0, 2, 7])
def test_patch_at_another_offset_than_the_uploads_is_409(client, offset):
    url = created(client, 10)
    assert patch(client, url, 0, b"abc").status_code == 204
    response = patch(client, url, offset, b"def")
    assert response.status_code == 409
    assert "3" in response.json()["message"]
    assert head(client, url).headers["upload-offset"] == "3"


@pytest.mark.parametrize("offset", [None, "", "-1", "x", "1.5"])
def test_patch_without_a_valid_upload_offset_is_400(client, offset):
    url = created(client, 10)
    headers = {**TUS, "Content-Type": OFFSET_STREAM}
    if offset is not None:
        headers["Upload-Offset"] = offset
    response = client.patch(url, headers=headers, content=b"abc")
    assert response.status_code == 400
    assert "Upload-Offset" in response.json()["message"]


def test_patch_past_the_upload_length_is_413_and_keeps_nothing(store, client):
    url = created(client, 5)
    assert patch(client, url, 0, b"ab").status_code == 204
    response = patch(client, url, 2, b"cdefgh")
    assert response.status_code == 413
    assert head(client, url).headers["upload-offset"] == "2"
    assert partial_data(store, url).read_bytes() == b"ab"


def test_chunked_patch_past_the_upload_length_is_413_and_keeps_nothing(store, client):
    """Without Content-Length the store finds out as the bytes arrive."""
    url = created(client, 100_000)
    headers = {**TUS, "Upload-Offset": "0", "Content-Type": OFFSET_STREAM}
    response = client.patch(url, headers=headers, content=iter([b"x" * 60_000, b"y" * 60_000]))
    assert response.status_code == 413
    assert head(client, url).headers["upload-offset"] == "0"
    assert partial_data(store, url).stat().st_size == 0


@pytest.mark.parametrize("method", ["HEAD", "PATCH", "DELETE", "GET"])
def test_unknown_upload_is_404(client, method):
    headers = {**TUS, "Upload-Offset": "0", "Content-Type": OFFSET_STREAM}
    body = b"x" if method == "PATCH" else None
    response = client.request(method, "/api/upload/AAAAAAAAAAAAAAAAAAAAAA", headers=headers, content=body)
    assert response.status_code == 404
    if method != "HEAD":
        assert response.json()["code"] == 404


def test_upload_id_that_is_no_id_is_404(client):
    assert head(client, "/api/upload/..%2F..%2Findex.sqlite3").status_code == 404


# --- creation ---------------------------------------------------------------------------------------


def test_creation_without_upload_length_is_400(client):
    response = create(client, None)
    assert response.status_code == 400
    assert "Upload-Length" in response.json()["message"]


def test_creation_with_upload_defer_length_is_400_not_supported(client):
    response = create(client, None, headers={"Upload-Defer-Length": "1"})
    assert response.status_code == 400
    assert "Upload-Defer-Length" in response.json()["message"]


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "", "99999999999999999999999"])
def test_creation_with_invalid_upload_length_is_400(client, length):
    assert create(client, None, headers={"Upload-Length": length}).status_code == 400


@pytest.mark.parametrize("header", ["filename !!!", "filename a", "filename YQ==,filename Yg==", "filename /w=="])
def test_creation_with_malformed_upload_metadata_is_400(client, header):
    response = client.post("/api/upload", headers={**TUS, "Upload-Length": "1", "Upload-Metadata": header.encode()})
    assert response.status_code == 400
    assert "Upload-Metadata" in response.json()["message"]


def test_creation_above_max_size_is_413(client):
    max_size = int(client.options("/api/upload").headers["tus-max-size"])
    response = create(client, max_size + 1)
    assert response.status_code == 413
    assert str(max_size) in response.json()["message"]
    assert create(client, max_size).status_code == 201  # declaring is free; no byte is held


def test_refusals_at_creation_say_what_post_api_store_says(client):
    """Same checks, same codes, same messages as POST /api/store, before any byte is accepted."""
    cases: list[tuple[Meta, str, dict[str, str]]] = [  # (tus metadata, /api/store URL, its query)
        ({"apikey": None}, "/api/store", {}),
        ({"apikey": "not-a-key"}, "/api/store", {"key": "not-a-key"}),
        ({"location": "S3"}, "/api/store/S3", {"key": "demo"}),
        ({"container": "nope"}, "/api/store", {"key": "demo", "container": "nope"}),
        ({"path": "../x"}, "/api/store", {"key": "demo", "path": "../x"}),
        ({"path": "a/b.png", "multiple": "true"}, "/api/store", {"key": "demo", "path": "a/b.png", "multiple": "true"}),
        ({"filetype": "noslash"}, "/api/store", {"key": "demo", "mimetype": "noslash"}),
    ]
    for meta, url, query in cases:
        tus = create(client, 3, **meta)
        plain = client.post(url, params={"filename": "f.bin", **query}, content=b"abc")
        assert tus.status_code == plain.status_code and tus.status_code in (400, 403), (meta, tus.text, plain.text)
        assert tus.json() == plain.json(), meta
        assert "location" not in tus.headers


def test_refused_creation_stores_and_keeps_nothing(store, client):
    before_files = set(store.stored_files())
    before_uploads = uploads_in_progress(store)
    refused: tuple[Meta, ...] = ({"apikey": "nope"}, {"container": "nope"}, {"path": "a/../../b"})
    for meta in refused:
        assert create(client, 3, body=b"abc", **meta).status_code in (400, 403)
    assert set(store.stored_files()) == before_files
    assert uploads_in_progress(store) == before_uploads


def test_metadata_names_filename_type_container_and_path(store, client):
    data = b"<p>hello</p>"
    _, blob = upload_whole(client, data, filename="page.html", filetype="text/plain; charset=utf-8",
                           container="other-files", path="tus-folder/")
    assert blob["filename"] == "page.html"
    assert blob["mimetype"] == "text/plain; charset=utf-8"
    assert blob["container"] == "other-files"
    assert blob["key"] == f"tus-folder/{blob['handle']}_page.html"
    assert (store.data_dir / "files" / "other-files" / blob["key"]).read_bytes() == data
    response = client.get(blob["url"])
    assert response.content == data
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_creation_with_upload_takes_the_first_chunk(client):
    data = os.urandom(300_000)
    response = create(client, len(data), body=data[:100_000])
    assert response.status_code == 201
    assert response.headers["upload-offset"] == "100000"
    assert "upload-expires" in response.headers
    url = response.headers["location"]
    response = patch(client, url, 100_000, data[100_000:])
    assert response.status_code == 200
    assert response.json()["sha256"] == sha256(data)


def test_creation_with_the_whole_file_answers_the_blob(store, client):
    data = b"all at once"
    response = create(client, len(data), body=data, filename="once.txt")
    assert response.status_code == 201
    assert response.headers["upload-offset"] == str(len(data))
    blob = response.json()
    assert blob["size"] == len(data) and blob["sha256"] == sha256(data) and blob["filename"] == "once.txt"
    assert client.get(blob["url"]).content == data


@pytest.mark.parametrize("sent, length", [(checksum("sha1", b"jello"), 5), (None, 3)])
def test_creation_with_a_refused_first_chunk_keeps_nothing(store, client, sent, length):
    """460 (checksum) or 413 (longer than Upload-Length): the answer has no Location, so the store
    keeps no upload that nobody could resume."""
    before = uploads_in_progress(store)
    headers = {"Upload-Checksum": sent} if sent else {}
    response = create(client, length, body=iter([b"hel", b"lo"]), headers=headers)
    assert response.status_code == (460 if sent else 413)
    assert "location" not in response.headers
    assert uploads_in_progress(store) == before


def test_empty_file_is_stored_at_creation(store, client):
    response = create(client, 0, filename="empty.txt")
    assert response.status_code == 201
    blob = response.json()
    assert blob["size"] == 0 and blob["sha256"] == sha256(b"")
    assert (store.data_dir / "files" / "files" / blob["key"]).read_bytes() == b""
    assert client.get(response.headers["location"]).json() == blob


# --- completion and the Blob ----------------------------------------------------------------------


def test_last_patch_answers_the_blob_and_stores_the_exact_bytes(store, client):
    data = os.urandom(3 * MIB + 17)
    url, blob = upload_whole(client, data, filename="whole.bin", filetype="application/x-test")
    assert set(blob) >= {
        "url", "filename", "mimetype", "size", "key", "container", "path", "isWriteable", "handle", "sha256"
    }
    assert blob["size"] == len(data)
    assert blob["sha256"] == sha256(data)
    assert blob["mimetype"] == "application/x-test"
    assert blob["url"] == f"{store.url}/api/file/{blob['handle']}"
    assert sha256((store.data_dir / "files" / "files" / blob["key"]).read_bytes()) == sha256(data)
    assert sha256(client.get(blob["url"]).content) == sha256(data)
    assert not partial_data(store, url).exists()


def test_get_on_the_upload_url_gives_the_blob_once_complete(client):
    url = created(client, 6)
    patch(client, url, 0, b"abc")
    response = client.get(url)
    assert response.status_code == 409
    assert "3 of its 6" in response.json()["message"]
    last = patch(client, url, 3, b"def").json()
    assert client.get(url).json() == last
    assert client.get(url, headers=TUS).json() == last


def test_every_answer_about_an_upload_names_where_its_blob_will_be(client):
    """Blob-Location tells a client that GET there gives the Blob (other tus servers have no such
    GET): on the creation, each PATCH and HEAD; a partial upload, which is no file, has none."""
    response = create(client, 6)
    url = response.headers["location"]
    assert response.headers["blob-location"] == url
    assert patch(client, url, 0, b"abc").headers["blob-location"] == url
    assert head(client, url).headers["blob-location"] == url
    last = patch(client, url, 3, b"def")
    assert last.headers["blob-location"] == url
    assert client.get(last.headers["blob-location"]).json() == last.json()
    part = create(client, 3, headers={"Upload-Concat": "partial"})
    assert part.status_code == 201 and "blob-location" not in part.headers


def test_head_after_completion_says_whole(client):
    url, _ = upload_whole(client, b"0123456789")
    response = head(client, url)
    assert response.headers["upload-offset"] == response.headers["upload-length"] == "10"


def test_repeated_last_patch_answers_the_blob_again(client):
    url, blob = upload_whole(client, b"0123456789")
    again = patch(client, url, 10, b"")
    assert again.status_code == 200
    assert again.json() == blob
    assert patch(client, url, 10, b"more").status_code == 413


def test_a_file_is_not_visible_until_its_last_byte(store, client):
    data = os.urandom(200_000)
    before = set(store.stored_files())
    url = created(client, len(data), filename="later.bin")
    for start in range(0, len(data) - 50_000, 50_000):
        patch(client, url, start, data[start:start + 50_000])
        assert set(store.stored_files()) == before
    blob = patch(client, url, 150_000, data[150_000:]).json()
    assert set(store.stored_files()) - before == {store.data_dir / "files" / "files" / blob["key"]}


def test_interrupted_patch_leaves_an_offset_to_resume_from(store, client):
    data = os.urandom(2 * MIB)
    url = created(client, len(data))

    def breaks_off():
        yield data[:MIB]
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError, match="connection lost"):
        client.patch(url, headers={**TUS, "Upload-Offset": "0", "Content-Type": OFFSET_STREAM,
                                   "Content-Length": str(len(data))}, content=breaks_off())
    deadline = time.monotonic() + 10
    while busy(client, url) and time.monotonic() < deadline:  # the store notices the loss on its own time
        time.sleep(0.1)
    offset = int(head(client, url).headers["upload-offset"])
    assert 0 <= offset <= MIB
    assert partial_data(store, url).stat().st_size == offset
    blob = patch(client, url, offset, data[offset:]).json()
    assert blob["sha256"] == sha256(data)


def test_a_second_patch_while_one_is_streaming_is_423(store, client):
    url = created(client, 200_000)
    go_on = threading.Event()
    outcome: dict = {}

    def slow_body():
        yield b"a" * 100_000
        go_on.wait(20)
        yield b"b" * 100_000

    def first_patch():
        with httpx.Client(timeout=60) as other:
            outcome["response"] = patch(other, url, 0, slow_body(), **{"Content-Length": "200000"})

    thread = threading.Thread(target=first_patch)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not lease_held(store, url) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = patch(client, url, 0, b"c" * 10)
        assert second.status_code == 423
        assert "busy" in second.json()["message"]
    finally:
        go_on.set()
        thread.join(30)
    assert outcome["response"].status_code == 200
    assert outcome["response"].json()["sha256"] == sha256(b"a" * 100_000 + b"b" * 100_000)


# --- checksum ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_patch_with_matching_checksum_is_kept(client, algorithm):
    url = created(client, 6)
    response = patch(client, url, 0, b"abc", **{"Upload-Checksum": checksum(algorithm, b"abc")})
    assert response.status_code == 204
    assert response.headers["upload-offset"] == "3"


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_patch_with_checksum_mismatch_is_460_and_the_chunk_is_discarded(store, client, algorithm):
    data = b"abcdefghij"
    url = created(client, len(data))
    assert patch(client, url, 0, data[:4]).status_code == 204
    response = patch(client, url, 4, data[4:], **{"Upload-Checksum": checksum(algorithm, b"damaged")})
    assert response.status_code == 460
    assert response.json()["code"] == 460
    assert head(client, url).headers["upload-offset"] == "4"
    assert partial_data(store, url).read_bytes() == data[:4]
    blob = patch(client, url, 4, data[4:], **{"Upload-Checksum": checksum(algorithm, data[4:])}).json()
    assert blob["sha256"] == sha256(data)  # the refused bytes left no trace in the whole file's hash


SHA512 = "sha512 " + base64.b64encode(b"x" * 64).decode()


@pytest.mark.parametrize("value", ["crc32 AAAAAA==", SHA512, "sha1", "sha1 not*base64"])
def test_patch_with_unsupported_or_malformed_checksum_is_400(client, value):
    url = created(client, 3)
    response = patch(client, url, 0, b"abc", **{"Upload-Checksum": value})
    assert response.status_code == 400
    assert "Upload-Checksum" in response.json()["message"]
    assert head(client, url).headers["upload-offset"] == "0"


# --- termination ------------------------------------------------------------------------------------


def test_delete_terminates_the_upload_and_removes_its_bytes(store, client):
    url = created(client, 10)
    patch(client, url, 0, b"abc")
    assert partial_data(store, url).exists()
    response = client.delete(url, headers=TUS)
    assert response.status_code == 204
    assert not partial_data(store, url).exists()
    assert head(client, url).status_code == 404
    assert patch(client, url, 3, b"def").status_code == 404
    assert client.delete(url, headers=TUS).status_code == 404


def test_delete_after_completion_keeps_the_stored_file(client):
    url, blob = upload_whole(client, b"keep me")
    assert client.delete(url, headers=TUS).status_code == 204
    assert head(client, url).status_code == 404
    assert client.get(blob["url"]).content == b"keep me"


# --- concatenation ----------------------------------------------------------------------------------


def partial(client: httpx.Client, data: bytes, **meta: Unpack[Meta]) -> str:
    response = create(client, len(data), headers={"Upload-Concat": "partial"}, **meta)
    assert response.status_code == 201, response.text
    url = response.headers["location"]
    if data:
        assert patch(client, url, 0, data).status_code == 204
    return url


def final(client: httpx.Client, urls: list[str], **meta: Unpack[Meta]) -> httpx.Response:
    return create(client, None, headers={"Upload-Concat": "final;" + " ".join(urls)}, **meta)


def test_three_partial_uploads_join_into_one_file(store, client):
    parts = [os.urandom(300_000), os.urandom(1), os.urandom(700_001)]
    before = set(store.stored_files())
    urls = [partial(client, part) for part in parts]
    assert head(client, urls[0]).headers["upload-concat"] == "partial"
    assert set(store.stored_files()) == before  # whole partial uploads are no files
    assert client.get(urls[0]).status_code == 400
    # One part by path alone: the URLs a client gives may be relative.
    response = final(client, [urls[0], urlsplit(urls[1]).path, urls[2]], filename="joined.bin")
    assert response.status_code == 201, response.text
    whole = b"".join(parts)
    blob = response.json()
    assert blob["size"] == len(whole)
    assert blob["sha256"] == sha256(whole)
    assert client.get(blob["url"]).content == whole
    final_url = response.headers["location"]
    state = head(client, final_url)
    assert state.headers["upload-length"] == state.headers["upload-offset"] == str(len(whole))
    assert state.headers["upload-concat"].startswith("final;")
    assert client.get(final_url).json() == blob
    assert set(store.stored_files()) - before == {store.data_dir / "files" / "files" / blob["key"]}
    for url in urls:  # joined parts are used up
        assert head(client, url).status_code == 404
        assert not partial_data(store, url).exists()


def test_final_upload_with_an_unfinished_part_is_400_and_keeps_the_parts(client):
    done = partial(client, b"abc")
    response = create(client, 10, headers={"Upload-Concat": "partial"})
    unfinished = response.headers["location"]
    patch(client, unfinished, 0, b"12")
    response = final(client, [done, unfinished])
    assert response.status_code == 400
    assert "2 of its 10" in response.json()["message"]
    assert head(client, done).status_code == 200


def test_final_upload_refuses_what_is_no_partial_upload_of_its_app(client):
    plain = created(client, 3)
    patch(client, plain, 0, b"abc")
    cases = [
        [plain],  # not partial
        ["/api/upload/AAAAAAAAAAAAAAAAAAAAAA"],  # unknown
        ["http://elsewhere.example/files/x"],  # not an upload URL
    ]
    for urls in cases:
        response = final(client, urls)
        assert response.status_code == 400, (urls, response.text)
    assert create(client, None, headers={"Upload-Concat": "final;"}).status_code == 400
    assert create(client, 1, headers={"Upload-Concat": "sideways"}).status_code == 400


def test_final_upload_takes_no_upload_length_and_no_patch(client):
    part = partial(client, b"abc")
    assert create(client, 3, headers={"Upload-Concat": f"final;{part}"}).status_code == 400
    response = final(client, [part])
    assert response.status_code == 201
    assert patch(client, response.headers["location"], 3, b"x").status_code == 403


def test_final_upload_checks_the_destination_before_joining(client):
    part = partial(client, b"abc")
    response = final(client, [part], container="nope")
    assert response.status_code == 400
    assert head(client, part).status_code == 200  # still there to join properly


def test_partial_upload_needs_an_api_key(client):
    response = create(client, 3, headers={"Upload-Concat": "partial"}, apikey=None)
    assert response.status_code == 400
    assert "API key" in response.json()["message"]


# --- policies ---------------------------------------------------------------------------------------


class Signed(TypedDict):
    policy: str
    signature: str


def policy(secret: str = "demo-secret", **rules) -> Signed:
    """Upload-Metadata keys for a policy signed with the test app's secret."""
    sent = signed(make_policy(expiry=time.time() + 600, **rules), secret)
    return {"policy": sent["policy"], "signature": sent["signature"]}


@pytest.mark.parametrize("rules, meta", [
    ({"max_size": 9}, {}),
    ({"min_size": 11}, {}),
    ({"call": ["read"]}, {}),
    ({"path": "only-here/.*"}, {"path": "elsewhere/"}),
    ({"container": "other-files"}, {}),
])
def test_policy_refusing_the_upload_is_403_at_creation(store, client, rules, meta):
    before = uploads_in_progress(store)
    response = create(client, 10, **policy(**rules), **meta)
    assert response.status_code == 403, response.text
    assert "policy" in response.json()["message"]
    assert uploads_in_progress(store) == before


def test_policy_with_a_bad_signature_is_403(client):
    signed_policy = policy(secret="not-the-secret")
    response = create(client, 10, **signed_policy)
    assert response.status_code == 403
    assert "signature" in response.json()["message"]


def test_policy_allowing_write_makes_the_blob_writeable(client):
    _, blob = upload_whole(client, b"writeable", **policy(call=["store", "write"], max_size=9, path="tus-ok/.*"),
                           path="tus-ok/")
    assert blob["isWriteable"] is True
    _, blob = upload_whole(client, b"read only", **policy(call=["store"]))
    assert blob["isWriteable"] is False


def test_partial_upload_above_the_policys_max_size_is_403(client):
    response = create(client, 10, headers={"Upload-Concat": "partial"}, **policy(max_size=9))
    assert response.status_code == 403
    assert create(client, 9, headers={"Upload-Concat": "partial"}, **policy(max_size=9)).status_code == 201


def test_app_that_requires_security_refuses_uploads_without_a_policy(tmp_path):
    env = {"PICKSTORE__apps__demo__require_security": "true"}
    with run_store(tmp_path, env=env) as secure, httpx.Client(base_url=secure.url) as c:
        for headers in ({}, {"Upload-Concat": "partial"}):
            response = create(c, 3, headers=headers)
            assert response.status_code == 400
            assert "policy" in response.json()["message"]
        assert create(c, 3, **policy(call=["store"])).status_code == 201


# --- CORS -------------------------------------------------------------------------------------------


def test_cors_preflight_allows_tus_requests(client):
    response = client.options(
        "/api/upload/AAAAAAAAAAAAAAAAAAAAAA",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "tus-resumable,upload-offset,upload-checksum,content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("tus-resumable", "upload-offset", "upload-checksum", "content-type"):
        assert header in allowed


def test_cors_exposes_tus_headers_to_pages(client):
    response = create(client, 3, headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert exposed >= {
        "location", "upload-offset", "upload-length", "upload-expires", "upload-metadata", "upload-concat",
        "tus-resumable", "tus-version", "tus-extension", "tus-max-size", "tus-checksum-algorithm", "blob-location",
    }


# --- the tuspy client -------------------------------------------------------------------------------


def test_tuspy_uploads_a_multi_mib_file_in_chunks(store, source):
    path, data = source
    uploader = TusClient(f"{store.url}/api/upload").uploader(
        str(path),
        chunk_size=MIB,
        metadata={"apikey": "demo", "filename": "tuspy.bin", "filetype": "application/x-test"},
        upload_checksum=True,
    )
    uploader.upload()
    assert uploader.request is not None  # the last request, which stored the file
    blob = json.loads(uploader.request.response_content)
    assert blob["size"] == len(data)
    assert blob["sha256"] == sha256(data)
    assert blob["filename"] == "tuspy.bin"
    assert sha256((store.data_dir / "files" / "files" / blob["key"]).read_bytes()) == sha256(data)


def test_tuspy_resumes_an_upload_with_a_new_client(store, source):
    path, data = source
    first = TusClient(f"{store.url}/api/upload").uploader(
        str(path), chunk_size=MIB, metadata={"apikey": "demo", "filename": "resumed.bin"}
    )
    first.upload(stop_at=2 * MIB)  # stops after two chunks
    assert first.offset == 2 * MIB
    url = first.url
    assert url is not None
    with httpx.Client() as c:
        assert head(c, url).headers["upload-offset"] == str(2 * MIB)

    second = TusClient(f"{store.url}/api/upload").uploader(str(path), url=url, chunk_size=MIB)
    assert second.offset == 2 * MIB  # asked the store
    second.upload()
    assert second.request is not None
    blob = json.loads(second.request.response_content)
    assert blob["sha256"] == sha256(data)
    with httpx.Client() as c:
        assert c.get(blob["url"]).content == data


# --- restarts, several processes, expiry ------------------------------------------------------------


def test_a_restarted_store_continues_the_upload_a_previous_process_began(tmp_path, source):
    path, data = source
    with run_store(tmp_path) as first:
        uploader = TusClient(f"{first.url}/api/upload").uploader(
            str(path), chunk_size=MIB, metadata={"apikey": "demo", "filename": "restart.bin"}
        )
        uploader.upload(stop_at=3 * MIB)
        assert uploader.url is not None
        upload_path = urlsplit(uploader.url).path
    with run_store(tmp_path) as second:  # the same config and data dir
        url = f"{second.url}{upload_path}"
        resumed = TusClient(f"{second.url}/api/upload").uploader(str(path), url=url, chunk_size=MIB)
        assert resumed.offset == 3 * MIB
        resumed.upload()
        assert resumed.request is not None
        blob = json.loads(resumed.request.response_content)
        # The running sha256 died with the first process: the second rebuilt it from the bytes.
        assert blob["sha256"] == sha256(data)
        assert sha256((second.data_dir / "files" / "files" / blob["key"]).read_bytes()) == sha256(data)


def test_two_store_processes_serve_one_upload_in_turns(tmp_path):
    data = os.urandom(4 * 256_000)
    with run_store(tmp_path) as one, run_store(tmp_path) as two, httpx.Client(base_url=one.url, timeout=60) as c:
        upload_path = urlsplit(created(c, len(data))).path
        response = None
        for i, store in enumerate([one, two, one, two]):
            start = i * 256_000
            response = patch(c, f"{store.url}{upload_path}", start, data[start:start + 256_000])
            assert response.status_code in (200, 204), response.text
        assert response is not None
        assert response.json()["sha256"] == sha256(data)
        assert c.get(f"{one.url}{upload_path}").json()["handle"] == response.json()["handle"]


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory):
    """A store whose unfinished uploads expire one second after their last chunk."""
    env = {"PICKSTORE__store__upload_expiry": "1"}
    with run_store(tmp_path_factory.mktemp("short"), env=env) as running, httpx.Client(base_url=running.url) as c:
        yield running, c


def test_expired_upload_is_410_then_404_and_its_bytes_are_gone(short_lived):
    store, c = short_lived
    url = created(c, 10)
    response = patch(c, url, 0, b"abc")
    assert parsedate_to_datetime(response.headers["upload-expires"]).timestamp() <= time.time() + 2
    assert partial_data(store, url).exists()
    time.sleep(1.5)
    assert head(c, url).status_code == 410
    assert not partial_data(store, url).exists()
    assert head(c, url).status_code == 404
    assert patch(c, url, 3, b"def").status_code == 404


def test_each_chunk_moves_the_expiry_on(short_lived):
    _, c = short_lived
    url = created(c, 10)
    for offset in range(4):
        time.sleep(0.6)  # more than the expiry in all, less between two chunks
        assert patch(c, url, offset, b"x").status_code == 204


def test_expired_uploads_are_swept_when_another_is_created(short_lived):
    store, c = short_lived
    url = created(c, 10)
    patch(c, url, 0, b"abc")
    time.sleep(1.5)
    created(c, 10)
    deadline = time.time() + 3  # the background sweep: the expired upload goes without being asked for
    while partial_data(store, url).exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not partial_data(store, url).exists()
    assert head(c, url).status_code == 404


def test_expired_uploads_are_swept_when_the_store_starts(tmp_path):
    env = {"PICKSTORE__store__upload_expiry": "1"}
    with run_store(tmp_path, env=env) as first, httpx.Client(base_url=first.url) as c:
        url = created(c, 10)
        patch(c, url, 0, b"abc")
    assert partial_data(first, url).exists()
    time.sleep(1.5)
    with run_store(tmp_path, env=env) as second:
        assert not partial_data(second, url).exists()  # before any request


def test_completed_upload_file_outlives_the_upload_expiry(short_lived):
    _, c = short_lived
    url, blob = upload_whole(c, b"stays")
    time.sleep(1.5)
    assert head(c, url).status_code in (404, 410)
    assert c.get(blob["url"]).content == b"stays"
