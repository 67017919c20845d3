"""The picker's dialog: a labelled modal in an open Shadow DOM, with a focus trap, Esc to close,
the sources as a vertical tab list whose selected source draws the panel, a file list with
progress, and an error area announced to screen readers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import js

from ..fperror import BAD_PARAMETERS, FPError
from ..i18n import Catalog, bcp47
from ..progress import FileProgress
from ..sources import Picked, Service, Source
from ..tablist import tab_for_key
from .containers import placement
from .dom import Listeners, el, js_object

CSS = (Path(__file__).resolve().parent.parent / "dialog.css").read_text()
# Tabs other than the selected one have tabindex -1 (a roving tabindex): Tab skips them.
FOCUSABLE = (
    "button:not([disabled]):not([tabindex='-1']), [href], input:not([type=file]):not([disabled]), select:not([disabled]),"
    " [tabindex]:not([tabindex='-1'])"
)
PANEL_ID = "fp-panel"
STYLESHEET_WAIT = 3.0  # seconds the dialog waits, hidden, for a customCss to load


class Dialog:
    def __init__(
        self,
        catalog: Catalog,
        multiple: bool,
        services: Sequence[Service],
        open_to: str,
        load: Callable[[Service], Source],
        on_close: Callable[[], None],
        container: str = "modal",
        stylesheet: str | None = None,
        on_stylesheet_error: Callable[[FPError], None] | None = None,
    ) -> None:
        """`services`: the sources listed, in order; `open_to`: the name of the one selected first;
        `load`: the source of a service, asked for when the user first selects it."""
        self.t = catalog.t
        self.language = bcp47(catalog.language)
        self.direction = catalog.direction
        count = "many" if multiple else "one"
        self.title_text = catalog.t(f"dialog.title.{count}")
        self.placement = placement(container, self.title_text)
        self.services = list(services)
        self.open_to = next((i for i, s in enumerate(self.services) if s.name == open_to), 0)
        self.load = load
        self.sources: dict[int, Source] = {}  # by index in services, once loaded
        self.selected: int | None = None
        self.on_close = on_close
        self.listeners = Listeners()
        self.rows: dict[int, tuple[Any, Any, Any]] = {}
        self.host: Any = None
        self.returns_focus_to: Any = None
        self.stylesheet = stylesheet  # customCss: loaded into this dialog's Shadow DOM only
        self.on_stylesheet_error = on_stylesheet_error

    def open(self, picked: Picked) -> None:
        self.returns_focus_to = js.document.activeElement
        # The loader's frame, drawn when the pick was asked before the picker was ready: a modal
        # takes it over (same host, its content replaced at once), so no second dialog appears.
        frame = js.filepicker._takeFrame() if hasattr(js.filepicker, "_takeFrame") else None
        if frame and not self.placement.fills:
            self.host, root = frame.host, frame.host.shadowRoot
            self.returns_focus_to = frame.returnsFocusTo
        else:
            if frame:
                frame.host.remove()
            frame = None
            self.host = el("div", {"data-pickstore": "dialog"})
            root = self.host.attachShadow(js_object({"mode": "open"}))
        self.root = root
        self.title = el("h2", {"id": "fp-title"}, self.title_text)
        close = el("button", {"class": "close", "type": "button", "aria-label": self.t("dialog.close")}, "×")
        self.tabs = [
            el("button", {"type": "button", "role": "tab", "id": f"fp-tab-{index}", "aria-controls": PANEL_ID,
                          "aria-selected": "false", "tabindex": "-1"}, self.t(service.label))
            for index, service in enumerate(self.services)
        ]
        tablist = el("div", {"class": "sources", "role": "tablist", "aria-orientation": "vertical",
                             "aria-label": self.t("dialog.sources")}, *self.tabs)
        self.panel = el("div", {"class": "source", "role": "tabpanel", "id": PANEL_ID})
        self.files = el("ul", {"class": "files", "aria-label": self.t("files.label")})
        # The file list stays whichever source is selected.
        self.main = el("section", {"class": "panel", "aria-labelledby": "fp-title"}, self.panel, self.files)
        self.alert_text = el("p")
        dismiss = el("button", {"type": "button"}, self.t("error.dismiss"))
        self.alert = el("div", {"class": "alert", "role": "alert", "hidden": True}, self.alert_text, dismiss)
        self.status = el("div", {"class": "visually-hidden", "aria-live": "polite"})
        self.dialog = el(
            "div",
            {"class": "dialog", "role": "dialog", "aria-modal": "true", "aria-labelledby": "fp-title", "lang": self.language,
             "dir": self.direction},
            el("header", None, self.title, close),
            el("div", {"class": "body"}, tablist, self.main),
            self.alert,
            self.status,
        )
        overlay = el("div", {"class": "overlay fill" if self.placement.fills else "overlay"}, self.dialog)
        root.replaceChildren(el("style", None, CSS), overlay)
        if self.stylesheet:
            self._add_stylesheet(root, overlay)
        self.picked = picked
        for index, tab in enumerate(self.tabs):
            self.listeners.on(tab, "click", self._selects(index))
        self.listeners.on(tablist, "keydown", self._tab_keydown)
        self.select(self.open_to)
        self.listeners.on(close, "click", lambda e: self.on_close())
        self.listeners.on(dismiss, "click", lambda e: self.clear_error())
        self.listeners.on(overlay, "keydown", self._keydown)
        # A file dropped outside the drop area must not make the browser navigate away from the page.
        for event in ("dragover", "drop"):
            self.listeners.on(overlay, event, lambda e: e.preventDefault())
        if frame is None:
            self.placement.mount(self.host, self.on_close)
        (root.querySelector("[data-autofocus]") or self.focusables()[0]).focus()

    def _add_stylesheet(self, root: Any, overlay: Any) -> None:
        """The page's customCss after the picker's own styles, the dialog hidden until it has
        loaded (or failed, or STYLESHEET_WAIT has passed) so that it never shows unstyled."""
        link = el("link", {"rel": "stylesheet", "href": self.stylesheet})
        overlay.style.visibility = "hidden"

        def shown(event: Any = None) -> None:
            overlay.style.visibility = ""

        def failed(event: Any) -> None:
            shown()
            if self.on_stylesheet_error is not None:
                self.on_stylesheet_error(FPError(BAD_PARAMETERS, f"customCss {self.stylesheet} could not be loaded: "
                                                 "it was not found, not reachable, or not served as text/css"))

        self.listeners.on(link, "load", shown)
        self.listeners.on(link, "error", failed)
        asyncio.get_running_loop().call_later(STYLESHEET_WAIT, shown)
        root.insertBefore(link, overlay)

    def select(self, index: int) -> None:
        """Show source `index` in the panel, in place of the one shown (which is disposed of)."""
        if index == self.selected:
            return
        if self.selected is not None:
            self.sources[self.selected].dispose()
        self.panel.replaceChildren()
        for number, tab in enumerate(self.tabs):
            tab.setAttribute("aria-selected", "true" if number == index else "false")
            tab.setAttribute("tabindex", "0" if number == index else "-1")
        self.panel.setAttribute("aria-labelledby", self.tabs[index].id)
        self.selected = index
        if index not in self.sources:
            self.sources[index] = self.load(self.services[index])
        self.sources[index].render(self.panel, self.picked, self.show_error)

    def _selects(self, index: int) -> Callable[[Any], None]:
        return lambda event: self.select(index)

    def _tab_keydown(self, event: Any) -> None:
        # Selection follows focus (the tabs pattern's automatic activation): a panel draws at once.
        index = tab_for_key(str(event.key), self.selected or 0, len(self.tabs), self.direction == "rtl")
        if index is None:
            return
        event.preventDefault()
        self.select(index)
        self.tabs[index].focus()

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
        self.main.append(button)

        def press(event: Any) -> None:
            if not pressed.done():
                pressed.set_result(None)

        self.listeners.on(button, "click", press)
        button.focus()
        await pressed
        button.remove()

    def update_file(self, index: int, progress: FileProgress) -> None:
        if not self.is_open:
            return
        row, bar, state = self.rows[index]
        percent = progress.percent
        bar.value = percent
        if progress.done:
            row.classList.add("done")
        state.textContent = self.t("file.done") if progress.done else self.t("file.percent", percent=int(percent))

    def fail_file(self, index: int) -> None:
        if not self.is_open:
            return
        row, _, state = self.rows[index]
        row.classList.add("failed")
        state.textContent = self.t("file.failed")

    def close(self) -> None:
        if self.selected is not None:
            self.sources[self.selected].dispose()
            self.selected = None
        self.listeners.clear()
        if self.host is not None:
            self.placement.unmount(self.host)
            self.host = None
        target = self.returns_focus_to
        if target is not None and target.isConnected and hasattr(target, "focus"):
            target.focus()
