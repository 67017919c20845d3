"""Uploads through the picker in Chromium survive faults: connections cut mid-request by a proxy, the
store killed and restarted, a reload in the middle of an upload, a chunk damaged on the way, and a
file that cannot be stored at its key. Everything runs on loopback (harness/); each file is
several MiB of random bytes, and what the store keeps is compared by sha256 with the source."""

from __future__ import annotations

import base64
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.fault_proxy import run_proxy
from harness.host_pages import run_host_pages
from harness.picking import (
    DIALOG,
    assert_progress_honest,
    choose_files,
    downloaded,
    open_host,
    outcome,
    progress_events,
    sha256,
    start_pick,
)
from harness.store_process import store_process
from store.lease import LEASE_SECONDS

MIB = 1024 * 1024
CHUNK = 512 * 1024
# What a page behind a flaky link would set: chunks small enough to get through between two cuts,
# and quick retries (the defaults, 1 s doubling up to 30 s, suit a real outage, not a test).
TUNING = {"chunkSize": CHUNK, "retries": 6, "retryDelay": 100, "maxRetryDelay": 1500}
REMEMBERED = "Object.keys(localStorage).filter(k => k.startsWith('pickstore:'))"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "measurements.bin"
    path.write_bytes(os.urandom(6 * MIB + 12_345))
    return path


@pytest.fixture
def store(tmp_path: Path):
    with store_process(tmp_path / "store") as running:
        yield running


def responses(page: Any) -> list[dict]:
    """Every answer the page's requests got, as the browser saw it, in order."""
    seen: list[dict] = []
    page.on("response", lambda r: seen.append(
        {"method": r.request.method, "url": r.url, "status": r.status, "headers": r.headers}
    ))
    return seen


def pick(page: Any, pages: Any, path: Path, store_options: dict | None = None, tuning: dict = TUNING) -> None:
    open_host(page, pages)
    page.evaluate("options => filepicker.setUploadOptions(options)", tuning)
    start_pick(page, "pickAndStore", {}, store_options or {})
    choose_files(page, [path])


