"""storeRegion and access 'public' through pickAndStore in Chromium, to a store whose locations are
local disk, S3 (a real moto server, behind a proxy that records every request the store makes to
it) and Azure (a real Azurite): what the storage itself then holds and serves, and the refusals
that reach onError before any byte is stored."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import boto3
import httpx
import pytest

from harness.azurite import Azurite
from harness.fault_proxy import Proxy, run_proxy
from harness.host_pages import HostPages, run_host_pages
from harness.moto import Moto
from harness.picking import stored
from harness.store_process import PUBLIC_LOCAL, TEST_CONFIG, Store, run_store, secure_policy
from store.policy import make_policy, signed

# The shared test config (apps demo and secure; a local location), whose local location takes
# public files, with a local location that does not and S3 and Azure ones.
LOCATIONS = """
[locations.vault]
backend = "local"
root = "vault"

[locations.S3]
backend = "s3"
endpoint_url = "{proxy}"
region = "us-east-1"
access_key_id = "{moto.access_key_id}"
secret_access_key = "{moto.secret_access_key}"
containers = ["{buckets[0]}", "{buckets[1]}"]

[locations.azure]
backend = "azure"
connection_string = "{azurite.connection_string}"
containers = ["{containers[0]}"]

[locations.azure-public]
backend = "azure"
connection_string = "{azurite.connection_string}"
containers = ["{containers[1]}"]
uploads_container = "{containers[0]}"
public = true
"""
EU = "eu-west-1"
# The region an AWS Signature Version 4 request was signed for: Credential=<key>/<date>/<region>/s3/...
SIGNED_FOR = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/s3/")


@pytest.fixture(scope="module")
def buckets(moto: Moto) -> tuple[str, str]:
    """A bucket in the location's region (us-east-1) and one in eu-west-1."""
    tag = uuid.uuid4().hex[:12]
    made = (f"us-{tag}", f"eu-{tag}")
    moto.client().create_bucket(Bucket=made[0])
    eu_client(moto).create_bucket(Bucket=made[1], CreateBucketConfiguration={"LocationConstraint": EU})
    return made


@pytest.fixture(scope="module")
def containers(azurite: Azurite) -> tuple[str, str]:
    """A private container and a public one (Azure's "blob" access: anyone reads a blob by URL)."""
    tag = uuid.uuid4().hex[:12]
    made = (f"private-{tag}", f"public-{tag}")
    azurite.create_container(made[0])
    azurite.create_container(made[1], public=True)
    return made


@pytest.fixture(scope="module")
def s3_proxy(moto: Moto) -> Iterator[Proxy]:
    port = urlsplit(moto.endpoint).port
    assert port is not None
    with run_proxy(port) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def locations_store(moto, buckets, containers, azurite, s3_proxy, tmp_path_factory) -> Iterator[Store]:
    locations = LOCATIONS.format(proxy=s3_proxy.url, moto=moto, buckets=buckets, azurite=azurite, containers=containers)
    with run_store(tmp_path_factory.mktemp("locations-store"), TEST_CONFIG + locations, PUBLIC_LOCAL) as running:
        yield running


@pytest.fixture(scope="module")
def locations_host(locations_store: Store) -> Iterator[HostPages]:
    with run_host_pages(locations_store.url) as server:
        yield server


def eu_client(moto: Moto):
    return boto3.client("s3", endpoint_url=moto.endpoint, region_name=EU,
                        aws_access_key_id=moto.access_key_id, aws_secret_access_key=moto.secret_access_key)


def signed_regions(proxy: Proxy, since: int, bucket: str, key: str) -> dict[str, set[str]]:
    """The regions the store signed its requests about one object for, by method, from request
    number `since` of the proxy's on."""
    regions: dict[str, set[str]] = {}
    for seen in proxy.seen[since:]:
        if seen.path.split("?")[0] == f"/{bucket}/{quote(key)}":
            match = SIGNED_FOR.search(seen.headers.get("authorization", ""))
            regions.setdefault(seen.method, set()).add(match.group(1) if match else "unsigned")
    return regions


def overwrite(store: Store, blob: dict, body: bytes) -> httpx.Response:
    """POST new bytes for the file, under a policy of the demo app allowing `write`."""
    policy = signed(make_policy(expiry=time.time() + 600, call=["write"]), "demo-secret")
    return httpx.post(f"{store.url}/api/file/{blob['handle']}", params=policy, content=body, timeout=30)


def metadata(store: Store, blob: dict) -> dict:
    return httpx.get(f"{store.url}/api/file/{blob['handle']}/metadata", timeout=30).json()


def uploads_recorded(store: Store) -> int:
    with sqlite3.connect(store.data_dir / "index.sqlite3") as db:
        return db.execute("SELECT count(*) FROM uploads").fetchone()[0]


def success(result: dict) -> dict:
    assert result["kind"] == "success", result
    return result["value"]


def refused_before_any_byte(result: dict, store: Store, uploads_before: int) -> str:
    """The pick reached onError with 400, and the store never created the upload. Its message."""
    assert (result["kind"], result["value"]["code"]) == ("error", 400), result
    assert uploads_recorded(store) == uploads_before
    return result["value"]["message"]


# --- S3 ---------------------------------------------------------------------------------------------


