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
# The bytes a file of this type ends with when it is whole. Not JPEG: phones append a video clip
# after a photo's end marker; the browser's decoder refuses a truncated JPEG itself.
ENDINGS = {"image/png": b"IEND\xaeB`\x82"}
TAIL_BYTES = 16  # enough of a file's end to see its ending

Side = int | None
# The largest image the picker draws: browsers refuse canvases beyond 16384 pixels a side, and a
# quarter of a gigabyte of pixels is as much as a page should hold for one image.
CANVAS_SIDE = 16384
CANVAS_PIXELS = 64_000_000


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


def fits_canvas(width: int, height: int) -> bool:
    return 0 < width <= CANVAS_SIDE and 0 < height <= CANVAS_SIDE and width * height <= CANVAS_PIXELS


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
    return ending is None or tail.endswith(ending)


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


# The crop box of the CONVERT editor, in pixels of the original (upright) image.

KEY_STEP = 10  # pixels an arrow key moves or resizes the box by
MOVES = {"ArrowLeft": (-1, 0), "ArrowRight": (1, 0), "ArrowUp": (0, -1), "ArrowDown": (0, 1)}


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class CropRules:
    """cropRatio (width over height), cropDim (a fixed size), cropMax and cropMin."""

    ratio: float | None = None
    dim: tuple[int, int] | None = None
    max: tuple[int, int] | None = None
    min: tuple[int, int] | None = None


def parse_ratio(value: object) -> float | None:
    """cropRatio as pages give it: a number (4/3 evaluated by the page), or a string "16/9",
    "16:9" or "1.5". None when it is no positive ratio."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    for sign in ("/", ":"):
        if sign in text:
            top, _, bottom = text.partition(sign)
            try:
                ratio = float(top) / float(bottom)
            except (ValueError, ZeroDivisionError):
                return None
            return ratio if ratio > 0 else None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number > 0 else None


def crop_limits(width: int, height: int, rules: CropRules) -> tuple[int, int, int, int]:
    """(smallest width, smallest height, largest width, largest height) of the box on an image of
    `width` x `height`: cropMax and cropMin where the image is big enough, never beyond the image."""
    max_w, max_h = rules.max or (width, height)
    max_w, max_h = min(max_w, width), min(max_h, height)
    min_w, min_h = rules.min or (1, 1)
    return min(min_w, max_w), min(min_h, max_h), max_w, max_h


def _with_ratio(width: int, height: int, ratio: float) -> tuple[int, int]:
    """The largest size of `ratio` within `width` x `height`."""
    if width / height > ratio:
        return max(1, round(height * ratio)), height
    return width, max(1, round(width / ratio))


def _bounded(width: int, height: int, image: tuple[int, int], rules: CropRules) -> tuple[int, int]:
    """A box size within the limits, of the rules' ratio when there is one."""
    min_w, min_h, max_w, max_h = crop_limits(image[0], image[1], rules)
    if rules.ratio is None:
        return max(min_w, min(width, max_w)), max(min_h, min(height, max_h))
    # the width leads; the height follows it; both kept within the largest box of that ratio
    top_w, top_h = _with_ratio(max_w, max_h, rules.ratio)
    width = max(min(width, top_w), min(max(min_w, round(min_h * rules.ratio)), top_w))
    return width, min(top_h, max(1, round(width / rules.ratio)))


def initial_box(width: int, height: int, rules: CropRules) -> Box:
    """The box the editor opens with, centred: cropDim's size (the whole image where it is smaller),
    else the largest the limits and ratio allow."""
    if rules.dim is not None:
        w, h = min(rules.dim[0], width), min(rules.dim[1], height)
    else:
        w, h = _bounded(width, height, (width, height), rules)
    return Box((width - w) // 2, (height - h) // 2, w, h)


def moved(box: Box, dx: int, dy: int, width: int, height: int) -> Box:
    """The box moved by (dx, dy), kept on the image."""
    x = max(0, min(box.x + dx, width - box.width))
    y = max(0, min(box.y + dy, height - box.height))
    return Box(x, y, box.width, box.height)


def resized(box: Box, new_width: int, new_height: int, width: int, height: int, rules: CropRules) -> Box:
    """The box at a new size (its top-left corner kept where it fits), within the limits and
    ratio; a cropDim box keeps its size."""
    if rules.dim is not None:
        return box
    w, h = _bounded(new_width, new_height, (width, height), rules)
    return moved(Box(box.x, box.y, w, h), 0, 0, width, height)


def key_step(box: Box, key: str, shift: bool, width: int, height: int, rules: CropRules, step: int = KEY_STEP) -> Box:
    """An arrow key moves the box; with Shift, Right and Down make it wider and taller, Left and Up
    narrower and shorter. Other keys leave it as it is."""
    if key not in MOVES:
        return box
    dx, dy = MOVES[key]
    if not shift:
        return moved(box, dx * step, dy * step, width, height)
    if rules.ratio is not None and dx == 0:  # the height follows the width: Up/Down change both
        dx = dy
    return resized(box, box.width + dx * step, box.height + dy * step, width, height, rules)


def rotated_box(box: Box, width: int, height: int, clockwise: bool) -> Box:
    """The same pixels' box once the `width` x `height` image is turned a quarter."""
    if clockwise:
        return Box(height - box.y - box.height, box.x, box.height, box.width)
    return Box(box.y, width - box.x - box.width, box.height, box.width)
