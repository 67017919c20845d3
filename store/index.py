"""The metadata index: one record per stored file, found by its handle, and the state of each
resumable upload, where every store process finds it. SQLite by default."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .backends import storage_options


@dataclass(frozen=True)
class FileRecord:
    handle: str
    filename: str
    mimetype: str
    size: int
    location: str
    container: str
    key: str
    sha256: str
    app_key: str
    created: float
    # As the file was stored (access 'public', storeRegion): reading, overwriting and removing it
    # go to the same place, and an overwrite keeps it public.
    public: bool = False
    region: str | None = None

    @property
    def access(self) -> str:
        return "public" if self.public else "private"

    @property
    def storage_options(self) -> dict[str, Any]:
        return storage_options(self.public, self.region)


_COLUMNS = [f.name for f in fields(FileRecord)]
# Columns added since the first index: an older index gains them, with the values its files had.
_ADDED_COLUMNS = {"public": "INTEGER NOT NULL DEFAULT 0", "region": "TEXT"}


@dataclass(frozen=True)
class UploadRecord:
    """A resumable (tus) upload. The destination fields (container, key, handle, filename,
    mimetype) are empty for a partial upload, which never becomes a file of its own."""

    id: str
    app_key: str
    location: str
    length: int
    offset: int
    metadata: str  # the Upload-Metadata header as the client sent it, echoed on HEAD
    concat: str  # "", "partial", or the Upload-Concat header of a final upload
    container: str
    key: str
    handle: str
    filename: str
    mimetype: str
    writeable: bool
    completed: bool  # every byte arrived and, unless partial, the file is stored and recorded
    created: float
    expires: float

    @property
    def partial(self) -> bool:
        return self.concat == "partial"

    @property
    def final(self) -> bool:
        return self.concat.startswith("final;")


_UPLOAD_COLUMNS = [f.name for f in fields(UploadRecord)]
_QUOTED = {c: f'"{c}"' for c in _UPLOAD_COLUMNS}  # "offset" is an SQL keyword
_UPLOAD_SELECT = f"SELECT {', '.join(_QUOTED.values())} FROM uploads"


class SQLiteIndex:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS files ("
            "handle TEXT PRIMARY KEY, filename TEXT NOT NULL, mimetype TEXT NOT NULL,"
            "size INTEGER NOT NULL, location TEXT NOT NULL, container TEXT NOT NULL,"
            "key TEXT NOT NULL, sha256 TEXT NOT NULL, app_key TEXT NOT NULL, created REAL NOT NULL,"
            f"{', '.join(f'{name} {kind}' for name, kind in _ADDED_COLUMNS.items())})"
        )
        self._add_columns("files", _ADDED_COLUMNS)
        # Files are found by their key too: when a new file replaces one, and by public URL.
        self._db.execute("CREATE INDEX IF NOT EXISTS files_by_key ON files (location, container, key)")
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

    def add(self, record: FileRecord) -> None:
        """Record a stored file. A file stored at an exact path replaces what was there, so older
        records of that key are dropped: their handles would otherwise serve the new bytes under
        the old size and checksum."""
        values = asdict(record)
        with self._lock:
            self._db.execute(
                "DELETE FROM files WHERE location = ? AND container = ? AND key = ?",
                (record.location, record.container, record.key),
            )
            self._db.execute(
                f"INSERT INTO files ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})",
                [values[c] for c in _COLUMNS],
            )

    def get(self, handle: str) -> FileRecord | None:
        return self._file("handle = ?", handle)

    def find(self, location: str, container: str, key: str) -> FileRecord | None:
        """The file stored at a key."""
        return self._file("location = ? AND container = ? AND key = ?", location, container, key)

    def _file(self, where: str, *params: str) -> FileRecord | None:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM files WHERE {where}", params).fetchone()
        if row is None:
            return None
        record = FileRecord(*row)
        return replace(record, public=bool(record.public))  # SQLite hands booleans back as integers

    # --- resumable uploads ---------------------------------------------------------------------

    def delete(self, handle: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM files WHERE handle = ?", (handle,))

    def add_upload(self, upload: UploadRecord) -> None:
        values = asdict(upload)
        with self._lock:
            self._db.execute(
                f"INSERT INTO uploads ({', '.join(_QUOTED.values())})"
                f" VALUES ({', '.join('?' for _ in _UPLOAD_COLUMNS)})",
                [values[c] for c in _UPLOAD_COLUMNS],
            )

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        with self._lock:
            row = self._db.execute(f"{_UPLOAD_SELECT} WHERE id = ?", (upload_id,)).fetchone()
        return _upload(row) if row else None

    def save_upload(self, upload: UploadRecord) -> None:
        """Store an upload's new state; only the holder of its lease calls this."""
        values = asdict(upload)
        columns = [c for c in _UPLOAD_COLUMNS if c != "id"]
        with self._lock:
            self._db.execute(
                f"UPDATE uploads SET {', '.join(f'{_QUOTED[c]} = ?' for c in columns)} WHERE id = ?",
                [values[c] for c in columns] + [upload.id],
            )

    def delete_upload(self, upload_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def expired_uploads(self, now: float) -> list[UploadRecord]:
        """Uploads past their expiry that no request holds."""
        with self._lock:
            rows = self._db.execute(
                f"{_UPLOAD_SELECT} WHERE expires <= ? AND (lock_until IS NULL OR lock_until < ?)", (now, now)
            ).fetchall()
        return [_upload(row) for row in rows]

    def lease_upload(self, upload_id: str, token: str, now: float, until: float) -> bool:
        """Take or renew the lease on an upload: True when `token` holds it until `until`. A lease
        whose holder died runs out by itself."""
        with self._lock:
            cursor = self._db.execute(
                # A request that wanted the lease asked its former holder to stop, not this one.
                "UPDATE uploads SET lock_token = ?, lock_until = ?,"
                " lock_wanted = CASE WHEN lock_token IS ? THEN lock_wanted END"
                " WHERE id = ? AND (lock_token IS NULL OR lock_token = ? OR lock_until < ?)",
                (token, until, token, upload_id, token, now),
            )
        return cursor.rowcount == 1

    def want_upload(self, upload_id: str, now: float) -> None:
        """Ask the holder of an upload's lease to stop and let it go."""
        with self._lock:
            self._db.execute(
                "UPDATE uploads SET lock_wanted = ? WHERE id = ? AND lock_token IS NOT NULL", (now, upload_id)
            )

    def is_wanted(self, upload_id: str, token: str) -> bool:
        """Whether another request asked the holder of `token`'s lease to stop."""
        with self._lock:
            row = self._db.execute(
                "SELECT lock_wanted IS NOT NULL FROM uploads WHERE id = ? AND lock_token = ?", (upload_id, token)
            ).fetchone()
        return bool(row and row[0])

    def release_upload(self, upload_id: str, token: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE uploads SET lock_token = NULL, lock_until = NULL WHERE id = ? AND lock_token = ?",
                (upload_id, token),
            )

    def close(self) -> None:
        self._db.close()


def _upload(row: tuple) -> UploadRecord:
    upload = UploadRecord(*row)
    # SQLite hands booleans back as integers.
    return replace(upload, writeable=bool(upload.writeable), completed=bool(upload.completed))
