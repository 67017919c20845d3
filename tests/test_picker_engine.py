"""The tus upload engine (picker/engine.py, pure CPython): every transition driven in microseconds,
against an in-memory tus store or scripted answers."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from picker.engine import (
    Cancelled,
    Checksum,
    ComputeChecksum,
    Done,
    Failed,
    NetworkError,
    Paused,
    Request,
    Response,
    RetryPolicy,
    Sent,
    Upload,
    Wait,
    fingerprint,
)

ENDPOINT = "http://store.test/api/upload/"
FILE = bytes(range(10))
NO_JITTER = RetryPolicy(jitter=lambda: 0.0)


class TusStore:
    """An in-memory tus 1.0 server, strict enough to catch a wrong offset, length or checksum."""

    def __init__(self, blob_in_final_patch: bool = True, blob_location: bool = True) -> None:
        self.uploads: dict[str, dict[str, Any]] = {}
        self.blob_in_final_patch = blob_in_final_patch
        self.blob_location = blob_location  # say where the Blob is, as a pickstore does
        self.requests: list[Request] = []

    def create(self, length: int, data: bytes = b"") -> str:
        """A new upload holding `data`; returns its id."""
        upload_id = str(len(self.uploads) + 1)
        self.uploads[upload_id] = {"length": length, "data": bytearray(data)}
        return upload_id

    def blob(self, upload_id: str) -> str:
        return json.dumps({"url": f"http://store.test/api/file/{upload_id}", "size": self.uploads[upload_id]["length"]})

    def answer(self, request: Request, file: bytes) -> Response:
        response = self._answer(request, file)
        upload_id = (response.headers.get("Location") or request.url).rsplit("/", 1)[1]
        if self.blob_location and upload_id in self.uploads and request.method != "GET":
            return Response(response.status, {**response.headers, "Blob-Location": f"/api/upload/{upload_id}"}, response.body)
        return response

    def _answer(self, request: Request, file: bytes) -> Response:
        self.requests.append(request)
        assert request.headers["Tus-Resumable"] == "1.0.0"
        body = file[slice(*request.file_slice)] if request.file_slice else b""
        if request.method == "POST":
            if request.file_slice and not self.checksum_matches(request, body):
                return Response(460, {}, "checksum mismatch")  # and no upload is made
            upload_id = self.create(int(request.headers["Upload-Length"]), body)
            headers = {"Location": f"/api/upload/{upload_id}"}  # relative, as tusd sends it
            if request.file_slice:
                headers["Upload-Offset"] = str(len(body))
            made = self.uploads[upload_id]
            return Response(201, headers, self.blob(upload_id) if len(made["data"]) == made["length"] else "")
        upload_id = request.url.rsplit("/", 1)[1]
        upload = self.uploads.get(upload_id)
        if upload is None:
            return Response(404, {}, "upload not found")
        if request.method == "HEAD":
            return Response(200, {"Upload-Offset": str(len(upload["data"])), "Upload-Length": str(upload["length"])})
        if request.method == "PATCH":
            if int(request.headers["Upload-Offset"]) != len(upload["data"]):
                return Response(409, {}, "offset mismatch")
            if not self.checksum_matches(request, body):
                return Response(460, {}, "checksum mismatch")
            upload["data"] += body
            headers = {"Upload-Offset": str(len(upload["data"]))}
            if len(upload["data"]) == upload["length"] and self.blob_in_final_patch:
                return Response(200, headers, self.blob(upload_id))
            return Response(204, headers)
        if request.method == "GET":
            return Response(200, {}, self.blob(upload_id))
        assert request.method == "DELETE"
        del self.uploads[upload_id]
        return Response(204, {})


    @staticmethod
    def checksum_matches(request: Request, body: bytes) -> bool:
        if "Upload-Checksum" not in request.headers:
            return True
        algorithm, digest = request.headers["Upload-Checksum"].split(" ")
        return base64.b64decode(digest) == hashlib.new(algorithm, body).digest()


def new_upload(size: int = len(FILE), **options: Any) -> Upload:
    options = {"chunk_size": 4, "retry": NO_JITTER, **options}
    return Upload(ENDPOINT, "data.bin", "application/octet-stream", size, **options)


def run(upload: Upload, store: TusStore, file: bytes = FILE) -> tuple[Any, list[Any]]:
    """Drive the upload to its end against `store`; returns the last action and every action."""
    actions: list[Any] = []
    while True:
        action = upload.next_action()
        actions.append(action)
        if isinstance(action, Request):
            if action.file_slice:
                upload.receive(action, Sent(action.file_slice[1] - action.file_slice[0]))
            upload.receive(action, store.answer(action, file))
        elif isinstance(action, ComputeChecksum):
            upload.receive(action, Checksum(hashlib.new(action.algorithm, file[slice(*action.file_slice)]).digest()))
        elif not isinstance(action, Wait):
            return action, actions


def request(upload: Upload) -> Request:
    action = upload.next_action()
    assert isinstance(action, Request), action
    return action


def answer(upload: Upload, status: int, headers: dict[str, str] | None = None, body: str = "") -> Request:
    """Take the next request and answer it as scripted."""
    sent = request(upload)
    upload.receive(sent, Response(status, headers or {}, body))
    return sent


def created(upload: Upload) -> None:
    answer(upload, 201, {"Location": "/api/upload/1"})


def metadata(header: str) -> dict[str, str]:
    pairs = (pair.split(" ") for pair in header.split(","))
    return {pair[0]: base64.b64decode(pair[1]).decode() if len(pair) > 1 else "" for pair in pairs}


def bytes_sent(requests: list[Request]) -> int:
    return sum(r.file_slice[1] - r.file_slice[0] for r in requests if r.file_slice)


# --- creation and the chunk plan ------------------------------------------------------------------


def test_a_file_of_several_chunks_is_created_then_patched_chunk_by_chunk():
    store = TusStore()
    upload = new_upload()
    outcome, _ = run(upload, store)
    assert [(r.method, r.file_slice) for r in store.requests] == [
        ("POST", None), ("PATCH", (0, 4)), ("PATCH", (4, 8)), ("PATCH", (8, 10))]
    assert [r.headers["Upload-Offset"] for r in store.requests[1:]] == ["0", "4", "8"]
    assert all(r.headers["Content-Type"] == "application/offset+octet-stream" for r in store.requests[1:])
    assert all(r.url == "http://store.test/api/upload/1" for r in store.requests[1:])
    assert store.uploads["1"]["data"] == FILE
    assert outcome == Done({"url": "http://store.test/api/file/1", "size": 10})
    assert upload.progress.percent == 100.0


def test_the_default_chunk_is_8_mib():
    upload = Upload(ENDPOINT, "big.bin", "application/octet-stream", 20 * 1024 * 1024)
    created(upload)
    assert request(upload).file_slice == (0, 8 * 1024 * 1024)


def test_creation_carries_length_and_base64_metadata_with_the_store_options():
    upload = new_upload(metadata={"apikey": "KEY", "path": "/photos/", "policy": None, "access": "public"})
    post = request(upload)
    assert (post.method, post.url, post.file_slice) == ("POST", ENDPOINT, None)
    assert post.headers["Upload-Length"] == "10"
    assert "Content-Type" not in post.headers
    assert metadata(post.headers["Upload-Metadata"]) == {
        "filename": "data.bin", "filetype": "application/octet-stream",
        "apikey": "KEY", "path": "/photos/", "access": "public"}


def test_metadata_values_are_base64_so_any_filename_survives():
    upload = Upload(ENDPOINT, "résumé, final.pdf", "application/pdf", 3)
    assert metadata(request(upload).headers["Upload-Metadata"])["filename"] == "résumé, final.pdf"


@pytest.mark.parametrize("location", ["/api/upload/abc", "abc", "http://store.test/api/upload/abc"])
def test_the_location_is_resolved_against_the_endpoint(location):
    upload = new_upload()
    answer(upload, 201, {"location": location})  # header names are case-insensitive
    assert upload.upload_url == "http://store.test/api/upload/abc"
    assert request(upload).url == "http://store.test/api/upload/abc"


def test_creation_without_a_location_fails():
    upload = new_upload()
    answer(upload, 201)
    outcome = upload.next_action()
    assert isinstance(outcome, Failed) and outcome.error.code == 502


def test_creation_with_upload_sends_the_first_chunk_in_the_post():
    store = TusStore()
    outcome, _ = run(new_upload(upload_with_creation=True), store)
    post = store.requests[0]
    assert (post.method, post.file_slice, post.headers["Content-Type"]) == ("POST", (0, 4), "application/offset+octet-stream")
    assert [(r.method, r.file_slice) for r in store.requests[1:]] == [("PATCH", (4, 8)), ("PATCH", (8, 10))]
    assert store.uploads["1"]["data"] == FILE
    assert isinstance(outcome, Done)


def test_creation_with_upload_of_a_file_within_one_chunk_completes_without_patch():
    store = TusStore()
    outcome, _ = run(new_upload(size=3, upload_with_creation=True), store, FILE[:3])
    assert [(r.method, r.file_slice) for r in store.requests] == [("POST", (0, 3))]
    assert outcome == Done({"url": "http://store.test/api/file/1", "size": 3})


def test_creation_with_upload_the_store_ignored_continues_from_zero():
    upload = new_upload(upload_with_creation=True)
    created(upload)  # no Upload-Offset: the store kept none of the body
    assert request(upload).file_slice == (0, 4)


def test_a_zero_byte_file_is_created_with_length_0_and_completes_without_patch():
    store = TusStore()
    upload = new_upload(size=0, upload_with_creation=True)
    outcome, _ = run(upload, store, b"")
    assert [(r.method, r.headers["Upload-Length"], r.file_slice) for r in store.requests] == [("POST", "0", None)]
    assert outcome == Done({"url": "http://store.test/api/file/1", "size": 0})
    assert upload.progress.percent == 100.0


# --- completion -----------------------------------------------------------------------------------


def test_a_final_patch_without_a_blob_is_followed_by_a_get_of_the_upload():
    store = TusStore(blob_in_final_patch=False)
    outcome, _ = run(new_upload(), store)
    assert [r.method for r in store.requests] == ["POST", "PATCH", "PATCH", "PATCH", "GET"]
    assert store.requests[-1].url == "http://store.test/api/upload/1"
    assert outcome == Done({"url": "http://store.test/api/file/1", "size": 10})


def test_a_final_patch_of_a_tus_server_that_names_no_blob_ends_with_what_tus_says():
    """tusd answers a GET on an upload with the whole file: without a Blob-Location the engine never
    asks, and the Blob says what tus does: where the upload is."""
    store = TusStore(blob_in_final_patch=False, blob_location=False)
    outcome, _ = run(new_upload(), store)
    assert [r.method for r in store.requests] == ["POST", "PATCH", "PATCH", "PATCH"]
    assert outcome == Done({"url": "http://store.test/api/upload/1", "filename": "data.bin",
                            "mimetype": "application/octet-stream", "size": 10})


def test_a_get_that_brings_no_blob_fails():
    upload = new_upload(size=4)
    created(upload)
    answer(upload, 204, {"Upload-Offset": "4", "Blob-Location": "/api/upload/1/blob"})
    get = answer(upload, 200, {}, "{}")
    assert (get.method, get.url) == ("GET", "http://store.test/api/upload/1/blob")
    outcome = upload.next_action()
    assert isinstance(outcome, Failed) and outcome.error.code == 502


@pytest.mark.parametrize("offset", [None, "x", "-1", "11"])
def test_an_invalid_upload_offset_fails(offset):
    upload = new_upload()
    created(upload)
    answer(upload, 204, {} if offset is None else {"Upload-Offset": offset})
    outcome = upload.next_action()
    assert isinstance(outcome, Failed) and outcome.error.code == 502


# --- resume ---------------------------------------------------------------------------------------


def test_resume_from_a_remembered_url_heads_then_sends_only_the_rest():
    store = TusStore()
    upload = new_upload(upload_url=ENDPOINT + store.create(len(FILE), FILE[:6]))
    outcome, _ = run(upload, store)
    assert [(r.method, r.file_slice) for r in store.requests] == [("HEAD", None), ("PATCH", (6, 10))]
    assert bytes_sent(store.requests) == 4 < len(FILE)
    assert store.uploads["1"]["data"] == FILE
    assert isinstance(outcome, Done)


def test_a_resumed_upload_starts_its_progress_at_what_the_store_holds():
    upload = new_upload(upload_url=f"{ENDPOINT}7")
    answer(upload, 200, {"Upload-Offset": "6", "Upload-Length": "10"})
    assert upload.progress.percent == pytest.approx(60.0)


@pytest.mark.parametrize("status", [404, 410])
def test_a_remembered_url_the_store_no_longer_has_starts_a_new_upload(status):
    upload = new_upload(upload_url=f"{ENDPOINT}old")
    answer(upload, status)
    assert upload.upload_url is None
    post = answer(upload, 201, {"Location": "/api/upload/new"})
    assert (post.method, post.url) == ("POST", ENDPOINT)
    assert upload.upload_url == f"{ENDPOINT}new"
    assert request(upload).file_slice == (0, 4)


def test_a_remembered_url_of_a_file_of_another_size_starts_a_new_upload():
    upload = new_upload(upload_url=f"{ENDPOINT}old")
    answer(upload, 200, {"Upload-Offset": "3", "Upload-Length": "99"})
    assert request(upload).method == "POST"


def test_a_remembered_url_of_a_finished_upload_fetches_the_blob():
    store = TusStore()
    outcome, _ = run(new_upload(upload_url=ENDPOINT + store.create(len(FILE), FILE)), store)
    assert [r.method for r in store.requests] == ["HEAD", "GET"]
    assert isinstance(outcome, Done)


# --- conflicts, checksums -------------------------------------------------------------------------


def test_a_conflict_waits_then_heads_and_continues_from_the_stores_offset():
    upload = new_upload()
    created(upload)
    answer(upload, 204, {"Upload-Offset": "4"})
    assert answer(upload, 409, {}, "offset mismatch").headers["Upload-Offset"] == "4"
    assert upload.next_action() == Wait(0.5)
    assert answer(upload, 200, {"Upload-Offset": "6", "Upload-Length": "10"}).method == "HEAD"
    patch = request(upload)
    assert (patch.headers["Upload-Offset"], patch.file_slice) == ("6", (6, 10))


def test_every_chunk_carries_the_checksum_the_caller_computed():
    store = TusStore()
    outcome, actions = run(new_upload(checksum_algorithm="sha256"), store)
    asked = [a.file_slice for a in actions if isinstance(a, ComputeChecksum)]
    assert asked == [(0, 4), (4, 8), (8, 10)]
    assert all(a.algorithm == "sha256" for a in actions if isinstance(a, ComputeChecksum))
    patches = [r for r in store.requests if r.method == "PATCH"]
    assert patches[0].headers["Upload-Checksum"] == "sha256 " + base64.b64encode(hashlib.sha256(FILE[:4]).digest()).decode()
    assert isinstance(outcome, Done)


def test_a_checksum_mismatch_resends_the_same_chunk_at_once():
    upload = new_upload(checksum_algorithm="sha256")
    created(upload)
    ask = upload.next_action()
    assert isinstance(ask, ComputeChecksum)
    upload.receive(ask, Checksum(b"\x01\x02"))
    first = answer(upload, 460, {}, "checksum mismatch")
    again = upload.next_action()  # no Wait and no new ComputeChecksum: the file did not change
    assert isinstance(again, Request)
    assert (again.method, again.file_slice, again.headers) == ("PATCH", (0, 4), first.headers)
    assert again.headers["Upload-Checksum"] == "sha256 AQI="


def test_creation_with_upload_carries_the_first_chunks_checksum():
    store = TusStore()
    outcome, actions = run(new_upload(size=3, upload_with_creation=True, checksum_algorithm="sha1"), store, FILE[:3])
    assert isinstance(actions[0], ComputeChecksum) and actions[0].file_slice == (0, 3)
    [post] = store.requests
    assert post.headers["Upload-Checksum"] == "sha1 " + base64.b64encode(hashlib.sha1(FILE[:3]).digest()).decode()
    assert isinstance(outcome, Done) and store.uploads["1"]["data"] == FILE[:3]


def test_a_creation_with_upload_refused_for_its_checksum_is_made_again_at_once():
    upload = new_upload(size=3, upload_with_creation=True, checksum_algorithm="sha256")
    checksum = upload.next_action()
    assert isinstance(checksum, ComputeChecksum)
    upload.receive(checksum, Checksum(b"wrong"))
    refused = answer(upload, 460, {}, "checksum mismatch")
    assert refused.method == "POST"
    again = upload.next_action()
    assert isinstance(again, Request) and (again.method, again.file_slice) == ("POST", (0, 3))


def test_a_checksum_that_keeps_mismatching_fails_after_the_retry_limit():
    upload = new_upload(checksum_algorithm="sha256", retry=RetryPolicy(max_retries=2))
    created(upload)
    ask = upload.next_action()
    assert isinstance(ask, ComputeChecksum)
    upload.receive(ask, Checksum(b"\x00"))
    for _ in range(3):
        answer(upload, 460)
    outcome = upload.next_action()
    assert isinstance(outcome, Failed) and outcome.error.code == 460


# --- retries --------------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_and_jitter_adds_up_to_the_same_again():
    policy = RetryPolicy(base=1.0, cap=8.0, jitter=lambda: 0.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert RetryPolicy(base=1.0, cap=8.0, jitter=lambda: 0.5).delay(3) == 3.0


def test_a_network_error_then_success_waits_the_backoff_delays_and_resyncs():
    jitter = iter([0.5, 0.25])
    upload = new_upload(retry=RetryPolicy(base=2.0, jitter=lambda: next(jitter)))
    created(upload)
    first = request(upload)
    upload.receive(first, NetworkError("connection reset"))
    assert upload.next_action() == Wait(1.5)  # 2 × (1 + 0.5) / 2
    head = request(upload)
    upload.receive(head, NetworkError("connection refused"))
    assert upload.next_action() == Wait(2.5)  # 4 × (1 + 0.25) / 2
    assert answer(upload, 204, {"Upload-Offset": "0"}).method == "HEAD"
    patch = answer(upload, 204, {"Upload-Offset": "4"})
    assert (patch.method, patch.file_slice) == ("PATCH", (0, 4))


def test_a_network_error_during_creation_retries_the_creation():
    upload = new_upload()
    post = request(upload)
    upload.receive(post, NetworkError("offline"))
    assert upload.next_action() == Wait(0.5)
    assert request(upload).method == "POST"


@pytest.mark.parametrize("status", [500, 502, 503, 423])
def test_server_errors_are_retried_up_to_the_limit_then_fail(status):
    upload = new_upload(retry=RetryPolicy(max_retries=3, jitter=lambda: 0.0))
    created(upload)
    answer(upload, status, {}, json.dumps({"code": status, "message": "try later"}))
    waits = []
    for _ in range(3):
        waits.append(upload.next_action())
        answer(upload, status)
    assert waits == [Wait(0.5), Wait(1.0), Wait(2.0)]
    outcome = upload.next_action()
    assert isinstance(outcome, Failed)
    assert (outcome.error.code, outcome.error.message) == (status, f"the store answered {status}")


def test_network_errors_past_the_limit_fail_with_the_reason():
    upload = new_upload(retry=RetryPolicy(max_retries=1, jitter=lambda: 0.0))
    for _ in range(2):
        action = upload.next_action()
        if isinstance(action, Wait):
            action = upload.next_action()
        assert isinstance(action, Request)
        upload.receive(action, NetworkError("offline"))
    outcome = upload.next_action()
    assert isinstance(outcome, Failed)
    assert outcome.error.code == 400 and "offline" in outcome.error.message


def test_the_retry_limit_counts_only_failures_in_a_row_without_progress():
    upload = new_upload(retry=RetryPolicy(max_retries=1, jitter=lambda: 0.0))
    created(upload)
    for offset in (0, 4):
        answer(upload, 503)
        assert upload.next_action() == Wait(0.5)  # a first retry each time: progress reset the count
        answer(upload, 200, {"Upload-Offset": str(offset)})
        answer(upload, 204, {"Upload-Offset": str(offset + 4)})
    assert request(upload).file_slice == (8, 10)


def test_a_patch_the_store_kept_nothing_of_is_retried_not_repeated_forever():
    upload = new_upload()
    created(upload)
    answer(upload, 204, {"Upload-Offset": "0"})
    assert upload.next_action() == Wait(0.5)
    assert request(upload).method == "HEAD"


def test_a_403_with_a_json_message_fails_at_once_with_that_code_and_message():
    upload = new_upload()
    answer(upload, 403, {"Content-Type": "application/json"},
           json.dumps({"code": 403, "message": "The policy does not allow this call"}))
    outcome = upload.next_action()
    assert isinstance(outcome, Failed)
    assert (outcome.error.code, outcome.error.message) == (403, "The policy does not allow this call")
    assert str(outcome.error) == "FPError 403: The policy does not allow this call"


@pytest.mark.parametrize("status, body, message", [
    (400, "ERR_INVALID_METADATA: bad filename\n", "the store answered 400: ERR_INVALID_METADATA: bad filename"),
    (413, "<html><body>Too large</body></html>", "the store answered 413"),
    (404, "", "the store answered 404"),
])
def test_other_4xx_fail_at_once_with_a_plain_text_message_when_there_is_one(status, body, message):
    upload = new_upload()
    created(upload)
    answer(upload, status, {}, body)
    outcome = upload.next_action()
    assert isinstance(outcome, Failed)
    assert (outcome.error.code, outcome.error.message) == (status, message)


# --- progress -------------------------------------------------------------------------------------


def test_progress_counts_acknowledged_bytes_plus_the_request_in_flight():
    upload = new_upload()
    created(upload)
    answer(upload, 204, {"Upload-Offset": "4"})
    patch = request(upload)
    upload.receive(patch, Sent(2))
    assert upload.progress.percent == pytest.approx(60.0)
    assert upload.progress.event()["filename"] == "data.bin"


def test_progress_never_goes_backwards_across_a_retry_that_resends_fewer_bytes():
    upload = new_upload()
    created(upload)
    answer(upload, 204, {"Upload-Offset": "4"})
    patch = request(upload)
    upload.receive(patch, Sent(4))
    assert upload.progress.percent == pytest.approx(80.0)
    upload.receive(patch, NetworkError("reset"))
    upload.next_action()  # Wait
    answer(upload, 200, {"Upload-Offset": "5"})  # the store kept one byte of the lost request
    seen = [upload.progress.percent]
    retry = request(upload)
    assert retry.file_slice == (5, 9)
    for count in (1, 2, 3, 4):
        upload.receive(retry, Sent(count))
        seen.append(upload.progress.percent)
    assert seen == [80.0, 80.0, 80.0, 80.0, pytest.approx(90.0)]


def test_progress_after_a_start_over_does_not_add_new_bytes_on_top_of_the_old_upload():
    upload = new_upload(upload_url=f"{ENDPOINT}old")
    answer(upload, 200, {"Upload-Offset": "6"})
    answer(upload, 503)
    assert upload.next_action() == Wait(0.5)
    answer(upload, 410)  # expired meanwhile
    created(upload)
    patch = request(upload)
    assert patch.file_slice == (0, 4)
    upload.receive(patch, Sent(3))
    assert upload.progress.percent == pytest.approx(60.0)  # still the 6 bytes once held, not 6 + 3
    upload.receive(patch, Sent(4))
    assert upload.progress.percent == pytest.approx(60.0)


def test_progress_is_100_only_once_the_store_holds_every_byte():
    upload = new_upload(size=4)
    created(upload)
    patch = request(upload)
    upload.receive(patch, Sent(4))
    assert upload.progress.percent == 99.0
    upload.receive(patch, Response(204, {"Upload-Offset": "4"}))
    assert upload.progress.percent == 100.0


# --- pause, resume, cancel ------------------------------------------------------------------------


def test_pause_lets_the_request_in_flight_finish_then_resume_heads_first():
    upload = new_upload()
    created(upload)
    patch = request(upload)
    upload.pause()
    upload.receive(patch, Response(204, {"Upload-Offset": "4"}))
    assert upload.next_action() == Paused()
    assert upload.next_action() == Paused()
    assert upload.progress.percent == pytest.approx(40.0)
    upload.resume()
    assert answer(upload, 200, {"Upload-Offset": "4"}).method == "HEAD"
    assert request(upload).file_slice == (4, 8)


def test_a_request_aborted_by_pause_is_not_retried():
    upload = new_upload()
    created(upload)
    patch = request(upload)
    upload.pause()
    upload.receive(patch, NetworkError("aborted"))
    assert upload.next_action() == Paused()
    upload.resume()
    assert request(upload).method == "HEAD"


def test_pause_before_creation_resumes_with_a_creation():
    upload = new_upload()
    upload.pause()
    assert upload.next_action() == Paused()
    upload.resume()
    assert request(upload).method == "POST"


def test_outcomes_of_requests_abandoned_by_resume_are_ignored():
    upload = new_upload()
    created(upload)
    patch = request(upload)
    upload.pause()
    upload.resume()  # before the aborted PATCH reported back
    head = request(upload)
    upload.receive(patch, Response(204, {"Upload-Offset": "4"}))
    assert upload.offset == 0
    upload.receive(head, Response(200, {"Upload-Offset": "2"}))
    assert request(upload).file_slice == (2, 6)


def test_asking_for_the_next_action_before_reporting_the_request_in_flight_is_an_error():
    upload = new_upload()
    request(upload)
    with pytest.raises(RuntimeError):
        upload.next_action()


def test_cancel_sends_a_delete_and_ends_cancelled():
    store = TusStore()
    upload = new_upload()
    created_request = request(upload)
    upload.receive(created_request, store.answer(created_request, FILE))
    patch = request(upload)
    upload.cancel()
    upload.receive(patch, NetworkError("aborted"))  # the caller aborted it: ignored
    delete = request(upload)
    assert (delete.method, delete.url, delete.headers) == ("DELETE", f"{ENDPOINT}1", {"Tus-Resumable": "1.0.0"})
    upload.receive(delete, store.answer(delete, FILE))
    assert upload.next_action() == Cancelled()
    assert store.uploads == {}


def test_cancel_ends_cancelled_even_when_the_delete_fails():
    upload = new_upload()
    created(upload)
    upload.cancel()
    answer(upload, 500)
    assert upload.next_action() == Cancelled()


@pytest.mark.parametrize("started", [False, True])
def test_cancel_without_termination_or_before_creation_sends_nothing(started):
    upload = new_upload(terminate_on_cancel=not started)
    if started:
        created(upload)
    upload.cancel()
    assert upload.next_action() == Cancelled()


def test_a_finished_upload_ignores_pause_resume_and_cancel():
    upload = new_upload(size=0)
    answer(upload, 201, {"Location": "/api/upload/1"}, json.dumps({"url": "u"}))
    for command in (upload.pause, upload.resume, upload.cancel):
        command()
        assert upload.next_action() == Done({"url": "u"})


# --- fingerprint ----------------------------------------------------------------------------------


def test_fingerprint_is_stable_and_changes_with_every_field():
    fields: list[Any] = ["photo.jpg", 1234, 1700000000000, "image/jpeg", ENDPOINT]
    key = fingerprint(*fields)
    assert key == fingerprint(*fields)
    assert key.startswith("pickstore:") and len(key) == len("pickstore:") + 64
    changed = ["photo2.jpg", 1235, 1700000000001, "image/png", "http://other.test/"]
    for index, value in enumerate(changed):
        other = [*fields[:index], value, *fields[index + 1:]]
        assert fingerprint(*other) != key

