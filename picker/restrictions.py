"""Which files a pick accepts: mimetype and extension filters."""

from __future__ import annotations

from dataclasses import dataclass

from .options import PickerOptions


@dataclass(frozen=True)
class PickedFile:
    """What the restrictions need to know of a file, whatever source it came from."""

    name: str
    size: int
    mimetype: str


def accept_attribute(options: PickerOptions) -> str:
    """The file chooser's accept attribute."""
    return ",".join(options.mimetypes or options.extensions)


def mimetype_matches(pattern: str, mimetype: str) -> bool:
    pattern, mimetype = pattern.lower(), (mimetype or "").lower()
    if pattern in ("*/*", "*"):
        return True
    if pattern.endswith("/*"):
        return mimetype.startswith(pattern[:-1])
    return pattern == mimetype


def is_accepted(options: PickerOptions, file: PickedFile) -> bool:
    if options.mimetypes:
        return any(mimetype_matches(p, file.mimetype) for p in options.mimetypes)
    if options.extensions:
        return file.name.lower().endswith(options.extensions)
    return True
