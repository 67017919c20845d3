"""The store's HTTP API against a real store process: POST /api/store, GET/HEAD /api/file, CORS."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path

import httpx
import pytest

HANDLE = re.compile(r"[A-Za-z0-9_-]{20}")
ORIGIN = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def client(store):
    with httpx.Client(base_url=store.url, timeout=30) as c:
        yield c


def post(client: httpx.Client, body: bytes, location: str | None = None, **params: str) -> httpx.Response:
    params = {"key": "demo", **params}
    params = {k: v for k, v in params.items() if v is not None}
    url = "/api/store" if location is None else f"/api/store/{location}"
    return client.post(url, params=params, content=body)


def stored(client: httpx.Client, body: bytes, **params: str) -> dict:
    response = post(client, body, **params)
    assert response.status_code == 200, response.text
    return response.json()


def on_disk(store, blob: dict) -> Path:
    """Where the local backend keeps a Blob (location root "files" under the data dir)."""
    return store.data_dir / "files" / blob["container"] / blob["key"]


def assert_inside_data_dir(store, path: Path) -> None:
    assert path.resolve().is_relative_to(store.data_dir.resolve()), f"{path} is outside {store.data_dir}"


def unique() -> str:
    return uuid.uuid4().hex[:12]


# --- storing and the Blob --------------------------------------------------------------------------


def test_store_returns_blob_describing_the_stored_file(store, client):
    body = b"hello pickstore\x00\xff" * 10
    response = post(client, body, filename="a.bin", mimetype="application/x-test")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    blob = response.json()
    assert set(blob) >= {"url", "filename", "mimetype", "size", "key", "container", "path", "isWriteable", "handle", "sha256"}
    assert HANDLE.fullmatch(blob["handle"])
    assert blob["filename"] == "a.bin"
    assert blob["mimetype"] == "application/x-test"
    assert blob["size"] == len(body)
    assert blob["key"] == f"{blob['handle']}_a.bin"
    assert blob["path"] == blob["key"]
    assert blob["container"] == "files"
    assert blob["isWriteable"] is False
    assert blob["sha256"] == hashlib.sha256(body).hexdigest()
    assert blob["url"] == f"{store.url}/api/file/{blob['handle']}"
    assert on_disk(store, blob).read_bytes() == body


def test_store_gives_each_upload_a_new_handle(client):
    first = stored(client, b"x", filename="same.txt")
    second = stored(client, b"x", filename="same.txt")
    assert first["handle"] != second["handle"]
    assert first["key"] != second["key"]


def test_store_without_mimetype_defaults_to_octet_stream(client):
    blob = stored(client, b"data", filename="x")
    assert blob["mimetype"] == "application/octet-stream"
    assert client.get(blob["url"]).headers["content-type"] == "application/octet-stream"


def test_store_mimetype_with_parameters_is_served_back(client):
    blob = stored(client, b"text", filename="t.txt", mimetype="text/plain; charset=utf-8")
    assert client.get(blob["url"]).headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("mimetype", ["text/plain\r\nX-Evil: 1", "text/\u2603", "t\u00ebxt/plain", "noslash", "a/b\n"])
def test_store_mimetype_that_cannot_be_a_header_is_refused_400(store, client, mimetype):
    """It comes back as the Content-Type header: a value that cannot be one must not be stored."""
    before = set(store.stored_files())
    response = post(client, b"abc", filename="m.txt", mimetype=mimetype)
    assert response.status_code == 400
    assert "mimetype" in response.json()["message"]
    assert set(store.stored_files()) == before


def test_get_returns_exact_bytes_with_type_length_etag_and_nosniff(client):
    body = os.urandom(4096)
    blob = stored(client, body, filename="a.bin", mimetype="application/x-test")
    response = client.get(blob["url"])
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == "application/x-test"
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["etag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["accept-ranges"] == "bytes"
    assert "a.bin" in response.headers["content-disposition"]


def test_head_gives_the_same_headers_and_no_body(client):
    body = b"0123456789" * 7
    blob = stored(client, body, filename="a.bin", mimetype="application/x-test")
    response = client.head(blob["url"])
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["content-type"] == "application/x-test"
    assert response.headers["etag"] == f'"{blob["sha256"]}"'
    assert response.headers["x-content-type-options"] == "nosniff"


def test_empty_file_stores_and_downloads(store, client):
    blob = stored(client, b"", filename="empty.txt", mimetype="text/plain")
    assert blob["size"] == 0
    assert blob["sha256"] == hashlib.sha256(b"").hexdigest()
    assert on_disk(store, blob).read_bytes() == b""
    response = client.get(blob["url"])
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    assert response.headers["etag"] == f'"{hashlib.sha256(b"").hexdigest()}"'


@pytest.mark.parametrize("range_header", ["bytes=0-9", "bytes=-5", "bytes=0-"])
def test_range_on_empty_file_is_416(client, range_header):
    blob = stored(client, b"", filename="empty.txt")
    response = client.get(blob["url"], headers={"Range": range_header})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */0"


def test_five_mib_random_body_round_trips_exactly(client):
    body = os.urandom(5 * 1024 * 1024)
    blob = stored(client, body, filename="big.bin")
    assert blob["size"] == len(body)
    assert blob["sha256"] == hashlib.sha256(body).hexdigest()
    response = client.get(blob["url"])
    assert response.status_code == 200
    assert len(response.content) == len(body)
    assert hashlib.sha256(response.content).hexdigest() == blob["sha256"]


def test_chunked_request_body_without_content_length_is_stored_whole(client):
    parts = [os.urandom(70_000) for _ in range(5)]
    response = client.post("/api/store", params={"key": "demo", "filename": "chunked.bin"}, content=iter(parts))
    assert response.status_code == 200, response.text
    blob = response.json()
    body = b"".join(parts)
    assert blob["size"] == len(body)
    assert client.get(blob["url"]).content == body


# --- locations -------------------------------------------------------------------------------------


def test_store_location_in_url_is_case_insensitive(client):
    for location in ("LOCAL", "Local", "local"):
        response = post(client, b"abc", location=location, filename="loc.txt")
        assert response.status_code == 200, (location, response.text)
        blob = response.json()
        assert client.get(blob["url"]).content == b"abc"


def test_store_unconfigured_location_is_400_naming_configured_location(store, client):
    before = set(store.stored_files())
    response = post(client, b"abc", location="S3", filename="s3.txt")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == 400
    assert "S3" in error["message"]
    assert "local" in error["message"]
    assert set(store.stored_files()) == before


# --- API key ---------------------------------------------------------------------------------------


def test_store_unknown_api_key_is_403_and_stores_nothing(store, client):
    before = set(store.stored_files())
    response = post(client, b"secret stuff", key="not-a-key", filename="x.txt")
    assert response.status_code == 403
    error = response.json()
    assert error["code"] == 403
    assert "not-a-key" in error["message"]
    assert "API key" in error["message"]
    assert set(store.stored_files()) == before


def test_store_missing_api_key_is_400_and_stores_nothing(store, client):
    before = set(store.stored_files())
    response = client.post("/api/store", params={"filename": "x.txt"}, content=b"abc")
    assert response.status_code == 400
    assert "API key" in response.json()["message"]
    assert set(store.stored_files()) == before


def test_store_empty_api_key_is_400(client):
    response = post(client, b"abc", key="", filename="x.txt")
    assert response.status_code == 400


# --- storeContainer ----------------------------------------------------------------------------------


def test_store_container_option_stores_in_that_container(store, client):
    blob = stored(client, b"other", filename="o.txt", container="other-files")
    assert blob["container"] == "other-files"
    path = on_disk(store, blob)
    assert path.read_bytes() == b"other"
    assert path.parent == store.data_dir / "files" / "other-files"
    assert client.get(blob["url"]).content == b"other"


def test_store_unknown_container_is_400_naming_allowed_containers(store, client):
    before = set(store.stored_files())
    response = post(client, b"abc", filename="x.txt", container="nope")
    assert response.status_code == 400
    message = response.json()["message"]
    assert "nope" in message
    assert "files" in message and "other-files" in message
    assert set(store.stored_files()) == before


@pytest.mark.parametrize("container", ["../files", "files/../other-files", ".incoming", "FILES"])
def test_store_container_is_matched_exactly(client, container):
    assert post(client, b"abc", filename="x.txt", container=container).status_code == 400


# --- path --------------------------------------------------------------------------------------------


def test_store_folder_path_puts_file_in_folder(store, client):
    blob = stored(client, b"in folder", filename="name.txt", path="myfiles/")
    assert blob["key"] == f"myfiles/{blob['handle']}_name.txt"
    assert blob["path"] == blob["key"]
    assert on_disk(store, blob).read_bytes() == b"in folder"
    assert client.get(blob["url"]).content == b"in folder"


def test_store_exact_path_is_the_key(store, client):
    key = f"exact-{unique()}/name.png"
    blob = stored(client, b"exact", filename="ignored.jpg", path=key, mimetype="image/png")
    assert blob["key"] == key
    assert on_disk(store, blob).read_bytes() == b"exact"
    assert client.get(blob["url"]).content == b"exact"


def test_store_exact_path_with_multiple_is_400(store, client):
    before = set(store.stored_files())
    response = post(client, b"abc", filename="x.txt", path=f"exact-{unique()}/name.png", multiple="true")
    assert response.status_code == 400
    assert "/" in response.json()["message"]
    assert set(store.stored_files()) == before


def test_store_folder_path_with_multiple_is_accepted(client):
    blob = stored(client, b"abc", filename="x.txt", path="many/", multiple="true")
    assert blob["key"] == f"many/{blob['handle']}_x.txt"


@pytest.mark.parametrize("path", ["../x", "a/../../b", "../../../../../../tmp/evil", "..", "x/.."])
def test_store_dotdot_path_is_refused(store, client, path):
    before = set(store.stored_files())
    response = post(client, b"evil", filename="e.txt", path=path)
    assert response.status_code == 400
    assert ".." in response.json()["message"]
    assert set(store.stored_files()) == before


@pytest.mark.parametrize("path", ["/etc/shadow", "//abs//x/", "/tmp/"])
def test_store_absolute_path_stays_inside_data_dir(store, client, path):
    response = post(client, b"abs", filename="abs.txt", path=path)
    if response.status_code == 400:
        return  # refusing is acceptable too
    assert response.status_code == 200, response.text
    blob = response.json()
    assert not blob["key"].startswith("/")
    file = on_disk(store, blob)
    assert_inside_data_dir(store, file)
    assert file.read_bytes() == b"abs"
    assert client.get(blob["url"]).content == b"abs"


def test_store_etc_passwd_path_does_not_touch_system_file(store, client):
    original = Path("/etc/passwd").read_bytes()
    blob = stored(client, b"not a passwd file", filename="p", path="/etc/passwd")
    assert Path("/etc/passwd").read_bytes() == original
    assert blob["key"] == "etc/passwd"
    assert on_disk(store, blob).read_bytes() == b"not a passwd file"


@pytest.mark.parametrize("path", ["a\\b", "..\\..\\evil", "a\x00b", "dir\x00/", "a\nb/", "x\x1by"])
def test_store_path_with_backslash_nul_or_control_chars_is_refused(store, client, path):
    before = set(store.stored_files())
    response = post(client, b"evil", filename="e.txt", path=path)
    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert set(store.stored_files()) == before


def test_store_overlong_path_is_refused(client):
    assert post(client, b"x", filename="x", path="a" * 300 + "/").status_code == 400
    assert post(client, b"x", filename="x", path="/".join(["d" * 200] * 6) + "/").status_code == 400


# --- hostile filenames ----------------------------------------------------------------------------------

HOSTILE_FILENAMES = [
    "../../evil.txt",
    "..\\..\\evil",
    "",
    ".hidden",
    "x" * 1000,
    "y" * 1000 + ".png",
    "ctl\x01\x02\x1b[0m\r\n.txt",
    "nul\x00byte.txt",
    "/etc/shadow",
    "..",
    "😀" * 200,
    'quote"semi;colon%20.txt',
]


@pytest.mark.parametrize("filename", HOSTILE_FILENAMES, ids=lambda n: repr(n)[:30])
def test_store_hostile_filename_is_stored_safely_inside_data_dir(store, client, filename):
    body = f"payload for {filename!r}".encode()
    blob = stored(client, body, filename=filename)
    key = blob["key"]
    assert key.startswith(blob["handle"] + "_")
    assert "/" not in key and "\\" not in key and "\x00" not in key
    assert all(ch.isprintable() for ch in key)
    assert len(key.encode()) <= 255
    safe = blob["filename"]
    assert safe and safe not in (".", "..") and not safe.startswith(".")
    assert "/" not in safe and "\\" not in safe
    assert all(ch.isprintable() for ch in safe)
    file = on_disk(store, blob)
    assert_inside_data_dir(store, file)
    assert file.parent == store.data_dir / "files" / "files"
    assert file.read_bytes() == body
    response = client.get(blob["url"])
    assert response.status_code == 200
    assert response.content == body


def test_store_filename_traversal_keeps_last_component(client):
    assert stored(client, b"x", filename="../../evil.txt")["filename"] == "evil.txt"
    assert stored(client, b"x", filename="..\\..\\evil")["filename"] == "evil"
    assert stored(client, b"x", filename=".hidden")["filename"] == "hidden"
    assert stored(client, b"x", filename="")["filename"] == "file"


def test_store_unicode_filename_round_trips_in_content_disposition(client):
    blob = stored(client, b"x", filename="Résumé 日本.pdf")
    assert blob["filename"] == "Résumé 日本.pdf"
    disposition = client.get(blob["url"]).headers["content-disposition"]
    assert disposition == "inline; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.pdf"


# --- ranges and conditional requests ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ranged(client):
    body = bytes(range(256)) * 4  # 1024 distinct-ish bytes
    return body, stored(client, body, filename="range.bin")


def test_range_first_ten_bytes_is_206_with_content_range(client, ranged):
    body, blob = ranged
    response = client.get(blob["url"], headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 0-9/{len(body)}"
    assert response.headers["content-length"] == "10"
    assert response.content == body[:10]


def test_range_in_the_middle(client, ranged):
    body, blob = ranged
    response = client.get(blob["url"], headers={"Range": "bytes=300-555"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 300-555/{len(body)}"
    assert response.content == body[300:556]


def test_suffix_range_returns_last_bytes(client, ranged):
    body, blob = ranged
    response = client.get(blob["url"], headers={"Range": "bytes=-5"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {len(body) - 5}-{len(body) - 1}/{len(body)}"
    assert response.content == body[-5:]


def test_suffix_range_longer_than_file_returns_whole_file(client, ranged):
    body, blob = ranged
    response = client.get(blob["url"], headers={"Range": "bytes=-5000"})
    assert response.status_code == 206
    assert response.content == body


def test_open_range_returns_from_offset_to_end(client, ranged):
    body, blob = ranged
    response = client.get(blob["url"], headers={"Range": "bytes=5-"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 5-{len(body) - 1}/{len(body)}"
    assert response.content == body[5:]


def test_range_end_past_file_is_clamped(client, ranged):
    body, blob = ranged
    response = client.get(blob["url"], headers={"Range": f"bytes=1000-{len(body) * 10}"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 1000-{len(body) - 1}/{len(body)}"
    assert response.content == body[1000:]


@pytest.mark.parametrize("offset", [0, 1, 100])
def test_range_starting_beyond_size_is_416_with_star_content_range(client, ranged, offset):
    body, blob = ranged
    response = client.get(blob["url"], headers={"Range": f"bytes={len(body) + offset}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(body)}"


def test_range_on_head_gives_partial_headers_without_body(client, ranged):
    body, blob = ranged
    response = client.head(blob["url"], headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 0-9/{len(body)}"
    assert response.headers["content-length"] == "10"
    assert response.content == b""


def test_multiple_ranges_are_answered_with_the_whole_file(client, ranged):
    body, blob = ranged
    response = client.get(blob["url"], headers={"Range": "bytes=0-1,5-6"})
    assert response.status_code == 200
    assert response.content == body


def test_if_none_match_with_etag_is_304_without_body(client, ranged):
    _, blob = ranged
    etag = client.get(blob["url"]).headers["etag"]
    response = client.get(blob["url"], headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag


def test_if_none_match_with_other_etag_is_200(client, ranged):
    body, blob = ranged
    response = client.get(blob["url"], headers={"If-None-Match": '"' + "0" * 64 + '"'})
    assert response.status_code == 200
    assert response.content == body


def test_unknown_handle_is_404_json(client):
    response = client.get("/api/file/AAAAAAAAAAAAAAAAAAAA")
    assert response.status_code == 404
    error = response.json()
    assert error["code"] == 404
    assert "AAAAAAAAAAAAAAAAAAAA" in error["message"]


def test_unknown_handle_head_is_404(client):
    assert client.head("/api/file/AAAAAAAAAAAAAAAAAAAA").status_code == 404


# --- CORS --------------------------------------------------------------------------------------------------


def test_cors_request_from_other_origin_is_allowed(client, ranged):
    _, blob = ranged
    response = client.get(blob["url"], headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    exposed = response.headers["access-control-expose-headers"].lower()
    for header in ("content-length", "content-range", "etag"):
        assert header in exposed


def test_cors_on_store_post_is_allowed(client):
    response = client.post(
        "/api/store", params={"key": "demo", "filename": "c.txt"}, content=b"cors", headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)


def test_cors_preflight_for_store_post_succeeds(client):
    response = client.options(
        "/api/store?key=demo",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


def test_cors_preflight_for_range_get_allows_range_header(client):
    response = client.options(
        "/api/file/AAAAAAAAAAAAAAAAAAAA",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"},
    )
    assert response.status_code in (200, 204)
    assert "range" in response.headers["access-control-allow-headers"].lower()


# --- replacing and clashing paths; files the browser would run ----------------------------------


def test_storing_again_at_an_exact_path_is_refused_and_keeps_the_first_file(client):
    path = f"replace-{unique()}/photo.png"
    first = stored(client, b"first version", path=path, filename="photo.png")
    response = post(client, b"second, longer version", path=path, filename="photo.png")
    assert response.status_code == 409
    assert client.get(f"/api/file/{first['handle']}").content == b"first version"


def test_a_path_that_clashes_with_a_stored_file_is_refused_with_409(store, client):
    folder = f"clash-{unique()}"
    stored(client, b"a file", path=f"{folder}/name.txt")
    before = store.stored_files()
    response = post(client, b"inside a file?", path=f"{folder}/name.txt/inner.txt")
    assert response.status_code == 409
    assert "clashes" in response.json()["message"]
    assert store.stored_files() == before


@pytest.mark.parametrize("mimetype", ["text/html", "image/svg+xml", "application/xhtml+xml"])
def test_pages_and_svg_are_never_rendered_inline_from_the_store(client, mimetype):
    blob = stored(client, b"<svg onload=alert(1)></svg>", filename="x.svg", mimetype=mimetype)
    response = client.get(f"/api/file/{blob['handle']}")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["content-security-policy"]
