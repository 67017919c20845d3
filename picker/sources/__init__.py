"""Sources: where files come from. Each source is one module that draws its panel in the dialog
and hands the picked files back; the dialog knows nothing else about it."""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

# A source calls this with the browser File objects the user picked.
Picked = Callable[[Sequence[Any]], None]


class Source(Protocol):
    name: str  # the reference's service name, e.g. "COMPUTER"
    label: str  # locale key of the source's name in the dialog

    def render(self, panel: Any, picked: Picked) -> None: ...

    def dispose(self) -> None: ...
