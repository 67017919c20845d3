"""Sources: where files come from. Each source is one module that draws its panel in the dialog
and hands the picked files back; the dialog knows nothing else about it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Chosen:
    """A picked browser File and, when it came inside a folder, its path in that folder."""

    file: Any
    relative_path: str = ""


# A source calls `picked` with what the user chose, or `refuse` with a message for the user.
Picked = Callable[[Sequence[Chosen]], None]
Refuse = Callable[[str], None]


class Source(Protocol):
    name: str  # the reference's service name, e.g. "COMPUTER"
    label: str  # locale key of the source's name in the dialog

    def render(self, panel: Any, picked: Picked, refuse: Refuse) -> None: ...

    def dispose(self) -> None: ...
