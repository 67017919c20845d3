"""What only the Azure backend has, against a real Azurite (test_backends.py runs the suite every
backend passes): blocks of at most 4 MiB, a cut inside a block, public containers, and what Azure's
refusals and a bad location become."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from harness import free_port
from harness.azurite import ACCOUNT, ACCOUNT_KEY, Azurite
from harness.backend_calls import append, partial_bytes, pieces, read, write
from harness.inthread import run_async
from store.backends.azure import BLOCK_SIZE, AzureBackend
from store.config import Location
from store.errors import StoreError

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def containers(azurite: Azurite) -> Iterator[tuple[str, str]]:
    """A private container and a public one (anyone may read its blobs by URL)."""
    tag = uuid.uuid4().hex[:12]
    private, public = f"private-{tag}", f"public-{tag}"
    azurite.create_container(private)
    azurite.create_container(public, public=True)
    yield private, public


def backend_on(azurite: Azurite, containers: tuple[str, ...], **settings: object) -> AzureBackend:
    return AzureBackend(Location("azure", "azure", containers,
                                 {"connection_string": azurite.connection_string, **settings}))


@pytest.fixture
def private(azurite: Azurite, containers: tuple[str, str]) -> AzureBackend:
    return backend_on(azurite, (containers[0],))


def refusal(call) -> StoreError:
    with pytest.raises(StoreError) as caught:
        run_async(call)
    return caught.value


async def write_all(backend: AzureBackend, container: str, key: str, data: bytes, public: bool = False) -> None:
    writer = backend.writer(container, key, public=public)
    await writer.write(data)
    await writer.commit()


def test_a_file_goes_up_in_blocks_of_at_most_4_mib(private, azurite, containers):
    data = os.urandom(2 * BLOCK_SIZE + 12_345)
    write(private, containers[0], "blocks.bin", data, piece=1_000_000)
    committed, _ = azurite.service().get_blob_client(containers[0], "blocks.bin").get_block_list("committed")
    assert [block.size for block in committed] == [BLOCK_SIZE, BLOCK_SIZE, 12_345]


def test_an_aborted_write_leaves_only_uncommitted_blocks_that_nothing_reads(private, azurite, containers):
    async def run() -> None:
        writer = private.writer(containers[0], "aborted.bin")
        await writer.write(os.urandom(BLOCK_SIZE + 1))  # one block staged
        await writer.abort()

    run_async(run)
    blob = azurite.service().get_blob_client(containers[0], "aborted.bin")
    assert not blob.exists()
    # Azure has no call that drops them without deleting whatever a commit put at the key meanwhile:
    # it drops them itself, at the key's next commit or a week later.
    assert [block.size for block in blob.get_block_list("uncommitted")[1]] == [BLOCK_SIZE]


def test_truncate_inside_a_block_keeps_exactly_the_bytes_before_the_cut(private):
    data = os.urandom(3 * MIB)
    upload = uuid.uuid4().hex
    run_async(private.partials.create, upload)
    append(private, upload, 0, data[:2 * MIB])  # one block of 2 MiB
    run_async(private.partials.truncate, upload, MIB + 17)
    assert partial_bytes(private, upload) == data[:MIB + 17]
    append(private, upload, MIB + 17, data[MIB + 17:])
    assert partial_bytes(private, upload) == data


def test_an_upload_is_copied_into_place_in_several_blocks_at_once(private, azurite, containers, monkeypatch):
    monkeypatch.setattr("store.backends.azure.COPY_SIZE", MIB + 3)  # 100 MiB in earnest
    data = os.urandom(5 * MIB + 10)
    upload = uuid.uuid4().hex
    run_async(private.partials.create, upload)
    append(private, upload, 0, data)
    run_async(private.partials.commit, upload, containers[0], "copied.bin")
    assert read(private, containers[0], "copied.bin", 0, len(data) - 1) == data
    committed, _ = azurite.service().get_blob_client(containers[0], "copied.bin").get_block_list("committed")
    assert [block.size for block in committed] == [MIB + 3] * 4 + [len(data) - 4 * (MIB + 3)]


def test_an_upload_of_more_blocks_than_azure_takes_is_a_clear_413(private, monkeypatch):
    monkeypatch.setattr("store.backends.azure.MAX_BLOCKS", 3)
    upload = uuid.uuid4().hex
    run_async(private.partials.create, upload)
    for offset in range(3):
        append(private, upload, offset, b"x")
    error = refusal(lambda: private.partials.append(upload, 3, pieces(b"y", 1)))
    assert error.code == 413 and "larger chunks" in error.message
    assert partial_bytes(private, upload) == b"xxx"


def test_keys_under_incoming_are_kept_for_uploads_in_progress(private, containers):
    with pytest.raises(StoreError) as caught:
        private.writer(containers[0], ".incoming/uploads/someone-elses")
    assert caught.value.code == 400


# --- public access ----------------------------------------------------------------------------------


def test_a_public_location_serves_its_files_at_their_azure_url(azurite, containers):
    public = backend_on(azurite, (containers[1],), public=True)
    run_async(lambda: write_all(public, containers[1], "open.txt", b"for everyone", public=True))
    assert httpx.get(f"{azurite.endpoint}/{containers[1]}/open.txt").content == b"for everyone"


def test_a_private_container_does_not_serve_its_files_at_their_azure_url(private, azurite, containers):
    run_async(lambda: write_all(private, containers[0], "closed.txt", b"for the store's readers"))
    assert httpx.get(f"{azurite.endpoint}/{containers[0]}/closed.txt").status_code in (403, 404)


def test_access_public_on_a_private_location_is_a_clear_400_and_stores_nothing(private, azurite, containers):
    with pytest.raises(StoreError) as caught:
        private.writer(containers[0], "wanted-public.txt", public=True)
    assert caught.value.code == 400 and "public = true" in caught.value.message
    upload = uuid.uuid4().hex
    run_async(private.partials.create, upload)
    error = refusal(lambda: private.partials.commit(upload, containers[0], "wanted-public.txt", public=True))
    assert error.code == 400
    assert not azurite.service().get_blob_client(containers[0], "wanted-public.txt").exists()


# --- what Azure refuses -------------------------------------------------------------------------------


def test_a_container_missing_in_azure_is_a_clear_error(azurite):
    backend = backend_on(azurite, ("never-created",))
    error = refusal(lambda: write_all(backend, "never-created", "f.txt", b"x"))
    assert error.code == 502
    assert "container 'never-created'" in error.message and "does not exist" in error.message


def test_wrong_credentials_are_a_clear_error_naming_the_setting(azurite, containers):
    wrong = azurite.connection_string.replace("AccountKey=Eby8", "AccountKey=Xby8")
    backend = AzureBackend(Location("azure", "azure", containers, {"connection_string": wrong}))
    error = refusal(lambda: write_all(backend, containers[0], "f.txt", b"x"))
    assert error.code == 502
    assert "refused the store's credentials" in error.message and "connection_string" in error.message


def test_an_unreachable_account_is_a_clear_503_within_seconds(azurite, containers):
    dead = azurite.connection_string.replace(azurite.endpoint, f"http://127.0.0.1:{free_port()}/devstoreaccount1")
    backend = AzureBackend(Location("azure", "azure", containers, {"connection_string": dead}))
    started = time.monotonic()
    error = refusal(lambda: write_all(backend, containers[0], "f.txt", b"x"))
    assert error.code == 503 and "cannot reach" in error.message
    assert time.monotonic() - started < 10  # a few quick retries, not the SDK's minutes


# --- the location's settings --------------------------------------------------------------------------


@pytest.mark.parametrize("settings, complaint", [
    ({}, "give connection_string, or account_url"),
    ({"account_url": "http://127.0.0.1:1/devstoreaccount1", "account_name": "devstoreaccount1"}, "account_key"),
    ({"connection_string": "UseDevelopmentStorage=true", "conection_string": "x"}, "unknown setting conection_string"),
    ({"connection_string": "UseDevelopmentStorage=true", "public": "yes"}, "public must be true or false"),
])
def test_a_location_with_bad_settings_is_refused_at_start(settings, complaint):
    with pytest.raises(ValueError, match=complaint):
        AzureBackend(Location("azure", "azure", ("files",), settings))


def test_account_url_with_name_and_key_reaches_the_account(azurite, containers):
    by_url = AzureBackend(Location("azure", "azure", (containers[0],), {
        "account_url": azurite.endpoint, "account_name": ACCOUNT, "account_key": ACCOUNT_KEY,
    }))
    run_async(lambda: write_all(by_url, containers[0], "by-url.txt", b"account_url works"))
    assert read(by_url, containers[0], "by-url.txt", 0, 16) == b"account_url works"
    upload = uuid.uuid4().hex  # the copy into place reads the upload with a SAS made from the key
    run_async(by_url.partials.create, upload)
    append(by_url, upload, 0, b"resumable too")
    run_async(by_url.partials.commit, upload, containers[0], "by-url-upload.txt")
    assert read(by_url, containers[0], "by-url-upload.txt", 0, 12) == b"resumable too"
