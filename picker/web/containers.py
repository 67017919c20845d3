"""Where the dialog lives: over the page (modal), in a popup window, or inside an iframe of the
page. Each placement mounts the dialog's host element and reports when the user closes it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import js

from ..fperror import BAD_PARAMETERS, FPError

POPUP_FEATURES = "popup=yes,width=780,height=560"
CLOSED_POLL_SECONDS = 0.25


class Modal:
    """An overlay over the host page."""

    fills = False

    def mount(self, host: Any, on_gone: Callable[[], None]) -> None:
        js.document.body.append(host)

    def unmount(self, host: Any) -> None:
        host.remove()


class Popup:
    """A window of its own. It is about:blank, so it shares the page's origin and the dialog's
    nodes can move into it."""

    fills = True

    def __init__(self, title: str) -> None:
        self.window = js.window.open("", "_blank", POPUP_FEATURES)
        if not self.window:
            raise FPError(
                BAD_PARAMETERS, "container 'window': the browser blocked the popup; call pickAndStore from a click, or use 'modal'"
            )
        self.window.document.title = title
        self.watch: asyncio.Task[None] | None = None

    def mount(self, host: Any, on_gone: Callable[[], None]) -> None:
        body = self.window.document.body
        body.style.margin = "0"
        body.append(host)
        self.window.focus()

        async def watch() -> None:
            # A popup closed by its window's own close button sends nothing reliable to the page:
            # there is no event to wait for, only `closed` to look at.
            while True:
                await asyncio.sleep(CLOSED_POLL_SECONDS)
                if self.window.closed:
                    break
            on_gone()

        self.watch = asyncio.ensure_future(watch())

    def unmount(self, host: Any) -> None:
        if self.watch is not None:
            self.watch.cancel()
        host.remove()
        if not self.window.closed:
            self.window.close()


class Frame:
    """Inside an iframe of the page, named by its id."""

    fills = True

    def __init__(self, frame_id: str) -> None:
        frame = js.document.getElementById(frame_id)
        if not frame or str(frame.tagName).lower() != "iframe":
            raise FPError(
                BAD_PARAMETERS,
                f"option 'container' must be 'modal', 'window' or the id of an iframe in the page; no iframe has id {frame_id!r}",
            )
        try:
            self.document = frame.contentDocument
        except Exception:
            self.document = None
        if not self.document:
            raise FPError(
                BAD_PARAMETERS, f"container {frame_id!r}: the iframe shows a page from another origin, which the picker cannot draw into"
            )

    def mount(self, host: Any, on_gone: Callable[[], None]) -> None:
        self.document.body.style.margin = "0"
        self.document.body.append(host)

    def unmount(self, host: Any) -> None:
        host.remove()


def placement(container: str, title: str) -> Modal | Popup | Frame:
    if container == "modal":
        return Modal()
    if container == "window":
        return Popup(title)
    return Frame(container)
