"""The metadata index: one record per stored file, found by its handle. SQLite by default."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path


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


_COLUMNS = [f.name for f in fields(FileRecord)]


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
            "key TEXT NOT NULL, sha256 TEXT NOT NULL, app_key TEXT NOT NULL, created REAL NOT NULL)"
        )

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
        with self._lock:
            row = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM files WHERE handle = ?", (handle,)
            ).fetchone()
        return FileRecord(*row) if row else None

    def close(self) -> None:
        self._db.close()
