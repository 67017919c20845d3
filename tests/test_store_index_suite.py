"""The Index and Locks contracts (store/index.py, store/locks.py) on every kind of index: the
embedded SQLite file and a PostgreSQL database (the `index` fixture runs each test on both). Then,
on PostgreSQL, what several store processes sharing one database rely on: two index objects with a
pool each racing for one claim, one lease or the last place within an app's pending limits get
exactly one winner, and two processes starting at once migrate the schema once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import psycopg
import pytest

from harness.indexes import AnyIndex, IndexUnderTest
from harness.inthread import run_async
from harness.postgres import Postgres
from store.pg_index import MIGRATIONS, PostgresIndex
from store.records import FileRecord, UploadRecord, WholeWrite

FILE = FileRecord("h1", "a.txt", "text/plain", 3, "local", "files", "docs/a.txt", "x" * 64, "demo", 1.0)
UPLOAD = UploadRecord(
    id="u1", app_key="demo", location="local", length=10, offset=0, metadata="", concat="", container="files",
    key="H_a.txt", handle="H", filename="a.txt", mimetype="text/plain", writeable=False, completed=False,
    created=1000.0, expires=2000.0,
)
PLACE = ("local", "files", "k")
RACERS = 8  # requests of each of the two index objects in a race


def upload_record(upload_id: str, key: str = "k", expires: float = 2000.0, **changes: Any) -> UploadRecord:
    return replace(UPLOAD, id=upload_id, key=key, handle="H" + upload_id, expires=expires, **changes)


def write_at(key: str, handle: str, **changes: Any) -> WholeWrite:
    return WholeWrite("local", "files", key, handle, "text/plain", **changes)


# --- the contract, on both kinds -----------------------------------------------------------------


def test_a_file_at_a_taken_key_is_refused_and_the_same_handle_is_updated(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
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
        assert await index.get_file("h1") is None
        assert await index.add_file(other)  # the key is free again

    index.run(run)


def test_an_upload_is_saved_read_back_and_deleted(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
        assert await index.add_upload(UPLOAD) is None
        assert await index.get_upload("u1") == UPLOAD
        moved = replace(UPLOAD, offset=4, completed=True, writeable=True, expires=3000.0, length=5 * 1024**4)
        await index.save_upload(moved)
        assert await index.get_upload("u1") == moved
        await index.delete_upload("u1")
        assert await index.get_upload("u1") is None

    index.run(run)


def test_unfinished_uploads_are_those_not_completed(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
        await index.add_upload(UPLOAD)
        await index.add_upload(upload_record("done", completed=True))
        await index.add_upload(upload_record("partial", concat="partial"))
        assert {upload.id for upload in await index.unfinished_uploads()} == {"u1", "partial"}

    index.run(run)


def test_one_token_holds_a_lease_until_it_is_released_or_runs_out(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
        await index.add_upload(UPLOAD)
        assert await index.take("u1", "a", now=100.0, until=110.0)
        assert await index.take("u1", "a", now=105.0, until=115.0)  # renewed by its holder
        assert not await index.take("u1", "b", now=106.0, until=116.0)
        await index.release("u1", "b")  # not the holder's: nothing changes
        assert not await index.take("u1", "b", now=107.0, until=117.0)
        assert await index.take("u1", "b", now=116.0, until=126.0)  # a's ran out
        await index.release("u1", "b")
        assert await index.take("u1", "c", now=117.0, until=127.0)
        assert not await index.take("gone", "c", now=117.0, until=127.0)  # no such upload

    index.run(run)


def test_a_request_to_stop_reaches_the_holder_and_not_the_next_one(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
        await index.add_upload(UPLOAD)
        await index.want("u1", now=100.5)  # nobody holds it: nobody is asked
        await index.take("u1", "a", now=100.0, until=110.0)
        assert not await index.is_wanted("u1", "a")
        await index.want("u1", now=101.0)
        assert await index.is_wanted("u1", "a")
        assert not await index.is_wanted("u1", "b")
        assert await index.take("u1", "a", now=102.0, until=112.0)  # renewing does not forget it
        assert await index.is_wanted("u1", "a")
        await index.release("u1", "a")
        assert await index.take("u1", "b", now=103.0, until=113.0)
        assert not await index.is_wanted("u1", "b")

    index.run(run)


def test_expired_uploads_are_those_past_their_expiry_that_no_request_holds(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
        await index.add_upload(UPLOAD)  # expires at 2000
        await index.add_upload(replace(UPLOAD, id="held"))
        await index.add_upload(replace(UPLOAD, id="alive", expires=5000.0))
        await index.take("held", "a", now=2500.0, until=2510.0)
        assert [upload.id for upload in await index.expired_uploads(2505.0)] == ["u1"]
        assert {upload.id for upload in await index.expired_uploads(2600.0)} == {"u1", "held"}
        assert len(await index.expired_uploads(2600.0, limit=1)) == 1

    index.run(run)


def test_a_claim_has_one_owner_until_it_lapses_or_is_released(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
        assert await index.claim_key(*PLACE, owner="a", handle="a", until=100.0, now=0.0)
        assert await index.claim_key(*PLACE, owner="a", handle="a", until=100.0, now=1.0)  # again: still a's
        assert not await index.claim_key(*PLACE, owner="b", handle="b", until=100.0, now=50.0)
        assert await index.claim_key(*PLACE, owner="b", handle="b", until=300.0, now=100.0)  # a's lapsed
        await index.release_key(*PLACE, "a")  # not a's any more: b keeps it
        assert not await index.claim_key(*PLACE, owner="c", handle="c", until=400.0, now=200.0)
        await index.release_key(*PLACE, "b")
        # An upload's claim lasts while the upload has not expired, past the claim's own time.
        await index.add_upload(upload_record("u1", "k", expires=1000.0))
        assert await index.claim_key(*PLACE, owner="u1", handle="Hu1", until=10.0, now=300.0)
        assert not await index.claim_key(*PLACE, owner="c", handle="c", until=999.0, now=900.0)
        assert await index.claim_key(*PLACE, owner="c", handle="c", until=2000.0, now=1000.0)
        # A recorded file ends the claims on its key, and holds it against every other handle.
        assert await index.add_file(FileRecord("c", "f", "text/plain", 1, *PLACE, "x" * 64, "demo", 0.0))
        assert not await index.claim_key(*PLACE, owner="d", handle="d", until=9e9, now=0.0)
        assert await index.claim_key(*PLACE, owner="e", handle="c", until=9e9, now=0.0)  # an overwrite of it

    index.run(run)


def test_a_whole_file_writes_claim_keeps_its_intent_until_it_lapses_and_one_caller_takes_it(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
        first, second = write_at("k", "w1"), write_at("k2", "w2", public=True, region="eu-west-1")
        assert await index.claim_key(*PLACE, owner="w1", handle="w1", until=10.0, now=0.0, write=first)
        assert await index.claim_key("local", "files", "k2", owner="w2", handle="w2", until=20.0, now=0.0, write=second)
        # A tus upload's claim carries no intent: nothing to take when it lapses.
        assert await index.claim_key("local", "files", "k3", owner="t", handle="t", until=5.0, now=0.0)
        assert await index.take_lapsed_writes(now=9.0, until=100.0, limit=10) == []
        # Renewed by its writer, with what it wrote once its bytes are whole.
        whole = replace(first, size=3, sha256="z" * 64)
        assert await index.claim_key(*PLACE, owner="w1", handle="w1", until=15.0, now=9.0, write=whole)
        assert await index.take_lapsed_writes(now=12.0, until=100.0, limit=10) == []
        assert await index.take_lapsed_writes(now=15.0, until=100.0, limit=10) == [whole]
        # Taken: renewed for the taker, so that nobody else takes it before `until`.
        assert await index.take_lapsed_writes(now=50.0, until=100.0, limit=10) == [second]
        assert await index.take_lapsed_writes(now=60.0, until=200.0, limit=10) == []
        assert not await index.claim_key(*PLACE, owner="x", handle="x", until=90.0, now=60.0)
        assert len(await index.take_lapsed_writes(now=100.0, until=300.0, limit=1)) == 1
        # Its file recorded, the claim and its intent end.
        assert await index.add_file(FileRecord("w1", "f", "text/plain", 3, *PLACE, "z" * 64, "demo", 0.0))
        assert await index.take_lapsed_writes(now=1000.0, until=2000.0, limit=10) == [second]

    index.run(run)


def test_a_whole_file_overwrite_keeps_its_intent_with_the_claim_on_its_files_key(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
        assert await index.add_file(FileRecord("h", "f", "text/plain", 1, *PLACE, "x" * 64, "demo", 0.0))
        overwrite = write_at("k", "h")
        assert await index.claim_key(*PLACE, owner="h", handle="h", until=10.0, now=0.0, write=overwrite)
        assert await index.take_lapsed_writes(now=10.0, until=20.0, limit=5) == [overwrite]
        assert (await index.find_file(*PLACE)) is not None  # the record stays until the repair decides

    index.run(run)


def test_the_pending_limits_count_an_apps_live_unfinished_uploads(index: IndexUnderTest):
    async def run(index: AnyIndex) -> None:
        assert await index.add_upload(upload_record("a", length=400), within=(3, 1000)) is None
        assert await index.add_upload(upload_record("b", length=500), within=(3, 1000)) is None
        assert await index.add_upload(upload_record("c", length=200), within=(3, 1000)) == (2, 900)  # too many bytes
        assert await index.get_upload("c") is None
        assert await index.add_upload(upload_record("c", length=100), within=(3, 1000)) is None
        assert await index.add_upload(upload_record("d", length=0), within=(3, 1000)) == (3, 1000)  # too many uploads
        # Another app's uploads, completed ones and expired ones do not count.
        assert await index.add_upload(upload_record("e", app_key="other", length=1000), within=(3, 1000)) is None
        await index.save_upload(replace(upload_record("a", length=400), completed=True))
        assert await index.add_upload(upload_record("f", length=400), within=(3, 1000)) is None
        later = upload_record("g", length=1000, created=2000.0, expires=3000.0)  # b, c and f expired at 2000
        assert await index.add_upload(later, within=(1, 1000)) is None
        assert await index.add_upload(upload_record("h", length=10, created=2000.0), within=(1, 10**9)) == (1, 1000)
        assert await index.add_upload(upload_record("i", length=10, created=2000.0)) is None  # no limits given

    index.run(run)


# --- several processes on one PostgreSQL database --------------------------------------------------


def postgresql(postgres: Postgres, url: str) -> IndexUnderTest:
    return IndexUnderTest(postgres.emptied(url))


async def race(first: AnyIndex, second: AnyIndex, attempt) -> list[object]:
    """RACERS attempts through each index object at once, interleaved; their results in order."""
    return list(await asyncio.gather(*(attempt(index, n) for n in range(RACERS) for index in (first, second))))


@pytest.mark.parametrize("round_", range(3))
def test_two_processes_racing_for_one_key_get_one_claim(postgres: Postgres, postgres_db: str, round_: int):
    async def run(first: AnyIndex, second: AnyIndex) -> None:
        for key in ("free", "lapsed", "expired-upload"):
            place = ("local", "files", key)
            if key == "lapsed":
                assert await first.claim_key(*place, owner="dead", handle="dead", until=5.0, now=0.0)
            if key == "expired-upload":
                await first.add_upload(upload_record("dead-upload", key, expires=5.0))
                assert await first.claim_key(*place, owner="dead-upload", handle="H", until=1.0, now=0.0)
            won = await race(first, second, lambda index, n, place=place, key=key: index.claim_key(
                *place, owner=f"{id(index)}-{n}", handle=f"{id(index)}-{n}", until=100.0, now=10.0,
                write=write_at(key, f"{id(index)}-{n}") if n % 2 else None,
            ))
            assert won.count(True) == 1, (key, won)
            winner = won.index(True)
            owner = f"{id((first, second)[winner % 2])}-{winner // 2}"
            assert await second.claim_key(*place, owner=owner, handle=owner, until=100.0, now=11.0)

    postgresql(postgres, postgres_db).run(run, count=2)


@pytest.mark.parametrize("round_", range(3))
def test_two_processes_racing_for_one_lease_get_one_holder(postgres: Postgres, postgres_db: str, round_: int):
    async def run(first: AnyIndex, second: AnyIndex) -> None:
        await first.add_upload(UPLOAD)
        for now in (100.0, 200.0):  # a free lease, then one whose holder died (it ran out at 110)
            tokens = [f"{now}-{n}" for n in range(2 * RACERS)]
            won = await race(first, second, lambda index, n, tokens=tokens, now=now: index.take(
                "u1", tokens[2 * n + (index is second)], now=now, until=now + 10.0
            ))
            assert won.count(True) == 1, won
            holder = tokens[won.index(True)]
            assert await second.take("u1", holder, now=now + 1, until=now + 10.0)  # the holder renews it
            assert not await first.take("u1", "late", now=now + 2, until=now + 10.0)

    postgresql(postgres, postgres_db).run(run, count=2)


@pytest.mark.parametrize("round_", range(3))
def test_two_processes_racing_for_the_last_pending_place_get_one(postgres: Postgres, postgres_db: str, round_: int):
    async def run(first: AnyIndex, second: AnyIndex) -> None:
        assert await first.add_upload(upload_record("existing", length=10), within=(3, 100)) is None
        # Two places left by count: of the 16 racers exactly two get in.
        refused = await race(first, second, lambda index, n: index.add_upload(
            upload_record(f"{id(index)}-{n}", length=10), within=(3, 100)
        ))
        assert sum(answer is None for answer in refused) == 2, refused
        assert len([u for u in await second.unfinished_uploads() if u.app_key == "demo"]) == 3
        # One place left by bytes (90 of 100 would be taken by any two).
        refused = await race(first, second, lambda index, n: index.add_upload(
            upload_record(f"b-{id(index)}-{n}", app_key="bytes", length=60), within=(100, 100)
        ))
        assert sum(answer is None for answer in refused) == 1, refused
        assert sum(u.length for u in await first.unfinished_uploads() if u.app_key == "bytes") == 60

    postgresql(postgres, postgres_db).run(run, count=2)


def test_two_processes_racing_for_lapsed_writes_take_each_once(postgres: Postgres, postgres_db: str):
    async def run(first: AnyIndex, second: AnyIndex) -> None:
        writes = [write_at(f"k{n}", f"w{n}") for n in range(40)]
        for write in writes:
            assert await first.claim_key(*PLACE[:2], write.key, owner=write.handle, handle=write.handle,
                                         until=1.0, now=0.0, write=write)
        taken = await race(first, second, lambda index, n: index.take_lapsed_writes(now=5.0, until=100.0, limit=3))
        keys = [write.key for batch in taken for write in batch]  # type: ignore[attr-defined]
        assert sorted(keys) == sorted({write.key for write in writes}), keys  # each once, none left out

    postgresql(postgres, postgres_db).run(run, count=2)


def test_two_processes_starting_at_once_migrate_the_schema_once(postgres: Postgres, postgres_db: str):
    url = postgres.emptied(postgres_db)

    async def run() -> None:
        indexes = [PostgresIndex(url) for _ in range(4)]
        opened = await asyncio.gather(*(index.open() for index in indexes), return_exceptions=True)
        try:
            assert opened == [None] * len(indexes)
            await indexes[0].add_file(FILE)
            assert await indexes[3].get_file("h1") == FILE
        finally:
            for index in indexes:
                await index.close()
        again = PostgresIndex(url)  # a later start finds nothing to do
        await again.open()
        await again.close()

    run_async(run)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall() == [
            (n,) for n in range(1, len(MIGRATIONS) + 1)
        ]
