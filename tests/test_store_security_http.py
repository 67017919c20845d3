"""Policies and signatures against a real store process whose app requires security: uploads
(POST /api/store), reads (GET/HEAD /api/file) and the `python -m store policy` command."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from harness import ROOT
from harness.store_process import Store, run_store
from store.policy import sign

SECURE_SECRET = "secure-secret-for-tests"
OPEN_SECRET = "open-secret-for-tests"

# TEST_CONFIG's format, with one app that requires security and one that does not.
SECURE_CONFIG = f"""
[store]
data_dir = "{{data_dir}}"
default_location = "local"

[apps.secure]
key = "secure"
secret = "{SECURE_SECRET}"
allowed_origins = ["*"]
require_security = true

[apps.open]
key = "open"
secret = "{OPEN_SECRET}"
allowed_origins = ["*"]

[locations.local]
backend = "local"
root = "files"
containers = ["files", "other-files"]
"""


@pytest.fixture(scope="module")
def secure_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with run_store(tmp_path_factory.mktemp("secure-store"), config_text=SECURE_CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def client(secure_store: Store) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=secure_store.url, timeout=30) as c:
        yield c


def policy_text(**rules) -> str:
    rules.setdefault("expiry", int(time.time()) + 600)
    return base64.urlsafe_b64encode(json.dumps(rules).encode()).decode()


def signed(secret: str = SECURE_SECRET, **rules) -> dict[str, str]:
    text = policy_text(**rules)
    return {"policy": text, "signature": sign(text, secret)}


def upload(client: httpx.Client, body: bytes | Iterator[bytes] = b"hello", *, key: str = "secure",
           security: dict[str, str] | None = None, **params: str) -> httpx.Response:
    query = {"key": key, "filename": "a.txt", "mimetype": "text/plain", **params, **(security or {})}
    return client.post("/api/store", params=query, content=body)


def files_on_disk(store: Store) -> set[Path]:
    return set(store.stored_files())


def incoming(store: Store) -> list[Path]:
    return [p for p in store.data_dir.rglob("*") if p.is_file() and ".incoming" in p.parts]


def assert_refused(response: httpx.Response, code: int, words: str) -> None:
    assert response.status_code == code, response.text
    reply = response.json()
    assert reply["code"] == code
    assert words in reply["message"], reply["message"]
    assert SECURE_SECRET not in reply["message"] and OPEN_SECRET not in reply["message"]


@pytest.fixture
def nothing_stored(secure_store: Store) -> Iterator[None]:
    """The test's uploads must leave no file behind, committed or half-written."""
    before = files_on_disk(secure_store)
    yield
    assert files_on_disk(secure_store) == before
    assert incoming(secure_store) == []


# --- uploads to an app that requires security ------------------------------------------------------


def test_upload_without_policy_is_400(client, nothing_stored):
    assert_refused(upload(client), 400, "this app requires a policy and signature")


def test_upload_with_policy_but_no_signature_is_400(client, nothing_stored):
    assert_refused(upload(client, security={"policy": policy_text(call=["store"])}), 400, "without a signature")
    assert_refused(upload(client, security={"signature": "0" * 64}), 400, "without a policy")


def test_upload_with_bad_signature_is_403(client, nothing_stored):
    security = signed(OPEN_SECRET, call=["store"])  # signed with another app's secret
    assert_refused(upload(client, security=security), 403, "signature does not match")


def test_upload_with_expired_policy_is_403(client, nothing_stored):
    security = signed(call=["store"], expiry=int(time.time()) - 5)
    assert_refused(upload(client, security=security), 403, "expired")


def test_upload_with_policy_not_allowing_store_is_403(client, nothing_stored):
    assert_refused(upload(client, security=signed(call=["read", "pick"])), 403, "does not allow call 'store'")


def test_upload_above_max_size_with_content_length_is_403_and_not_stored(client, nothing_stored):
    response = upload(client, b"x" * 5000, security=signed(call=["store"], maxSize=1000))
    assert_refused(response, 403, "size 5000 is above the policy's maxSize 1000")


def test_upload_much_above_max_size_is_refused_without_reading_it(client, nothing_stored):
    response = upload(client, b"x" * (8 * 1024 * 1024), security=signed(call=["store"], maxSize=1000))
    assert_refused(response, 403, "above the policy's maxSize 1000")


def test_upload_above_max_size_without_content_length_is_403_and_not_stored(client, nothing_stored):
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * 1000

    response = upload(client, chunks(), security=signed(call=["store"], maxSize=1000))
    assert_refused(response, 403, "above the policy's maxSize 1000")


