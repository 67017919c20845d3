"""The bounds on what a tus client may ask, as pure functions: Upload-Concat and Upload-Metadata
parsed within their limits, HEAD's echo of the metadata, the pending-upload check, and the settings
that configure them."""

from __future__ import annotations

import base64

import pytest

from store import config
from store.errors import StoreError
from store.tus_protocol import (
    MAX_CONCAT_HEADER,
    MAX_CONCAT_PARTS,
    MAX_METADATA,
    check_pending,
    echoed_metadata,
    parse_concat,
    parse_metadata,
)


def refusal(call, *args) -> StoreError:
    with pytest.raises(StoreError) as caught:
        call(*args)
    return caught.value


def pair(key: str, value: str) -> str:
    return f"{key} {base64.b64encode(value.encode()).decode()}"


def test_each_part_may_be_named_once():
    error = refusal(parse_concat, "final;/api/upload/a /api/upload/b /api/upload/a")
    assert error.code == 400 and "names partial upload 'a' twice" in error.message


def test_at_most_max_concat_parts_parts():
    urls = " ".join(f"/api/upload/p{n}" for n in range(MAX_CONCAT_PARTS))
    concat = parse_concat(f"final;{urls}")
    assert concat is not None and len(concat.parts) == MAX_CONCAT_PARTS
    error = refusal(parse_concat, f"final;{urls} /api/upload/one-more")
    assert error.code == 400 and f"names {MAX_CONCAT_PARTS + 1} partial uploads" in error.message


def test_upload_concat_is_bounded_in_length():
    header = "final;/api/upload/a" + "/" * MAX_CONCAT_HEADER
    error = refusal(parse_concat, header)
    assert error.code == 400 and f"at most {MAX_CONCAT_HEADER}" in error.message
    assert len(error.message) < 200  # the header is not repeated back


def test_upload_metadata_is_bounded_in_length():
    within = pair("filename", "n" * (MAX_METADATA // 2))
    assert parse_metadata(within)["filename"] == "n" * (MAX_METADATA // 2)
    error = refusal(parse_metadata, pair("filename", "n" * MAX_METADATA))
    assert error.code == 400 and f"at most {MAX_METADATA}" in error.message


def test_head_echoes_no_policy_signature_or_unknown_keys():
    sent = ",".join([
        pair("apikey", "demo"), pair("filename", "a.txt"), pair("policy", "eyJ9"), pair("signature", "abc"),
        pair("path", "up/"), "container", pair("mine", "x"),
    ])
    assert echoed_metadata(sent) == ",".join([pair("apikey", "demo"), pair("filename", "a.txt"), pair("path", "up/"),
                                              "container"])
    assert echoed_metadata(pair("policy", "eyJ9")) == ""


def test_pending_uploads_are_bounded_by_count_and_declared_bytes():
    check_pending("app", 2, 90, 10, 3, 100)
    error = refusal(check_pending, "app", 3, 0, 1, 3, 100)
    assert error.code == 429 and "max_pending_uploads 3" in error.message
    error = refusal(check_pending, "app", 0, 90, 11, 3, 100)
    assert error.code == 429 and "max_pending_bytes 100" in error.message


def test_the_limits_settings_and_their_defaults():
    raw = {"apps": {"a": {"secret": "s"}, "b": {"secret": "s", "max_pending_uploads": 7, "max_pending_bytes": 9}},
           "store": {"empty_upload_expiry": 60, "sweep_interval": 0.5}}
    cfg = config.from_dict(raw)
    assert (cfg.apps["a"].max_pending_uploads, cfg.apps["a"].max_pending_bytes) == (500, 200 * 1024**3)
    assert (cfg.apps["b"].max_pending_uploads, cfg.apps["b"].max_pending_bytes) == (7, 9)
    assert (cfg.empty_upload_expiry, cfg.sweep_interval) == (60.0, 0.5)
    defaults = config.from_dict({})
    assert (defaults.empty_upload_expiry, defaults.sweep_interval) == (3600.0, 60.0)


@pytest.mark.parametrize("raw", [
    {"apps": {"a": {"secret": "s", "max_pending_uploads": 0}}},
    {"apps": {"a": {"secret": "s", "max_pending_bytes": True}}},
    {"apps": {"a": {"secret": "s", "max_pending_uploads": "5"}}},
    {"store": {"empty_upload_expiry": 0}},
    {"store": {"sweep_interval": -1}},
])
def test_bad_limits_settings_are_refused(raw):
    with pytest.raises(ValueError):
        config.from_dict(raw)
