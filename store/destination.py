"""Where a new file goes and whether its sender may put it there: a StoreRequest checked before any
byte is accepted, the key claimed so that no other file's bytes are touched, and the FileRecord made
once the file is whole; one for every upload route."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

from .backends import check_key, check_options
from .config import Config
from .content_type import normalised_mimetype
from .errors import StoreError, bad_request
from .index import Index
from .keys import new_handle, safe_filename, storage_key
from .policy import Policy
from .policy import check as check_policy
from .records import FileRecord, WholeWrite
from .store_request import StoreRequest

DEFAULT_MIMETYPE = "application/octet-stream"
_REGION = re.compile(r"[a-z0-9-]{1,32}")


@dataclass(frozen=True)
class Destination:
    """A checked place for one new file, and what its record will say about it."""

    app_key: str
    location: str
    container: str
    handle: str
    filename: str
    key: str
    mimetype: str
    writeable: bool  # the Blob's isWriteable: the sender's policy allows `write`
    public: bool = False  # access 'public': readable straight from the storage, where it can be
    region: str | None = None  # storeRegion: the region of an S3 container

    def record(self, size: int, sha256: str) -> FileRecord:
        return FileRecord(
            handle=self.handle,
            filename=self.filename,
            mimetype=self.mimetype,
            size=size,
            location=self.location,
            container=self.container,
            key=self.key,
            sha256=sha256,
            app_key=self.app_key,
            created=time.time(),
            public=self.public,
            region=self.region,
        )

    def whole_write(self) -> WholeWrite:
        return WholeWrite(self.location, self.container, self.key, self.handle, self.mimetype, self.public, self.region)


def checked_mimetype(mimetype: str) -> str:
    """A client's mimetype as one valid type (store.content_type), refused (400) when it is a list
    of types or no type: it is stored and sent back as the file's Content-Type."""
    return normalised_mimetype(mimetype)


def checked_access(access: str | None) -> bool:
    """The store option `access`: 'public', or 'private' (the default); True for 'public'."""
    if access is None or access.lower() in ("", "private"):
        return False
    if access.lower() == "public":
        return True
    raise bad_request(f"access {access!r} must be 'public' or 'private'")


def checked_region(region: str | None) -> str | None:
    """The store option `region` (storeRegion), refused unless it looks like one: which regions there
    are is the S3 backend's to say, when it stores the file."""
    if not region:
        return None
    if not _REGION.fullmatch(region):
        raise bad_request(f"storeRegion {region!r} is not a region name such as 'us-east-1'")
    return region


def destination(
    config: Config, options: StoreRequest, *, size: int | None, now: float
) -> tuple[Destination, Policy | None]:
    """The destination the options name, and the sender's policy (checked for `store` with `size`
    when known); StoreError 400/403 naming the first option that is refused."""
    app = config.app(options.api_key, options.origin)
    location = config.location(options.location)
    container = location.container(options.container)
    handle = new_handle()
    filename = safe_filename(options.filename)
    key = storage_key(options.path, handle, filename, multiple=options.multiple)
    check_key(location, key)
    mimetype = checked_mimetype(options.mimetype or DEFAULT_MIMETYPE)
    app.check_file(mimetype, size)
    policy = check_policy(
        app, options.policy, options.signature, call="store", now=now, size=size, path=key, container=container
    )
    writeable = policy is not None and policy.allows("write")
    public, region = checked_access(options.access), checked_region(options.region)
    check_options(location, public=public, region=region)
    target = Destination(app.key, location.name, container, handle, filename, key, mimetype, writeable, public, region)
    return target, policy


def key_taken(key: str) -> StoreError:
    """409 for a store at a key that another file, or another upload under way, holds."""
    return StoreError(
        409,
        f"key {key!r} is taken: another file is stored there or being uploaded to it, and a store never "
        "replaces one; store at another path, or overwrite that file with POST /api/file/{handle} "
        "(or a store whose policy allows 'write' for its handle)",
    )


async def at_taken_key(
    index: Index, config: Config, target: Destination, options: StoreRequest, *, now: float
) -> Destination:
    """The destination as the file at its key allows: a free key as it was; a key another file
    holds, StoreError 409, whatever app stored that file, unless the sender may write that very
    file (same app, a policy allowing `write` that names its handle): then the upload overwrites
    that record, as POST /api/file/{handle} does (same handle and filename, stored as it was)."""
    record = await index.find_file(target.location, target.container, target.key)
    if record is None:
        return target
    if record.app_key != target.app_key or not options.policy:
        raise key_taken(target.key)
    try:
        policy = check_policy(
            config.apps[record.app_key], options.policy, options.signature, call="write", now=now,
            handle=record.handle, path=record.key, container=record.container,
        )
    except StoreError:
        raise key_taken(target.key) from None
    if policy is None or policy.handle != record.handle:
        raise key_taken(target.key)
    mimetype = target.mimetype if options.mimetype else record.mimetype
    return replace(
        target, handle=record.handle, filename=record.filename, mimetype=mimetype, writeable=True,
        public=record.public, region=record.region,
    )


async def claim(index: Index, target: Destination, owner: str, *, until: float, now: float) -> None:
    """Reserve the destination's key for `owner` (an upload id, or the handle of a whole-file
    store) until the file is recorded there: StoreError 409 when another file or upload has it.
    Called before any byte is accepted and again just before the bytes are put in place."""
    if not await index.claim_key(
        target.location, target.container, target.key, owner=owner, handle=target.handle, until=until, now=now
    ):
        raise key_taken(target.key)
