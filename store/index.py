"""The metadata index as every store process sees it: stored files found by handle or key, and the
state of resumable uploads. SQLite (store.sqlite_index) by default; a shared database when several
store processes serve one store."""

from __future__ import annotations

from typing import Protocol

from .records import FileRecord, UploadRecord


class Index(Protocol):
    async def add_file(self, record: FileRecord) -> None:
        """Record a stored file. A file stored at a key replaces what was there: older records of
        that key go, else their handles would serve the new bytes under the old size and checksum."""
        ...

    async def get_file(self, handle: str) -> FileRecord | None: ...

    async def find_file(self, location: str, container: str, key: str) -> FileRecord | None:
        """The file stored at a key."""
        ...

    async def delete_file(self, handle: str) -> None: ...

    async def add_upload(self, upload: UploadRecord) -> None: ...

    async def get_upload(self, upload_id: str) -> UploadRecord | None: ...

    async def save_upload(self, upload: UploadRecord) -> None:
        """Store an upload's new state; only the holder of its lease calls this."""
        ...

    async def delete_upload(self, upload_id: str) -> None: ...

    async def unfinished_uploads(self) -> list[UploadRecord]:
        """Uploads not completed: what store.repair looks at when a store process starts."""
        ...

    async def expired_uploads(self, now: float) -> list[UploadRecord]:
        """Uploads past their expiry that no request holds."""
        ...

    async def close(self) -> None: ...
