"""An app's own limits (largest file, accepted types) hold whatever the client is: the picker, a
plain tus client, or a raw request."""

from __future__ import annotations

import base64

import httpx
import pytest
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from store.config import from_dict


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(store, length: int, filetype: str) -> httpx.Response:
    return httpx.post(
        f"{store.url}/api/upload",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(length),
                 "Upload-Metadata": metadata(filename="x.bin", filetype=filetype, apikey="limited")},
    )


def test_a_tus_upload_larger_than_the_apps_max_size_is_refused_at_creation(store):
    response = create(store, 1001, "image/png")
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["message"]
    assert "location" not in response.headers
    assert create(store, 1000, "image/png").status_code == 201


def test_a_tus_upload_of_a_type_the_app_does_not_accept_is_refused_at_creation(store):
    response = create(store, 10, "text/html")
    assert response.status_code == 403
    assert "'text/html'" in response.json()["message"] and "image/*" in response.json()["message"]
    assert create(store, 10, "application/pdf").status_code == 201


def test_a_plain_tus_client_cannot_store_what_the_app_forbids(store, tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(b"<html>" + b"x" * 100)
    before = store.stored_files()
    uploader = tus_client.TusClient(f"{store.url}/api/upload").uploader(
        str(page), metadata={"filename": "page.html", "filetype": "text/html", "apikey": "limited"}, chunk_size=64
    )
    with pytest.raises(TusCommunicationError):
        uploader.upload()
    assert store.stored_files() == before


def test_a_whole_file_post_is_cut_off_at_the_apps_max_size_and_nothing_is_kept(store):
    before = store.stored_files()

    def body():
        for _ in range(20):
            yield b"\x89PNG" + b"\0" * 96

    response = httpx.post(f"{store.url}/api/store", params={"key": "limited", "filename": "a.png", "mimetype": "image/png"}, content=body())
    assert response.status_code == 413
    assert store.stored_files() == before


@pytest.mark.parametrize("spec", [{"max_size": 0}, {"max_size": "big"}, {"mimetypes": "image/*"}, {"mimetypes": ["png"]}])
def test_bad_app_limits_stop_the_store_at_start(spec):
    with pytest.raises(ValueError):
        from_dict({"apps": {"a": {"key": "a", "secret": "s", **spec}}})


def test_an_app_refuses_pages_from_origins_it_does_not_list(store):
    def post(origin: str | None) -> httpx.Response:
        headers = {"Origin": origin} if origin else {}
        return httpx.post(f"{store.url}/api/store", params={"key": "site", "filename": "a.txt"}, content=b"a", headers=headers)

    refused = post("http://127.0.0.1:9")
    assert refused.status_code == 403
    assert "http://127.0.0.1:9" in refused.json()["message"] and "allowed_origins" in refused.json()["message"]
    assert post("https://www.example.com").status_code == 200
    assert post(None).status_code == 200  # a server or a command-line client sends no Origin
    blob = post(None).json()
    assert httpx.get(blob["url"], headers={"Origin": "http://127.0.0.1:9"}).status_code == 403
    assert httpx.get(blob["url"], headers={"Origin": "https://www.example.com"}).status_code == 200


def test_a_tus_upload_from_an_origin_the_app_does_not_list_is_refused_at_creation(store):
    response = httpx.post(
        f"{store.url}/api/upload",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": "3", "Origin": "http://127.0.0.1:9",
                 "Upload-Metadata": metadata(filename="a.txt", apikey="site")},
    )
    assert response.status_code == 403
    assert "allowed_origins" in response.json()["message"]
