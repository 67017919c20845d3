"""tus interoperability, both ways, on loopback: tus clients nobody here wrote upload to our store
(tus-js-client in Chromium, tuspy in CPython), and our picker's upload code uploads to a tus server
nobody here wrote (tuspyserver). Every upload is resumed once and compared by sha256."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.storage.filestorage import FileStorage

from harness.picking import open_host, sha256
from harness.tuspeer import run_tus_peer

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "survey.bin"
    path.write_bytes(os.urandom(5 * MIB + 4_321))
    return path


def metadata(header: str) -> dict[str, str]:
    pairs = (pair.strip().split(" ") for pair in header.split(","))
    return {p[0]: base64.b64decode(p[1]).decode() if len(p) > 1 else "" for p in pairs}


def requests_seen(page: Any) -> list[dict]:
    seen: list[dict] = []
    page.on("request", lambda r: seen.append({"method": r.method, "url": r.url, "headers": r.headers}))
    return seen


# --- tus-js-client (Chromium) -> our store -----------------------------------------------------------


def test_tus_js_client_uploads_to_the_store_and_resumes_after_a_reload(page, host, store, source):
    data = source.read_bytes()
    page.goto(f"{host.url}/tusjs.html")
    page.set_input_files("#file", str(source))
    first = page.evaluate("options => tusUpload(options)", {"chunkSize": MIB, "stopAt": 2 * MIB})
    assert first["aborted"] >= 2 * MIB
    with httpx.Client(timeout=10) as client:
        state = client.head(first["url"], headers=TUS)
    assert state.headers["upload-offset"] == str(first["aborted"])
    assert state.headers["upload-length"] == str(len(data))
    sent = metadata(state.headers["upload-metadata"])
    assert {k: sent[k] for k in ("filename", "filetype", "apikey")} == {
        "filename": source.name, "filetype": "application/octet-stream", "apikey": "demo",
    }

    # A new page, as after a reload: tus-js-client finds the upload by the file's fingerprint.
    page.reload()
    seen = requests_seen(page)
    page.set_input_files("#file", str(source))
    second = page.evaluate("options => tusUpload(options)", {"chunkSize": MIB})
    assert second["url"] == first["url"]
    methods = [r["method"] for r in seen if "/api/upload" in r["url"] and r["method"] != "OPTIONS"]
    assert "POST" not in methods, "resumed, not created again"
    assert methods[0] == "HEAD"
    patches = [int(r["headers"]["upload-offset"]) for r in seen if r["method"] == "PATCH"]
    assert patches[0] == first["aborted"], "the resumed upload continued where the store stood"
    assert second["status"] == 200
    blob = json.loads(second["body"])
    assert blob["sha256"] == sha256(data)
    assert (blob["filename"], blob["size"]) == (source.name, len(data))
    assert sha256((store.data_dir / "files" / "files" / blob["key"]).read_bytes()) == sha256(data)
    assert httpx.get(blob["url"]).content == data
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('tus::'))") == []


# --- tuspy -> our store: what tests/test_store_tus.py does not cover ------------------------------------


def test_tuspy_resumes_by_its_own_fingerprint_storage_with_checksums(store, source, tmp_path):
    """test_store_tus.py resumes tuspy from a URL the test kept; an application would rather let
    tuspy remember it (store_url, url_storage), and check each chunk (upload_checksum)."""
    data = source.read_bytes()
    urls = tmp_path / "tus-urls.json"
    options = {"chunk_size": MIB, "upload_checksum": True, "store_url": True,
               "metadata": {"apikey": "demo", "filename": "remembered.bin", "filetype": "application/x-test"}}
    first = TusClient(f"{store.url}/api/upload").uploader(str(source), url_storage=FileStorage(str(urls)), **options)
    first.upload(stop_at=2 * MIB)
    assert first.offset == 2 * MIB

    second = TusClient(f"{store.url}/api/upload").uploader(str(source), url_storage=FileStorage(str(urls)), **options)
    assert second.url == first.url and second.offset == 2 * MIB  # found by fingerprint, offset asked of the store
    second.upload()
    assert second.request is not None  # the last request, which stored the file
    blob = json.loads(second.request.response_content)
    assert blob["sha256"] == sha256(data)
    assert (blob["filename"], blob["mimetype"]) == ("remembered.bin", "application/x-test")
    assert httpx.get(blob["url"]).content == data


# --- our picker's upload code (Chromium) -> tuspyserver ---------------------------------------------

# The picker's real browser driver (picker/web/tus_client.py: XMLHttpRequest, File.slice, crypto.subtle,
# localStorage), run in the page by the picker's own Pyodide. pickAndStore always uploads to the
# store that served the loader; the driver takes any endpoint, so the test points it at tuspyserver.
DRIVE = """
import asyncio, json
import js
from picker.engine import RetryPolicy, fingerprint
from picker.web.tus_client import Remembered, upload_file