def test_upload_below_min_size_is_403_and_not_stored(client, nothing_stored):
    assert_refused(upload(client, b"tiny", security=signed(minSize=100)), 403, "size 4 is below the policy's minSize 100")

    def chunks() -> Iterator[bytes]:
        yield b"ti"
        yield b"ny"

    assert_refused(upload(client, chunks(), security=signed(minSize=100)), 403, "below the policy's minSize 100")


def test_upload_within_size_bounds_is_stored(client, secure_store):
    body = b"y" * 1000
    response = upload(client, body, security=signed(call=["store"], maxSize=1000, minSize=1000))
    assert response.status_code == 200, response.text
    blob = response.json()
    assert blob["size"] == 1000
    assert (secure_store.data_dir / "files" / blob["container"] / blob["key"]).read_bytes() == body


def test_upload_path_rule_matches_the_whole_storage_path(client, nothing_stored):
    security = signed(call=["store"], path="users/42/.*")
    assert_refused(upload(client, security=security, path="users/43/"), 403, "does not match the policy's path")
    assert_refused(upload(client, security=security), 403, "does not match the policy's path")
    assert_refused(upload(client, security=security, path="users/42"), 403, "path 'users/42' does not match")


def test_upload_path_rule_allows_a_matching_path(client, secure_store):
    security = signed(call=["store"], path="users/42/.*")
    response = upload(client, security=security, path="users/42/")
    assert response.status_code == 200, response.text
    assert response.json()["path"].startswith("users/42/")
    response = upload(client, security=security, path="/users/42/exact.txt")
    assert response.status_code == 200, response.text
    assert response.json()["key"] == "users/42/exact.txt"
    # Judged by where the file really lands, after the path is normalised.
    response = upload(client, security=security, path="users//./42/")
    assert response.status_code == 200, response.text
    assert response.json()["key"].startswith("users/42/")


def test_upload_container_rule(client, nothing_stored):
    security = signed(call=["store"], container="other-.*")
    assert_refused(upload(client, security=security), 403, "container 'files' does not match")
    assert_refused(upload(client, security=security, container="files"), 403, "container 'files' does not match")


def test_upload_container_rule_allows_a_matching_container(client):
    response = upload(client, security=signed(call=["store"], container="other-.*"), container="other-files")
    assert response.status_code == 200, response.text
    assert response.json()["container"] == "other-files"


def test_good_policy_stores_and_is_writeable_only_with_write(client, secure_store):
    without = upload(client, b"one", security=signed(call=["pick", "store"]))
    assert without.status_code == 200, without.text
    assert without.json()["isWriteable"] is False
    with_write = upload(client, b"two", security=signed(call=["store", "write"]))
    assert with_write.status_code == 200, with_write.text
    assert with_write.json()["isWriteable"] is True
    every_call = upload(client, b"three", security=signed())
    assert every_call.status_code == 200, every_call.text
    assert every_call.json()["isWriteable"] is True
    blob = with_write.json()
    assert (secure_store.data_dir / "files" / blob["container"] / blob["key"]).read_bytes() == b"two"


