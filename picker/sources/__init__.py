"""Sources: where files come from, and the one registry of the services a page may name. Each
source is one module that draws its panel in the dialog and hands the picked files back; the
dialog knows nothing else about it. Adding a source is its module plus one row in AVAILABLE."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class Chosen:
    """A picked browser File and, when it came inside a folder, its path in that folder."""

    file: Any
    relative_path: str = ""


# A source calls `picked` with what the user chose, or `refuse` with a message for the user.
Picked = Callable[[Sequence[Chosen]], None]
Refuse = Callable[[str], None]


class Source(Protocol):
    """What a source module's `source(catalog, options)` returns. The dialog calls render() each
    time the user selects the source and dispose() each time the user leaves it or the dialog
    closes: dispose() removes what render() set listening."""

    def render(self, panel: Any, picked: Picked, refuse: Refuse) -> None: ...

    def dispose(self) -> None: ...


# "file": the source hands over browser Files, which the picker uploads; "import": the store
# fetches the file itself (URL, FTP, S3), since the browser cannot read it.
Arrival = Literal["file", "import"]


@dataclass(frozen=True)
class Service:
    name: str  # the reference's service name, as pages write it in `services`, e.g. "COMPUTER"
    label: str  # locale key of its name in the dialog's list of sources
    module: str  # the module defining `source(catalog, options)`, imported when first shown
    arrival: Arrival


AVAILABLE: dict[str, Service] = {
    service.name: service
    for service in (
        Service("COMPUTER", "source.computer", "picker.sources.computer", "file"),
        Service("WEBCAM", "source.webcam", "picker.sources.webcam", "file"),
        Service("VIDEO", "source.video", "picker.sources.video", "file"),
        Service("AUDIO", "source.audio", "picker.sources.audio", "file"),
    )
}

# Why a service the old library knew is not in AVAILABLE: the console says so to the page's author.
NOT_YET = "not available yet"
NEEDS_OAUTH = "needs an OAuth app the operator has not configured"
UNKNOWN = "unknown name: a typo?"

MISSING: dict[str, str] = {
    **dict.fromkeys(
        ("URL", "FTP", "WEBDAV", "CUSTOMSOURCE", "CONVERT", "IMAGE_SEARCH"), NOT_YET
    ),
    **dict.fromkeys(
        (
            "FACEBOOK", "DROPBOX", "GOOGLE_DRIVE", "GMAIL", "INSTAGRAM", "FLICKR", "PICASA", "GITHUB", "EVERNOTE",
            "BOX", "SKYDRIVE", "ONEDRIVE", "CLOUDDRIVE", "ALFRESCO",
        ),
        NEEDS_OAUTH,
    ),
}


def why_missing(name: str) -> str:
    """Why the dialog cannot show the service `name` (which is not in AVAILABLE)."""
    return MISSING.get(name, UNKNOWN)
