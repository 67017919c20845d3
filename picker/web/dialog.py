"""The picker's dialog: a labelled modal in an open Shadow DOM, with a focus trap, Esc to close,
a source list, a file list with progress, and an error area announced to screen readers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import js

from ..i18n import Catalog
from ..progress import FileProgress
from ..sources import Picked, Source
from .containers import placement
from .dom import Listeners, el, js_object

CSS = (Path(__file__).resolve().parent.parent / "dialog.css").read_text()
FOCUSABLE = "button:not([disabled]), [href], input:not([type=file]):not([disabled]), [tabindex]:not([tabindex='-1'])"


class Dialog:
    def __init__(
        self, catalog: Catalog, multiple: bool, sources: Sequence[Source], on_close: Callable[[], None], container: str = "modal"
    ) -> None:
        self.t = catalog.t
        count = "many" if multiple else "one"
        self.title_text = catalog.t(f"dialog.title.{count}")
        self.placement = placement(container, self.title_text)
        self.multiple = multiple
        self.sources = list(sources)
        self.on_close = on_close
        self.listeners = Listeners()
        self.rows: dict[int, tuple[Any, Any, Any]] = {}
        self.host: Any = None
        self.returns_focus_to: Any = None

    def open(self, picked: Picked) -> None:
        self.returns_focus_to = js.document.activeElement
        self.host = el("div", {"data-pickstore": "dialog"})
        root = self.host.attachShadow(js_object({"mode": "open"}))
        self.root = root
        self.title = el("h2", {"id": "fp-title"}, self.title_text)
        close = el("button", {"class": "close", "type": "button", "aria-label": self.t("dialog.close")}, "×")
        nav_list = el("ul")
        for index, source in enumerate(self.sources):
            nav_list.append(el("li", None, el("button", {"type": "button", "aria-current": "true" if index == 0 else "false"}, self.t(source.label))))
        self.panel = el("section", {"class": "panel", "aria-labelledby": "fp-title"})
        self.files = el("ul", {"class": "files", "aria-label": self.t("files.label")})
        self.alert_text = el("p")
        dismiss = el("button", {"type": "button"}, self.t("error.dismiss"))
        self.alert = el("div", {"class": "alert", "role": "alert", "hidden": True}, self.alert_text, dismiss)
        self.status = el("div", {"class": "visually-hidden", "aria-live": "polite"})
        self.dialog = el(
            "div",
            {"class": "dialog", "role": "dialog", "aria-modal": "true", "aria-labelledby": "fp-title"},
            el("header", None, self.title, close),
            el("div", {"class": "body"}, el("nav", {"aria-label": self.t("dialog.sources")}, nav_list), self.panel),
            self.alert,
            self.status,
        )
        overlay = el("div", {"class": "overlay fill" if self.placement.fills else "overlay"}, self.dialog)
        root.append(el("style", None, CSS), overlay)
        self.sources[0].render(self.panel, picked, self.show_error)
        self.panel.append(self.files)
        self.listeners.on(close, "click", lambda e: self.on_close())
        self.listeners.on(dismiss, "click", lambda e: self.clear_error())
        self.listeners.on(overlay, "keydown", self._keydown)
        # A file dropped outside the drop area must not make the browser navigate away from the page.
        for event in ("dragover", "drop"):
            self.listeners.on(overlay, event, lambda e: e.preventDefault())
        self.placement.mount(self.host, self.on_close)
        (root.querySelector("[data-autofocus]") or self.focusables()[0]).focus()

    def focusables(self) -> list[Any]:
        return [node for node in self.root.querySelectorAll(FOCUSABLE) if node.getClientRects().length]

    def _keydown(self, event: Any) -> None:
        if event.key == "Escape":
            event.preventDefault()
            self.on_close()
        elif event.key == "Tab":
            nodes = self.focusables()
            if not nodes:
                return
            active = self.root.activeElement
            edge = nodes[0] if event.shiftKey else nodes[-1]
            if active is None or active == edge or not any(active == n for n in nodes):
                event.preventDefault()
                (nodes[-1] if event.shiftKey else nodes[0]).focus()

    @property
    def is_open(self) -> bool:
        return self.host is not None

    def show_error(self, message: str) -> None:
        if self.is_open:
            self.alert_text.textContent = message
            self.alert.hidden = False

    def clear_error(self) -> None:
        if self.is_open:
            self.alert.hidden = True
            self.alert_text.textContent = ""

    def announce(self, message: str) -> None:
        if self.is_open:
            self.status.textContent = message

    def list_files(self, files: Sequence[FileProgress]) -> None:
        for index, progress in enumerate(files):
            label = self.t("file.progress", filename=progress.filename)
            bar = el("progress", {"max": "100", "value": "0", "aria-label": label})
            state = el("span", {"class": "state"}, self.t("file.percent", percent=0))
            name = el("span", {"class": "name", "title": progress.filename}, progress.filename)
            row = el("li", None, name, state, bar)
            self.files.append(row)
            self.rows[index] = (row, bar, state)

    async def confirmed(self, count: int) -> None:
        """Wait for the user to press the upload button (backgroundUpload: false)."""
        pressed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        button = el("button", {"type": "button", "class": "start"}, self.t("action.upload", count=count))
        self.panel.append(button)
        self.listeners.on(button, "click", lambda e: pressed.done() or pressed.set_result(None))
        button.focus()
        await pressed
        button.remove()

    def update_file(self, index: int, progress: FileProgress) -> None:
        if not self.is_open:
            return
        row, bar, state = self.rows[index]
        percent = progress.percent
        bar.value = percent
        state.textContent = self.t("file.done") if progress.done else self.t("file.percent", percent=int(percent))

    def fail_file(self, index: int) -> None:
        if not self.is_open:
            return
        row, bar, state = self.rows[index]
        row.classList.add("failed")
        state.textContent = self.t("file.failed")

    def close(self) -> None:
        for source in self.sources:
            source.dispose()
        self.listeners.clear()
        if self.host is not None:
            self.placement.unmount(self.host)
            self.host = None
        target = self.returns_focus_to
        if target is not None and target.isConnected and hasattr(target, "focus"):
            target.focus()
