"""Which files a pick accepts: mimetype and extension filters, and whether dropped folders are
taken."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


UNITS = 1024


def human_size(size: int, units: list[str]) -> str:
    """1536 -> "1.5 KB" with units ["B", "KB", "MB", "GB", "TB"] (powers of 1024, as file
    managers show sizes)."""
    value = float(size)
    for unit in units[:-1]:
        if value < UNITS:
            break
        value /= UNITS
    else:
        unit = units[-1]
    if unit == units[0] or value >= 10 or value.is_integer():
        return f"{value:.0f} {unit}"
    return f"{value:.1f} {unit}"


def is_accepted(options: PickerOptions, file: PickedFile) -> bool:
    if options.mimetypes:
        return any(mimetype_matches(p, file.mimetype) for p in options.mimetypes)
    if options.extensions:
        return file.name.lower().endswith(options.extensions)
    return True


@dataclass(frozen=True)
class DroppedEntry:
    """One item of a drop, as the browser's entry for it describes it."""

    name: str
    is_directory: bool


def folder_refusal(options: PickerOptions, dropped: Sequence[DroppedEntry], t: Callable[..., str]) -> str | None:
    """The message refusing the folders of a drop, in the user's language (`t` looks messages
    up); None when the drop has no folder or the pick takes folders (`folders` is on, which it
    only is with `multiple`)."""
    folders = [entry.name for entry in dropped if entry.is_directory]
    if not folders or options.folders:
        return None
    return t("error.folders", count=len(folders), names=", ".join(folders))
