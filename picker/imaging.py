"""What the picker does to a picked image before it uploads it: the size it is scaled to for
imageDim / imageMax / imageMin, whether it must be encoded again at all, and in which type. Pure
geometry and decisions; the pixels are the browser's (picker/web/images.py)."""

from __future__ import annotations

from dataclasses import dataclass

# Types the browser decodes and the picker may encode again. GIFs are left out: a browser cannot
# write one, and an animated GIF drawn once would lose every frame but the first.
DECODED = {"image/jpeg", "image/png", "image/webp", "image/bmp", "image/avif", "image/heic", "image/heif", "image/gif"}
# What a decoded image is written as: its own type where the browser writes it, else JPEG for
# photos (HEIC/HEIF and AVIF from phones) and PNG for the rest, which keeps their transparency.
WRITTEN_AS = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/webp": "image/webp",
    "image/heic": "image/jpeg",
    "image/heif": "image/jpeg",
    "image/avif": "image/jpeg",
}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
# The bytes a file of this type ends with when it is whole.
ENDINGS = {"image/jpeg": b"\xff\xd9", "image/png": b"IEND\xaeB`\x82"}
TAIL_BYTES = 16  # enough of a file's end to see its ending

Side = int | None


@dataclass(frozen=True)
class ImageRules:
    """The page's imageDim (either side may be None), imageMax, imageMin and imageQuality."""

    dim: tuple[Side, Side] | None = None
    max: tuple[int, int] | None = None
    min: tuple[int, int] | None = None
    quality: int | None = None

    @property
    def any(self) -> bool:
        return (self.dim, self.max, self.min, self.quality) != (None, None, None, None)


def _scaled(width: int, height: int, factor: float) -> tuple[int, int]:
    return max(1, round(width * factor)), max(1, round(height * factor))


def _follow(width: int, height: int, to_width: int | None, to_height: int | None) -> tuple[int, int]:
    """One side given, the other following the aspect ratio."""
    if to_width is not None:
        return to_width, max(1, round(height * to_width / width))
    assert to_height is not None
    return max(1, round(width * to_height / height)), to_height


def target_size(width: int, height: int, rules: ImageRules) -> tuple[int, int]:
    """The size an upright `width` x `height` image is scaled to, its aspect ratio kept.

    imageDim [w, h] scales it up or down to the largest size within w x h (so one side is exactly
    w or h); [w, None] and [None, h] fix that side. Then imageMin scales it up, only if a side is
    below its minimum, until both sides reach theirs; then imageMax scales it down, only if a side
    is above its maximum, until both fit: the maximum has the last word when the two disagree."""
    if width <= 0 or height <= 0:
        return width, height
    w, h = width, height
    if rules.dim is not None:
        dim_w, dim_h = rules.dim
        if dim_w is not None and dim_h is not None:
            if dim_w * h <= dim_h * w:  # the width is the tighter side
                w, h = _follow(w, h, dim_w, None)
            else:
                w, h = _follow(w, h, None, dim_h)
        elif dim_w is not None or dim_h is not None:
            w, h = _follow(w, h, dim_w, dim_h)
    if rules.min is not None:
        min_w, min_h = rules.min
        if w < min_w or h < min_h:
            w, h = _follow(w, h, min_w, None) if min_w * h >= min_h * w else _follow(w, h, None, min_h)
    if rules.max is not None:
        max_w, max_h = rules.max
        if w > max_w or h > max_h:
            w, h = _follow(w, h, max_w, None) if max_w * h <= max_h * w else _follow(w, h, None, max_h)
    return w, h


def written_as(mimetype: str) -> str:
    return WRITTEN_AS.get(mimetype, "image/png")


@dataclass(frozen=True)
class Plan:
    """What to do to one image: `size` to draw it at, the type to write and the quality (0..1, for
    a JPEG only)."""

    size: tuple[int, int]
    mimetype: str
    quality: float | None


def plan(mimetype: str, width: int, height: int, rules: ImageRules) -> Plan | None:
    """None when the image is uploaded as it is: already within bounds and no quality asked of a
    JPEG (a quality does nothing to other types, as the reference says)."""
    size = target_size(width, height, rules)
    out = written_as(mimetype)
    quality = rules.quality / 100 if rules.quality is not None and out == "image/jpeg" else None
    recompress = rules.quality is not None and mimetype == "image/jpeg"
    if size == (width, height) and not recompress:
        return None
    return Plan(size, out, quality)


def may_edit(mimetype: str, rules: ImageRules) -> bool:
    """Whether `rules` may change an image of `mimetype` at all, before it is decoded: a type the
    picker decodes, given a size rule, or a quality if it is a JPEG. Every other file is uploaded
    untouched."""
    sized = (rules.dim, rules.max, rules.min) != (None, None, None)
    return mimetype in DECODED and (sized or (rules.quality is not None and mimetype == "image/jpeg"))


def looks_whole(mimetype: str, tail: bytes) -> bool:
    """Whether a file of `mimetype` whose last bytes are `tail` ends as a whole one does: a
    truncated image is uploaded as it is, never drawn half grey."""
    ending = ENDINGS.get(mimetype)
    if ending is None:
        return True
    if mimetype == "image/jpeg":
        return ending in tail[-4:]  # some writers pad after the end marker
    return tail.endswith(ending)


def renamed(filename: str, mimetype: str) -> str:
    """`filename` with the extension of `mimetype` when it is written in a new type."""
    extension = EXTENSIONS.get(mimetype, "")
    stem, dot, old = filename.rpartition(".")
    if not dot or not stem:
        stem, old = filename, ""
    if ("." + old.lower()) in (extension, ".jpeg" if extension == ".jpg" else extension):
        return filename
    return stem + extension


THUMBNAIL = 64  # the longer side of a file list's preview, in pixels (drawn at half that in CSS pixels)


def thumbnail_size(width: int, height: int, box: int = THUMBNAIL) -> tuple[int, int]:
    """The preview's size: the image scaled down (never up) so that its longer side is `box`."""
    return target_size(width, height, ImageRules(max=(box, box)))


def has_preview(mimetype: str) -> bool:
    """Whether a file of `mimetype` gets a preview in the file list: the images the browser decodes."""
    return mimetype in DECODED
