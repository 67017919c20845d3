"""Which files a pick accepts: how many, of which types and sizes, and whether dropped folders are
taken."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .i18n import Listing, human_size, plain_listing
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


def accepted_types(options: PickerOptions) -> list[str]:
    return list(options.mimetypes or options.extensions)


def rejection(options: PickerOptions, files: Sequence[PickedFile], t: Callable[..., str],
              size: Callable[[int], str] | None = None, listing: Listing | None = None) -> str | None:
    """What is wrong with a selection, in the user's language (`t` looks messages up, `size` writes
    a number of bytes, `listing` a list of names); None when it can be uploaded. The first rule
    broken is the one told: the count before the files."""
    join = listing or plain_listing
    if not options.multiple and len(files) > 1:
        return t("error.only_one", count=len(files))
    if options.max_files is not None and len(files) > options.max_files:
        return t("error.max_files", count=options.max_files, chosen=len(files))
    refused = [f.name for f in files if not is_accepted(options, f)]
    if refused:
        return t("error.type", count=len(refused), names=join(refused, "and"), accepted=join(accepted_types(options), "or"))
    if options.max_size is not None:
        too_big = [f.name for f in files if f.size > options.max_size]
        if too_big:
            limit = (size or (lambda n: human_size(n, t("size.units").split())))(options.max_size)
            return t("error.max_size", count=len(too_big), names=join(too_big, "and"), limit=limit)
    return None


@dataclass(frozen=True)
class DroppedEntry:
    """One item of a drop, as the browser's entry for it describes it."""

    name: str
    is_directory: bool


def folder_refusal(options: PickerOptions, dropped: Sequence[DroppedEntry], t: Callable[..., str],
                   listing: Listing | None = None) -> str | None:
    """The message refusing the folders of a drop, in the user's language (`t` looks messages
    up); None when the drop has no folder or the pick takes folders (`folders` is on, which it
    only is with `multiple`)."""
    folders = [entry.name for entry in dropped if entry.is_directory]
    if not folders or options.folders:
        return None
    return t("error.folders", count=len(folders), names=(listing or plain_listing)(folders, "and"))
