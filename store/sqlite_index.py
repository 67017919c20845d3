"""The index and the upload leases in one SQLite file: the store's embedded default, which store
processes on one host share."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from .records import FileRecord, UploadRecord, WholeWrite

T = TypeVar("T")
# How long a write waits for another store process's write to end before it fails.
BUSY_TIMEOUT = 5.0

_COLUMNS = [f.name for f in fields(FileRecord)]
# Columns added since the first index: an older index gains them, with the values its files had.
_ADDED_COLUMNS = {"public": "INTEGER NOT NULL DEFAULT 0", "region": "TEXT"}
_FILE_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM files"

_UPLOAD_COLUMNS = [f.name for f in fields(UploadRecord)]
_QUOTED = {c: f'"{c}"' for c in _UPLOAD_COLUMNS}  # "offset" is an SQL keyword
_UPLOAD_SELECT = f"SELECT {', '.join(_QUOTED.values())} FROM uploads"

Statement = tuple[str, Sequence[Any]]


class SQLiteIndex:
    """An Index (store.index) and the Locks (store.locks) of its uploads. SQLite blocks, on the disk
    and on another process's write for up to BUSY_TIMEOUT, and the event loop must not: every call
    runs in one thread of the index's own, which alone holds the connection (and so also keeps the
    calls in order)."""

    def __init__(self, path: Path) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-index")
        self._thread.submit(self._open, path).result()

    # --- in the index's thread -------------------------------------------------------------------

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS files ("
            "handle TEXT PRIMARY KEY, filename TEXT NOT NULL, mimetype TEXT NOT NULL,"
            "size INTEGER NOT NULL, location TEXT NOT NULL, container TEXT NOT NULL,"
            "key TEXT NOT NULL, sha256 TEXT NOT NULL, app_key TEXT NOT NULL, created REAL NOT NULL,"
            f"{', '.join(f'{name} {kind}' for name, kind in _ADDED_COLUMNS.items())})"
        )
        self._add_columns("files", _ADDED_COLUMNS)
        # Files are found by their key too: when a new file would go there, and by public URL.
        self._db.execute("CREATE INDEX IF NOT EXISTS files_by_key ON files (location, container, key)")
        # Keys reserved by uploads under way: one owner per key (see Index.claim_key).
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS claims (location TEXT NOT NULL, container TEXT NOT NULL, key TEXT NOT NULL,"
            " owner TEXT NOT NULL, until REAL NOT NULL, PRIMARY KEY (location, container, key))"
        )
        # intent: the WholeWrite (as JSON) of a whole-file write holding the claim; NULL for a tus upload's.
        self._add_columns("claims", {"intent": "TEXT"})
        # lock_token/lock_until: a lease held by the one request that may change the upload.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS uploads ("
            "id TEXT PRIMARY KEY, app_key TEXT NOT NULL, location TEXT NOT NULL, length INTEGER NOT NULL,"
            '"offset" INTEGER NOT NULL, metadata TEXT NOT NULL, concat TEXT NOT NULL, container TEXT NOT NULL,'
            "key TEXT NOT NULL, handle TEXT NOT NULL, filename TEXT NOT NULL, mimetype TEXT NOT NULL,"
            "writeable INTEGER NOT NULL, completed INTEGER NOT NULL, created REAL NOT NULL, expires REAL NOT NULL,"
            "lock_token TEXT, lock_until REAL)"
        )
        # lock_wanted: another request asked the lease's holder to stop (when it took the lease).
        self._add_columns("uploads", {"lock_wanted": "REAL"})

    def _add_columns(self, table: str, columns: dict[str, str]) -> None:
        """Columns that indexes made by an older store lack, added to them (name: SQL type)."""
        present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in present:
                try:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError as exc:  # another store process, starting too, added it
                    if "duplicate column" not in str(exc):
                        raise

    def _execute(self, *statements: Statement) -> int:
        """Run the statements as one transaction; the number of rows the last one changed."""
        if len(statements) == 1:
            return self._db.execute(*statements[0]).rowcount
        return self._transaction(lambda: [self._db.execute(*statement).rowcount for statement in statements][-1])

    def _transaction(self, work: Callable[[], T]) -> T:
        """`work` as one transaction that no other store process's write can interleave."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = work()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self._db.execute(sql, params).fetchall()

    def _close(self) -> None:
        self._db.close()

    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, call, *args)

    # --- files -----------------------------------------------------------------------------------

    def _other_file(self, place: Sequence[str], handle: str) -> bool:
        return bool(self._fetch(
            "SELECT 1 FROM files WHERE location = ? AND container = ? AND key = ? AND handle != ?", [*place, handle]
        ))

    def _put_file(self, record: FileRecord) -> bool:
        place = (record.location, record.container, record.key)
        if self._other_file(place, record.handle):
            return False
        values = asdict(record)
        self._db.execute("DELETE FROM files WHERE handle = ?", (record.handle,))
        self._db.execute(
            f"INSERT INTO files ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})",
            [values[c] for c in _COLUMNS],
        )
        self._db.execute("DELETE FROM claims WHERE location = ? AND container = ? AND key = ?", place)
        return True

    def _claim(self, place: Sequence[str], owner: str, handle: str, until: float, now: float,
               write: WholeWrite | None) -> bool:
        recorded = [row[0] for row in self._fetch(
            "SELECT handle FROM files WHERE location = ? AND container = ? AND key = ?", place
        )]
        if recorded and handle not in recorded:
            return False
        if recorded and write is None:
            return True  # a tus upload overwriting the file: its upload's record says what it does
        # A claim ends at its time, or with its upload's expiry when an upload holds it.
        self._db.execute(
            "DELETE FROM claims WHERE location = ? AND container = ? AND key = ? AND owner != ? AND until <= ?"
            " AND owner NOT IN (SELECT id FROM uploads WHERE expires > ?)",
            [*place, owner, now, now],
        )
        intent = json.dumps(asdict(write)) if write is not None else None
        self._db.execute(
            "INSERT INTO claims (location, container, key, owner, until, intent) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (location, container, key) DO UPDATE SET until = MAX(until, excluded.until),"
            " intent = COALESCE(excluded.intent, intent) WHERE owner = excluded.owner",
            [*place, owner, until, intent],
        )
        held = self._fetch("SELECT owner FROM claims WHERE location = ? AND container = ? AND key = ?", place)
        return bool(held) and held[0][0] == owner

    def _take_lapsed(self, now: float, until: float, limit: int) -> list[WholeWrite]:
        rows = self._fetch(
            "SELECT location, container, key, owner, intent FROM claims WHERE intent IS NOT NULL AND until <= ?"
            " LIMIT ?", (now, limit),
        )
        for location, container, key, owner, _ in rows:
            self._db.execute(
                "UPDATE claims SET until = ? WHERE location = ? AND container = ? AND key = ? AND owner = ?",
                (until, location, container, key, owner),
            )
        return [WholeWrite(**json.loads(row[4])) for row in rows]

    async def add_file(self, record: FileRecord) -> bool:
        return await self._run(self._transaction, lambda: self._put_file(record))

    async def claim_key(
        self, location: str, container: str, key: str, *, owner: str, handle: str, until: float, now: float,
        write: WholeWrite | None = None,
    ) -> bool:
        place = (location, container, key)
        return await self._run(self._transaction, lambda: self._claim(place, owner, handle, until, now, write))

    async def take_lapsed_writes(self, now: float, until: float, limit: int) -> list[WholeWrite]:
        return await self._run(self._transaction, lambda: self._take_lapsed(now, until, limit))

    async def release_key(self, location: str, container: str, key: str, owner: str) -> None:
        await self._run(self._execute, (
            "DELETE FROM claims WHERE location = ? AND container = ? AND key = ? AND owner = ?",
            (location, container, key, owner),
        ))

    async def get_file(self, handle: str) -> FileRecord | None:
        return await self._file("handle = ?", handle)

    async def find_file(self, location: str, container: str, key: str) -> FileRecord | None:
        return await self._file("location = ? AND container = ? AND key = ?", location, container, key)

    async def _file(self, where: str, *params: str) -> FileRecord | None:
        rows = await self._run(self._fetch, f"{_FILE_SELECT} WHERE {where}", params)
        if not rows:
            return None
        record = FileRecord(*rows[0])
        return replace(record, public=bool(record.public))  # SQLite hands booleans back as integers

    async def delete_file(self, handle: str) -> None:
        await self._run(self._execute, ("DELETE FROM files WHERE handle = ?", (handle,)))

    # --- resumable uploads -----------------------------------------------------------------------

    def _pending(self, app_key: str, now: float) -> tuple[int, int]:
        rows = self._fetch(
            "SELECT COUNT(*), COALESCE(SUM(length), 0) FROM uploads WHERE app_key = ? AND NOT completed AND expires > ?",
            (app_key, now),
        )
        return int(rows[0][0]), int(rows[0][1])

    def _put_upload(self, upload: UploadRecord, within: tuple[int, int] | None) -> tuple[int, int] | None:
        if within is not None:
            pending, pending_bytes = self._pending(upload.app_key, upload.created)
            if pending >= within[0] or pending_bytes + upload.length > within[1]:
                return pending, pending_bytes
        values = asdict(upload)
        self._db.execute(
            f"INSERT INTO uploads ({', '.join(_QUOTED.values())}) VALUES ({', '.join('?' for _ in _UPLOAD_COLUMNS)})",
            [values[c] for c in _UPLOAD_COLUMNS],
        )
        return None

    async def add_upload(self, upload: UploadRecord, *, within: tuple[int, int] | None = None) -> tuple[int, int] | None:
        return await self._run(self._transaction, lambda: self._put_upload(upload, within))

    async def get_upload(self, upload_id: str) -> UploadRecord | None:
        rows = await self._run(self._fetch, f"{_UPLOAD_SELECT} WHERE id = ?", (upload_id,))
        return _upload(rows[0]) if rows else None

    async def save_upload(self, upload: UploadRecord) -> None:
        values = asdict(upload)
        columns = [c for c in _UPLOAD_COLUMNS if c != "id"]
        await self._run(self._execute, (
            f"UPDATE uploads SET {', '.join(f'{_QUOTED[c]} = ?' for c in columns)} WHERE id = ?",
            [values[c] for c in columns] + [upload.id],
        ))

    async def delete_upload(self, upload_id: str) -> None:
        await self._run(self._execute, ("DELETE FROM uploads WHERE id = ?", (upload_id,)))

    async def unfinished_uploads(self) -> list[UploadRecord]:
        rows = await self._run(self._fetch, f"{_UPLOAD_SELECT} WHERE completed = 0", ())
        return [_upload(row) for row in rows]

    async def expired_uploads(self, now: float, limit: int | None = None) -> list[UploadRecord]:
        rows = await self._run(
            self._fetch, f"{_UPLOAD_SELECT} WHERE expires <= ? AND (lock_until IS NULL OR lock_until < ?) LIMIT ?",
            (now, now, -1 if limit is None else limit),
        )
        return [_upload(row) for row in rows]

    # --- upload leases (store.locks) -------------------------------------------------------------

    async def take(self, upload_id: str, token: str, now: float, until: float) -> bool:
        changed = await self._run(self._execute, (
            # A request that wanted the lease asked its former holder to stop, not this one.
            "UPDATE uploads SET lock_token = ?, lock_until = ?,"
            " lock_wanted = CASE WHEN lock_token IS ? THEN lock_wanted END"
            " WHERE id = ? AND (lock_token IS NULL OR lock_token = ? OR lock_until < ?)",
            (token, until, token, upload_id, token, now),
        ))
        return changed == 1

    async def want(self, upload_id: str, now: float) -> None:
        await self._run(self._execute, (
            "UPDATE uploads SET lock_wanted = ? WHERE id = ? AND lock_token IS NOT NULL", (now, upload_id)
        ))

    async def is_wanted(self, upload_id: str, token: str) -> bool:
        rows = await self._run(
            self._fetch, "SELECT lock_wanted IS NOT NULL FROM uploads WHERE id = ? AND lock_token = ?", (upload_id, token)
        )
        return bool(rows and rows[0][0])

    async def release(self, upload_id: str, token: str) -> None:
        await self._run(self._execute, (
            "UPDATE uploads SET lock_token = NULL, lock_until = NULL WHERE id = ? AND lock_token = ?", (upload_id, token)
        ))

    async def close(self) -> None:
        await self._run(self._close)
        self._thread.shutdown()


def _upload(row: tuple[Any, ...]) -> UploadRecord:
    upload = UploadRecord(*row)
    # SQLite hands booleans back as integers.
    return replace(upload, writeable=bool(upload.writeable), completed=bool(upload.completed))