async def drive():
    file = js.document.getElementById("peer-file").files.item(0)
    endpoint = str(js.window.peerEndpoint)
    mimetype = str(file.type) or "application/octet-stream"
    remembered = Remembered()
    if js.window.peerResumeFrom:
        key = fingerprint(str(file.name), int(file.size), int(file.lastModified), mimetype, endpoint)
        remembered.set(key, str(js.window.peerResumeFrom))
    try:
        blob = await upload_file(file, endpoint, mimetype, {"apikey": "demo"}, lambda progress: None, remembered,
                                 chunk_size=1024 * 1024, retry=RetryPolicy(base=0.1, cap=1.0))
        js.window.peerResult = json.dumps({"blob": blob})
    except Exception as exc:
        js.window.peerResult = json.dumps({"error": str(exc)})

asyncio.ensure_future(drive())
"""


def drive_picker_upload(page: Any, host: Any, endpoint: str, source: Path, resume_from: str | None = None) -> dict:
    open_host(page, host)  # boots the picker's Pyodide from the store
    page.evaluate(
        """([endpoint, resumeFrom]) => {
          const input = document.createElement("input");
          input.type = "file"; input.id = "peer-file";
          document.body.appendChild(input);
          window.peerEndpoint = endpoint; window.peerResumeFrom = resumeFrom;
        }""",
        [endpoint, resume_from],
    )
    page.set_input_files("#peer-file", str(source))
    page.evaluate(
        "code => { const s = document.createElement('script'); s.type = 'py'; s.textContent = code; document.body.appendChild(s); }",
        DRIVE,
    )
    page.wait_for_function("window.peerResult !== undefined", timeout=60_000)
    return json.loads(page.evaluate("window.peerResult"))


@pytest.fixture
def peer(host, tmp_path):
    with run_tus_peer(tmp_path, origin=host.url) as running:
        yield running


def test_the_pickers_upload_code_uploads_to_tuspyserver(page, host, peer, source):
    data = source.read_bytes()
    seen = requests_seen(page)
    answers: list[dict] = []
    page.on("response", lambda r: answers.append({"method": r.request.method, "url": r.url, "status": r.status}))
    result = drive_picker_upload(page, host, peer.endpoint, source)
    assert "error" not in result, result
    blob = result["blob"]
    # tuspyserver has no Blob to give: the picker's Blob says where tus put the file.
    assert blob["url"].startswith(f"{peer.url}/files/")
    assert (blob["filename"], blob["size"]) == (source.name, len(data))
    assert sha256(peer.stored(blob["url"]).read_bytes()) == sha256(data)
    patches = [r for r in seen if r["method"] == "PATCH" and r["url"].startswith(peer.url)]
    assert len(patches) == 6  # 1 MiB chunks
    # tuspyserver does not do the checksum extension; a server ignores headers it does not know.
    assert all(r["headers"]["upload-checksum"].startswith("sha256 ") for r in patches)
    # tuspyserver names no Blob-Location, so the picker asks it nothing after the last chunk (a GET on
    # an upload is no tus request; tusd would answer it with the whole file).
    assert [r for r in answers if r["method"] == "GET" and r["url"] == blob["url"]] == []


def test_the_pickers_upload_code_resumes_an_upload_on_tuspyserver(page, host, peer, source):
    """Half the file reaches tuspyserver (through tuspy); the picker, remembering the upload URL as
    it does across a reload, asks tuspyserver where it stands and sends only the rest."""
    data = source.read_bytes()
    started = TusClient(peer.endpoint).uploader(
        str(source), chunk_size=MIB, metadata={"filename": source.name, "filetype": "application/octet-stream"}
    )
    started.upload(stop_at=3 * MIB)
    seen = requests_seen(page)
    result = drive_picker_upload(page, host, peer.endpoint, source, resume_from=started.url)
    assert "error" not in result, result
    assert result["blob"]["url"] == started.url
    assert sha256(peer.stored(started.url).read_bytes()) == sha256(data)
    to_peer = [r for r in seen if r["url"].startswith(peer.url) and r["method"] != "OPTIONS"]
    assert to_peer[0]["method"] == "HEAD"
    assert "POST" not in [r["method"] for r in to_peer]
    # The rest, and only the rest, was sent.
    assert [int(r["headers"]["upload-offset"]) for r in to_peer if r["method"] == "PATCH"] == [3 * MIB, 4 * MIB, 5 * MIB]
