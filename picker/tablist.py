"""Keyboard movement in the dialog's list of sources, a vertical WAI-ARIA tab list."""

from __future__ import annotations

# Left and Right move too: in a vertical list beside the panel, users reach for either pair.
BACK = ("ArrowUp", "ArrowLeft")
FORWARD = ("ArrowDown", "ArrowRight")


def tab_for_key(key: str, current: int, count: int, right_to_left: bool = False) -> int | None:
    """The index of the tab `key` (a KeyboardEvent.key) moves to from tab `current` of `count`,
    wrapping around at either end; None when the key does not move between tabs. Right to left,
    the list runs leftwards when it lies across (a narrow dialog): Left goes forward."""
    if count <= 0:
        return None
    if right_to_left and key in ("ArrowLeft", "ArrowRight"):
        key = "ArrowRight" if key == "ArrowLeft" else "ArrowLeft"
    if key in BACK:
        return (current - 1) % count
    if key in FORWARD:
        return (current + 1) % count
    if key == "Home":
        return 0
    if key == "End":
        return count - 1
    return None
