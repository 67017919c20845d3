"""Storage keys: where a file lands inside its container, built from the store options' path and
the filename so that no input can escape the container."""

from __future__ import annotations

import secrets
import unicodedata

from .errors import bad_request

MAX_SEGMENT = 255
MAX_KEY = 1024
HANDLE_BYTES = 15  # 20 characters of [A-Za-z0-9_-]


def new_handle() -> str:
    return secrets.token_urlsafe(HANDLE_BYTES)


def safe_filename(filename: str | None) -> str:
    """The last path component of a client's filename, with control characters removed and the
    length capped; never empty, never "." or ".."."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    name = name.strip().lstrip(".") or "file"
    if len(name.encode()) > MAX_SEGMENT - 32:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        room = MAX_SEGMENT - 32 - len(keep.encode()) - 1
        head = (stem if keep else name).encode()[:room].decode(errors="ignore")
        name = f"{head.rstrip()}.{keep}" if keep else head.rstrip()
    return name


def _segments(path: str) -> list[str]:
    if "\x00" in path or "\\" in path:
        raise bad_request(f"path {path!r} may not contain NUL or backslash characters")
    segments = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            raise bad_request(f"path {path!r} may not contain '..' segments")
        if not segment.isprintable() or len(segment.encode()) > MAX_SEGMENT:
            raise bad_request(f"path {path!r} has a segment that is too long or not printable")
        segments.append(unicodedata.normalize("NFC", segment))
    return segments


def storage_key(path: str | None, unique_id: str, filename: str | None, multiple: bool = False) -> str:
    """No path: "<unique id>_<filename>" at the root. A path ending in "/" is a folder: the file
    goes inside it with that same name. Any other path is the exact key (not with multiple)."""
    name = f"{unique_id}_{safe_filename(filename)}"
    if not path:
        return name
    folder = path.endswith("/")
    if multiple and not folder:
        raise bad_request(f"path {path!r} must end in '/' when several files are stored")
    segments = _segments(path)
    if folder:
        segments.append(name)
    elif not segments:
        raise bad_request(f"path {path!r} names no file")
    key = "/".join(segments)
    if len(key.encode()) > MAX_KEY:
        raise bad_request(f"path {path!r} is longer than {MAX_KEY} bytes")
    return key
