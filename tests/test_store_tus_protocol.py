"""Unit tests of store.tus_protocol: tus 1.0's rules without a server, each in microseconds."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from email.utils import parsedate_to_datetime

import pytest

from store.errors import StoreError
from store.records import UploadRecord
from store.tus_protocol import (
    Concat,
    check_alive,
    check_length,
    check_offset,
    check_part,
    check_patch,
    check_room,
    check_version,
    creation_length,
    http_date,
    is_offset_stream,
    is_upload_id,
    new_upload_id,
    options_headers,
    parse_checksum,
    parse_concat,
    parse_metadata,
    parse_size,
    state_headers,
)

UPLOAD = UploadRecord(
    id="u1", app_key="demo", location="local", length=10, offset=4, metadata="filename YS50eHQ=", concat="",
    container="files", key="H_a.txt", handle="H", filename="a.txt", mimetype="text/plain", writeable=False,
    completed=False, created=1000.0, expires=2000.0,
)


def refused(code: int, call, *args) -> StoreError:
    with pytest.raises(StoreError) as info:
        call(*args)
    assert info.value.code == code, info.value.message
    return info.value


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- versions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "HEAD", "PATCH", "DELETE"])
def test_check_version_refuses_other_or_missing_versions_with_412_and_tus_version(method):
    for given in (None, "", "0.2.2", "1.0"):
        error = refused(412, check_version, method, given)
        assert error.headers == {"Tus-Version": "1.0.0"}
    check_version(method, "1.0.0")


def test_check_version_lets_options_and_get_through_without_a_version():
    check_version("OPTIONS", None)
    check_version("GET", None)


def test_options_headers_advertise_what_the_store_speaks():
    headers = options_headers(1234)
    assert headers["Tus-Version"] == "1.0.0"
    assert headers["Tus-Max-Size"] == "1234"
    assert headers["Tus-Checksum-Algorithm"] == "sha1,sha256,md5"
    assert headers["Tus-Extension"].split(",") == [
        "creation", "creation-with-upload", "expiration", "checksum", "termination", "concatenation"
    ]


# --- sizes and metadata -------------------------------------------------------------------------


@pytest.mark.parametrize("value, size", [("0", 0), ("10", 10), (" 7 ", 7), ("9" * 19, int("9" * 19))])
def test_parse_size_reads_whole_numbers(value, size):
    assert parse_size("Upload-Length", value) == size


@pytest.mark.parametrize("value", [None, "", "-1", "+1", "1.0", "1e3", "0x10", "9" * 20, "１"])
def test_parse_size_refuses_anything_else_with_400_naming_the_header(value):
    assert "Upload-Offset" in refused(400, parse_size, "Upload-Offset", value).message


def test_parse_metadata_decodes_base64_values_and_bare_keys():
    header = f"filename {b64('Résumé.pdf')}, filetype {b64('application/pdf')},empty,apikey {b64('demo')}"
    assert parse_metadata(header) == {
        "filename": "Résumé.pdf", "filetype": "application/pdf", "empty": "", "apikey": "demo"
    }
    assert parse_metadata(None) == parse_metadata("") == {}


@pytest.mark.parametrize("header", ["filename !!!", "filename YQ", "filename YQ==,filename Yg==", "filename /w=="])
def test_parse_metadata_refuses_bad_base64_non_utf8_and_repeated_keys(header):
    assert "Upload-Metadata" in refused(400, parse_metadata, header).message


# --- creation -----------------------------------------------------------------------------------


def test_creation_length_is_upload_length():
    assert creation_length("12", None, None) == 12
    assert creation_length("12", None, Concat(partial=True)) == 12


def test_creation_length_without_upload_length_is_400_and_names_defer_length_when_sent():
    assert "Upload-Length" in refused(400, creation_length, None, None, None).message
    assert "Upload-Defer-Length" in refused(400, creation_length, None, "1", None).message


def test_final_upload_length_comes_from_its_parts():
    final = Concat(partial=False, parts=("a",))
    assert creation_length(None, None, final) is None
    refused(400, creation_length, "3", None, final)


def test_check_length_is_413_above_max_size():
    check_length(100, 100)
    assert "100" in refused(413, check_length, 101, 100).message


# --- concatenation ------------------------------------------------------------------------------


def test_parse_concat_reads_partial_and_final_with_absolute_or_relative_urls():
    assert parse_concat(None) is None
    assert parse_concat("partial") == Concat(partial=True)
    header = "final;http://store:8000/api/upload/abc /api/upload/d-e_f  https://x/prefix/api/upload/ghi/"
    assert parse_concat(header) == Concat(partial=False, parts=("abc", "d-e_f", "ghi"))


@pytest.mark.parametrize(
    "header", ["", "partial;x", "final;", "final; ", "final;/api/file/abc", "final;/api/upload/a/b", "whole"]
)
def test_parse_concat_refuses_other_forms_with_400(header):
    refused(400, parse_concat, header)


def test_check_part_accepts_a_whole_live_partial_upload_of_the_same_app():
    part = replace(UPLOAD, concat="partial", offset=10)
    assert check_part(part, "u1", "demo", 1500.0) is part


def test_check_part_refusals():
    whole = replace(UPLOAD, concat="partial", offset=10)
    assert "does not have" in refused(400, check_part, None, "u1", "demo", 1500.0).message
    assert "does not have" in refused(400, check_part, whole, "u1", "demo", 2000.0).message
    assert "partial" in refused(400, check_part, replace(whole, concat=""), "u1", "demo", 1500.0).message
    assert "4 of its 10" in refused(400, check_part, replace(whole, offset=4), "u1", "demo", 1500.0).message
    assert "another app" in refused(403, check_part, whole, "u1", "other", 1500.0).message


# --- PATCH --------------------------------------------------------------------------------------


def test_check_patch_returns_the_offset_sent():
    assert check_patch(UPLOAD, "application/offset+octet-stream", "4") == 4
    assert check_patch(UPLOAD, "Application/Offset+Octet-Stream; charset=x", "4") == 4


def test_check_patch_refusals_in_order_final_type_offset():
    final = replace(UPLOAD, concat="final;/api/upload/a")
    refused(403, check_patch, final, None, None)
    refused(415, check_patch, UPLOAD, "application/octet-stream", "4")
    refused(415, check_patch, UPLOAD, None, "4")
    refused(400, check_patch, UPLOAD, "application/offset+octet-stream", None)


def test_check_offset_409_when_not_the_uploads_offset_413_when_the_body_cannot_fit():
    check_offset(UPLOAD, 4, "6")
    check_offset(UPLOAD, 4, None)
    assert "HEAD" in refused(409, check_offset, UPLOAD, 3, "1").message
    refused(409, check_offset, UPLOAD, 5, "1")
    refused(413, check_offset, UPLOAD, 4, "7")


def test_check_room_counts_from_the_offset():
    check_room(UPLOAD, 6)
    refused(413, check_room, UPLOAD, 7)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_parse_checksum_reads_algorithm_and_digest(algorithm):
    digest = hashlib.new(algorithm, b"chunk").digest()
    checksum = parse_checksum(f"{algorithm} {base64.b64encode(digest).decode()}")
    assert checksum is not None
    assert checksum.algorithm == algorithm and checksum.digest == digest
    hasher = checksum.hasher()
    hasher.update(b"chunk")
    assert hasher.digest() == digest


def test_parse_checksum_refusals():
    assert parse_checksum(None) is None
    assert "sha1,sha256,md5" in refused(400, parse_checksum, "crc32 AAAAAA==").message
    refused(400, parse_checksum, "sha1")
    refused(400, parse_checksum, "sha1 ***")
    refused(400, parse_checksum, "sha256 " + base64.b64encode(b"short").decode())


def test_is_offset_stream():
    assert is_offset_stream("application/offset+octet-stream")
    assert not is_offset_stream(None)
    assert not is_offset_stream("application/octet-stream")


# --- expiry and state ---------------------------------------------------------------------------


def test_check_alive_404_for_unknown_410_once_expired():
    assert check_alive(UPLOAD, "u1", 1999.9) is UPLOAD
    assert "u1" in refused(404, check_alive, None, "u1", 0.0).message
    refused(410, check_alive, UPLOAD, "u1", 2000.0)


def test_http_date_is_rfc_7231_imf_fixdate():
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert parsedate_to_datetime(http_date(1767225600.5)).timestamp() == 1767225600


def test_state_headers_for_head():
    headers = state_headers(replace(UPLOAD, concat="partial"))
    assert headers == {
        "Upload-Offset": "4", "Upload-Length": "10", "Upload-Expires": http_date(2000.0), "Cache-Control": "no-store",
        "Upload-Metadata": "filename YS50eHQ=", "Upload-Concat": "partial",
    }
    assert "Upload-Metadata" not in state_headers(replace(UPLOAD, metadata=""))


def test_new_upload_ids_are_unique_url_safe_ids():
    ids = {new_upload_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(is_upload_id(i) for i in ids)
    assert not is_upload_id("../x") and not is_upload_id("") and not is_upload_id("a" * 65)
