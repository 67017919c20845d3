"""A picked image resized or compressed by the browser before it uploads (imageDim, imageMax,
imageMin, imageQuality). Python only drives the browser's objects: the File is decoded by
createImageBitmap (EXIF orientation applied), drawn on an OffscreenCanvas and written by
convertToBlob; no pixel enters wasm memory, and each ImageBitmap is closed once drawn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import js
from pyodide.ffi import JsException

from ..imaging import TAIL_BYTES, ImageRules, Plan, fits_canvas, looks_whole, may_edit, plan, renamed
from .dom import js_object


@dataclass(frozen=True)
class Prepared:
    """The File to upload, and why an image was left as it was when it could not be read (None
    when it was edited or needed nothing)."""

    file: Any
    skipped: str | None = None


async def _tail(file: Any) -> bytes:
    size = int(file.size)
    return bytes((await file.slice(max(0, size - TAIL_BYTES), size).arrayBuffer()).to_py())


async def _animated(file: Any, mimetype: str) -> bool:
    """Whether the image has more than one frame (an animated GIF, WebP or PNG), by the browser's
    ImageDecoder; where there is none, a GIF counts as animated, so it is left alone."""
    decoder_class = getattr(js, "ImageDecoder", None)
    if decoder_class is None:
        return mimetype == "image/gif"
    decoder = decoder_class.new(js_object({"data": file.stream(), "type": mimetype}))
    try:
        await decoder.tracks.ready
        await decoder.completed  # frameCount is final only once every byte is read
        track = decoder.tracks.selectedTrack
        # not `animated`: a GIF with a loop count but one frame claims it
        return bool(track is not None and int(track.frameCount) > 1)
    finally:
        decoder.close()


async def prepared(file: Any, mimetype: str, rules: ImageRules) -> Prepared:
    """The File that uploads in place of `file` (of type `mimetype`) under `rules`: `file` itself
    when it is no image the picker edits, or already fits and needs no new quality."""
    if not may_edit(mimetype, rules):
        return Prepared(file)
    try:
        if not looks_whole(mimetype, await _tail(file)):
            return Prepared(file, "truncated")
        if mimetype in ("image/gif", "image/webp", "image/png") and await _animated(file, mimetype):
            return Prepared(file)
        bitmap = await js.createImageBitmap(file, js_object({"imageOrientation": "from-image"}))
    except JsException:
        return Prepared(file, "undecodable")
    try:
        todo = plan(mimetype, int(bitmap.width), int(bitmap.height), rules)
        if todo is None:
            return Prepared(file)
        if not fits_canvas(*todo.size):
            return Prepared(file, "too large")
        blob = await _drawn(bitmap, todo)
    except JsException:
        return Prepared(file, "unencodable")
    finally:
        bitmap.close()
    if blob is None:
        return Prepared(file, "unencodable")
    name = renamed(str(file.name), str(blob.type))
    options = js_object({"type": str(blob.type), "lastModified": int(file.lastModified)})
    return Prepared(js.File.new(js.Array.of(blob), name, options))


async def _drawn(bitmap: Any, todo: Plan) -> Any:
    """`bitmap` drawn at the plan's size and written in its type, as a Blob (None when the browser
    has no canvas of that size to give)."""
    width, height = todo.size
    canvas = js.OffscreenCanvas.new(width, height)
    context = canvas.getContext("2d")
    if context is None:
        return None
    context.imageSmoothingEnabled = True
    context.imageSmoothingQuality = "high"
    context.drawImage(bitmap, 0, 0, width, height)
    written = js_object({"type": todo.mimetype} | ({"quality": todo.quality} if todo.quality is not None else {}))
    try:
        return await canvas.convertToBlob(written)
    finally:
        canvas.width = canvas.height = 0  # lets the browser free the canvas's pixels now
