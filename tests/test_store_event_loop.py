"""The store keeps answering while the index or the disk is slow: nothing that can block (an SQLite
statement waiting on a lock, an fsync) runs on the event loop that serves every request."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import sqlite3
import threading
import time

import httpx
from starlette.applications import Starlette

from harness.inthread import run_async
from harness.store_process import run_store
from store.app import create_app
from store.config import from_dict

TUS = {"Tus-Resumable": "1.0.0"}
METADATA = f"apikey {base64.b64encode(b'demo').decode()}"
# What "answered meanwhile" allows: far below the stall each test makes (seconds), well above what
# a request takes on a loaded machine.
PROMPT = 1.0


def test_a_request_is_answered_while_an_index_write_waits_for_a_lock(tmp_path):
    """A second connection to the store's real index file (as another store process would hold it)
    keeps a write transaction open; the store's next write, the creation of an upload, waits for it
    on SQLite's busy timeout. Meanwhile the loader script must be served at once. When the
    transaction ends, the creation goes through."""
    with run_store(tmp_path) as store:
        other = sqlite3.connect(store.data_dir / "index.sqlite3", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        outcome: dict[str, httpx.Response] = {}

        def create() -> None:
            outcome["created"] = httpx.post(
                f"{store.url}/api/upload", headers={**TUS, "Upload-Length": "3", "Upload-Metadata": METADATA},
                timeout=30,
            )

        creation = threading.Thread(target=create)
        try:
            creation.start()
            time.sleep(0.5)  # the creation reaches its write and waits on the lock
            started = time.monotonic()
            loader = httpx.get(f"{store.url}/static/filepicker.js", timeout=30)
            waited = time.monotonic() - started
            still_creating = creation.is_alive()
        finally:
            other.execute("COMMIT")
            other.close()
            creation.join(30)
        assert loader.status_code == 200 and b"filepicker" in loader.content
        assert waited < PROMPT, f"the loader took {waited:.2f} s while the index waited on a lock"
        assert still_creating
        assert outcome["created"].status_code == 201


def test_a_request_is_answered_while_a_chunk_is_fsynced(tmp_path, monkeypatch):
    """The disk: an fsync that takes 3 s, as one behind much dirty data or on a networked disk does.
    No real disk this slow can be had in a test (a FIFO in place of the upload's file cannot be
    truncated, and slow block devices need root), so the store runs in this process with os.fsync
    slowed, and a HEAD of another upload must be answered while a PATCH's chunk is being fsynced."""
    config = from_dict({
        "store": {"data_dir": str(tmp_path / "data")},
        "apps": {"demo": {"key": "demo", "secret": "demo-secret"}},
        "locations": {"local": {"backend": "local", "containers": ["files"]}},
    })
    fsyncs: list[float] = []  # when each slow fsync began
    began = threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        fsyncs.append(time.monotonic())
        began.set()
        time.sleep(3)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    run_async(_head_while_fsyncing, create_app(config), began, fsyncs)


async def _head_while_fsyncing(app: Starlette, began: threading.Event, fsyncs: list[float]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        created = {"Upload-Length": "3", "Upload-Metadata": METADATA, **TUS}
        slow, other = [(await client.post("/api/upload", headers=created)).headers["location"] for _ in range(2)]
        patch = asyncio.create_task(client.patch(slow, headers={
            **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, content=b"abc"))
        await asyncio.to_thread(began.wait, 10)
        head = await client.head(other, headers=TUS)
        answered = time.monotonic()
        stored = await patch
        await app.state.store.index.close()
    assert head.status_code == 200 and head.headers["upload-offset"] == "0"
    assert fsyncs and answered - fsyncs[0] < PROMPT, "the HEAD waited for the fsync"
    assert stored.status_code == 200
    assert stored.json()["sha256"] == hashlib.sha256(b"abc").hexdigest()
