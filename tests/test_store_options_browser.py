"""Store options and security policies as a page passes them to pickAndStore, in Chromium: the
Blob says where the file went, and every refusal reaches onError with its code and message."""

from __future__ import annotations

import time

import pytest

from harness.picking import DIALOG, sha256, stored
from harness.store_process import secure_policy
from store.policy import sign


def test_a_folder_path_puts_the_file_in_that_folder(page, host, photo):
    result = stored(page, host, photo, {}, {"path": "albums/2026/"})
    blob = result["value"]
    assert blob["key"] == f"albums/2026/{blob['handle']}_photo.png"
    assert blob["path"] == blob["key"]


def test_an_exact_path_is_the_key(page, host, photo):
    result = stored(page, host, photo, {}, {"path": "avatars/user-17.png"})
    assert result["value"]["key"] == "avatars/user-17.png"


def test_an_exact_path_with_multiple_is_refused(page, host, photo):
    result = stored(page, host, photo, {"multiple": True}, {"path": "avatars/user-17.png"})
    assert result["kind"] == "error"
    assert result["value"]["code"] == 400
    assert "must end in '/'" in result["value"]["message"]


def test_store_container_chooses_the_container(page, host, photo, store):
    result = stored(page, host, photo, {}, {"storeContainer": "other-files", "location": "LOCAL"})
    blob = result["value"]
    assert blob["container"] == "other-files"
    assert (store.data_dir / "files" / "other-files" / blob["key"]).read_bytes() == photo.read_bytes()


def test_a_container_the_location_does_not_allow_is_refused(page, host, photo):
    result = stored(page, host, photo, {}, {"storeContainer": "someone-elses"})
    assert (result["kind"], result["value"]["code"]) == ("error", 400)
    assert "'someone-elses'" in result["value"]["message"]
    assert page.locator(f"{DIALOG} [role=alert]").is_visible()


def test_an_app_that_requires_security_refuses_a_pick_without_a_policy(page, host, photo, store):
    before = store.stored_files()
    result = stored(page, host, photo, {}, {}, key="secure")
    assert (result["kind"], result["value"]["code"]) == ("error", 400)
    assert "requires a policy" in result["value"]["message"]
    assert store.stored_files() == before


def test_a_good_policy_stores_and_says_whether_the_file_is_writeable(page, host, photo):
    options = secure_policy(call=["pick", "store", "write"])
    result = stored(page, host, photo, options, {}, key="secure")
    assert result["kind"] == "success"
    assert result["value"]["isWriteable"] is True
    assert result["value"]["sha256"] == sha256(photo.read_bytes())


@pytest.mark.parametrize(
    "options, code, words",
    [
        # Made when the test runs: a policy made at collection would expire in a long suite.
        (lambda: {**secure_policy(call=["pick", "store"]), "signature": "0" * 64}, 403, "signature"),
        (lambda: secure_policy(call=["pick", "store"], expiry=time.time() - 10), 403, "expired"),
        (lambda: secure_policy(call=["read"]), 403, "'store'"),
        (lambda: secure_policy(call=["pick", "store"], max_size=10), 403, "maxSize"),
        (lambda: secure_policy(call=["pick", "store"], path="private/.*"), 403, "path"),
        (lambda: {"policy": "not base64 json!", "signature": "0" * 64}, 403, "signature"),
        (lambda: secure_policy(call=["pick", "store"], min_size=10**9), 403, "minSize"),
        (lambda: secure_policy(call=["pick", "store"], container="archive-.*"), 403, "container"),
        # Signed, so that it is read: base64url of text that is no JSON.
        (lambda: {"policy": "bm90IGpzb24", "signature": sign("bm90IGpzb24", "secure-secret")}, 400, "policy"),
    ],
)
def test_a_policy_that_does_not_allow_the_pick_reaches_on_error_with_its_rule(page, host, photo, store, options, code, words):
    before = store.stored_files()
    result = stored(page, host, photo, options(), {}, key="secure")
    assert result["kind"] == "error"
    assert result["value"]["code"] == code
    assert words in result["value"]["message"]
    assert words in page.locator(f"{DIALOG} [role=alert]").inner_text()
    assert store.stored_files() == before


def test_a_page_on_an_origin_the_app_does_not_list_gets_403(page, host, photo, store):
    before = store.stored_files()
    result = stored(page, host, photo, {}, {}, key="site")
    assert (result["kind"], result["value"]["code"]) == ("error", 403)
    assert host.url in result["value"]["message"]
    assert store.stored_files() == before


@pytest.mark.parametrize("location", ["gcs", "dropbox", "rackspace"])
def test_a_location_the_store_has_no_backend_for_reaches_on_error_as_400(page, host, photo, store, location):
    before = store.stored_files()
    result = stored(page, host, photo, {}, {"location": location})
    assert (result["kind"], result["value"]["code"]) == ("error", 400)
    assert f"location {location!r} is not configured" in result["value"]["message"]
    assert store.stored_files() == before
