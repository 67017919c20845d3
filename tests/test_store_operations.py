"""Running the store: /healthz and /readyz (with its index or its storage gone), /metrics after real
uploads, the request id in answers and JSON log lines, the command line's checks at start, and
several worker processes on one PostgreSQL index."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from harness import ROOT, free_port
from harness.moto import run_moto
from harness.postgres import run_postgres
from harness.scraping import scrape, value
from harness.store_process import TEST_CONFIG, StoreProcess, start_store, store_process
from store.health import READY_SECONDS
from store.pg_index import MIGRATIONS

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = {**TUS, "Content-Type": "application/offset+octet-stream"}
PNG_HEAD = b"\x89PNG\r\n\x1a\n"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leased(store: StoreProcess) -> bool:
    """Whether a request holds an upload's lease, as the index says (without taking it)."""
    return bool(store.index_rows("SELECT 1 FROM uploads WHERE lock_until > ?", time.time()))


def log_lines(store: StoreProcess) -> list[dict]:
    return [json.loads(line) for line in store.log.read_text().splitlines() if line.startswith("{")]


# --- /healthz and /readyz ---------------------------------------------------------------------------


def test_healthz_and_readyz_answer_200_naming_what_was_checked(store):
    health = httpx.get(f"{store.url}/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = httpx.get(f"{store.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checked": ["index", "location local"]}


def test_readyz_is_503_naming_a_local_folder_that_cannot_take_a_file(tmp_path: Path):
    with store_process(tmp_path) as running:
        assert httpx.get(f"{running.url}/readyz").status_code == 200
        root = running.data_dir / "files"
        shutil.rmtree(root)
        root.write_bytes(b"not a folder")  # as when a volume is gone and a file stands in its place
        ready = httpx.get(f"{running.url}/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["status"] == "unready" and list(body["failed"]) == ["location local"]
        assert httpx.get(f"{running.url}/healthz").status_code == 200  # up, though not ready


def s3_location(endpoint: str) -> str:
    return f"""
[locations.s3]
backend = "s3"
endpoint_url = "{endpoint}"
region = "us-east-1"
access_key_id = "testing"
secret_access_key = "testing"
containers = ["ready-bucket"]
"""


def test_readyz_is_503_naming_an_s3_location_whose_server_stopped(tmp_path: Path):
    with contextlib.ExitStack() as s3:
        moto = s3.enter_context(run_moto(("ready-bucket",)))
        with store_process(tmp_path, TEST_CONFIG + s3_location(moto.endpoint)) as running:
            ready = httpx.get(f"{running.url}/readyz")
            assert (ready.status_code, ready.json()["checked"]) == (200, ["index", "location local", "location s3"])
            s3.close()  # moto stops; the store runs on
            began = time.monotonic()
            ready = httpx.get(f"{running.url}/readyz", timeout=30)
            assert time.monotonic() - began < READY_SECONDS + 2  # each check has its time limit
            assert ready.status_code == 503
            assert list(ready.json()["failed"]) == ["location s3"]


def test_readyz_is_503_naming_the_index_when_postgresql_stopped(tmp_path: Path):
    with contextlib.ExitStack() as database:
        postgres = database.enter_context(run_postgres())
        with store_process(tmp_path, env={"PICKSTORE_INDEX": postgres.new_database("ready")}) as running:
            assert httpx.get(f"{running.url}/readyz").status_code == 200
            database.close()  # the cluster stops; the store runs on
            began = time.monotonic()
            ready = httpx.get(f"{running.url}/readyz", timeout=30)
            assert time.monotonic() - began < READY_SECONDS + 2
            assert ready.status_code == 503
            assert list(ready.json()["failed"]) == ["index"]


# --- /metrics ---------------------------------------------------------------------------------------


def test_metrics_count_uploads_bytes_and_requests_by_route_template(tmp_path: Path):
    data = os.urandom(300_000)
    whole = os.urandom(70_000)
    with store_process(tmp_path) as running, httpx.Client(base_url=running.url, timeout=30) as client:
        # A tus upload in three requests: the creation carries the first chunk.
        created = client.post("/api/upload", content=data[:100_000], headers={
            **OFFSET_STREAM, "Upload-Length": str(len(data)), "Upload-Metadata": meta(apikey="demo", filename="a.bin")})
        assert created.status_code == 201
        url = created.headers["location"]
        assert client.patch(url, content=data[100_000:200_000],
                            headers={**OFFSET_STREAM, "Upload-Offset": "100000"}).status_code == 204
        last = client.patch(url, content=data[200_000:], headers={**OFFSET_STREAM, "Upload-Offset": "200000"})
        assert last.status_code == 200 and last.json()["sha256"] == sha256(data)
        # A tus upload refused by its first bytes: HTML declared as an image for an image-only app.
        refused = client.post("/api/upload", content=HTML, headers={
            **OFFSET_STREAM, "Upload-Length": str(len(HTML)),
            "Upload-Metadata": meta(apikey="limited", filename="a.png", filetype="image/png")})
        assert refused.status_code == 403
        # A whole file stored, and one refused the same way.
        stored = client.post("/api/store", params={"key": "demo", "filename": "w.bin"}, content=whole)
        assert stored.status_code == 200 and stored.json()["sha256"] == sha256(whole)
        no = client.post("/api/store", params={"key": "limited", "filename": "w.png", "mimetype": "image/png"},
                         content=HTML)
        assert no.status_code == 403
        samples = scrape(running.url)

    assert value(samples, "pickstore_uploads_started_total", kind="tus") == 2
    assert value(samples, "pickstore_uploads_finished_total", kind="tus") == 1
    assert value(samples, "pickstore_uploads_failed_total", kind="tus") == 1
    assert value(samples, "pickstore_upload_bytes_received_total", kind="tus") == len(data) + len(HTML)
    assert value(samples, "pickstore_uploads_started_total", kind="whole") == 2
    assert value(samples, "pickstore_uploads_finished_total", kind="whole") == 1
    assert value(samples, "pickstore_uploads_failed_total", kind="whole") == 1
    assert value(samples, "pickstore_upload_bytes_received_total", kind="whole") == len(whole) + len(HTML)
    requests = "pickstore_requests_total"
    upload_route = "/api/upload/{upload_id}"
    assert value(samples, requests, method="POST", route="/api/upload", status="201") == 1
    assert value(samples, requests, method="POST", route="/api/upload", status="403") == 1
    assert value(samples, requests, method="PATCH", route=upload_route, status="204") == 1
    assert value(samples, requests, method="PATCH", route=upload_route, status="200") == 1
    assert value(samples, requests, method="POST", route="/api/store", status="200") == 1
    assert value(samples, "pickstore_request_duration_seconds_count", method="PATCH", route=upload_route) == 2
    routes = {dict(labels).get("route") for name, labels in samples if name == requests}
    assert not any(url.rsplit("/", 1)[1] in (route or "") for route in routes)  # never a raw path


def test_a_request_that_takes_an_upload_over_is_counted_as_a_lease_takeover(tmp_path: Path):
    data = os.urandom(200_000)
    go_on = threading.Event()

    def stalled_body():
        yield data[:100_000]
        go_on.wait(30)  # the client's connection went quiet: its request holds the lease
        yield data[100_000:]

    with store_process(tmp_path) as running, httpx.Client(base_url=running.url, timeout=30) as client:
        url = client.post("/api/upload", headers={
            **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": meta(apikey="demo")}).headers["location"]

        def first() -> None:
            # The store may answer and close before the body ends.
            with httpx.Client(timeout=60) as other, contextlib.suppress(httpx.HTTPError):
                other.patch(url, content=stalled_body(),
                            headers={**OFFSET_STREAM, "Upload-Offset": "0", "Content-Length": str(len(data))})

        thread = threading.Thread(target=first)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not leased(running):
                assert time.monotonic() < deadline, "the first PATCH never took the upload"
                time.sleep(0.05)
            refused = client.patch(url, content=data[:10], headers={**OFFSET_STREAM, "Upload-Offset": "0"})
            assert refused.status_code == 423
            # The holder stops within a quarter of a lease, keeping what it received.
            deadline = time.monotonic() + 10
            while leased(running):
                assert time.monotonic() < deadline, "the first PATCH kept the upload"
                time.sleep(0.05)
            offset = int(client.head(url, headers=TUS).headers["upload-offset"])
            done = client.patch(url, content=data[offset:], headers={**OFFSET_STREAM, "Upload-Offset": str(offset)})
            assert done.status_code == 200 and done.json()["sha256"] == sha256(data)
        finally:
            go_on.set()
            thread.join(30)
        samples = scrape(running.url)
    assert value(samples, "pickstore_lease_takeovers_total") == 1
    assert value(samples, "pickstore_requests_total", method="PATCH", route="/api/upload/{upload_id}",
                 status="423") == 1


# --- request ids and log lines ----------------------------------------------------------------------


def test_the_request_id_is_kept_when_sane_made_otherwise_exposed_and_logged(tmp_path: Path):
    with store_process(tmp_path) as running:
        sent = httpx.get(f"{running.url}/healthz", headers={"X-Request-Id": "edge-42.a:b", "Origin": "http://x.test"})
        assert sent.headers["x-request-id"] == "edge-42.a:b"
        assert "x-request-id" in sent.headers["access-control-expose-headers"].lower()
        made = []
        for insane in ("a" * 129, "two words", "quote\"d", ""):
            answer = httpx.get(f"{running.url}/api/file/nothing", headers={"X-Request-Id": insane})
            assert answer.status_code == 404
            made.append(answer.headers["x-request-id"])
            assert len(made[-1]) == 32 and all(c in "0123456789abcdef" for c in made[-1])
        assert len(set(made)) == len(made)
        lines = log_lines(running)
    [line] = [entry for entry in lines if entry.get("request_id") == "edge-42.a:b"]
    assert (line["method"], line["route"], line["status"], line["level"]) == ("GET", "/healthz", 200, "info")
    assert isinstance(line["duration"], float) and line["time"].endswith("Z") and line["message"]
    logged = {entry["request_id"]: entry for entry in lines if entry.get("request_id") in made}
    assert set(logged) == set(made)
    assert {entry["route"] for entry in logged.values()} == {"/api/file/{handle}"}


def test_log_format_text_writes_plain_lines(tmp_path: Path):
    with store_process(tmp_path, env={"PICKSTORE__store__log_format": "text"}) as running:
        httpx.get(f"{running.url}/healthz", headers={"X-Request-Id": "plain-1"})
        text = running.log.read_text()
    [line] = [entry for entry in text.splitlines() if "plain-1" in entry]
    assert "GET /healthz 200" in line and not line.startswith("{")


# --- the command line -------------------------------------------------------------------------------


def serve(tmp_path: Path, config_text: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    path = tmp_path / "store.toml"
    path.write_text(config_text.format(data_dir=tmp_path / "data"))
    return subprocess.run(
        [sys.executable, "-m", "store", "serve", "--config", str(path), "--port", str(free_port()), *args],
        cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(("change", "setting"), [
    ('default_location = "local"\nupload_expiry = -5', "upload_expiry"),
    ('default_location = "local"\nsweep_interval = ', "line"),  # not TOML: the place is named
    ('default_location = "local"\n[locations.tape]\nbackend = "tape"', "unknown backend 'tape'"),
    ('default_location = "local"\nlog_format = "xml"', "log_format"),
])
def test_a_bad_setting_stops_the_start_with_one_line_naming_it_and_the_file(tmp_path: Path, change: str, setting: str):
    done = serve(tmp_path, TEST_CONFIG.replace('default_location = "local"', change, 1))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(tmp_path / "store.toml") in lines[0] and setting in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_an_unreachable_postgresql_stops_the_start_with_one_line_naming_index(tmp_path: Path):
    unused = free_port()
    done = serve(tmp_path, TEST_CONFIG, env={"PICKSTORE_INDEX": f"postgresql://pickstore@127.0.0.1:{unused}/none"})
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert "index: cannot use the PostgreSQL database at" in line and str(unused) in line
    assert "Traceback" not in done.stderr


def test_several_workers_on_sqlite_are_refused_saying_why(tmp_path: Path):
    done = serve(tmp_path, TEST_CONFIG, "--workers", "2")
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert "--workers 2 needs index = a postgresql:// URL" in line and "SQLite" in line


def test_the_pickstore_command_works_through_a_link_from_another_folder(tmp_path: Path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pickstore").symlink_to(ROOT / "pickstore")
    done = subprocess.run([str(tmp_path / "bin" / "pickstore"), "serve", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--workers" in done.stdout and "--config" in done.stdout


# --- several workers --------------------------------------------------------------------------------


def test_three_workers_start_together_on_postgresql_and_their_metrics_add_up(postgres, tmp_path: Path):
    url = postgres.new_database("workers")
    port = free_port()
    config_path = tmp_path / "store.toml"
    config_path.write_text(TEST_CONFIG.format(data_dir=tmp_path / "data"))
    log = tmp_path / "store.log"
    process = start_store(config_path, port, log, {"PICKSTORE_INDEX": url}, ("--workers", "3"))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count("Application startup complete.") < 3:
            assert time.monotonic() < deadline and process.poll() is None, log.read_text()
            time.sleep(0.05)
        files = [os.urandom(1000 + n) for n in range(12)]
        for data in files:  # a connection each: the workers share them out
            with httpx.Client(base_url=base, timeout=30) as client:
                stored = client.post("/api/store", params={"key": "demo"}, content=data)
                assert stored.status_code == 200 and stored.json()["sha256"] == sha256(data)
        samples = scrape(base)
        text = log.read_text()
    finally:
        process.terminate()
        process.wait(30)
    assert "Traceback" not in text and "startup failed" not in text
    pids = {line["message"].split("[")[1].rstrip("]") for line in map(json.loads, text.splitlines())
            if line["message"].startswith("Started server process")}
    assert len(pids) == 3  # three workers, each started once
    # Each worker keeps its values in the metrics folder, which /metrics adds up.
    assert {f"counter_{pid}.db" for pid in pids} <= {p.name for p in (tmp_path / "data" / "metrics").iterdir()}
    served = [line for line in map(json.loads, text.splitlines()) if line.get("route") == "/api/store"]
    assert len(served) == len(files) and {line["pid"] for line in served} <= {int(pid) for pid in pids}
    with psycopg.connect(url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))  # migrated once, by one of them
    assert value(samples, "pickstore_uploads_finished_total", kind="whole") == len(files)
    assert value(samples, "pickstore_upload_bytes_received_total", kind="whole") == sum(map(len, files))
    assert value(samples, "pickstore_requests_total", method="POST", route="/api/store", status="200") == len(files)
