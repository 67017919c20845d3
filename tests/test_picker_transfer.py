"""What the tus client decides around the engine (picker/transfer.py, pure CPython): which files go
in their creation request, which checksum is computed ahead, and when the page's storage learns or
forgets an upload's URL."""

from __future__ import annotations

import json

import pytest

from picker.engine import Checksum, ComputeChecksum, Done, Request, Response, Upload
from picker.transfer import WITH_CREATION, KeptUrl, read_ahead, with_creation

ENDPOINT = "http://store.test/api/upload"
BLOB = json.dumps({"url": "http://store.test/api/file/1"})


def upload(size: int = 10, chunk_size: int = 4, checksum: str | None = "sha256", url: str | None = None) -> Upload:
    return Upload(ENDPOINT, "data.bin", "application/octet-stream", size, chunk_size=chunk_size,
                  checksum_algorithm=checksum, upload_url=url, upload_with_creation=with_creation(size, chunk_size))


def answer(request: Request, size: int) -> Response:
    """A tus store that stores every chunk whole, and hands the Blob with the last one."""
    end = request.file_slice[1] if request.file_slice else 0
    headers = {"Upload-Offset": str(end)}
    if request.method == "POST":
        headers["Location"] = "/api/upload/1"
    return Response(201 if request.method == "POST" else 204, headers, BLOB if end == size else "")


@pytest.mark.parametrize("size, chunk_size, expected", [
    (0, 4, True),
    (4, 4, True),
    (5, 4, False),  # more than one chunk: created first, so that a refusal comes before the bytes
    (WITH_CREATION, 8 * WITH_CREATION, True),
    (WITH_CREATION + 1, 8 * WITH_CREATION, False),  # a large chunk still waits for the creation
])
def test_only_a_file_that_fits_one_small_request_goes_in_its_creation(size, chunk_size, expected):
    assert with_creation(size, chunk_size) is expected


def test_the_checksum_computed_ahead_is_the_one_the_engine_asks_for_next():
    tus = upload(size=10)
    ahead: list[tuple[int, int] | None] = []
    asked: list[tuple[int, int]] = []
    while not isinstance(action := tus.next_action(), Done):
        if isinstance(action, ComputeChecksum):
            asked.append(action.file_slice)
            tus.receive(action, Checksum(b"digest"))
        else:
            assert isinstance(action, Request)
            following = read_ahead(tus, action)
            ahead.append(following.file_slice if following else None)
            tus.receive(action, answer(action, tus.size))
    # The creation carries no chunk, so the first checksum cannot be ahead; each chunk's comes
    # while the one before it is sent, and nothing follows the last.
    assert asked == [(0, 4), (4, 8), (8, 10)]
    assert ahead == [None, (4, 8), (8, 10), None]


def test_a_file_sent_whole_with_its_creation_reads_nothing_ahead():
    small = upload(size=2, chunk_size=2)
    first = small.next_action()
    assert isinstance(first, ComputeChecksum)
    small.receive(first, Checksum(b"digest"))
    creation = small.next_action()
    assert isinstance(creation, Request) and creation.file_slice == (0, 2)
    assert read_ahead(small, creation) is None  # the whole file is in it


def test_nothing_is_read_ahead_without_checksums():
    tus = upload(size=10, checksum=None)
    while not isinstance(action := tus.next_action(), Done):
        assert isinstance(action, Request)
        assert read_ahead(tus, action) is None
        tus.receive(action, answer(action, tus.size))


def test_the_upload_url_is_remembered_once_when_created_and_forgotten_when_done():
    tus = upload(size=10, checksum=None)
    kept = KeptUrl(None)
    writes = []
    while not isinstance(action := tus.next_action(), Done):
        assert isinstance(action, Request)
        tus.receive(action, answer(action, tus.size))
        if kept.after_response(tus):
            writes.append(kept.url)
    assert writes == [f"{ENDPOINT}/1"]  # one write for the whole upload, not one per chunk
    assert kept.done() is True
    assert kept.done() is False  # forgotten once


def test_a_file_uploaded_whole_with_its_creation_is_never_remembered():
    tus = upload(size=3, chunk_size=4, checksum=None)
    kept = KeptUrl(None)
    action = tus.next_action()
    assert isinstance(action, Request) and action.file_slice == (0, 3)
    tus.receive(action, answer(action, tus.size))
    assert kept.after_response(tus) is False
    assert kept.done() is False  # nothing was written, nothing to forget


def test_a_remembered_url_the_store_no_longer_knows_is_replaced_by_the_new_one():
    tus = upload(size=10, checksum=None, url=f"{ENDPOINT}/gone")
    kept = KeptUrl(f"{ENDPOINT}/gone")
    head = tus.next_action()
    assert isinstance(head, Request) and head.method == "HEAD"
    tus.receive(head, Response(404, {}, ""))
    assert (kept.after_response(tus), kept.url) == (True, None)  # storage forgets the stale URL
    creation = tus.next_action()
    assert isinstance(creation, Request) and creation.method == "POST"
    tus.receive(creation, answer(creation, tus.size))
    assert (kept.after_response(tus), kept.url) == (True, f"{ENDPOINT}/1")
