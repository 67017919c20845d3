"""The metadata index as every store process sees it: stored files found by handle or key, and the
state of resumable uploads. SQLite (store.sqlite_index) by default; a shared database when several
store processes serve one store."""

from __future__ import annotations

from typing import Protocol

from .records import FileRecord, UploadRecord, WholeWrite


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
        self, location: str, container: str, key: str, *, owner: str, handle: str, until: float, now: float,
        write: WholeWrite | None = None,
    ) -> bool:
        """Reserve a key for one new file before any of its bytes go there, atomically: True when
        the key is free or already `owner`'s (then its claim lasts until `until`), or when the file
        recorded there is `handle` (the upload overwrites that record). False when another file or
        a live claim of another owner has it. A claim lives until `until`, or while the upload
        named `owner` has not expired; add_file and release_key end it. A whole-file write passes
        `write` (its owner is its handle): kept with the claim, also when it overwrites the file
        recorded there, for take_lapsed_writes."""
        ...

    async def take_lapsed_writes(self, now: float, until: float, limit: int) -> list[WholeWrite]:
        """At most `limit` whole-file writes whose claim ran out by `now` (their process died, or
        stood still that long), each claim renewed until `until` for the caller (store.repair),
        atomically, so that no other process takes the same ones."""
        ...

    async def release_key(self, location: str, container: str, key: str, owner: str) -> None:
        """End `owner`'s claim on a key (its upload failed or went)."""
        ...

    async def add_upload(self, upload: UploadRecord, *, within: tuple[int, int] | None = None) -> tuple[int, int] | None:
        """Record a new upload. With `within` (most unfinished uploads, most bytes they declare),
        only if its app's unfinished uploads alive at `upload.created` and this one stay within
        both, atomically: otherwise nothing is recorded and the app's (uploads, bytes) come back."""
        ...

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

    async def close(self) -> None: ...
