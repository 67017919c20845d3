"""The metadata index as every store process sees it: stored files found by handle or key, and the
state of resumable uploads. SQLite (store.sqlite_index) by default; a shared database when several
store processes serve one store."""

from __future__ import annotations

from typing import Protocol

from .records import FileRecord, UploadRecord


class Index(Protocol):
    async def add_file(self, record: FileRecord) -> bool:
        """Record a stored file, or update the record of the same handle (an overwrite), and end
        the claims on its key. Never replaces another record: False, and nothing changes, when
        another handle holds the key."""
        ...

    async def get_file(self, handle: str) -> FileRecord | None: ...

    async def find_file(self, location: str, container: str, key: str) -> FileRecord | None:
        """The file stored at a key."""
        ...

    async def delete_file(self, handle: str) -> None: ...

    async def claim_key(
        self, location: str, container: str, key: str, *, owner: str, handle: str, until: float, now: float
    ) -> bool:
        """Reserve a key for one new file before any of its bytes go there, atomically: True when
        the key is free or already `owner`'s (then its claim lasts until `until`), or when the file
        recorded there is `handle` (the upload overwrites that record). False when another file or
        a live claim of another owner has it. A claim lives until `until`, or while the upload
        named `owner` has not expired; add_file and release_key end it."""
        ...

    async def release_key(self, location: str, container: str, key: str, owner: str) -> None:
        """End `owner`'s claim on a key (its upload failed or went)."""
        ...

    async def add_upload(self, upload: UploadRecord) -> None: ...

    async def get_upload(self, upload_id: str) -> UploadRecord | None: ...

    async def save_upload(self, upload: UploadRecord) -> None:
        """Store an upload's new state; only the holder of its lease calls this."""
        ...

    async def delete_upload(self, upload_id: str) -> None: ...

    async def unfinished_uploads(self) -> list[UploadRecord]:
        """Uploads not completed: what store.repair looks at when a store process starts."""
        ...

    async def expired_uploads(self, now: float, limit: int | None = None) -> list[UploadRecord]:
        """Uploads past their expiry that no request holds (at most `limit` of them)."""
        ...

    async def pending_uploads(self, app_key: str, now: float) -> tuple[int, int]:
        """How many of an app's uploads are alive and not yet stored, and their Upload-Lengths added up."""
        ...

    async def close(self) -> None: ...
