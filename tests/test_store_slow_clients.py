"""Slow and greedy clients against a real store process with short limits: headers that do not come,
or come too large, idle connections, bodies trickled below the minimum rate (a whole file is not
stored, a tus upload keeps its offset and resumes), and many slow connections under a small limit
on open descriptors."""

from __future__ import annotations

import base64
import contextlib
import json
import resource
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from harness.store_process import StoreProcess, secure_policy, store_process
from store.config import ConnectionLimits, from_dict

HEADER_TIMEOUT = 1.5
KEEP_ALIVE = 1.0
MIN_RATE = 1024  # bytes/s
WINDOW = 2.0  # seconds
LIMITS = {
    "PICKSTORE__store__header_timeout": str(HEADER_TIMEOUT),
    "PICKSTORE__store__keep_alive_timeout": str(KEEP_ALIVE),
    "PICKSTORE__store__min_body_rate": str(MIN_RATE),
    "PICKSTORE__store__body_rate_window": str(WINDOW),
}
SLACK = 1.0  # seconds a cut may come after its bound on a busy machine
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreProcess]:
    with store_process(tmp_path_factory.mktemp("slow-clients"), env=LIMITS) as running:
        yield running


@pytest.fixture
def client(store: StoreProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=store.url, timeout=30) as c:
        yield c


