"""POST /api/import against a real store process fetching from a real HTTP server on loopback:
the Blob and the stored bytes as POST /api/store gives them, redirects (at most 5, each checked),
bodies without Content-Length, slow and endless bodies cut by the timeouts and the size limits,
names and types from the headers, the URL and the bytes, the policy checked before any fetch; and
the request-forgery corpus refused by a store with the default config, with a listening socket
proving no connection was made."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from harness import free_port
from harness.http_origin import Origin, body, body_sha256, recording, run_origin, self_signed
from harness.images import png
from harness.store_process import TEST_CONFIG, Store, run_store, secure_policy

MIB = 1024 * 1024
SMALL_LIMIT = 256 * 1024  # the "small" app's max_size
REMOTE_CONFIG = TEST_CONFIG + f"""
[apps.small]
key = "small"
secret = "small-secret"
allowed_origins = ["*"]
max_size = {SMALL_LIMIT}

[remote]
allow = ["127.0.0.1/32"]
read_timeout = 1
total_timeout = 4
"""


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with run_origin() as running:
        yield running


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_origin(certificate: tuple[Path, Path]) -> Iterator[Origin]:
    with run_origin(certificate) as running:
        yield running


@pytest.fixture(scope="module")
def allowing(tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path]) -> Iterator[Store]:
    """A store whose operator allows 127.0.0.1 (and nothing else local) as a remote, and trusts
    the test certificate for https remotes."""
    config = REMOTE_CONFIG + f'ca_file = "{certificate[0]}"\n'
    with run_store(tmp_path_factory.mktemp("import-store"), config) as running:
        yield running


@pytest.fixture(scope="module")
def client(allowing: Store) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=allowing.url, timeout=30) as c:
        yield c


def imported(client: httpx.Client, url: str, location: str | None = None, **options: str) -> httpx.Response:
    path = "/api/import" if location is None else f"/api/import/{location}"
    return client.post(path, json={"key": "demo", "url": url, **options})


def on_disk(store: Store, blob: dict) -> Path:
    return store.data_dir / "files" / blob["container"] / blob["key"]


def incoming(store: Store) -> list[Path]:
    return [p for p in store.data_dir.rglob("*") if p.is_file() and ".incoming" in p.parts]


def assert_refused_and_not_stored(store: Store, response: httpx.Response, code: int, words: str) -> None:
    assert response.status_code == code, response.text
    assert response.json()["code"] == code
    assert words in response.json()["message"], response.json()["message"]


# --- importing ------------------------------------------------------------------------------------


def test_an_imported_file_is_stored_and_answered_with_the_blob_of_an_upload(allowing, client, origin):
    size = 300_000
    response = imported(client, f"{origin.url}/file/data.bin?size={size}&seed=3")
    assert response.status_code == 200, response.text
    blob = response.json()
    assert blob["filename"] == "data.bin"
    assert blob["size"] == size
    assert blob["sha256"] == body_sha256(size, 3)
    assert blob["key"] == f"{blob['handle']}_data.bin"
    assert blob["container"] == "files"
    assert blob["url"] == f"{allowing.url}/api/file/{blob['handle']}"
    assert on_disk(allowing, blob).read_bytes() == body(size, 3)
    served = client.get(f"/api/file/{blob['handle']}", params={"key": "demo"})
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == blob["sha256"]
    # The same fields as POST /api/store's Blob.
    uploaded = client.post("/api/store", params={"key": "demo", "filename": "data.bin"}, content=body(10)).json()
    assert set(blob) == set(uploaded)


def test_the_url_and_options_may_come_in_the_query(client, origin):
    response = client.post("/api/import", params={"key": "demo", "url": f"{origin.url}/file/q.bin?size=10"})
    assert response.status_code == 200, response.text
    assert response.json()["size"] == 10


def test_the_store_options_place_the_file_as_an_upload_would(allowing, client, origin):
    response = imported(client, f"{origin.url}/file/ignored.bin?size=5000", location="local",
                        path="imports/batch/", container="other-files", filename="chosen.dat",
                        mimetype="application/x-chosen")
    assert response.status_code == 200, response.text
    blob = response.json()
    assert blob["container"] == "other-files"
    assert blob["key"] == f"imports/batch/{blob['handle']}_chosen.dat"
    assert blob["filename"] == "chosen.dat"
    assert blob["mimetype"] == "application/x-chosen"
    assert on_disk(allowing, blob).read_bytes() == body(5000)


def test_the_host_header_names_the_host_of_the_url(client, origin):
    port = origin.url.rsplit(":", 1)[1]
    before = len(origin.requests())
    assert imported(client, f"{origin.url}/file/h.bin?size=3").status_code == 200
    path, headers = origin.requests()[before]
    assert path == "/file/h.bin?size=3"
    assert headers["Host"] == f"127.0.0.1:{port}"


def test_https_connects_to_the_checked_address_with_the_name_as_server_name(allowing, client, tls_origin):
    if {info[4][0] for info in socket.getaddrinfo("localhost", 443, type=socket.SOCK_STREAM)} != {"127.0.0.1"}:
        pytest.skip("this machine's localhost is not 127.0.0.1 alone, which the store's allow list names")
    response = imported(client, f"https://localhost:{tls_origin.port}/file/tls.bin?size=70000&seed=5")
    assert response.status_code == 200, response.text
    assert response.json()["sha256"] == body_sha256(70000, 5)
    assert tls_origin.server_names()[-1] == "localhost"
    path, headers = tls_origin.requests()[-1]
    assert path == "/file/tls.bin?size=70000&seed=5"
    assert headers["Host"] == f"localhost:{tls_origin.port}"
    # The certificate is checked against the URL's name: it names localhost, not 127.0.0.1.
    by_address = imported(client, f"https://127.0.0.1:{tls_origin.port}/file/tls.bin?size=10")
    assert by_address.status_code == 502, by_address.text
    assert "certificate" in by_address.json()["message"].lower()


@pytest.mark.parametrize("kind", ["chunked", "close"])
def test_a_body_without_content_length_is_stored_whole(allowing, client, origin, kind):
    size = 3 * MIB + 17
    response = imported(client, f"{origin.url}/{kind}/x?size={size}&seed=9")
    assert response.status_code == 200, response.text
    assert response.json()["size"] == size
    assert response.json()["sha256"] == body_sha256(size, 9)
    assert on_disk(allowing, response.json()).stat().st_size == size


def test_a_redirect_chain_of_five_is_followed_and_a_sixth_refused(allowing, client, origin):
    response = imported(client, f"{origin.url}/redirect/5/file/after.bin?size=2000")
    assert response.status_code == 200, response.text
    assert response.json()["filename"] == "after.bin"
    assert response.json()["sha256"] == body_sha256(2000)
    before = set(allowing.stored_files())
    too_many = imported(client, f"{origin.url}/redirect/6/file/never.bin?size=2000")
    assert_refused_and_not_stored(allowing, too_many, 502, "redirects more than 5 times")
    assert set(allowing.stored_files()) == before
    assert not any(path.startswith("/file/never.bin") for path, _ in origin.requests())


def test_a_redirect_to_a_forbidden_address_is_refused_before_connecting(allowing, client, origin):
    with recording(("127.0.0.2",)) as (port, recorders):
        for target in (f"http://127.0.0.2:{port}/secret", f"http://0x7f.0.0.2:{port}/", f"http://[::1]:{port}/"):
            response = imported(client, f"{origin.url}/redirect/2/goto?url={quote(target, safe='')}")
            assert_refused_and_not_stored(allowing, response, 403, "[remote] allow")
        assert recorders[0].connections == []
    refused = imported(client, f"{origin.url}/goto?url={quote('file:///etc/passwd', safe='')}")
    assert_refused_and_not_stored(allowing, refused, 400, "only http and https")


def test_names_and_types_come_from_the_headers_the_url_and_the_first_bytes(client, origin):
    disposition = quote("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", safe="")
    named = imported(client, f"{origin.url}/file/ignored?size=10&cd={disposition}&type=application/pdf").json()
    assert named["filename"] == "résumé.pdf"
    assert named["mimetype"] == "application/pdf"
    by_url = imported(client, f"{origin.url}/file/My%20Photo.png?size=10").json()
    assert by_url["filename"] == "My Photo.png"
    assert by_url["mimetype"] == "image/png"
    origin.serve_raw("png", png(8, 8, (200, 10, 10)))
    sniffed = imported(client, f"{origin.url}/file/blob?raw=png&type=application/octet-stream").json()
    assert sniffed["filename"] == "blob"
    assert sniffed["mimetype"] == "image/png"
    declared = imported(client, f"{origin.url}/file/thing?size=10&type=text/csv;%20charset=UTF-8").json()
    assert declared["mimetype"] == "text/csv; charset=utf-8"
    bare = imported(client, f"{origin.url}/file/?size=10").json()
    assert bare["filename"] == "download"
    assert bare["mimetype"] == "application/octet-stream"


def test_the_apps_type_rules_see_the_declared_and_the_sniffed_type(allowing, client, origin):
    before = set(allowing.stored_files())
    declared = client.post("/api/import", json={"key": "limited", "url": f"{origin.url}/file/a.txt?size=10&type=text/plain"})
    assert_refused_and_not_stored(allowing, declared, 403, "does not accept files of type 'text/plain'")
    origin.serve_raw("html", b"<!doctype html><script>alert(1)</script>" + b" " * 100)
    disguised = client.post("/api/import", json={"key": "limited", "url": f"{origin.url}/file/p.png?raw=html&type=image/png"})
    assert_refused_and_not_stored(allowing, disguised, 403, "text/html")
    assert set(allowing.stored_files()) == before


# --- sizes and timeouts ---------------------------------------------------------------------------


def test_a_content_length_above_the_apps_max_size_is_refused_before_the_body(allowing, client, origin):
    before = set(allowing.stored_files())
    started = time.monotonic()
    response = client.post("/api/import", json={"key": "small", "url": f"{origin.url}/huge/big.bin?size={10 * 1024**3}"})
    assert_refused_and_not_stored(allowing, response, 413, f"max_size ({SMALL_LIMIT} bytes)")
    assert time.monotonic() - started < 3
    assert set(allowing.stored_files()) == before


def test_a_body_without_length_is_cut_off_when_it_passes_the_limit(allowing, client, origin):
    before = set(allowing.stored_files())
    response = client.post("/api/import", json={"key": "small", "url": f"{origin.url}/endless/big.bin"})
    assert_refused_and_not_stored(allowing, response, 413, "larger than app 'small'")
    assert set(allowing.stored_files()) == before
    assert incoming(allowing) == []
    just = client.post("/api/import", json={"key": "small", "url": f"{origin.url}/chunked/x?size={SMALL_LIMIT}"})
    assert just.status_code == 200, just.text
    over = client.post("/api/import", json={"key": "small", "url": f"{origin.url}/chunked/x?size={SMALL_LIMIT + 1}"})
    assert_refused_and_not_stored(allowing, over, 413, f"{SMALL_LIMIT + 1} bytes or more")


def test_the_policys_max_size_limits_an_import(allowing, client, origin):
    rules = {"call": ["pick", "store"], "max_size": 4096}
    before = set(allowing.stored_files())
    announced = client.post("/api/import", json={"key": "secure", "url": f"{origin.url}/file/a.bin?size=5000", **secure_policy(**rules)})
    assert_refused_and_not_stored(allowing, announced, 413, "the policy's maxSize (4096 bytes)")
    streamed = client.post("/api/import", json={"key": "secure", "url": f"{origin.url}/chunked/a.bin?size=5000", **secure_policy(**rules)})
    assert_refused_and_not_stored(allowing, streamed, 413, "the policy's maxSize (4096 bytes)")
    assert set(allowing.stored_files()) == before
    fits = client.post("/api/import", json={"key": "secure", "url": f"{origin.url}/file/a.bin?size=4096", **secure_policy(**rules)})
    assert fits.status_code == 200, fits.text


def test_the_policy_is_checked_before_anything_is_fetched(allowing, client, origin):
    url = f"{origin.url}/file/policy-{time.monotonic_ns()}.bin?size=10"
    refused = [
        client.post("/api/import", json={"key": "secure", "url": url}),
        client.post("/api/import", json={"key": "secure", "url": url, **secure_policy(call=["read"])}),
        client.post("/api/import", json={"key": "secure", "url": url, **secure_policy(call=["store"])}),
        client.post("/api/import", json={"key": "secure", "url": url, **secure_policy(call=["pick"])}),
        client.post("/api/import", json={"key": "secure", "url": url, **secure_policy(expiry=time.time() - 5)}),
        client.post("/api/import", json={"key": "secure", "url": url, "policy": "e30=", "signature": "0" * 64}),
        client.post("/api/import", json={"key": "nobody", "url": url}),
    ]
    assert [r.status_code for r in refused] == [400, 403, 403, 403, 403, 403, 403], [r.text for r in refused]
    assert "'pick'" in refused[2].json()["message"] and "'store'" in refused[3].json()["message"]
    assert not any(path == url.removeprefix(origin.url) for path, _ in origin.requests())
    allowed = client.post("/api/import", json={"key": "secure", "url": url, **secure_policy(call=["pick", "store"])})
    assert allowed.status_code == 200, allowed.text
    assert any(path == url.removeprefix(origin.url) for path, _ in origin.requests())


def test_a_remote_that_stops_sending_times_out_and_nothing_is_stored(allowing, client, origin):
    before = set(allowing.stored_files())
    started = time.monotonic()
    response = imported(client, f"{origin.url}/slow/s.bin?size=200000&pause=3")
    took = time.monotonic() - started
    assert_refused_and_not_stored(allowing, response, 504, "stopped sending")
    assert 0.9 < took < 2.8  # the read timeout (1 s), not the pause
    assert set(allowing.stored_files()) == before


def test_a_body_that_never_ends_slowly_hits_the_total_timeout(allowing, client, origin):
    before = set(allowing.stored_files())
    started = time.monotonic()
    response = imported(client, f"{origin.url}/trickle/t.bin?every=0.2")
    took = time.monotonic() - started
    assert_refused_and_not_stored(allowing, response, 504, "took too long")
    assert 3.9 < took < 7  # the total timeout (4 s): each byte came within the read timeout
    assert set(allowing.stored_files()) == before
    assert incoming(allowing) == []


def test_a_remote_error_status_or_a_closed_port_is_a_502_naming_it(client, origin):
    missing = imported(client, f"{origin.url}/status/404")
    assert missing.status_code == 502
    assert "answered 404" in missing.json()["message"]
    closed = imported(client, f"http://127.0.0.1:{free_port()}/x")  # nothing listens there
    assert closed.status_code == 502
    assert "could not be reached" in closed.json()["message"]


def test_a_body_shorter_than_its_content_length_is_a_502_and_nothing_is_stored(allowing, client, origin):
    before = set(allowing.stored_files())
    response = imported(client, f"{origin.url}/short/cut.bin?size=400000")
    assert_refused_and_not_stored(allowing, response, 502, "broke off")
    assert set(allowing.stored_files()) == before
    assert incoming(allowing) == []


def test_bad_requests_name_what_is_wrong(client):
    assert client.post("/api/import", json={"key": "demo"}).status_code == 400
    assert "missing url" in client.post("/api/import", json={"key": "demo"}).json()["message"]
    assert client.post("/api/import", content=b"{", headers={"content-type": "application/json"}).status_code == 400
    assert client.post("/api/import", json=["x"]).status_code == 400
    for url in ("ftp://127.0.0.1/a", "file:///etc/passwd", "not a url", "http://user:pw@127.0.0.1/"):
        response = imported(client, url)
        assert response.status_code == 400, url


# --- request forgery, against the default config --------------------------------------------------


def test_the_recorder_records_connections():
    with recording() as (port, recorders):
        for host in ("127.0.0.1", "[::1]"):
            with pytest.raises(httpx.TransportError):
                httpx.get(f"http://{host}:{port}/", timeout=2)
        deadline = time.monotonic() + 2
        while sum(len(r.connections) for r in recorders) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [len(r.connections) for r in recorders] == [1, 1]


LOOPBACK_SPELLINGS = [
    "127.0.0.1", "2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "127.1", "127.0.1", "017700000001",
    "localhost", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:0:0:1]", "LOCALHOST",
]
ELSEWHERE = [
    "10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "[fc00::1]", "[fe80::1]", "[ff02::1]",
    "[::ffff:10.0.0.1]", "[::ffff:169.254.169.254]", "[fe80::1%25eth0]", "[64:ff9b::a9fe:a9fe]", "0xa9.0xfe.0xa9.0xfe",
]


def test_a_default_store_refuses_every_local_spelling_without_connecting(store):
    with recording() as (port, recorders), httpx.Client(base_url=store.url, timeout=30) as client:
        for host in LOOPBACK_SPELLINGS:
            for scheme in ("http", "https"):
                response = client.post("/api/import", json={"key": "demo", "url": f"{scheme}://{host}:{port}/f.bin"})
                assert response.status_code == 403, (host, response.text)
                assert "[remote] allow" in response.json()["message"]
        time.sleep(0.2)
        assert [r.connections for r in recorders] == [[], []]


def test_a_default_store_refuses_private_link_local_and_reserved_addresses(store):
    before = set(store.stored_files())
    with httpx.Client(base_url=store.url, timeout=30) as client:
        for host in ELSEWHERE:
            started = time.monotonic()
            response = client.post("/api/import", json={"key": "demo", "url": f"http://{host}/latest/meta-data/"})
            assert response.status_code == 403, (host, response.text)
            assert time.monotonic() - started < 2, host  # refused, not tried
    assert set(store.stored_files()) == before
