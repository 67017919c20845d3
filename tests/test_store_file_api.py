"""The file API beyond reading: metadata, download as attachment, removal and overwrite, each
needing what a policy allows."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from store.policy import make_policy, signed

SECRET = "demo-secret"  # the demo app's secret in harness/store_process.py TEST_CONFIG


def policy(*calls: str, handle: str | None = None) -> dict[str, str]:
    return signed(make_policy(expiry=time.time() + 600, call=calls, handle=handle), SECRET)


@pytest.fixture
def client(store):
    with httpx.Client(base_url=store.url, timeout=30) as c:
        yield c


@pytest.fixture
def blob(client) -> dict:
    params = {"key": "demo", "filename": "report card.pdf", "mimetype": "application/pdf"}
    response = client.post("/api/store", params=params, content=b"%PDF-1.4 first")
    assert response.status_code == 200, response.text
    return response.json()


def test_metadata_describes_the_stored_file(client, blob):
    meta = client.get(f"/api/file/{blob['handle']}/metadata").json()
    assert meta["size"] == len(b"%PDF-1.4 first")
    assert meta["mimetype"] == "application/pdf"
    assert meta["filename"] == "report card.pdf"
    assert meta["sha256"] == hashlib.sha256(b"%PDF-1.4 first").hexdigest()
    assert (meta["key"], meta["container"], meta["location"]) == (blob["key"], "files", "local")
    assert meta["writeable"] is False
    assert meta["uploaded"] > time.time() - 60


def test_metadata_says_writeable_when_the_policy_allows_write(client, blob):
    meta = client.get(f"/api/file/{blob['handle']}/metadata", params=policy("stat", "write")).json()
    assert meta["writeable"] is True


def test_dl_true_downloads_as_an_attachment_with_the_filename_encoded(client, blob):
    response = client.get(f"/api/file/{blob['handle']}", params={"dl": "true"})
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''report%20card.pdf"
    inline = client.get(f"/api/file/{blob['handle']}")
    assert inline.headers["content-disposition"].startswith("inline;")


def test_removing_needs_a_policy_that_allows_remove(store, client, blob):
    url = f"/api/file/{blob['handle']}"
    assert client.delete(url).status_code == 403
    assert client.delete(url, params=policy("read")).status_code == 403
    assert client.get(url).status_code == 200
    on_disk = store.data_dir / "files" / "files" / blob["key"]
    assert on_disk.exists()
    response = client.delete(url, params=policy("remove"))
    assert response.status_code == 200
    assert client.get(url).status_code == 404
    assert not on_disk.exists()


def test_a_remove_policy_for_another_handle_is_refused(client, blob):
    response = client.delete(f"/api/file/{blob['handle']}", params=policy("remove", handle="x" * 20))
    assert response.status_code == 403
    assert "handle" in response.json()["message"]


def test_overwriting_needs_write_and_keeps_the_handle(client, blob):
    url = f"/api/file/{blob['handle']}"
    assert client.post(url, content=b"sneaky").status_code == 403
    assert client.get(url).content == b"%PDF-1.4 first"
    response = client.post(url, params=policy("write"), content=b"%PDF-1.4 second, longer")
    assert response.status_code == 200
    updated = response.json()
    assert updated["handle"] == blob["handle"]
    assert updated["size"] == len(b"%PDF-1.4 second, longer")
    assert updated["sha256"] == hashlib.sha256(b"%PDF-1.4 second, longer").hexdigest()
    assert updated["isWriteable"] is True
    assert client.get(url).content == b"%PDF-1.4 second, longer"