def connect(store: StoreProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", store.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def heard(sock: socket.socket, wait: float) -> bytes | None:
    """What the store sent within `wait` seconds: b"" once it closed the connection, None if nothing yet."""
    try:
        if not select.select([sock], [], [], wait)[0]:
            return None
        return sock.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        return b""


def rest_of_answer(sock: socket.socket, first: bytes, wait: float = 10) -> bytes:
    """`first` and what follows until the store closes the connection or `wait` seconds pass."""
    got = first
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        more = heard(sock, deadline - time.monotonic())
        if not more:
            break
        got += more
    return got


def one_answer(sock: socket.socket, wait: float = 10) -> bytes:
    """One whole answer (head and its Content-Length of body) on a connection that stays open."""
    got = b""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        head, _, body = got.partition(b"\r\n\r\n")
        if _ and len(body) >= int(next(
            (line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), b"0",
        )):
            return got
        more = heard(sock, deadline - time.monotonic())
        if not more:
            break
        got += more
    raise AssertionError(f"no whole answer: {got[:500]!r}")


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def body_of(answer: bytes) -> dict:
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def trickle(sock: socket.socket, piece: bytes, every: float, limit: float) -> tuple[float, int, bytes]:
    """Send `piece` every `every` seconds until the store answers or closes, for at most `limit`
    seconds: (seconds it took, bytes sent, what the store sent)."""
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < limit:
        try:
            sock.sendall(piece)
            sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started, sent, b""
        answer = heard(sock, every)
        if answer is not None:
            return time.monotonic() - started, sent, rest_of_answer(sock, answer)
    raise AssertionError(f"the store was still reading after {limit} s")


def request_head(method: str, target: str, **headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def files_in(data_dir: Path) -> list[Path]:
    """Every file under data_dir but the index: stored files, temporary ones, uploads in progress."""
    return [p for p in data_dir.rglob("*") if p.is_file() and not p.name.startswith("index.sqlite3")]


# --- headers and idle connections --------------------------------------------------------------------


def test_headers_sent_byte_by_byte_are_cut_at_the_header_timeout(store):
    sock = connect(store)
    head = b"GET /static/filepicker.js HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    took, sent, answer = _byte_by_byte(sock, head)
    assert HEADER_TIMEOUT - 0.2 <= took <= HEADER_TIMEOUT + SLACK, took
    assert sent < len(head)
    assert status_of(answer) == 408
    assert "headers did not come within 1.5 s" in body_of(answer)["message"]
    sock.close()


def _byte_by_byte(sock: socket.socket, data: bytes) -> tuple[float, int, bytes]:
    started = time.monotonic()
    for sent, byte in enumerate(data):
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started, sent, b""
        answer = heard(sock, 0.05)
        if answer is not None:
            return time.monotonic() - started, sent + 1, rest_of_answer(sock, answer)
    raise AssertionError("the store waited for every byte of the headers")


def test_a_connection_that_sends_nothing_is_closed(store):
    sock = connect(store)
    started = time.monotonic()
    assert heard(sock, 10) == b""
    assert time.monotonic() - started <= HEADER_TIMEOUT + SLACK
    sock.close()


def test_an_idle_keep_alive_connection_is_closed_after_its_answer(store):
    sock = connect(store)
    sock.sendall(request_head("GET", "/api/file/AAAAAAAAAAAAAAAAAAAA/metadata"))
    assert status_of(one_answer(sock)) == 404
    # The connection stays for a next request...
    time.sleep(KEEP_ALIVE / 2)
    sock.sendall(request_head("GET", "/api/file/AAAAAAAAAAAAAAAAAAAA/metadata"))
    assert status_of(one_answer(sock)) == 404
    # ...and goes once idle for the keep-alive timeout.
    started = time.monotonic()
    assert heard(sock, 10) == b""
    assert KEEP_ALIVE - 0.2 <= time.monotonic() - started <= KEEP_ALIVE + SLACK
    sock.close()


def test_headers_over_64_kib_are_431_and_below_are_served(store, client):
    sock = connect(store)
    sock.sendall(request_head("GET", "/static/filepicker.js", **{"X-Big": "a" * 70_000}))
    answer = rest_of_answer(sock, b"")
    assert status_of(answer) == 431
    assert body_of(answer) == {"code": 431, "message": "the request's line and headers are over 65536 bytes"}
    sock.close()
    assert client.get("/static/filepicker.js", headers={"X-Big": "a" * 60_000}).status_code == 200


def test_a_tus_upload_with_16_mb_of_metadata_is_431_and_not_created(store):
    sock = connect(store)
    big = metadata(apikey="demo", filename="big.bin", note="n" * 16_000_000)
    sock.sendall(request_head("POST", "/api/upload", **TUS, **{"Upload-Length": "10", "Upload-Metadata": big}))
    answer = rest_of_answer(sock, b"")
    assert status_of(answer) == 431
    sock.close()
    assert store.index_rows("SELECT id FROM uploads") == []


# --- bodies below the minimum rate ------------------------------------------------------------------


def test_a_whole_file_trickled_below_the_rate_is_cut_and_not_stored(store, client):
    sock = connect(store)
    size = 4 * 1024 * 1024
    sock.sendall(request_head("POST", "/api/store?key=demo&filename=slow.bin", **{"Content-Length": str(size)}))
    sock.sendall(b"x" * (1536 * 1024))  # more than the store gathers before it writes: a temporary file is made
    deadline = time.monotonic() + 5
    while not files_in(store.data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(files_in(store.data_dir)) == 1  # the temporary file
    took, _, answer = trickle(sock, b"y" * 50, 0.25, WINDOW + 10)  # 200 bytes/s
    assert took <= WINDOW + SLACK
    assert status_of(answer) == 408
    assert b"connection: close" in answer.lower()
    assert body_of(answer)["message"] == (
        "the request's body came slower than 1024 bytes/s over 2 s, and the store stopped reading it: nothing was stored"
    )
    sock.close()
    assert files_in(store.data_dir) == []  # nothing stored, and the temporary file gone
    # The store serves others meanwhile and after.
    assert client.post("/api/store", params={"key": "demo", "filename": "ok.txt"}, content=b"ok").status_code == 200


def test_an_overwrite_trickled_below_the_rate_is_cut_and_the_file_kept(store, client):
    allowed = {"key": "secure", **secure_policy(call=["store", "read", "write"])}
    stored = client.post("/api/store", params={**allowed, "filename": "keep.txt"}, content=b"kept bytes").json()
    sock = connect(store)
    target = f"/api/file/{stored['handle']}?{urlencode(allowed)}"
    sock.sendall(request_head("POST", target, **{"Content-Length": "100000"}))
    _, _, answer = trickle(sock, b"z" * 40, 0.25, WINDOW + 10)
    assert status_of(answer) == 408
    sock.close()
    assert client.get(f"/api/file/{stored['handle']}", params=allowed).content == b"kept bytes"


def test_a_tus_patch_trickled_below_the_rate_keeps_its_offset_and_resumes(store, client):
    data = bytes(range(256)) * 800  # 204800 bytes
    created = client.post(
        "/api/upload",
        headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata(apikey="demo", filename="t.bin")},
    )
    assert created.status_code == 201
    url = created.headers["Location"]
    path = httpx.URL(url).path
    sock = connect(store)
    sock.sendall(request_head("PATCH", path, **TUS, **{
        "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream", "Content-Length": str(len(data)),
    }))
    fast = 100_000
    sock.sendall(data[:fast])
    piece = 20
    started = time.monotonic()
    sent = fast
    answer = b""
    while time.monotonic() - started < WINDOW + 10:
        try:
            sock.sendall(data[sent:sent + piece])
            sent += piece
        except (BrokenPipeError, ConnectionResetError):
            break
        got = heard(sock, 0.25)
        if got is not None:
            answer = rest_of_answer(sock, got)
            break
    assert time.monotonic() - started <= WINDOW + SLACK
    # The answer says how far the upload got, and the connection closes.
    assert status_of(answer) == 204
    assert b"connection: close" in answer.lower()
    said = int(next(line.split(b":")[1] for line in answer.split(b"\r\n") if line.lower().startswith(b"upload-offset:")))
    sock.close()
    offset = int(client.head(url, headers=TUS).headers["Upload-Offset"])
    assert offset == said
    assert sent - piece <= offset <= sent  # every byte the store read, the last piece perhaps not yet
    resumed = client.patch(url, content=data[offset:], headers={
        **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
    })
    assert resumed.status_code == 200
    blob = resumed.json()
    assert blob["size"] == len(data)
    assert client.get(blob["url"]).content == data


def test_a_tus_creation_with_a_trickled_body_answers_its_location_and_resumes(store, client):
    data = b"c" * 50_000
    sock = connect(store)
    sock.sendall(request_head("POST", "/api/upload", **TUS, **{
        "Upload-Length": str(len(data)), "Upload-Metadata": metadata(apikey="demo", filename="c.bin"),
        "Content-Type": "application/offset+octet-stream", "Content-Length": str(len(data)),
    }))
    sock.sendall(data[:10_000])
    _, sent, answer = trickle(sock, data[10_000:10_010], 0.25, WINDOW + 10)
    assert status_of(answer) == 201
    headers = dict(line.split(b": ", 1) for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:])
    url = httpx.URL(headers[b"location"].decode()).path  # the raw request's Host named no port
    offset = int(headers[b"upload-offset"])
    assert 10_000 + sent - 10 <= offset <= 10_000 + sent
    sock.close()
    resumed = client.patch(url, content=data[offset:], headers={
        **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
    })
    assert resumed.status_code == 200
    assert client.get(resumed.json()["url"]).content == data


def test_a_body_at_the_rate_is_not_cut(store, client):
    """1.5 KiB/s, above the minimum: the body takes twice the window and is stored."""
    size = 384 * 16
    sock = connect(store)
    sock.sendall(request_head("POST", "/api/store?key=demo&filename=steady.bin", **{"Content-Length": str(size)}))
    for _ in range(15):
        sock.sendall(b"s" * 384)
        assert heard(sock, 0.25) is None
    sock.sendall(b"s" * 384)
    answer = one_answer(sock)
    assert status_of(answer) == 200
    assert body_of(answer)["size"] == size
    sock.close()


# --- descriptors ---------------------------------------------------------------------------------


def open_descriptors(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def test_slow_connections_under_a_low_descriptor_limit_are_cut_and_honest_uploads_pass(tmp_path):
    with store_process(tmp_path, env=LIMITS) as running:
        assert running.process is not None
        pid = running.process.pid
        limit = open_descriptors(pid) + 30
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
        slow = []
        for n in range(60):  # twice what the store may still open
            sock = socket.create_connection(("127.0.0.1", running.port), timeout=10)
            sock.sendall(request_head("POST", f"/api/store?key=demo&filename=slow{n}.bin", **{"Content-Length": "1000000"}))
            sock.sendall(b"x" * 100)
            slow.append(sock)
        time.sleep(0.5)
        answers: list[int | str] = []
        started = time.monotonic()
        with httpx.Client(base_url=running.url, timeout=30) as client:
            while time.monotonic() - started < WINDOW + 10:
                for sock in slow:
                    with contextlib.suppress(OSError):
                        sock.sendall(b"x")  # a byte a round: far below the rate
                try:
                    response = client.post("/api/store", params={"key": "demo", "filename": "honest.txt"}, content=b"honest")
                except httpx.TransportError as exc:  # no descriptor left to take the connection
                    answers.append(type(exc).__name__)
                    time.sleep(0.05)
                    continue
                answers.append(response.status_code)
                if response.status_code == 200:
                    break
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"] == "10"
                time.sleep(0.2)
            assert answers[-1] == 200, answers
            assert client.get(response.json()["url"]).content == b"honest"
        assert 500 not in answers
        # The honest upload passes once a few slow ones are cut; the others are cut as they are
        # accepted (those past the limit wait in the listen queue), each after its own window.
        deadline = time.monotonic() + 4 * WINDOW + 10
        while running.log.read_text(errors="replace").count("cut POST /api/store") < 30 and time.monotonic() < deadline:
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(b"x")
            time.sleep(0.2)
        for sock in slow:
            sock.close()
        log = running.log.read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]
        assert log.count("cut POST /api/store") >= 30


def test_out_of_descriptors_is_503_with_retry_after_and_nothing_lost(tmp_path):
    """Connections that are not cut (no minimum rate) take every descriptor but one: the honest
    request gets the last one for its connection and none for its file."""
    with store_process(tmp_path, env={**LIMITS, "PICKSTORE__store__min_body_rate": "0"}) as running, \
            httpx.Client(base_url=running.url, timeout=30) as client:
        assert running.process is not None
        pid = running.process.pid
        kept = client.post("/api/store", params={"key": "demo", "filename": "kept.txt"}, content=b"kept").json()
        data = bytes(range(256)) * 8192  # 2 MiB
        created = client.post("/api/upload", headers={
            **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata(apikey="demo", filename="t.bin"),
        })
        url = created.headers["Location"]
        tus_patch = {**TUS, "Content-Type": "application/offset+octet-stream"}
        half = len(data) // 2
        assert client.patch(url, content=data[:half], headers={**tus_patch, "Upload-Offset": "0"}).status_code == 204
        client.close()  # its connection's descriptor too
        limit = open_descriptors(pid) + 20
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
        slow = []
        while open_descriptors(pid) < limit - 1:
            sock = socket.create_connection(("127.0.0.1", running.port), timeout=10)
            sock.sendall(request_head("POST", "/api/store?key=demo&filename=slow.bin", **{"Content-Length": "1000000"}))
            slow.append(sock)
            time.sleep(0.02)
        with httpx.Client(base_url=running.url, timeout=30) as honest:
            refused = honest.post("/api/store", params={"key": "demo", "filename": "big.bin"}, content=data)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "10"
        assert refused.json() == {"code": 503, "message": "the store is out of open files for the moment: try again in a while"}
        with httpx.Client(base_url=running.url, timeout=30) as honest:
            refused = honest.patch(url, content=data[half:], headers={**tus_patch, "Upload-Offset": str(half)})
        assert refused.status_code == 503
        for sock in slow:
            sock.close()
        time.sleep(0.5)
        with httpx.Client(base_url=running.url, timeout=30) as after:
            # Nothing stored before is lost, nothing half-stored appears, and the upload goes on.
            assert after.get(kept["url"]).content == b"kept"
            assert int(after.head(url, headers=TUS).headers["Upload-Offset"]) == half
            done = after.patch(url, content=data[half:], headers={**tus_patch, "Upload-Offset": str(half)})
            assert done.status_code == 200
            assert after.get(done.json()["url"]).content == data
        assert sorted(p.name for p in running.files_root().iterdir()) == sorted([kept["key"], done.json()["key"]])
        assert "Too many open files" in running.log.read_text(errors="replace")  # the operator hears of it


# --- the settings ---------------------------------------------------------------------------------


def test_the_limits_default_and_refuse_nonsense():
    assert from_dict({}).limits == ConnectionLimits(
        header_timeout=10.0, keep_alive_timeout=5.0, max_header_size=65536, min_body_rate=1024.0, body_rate_window=30.0,
    )
    assert from_dict({"store": {"min_body_rate": 0, "header_timeout": 2}}).limits.min_body_rate == 0
    for name, value in [("header_timeout", 0), ("max_header_size", 1.5), ("min_body_rate", -1),
                        ("body_rate_window", "30"), ("keep_alive_timeout", True)]:
        with pytest.raises(ValueError, match=name):
            from_dict({"store": {name: value}})
