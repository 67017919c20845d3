"""What the index keeps: a record per stored file, and the state of each resumable upload."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class WholeWrite:
    """A whole-file write (POST /api/store, an overwrite) under way, kept with its claim on the key
    so that a store process finds it if the writing process dies: where its bytes go, how they are
    stored, and, once they are whole and about to be put in place, their size and sha256 (what
    store.repair compares the key's bytes with)."""

    location: str
    container: str
    key: str
    handle: str
    mimetype: str
    public: bool = False
    region: str | None = None
    size: int | None = None
    sha256: str | None = None