def test_store_region_stores_the_object_through_a_client_of_that_region(
        page, locations_host, locations_store, photo, moto, buckets, s3_proxy):
    since = len(s3_proxy.seen)
    options = {"location": "S3", "storeContainer": buckets[1], "storeRegion": EU}
    blob = success(stored(page, locations_host, photo, {}, options))
    assert blob["container"] == buckets[1] and blob["publicUrl"] is None
    # The object is in the eu-west-1 bucket, as an eu-west-1 client sees it...
    assert eu_client(moto).get_bucket_location(Bucket=buckets[1])["LocationConstraint"] == EU
    assert eu_client(moto).get_object(Bucket=buckets[1], Key=blob["key"])["Body"].read() == photo.read_bytes()
    # ...and every request the store made about it was signed for eu-west-1.
    assert signed_regions(s3_proxy, since, buckets[1], blob["key"]) == {"PUT": {EU}}

    # Reading it and overwriting it later go through the same region, which the file's record keeps.
    since = len(s3_proxy.seen)
    assert httpx.get(blob["url"], timeout=30).content == photo.read_bytes()
    assert overwrite(locations_store, blob, b"new bytes").status_code == 200
    assert signed_regions(s3_proxy, since, buckets[1], blob["key"]) == {"GET": {EU}, "PUT": {EU}}
    assert eu_client(moto).get_object(Bucket=buckets[1], Key=blob["key"])["Body"].read() == b"new bytes"


def test_access_public_on_s3_makes_the_object_readable_anonymously_at_its_public_url(
        page, locations_host, locations_store, photo, moto, buckets, s3_proxy):
    blob = success(stored(page, locations_host, photo, {}, {"location": "s3", "access": "public"}))
    # The object's own URL on the location's endpoint (here the proxy in front of moto).
    assert blob["publicUrl"] == f"{s3_proxy.url}/{buckets[0]}/{quote(blob['key'])}"
    direct = f"{moto.endpoint}/{buckets[0]}/{quote(blob['key'])}"
    assert httpx.get(direct).content == photo.read_bytes()  # no credentials: the ACL lets anyone read
    assert httpx.get(blob["publicUrl"]).content == photo.read_bytes()
    assert metadata(locations_store, blob)["access"] == "public"

    # An overwrite keeps the object public.
    assert overwrite(locations_store, blob, b"still for everyone").json()["publicUrl"] == blob["publicUrl"]
    assert httpx.get(direct).content == b"still for everyone"

    # A file stored private is not readable at S3 without credentials.
    private = httpx.post(f"{locations_store.url}/api/store/s3", params={"key": "demo"}, content=b"closed").json()
    assert private["publicUrl"] is None
    assert httpx.get(f"{moto.endpoint}/{buckets[0]}/{quote(private['key'])}").status_code == 403
    assert metadata(locations_store, private)["access"] == "private"


# --- Azure ------------------------------------------------------------------------------------------


def test_access_public_on_azure_serves_the_blob_at_its_public_url(
        page, locations_host, locations_store, photo, azurite, containers):
    blob = success(stored(page, locations_host, photo, {}, {"location": "azure-public", "access": "public"}))
    assert blob["publicUrl"] == f"{azurite.endpoint}/{containers[1]}/{quote(blob['key'])}"
    assert httpx.get(blob["publicUrl"]).content == photo.read_bytes()
    assert overwrite(locations_store, blob, b"new and open").status_code == 200
    assert httpx.get(blob["publicUrl"]).content == b"new and open"


def test_access_public_in_a_private_azure_location_reaches_on_error_before_any_byte(
        page, locations_host, locations_store, photo, azurite, containers):
    before = uploads_recorded(locations_store)
    result = stored(page, locations_host, photo, {}, {"location": "azure", "access": "public"})
    assert "public = true" in refused_before_any_byte(result, locations_store, before)
    listed = azurite.service().get_container_client(containers[0]).list_blobs()
    assert [blob.name for blob in listed if not blob.name.startswith(".incoming/")] == []


# --- local disk --------------------------------------------------------------------------------------


def test_access_public_on_local_serves_the_bytes_at_the_public_url_without_a_policy(
        page, locations_host, locations_store, photo):
    # An app that requires a policy for every read: the Blob's url needs one, its publicUrl does not.
    options = secure_policy(call=["pick", "store"])
    blob = success(stored(page, locations_host, photo, options, {"access": "public"}, key="secure"))
    assert blob["publicUrl"] == f"{locations_store.url}/public/local/files/{quote(blob['key'])}"
    public = httpx.get(blob["publicUrl"])
    assert public.status_code == 200 and public.content == photo.read_bytes()
    assert public.headers["content-type"] == "image/png" and public.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(blob["url"]).status_code in (400, 403)
    # The file lies in the location's public folder, which holds public files only.
    data = locations_store.data_dir
    assert (data / "files-public" / "files" / blob["key"]).read_bytes() == photo.read_bytes()
    assert not (data / "files" / "files" / blob["key"]).exists()


def test_access_public_in_a_local_location_that_keeps_files_private_reaches_on_error_before_any_byte(
        page, locations_host, locations_store, photo):
    before = uploads_recorded(locations_store)
    result = stored(page, locations_host, photo, {}, {"location": "vault", "access": "public"})
    message = refused_before_any_byte(result, locations_store, before)
    assert "'vault'" in message and "public = true" in message
    vault = locations_store.data_dir / "vault"
    assert [p for p in vault.rglob("*") if p.is_file()] == []
