"""filepicker.setUploadOptions(): the page's tuning of the picker's uploads (chunk size, retries),
parsed in CPython; and how the engine ends an upload on a tus server that has no Blob to give."""

from __future__ import annotations

import pytest

from picker.engine import DEFAULT_CHUNK_SIZE, Done, Request, Response, RetryPolicy, Upload
from picker.fperror import FPError
from picker.upload import UploadOptions, parse_upload_options


def test_no_options_are_the_engines_defaults():
    assert parse_upload_options(None) == parse_upload_options({}) == UploadOptions()
    options = UploadOptions()
    assert (options.retry.max_retries, options.retry.base, options.retry.cap) == (5, 1.0, 30.0)
    assert options.warnings == ()


MIB = 1024 * 1024


@pytest.mark.parametrize(
    "raw, endpoint, plan",
    [
        # Plain http: nothing else checks the bytes, so each chunk has an sha256, and chunks are small.
        ({}, "http://store.example/api/upload", (DEFAULT_CHUNK_SIZE, "sha256")),
        # https: TLS checks every byte; chunks stream from the file, large.
        ({}, "https://store.example/api/upload", (64 * MIB, None)),
        ({}, "HTTPS://store.example/api/upload", (64 * MIB, None)),
        ({"checksum": "sha1"}, "https://store.example/api/upload", (8 * MIB, "sha1")),
        ({"checksum": False}, "http://store.example/api/upload", (64 * MIB, None)),
        ({"chunkSize": MIB}, "https://store.example/api/upload", (MIB, None)),
        ({"chunkSize": MIB, "checksum": "sha256"}, "https://store.example/api/upload", (MIB, "sha256")),
    ],
)
def test_the_chunk_size_and_checksum_fit_the_stores_scheme_unless_the_page_chose(raw, endpoint, plan):
    assert parse_upload_options(raw).plan(endpoint) == plan


def test_chunk_size_in_bytes_and_delays_in_milliseconds():
    options = parse_upload_options({"chunkSize": 1048576, "retries": 8, "retryDelay": 250, "maxRetryDelay": 4000})
    assert options.chunk_size == 1048576
    assert (options.retry.max_retries, options.retry.base, options.retry.cap) == (8, 0.25, 4.0)


def test_values_given_as_strings_are_taken_as_the_other_options_are():
    assert parse_upload_options({"chunkSize": "524288"}).chunk_size == 524288


def test_a_retry_delay_above_the_default_cap_raises_the_cap_with_it():
    assert parse_upload_options({"retryDelay": 60_000}).retry.cap == 60.0


def test_files_at_once_and_the_checksum_algorithm():
    assert parse_upload_options({}).parallel_files == 4
    options = parse_upload_options({"parallelFiles": "8", "checksum": "SHA1"})
    assert (options.parallel_files, options.checksum) == (8, "sha1")


def test_a_request_that_stalls_is_given_up_after_30_s_unless_the_page_chose():
    assert parse_upload_options({}).stall_timeout == 30.0
    assert parse_upload_options({"stallTimeout": 1500}).stall_timeout == 1.5
    assert parse_upload_options({"stallTimeout": 0}).stall_timeout == 0


def test_zero_retries_fail_at_the_first_error():
    assert parse_upload_options({"retries": 0}).retry.max_retries == 0


@pytest.mark.parametrize(
    "raw, named",
    [
        ({"chunkSize": 0}, "chunkSize"),
        ({"chunkSize": 1.5}, "chunkSize"),
        ({"chunkSize": True}, "chunkSize"),
        ({"retries": -1}, "retries"),
        ({"retries": 1000}, "retries"),
        ({"retryDelay": "fast"}, "retryDelay"),
        ({"retryDelay": -5}, "retryDelay"),
        ({"maxRetryDelay": 10, "retryDelay": 100}, "maxRetryDelay"),
        ({"parallelFiles": 0}, "parallelFiles"),
        ({"parallelFiles": 33}, "parallelFiles"),
        ({"checksum": "md5"}, "checksum"),
        ({"checksum": True}, "checksum"),
        ({"checksum": "none"}, "checksum"),
        ({"stallTimeout": -1}, "stallTimeout"),
        ({"stallTimeout": "soon"}, "stallTimeout"),
        (42, "setUploadOptions"),
    ],
)
def test_bad_values_are_400_naming_the_option(raw, named):
    with pytest.raises(FPError) as refused:
        parse_upload_options(raw)
    assert refused.value.code == 400
    assert named in refused.value.message


def test_unknown_options_are_warned_about_not_refused():
    options = parse_upload_options({"chunksize": 5})
    assert options.chunk_size is None
    assert len(options.warnings) == 1 and "'chunksize'" in options.warnings[0]


# --- a tus server that is not a pickstore -----------------------------------------------------------


def test_a_server_that_names_no_blob_ends_the_upload_with_what_tus_says():
    """tuspyserver, tusd and others answer the completing PATCH 204, with no Blob-Location: every
    byte is there, so the upload is done, and the Blob says where; nothing more is asked (a GET on
    an upload is no tus request: tuspyserver answers 405, tusd the whole file)."""
    upload = Upload("http://tus.test/files/", "a.bin", "application/x-a", 4, chunk_size=4,
                    retry=RetryPolicy(jitter=lambda: 0.0))
    post = upload.next_action()
    assert isinstance(post, Request)
    upload.receive(post, Response(201, {"Location": "/files/abc"}))
    patch = upload.next_action()
    assert isinstance(patch, Request) and patch.method == "PATCH"
    upload.receive(patch, Response(204, {"Upload-Offset": "4"}))
    assert upload.next_action() == Done(
        {"url": "http://tus.test/files/abc", "filename": "a.bin", "mimetype": "application/x-a", "size": 4}
    )
