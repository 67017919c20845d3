"""Content types as the store keeps and serves them: a declared type normalised to one valid type,
which types a browser may show inline from the store's origin, and a small sniffer of the common
signatures a file's first bytes carry. No I/O."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING

from .errors import StoreError, bad_request

if TYPE_CHECKING:
    from .config import App

# RFC 9110 token characters: a type, a subtype, a parameter's name or an unquoted value.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_TYPE = re.compile(rf"({_TOKEN})/({_TOKEN})")
_PARAMETER = re.compile(rf"({_TOKEN})=({_TOKEN}|\"[\x20\x21\x23-\x5b\x5d-\x7e]*\")")
_CHARSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,39}")

# Types served inline: a browser shows them as media or plain text and runs no script in them.
# Everything else (HTML, SVG, XML, JavaScript, any other type) is served as an attachment.
INLINE_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
    "video/mp4", "video/webm", "video/ogg", "audio/mpeg", "audio/ogg", "audio/wav", "audio/webm",
    "audio/aac", "audio/flac", "text/plain", "application/pdf",
    # The type of a file declared as none: a browser downloads it, with nosniff never guessing another.
    "application/octet-stream",
})


def normalised_mimetype(declared: str) -> str:
    """One valid type: lower-case `type/subtype`, with its `charset` parameter when that is a valid
    charset name; other parameters are dropped. A list of types or anything else: StoreError 400."""
    text = declared.strip(" \t")
    head, _, rest = text.partition(";")
    match = _TYPE.fullmatch(head.strip(" \t"))
    if not match or "," in text:
        raise bad_request(
            f"mimetype {declared!r} is not one valid MIME type such as 'image/png' or 'text/plain; charset=utf-8'"
        )
    mimetype = f"{match.group(1)}/{match.group(2)}".lower()
    for parameter in rest.split(";") if rest else ():
        found = _PARAMETER.fullmatch(parameter.strip(" \t"))
        if found is None:
            raise bad_request(f"mimetype {declared!r} has a parameter {parameter.strip()!r} that is not name=value")
        name, value = found.group(1).lower(), found.group(2).strip('"')
        if name == "charset" and _CHARSET.fullmatch(value):
            mimetype += f"; charset={value.lower()}"
    return mimetype


def served_type(stored: str) -> str:
    """The Content-Type a stored type is served with: normalised, or application/octet-stream for
    one recorded before types were checked (a list, garbage)."""
    try:
        return normalised_mimetype(stored)
    except StoreError:
        return "application/octet-stream"


def essence(mimetype: str) -> str:
    """`type/subtype` of a stored type, lower-case, without parameters."""
    return mimetype.split(";")[0].strip().lower()


def served_inline(mimetype: str) -> bool:
    return essence(mimetype) in INLINE_TYPES


_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
)
_HTML = re.compile(
    rb"\s*(<!doctype\s+html|<html|<head|<body|<script|<iframe|<!--|<title|<meta|<style|<object|<embed|<a\s|<p>|<div)",
    re.I,
)
_SVG = re.compile(rb"\s*<svg[\s>]", re.I)
_XML = re.compile(rb"\s*<\?xml[\s?]", re.I)
SNIFF_BYTES = 512  # how many of the first bytes sniffed() reads
# Types whose files are zip archives: their bytes show zip, which their declared type refines.
_ZIP_BASED = re.compile(
    r"application/(zip|x-zip-compressed|java-archive|vnd\.android\.package-archive|"
    r"vnd\.openxmlformats-officedocument\..+|vnd\.oasis\.opendocument\..+|vnd\.ms-.+\.macroenabled\..+|.+\+zip)"
)


def sniffed(head: bytes) -> str | None:
    """The type a file's first bytes show (PNG, JPEG, GIF, WebP, PDF, zip, or text that looks like
    HTML, SVG or XML, which a browser may run as a page), or None when they show none of these."""
    for signature, mimetype in _SIGNATURES:
        if head.startswith(signature):
            return mimetype
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    text = head[:SNIFF_BYTES]
    for bom in (b"\xef\xbb\xbf",):
        text = text.removeprefix(bom)
    if _HTML.match(text):
        return "text/html"
    if _SVG.match(text):
        return "image/svg+xml"
    if _XML.match(text):
        body = text.lower()
        return "text/html" if b"<html" in body else "image/svg+xml" if b"<svg" in body else "text/xml"
    return None


def check_sniffed(app: App, head: bytes, size: int | None, declared: str) -> None:
    """The app's allowed types, checked against the type a file's first bytes show (when they show
    one): an app that takes images refuses HTML bytes whatever type they were declared as. Zip bytes
    declared as a type made of a zip (a .docx, an .epub) are that type."""
    found = sniffed(head)
    if found == "application/zip" and _ZIP_BASED.fullmatch(essence(declared)):
        return
    if found is not None:
        app.check_file(found, size)


async def sniffing(chunks: AsyncIterable[bytes], head: bytearray, app: App, declared: str) -> AsyncIterator[bytes]:
    """`chunks` as they come, their first SNIFF_BYTES kept in `head` and checked (check_sniffed)
    as soon as there are that many, before the chunk that completes them is passed on; a shorter
    file is the caller's to check once whole."""
    async for chunk in chunks:
        if len(head) < SNIFF_BYTES:
            head.extend(chunk[:SNIFF_BYTES - len(head)])
            if len(head) >= SNIFF_BYTES:
                check_sniffed(app, bytes(head), None, declared)
        yield chunk
