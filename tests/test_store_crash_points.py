"""Store processes killed with SIGKILL at the named points of a write (PICKSTORE_CRASH_AT, see
store/crash.py), then started again on the same data folder or bucket: nothing temporary stays, a
tus upload answers its real state, the file's bytes read back as sent, and every record has its
file and every file its record. Also: a removed file leaves no empty folder behind to block a later
one, and S3 refuses keys under its uploads' prefix when an upload is created."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harness.azurite import Azurite
from harness.moto import Moto
from harness.store_process import TEST_CONFIG, StoreProcess
from store.policy import make_policy, signed

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = "application/offset+octet-stream"
SECRET = "demo-secret"  # the demo app's, in TEST_CONFIG
WAIT = 25.0  # seconds: the lease a killed process held runs out after 10


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def policy(*calls: str) -> dict[str, str]:
    return signed(make_policy(expiry=time.time() + 600, call=calls), SECRET)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Callable[..., StoreProcess]]:
    """Start a store process on tmp_path's data (the same each time), killing itself at `crash`."""
    made: list[StoreProcess] = []

    def start(crash: str | None = None, config: str = TEST_CONFIG, env: dict[str, str] | None = None) -> StoreProcess:
        if not made:
            made.append(StoreProcess(tmp_path, config))
        store = made[0]
        store.env = {**(env or {}), **({"PICKSTORE_CRASH_AT": crash} if crash else {})}
        store.start()
        return store

    yield start
    for store in made:
        store.stop()


def killed(store: StoreProcess, send: Callable[[], object]) -> None:
    """`send` gets no answer: the store killed itself at its crash point."""
    with pytest.raises(httpx.TransportError):
        send()
    assert store.process is not None
    assert store.process.wait(10) == -signal.SIGKILL


def temporary(store: StoreProcess) -> list[Path]:
    """The local location's temporary files: whole-file writes and uploads in progress."""
    incoming = store.data_dir / "files" / ".incoming"
    return sorted(p for p in incoming.rglob("*") if p.is_file()) if incoming.exists() else []


def stored(store: StoreProcess) -> set[str]:
    """The keys of every file committed to the local location's "files" container."""
    root = store.files_root()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def records(store: StoreProcess) -> list[tuple]:
    return store.index_rows("SELECT handle, key, size, sha256 FROM files ORDER BY key")


def uploads(store: StoreProcess) -> list[tuple]:
    return store.index_rows('SELECT id, "offset", length, completed FROM uploads')


def create(store: StoreProcess, length: int, body: bytes | None = None, **meta: str) -> httpx.Response:
    headers = {**TUS, "Upload-Length": str(length),
               "Upload-Metadata": metadata(**{"apikey": "demo", "filename": "f.bin", **meta})}
    if body is not None:
        headers["Content-Type"] = OFFSET_STREAM
    return httpx.post(f"{store.url}/api/upload", headers=headers, content=body, timeout=60)


def patch(url: str, offset: int, body: bytes) -> httpx.Response:
    headers = {**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_STREAM}
    return httpx.patch(url, headers=headers, content=body, timeout=60)


def until_free(send: Callable[[], httpx.Response]) -> httpx.Response:
    """`send` again while the killed process's lease on the upload holds (423)."""
    deadline = time.monotonic() + WAIT
    while (response := send()).status_code == 423 and time.monotonic() < deadline:
        time.sleep(0.5)
    return response


