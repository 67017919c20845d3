"""tus uploads held to the types their app accepts by what their first bytes show, as whole-file
stores are: HTML bytes declared as an image are refused on an image-only app, before they are kept,
whether they come in one request, across several, with the creation, or joined from parts."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from harness.store_process import StoreProcess, store_process

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = {"Content-Type": "application/offset+octet-stream"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0" * 40
HTML = b"<!DOCTYPE html><script>alert(document.domain)</script>" + b" " * 600


@pytest.fixture(scope="module")
def sniffing_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreProcess]:
    with store_process(tmp_path_factory.mktemp("tus-sniffing")) as store:
        yield store


@pytest.fixture
def client(sniffing_store: StoreProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sniffing_store.url, timeout=30) as c:
        yield c


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(client: httpx.Client, length: int, body: bytes | None = None, concat: str | None = None,
           **meta: str) -> httpx.Response:
    headers = {**TUS, "Upload-Metadata": metadata(**{"apikey": "limited", "filename": "a.png", "filetype": "image/png",
                                                     **meta})}
    if concat is None or concat == "partial":
        headers["Upload-Length"] = str(length)
    if concat is not None:
        headers["Upload-Concat"] = concat
    if body is not None:
        headers.update(OFFSET_STREAM)
    return client.post("/api/upload", headers=headers, content=body)


def patch(client: httpx.Client, url: str, offset: int, body: bytes) -> httpx.Response:
    return client.patch(url, headers={**TUS, **OFFSET_STREAM, "Upload-Offset": str(offset)}, content=body)


def offset(client: httpx.Client, url: str) -> int:
    return int(client.head(url, headers=TUS).headers["upload-offset"])


def files(store: StoreProcess) -> list[tuple]:
    return store.index_rows("SELECT handle FROM files WHERE app_key = 'limited'")


def assert_refused_as_html(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert "'text/html'" in response.json()["message"]


def test_html_bytes_declared_as_an_image_are_refused_and_not_kept(client, sniffing_store):
    before = files(sniffing_store)
    url = create(client, len(HTML)).headers["location"]
    assert_refused_as_html(patch(client, url, 0, HTML))
    assert offset(client, url) == 0
    assert files(sniffing_store) == before


def test_the_first_bytes_are_sniffed_across_requests(client, sniffing_store):
    before = files(sniffing_store)
    url = create(client, len(HTML)).headers["location"]
    assert patch(client, url, 0, HTML[:10]).status_code == 204  # too few to tell yet
    assert_refused_as_html(patch(client, url, 10, HTML[10:]))
    assert offset(client, url) == 10
    assert files(sniffing_store) == before


def test_a_short_file_is_sniffed_when_it_is_whole(client, sniffing_store):
    short = b"<html><body>x</body></html>"
    url = create(client, len(short)).headers["location"]
    assert_refused_as_html(patch(client, url, 0, short))
    assert offset(client, url) == 0


def test_html_sent_with_the_creation_leaves_no_upload(client, sniffing_store):
    before = files(sniffing_store)
    response = create(client, len(HTML), body=HTML)
    assert_refused_as_html(response)
    assert "location" not in response.headers
    assert files(sniffing_store) == before


def test_a_final_upload_whose_joined_bytes_are_html_is_refused(client, sniffing_store):
    before = files(sniffing_store)
    parts = []
    for piece in (HTML[:20], HTML[20:]):
        url = create(client, len(piece), body=piece, concat="partial").headers["location"]
        assert offset(client, url) == len(piece)  # a part alone is not sniffed
        parts.append(url)
    response = create(client, 0, concat="final;" + " ".join(parts))
    assert_refused_as_html(response)
    assert files(sniffing_store) == before
    assert all(offset(client, url) > 0 for url in parts)  # the parts are kept


def test_image_bytes_upload_as_before(client, sniffing_store):
    url = create(client, len(PNG)).headers["location"]
    assert patch(client, url, 0, PNG[:5]).status_code == 204
    response = patch(client, url, 5, PNG[5:])
    assert response.status_code == 200, response.text  # the last PATCH answers the Blob
    blob = response.json()
    assert client.get(f"/api/file/{blob['handle']}").content == PNG
