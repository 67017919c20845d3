"""What the store serves and to whom, against a real store process: one valid type per file, only
media, plain text and PDF inline; a Range of any length answered; URLs only of configured hosts;
overwrites held to the app's and the policy's limits, by declared and sniffed type; and no file of
an app removed from the config served or changed."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import time
from collections.abc import Iterator

import httpx
import pytest

from harness.store_process import PUBLIC_LOCAL, TEST_CONFIG, StoreProcess, store_process
from store.policy import make_policy, signed

PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0" * 40
HTML = b"<!DOCTYPE html><script>alert(document.domain)</script>"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreProcess]:
    with store_process(tmp_path_factory.mktemp("served")) as store:
        yield store


@pytest.fixture
def client(served: StoreProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as c:
        yield c


def stored(client: httpx.Client, content: bytes, mimetype: str, key: str = "demo", filename: str = "f") -> dict:
    response = client.post("/api/store", params={"key": key, "filename": filename, "mimetype": mimetype}, content=content)
    assert response.status_code == 200, response.text
    return response.json()


def tus_metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


# --- one valid type, served inline only when it cannot run script ----------------------------------

@pytest.mark.parametrize("mimetype", ["text/plain,text/html", "text/plain, text/html", "html", "text/html;,x/y"])
def test_a_list_of_types_or_garbage_is_refused_on_every_route(client, served, mimetype):
    before = served_files(served)
    response = client.post("/api/store", params={"key": "demo", "filename": "a.txt", "mimetype": mimetype}, content=b"hi")
    assert response.status_code == 400
    assert repr(mimetype) in response.json()["message"]
    created = client.post("/api/upload", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "2",
        "Upload-Metadata": tus_metadata(filename="a.txt", filetype=mimetype, apikey="demo")})
    assert created.status_code == 400
    assert repr(mimetype) in created.json()["message"]
    assert served_files(served) == before


def served_files(store: StoreProcess) -> list:
    return sorted(p for p in store.data_dir.rglob("*") if p.is_file() and ".incoming" not in p.parts
                  and not p.name.startswith("index.sqlite3"))


def test_a_declared_type_is_normalised_and_served_as_stored(client):
    blob = stored(client, b"hello", "Text/Plain; Charset=UTF-8; q=1")
    assert blob["mimetype"] == "text/plain; charset=utf-8"
    response = client.get(f"/api/file/{blob['handle']}")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"].startswith("inline;")
    assert client.get(f"/api/file/{blob['handle']}/metadata").json()["mimetype"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("mimetype", ["text/html", "image/svg+xml", "text/javascript", "application/json",
                                      "text/xml", "application/x-shockwave-flash", "text/css"])
def test_a_type_that_could_run_script_is_served_as_an_attachment(client, mimetype):
    blob = stored(client, HTML, mimetype, filename="page.html")
    for response in (client.get(f"/api/file/{blob['handle']}"), client.head(f"/api/file/{blob['handle']}")):
        assert response.status_code == 200
        assert response.headers["content-type"] == mimetype
        assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''page.html"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"


@pytest.mark.parametrize(("content", "mimetype"), [(PNG, "image/png"), (b"just text", "text/plain"),
                                                   (b"%PDF-1.4 x", "application/pdf"), (b"\0" * 10, "video/mp4")])
def test_media_plain_text_and_pdf_are_served_inline(client, content, mimetype):
    blob = stored(client, content, mimetype, filename="shown")
    response = client.get(f"/api/file/{blob['handle']}")
    assert response.content == content
    assert response.headers["content-disposition"] == "inline; filename*=UTF-8''shown"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"


def test_a_list_of_types_recorded_before_types_were_checked_is_served_as_a_download(client, served):
    blob = stored(client, HTML, "text/plain", filename="old.txt")
    with sqlite3.connect(served.data_dir / "index.sqlite3") as db:
        db.execute("UPDATE files SET mimetype = ? WHERE handle = ?", ("text/plain,text/html", blob["handle"]))
    response = client.get(f"/api/file/{blob['handle']}")
    assert response.content == HTML
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''old.txt"


# --- Range ------------------------------------------------------------------------------------------

def test_a_range_of_thousands_of_digits_is_answered_never_500(client):
    blob = stored(client, b"0123456789", "text/plain")
    url = f"/api/file/{blob['handle']}"
    huge = "9" * 5000
    past = client.get(url, headers={"Range": f"bytes={huge}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == "bytes */10"
    to_the_end = client.get(url, headers={"Range": f"bytes=2-{huge}"})
    assert (to_the_end.status_code, to_the_end.content) == (206, b"23456789")
    assert to_the_end.headers["content-range"] == "bytes 2-9/10"
    suffix = client.get(url, headers={"Range": f"bytes=-{huge}"})
    assert (suffix.status_code, suffix.content) == (206, b"0123456789")
    zeros = client.get(url, headers={"Range": f"bytes={'0' * 5000}3-{'0' * 5000}4"})
    assert (zeros.status_code, zeros.content) == (206, b"34")


# --- hosts ------------------------------------------------------------------------------------------

def test_a_host_the_store_does_not_know_is_refused_and_nothing_is_stored(client, served):
    before = served_files(served)
    evil = {"Host": "evil.example"}
    response = client.post("/api/store", params={"key": "demo", "filename": "a.txt"}, content=b"a", headers=evil)
    assert response.status_code == 400
    assert "evil.example" in response.json()["message"] and "allowed_hosts" in response.json()["message"]
    created = client.post("/api/upload", headers={**evil, "Tus-Resumable": "1.0.0", "Upload-Length": "1",
                                                  "Upload-Metadata": tus_metadata(filename="a.txt", apikey="demo")})
    assert created.status_code == 400
    assert "location" not in created.headers
    assert "evil.example" in created.json()["message"]
    assert served_files(served) == before


def test_an_overwrite_from_an_unknown_host_is_refused_and_the_file_kept(client):
    blob = stored(client, b"first", "text/plain")
    policy = signed(make_policy(expiry=time.time() + 600, call=["write"], handle=blob["handle"]), "demo-secret")
    response = client.post(f"/api/file/{blob['handle']}", params=policy, content=b"second",
                           headers={"Host": "evil.example:8080"})
    assert response.status_code == 400
    assert client.get(f"/api/file/{blob['handle']}").content == b"first"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_the_loopback_hosts_work_on_any_port(client, served, host):
    port = served.url.rsplit(":", 1)[1]
    response = client.post("/api/store", params={"key": "demo", "filename": "a.txt"}, content=b"a",
                           headers={"Host": f"{host}:{port}"})
    assert response.status_code == 200, response.text
    assert response.json()["url"].lower().startswith(f"http://{host.lower()}:{port}/api/file/")
    created = client.post("/api/upload", headers={"Host": f"{host}:{port}", "Tus-Resumable": "1.0.0", "Upload-Length": "1",
                                                  "Upload-Metadata": tus_metadata(filename="a.txt", apikey="demo")})
    assert created.status_code == 201
    assert created.headers["location"].lower().startswith(f"http://{host.lower()}:{port}/api/upload/")


def test_allowed_hosts_and_public_url_decide_the_urls(tmp_path):
    config = TEST_CONFIG.replace('default_location = "local"',
                                 'default_location = "local"\nallowed_hosts = ["files.example.com"]')
    with store_process(tmp_path / "hosts", config) as store, httpx.Client(base_url=store.url) as client:
        ok = client.post("/api/store", params={"key": "demo", "filename": "a"}, content=b"a",
                         headers={"Host": "files.example.com:8443"})
        assert ok.status_code == 200
        assert ok.json()["url"].startswith("http://files.example.com:8443/api/file/")
        assert client.post("/api/store", params={"key": "demo", "filename": "a"}, content=b"a").status_code == 400
    config = TEST_CONFIG.replace('default_location = "local"',
                                 'default_location = "local"\npublic_url = "https://files.example.com/"')
    with store_process(tmp_path / "public", config) as store, httpx.Client(base_url=store.url) as client:
        response = client.post("/api/store", params={"key": "demo", "filename": "a"}, content=b"a",
                               headers={"Host": "evil.example"})
        assert response.status_code == 200
        assert response.json()["url"].startswith("https://files.example.com/api/file/")


# --- overwrites held to the limits ---------------------------------------------------------------------

def write_policy(handle: str, **rules) -> dict[str, str]:
    return signed(make_policy(expiry=time.time() + 600, call=["write"], handle=handle, **rules), "limited-secret")


@pytest.fixture
def limited_png(client) -> dict:
    return stored(client, PNG, "image/png", key="limited", filename="a.png")


def assert_unchanged(client: httpx.Client, blob: dict) -> None:
    assert client.get(f"/api/file/{blob['handle']}").content == PNG
    meta = client.get(f"/api/file/{blob['handle']}/metadata").json()
    assert (meta["size"], meta["mimetype"], meta["sha256"]) == (len(PNG), "image/png", hashlib.sha256(PNG).hexdigest())


def overwrite(client, blob, content, mimetype: str | None = None, **rules) -> httpx.Response:
    params = write_policy(blob["handle"], **rules) | ({"mimetype": mimetype} if mimetype else {})
    return client.post(f"/api/file/{blob['handle']}", params=params, content=content)


def test_an_overwrite_larger_than_the_apps_max_size_is_413_and_the_file_kept(client, limited_png):
    response = overwrite(client, limited_png, PNG + b"\0" * 2000)
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["message"]
    assert_unchanged(client, limited_png)

    def body():  # no Content-Length: cut as the bytes arrive
        for _ in range(30):
            yield PNG
    response = client.post(f"/api/file/{limited_png['handle']}", params=write_policy(limited_png["handle"]), content=body())
    assert response.status_code == 413
    assert_unchanged(client, limited_png)


def test_an_overwrite_of_a_type_the_app_refuses_is_403_and_the_file_kept(client, limited_png):
    response = overwrite(client, limited_png, b"<p>x</p>", "text/html")
    assert response.status_code == 403
    assert "'text/html'" in response.json()["message"] and "image/*" in response.json()["message"]
    assert_unchanged(client, limited_png)


@pytest.mark.parametrize("content", [HTML, HTML + b" " * 600, b"  <body onload=alert(1)>" + b"x" * 900])
def test_an_overwrite_whose_bytes_are_html_is_refused_on_an_image_only_app(client, limited_png, content):
    response = overwrite(client, limited_png, content, "image/png")
    assert response.status_code == 403
    assert "'text/html'" in response.json()["message"]
    assert_unchanged(client, limited_png)


def test_an_overwrite_with_a_list_of_types_is_400_and_the_file_kept(client, limited_png):
    response = overwrite(client, limited_png, PNG, "image/png,text/html")
    assert response.status_code == 400
    assert "'image/png,text/html'" in response.json()["message"]
    assert_unchanged(client, limited_png)


def test_an_overwrite_outside_the_policys_sizes_is_403_and_the_file_kept(client, limited_png):
    response = overwrite(client, limited_png, PNG, max_size=10)
    assert response.status_code == 403
    assert "maxSize 10" in response.json()["message"]
    assert_unchanged(client, limited_png)
    response = overwrite(client, limited_png, PNG, min_size=500)
    assert response.status_code == 403
    assert "minSize 500" in response.json()["message"]
    assert_unchanged(client, limited_png)


def test_an_overwrite_within_every_limit_is_stored(client, limited_png):
    new = b"\xff\xd8\xff\xe0" + b"\0" * 100
    response = overwrite(client, limited_png, new, "IMAGE/JPEG", max_size=500, min_size=10)
    assert response.status_code == 200, response.text
    assert response.json()["mimetype"] == "image/jpeg"
    assert client.get(f"/api/file/{limited_png['handle']}").content == new


@pytest.mark.parametrize("content", [HTML, HTML + b"x" * 600])
def test_a_whole_file_store_whose_bytes_are_html_is_refused_on_an_image_only_app(client, served, content):
    before = served_files(served)
    response = client.post("/api/store", params={"key": "limited", "filename": "a.png", "mimetype": "image/png"},
                           content=content)
    assert response.status_code == 403
    assert "'text/html'" in response.json()["message"]
    assert served_files(served) == before
    assert stored(client, PNG, "image/png", key="limited")["size"] == len(PNG)


# --- files of a removed app ---------------------------------------------------------------------------

def test_the_files_of_an_app_removed_from_the_config_are_refused(tmp_path):
    with_gone = TEST_CONFIG + '\n[apps.gone]\nkey = "gone"\nsecret = "gone-secret"\nallowed_origins = ["*"]\n'
    store = StoreProcess(tmp_path, with_gone, PUBLIC_LOCAL)
    store.start()
    try:
        with httpx.Client(base_url=store.url) as client:
            blob = stored(client, b"kept bytes", "text/plain", key="gone")
            public = client.post("/api/store", params={"key": "gone", "filename": "p.txt", "mimetype": "text/plain",
                                                       "access": "public"}, content=b"public bytes").json()
            assert client.get(public["publicUrl"]).content == b"public bytes"
        store.stop()
        store.config_path.write_text(TEST_CONFIG.format(data_dir=store.data_dir))
        store.start()
        url = f"/api/file/{blob['handle']}"
        policy = signed(make_policy(expiry=time.time() + 600, call=["read", "stat", "write", "remove"],
                                    handle=blob["handle"]), "gone-secret")
        with httpx.Client(base_url=store.url) as client:
            for response in (client.get(url), client.head(url), client.get(f"{url}/metadata"),
                             client.post(url, params=policy, content=b"new"), client.delete(url, params=policy),
                             client.get(public["publicUrl"]), client.get(f"/api/file/{public['handle']}")):
                assert response.status_code == 403
                if response.request.method != "HEAD":
                    assert "no longer configured" in response.json()["message"]
        assert sorted(p.read_bytes() for p in served_files(store)) == [b"kept bytes", b"public bytes"]
    finally:
        store.stop()
