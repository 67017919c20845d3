"""Real images for the files a user picks: small PNGs made byte by byte, so that a test says what is
in them, and photos made by Pillow (EXIF orientations, transparency, animation)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of `width` x `height` pixels, all of colour `rgb`."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# Pillow's transposition that undoes each EXIF orientation (2..8), as a viewer applies it, and the
# one that makes the stored pixels of an upright picture for that orientation.
SHOWN_BY = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
            7: "TRANSVERSE", 8: "ROTATE_90"}
STORED_BY = {**SHOWN_BY, 6: "ROTATE_90", 8: "ROTATE_270"}
CORNER = (230, 20, 20)  # the upright picture's top-left quarter
REST = (20, 40, 220)


def upright(width: int, height: int) -> Any:
    """A picture that shows which way is up: its top-left quarter red, the rest blue."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (width, height), REST)
    ImageDraw.Draw(picture).rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=CORNER)
    return picture


def jpeg(width: int, height: int, orientation: int = 1, quality: int = 92) -> bytes:
    """A JPEG that, shown with its EXIF `orientation` honoured, is `upright(width, height)`."""
    from PIL import Image

    picture = upright(width, height)
    if orientation != 1:
        picture = picture.transpose(getattr(Image.Transpose, STORED_BY[orientation]))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def transparent(width: int, height: int, kind: str = "PNG") -> bytes:
    """A PNG or WebP whose left half is fully transparent and right half opaque green."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(picture).rectangle((width // 2, 0, width - 1, height - 1), fill=(10, 200, 30, 255))
    out = io.BytesIO()
    picture.save(out, kind, **({"lossless": True} if kind == "WEBP" else {}))
    return out.getvalue()


def gif(width: int, height: int, frames: int) -> bytes:
    """A GIF of `frames` frames, each a different colour."""
    from PIL import Image

    pictures = [Image.new("RGB", (width, height), (40 * i, 255 - 40 * i, 90)) for i in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=frames > 1, append_images=pictures[1:], duration=100, loop=0)
    return out.getvalue()