def until_completed(store: StoreProcess, upload_id: str) -> None:
    """The restarted store completes the upload by itself, once the dead process's lease is gone."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if store.index_rows("SELECT completed FROM uploads WHERE id = ?", upload_id) == [(1,)]:
            return
        time.sleep(0.5)
    raise AssertionError(f"upload {upload_id} was not completed by the restarted store")


def file_bytes(store: StoreProcess, handle: str) -> bytes:
    response = httpx.get(f"{store.url}/api/file/{handle}", timeout=60)
    assert response.status_code == 200, response.text
    return response.content


# --- whole files on local disk ---------------------------------------------------------------------


def test_a_store_killed_before_its_commit_leaves_no_temporary_file_and_no_record(run):
    store = run(crash="file-written")
    data = os.urandom(3 * MIB)
    killed(store, lambda: httpx.post(f"{store.url}/api/store", params={"key": "demo", "filename": "a.bin"},
                                     content=data, timeout=60))
    assert len(temporary(store)) == 1  # what the killed process left
    run()
    assert temporary(store) == []
    assert records(store) == [] and stored(store) == set()
    # The store works on: the same file stored again is whole.
    response = httpx.post(f"{store.url}/api/store", params={"key": "demo", "filename": "a.bin"}, content=data)
    assert response.status_code == 200, response.text
    assert file_bytes(store, response.json()["handle"]) == data


def test_an_overwrite_killed_before_its_commit_leaves_the_file_as_it_was(run):
    store = run()
    first = b"the first version"
    response = httpx.post(f"{store.url}/api/store", params={"key": "demo", "filename": "doc.txt"}, content=first)
    assert response.status_code == 200, response.text
    blob = response.json()
    store.stop()
    run(crash="file-written")
    killed(store, lambda: httpx.post(f"{store.url}/api/file/{blob['handle']}", params=policy("write"),
                                     content=os.urandom(2 * MIB), timeout=60))  # written before the commit
    assert len(temporary(store)) == 1
    run()
    assert temporary(store) == []
    assert file_bytes(store, blob["handle"]) == first
    assert records(store) == [(blob["handle"], blob["key"], len(first), sha256(first))]
    assert stored(store) == {blob["key"]}


def until(check: Callable[[], bool], what: str) -> None:
    """`check` comes true once the killed process's claim has run out (after 10 s) and the restarted
    store has put its write right."""
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_a_store_killed_after_its_commit_frees_its_key_for_the_senders_retry(run):
    store = run(crash="file-committed")
    data = os.urandom(2 * MIB)
    params = {"key": "demo", "filename": "q4.bin", "path": "reports/q4.bin"}
    killed(store, lambda: httpx.post(f"{store.url}/api/store", params=params, content=data, timeout=60))
    assert stored(store) == {"reports/q4.bin"} and records(store) == []  # bytes its sender never heard of
    run()
    # Until the dead process's claim runs out the key is refused as taken, then it is free again.
    refused = httpx.post(f"{store.url}/api/store", params=params, content=data, timeout=60)
    assert refused.status_code == 409, refused.text
    until(lambda: stored(store) == set(), "the bytes of the killed store stayed at its key")
    assert records(store) == [] and temporary(store) == []
    response = httpx.post(f"{store.url}/api/store", params=params, content=data, timeout=60)
    assert response.status_code == 200, response.text
    blob = response.json()
    assert blob["key"] == "reports/q4.bin" and file_bytes(store, blob["handle"]) == data
    assert records(store) == [(blob["handle"], "reports/q4.bin", len(data), sha256(data))]


def test_an_overwrite_killed_after_its_commit_has_its_record_say_what_the_key_holds(run):
    store = run()
    first = b"the first version"
    response = httpx.post(f"{store.url}/api/store", params={"key": "demo", "filename": "doc.txt"}, content=first)
    assert response.status_code == 200, response.text
    blob = response.json()
    store.stop()
    run(crash="file-committed")
    second = os.urandom(MIB + 5)
    killed(store, lambda: httpx.post(f"{store.url}/api/file/{blob['handle']}", params=policy("write"),
                                     content=second, timeout=60))
    assert records(store) == [(blob["handle"], blob["key"], len(first), sha256(first))]  # the old record
    run()
    until(lambda: records(store) == [(blob["handle"], blob["key"], len(second), sha256(second))],
          "the record of the overwritten file kept the old size and sha256")
    assert file_bytes(store, blob["handle"]) == second
    metadata = httpx.get(f"{store.url}/api/file/{blob['handle']}/metadata", params=policy("stat")).json()
    assert (metadata["size"], metadata["sha256"]) == (len(second), sha256(second))
    # The file takes overwrites again at once: its claim is gone.
    third = b"the third version"
    response = httpx.post(f"{store.url}/api/file/{blob['handle']}", params=policy("write"), content=third)
    assert response.status_code == 200, response.text
    assert file_bytes(store, blob["handle"]) == third


def test_a_temporary_file_of_a_running_process_is_kept(run):
    """Only what no running process will finish goes: a file named by a live process stays."""
    store = run()
    incoming = store.data_dir / "files" / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    live = incoming / f"{os.getpid()}-{uuid.uuid4().hex}"  # this test's process is running
    live.write_bytes(b"in flight")
    dead = incoming / f"999999999-{uuid.uuid4().hex}"  # no process has this id
    dead.write_bytes(b"left behind")
    store.stop()
    run()
    assert live.exists()
    assert not dead.exists()


def test_the_periodic_sweep_removes_what_a_process_that_stopped_since_left(run):
    """Another store process on the same data folder, killed while this one runs: its temporary
    file goes with the next sweep (here due a second after the last: upload_expiry is 1)."""
    store = run(env={"PICKSTORE__store__upload_expiry": "1"})
    incoming = store.data_dir / "files" / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    dead = incoming / f"999999999-{uuid.uuid4().hex}"
    dead.write_bytes(b"left behind")
    os.utime(dead, (time.time() - 3600, time.time() - 3600))  # written before this store started
    time.sleep(1.5)
    assert create(store, 10).status_code == 201  # a creation runs the sweep when one is due
    assert not dead.exists()


# --- tus uploads on local disk ---------------------------------------------------------------------


def test_an_upload_killed_between_its_record_and_its_bytes_resumes_from_zero(run):
    store = run(crash="upload-recorded")
    data = os.urandom(MIB + 17)
    killed(store, lambda: create(store, len(data)))
    [(upload_id, offset, length, completed)] = uploads(store)
    assert (offset, length, completed) == (0, len(data), 0)
    run()
    url = f"{store.url}/api/upload/{upload_id}"
    state = httpx.head(url, headers=TUS)
    assert state.status_code == 200
    assert state.headers["upload-offset"] == "0"
    response = patch(url, 0, data)
    assert response.status_code == 200, response.text
    blob = response.json()
    assert blob["size"] == len(data) and blob["sha256"] == sha256(data)
    assert file_bytes(store, blob["handle"]) == data
    assert temporary(store) == []
    assert records(store) == [(blob["handle"], blob["key"], len(data), sha256(data))]


def test_an_upload_killed_between_its_commit_and_its_record_is_completed_by_the_next_request(run):
    store = run(crash="upload-committed")
    data = os.urandom(2 * MIB + 5)
    response = create(store, len(data), filename="moved.bin")
    assert response.status_code == 201, response.text
    url = response.headers["location"]
    killed(store, lambda: patch(url, 0, data))
    # The file is at its key without a record, and the upload's bytes are gone from .incoming.
    assert temporary(store) == [] and len(stored(store)) == 1 and records(store) == []
    run()
    state = httpx.head(url, headers=TUS)
    assert state.status_code == 200
    assert state.headers["upload-offset"] == state.headers["upload-length"] == str(len(data))
    answer = until_free(lambda: httpx.get(url, headers=TUS, timeout=60))
    assert answer.status_code == 200, answer.text
    blob = answer.json()
    assert blob["filename"] == "moved.bin"
    assert blob["size"] == len(data) and blob["sha256"] == sha256(data)
    assert file_bytes(store, blob["handle"]) == data
    assert records(store) == [(blob["handle"], blob["key"], len(data), sha256(data))]
    assert stored(store) == {blob["key"]}
    assert uploads(store) == [(upload_id_of(url), len(data), len(data), 1)]


def upload_id_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_tus_overwrite_killed_between_its_commit_and_its_record_records_the_new_bytes(run):
    store = run()
    first = b"the first bytes"
    response = httpx.post(f"{store.url}/api/store", params={"key": "demo", "filename": "o.bin", "path": "over/o.bin"},
                          content=first)
    assert response.status_code == 200, response.text
    handle = response.json()["handle"]
    store.stop()
    run(crash="upload-committed")
    security = signed(make_policy(expiry=time.time() + 600, call=["store", "write"], handle=handle), SECRET)
    data = os.urandom(MIB + 3)
    response = create(store, len(data), None, path="over/o.bin", **security)
    assert response.status_code == 201, response.text
    url = response.headers["location"]
    killed(store, lambda: patch(url, 0, data))
    run()
    answer = until_free(lambda: httpx.get(url, headers=TUS, timeout=60))
    assert answer.status_code == 200, answer.text
    blob = answer.json()
    assert blob["handle"] == handle
    assert blob["size"] == len(data) and blob["sha256"] == sha256(data)
    assert file_bytes(store, handle) == data
    assert records(store) == [(handle, "over/o.bin", len(data), sha256(data))]
    assert temporary(store) == []


def test_an_upload_killed_between_its_record_and_its_completion_is_completed_by_the_restarted_store(run):
    store = run(crash="file-recorded")
    data = os.urandom(MIB + 1)
    response = create(store, len(data))
    assert response.status_code == 201, response.text
    url = response.headers["location"]
    killed(store, lambda: patch(url, 0, data))
    run()
    until_completed(store, upload_id_of(url))  # with no request asking
    # The client's last PATCH, sent again, gets the Blob.
    again = patch(url, len(data), b"")
    assert again.status_code == 200, again.text
    blob = again.json()
    assert blob["size"] == len(data) and blob["sha256"] == sha256(data)
    assert file_bytes(store, blob["handle"]) == data
    assert records(store) == [(blob["handle"], blob["key"], len(data), sha256(data))]
    assert temporary(store) == []


def test_an_upload_committed_then_lost_is_removed_rather_than_answering_500(run):
    """Killed after the commit, and the file at its key removed before the store came back: no
    bytes to record, so the upload goes, and the client hears 404 (start again), never 500."""
    store = run(crash="upload-committed")
    data = os.urandom(1000)
    url = create(store, len(data)).headers["location"]
    killed(store, lambda: patch(url, 0, data))
    [key] = stored(store)
    (store.files_root() / key).unlink()
    run()
    deadline = time.monotonic() + WAIT
    while (state := httpx.head(url, headers=TUS)).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert state.status_code == 404
    assert uploads(store) == [] and records(store) == []


def test_bytes_of_an_upload_the_index_does_not_know_are_removed_at_start(run):
    store = run(env={"PICKSTORE__store__upload_expiry": "1"})
    folder = store.data_dir / "files" / ".incoming" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    stray = folder / uuid.uuid4().hex
    stray.write_bytes(b"no upload owns this")
    store.stop()
    time.sleep(1.5)
    run(env={"PICKSTORE__store__upload_expiry": "1"})
    assert not stray.exists()


# --- removal on local disk -------------------------------------------------------------------------


def test_removing_a_file_removes_its_empty_folders_so_a_file_may_take_their_name(run):
    store = run()
    nested = httpx.post(f"{store.url}/api/store", params={"key": "demo", "filename": "c.txt", "path": "a/b/c.txt"},
                        content=b"deep")
    assert nested.status_code == 200, nested.text
    kept = httpx.post(f"{store.url}/api/store", params={"key": "demo", "filename": "k.txt", "path": "keep/k.txt"},
                      content=b"kept")
    assert kept.status_code == 200, kept.text
    removed = httpx.delete(f"{store.url}/api/file/{nested.json()['handle']}", params=policy("remove"))
    assert removed.status_code == 200, removed.text
    root = store.files_root()
    assert not (root / "a").exists()
    assert root.is_dir() and (root / "keep" / "k.txt").is_file()
    # A file stored where the folder was.
    response = httpx.post(f"{store.url}/api/store", params={"key": "demo", "filename": "a", "path": "a"},
                          content=b"a file now")
    assert response.status_code == 200, response.text
    assert file_bytes(store, response.json()["handle"]) == b"a file now"


# --- S3 ------------------------------------------------------------------------------------------


def s3_config(moto: Moto, bucket: str) -> str:
    settings = "\n".join(f'{name} = "{value}"' for name, value in moto.settings().items())
    return TEST_CONFIG + f"""
