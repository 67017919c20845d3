"""The SQLite index against the Index and Locks contracts (store/index.py, store/locks.py): what any
index a store process shares must do, checked on the embedded one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from harness.inthread import run_async
from store.records import FileRecord, UploadRecord
from store.sqlite_index import SQLiteIndex

FILE = FileRecord("h1", "a.txt", "text/plain", 3, "local", "files", "docs/a.txt", "x" * 64, "demo", 1.0)
UPLOAD = UploadRecord(
    id="u1", app_key="demo", location="local", length=10, offset=0, metadata="", concat="", container="files",
    key="H_a.txt", handle="H", filename="a.txt", mimetype="text/plain", writeable=False, completed=False,
    created=1000.0, expires=2000.0,
)


def test_a_file_at_a_taken_key_is_refused_and_the_same_handle_is_updated(tmp_path):
    async def run(index: SQLiteIndex) -> None:
        assert await index.add_file(FILE)
        other = replace(FILE, handle="h2", size=5, sha256="y" * 64)
        assert not await index.add_file(other)
        assert await index.get_file("h2") is None
        assert await index.find_file("local", "files", "docs/a.txt") == FILE
        updated = replace(FILE, size=5, sha256="y" * 64, public=True, region="eu-west-1")
        assert await index.add_file(updated)
        assert await index.get_file("h1") == updated
        assert await index.find_file("local", "files", "docs/a.txt") == updated
        await index.delete_file("h1")
        assert await index.find_file("local", "files", "docs/a.txt") is None

    with_index(tmp_path, run)


def test_an_upload_is_saved_read_back_and_deleted(tmp_path):
    async def run(index: SQLiteIndex) -> None:
        await index.add_upload(UPLOAD)
        moved = replace(UPLOAD, offset=4, completed=True, writeable=True, expires=3000.0)
        await index.save_upload(moved)
        assert await index.get_upload("u1") == moved
        await index.delete_upload("u1")
        assert await index.get_upload("u1") is None

    with_index(tmp_path, run)


def test_one_token_holds_a_lease_until_it_is_released_or_runs_out(tmp_path):
    async def run(index: SQLiteIndex) -> None:
        await index.add_upload(UPLOAD)
        assert await index.take("u1", "a", now=100.0, until=110.0)
        assert await index.take("u1", "a", now=105.0, until=115.0)  # renewed by its holder
        assert not await index.take("u1", "b", now=106.0, until=116.0)
        await index.release("u1", "b")  # not the holder's: nothing changes
        assert not await index.take("u1", "b", now=107.0, until=117.0)
        assert await index.take("u1", "b", now=116.0, until=126.0)  # a's ran out
        await index.release("u1", "b")
        assert await index.take("u1", "c", now=117.0, until=127.0)

    with_index(tmp_path, run)


def test_a_request_to_stop_reaches_the_holder_and_not_the_next_one(tmp_path):
    async def run(index: SQLiteIndex) -> None:
        await index.add_upload(UPLOAD)
        await index.take("u1", "a", now=100.0, until=110.0)
        assert not await index.is_wanted("u1", "a")
        await index.want("u1", now=101.0)
        assert await index.is_wanted("u1", "a")
        assert await index.take("u1", "a", now=102.0, until=112.0)  # renewing does not forget it
        assert await index.is_wanted("u1", "a")
        await index.release("u1", "a")
        assert await index.take("u1", "b", now=103.0, until=113.0)
        assert not await index.is_wanted("u1", "b")

    with_index(tmp_path, run)


def test_expired_uploads_are_those_past_their_expiry_that_no_request_holds(tmp_path):
    async def run(index: SQLiteIndex) -> None:
        await index.add_upload(UPLOAD)  # expires at 2000
        await index.add_upload(replace(UPLOAD, id="held"))
        await index.add_upload(replace(UPLOAD, id="alive", expires=5000.0))
        await index.take("held", "a", now=2500.0, until=2510.0)
        assert [upload.id for upload in await index.expired_uploads(2505.0)] == ["u1"]
        assert {upload.id for upload in await index.expired_uploads(2600.0)} == {"u1", "held"}

    with_index(tmp_path, run)


def with_index(tmp_path: Path, check: Callable[[SQLiteIndex], Awaitable[None]]) -> None:
    async def run() -> None:
        index = SQLiteIndex(tmp_path / "index.sqlite3")
        try:
            await check(index)
        finally:
            await index.close()

    run_async(run)
