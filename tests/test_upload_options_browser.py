"""filepicker.setUploadOptions() as a page uses it: how many files upload at once, and the chunks'
checksum algorithm, seen in the requests the browser sends to a real store through a proxy that
slows them down (so that uploads overlap when they may)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from harness.fault_proxy import run_proxy
from harness.host_pages import run_host_pages
from harness.picking import choose_files, open_host, outcome, sha256, start_pick

KIB = 1024
FILES = 5


@pytest.fixture
def sources(tmp_path: Path) -> list[Path]:
    paths = []
    for i in range(FILES):
        path = tmp_path / f"part-{i}.bin"
        path.write_bytes(os.urandom(96 * KIB + i))
        paths.append(path)
    return paths


def watch_uploads(page: Any) -> dict:
    """How many uploads were under way at once (from each creation POST to the PATCH answered with
    the Blob), and every PATCH's Upload-Checksum with the length of its body."""
    seen: dict = {"now": 0, "most": 0, "checksums": []}

    def request(r: Any) -> None:
        if r.method == "POST" and r.url.endswith("/api/upload"):
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        elif r.method == "PATCH":
            seen["checksums"].append((r.headers.get("upload-checksum"), r.post_data_buffer))

    def response(r: Any) -> None:
        if r.request.method == "PATCH" and r.status == 200:  # the last chunk: the Blob
            seen["now"] -= 1

    page.on("request", request)
    page.on("response", response)
    return seen


@pytest.mark.parametrize("tuning, most", [({"parallelFiles": 1}, 1), ({"parallelFiles": 3}, 3), ({}, 4)])
def test_files_upload_as_many_at_once_as_parallel_files_says(page, store, sources, tuning, most):
    port = int(store.url.rsplit(":", 1)[1])
    with run_proxy(port, rate=1024 * KIB) as proxy, run_host_pages(proxy.url) as pages:
        open_host(page, pages)
        page.evaluate("options => filepicker.setUploadOptions(options)", {"chunkSize": 32 * KIB, **tuning})
        seen = watch_uploads(page)
        start_pick(page, "pickAndStore", {"multiple": True}, {})
        choose_files(page, sources)
        result = outcome(page)
    assert result["kind"] == "success", result
    assert sorted(b["sha256"] for b in result["value"]) == sorted(sha256(p.read_bytes()) for p in sources)
    assert seen["most"] == most


@pytest.mark.parametrize("tuning, name", [({"checksum": "SHA1"}, "sha1"), ({}, "sha256"), ({"checksum": False}, None)])
def test_every_chunk_carries_the_checksum_the_page_chose(page, store, host, sources, tuning, name):
    open_host(page, host)
    tuning = {"chunkSize": 32 * KIB, **tuning}
    page.evaluate("options => filepicker.setUploadOptions(options)", tuning)
    seen = watch_uploads(page)
    start_pick(page, "pickAndStore", {}, {})
    choose_files(page, sources[:1])
    result = outcome(page)
    assert result["kind"] == "success", result
    data = sources[0].read_bytes()
    assert result["value"]["sha256"] == sha256(data)
    bodies = b"".join(body for _, body in seen["checksums"])
    assert bodies == data and len(seen["checksums"]) == 3
    for header, body in seen["checksums"]:
        assert header == (name and f"{name} " + base64.b64encode(hashlib.new(name, body).digest()).decode())


def test_a_small_file_goes_in_its_creation_request_with_its_checksum(page, host, tmp_path):
    path = tmp_path / "note.bin"
    path.write_bytes(os.urandom(10 * KIB))
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r) if "/api/upload" in r.url else None)
    open_host(page, host)
    start_pick(page, "pickAndStore", {}, {})
    choose_files(page, [path])
    result = outcome(page)
    assert result["kind"] == "success", result
    assert result["value"]["sha256"] == sha256(path.read_bytes())
    [post] = sent  # one request: no PATCH follows
    assert post.method == "POST" and post.post_data_buffer == path.read_bytes()
    digest = base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
    assert post.headers["upload-checksum"] == f"sha256 {digest}"
