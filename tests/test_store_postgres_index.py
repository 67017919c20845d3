"""Store processes with the index in PostgreSQL (the `index` setting): what one process stores,
through tus or whole, another process on the same database and data folder serves, and an upload
goes on through whichever process its next request reaches. A bad or unreachable database stops the
store at start with a message that names the setting."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from harness import free_port
from harness.store_process import TEST_CONFIG, Store, run_store, start_store
from store import config as config_module
from store.policy import make_policy, signed

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = "application/offset+octet-stream"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def first(postgres_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with run_store(tmp_path_factory.mktemp("pg-first"), env={"PICKSTORE_INDEX": postgres_db}) as running:
        yield running


@pytest.fixture(scope="module")
def second(first: Store, postgres_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Another store process on the same database and data folder, its index set the other way."""
    shared = TEST_CONFIG.format(data_dir=first.data_dir)
    with run_store(tmp_path_factory.mktemp("pg-second"), shared, env={"PICKSTORE__store__index": postgres_db}) as running:
        yield running


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tus_create(client: httpx.Client, length: int, filename: str, base: str = "") -> str:
    meta = {"apikey": "demo", "filename": filename}
    response = client.post(f"{base}/api/upload", headers={
        **TUS, "Upload-Length": str(length),
        "Upload-Metadata": ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items()),
    })
    assert response.status_code == 201, response.text
    return response.headers["location"]


def tus_patch(client: httpx.Client, url: str, offset: int, body: bytes) -> httpx.Response:
    response = client.patch(url, headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_STREAM}, content=body)
    assert response.status_code in (200, 204), response.text
    return response


def indexed(postgres_db: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(postgres_db) as conn:
        return conn.execute(sql, params).fetchall()


def test_what_one_process_stores_another_serves(first: Store, second: Store, postgres_db: str):
    data = os.urandom(2 * MIB + 321)
    whole = os.urandom(100_000)
    with httpx.Client(base_url=first.url, timeout=30) as one, httpx.Client(base_url=second.url, timeout=30) as other:
        url = tus_create(one, len(data), "tus.bin")
        tus_patch(one, url, 0, data[:MIB])
        blob = tus_patch(one, url, MIB, data[MIB:]).json()
        assert blob["sha256"] == sha256(data)
        response = one.post("/api/store", params={"key": "demo", "filename": "whole.bin"}, content=whole)
        assert response.status_code == 200, response.text
        stored = response.json()

        for handle, body, name in ((blob["handle"], data, "tus.bin"), (stored["handle"], whole, "whole.bin")):
            served = other.get(f"/api/file/{handle}")
            assert served.status_code == 200 and sha256(served.content) == sha256(body)
            metadata = other.get(f"/api/file/{handle}/metadata").json()
            assert metadata["filename"] == name and metadata["size"] == len(body)
        done = other.head(url.replace(first.url, second.url), headers=TUS)
        assert done.status_code == 200 and done.headers["upload-offset"] == str(len(data))
        # Removed through the second, gone for the first.
        remove = signed(make_policy(expiry=time.time() + 600, call=["remove"]), "demo-secret")
        assert other.delete(f"/api/file/{stored['handle']}", params=remove).status_code == 200
        assert one.get(f"/api/file/{stored['handle']}").status_code == 404

    # The records are in PostgreSQL, and neither process made an SQLite index.
    assert indexed(postgres_db, "SELECT sha256 FROM files WHERE handle = %s", blob["handle"]) == [(sha256(data),)]
    assert not list(first.data_dir.glob("index.sqlite3*"))


def test_an_upload_goes_on_through_whichever_process_its_next_request_reaches(first: Store, second: Store):
    data = os.urandom(3 * MIB + 5)
    with httpx.Client(timeout=30) as client:
        path = httpx.URL(tus_create(client, len(data), "both.bin", base=first.url)).path
        offset = 0
        for n, chunk in enumerate((data[:MIB], data[MIB:2 * MIB], data[2 * MIB:])):
            base = (first, second)[n % 2].url
            head = client.head(base + path, headers=TUS)
            assert head.headers["upload-offset"] == str(offset)  # what the other process received
            answer = tus_patch(client, base + path, offset, chunk)
            offset += len(chunk)
        blob = answer.json()
        assert blob["sha256"] == sha256(data)
        assert sha256(client.get(f"{first.url}/api/file/{blob['handle']}").content) == sha256(data)


def test_an_unreachable_database_stops_the_store_at_start_naming_the_setting(tmp_path: Path):
    unused = free_port()
    config_path = tmp_path / "store.toml"
    config_path.write_text(TEST_CONFIG.format(data_dir=tmp_path / "data"))
    with pytest.raises(RuntimeError) as failed:
        start_store(config_path, free_port(), tmp_path / "store.log",
                    {"PICKSTORE_INDEX": f"postgresql://pickstore@127.0.0.1:{unused}/nowhere"})
    message = str(failed.value)
    assert "index: cannot use the PostgreSQL database at" in message and str(unused) in message


@pytest.mark.parametrize("url", ["mysql://127.0.0.1/db", "postgresql://127.0.0.1/db?no_such_option=1", 5432])
def test_an_index_setting_that_is_no_postgresql_url_is_refused_naming_it(url: object):
    with pytest.raises(ValueError, match=r"^index"):
        config_module.from_dict({"store": {"index": url}})


def test_the_index_setting_comes_from_the_file_or_the_environment(tmp_path: Path):
    assert config_module.from_dict({}).index == "sqlite"
    path = tmp_path / "store.toml"
    path.write_text('[store]\nindex = "postgresql://a@127.0.0.1:1/file"\n')
    assert config_module.load(path, environ={}).index == "postgresql://a@127.0.0.1:1/file"
    env = {"PICKSTORE_INDEX": "postgresql://a@127.0.0.1:1/env"}
    assert config_module.load(path, environ=env).index == "postgresql://a@127.0.0.1:1/env"
    env["PICKSTORE__store__index"] = "sqlite"
    assert config_module.load(path, environ=env).index == "sqlite"
