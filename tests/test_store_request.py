"""Unit tests of store.store_request: tus metadata and POST /api/store's query read into one StoreRequest."""

from __future__ import annotations

from store.store_request import StoreRequest, from_metadata, from_query

ASKED = StoreRequest(
    api_key="demo", location="S3", container="c", filename="a.png", path="up/", mimetype="image/png", multiple=True,
    policy="p", signature="s", region="eu", access="public", origin="https://site.example",
)


def test_store_options_come_from_metadata_keys():
    options = from_metadata({
        "apikey": "demo", "filename": "a.png", "filetype": "image/png", "location": "S3", "container": "c",
        "path": "up/", "multiple": "true", "policy": "p", "signature": "s", "region": "eu", "access": "public",
        "relativePath": "ignored",
    }, origin="https://site.example")
    assert options == ASKED


def test_store_options_come_from_the_query_and_the_location_from_the_path():
    options = from_query({
        "key": "demo", "filename": "a.png", "mimetype": "image/png", "container": "c", "path": "up/",
        "multiple": "true", "policy": "p", "signature": "s", "region": "eu", "access": "public",
        "location": "ignored: the path names it",
    }, "S3", origin="https://site.example")
    assert options == ASKED


def test_unset_options_stay_unset_and_multiple_is_only_true_when_said():
    assert from_metadata({}) == StoreRequest()
    assert from_query({"multiple": "yes"}, None) == StoreRequest()
    assert from_metadata({"multiple": "false"}).multiple is False