def wait_until(page: Any | None, condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Waits with Playwright, not time.sleep: the `page` fixture's request guard runs in this thread,
    so the browser's requests stand still while it sleeps."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        if page is None:
            time.sleep(0.05)
        else:
            page.wait_for_timeout(20)


def check_stored(blob: dict, path: Path, store) -> None:
    data = path.read_bytes()
    assert blob["size"] == len(data)
    assert blob["sha256"] == sha256(data)
    assert sha256((store.files_root() / blob["key"]).read_bytes()) == sha256(data)
    assert sha256(downloaded(f"{store.url}/api/file/{blob['handle']}")) == sha256(data)


def test_connections_cut_mid_request_every_2_mib_the_upload_completes(page, store, source):
    # Cut every 2 MiB less a bit, so that the cuts fall at varying places in the chunks.
    with run_proxy(store.port, cut_every=2 * MIB - 100_000) as proxy, run_host_pages(proxy.url) as pages:
        pick(page, pages, source)
        result = outcome(page, timeout=45_000)
    assert result["kind"] == "success", result
    blob = result["value"]
    check_stored(blob, source, store)
    # The picker spoke to the store only through the proxy, and the store named itself as the
    # Host header said: the Blob's url is the proxy's too.
    assert blob["url"] == f"{proxy.url}/api/file/{blob['handle']}"
    assert proxy.cuts >= 3
    cut = [s for s in proxy.requests("PATCH") if s.cut]
    assert len(cut) == proxy.cuts and all(0 < s.forwarded < s.length for s in cut), "cuts fell mid-body"
    assert len(proxy.requests("POST")) == 1, "the upload was resumed, never started over"
    assert {s.length for s in proxy.requests("PATCH")} <= {CHUNK, source.stat().st_size % CHUNK}
    assert_progress_honest(progress_events(page), [source])


def test_bad_upload_options_reach_on_error_naming_the_option(page, store):
    with run_host_pages(store.url) as pages:
        open_host(page, pages)
        page.evaluate("() => filepicker.setUploadOptions({chunkSize: 0})")
        start_pick(page, "pickAndStore", {}, {})
        result = outcome(page)
    assert result["kind"] == "error"
    assert result["value"]["code"] == 400 and "chunkSize" in result["value"]["message"]
    assert page.locator(DIALOG).count() == 0


def test_the_store_killed_and_restarted_mid_upload_the_upload_resumes(page, store, source):
    with run_proxy(store.port, rate=3 * MIB) as proxy, run_host_pages(proxy.url) as pages:
        answers = responses(page)
        # The picker's own retry policy, meant for outages like this one: the dead process's lease on
        # the upload runs out (store/resumable.py, LEASE_SECONDS) before its retries do.
        pick(page, pages, source, tuning={"chunkSize": CHUNK})
        # In the middle of a chunk's body.
        wait_until(page, lambda: any(0 < s.forwarded < s.length and s.forwarded > 64 * 1024
                               for s in proxy.requests("PATCH")[2:]), what="a third chunk on its way")
        store.kill()
        killed_at = len(answers)
        page.wait_for_timeout(1000)  # the picker meets a store that is not there, and backs off
        store.start()  # the same port, config and data dir
        result = outcome(page, timeout=45_000)
    assert result["kind"] == "success", result
    check_stored(result["value"], source, store)
    after = answers[killed_at:]
    assert any(a["method"] == "HEAD" and a["status"] == 200 for a in after), "the picker asked where to resume"
    # The killed process died holding the upload's lease, so the restarted one answers 423 until it
    # runs out (test_a_killed_stores_lease_on_an_upload_runs_out_within_lease_seconds pins that down).
    assert len(proxy.requests("POST")) == 1, "the upload was resumed, never started over"
    assert_progress_honest(progress_events(page), [source])


def test_a_reload_mid_upload_then_the_same_file_picked_again_resumes_from_the_stores_offset(page, store, tmp_path):
    source = tmp_path / "film.bin"
    source.write_bytes(os.urandom(8 * MIB + 777))
    size = source.stat().st_size
    with run_proxy(store.port, rate=4 * MIB) as proxy, run_host_pages(proxy.url) as pages:
        pick(page, pages, source)
        wait_until(page, lambda: proxy.patched() >= 3 * MIB, what="3 MiB sent")
        assert len(page.evaluate(REMEMBERED)) == 1, "the upload URL is remembered for a reload"
        page.reload()
        answers = responses(page)
        before = len(proxy.seen)
        page.evaluate("key => filepicker.setKey(key)", "demo")
        page.wait_for_function("window.pickerReady === true", timeout=60_000)
        page.evaluate("options => filepicker.setUploadOptions(options)", TUNING)
        start_pick(page, "pickAndStore", {}, {})
        choose_files(page, [source])
        result = outcome(page, timeout=45_000)
    assert result["kind"] == "success", result
    check_stored(result["value"], source, store)
    heads = [a for a in answers if a["method"] == "HEAD"]
    assert heads, "after the reload the picker asked the store where to resume"
    resumed_from = int(heads[0]["headers"]["upload-offset"])
    assert resumed_from >= 2 * MIB
    sent_after = proxy.patched(after=before)
    assert sent_after < size
    assert sent_after <= size - resumed_from + CHUNK  # at most one chunk more than was missing
    assert len(proxy.requests("POST")) == 1, "the same upload went on: no second creation"
    assert page.evaluate(REMEMBERED) == [], "a finished upload is forgotten"


def test_a_chunk_damaged_on_the_way_is_refused_with_460_and_sent_again(page, store, source):
    damaged: list[str] = []
    lock = threading.Lock()

    def damage(seen) -> int | None:
        # The third chunk, once.
        with lock:
            if seen.method != "PATCH" or damaged or seen.headers.get("upload-offset") != str(2 * CHUNK):
                return None
            damaged.append(seen.headers["upload-offset"])
            return 1234

    with run_proxy(store.port, damage=damage) as proxy, run_host_pages(proxy.url) as pages:
        answers = responses(page)
        pick(page, pages, source)
        result = outcome(page, timeout=45_000)
    assert result["kind"] == "success", result
    check_stored(result["value"], source, store)
    assert damaged == [str(2 * CHUNK)]
    refused = [a for a in answers if a["method"] == "PATCH" and a["status"] == 460]
    assert len(refused) == 1
    at_offset = [s for s in proxy.requests("PATCH") if s.headers["upload-offset"] == str(2 * CHUNK)]
    assert [s.damaged for s in at_offset] == [1234, None], "the damaged chunk was sent again, whole"
    assert all(s.whole for s in at_offset)


def test_a_file_that_cannot_be_stored_at_its_key_fails_clearly_and_leaves_nothing(page, store, source):
    container = store.files_root()
    with run_proxy(store.port, rate=3 * MIB) as proxy, run_host_pages(proxy.url) as pages:
        pick(page, pages, source, {"path": "reports/q3.bin"})
        wait_until(page, lambda: proxy.patched() >= MIB, what="1 MiB sent")
        # Meanwhile something else stores a *file* named like the folder the key needs: the upload
        # was accepted at creation, and only its commit can find out.
        container.mkdir(parents=True, exist_ok=True)
        (container / "reports").write_bytes(b"not a folder")
        result = outcome(page, timeout=45_000)
        alert = page.locator(f"{DIALOG} [role=alert]")
        alert.wait_for()
        alert_text = alert.inner_text()
    assert result["kind"] == "error", result
    error = result["value"]
    assert error["code"] == 409
    assert source.name in error["message"]
    assert "clashes" in error["message"], error["message"]
    assert "clashes" in alert_text
    assert not any(c["kind"] == "success" for c in page.evaluate("window.calls"))
    # Nothing at the key, nothing half-written anywhere in the container, no record.
    assert (container / "reports").read_bytes() == b"not a folder"
    assert [p.relative_to(container) for p in container.rglob("*")] == [Path("reports")]
    assert store.index_rows("SELECT count(*) FROM files") == [(0,)]


# --- the store's side of these faults, over plain HTTP ----------------------------------------------

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = {**TUS, "Content-Type": "application/offset+octet-stream"}


def create_upload(client: httpx.Client, length: int, path: str | None = None) -> str:
    meta = {"apikey": "demo", "filename": "f.bin", **({"path": path} if path else {})}
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    response = client.post("/api/upload", headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": encoded})
    assert response.status_code == 201, response.text
    return response.headers["location"]


def patch_upload(client: httpx.Client, url: str, offset: int, body: Any, **headers: str) -> httpx.Response:
    return client.patch(url, headers={**OFFSET_STREAM, "Upload-Offset": str(offset), **headers}, content=body)


def held(store, url: str) -> bool:
    """Whether a request holds the upload's lease, as the index on disk says (asking with a request
    would ask the holder to stop)."""
    rows = store.index_rows("SELECT lock_until FROM uploads WHERE id = ?", url.rsplit("/", 1)[1])
    return bool(rows) and rows[0][0] is not None and rows[0][0] > time.time()


def slow_patch(url: str, offset: int, first: bytes, rest: bytes, go_on: threading.Event,
               outcome: dict[str, httpx.Response | httpx.HTTPError]) -> threading.Thread:
    """A PATCH that sends `first`, then waits for `go_on` before sending `rest`."""

    def body():
        yield first
        go_on.wait(60)
        yield rest

    def run() -> None:
        try:
            with httpx.Client(timeout=60) as other:
                outcome["response"] = patch_upload(other, url, offset, body(), **{"Content-Length": str(len(first) + len(rest))})
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_killed_stores_lease_on_an_upload_runs_out_within_lease_seconds(store):
    with httpx.Client(base_url=store.url, timeout=30) as client:
        url = create_upload(client, 2 * MIB)
        go_on = threading.Event()
        outcome: dict[str, httpx.Response | httpx.HTTPError] = {}  # the PATCH's response, or its error
        slow_patch(url, 0, b"a" * MIB, b"b" * MIB, go_on, outcome)
        wait_until(None, lambda: held(store, url), what="the PATCH to hold the upload")
        store.kill()  # holding the lease
        killed = time.monotonic()
        go_on.set()
        store.start()
        assert held(store, url)  # by the dead process
        wait_until(None, lambda: patch_upload(client, url, 0, b"c" * MIB).status_code == 204, timeout=LEASE_SECONDS + 5,
                   what="the lease to run out")
        assert time.monotonic() - killed <= LEASE_SECONDS + 2
        done = patch_upload(client, url, MIB, b"d" * MIB)
        assert done.status_code == 200
        assert done.json()["sha256"] == sha256(b"c" * MIB + b"d" * MIB)


def test_a_live_request_keeps_its_lease_however_long_its_body_pauses(store):
    """The lease is renewed while its request lives, not only as bytes arrive: a second request
    never writes beside a slow one, even after LEASE_SECONDS."""
    with httpx.Client(base_url=store.url, timeout=30) as client:
        url = create_upload(client, 2 * MIB)
        go_on = threading.Event()
        outcome: dict[str, httpx.Response | httpx.HTTPError] = {}  # the PATCH's response, or its error
        thread = slow_patch(url, 0, b"a" * MIB, b"b" * MIB, go_on, outcome)
        wait_until(None, lambda: held(store, url), what="the PATCH to hold the upload")
        time.sleep(LEASE_SECONDS + 1.5)
        assert held(store, url)
        go_on.set()
        thread.join(30)
        response = outcome["response"]
        assert isinstance(response, httpx.Response) and response.status_code == 200
        assert response.json()["sha256"] == sha256(b"a" * MIB + b"b" * MIB)


def test_a_request_refused_423_asks_the_holder_to_stop_and_its_retry_takes_the_upload_over(store):
    """A client that gave up a request on a dead connection retries while the store still waits for
    that body. Its retry is refused (423), and the waiting request is asked to stop: within
    LEASE_SECONDS / 4 it ends, keeping what arrived, and the next retry goes on from there."""
    with httpx.Client(base_url=store.url, timeout=30) as client:
        url = create_upload(client, 3 * MIB)
        go_on = threading.Event()
        outcome: dict[str, httpx.Response | httpx.HTTPError] = {}  # the PATCH's response, or its error
        thread = slow_patch(url, 0, b"a" * MIB, b"b" * MIB, go_on, outcome)
        wait_until(None, lambda: held(store, url), what="the PATCH to hold the upload")
        time.sleep(0.5)  # for its first MiB to arrive (the offset moves when its body ends)
        refused = patch_upload(client, url, MIB, b"c" * MIB)
        assert refused.status_code == 423
        asked = time.monotonic()
        wait_until(None, lambda: not held(store, url), timeout=LEASE_SECONDS, what="the waiting request to stop")
        assert time.monotonic() - asked <= LEASE_SECONDS / 4 + 1.5
        assert client.head(url, headers=TUS).headers["upload-offset"] == str(MIB)
        taken = patch_upload(client, url, MIB, b"c" * MIB)
        assert taken.status_code == 204
        done = patch_upload(client, url, 2 * MIB, b"d" * MIB)
        assert done.status_code == 200
        assert done.json()["sha256"] == sha256(b"a" * MIB + b"c" * MIB + b"d" * MIB)
        go_on.set()
        thread.join(30)


def test_a_failed_commit_is_tried_again_by_get_which_says_why_or_gives_the_blob(store):
    container = store.files_root()
    container.mkdir(parents=True, exist_ok=True)
    (container / "reports").write_bytes(b"a file where a folder should be")
    data = os.urandom(100_000)
    with httpx.Client(base_url=store.url, timeout=30) as client:
        url = create_upload(client, len(data), path="reports/q3.bin")
        last = patch_upload(client, url, 0, data)
        assert last.status_code == 409 and "clashes" in last.json()["message"]
        assert client.head(url, headers=TUS).headers["upload-offset"] == str(len(data))
        again = client.get(url)
        assert again.status_code == 409 and "clashes" in again.json()["message"], again.text
        assert store.index_rows("SELECT count(*) FROM files") == [(0,)]
        (container / "reports").unlink()  # the cause goes away
        blob = client.get(url)
        assert blob.status_code == 200, blob.text
        assert blob.json()["sha256"] == sha256(data)
        assert (container / "reports" / "q3.bin").read_bytes() == data


def test_a_connection_that_goes_dead_mid_request_is_given_up_and_the_upload_resumes(page, store, source):
    """The proxy stops passing a chunk on halfway and leaves its connection open: no error ever
    comes. After stallTimeout without a byte moving the picker gives that request up, asks the
    store where it stands and goes on from there."""
    with run_proxy(store.port, stall_at=3 * MIB + 100_000) as proxy, run_host_pages(proxy.url) as pages:
        started = time.monotonic()
        pick(page, pages, source, tuning={**TUNING, "stallTimeout": 1500})
        result = outcome(page, timeout=45_000)
        seconds = time.monotonic() - started
    assert result["kind"] == "success", result
    check_stored(result["value"], source, store)
    [stalled] = proxy.stalled
    assert stalled.method == "PATCH" and 0 < stalled.forwarded < stalled.length
    assert len(proxy.requests("POST")) == 1, "the upload was resumed, never started over"
    assert len(proxy.requests("HEAD")) >= 1, "the picker asked the store where to go on from"
    assert seconds < 30, f"the stall was given up late: {seconds:.1f} s"
    assert_progress_honest(progress_events(page), [source])