def test_standard_base64_policy_with_unescaped_plus_in_the_url_is_accepted(client, secure_store):
    for n in range(200):
        rules = {"expiry": int(time.time()) + 600, "call": ["store"], "handle": "?" * (n % 7) + ">" * (n // 7)}
        text = base64.b64encode(json.dumps(rules).encode()).decode().rstrip("=")
        if "+" in text and "/" in text:
            break
    query = urlencode({"key": "secure", "filename": "plus.txt", "signature": sign(text, SECURE_SECRET)})
    # "+" and "/" sent as they are: the query parser turns the "+" into a space.
    response = client.post(f"{secure_store.url}/api/store?{query}&policy={text}", content=b"plus")
    assert response.status_code == 200, response.text


# --- uploads to an app that does not require security ------------------------------------------------


def test_open_app_stores_without_policy_and_is_not_writeable(client):
    response = upload(client, key="open")
    assert response.status_code == 200, response.text
    assert response.json()["isWriteable"] is False


def test_open_app_still_checks_a_policy_it_is_given(client):
    assert_refused(upload(client, key="open", security=signed(SECURE_SECRET)), 403, "signature does not match")
    assert_refused(upload(client, key="open", security=signed(OPEN_SECRET, call=["read"])), 403, "'store'")
    response = upload(client, key="open", security=signed(OPEN_SECRET, call=["store", "write"]))
    assert response.status_code == 200, response.text
    assert response.json()["isWriteable"] is True


# --- reads ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secure_blob(client) -> dict:
    response = upload(client, b"secret bytes", security=signed(call=["store"]), path="reads/")
    assert response.status_code == 200, response.text
    return response.json()


def read(client: httpx.Client, blob: dict, method: str = "GET", **security: str) -> httpx.Response:
    return client.request(method, f"/api/file/{blob['handle']}", params=security)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_read_of_secure_file_without_policy_is_refused(client, secure_blob, method):
    response = read(client, secure_blob, method)
    assert response.status_code == 400
    if method == "GET":
        assert_refused(response, 400, "this app requires a policy and signature")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_read_of_secure_file_with_a_policy_not_allowing_read_is_403(client, secure_blob, method):
    response = read(client, secure_blob, method, **signed(call=["store", "stat"]))
    assert response.status_code == 403
    if method == "GET":
        assert_refused(response, 403, "does not allow call 'read'")


def test_read_of_secure_file_with_bad_or_expired_policy_is_403(client, secure_blob):
    assert_refused(read(client, secure_blob, **signed(OPEN_SECRET, call=["read"])), 403, "signature does not match")
    expired = signed(call=["read"], expiry=int(time.time()) - 1)
    assert_refused(read(client, secure_blob, **expired), 403, "expired")


def test_read_of_secure_file_with_read_policy_serves_it(client, secure_blob):
    response = read(client, secure_blob, **signed(call=["read"]))
    assert response.status_code == 200, response.text
    assert response.content == b"secret bytes"
    head = read(client, secure_blob, "HEAD", **signed(call=["read"]))
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(b"secret bytes"))


def test_read_policy_handle_rule(client, secure_blob):
    mine = read(client, secure_blob, **signed(call=["read"], handle=secure_blob["handle"]))
    assert mine.status_code == 200 and mine.content == b"secret bytes"
    other = read(client, secure_blob, **signed(call=["read"], handle="A" * 20))
    assert_refused(other, 403, f"handle {secure_blob['handle']!r} is not the policy's handle")


def test_read_policy_path_rule_applies_to_the_file_path(client, secure_blob):
    assert read(client, secure_blob, **signed(call=["read"], path="reads/.*")).status_code == 200
    assert_refused(read(client, secure_blob, **signed(call=["read"], path="elsewhere/.*")), 403, "path")


def test_read_without_policy_does_not_answer_304_either(client, secure_blob):
    response = client.get(f"/api/file/{secure_blob['handle']}", headers={"If-None-Match": f'"{secure_blob["sha256"]}"'})
    assert response.status_code == 400


def test_read_of_open_app_file_needs_no_policy(client):
    blob = upload(client, b"public bytes", key="open").json()
    response = client.get(f"/api/file/{blob['handle']}")
    assert response.status_code == 200 and response.content == b"public bytes"


# --- the command line ----------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "store", "policy", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_cli_policy_from_config_secret_works_against_the_store(client, secure_store):
    done = cli("--config", str(secure_store.config_path), "--key", "secure", "--expiry", "600",
               "--call", "store", "--call", "write", "--call", "read", "--max-size", "100", "--path", "cli/.*")
    assert done.returncode == 0, done.stderr
    security = json.loads(done.stdout)
    assert set(security) == {"policy", "signature"}
    response = upload(client, b"from the cli", security=security, path="cli/")
    assert response.status_code == 200, response.text
    blob = response.json()
    assert blob["isWriteable"] is True
    got = read(client, blob, **security)
    assert got.status_code == 200 and got.content == b"from the cli"
    # Its rules hold: maxSize 100, path cli/.*
    assert_refused(upload(client, b"x" * 101, security=security, path="cli/"), 403, "maxSize 100")
    assert_refused(upload(client, b"x", security=security, path="elsewhere/"), 403, "path")


def test_cli_policy_with_secret_and_unix_time_works_against_the_store(client):
    expiry = str(int(time.time()) + 600)
    done = cli("--key", "secure", "--secret", SECURE_SECRET, "--expiry", expiry, "--call", "store",
               "--container", "other-files")
    assert done.returncode == 0, done.stderr
    security = json.loads(done.stdout)
    policy = json.loads(base64.urlsafe_b64decode(security["policy"]))
    assert policy == {"expiry": int(expiry), "call": ["store"], "container": "other-files"}
    response = upload(client, security=security, container="other-files")
    assert response.status_code == 200, response.text
    assert response.json()["isWriteable"] is False
    assert_refused(upload(client, security=security), 403, "container 'files'")


def test_cli_refuses_without_a_secret_and_with_a_past_expiry(secure_store):
    no_secret = cli("--key", "secure", "--expiry", "600", "--config", "")
    assert no_secret.returncode == 2 and "--secret" in no_secret.stderr
    past = cli("--secret", "s", "--expiry", str(int(time.time()) - 10))
    assert past.returncode == 2 and "in the past" in past.stderr
    unknown = cli("--config", str(secure_store.config_path), "--key", "nope", "--expiry", "600")
    assert unknown.returncode == 2 and "unknown API key" in unknown.stderr
