"""A file's real type from its first bytes, for when the browser gives none or a generic one."""

from __future__ import annotations

GENERIC = ("", "application/octet-stream")
HEAD_BYTES = 32

# (offset, signature, mimetype), most specific first.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"BM", "image/bmp"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"\x1aE\xdf\xa3", "video/webm"),
    (0, b"{\\rtf", "application/rtf"),
)


def sniff(head: bytes) -> str | None:
    """The mimetype the first bytes of a file announce, or None when they announce none we know."""
    for offset, signature, mimetype in _SIGNATURES:
        if head[offset:offset + len(signature)] == signature:
            return mimetype
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}[head[8:12]]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1"):
            return "image/heic"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    return None


def real_type(declared: str, head: bytes) -> str:
    """The browser's type when it gave a specific one; otherwise what the bytes say."""
    if declared not in GENERIC:
        return declared
    return sniff(head) or declared or "application/octet-stream"
