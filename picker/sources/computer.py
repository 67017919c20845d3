"""COMPUTER: files from the user's device, by the file chooser or by drag and drop."""

from __future__ import annotations

import asyncio
from typing import Any

from pyodide.ffi import create_once_callable

from ..i18n import Catalog
from ..options import PickerOptions
from ..restrictions import DroppedEntry, accept_attribute, accepted_types, folder_refusal
from ..web.dom import Listeners, el
from . import Chosen, Picked, Refuse


def source(catalog: Catalog, options: PickerOptions) -> ComputerSource:
    return ComputerSource(catalog, options)


class ComputerSource:
    def __init__(self, catalog: Catalog, options: PickerOptions) -> None:
        self.t = catalog.t
        self.listing = catalog.listing
        self.options = options
        self.listeners = Listeners()
        self.walking: asyncio.Task[None] | None = None  # the dropped folders being read

    def render(self, panel: Any, picked: Picked, refuse: Refuse) -> None:
        count = "many" if self.options.multiple else "one"
        accept = accept_attribute(self.options)
        self.input = self._file_input(multiple=self.options.multiple, accept=accept or None)
        choose = el("button", {"type": "button", "class": "choose", "data-autofocus": True}, self.t(f"computer.choose.{count}"))
        drop = el(
            "div",
            {"class": "drop", "data-drop": "computer"},
            el("span", None, self.t(f"computer.drop.{count}")),
            el("span", {"class": "hint"}, self.t("computer.or")),
            choose,
            el("span", {"class": "hint"}, self.t("computer.accepted", accepted=self.listing(accepted_types(self.options), "or")))
            if accept else "",
            self.input,
        )
        panel.append(drop)
        self.listeners.on(choose, "click", lambda e: self.input.click())
        self.listeners.on(self.input, "change", lambda e: self._chosen(self.input, picked))
        if self.options.folders:
            folder_input = self._file_input(webkitdirectory=True)
            folder = el("button", {"type": "button", "class": "choose folder"}, self.t("computer.choose_folder"))
            choose.after(folder)
            drop.append(folder_input)
            self.listeners.on(folder, "click", lambda e: folder_input.click())
            self.listeners.on(folder_input, "change", lambda e: self._chosen(folder_input, picked))

        def dragover(event: Any) -> None:
            event.preventDefault()
            drop.classList.add("over")

        def dropped(event: Any) -> None:
            event.preventDefault()
            drop.classList.remove("over")
            if not event.dataTransfer:
                return
            # Entries must be taken while the drop event lasts; the folders are read afterwards.
            entries = [e for e in (item.webkitGetAsEntry() for item in event.dataTransfer.items if item.kind == "file") if e]
            dropped = [DroppedEntry(str(e.name), bool(e.isDirectory)) for e in entries]
            refusal = folder_refusal(self.options, dropped, self.t, self.listing)
            if refusal:
                refuse(refusal)
            elif any(d.is_directory for d in dropped):
                self.walking = asyncio.ensure_future(self._dropped_folders(entries, picked, refuse))
            else:
                files = list(event.dataTransfer.files)
                if files:
                    picked([Chosen(f) for f in files])

        self.listeners.on(drop, "dragover", dragover)
        self.listeners.on(drop, "dragleave", lambda e: drop.classList.remove("over"))
        self.listeners.on(drop, "drop", dropped)

    def _file_input(self, **attributes: Any) -> Any:
        return el("input", {"type": "file", "class": "visually-hidden", "tabindex": "-1", "aria-hidden": "true", **attributes})

    def _chosen(self, field: Any, picked: Picked) -> None:
        chosen = [Chosen(f, str(f.webkitRelativePath or "")) for f in field.files]
        field.value = ""  # so that choosing the same file again fires change again
        if chosen:
            picked(chosen)

    async def _dropped_folders(self, entries: list[Any], picked: Picked, refuse: Refuse) -> None:
        chosen: list[Chosen] = []
        try:
            for entry in entries:
                chosen.extend(await _walk(entry))
        except OSError as exc:  # the browser could not list a folder (removed, or not allowed)
            refuse(self.t("error.folder_unreadable", message=str(exc)))
            return
        if chosen:
            picked(chosen)

    def dispose(self) -> None:
        self.listeners.clear()
        # Folders still being read when the user leaves the source are a pick the user left.
        if self.walking is not None:
            self.walking.cancel()
            self.walking = None


async def _callback_result(start: Any) -> Any:
    """The value a File System Entry API call hands to its success callback."""
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def succeeded(value: Any) -> None:
        if not done.done():
            done.set_result(value)

    def failed(error: Any) -> None:
        if not done.done():
            done.set_exception(OSError(str(error.message)))

    start(create_once_callable(succeeded), create_once_callable(failed))
    return await done


async def _walk(entry: Any) -> list[Chosen]:
    """Every file under a dropped entry, with its path inside the dropped folder."""
    if entry.isFile:
        return [Chosen(await _callback_result(entry.file), str(entry.fullPath).lstrip("/"))]
    reader = entry.createReader()
    found: list[Chosen] = []
    while True:  # readEntries hands out a directory's entries in batches until one is empty
        batch = list(await _callback_result(reader.readEntries))
        if not batch:
            return found
        for child in batch:
            found.extend(await _walk(child))
