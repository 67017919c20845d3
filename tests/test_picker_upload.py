"""Where a picked file goes: the tus endpoint and the metadata the store reads."""

from picker.options import parse_call
from picker.upload import upload_endpoint, upload_metadata


def test_the_endpoint_is_the_stores_tus_creation_url_with_or_without_a_trailing_slash():
    assert upload_endpoint("http://127.0.0.1:8000") == "http://127.0.0.1:8000/api/upload"
    assert upload_endpoint("http://127.0.0.1:8000/") == "http://127.0.0.1:8000/api/upload"


def test_metadata_carries_the_key_and_only_the_store_options_that_are_set():
    call = parse_call("pickAndStore", [{}, {"location": "S3", "path": "photos/"}])
    assert upload_metadata("demo", call) == {"apikey": "demo", "location": "S3", "path": "photos/"}


def test_metadata_carries_every_store_option_policy_and_signature():
    call = parse_call(
        "pickAndStore",
        [
            {"policy": "eyJ", "signature": "abc", "multiple": True},
            {"location": "local", "path": "a/", "storeContainer": "c", "storeRegion": "r", "access": "public"},
        ],
    )
    assert upload_metadata("k", call) == {
        "apikey": "k", "policy": "eyJ", "signature": "abc", "location": "local", "path": "a/",
        "container": "c", "region": "r", "access": "public", "multiple": "true",
    }


def test_single_picks_do_not_say_multiple():
    assert "multiple" not in upload_metadata("k", parse_call("pick", [{}]))
