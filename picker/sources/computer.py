"""COMPUTER: files from the user's device, by the file chooser or by drag and drop."""

from __future__ import annotations

from typing import Any

from ..i18n import Catalog
from ..options import PickerOptions
from ..restrictions import accept_attribute
from ..web.dom import Listeners, el


class ComputerSource:
    name = "COMPUTER"
    label = "source.computer"

    def __init__(self, catalog: Catalog, options: PickerOptions) -> None:
        self.t = catalog.t
        self.options = options
        self.listeners = Listeners()

    def render(self, panel: Any, picked: Any) -> None:
        count = "many" if self.options.multiple else "one"
        accept = accept_attribute(self.options)
        self.input = el(
            "input",
            {"type": "file", "class": "visually-hidden", "tabindex": "-1", "aria-hidden": "true",
             "multiple": self.options.multiple, "accept": accept or None},
        )
        choose = el("button", {"type": "button", "class": "choose", "data-autofocus": True}, self.t(f"computer.choose.{count}"))
        drop = el(
            "div",
            {"class": "drop", "data-drop": "computer"},
            el("span", None, self.t(f"computer.drop.{count}")),
            el("span", {"class": "hint"}, self.t("computer.or")),
            choose,
            el("span", {"class": "hint"}, self.t("computer.accepted", accepted=accept)) if accept else "",
            self.input,
        )
        panel.append(drop)

        def chosen(event: Any) -> None:
            files = list(self.input.files)
            self.input.value = ""  # so that choosing the same file again fires change again
            if files:
                picked(files)

        def dragover(event: Any) -> None:
            event.preventDefault()
            drop.classList.add("over")

        def dropped(event: Any) -> None:
            event.preventDefault()
            drop.classList.remove("over")
            files = list(event.dataTransfer.files) if event.dataTransfer else []
            if files:
                picked(files)

        self.listeners.on(choose, "click", lambda e: self.input.click())
        self.listeners.on(self.input, "change", chosen)
        self.listeners.on(drop, "dragover", dragover)
        self.listeners.on(drop, "dragleave", lambda e: drop.classList.remove("over"))
        self.listeners.on(drop, "drop", dropped)

    def dispose(self) -> None:
        self.listeners.clear()