[locations.s3]
backend = "s3"
{settings}
containers = {json.dumps([bucket])}
"""


@pytest.fixture
def bucket(moto: Moto) -> str:
    name = f"crash-{uuid.uuid4().hex[:12]}"
    moto.client().create_bucket(Bucket=name)
    return name


def objects(moto: Moto, bucket: str, prefix: str = "") -> dict[str, int]:
    listed = moto.client().list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {item["Key"]: item["Size"] for item in listed}


def test_s3_an_upload_killed_between_its_commit_and_its_record_is_completed(run, moto, bucket):
    config = s3_config(moto, bucket)
    store = run(crash="upload-committed", config=config)
    data = os.urandom(6 * MIB + 3)  # more than a part: assembled from copies of its parts
    response = create(store, len(data), location="s3", filename="s3.bin")
    assert response.status_code == 201, response.text
    url = response.headers["location"]
    killed(store, lambda: patch(url, 0, data))
    assert objects(moto, bucket, ".incoming/") == {}
    run(config=config)
    answer = until_free(lambda: httpx.get(url, headers=TUS, timeout=60))
    assert answer.status_code == 200, answer.text
    blob = answer.json()
    assert blob["size"] == len(data) and blob["sha256"] == sha256(data)
    assert file_bytes(store, blob["handle"]) == data
    assert objects(moto, bucket) == {blob["key"]: len(data)}
    assert records(store) == [(blob["handle"], blob["key"], len(data), sha256(data))]


def test_s3_a_whole_file_killed_before_its_commit_leaves_no_multipart_upload(run, moto, bucket):
    config = s3_config(moto, bucket)
    expiry = {"PICKSTORE__store__upload_expiry": "1"}
    store = run(crash="file-written", config=config, env=expiry)
    data = os.urandom(9 * MIB)  # a whole part (8 MiB) goes up before the commit
    killed(store, lambda: httpx.post(f"{store.url}/api/store/s3", params={"key": "demo", "filename": "big.bin"},
                                     content=data, timeout=60))
    assert len(moto.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])) == 1
    time.sleep(1.5)
    run(config=config, env=expiry)
    assert moto.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert objects(moto, bucket) == {} and records(store) == []


def test_s3_a_store_killed_after_its_commit_frees_its_key(run, moto, bucket):
    config = s3_config(moto, bucket)
    store = run(crash="file-committed", config=config)
    data = os.urandom(MIB)
    params = {"key": "demo", "filename": "s3.bin", "path": "in/s3.bin"}
    killed(store, lambda: httpx.post(f"{store.url}/api/store/s3", params=params, content=data, timeout=60))
    assert objects(moto, bucket) == {"in/s3.bin": len(data)} and records(store) == []
    run(config=config)
    until(lambda: objects(moto, bucket) == {}, "the object of the killed store stayed at its key")
    response = httpx.post(f"{store.url}/api/store/s3", params=params, content=data, timeout=60)
    assert response.status_code == 200, response.text
    assert objects(moto, bucket) == {"in/s3.bin": len(data)}
    assert file_bytes(store, response.json()["handle"]) == data


def test_s3_a_key_under_the_uploads_prefix_is_refused_when_the_upload_is_created(run, moto, bucket):
    store = run(config=s3_config(moto, bucket))
    response = create(store, 10, location="s3", path=".incoming/x/tail")
    assert response.status_code == 400
    assert ".incoming/" in response.json()["message"]
    assert uploads(store) == []


# --- Azure ---------------------------------------------------------------------------------------


def test_azure_an_upload_killed_between_its_commit_and_its_record_is_completed(run, azurite: Azurite):
    container = f"crash-{uuid.uuid4().hex[:12]}"
    azurite.create_container(container)
    config = TEST_CONFIG + f"""
[locations.azure]
backend = "azure"
connection_string = "{azurite.connection_string}"
containers = ["{container}"]
"""
    store = run(crash="upload-committed", config=config)
    data = os.urandom(MIB + 9)
    response = create(store, len(data), location="azure")
    assert response.status_code == 201, response.text
    url = response.headers["location"]
    killed(store, lambda: patch(url, 0, data))
    blobs = azurite.service().get_container_client(container)
    assert [b.name for b in blobs.list_blobs(name_starts_with=".incoming/")] == []
    run(config=config)
    answer = until_free(lambda: httpx.get(url, headers=TUS, timeout=60))
    assert answer.status_code == 200, answer.text
    blob = answer.json()
    assert blob["size"] == len(data) and blob["sha256"] == sha256(data)
    assert file_bytes(store, blob["handle"]) == data
    assert [b.name for b in blobs.list_blobs()] == [blob["key"]]
    assert records(store) == [(blob["handle"], blob["key"], len(data), sha256(data))]
