"""tus 1.0 as the store speaks it, without I/O: header values parsed and each request's rules checked
against an upload's state, so that every rule is testable in microseconds."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from picker import wire

from .errors import StoreError, bad_request, forbidden
from .records import UploadRecord

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,expiration,checksum,termination,concatenation"
CHECKSUM_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "md5": hashlib.md5,
}
OFFSET_STREAM = "application/offset+octet-stream"
CHECKSUM_MISMATCH = 460  # tus's own status: the chunk was damaged on the way and is not kept
LOCKED = 423

_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# An upload URL ends in /api/upload/<id>, whatever prefix public_url gives it.
_UPLOAD_PATH = re.compile(r"(?:^|/)api/upload/([A-Za-z0-9_-]{1,64})/?$")
_SIZE = re.compile(r"[0-9]{1,19}")  # below 2**63: what SQLite's INTEGER holds
_METADATA_KEY = re.compile(r"[^\s,]+")

MAX_METADATA = 4096  # characters of Upload-Metadata: the store options, a policy and a long filename fit
MAX_CONCAT_PARTS = 100  # partial uploads one final upload may join
MAX_CONCAT_HEADER = 16384  # characters of Upload-Concat: 100 upload URLs of 160 characters each
# What HEAD echoes of an upload's Upload-Metadata: the file and the store options a client needs to
# know the upload again (the app's key is public, in the page), never the policy or signature that
# let its creator make it, nor keys this store does not read.
ECHOED_METADATA = tuple(key for key in wire.KEYS if key not in (wire.POLICY, wire.SIGNATURE))


def new_upload_id() -> str:
    return secrets.token_urlsafe(16)


def is_upload_id(text: str) -> bool:
    return bool(_UPLOAD_ID.fullmatch(text))


def http_date(timestamp: float) -> str:
    """RFC 7231 IMF-fixdate, as Upload-Expires carries it."""
    return formatdate(timestamp, usegmt=True)


def check_version(method: str, tus_resumable: str | None) -> None:
    """Every request but OPTIONS (and GET, which is not tus: it fetches the Blob) names the version."""
    if method in ("OPTIONS", "GET") or tus_resumable == VERSION:
        return
    given = f"Tus-Resumable {tus_resumable!r}" if tus_resumable else "no Tus-Resumable header"
    raise StoreError(412, f"this store speaks tus {VERSION} only; the request has {given}", {"Tus-Version": VERSION})


def parse_size(name: str, value: str | None) -> int:
    """A non-negative whole number of bytes from a header such as Upload-Length or Upload-Offset."""
    if value is None:
        raise bad_request(f"the {name} header is missing")
    if not _SIZE.fullmatch(value.strip()):
        raise bad_request(f"{name} must be a whole number of bytes, not {value!r}")
    return int(value.strip())


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated "key base64(value)" pairs; a key alone has the empty value."""
    if header is not None and len(header) > MAX_METADATA:
        raise bad_request(f"Upload-Metadata has {len(header)} characters; this store accepts at most {MAX_METADATA}")
    metadata: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        encoded = encoded.strip()
        if not _METADATA_KEY.fullmatch(key):
            raise bad_request(f"Upload-Metadata key {key!r} must be non-empty, without spaces or commas")
        if key in metadata:
            raise bad_request(f"Upload-Metadata has the key {key!r} twice")
        try:
            metadata[key] = base64.b64decode(encoded, validate=True).decode("utf-8")
        except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 (UnicodeDecodeError)
            raise bad_request(f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text") from None
    return metadata


@dataclass(frozen=True)
class UploadChecksum:
    """Upload-Checksum: the digest a chunk must have, and the algorithm that makes it."""

    algorithm: str
    digest: bytes

    def hasher(self) -> Any:
        return CHECKSUM_ALGORITHMS[self.algorithm]()


def parse_checksum(header: str | None) -> UploadChecksum | None:
    """Upload-Checksum: "<algorithm> <base64 digest>"; an algorithm not supported is 400."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        supported = ",".join(CHECKSUM_ALGORITHMS)
        raise bad_request(f"Upload-Checksum algorithm {algorithm!r} is not supported; supported: {supported}")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except ValueError:  # binascii.Error, and text that is not ASCII
        raise bad_request(f"Upload-Checksum digest {encoded!r} is not base64") from None
    if len(digest) != CHECKSUM_ALGORITHMS[algorithm]().digest_size:
        raise bad_request(f"Upload-Checksum digest has {len(digest)} bytes; a {algorithm} digest has another length")
    return UploadChecksum(algorithm, digest)


@dataclass(frozen=True)
class Concat:
    """Upload-Concat on creation: a partial upload, or a final one joining `parts` (upload ids) in order."""

    partial: bool
    parts: tuple[str, ...] = ()


def parse_concat(header: str | None) -> Concat | None:
    if header is None:
        return None
    header = header.strip()
    if header == "partial":
        return Concat(partial=True)
    if len(header) > MAX_CONCAT_HEADER:
        raise bad_request(f"Upload-Concat has {len(header)} characters; this store accepts at most {MAX_CONCAT_HEADER}")
    if not header.startswith("final;"):
        raise bad_request(f"Upload-Concat must be 'partial' or 'final;<url> <url> ...', not {header[:100]!r}")
    urls = header[len("final;"):].split()
    if not urls:
        raise bad_request("Upload-Concat 'final;' names no partial uploads to join")
    if len(urls) > MAX_CONCAT_PARTS:
        raise bad_request(f"Upload-Concat names {len(urls)} partial uploads; a final upload joins at most {MAX_CONCAT_PARTS}")
    parts: list[str] = []
    for url in urls:
        match = _UPLOAD_PATH.search(urlsplit(url).path)
        if not match:
            raise bad_request(f"Upload-Concat names {url[:200]!r}, which is not an upload URL of this store")
        if match.group(1) in parts:
            raise bad_request(f"Upload-Concat names partial upload {match.group(1)!r} twice; each part may be joined once")
        parts.append(match.group(1))
    return Concat(partial=False, parts=tuple(parts))


def check_length(length: int, max_size: int) -> None:
    if length > max_size:
        raise StoreError(413, f"the upload's {length} bytes are more than this store's Tus-Max-Size {max_size}")


def creation_length(upload_length: str | None, defer_length: str | None, concat: Concat | None) -> int | None:
    """The Upload-Length a creation declares; None for a final upload, whose length is its parts'."""
    if concat is not None and not concat.partial:
        if upload_length is not None:
            raise bad_request(
                "a final upload (Upload-Concat: final) takes its length from its parts: send no Upload-Length"
            )
        return None
    if upload_length is None:
        if defer_length is not None:
            raise bad_request("Upload-Defer-Length is not supported: send Upload-Length")
        raise bad_request("the Upload-Length header is missing: a new upload must say its size")
    return parse_size("Upload-Length", upload_length)


def is_offset_stream(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == OFFSET_STREAM


def check_alive(upload: UploadRecord | None, upload_id: str, now: float) -> UploadRecord:
    """404 for an upload the store does not know; 410 for one past its Upload-Expires."""
    if upload is None:
        raise StoreError(404, f"no upload {upload_id!r}: it never existed, was terminated, or expired and was removed")
    if now >= upload.expires:
        raise StoreError(410, f"upload {upload_id!r} expired at {http_date(upload.expires)} and is removed")
    return upload


def check_patch(upload: UploadRecord, content_type: str | None, upload_offset: str | None) -> int:
    """The rules a PATCH meets before its lease is taken; returns the Upload-Offset it gives."""
    if upload.final:
        raise forbidden("a final upload (Upload-Concat: final) is made of its parts and takes no bytes")
    if not is_offset_stream(content_type):
        raise StoreError(415, f"a PATCH body must have Content-Type {OFFSET_STREAM}, not {content_type!r}")
    return parse_size("Upload-Offset", upload_offset)


def check_offset(upload: UploadRecord, offset: int, content_length: str | None) -> None:
    """The offset must be where the upload stands, and a declared body must fit in what is left."""
    if offset != upload.offset:
        raise StoreError(
            409, f"Upload-Offset {offset} is not the upload's offset {upload.offset}: HEAD it and resume from there"
        )
    if content_length is not None and content_length.isdigit():
        check_room(upload, int(content_length))


def check_room(upload: UploadRecord, received: int) -> None:
    """413 once a body would take the upload past its Upload-Length."""
    if upload.offset + received > upload.length:
        raise StoreError(
            413, f"the chunk would take the upload past its Upload-Length {upload.length} (offset {upload.offset})"
        )


def check_part(part: UploadRecord | None, part_id: str, app_key: str, now: float) -> UploadRecord:
    """A partial upload a final one may join: this store's, alive, partial, whole, of the same app."""
    if part is None or now >= part.expires:
        raise bad_request(f"Upload-Concat names upload {part_id!r}, which this store does not have (or has expired)")
    if not part.partial:
        raise bad_request(f"upload {part_id!r} was not created with Upload-Concat: partial, so it cannot be joined")
    if part.offset != part.length:
        raise bad_request(f"partial upload {part_id!r} holds {part.offset} of its {part.length} bytes: finish it first")
    if part.app_key != app_key:
        raise forbidden(f"partial upload {part_id!r} belongs to another app")
    return part


def echoed_metadata(header: str) -> str:
    """The pairs of an upload's Upload-Metadata that HEAD gives back (ECHOED_METADATA), as sent."""
    kept = []
    for pair in header.split(","):
        key = pair.strip().partition(" ")[0]
        if key in ECHOED_METADATA:
            kept.append(pair.strip())
    return ",".join(kept)


def check_pending(app_key: str, pending: int, pending_bytes: int, length: int, max_uploads: int, max_bytes: int) -> None:
    """429 when a new upload of `length` bytes would take an app past its unfinished uploads' limits."""
    if pending >= max_uploads:
        raise StoreError(
            429, f"app {app_key!r} has {pending} unfinished uploads, its limit (max_pending_uploads {max_uploads}): "
            "finish or terminate some, or wait for them to expire",
        )
    if pending_bytes + length > max_bytes:
        raise StoreError(
            429, f"app {app_key!r} has unfinished uploads declaring {pending_bytes} bytes; {length} more would pass "
            f"its limit (max_pending_bytes {max_bytes}): finish or terminate some, or wait for them to expire",
        )


def state_headers(upload: UploadRecord) -> dict[str, str]:
    """What HEAD says about an upload."""
    headers = {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Upload-Expires": http_date(upload.expires),
        "Cache-Control": "no-store",
    }
    echoed = echoed_metadata(upload.metadata)
    if echoed:
        headers["Upload-Metadata"] = echoed
    if upload.concat:
        headers["Upload-Concat"] = upload.concat
    return headers


def options_headers(max_size: int) -> dict[str, str]:
    """What OPTIONS says about the store."""
    return {
        "Tus-Version": VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }
