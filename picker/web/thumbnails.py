"""Small previews of the picked images in the dialog's file list. Each is decoded by the browser
(createImageBitmap) and drawn at preview size on a canvas of that size, only when
its row comes near the visible part of the list, a few at a time: picking a thousand photos
decodes only those the user scrolls to, and keeps one full-size bitmap alive per preview being
made."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import js
from pyodide.ffi import JsException, create_proxy

from ..imaging import has_preview, thumbnail_size
from .dom import el, js_object

AT_ONCE = 2  # previews being made at a time
AHEAD = "300px"  # how far beyond the visible rows previews are made


class Thumbnails:
    """The previews of the rows `rows` (index -> (row, ...)) of `files` (with their `mimetypes`)."""

    def __init__(self, rows: dict[int, tuple[Any, ...]], files: Sequence[Any], mimetypes: Sequence[str]) -> None:
        self.files = files
        self.slots = asyncio.Semaphore(AT_ONCE)
        self.tasks: set[asyncio.Task[None]] = set()
        self.canvases: dict[Any, int] = {}
        self.observer: Any = None
        self.proxy = create_proxy(self._seen)
        for index, (row, *_) in rows.items():
            if not has_preview(mimetypes[index]):
                continue
            canvas = el("canvas", {"class": "thumb", "aria-hidden": "true", "width": "1", "height": "1"})
            row.querySelector(".name").prepend(canvas)
            if self.observer is None:
                # The row's own window: the dialog may be in a popup or an iframe. The root is the
                # list's scrolling panel, which clips the rows: a margin beyond it counts only there.
                window = row.ownerDocument.defaultView
                options = js_object({"rootMargin": AHEAD}) if (panel := row.closest(".panel")) is None \
                    else js_object({"root": panel, "rootMargin": AHEAD})
                self.observer = window.IntersectionObserver.new(self.proxy, options)
            canvas.dataset.index = str(index)
            self.observer.observe(canvas)

    def _seen(self, entries: Any, observer: Any) -> None:
        for entry in entries:
            if not entry.isIntersecting:
                continue
            canvas = entry.target
            observer.unobserve(canvas)
            task = asyncio.ensure_future(self._draw(canvas, self.files[int(canvas.dataset.index)]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _draw(self, canvas: Any, file: Any) -> None:
        async with self.slots:
            if not canvas.isConnected:
                return
            try:
                full = await js.createImageBitmap(file, js_object({"imageOrientation": "from-image"}))
            except JsException:
                canvas.dataset.thumb = "none"  # not decodable: the row keeps its name only
                return
            try:
                canvas.width, canvas.height = thumbnail_size(int(full.width), int(full.height))
                context = canvas.getContext("2d")
                context.imageSmoothingQuality = "high"
                context.drawImage(full, 0, 0, canvas.width, canvas.height)
            finally:
                full.close()
            canvas.dataset.thumb = "drawn"

    def stop(self) -> None:
        if self.observer is not None:
            self.observer.disconnect()
        for task in self.tasks:
            task.cancel()
        self.proxy.destroy()
        self.files = ()  # the picked Files (a recording's bytes among them) are not held past the pick
