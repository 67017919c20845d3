"""The index and the upload leases in PostgreSQL: what store processes on several hosts share. Chosen
by the `index` setting (a postgresql:// URL); every call is async, on a pool of connections.

Every call that the SQLite index makes one transaction is one transaction here too. Where two
processes may race for the same row (a key's claim, an upload's lease, an app's pending uploads) the
statement locks that row (INSERT ... ON CONFLICT, UPDATE, SELECT ... FOR UPDATE), so that exactly one
of them wins and the other sees what the winner committed.

Claims and leases end at a time that the caller's clock gives (`now`, `until`), as in SQLite: the
design accepts that the clocks of the store hosts agree within a second or so (NTP), far less than a
lease's or a claim's length."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import Any

import psycopg
from psycopg import conninfo
from psycopg_pool import AsyncConnectionPool

from .records import FileRecord, UploadRecord, WholeWrite

# Connections one store process keeps open to the database, at least and at most.
POOL_MIN = 1
POOL_MAX = 10
CONNECT_TIMEOUT = 5  # seconds to reach the database at start before the store gives up
# The advisory lock that one starting store process holds while it migrates the schema.
MIGRATION_LOCK = 0x7069636B  # "pick"

_COLUMNS = [f.name for f in fields(FileRecord)]
_FILE_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM files"
_UPLOAD_COLUMNS = [f.name for f in fields(UploadRecord)]
_QUOTED = {c: f'"{c}"' for c in _UPLOAD_COLUMNS}  # "offset" is an SQL keyword
_UPLOAD_SELECT = f"SELECT {', '.join(_QUOTED.values())} FROM uploads"
_PLACE = "location = %s AND container = %s AND key = %s"

# The schema, one migration per version: a store process applies those its database lacks, in
# order, and never changes one that has shipped (a new version adds to the list).
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE files ("
        " handle TEXT PRIMARY KEY, filename TEXT NOT NULL, mimetype TEXT NOT NULL, size BIGINT NOT NULL,"
        " location TEXT NOT NULL, container TEXT NOT NULL, key TEXT NOT NULL, sha256 TEXT NOT NULL,"
        " app_key TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, public BOOLEAN NOT NULL DEFAULT FALSE,"
        " region TEXT)",
        # One file per key: add_file refuses a second, and two racing processes cannot both record one.
        "CREATE UNIQUE INDEX files_by_key ON files (location, container, key)",
        # Keys reserved by uploads under way: one owner per key (see Index.claim_key); intent is the
        # WholeWrite (as JSON) of a whole-file write holding the claim, NULL for a tus upload's.
        "CREATE TABLE claims ("
        " location TEXT NOT NULL, container TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,"
        " until DOUBLE PRECISION NOT NULL, intent TEXT, PRIMARY KEY (location, container, key))",
        "CREATE INDEX claims_lapsing ON claims (until) WHERE intent IS NOT NULL",
        # lock_token/lock_until: the lease of the one request that may change the upload;
        # lock_wanted: another request asked its holder to stop.
        "CREATE TABLE uploads ("
        ' id TEXT PRIMARY KEY, app_key TEXT NOT NULL, location TEXT NOT NULL, length BIGINT NOT NULL,'
        ' "offset" BIGINT NOT NULL, metadata TEXT NOT NULL, concat TEXT NOT NULL, container TEXT NOT NULL,'
        " key TEXT NOT NULL, handle TEXT NOT NULL, filename TEXT NOT NULL, mimetype TEXT NOT NULL,"
        " writeable BOOLEAN NOT NULL, completed BOOLEAN NOT NULL, created DOUBLE PRECISION NOT NULL,"
        " expires DOUBLE PRECISION NOT NULL, lock_token TEXT, lock_until DOUBLE PRECISION,"
        " lock_wanted DOUBLE PRECISION)",
        "CREATE INDEX uploads_pending ON uploads (app_key, expires) WHERE NOT completed",
        "CREATE INDEX uploads_expiring ON uploads (expires)",
        # One row per app with uploads: the row that add_upload locks while it counts the app's
        # pending uploads, so that two processes cannot both take the last place.
        "CREATE TABLE upload_apps (app_key TEXT PRIMARY KEY)",
    ],
]


class IndexUnavailable(RuntimeError):
    """The `index` setting names a database that the store cannot reach or use."""


def check_url(url: str) -> None:
    """ValueError, naming the setting, for an `index` URL that libpq cannot read."""
    try:
        conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"index: {shown(url)} is not a PostgreSQL URL libpq can read: {exc}") from None


async def reach(url: str) -> None:
    """IndexUnavailable, naming the setting, unless the database at `url` answers within
    CONNECT_TIMEOUT (`pickstore serve` asks before it starts any worker)."""
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
            await conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise IndexUnavailable(f"index: cannot use the PostgreSQL database at {shown(url)}: {exc}") from None


def shown(url: str) -> str:
    """The database a URL names, its password left out, for messages and logs."""
    try:
        params = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the URL given"
    params.pop("password", None)
    return repr(conninfo.make_conninfo("", **params))


class PostgresIndex:
    """An Index (store.index) and the Locks (store.locks) of its uploads, in one PostgreSQL
    database. `open` (at the store's start) reaches the database, migrates its schema and opens the
    pool; `close` closes it."""

    def __init__(self, url: str) -> None:
        check_url(url)
        self._url = url
        self._pool: AsyncConnectionPool | None = None

    async def open(self) -> None:
        try:
            async with await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            ) as conn:
                await migrate(conn)
        except psycopg.Error as exc:
            raise IndexUnavailable(f"index: cannot use the PostgreSQL database at {shown(self._url)}: {exc}") from None
        self._pool = AsyncConnectionPool(
            self._url, min_size=POOL_MIN, max_size=POOL_MAX, open=False,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
        )
        await self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @property
    def pool(self) -> AsyncConnectionPool:
        if self._pool is None:
            raise RuntimeError("the PostgreSQL index is used before it was opened")
        return self._pool

    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        """One statement, its own transaction; the number of rows it changed."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            return await cursor.fetchall()

    # --- files -----------------------------------------------------------------------------------

    async def add_file(self, record: FileRecord) -> bool:
        place = (record.location, record.container, record.key)
        values = asdict(record)
        try:
            async with self.pool.connection() as conn, conn.transaction():
                # The key's claim row, locked if there is one: a claim and a record of the same key
                # wait for each other.
                await conn.execute(f"SELECT 1 FROM claims WHERE {_PLACE} FOR UPDATE", place)
                await conn.execute("DELETE FROM files WHERE handle = %s", (record.handle,))
                inserted = await conn.execute(
                    f"INSERT INTO files ({', '.join(_COLUMNS)}) VALUES ({', '.join('%s' for _ in _COLUMNS)})"
                    " ON CONFLICT (location, container, key) DO NOTHING",
                    [values[c] for c in _COLUMNS],
                )
                if inserted.rowcount != 1:  # another handle holds the key: the delete is undone
                    raise _Refused
                await conn.execute(f"DELETE FROM claims WHERE {_PLACE}", place)
        except _Refused:
            return False
        return True

    async def get_file(self, handle: str) -> FileRecord | None:
        return await self._file("handle = %s", handle)

    async def find_file(self, location: str, container: str, key: str) -> FileRecord | None:
        return await self._file(_PLACE, location, container, key)

    async def _file(self, where: str, *params: str) -> FileRecord | None:
        rows = await self._fetch(f"{_FILE_SELECT} WHERE {where}", params)
        return FileRecord(*rows[0]) if rows else None

    async def delete_file(self, handle: str) -> None:
        await self._execute("DELETE FROM files WHERE handle = %s", (handle,))

    async def claim_key(
        self, location: str, container: str, key: str, *, owner: str, handle: str, until: float, now: float,
        write: WholeWrite | None = None,
    ) -> bool:
        place = (location, container, key)
        intent = json.dumps(asdict(write)) if write is not None else None
        async with self.pool.connection() as conn, conn.transaction():
            # The file recorded there, locked so that it stays (or stays away) until this commits.
            recorded = [row[0] for row in await (await conn.execute(
                f"SELECT handle FROM files WHERE {_PLACE} FOR UPDATE", place
            )).fetchall()]
            if recorded and handle not in recorded:
                return False
            if recorded and write is None:
                return True  # a tus upload overwriting the file: its upload's record says what it does
            # A claim ends at its time, or with its upload's expiry when an upload holds it.
            await conn.execute(
                f"DELETE FROM claims WHERE {_PLACE} AND owner != %s AND until <= %s"
                " AND owner NOT IN (SELECT id FROM uploads WHERE expires > %s)",
                [*place, owner, now, now],
            )
            # Of two processes inserting at once, the second waits for the first and then finds
            # the row taken: the update below applies to the claim's own owner only.
            await conn.execute(
                "INSERT INTO claims (location, container, key, owner, until, intent) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (location, container, key) DO UPDATE SET until = GREATEST(claims.until, excluded.until),"
                " intent = COALESCE(excluded.intent, claims.intent) WHERE claims.owner = excluded.owner",
                [*place, owner, until, intent],
            )
            held = await (await conn.execute(f"SELECT owner FROM claims WHERE {_PLACE}", place)).fetchall()
            return bool(held) and held[0][0] == owner

    async def take_lapsed_writes(self, now: float, until: float, limit: int) -> list[WholeWrite]:
        # One statement: the rows another process is taking at this moment are skipped, the others
        # renewed for the caller before anyone else can see them lapsed.
        rows = await self._fetch(
            "UPDATE claims SET until = %s FROM ("
            " SELECT location, container, key FROM claims WHERE intent IS NOT NULL AND until <= %s"
            " LIMIT %s FOR UPDATE SKIP LOCKED) AS lapsed"
            " WHERE claims.location = lapsed.location AND claims.container = lapsed.container"
            " AND claims.key = lapsed.key RETURNING claims.intent",
            (until, now, limit),
        )
        return [WholeWrite(**json.loads(row[0])) for row in rows]

    async def release_key(self, location: str, container: str, key: str, owner: str) -> None:
        await self._execute(f"DELETE FROM claims WHERE {_PLACE} AND owner = %s", (location, container, key, owner))

    # --- resumable uploads -----------------------------------------------------------------------

    async def add_upload(self, upload: UploadRecord, *, within: tuple[int, int] | None = None) -> tuple[int, int] | None:
        values = asdict(upload)
        async with self.pool.connection() as conn, conn.transaction():
            if within is not None:
                # The app's row, locked until this commits: another process adding one of the
                # app's uploads waits here, then counts this one too.
                await conn.execute(
                    "INSERT INTO upload_apps (app_key) VALUES (%s)"
                    " ON CONFLICT (app_key) DO UPDATE SET app_key = excluded.app_key",
                    (upload.app_key,),
                )
                row = await (await conn.execute(
                    "SELECT COUNT(*), COALESCE(SUM(length), 0) FROM uploads"
                    " WHERE app_key = %s AND NOT completed AND expires > %s",
                    (upload.app_key, upload.created),
                )).fetchone()
                assert row is not None
                pending, pending_bytes = int(row[0]), int(row[1])
                if pending >= within[0] or pending_bytes + upload.length > within[1]:
                    return pending, pending_bytes
            await conn.execute(
                f"INSERT INTO uploads ({', '.join(_QUOTED.values())}) VALUES ({', '.join('%s' for _ in _UPLOAD_COLUMNS)})",
                [values[c] for c in _UPLOAD_COLUMNS],
            )
        return None

    async def get_upload(self, upload_id: str) -> UploadRecord | None:
        rows = await self._fetch(f"{_UPLOAD_SELECT} WHERE id = %s", (upload_id,))
        return UploadRecord(*rows[0]) if rows else None

    async def save_upload(self, upload: UploadRecord) -> None:
        values = asdict(upload)
        columns = [c for c in _UPLOAD_COLUMNS if c != "id"]
        await self._execute(
            f"UPDATE uploads SET {', '.join(f'{_QUOTED[c]} = %s' for c in columns)} WHERE id = %s",
            [values[c] for c in columns] + [upload.id],
        )

    async def delete_upload(self, upload_id: str) -> None:
        await self._execute("DELETE FROM uploads WHERE id = %s", (upload_id,))

    async def unfinished_uploads(self) -> list[UploadRecord]:
        rows = await self._fetch(f"{_UPLOAD_SELECT} WHERE NOT completed", ())
        return [UploadRecord(*row) for row in rows]

    async def expired_uploads(self, now: float, limit: int | None = None) -> list[UploadRecord]:
        rows = await self._fetch(
            f"{_UPLOAD_SELECT} WHERE expires <= %s AND (lock_until IS NULL OR lock_until < %s) LIMIT %s",
            (now, now, limit),  # LIMIT NULL: no limit
        )
        return [UploadRecord(*row) for row in rows]

    # --- upload leases (store.locks) -------------------------------------------------------------

    async def take(self, upload_id: str, token: str, now: float, until: float) -> bool:
        # One UPDATE of the upload's row: of two processes taking the lease at once, the second
        # waits for the first's row lock, then finds the lease held and changes nothing.
        changed = await self._execute(
            # A request that wanted the lease asked its former holder to stop, not this one.
            "UPDATE uploads SET lock_token = %s, lock_until = %s,"
            " lock_wanted = CASE WHEN lock_token IS NOT DISTINCT FROM %s THEN lock_wanted END"
            " WHERE id = %s AND (lock_token IS NULL OR lock_token = %s OR lock_until < %s)",
            (token, until, token, upload_id, token, now),
        )
        return changed == 1

    async def want(self, upload_id: str, now: float) -> None:
        await self._execute("UPDATE uploads SET lock_wanted = %s WHERE id = %s AND lock_token IS NOT NULL", (now, upload_id))

    async def is_wanted(self, upload_id: str, token: str) -> bool:
        rows = await self._fetch(
            "SELECT lock_wanted IS NOT NULL FROM uploads WHERE id = %s AND lock_token = %s", (upload_id, token)
        )
        return bool(rows and rows[0][0])

    async def release(self, upload_id: str, token: str) -> None:
        await self._execute(
            "UPDATE uploads SET lock_token = NULL, lock_until = NULL WHERE id = %s AND lock_token = %s", (upload_id, token)
        )


class _Refused(Exception):
    """Rolls back add_file's transaction when another handle holds the key."""


async def migrate(conn: psycopg.AsyncConnection[Any]) -> int:
    """Bring the schema up to the last of MIGRATIONS, in one transaction under an advisory lock: of
    two store processes starting at once, the second waits and then finds nothing left to do. The
    schema's version afterwards."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = await (await conn.execute("SELECT MAX(version) FROM schema_version")).fetchone()
        version = row[0] if row and row[0] is not None else 0
        if version > len(MIGRATIONS):
            raise IndexUnavailable(
                f"index: the database's schema is version {version}, newer than this store knows"
                f" ({len(MIGRATIONS)}): run the newer store"
            )
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in statements:
                await conn.execute(statement)
            await conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        return len(MIGRATIONS)
