"""The store request the picker makes and what the store's answer means (picker/upload.py, pure
CPython)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from picker.errors import FPError
from picker.options import parse_call
from picker.upload import blob_from_reply, store_url


def call(picker: dict | None = None, store: dict | None = None, method: str = "pickAndStore"):
    if method == "pickAndStore":
        return parse_call(method, [picker or {}, store or {}])
    return parse_call(method, [picker or {}])


def url_parts(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query, keep_blank_values=True)


# --- store_url ----------------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000", "http://127.0.0.1:8000/"])
def test_base_with_or_without_a_trailing_slash_gives_one_slash(base):
    url = store_url(base, "KEY", call(), "a.txt", "text/plain")
    assert url.startswith("http://127.0.0.1:8000/api/store?")


def test_base_with_a_path_keeps_it():
    url = store_url("https://files.example.com/pickstore/", "KEY", call(), "a.txt", "text/plain")
    assert url_parts(url)[0] == "https://files.example.com/pickstore/api/store"


def test_without_a_location_the_path_is_api_store():
    path, _ = url_parts(store_url("http://h", "KEY", call(), "a.txt", "text/plain"))
    assert path == "http://h/api/store"


def test_a_location_is_the_last_path_segment():
    path, query = url_parts(store_url("http://h", "KEY", call(store={"location": "S3"}), "a.txt", "text/plain"))
    assert path == "http://h/api/store/S3"
    assert "location" not in query


def test_a_location_is_quoted_into_a_single_segment():
    url = store_url("http://h", "KEY", call(store={"location": "my disk/../x?y"}), "a.txt", "text/plain")
    assert urlsplit(url).path == "/api/store/my%20disk%2F..%2Fx%3Fy"


def test_the_query_carries_key_filename_and_mimetype_and_nothing_unset():
    _, query = url_parts(store_url("http://h", "APIKEY", call(), "a.txt", "text/plain"))
    assert query == {"key": ["APIKEY"], "filename": ["a.txt"], "mimetype": ["text/plain"]}


def test_the_query_carries_the_store_options_that_are_set():
    store = {"path": "myfiles/", "storeContainer": "user-photos", "storeRegion": "us-east-1", "access": "public"}
    _, query = url_parts(store_url("http://h", "K", call(store=store), "a.txt", "text/plain"))
    assert query["path"] == ["myfiles/"]
    assert query["container"] == ["user-photos"]
    assert query["region"] == ["us-east-1"]
    assert query["access"] == ["public"]


def test_only_the_store_options_that_are_set_appear():
    _, query = url_parts(store_url("http://h", "K", call(store={"storeRegion": "eu-west-1"}), "a.txt", "text/plain"))
    assert query["region"] == ["eu-west-1"]
    for absent in ("path", "container", "access", "multiple", "policy", "signature"):
        assert absent not in query


def test_the_picker_container_is_not_sent_as_the_store_container():
    _, query = url_parts(store_url("http://h", "K", call(picker={"container": "modal"}), "a.txt", "text/plain"))
    assert "container" not in query


def test_multiple_true_is_sent_only_when_multiple():
    _, single = url_parts(store_url("http://h", "K", call(), "a.txt", "text/plain"))
    _, multi = url_parts(store_url("http://h", "K", call(picker={"multiple": True}), "a.txt", "text/plain"))
    _, pick_multiple = url_parts(store_url("http://h", "K", call(method="pickMultiple"), "a.txt", "text/plain"))
    assert "multiple" not in single
    assert multi["multiple"] == ["true"]
    assert pick_multiple["multiple"] == ["true"]


def test_policy_and_signature_are_sent_when_given():
    picker = {"policy": "eyJleHBpcnkiOjE3MDAwMDAwMDB9", "signature": "9f86d081884c7d65"}
    _, query = url_parts(store_url("http://h", "K", call(picker=picker), "a.txt", "text/plain"))
    assert query["policy"] == ["eyJleHBpcnkiOjE3MDAwMDAwMDB9"]
    assert query["signature"] == ["9f86d081884c7d65"]


def test_policy_with_base64_padding_and_plus_round_trips():
    picker = {"policy": "ab+c/d==", "signature": "ff"}
    _, query = url_parts(store_url("http://h", "K", call(picker=picker), "a.txt", "text/plain"))
    assert query["policy"] == ["ab+c/d=="]


@pytest.mark.parametrize("filename", [
    "my holiday photo.jpg",
    "café – résumé.pdf",
    "日本語のファイル.txt",
    "a&b=c.txt",
    "100% sure?#.png",
    "plus+sign.txt",
    "semi;colon,comma.txt",
])
def test_filenames_round_trip_through_parse_qs(filename):
    url = store_url("http://h", "K", call(), filename, "text/plain")
    _, query = url_parts(url)
    assert query["filename"] == [filename]
    assert query["key"] == ["K"]
    assert query["mimetype"] == ["text/plain"]
    assert " " not in url


def test_a_mimetype_with_parameters_round_trips():
    _, query = url_parts(store_url("http://h", "K", call(), "a.txt", "text/plain; charset=utf-8"))
    assert query["mimetype"] == ["text/plain; charset=utf-8"]


def test_store_path_with_special_characters_round_trips():
    _, query = url_parts(store_url("http://h", "K", call(store={"path": "user 1/a&b=c/"}), "x", "text/plain"))
    assert query["path"] == ["user 1/a&b=c/"]


# --- blob_from_reply ----------------------------------------------------------------------------


def test_a_200_json_reply_with_a_url_is_the_blob():
    blob = {"url": "http://h/api/file/abc", "filename": "a.txt", "mimetype": "text/plain", "size": 3,
            "key": "abc_a.txt", "container": "default", "isWriteable": True}
    assert blob_from_reply(200, json.dumps(blob)) == blob


def test_any_2xx_with_a_url_is_the_blob():
    assert blob_from_reply(201, '{"url": "http://h/f"}') == {"url": "http://h/f"}


def test_a_403_json_error_is_an_fperror_with_the_stores_code_and_message():
    with pytest.raises(FPError) as caught:
        blob_from_reply(403, json.dumps({"code": 403, "message": "the signature does not match the policy"}))
    assert caught.value.code == 403
    assert caught.value.message == "the signature does not match the policy"
    assert str(caught.value) == "FPError 403: the signature does not match the policy"


def test_a_400_json_error_keeps_its_code():
    with pytest.raises(FPError) as caught:
        blob_from_reply(400, '{"code": 400, "message": "unknown API key"}')
    assert (caught.value.code, caught.value.message) == (400, "unknown API key")


def test_a_json_error_without_a_code_takes_the_http_status():
    with pytest.raises(FPError) as caught:
        blob_from_reply(413, '{"message": "file too large"}')
    assert (caught.value.code, caught.value.message) == (413, "file too large")


@pytest.mark.parametrize("code", ["BadGateway", None, [403]])
def test_a_json_error_whose_code_is_not_a_number_is_still_an_fperror(code):
    # A proxy or another server may answer {"code": "BadGateway", "message": ...}: the picker must
    # still report an FPError (the session only turns FPError into onError), with the HTTP status.
    with pytest.raises(FPError) as caught:
        blob_from_reply(502, json.dumps({"code": code, "message": "upstream unavailable"}))
    assert (caught.value.code, caught.value.message) == (502, "upstream unavailable")


def test_a_non_json_502_is_an_fperror_502_with_a_clear_message():
    with pytest.raises(FPError) as caught:
        blob_from_reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
    assert caught.value.code == 502
    assert "502" in caught.value.message
    assert "store" in caught.value.message
    assert "<html>" not in caught.value.message


def test_an_empty_error_body_is_an_fperror_with_the_status():
    with pytest.raises(FPError) as caught:
        blob_from_reply(500, "")
    assert caught.value.code == 500


def test_no_answer_at_all_is_an_fperror_400_not_code_0():
    with pytest.raises(FPError) as caught:
        blob_from_reply(0, "")
    assert caught.value.code == 400


@pytest.mark.parametrize("body", ['{"filename": "a.txt"}', "[]", '"ok"', "", "not json"])
def test_a_200_without_a_url_is_an_fperror(body):
    with pytest.raises(FPError) as caught:
        blob_from_reply(200, body)
    assert "200" in caught.value.message


def test_an_error_status_with_a_url_is_not_a_blob():
    with pytest.raises(FPError) as caught:
        blob_from_reply(500, '{"url": "http://h/f", "message": "stored but index failed"}')
    assert caught.value.message == "stored but index failed"
