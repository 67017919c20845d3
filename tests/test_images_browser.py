"""Client-side resizing and compression in Chromium: images made by Pillow are picked with
imageDim / imageMax / imageMin / imageQuality, and what the store keeps is read back with Pillow
(its pixel size, type, orientation, transparency, or its very bytes when it is left untouched).

The tests take turns on one booted page (`host_page`)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from harness.images import CORNER, REST, gif, jpeg, transparent
from harness.picking import LOCALE, downloaded, sha256

ORIENTATIONS = range(1, 9)


def picked(host_page, options: dict, paths: list[Path]) -> list[dict]:
    """The Blobs of picking `paths` at once with `options`, each with the stored bytes added."""
    dialog = host_page.open("modal", "pickAndStore", {"multiple": True, **options}, {})
    dialog.choose(paths)
    result = host_page.outcome()
    assert result["kind"] == "success", result
    blobs = result["value"]
    for blob in blobs:
        blob["bytes"] = downloaded(blob["url"])
    return blobs


def opened(blob: dict) -> Any:
    image = Image.open(io.BytesIO(blob["bytes"]))
    image.load()
    return image


def assert_blob_describes_its_bytes(blob: dict, mimetype: str, filename: str) -> None:
    assert (blob["mimetype"], blob["filename"]) == (mimetype, filename)
    assert (blob["size"], blob["sha256"]) == (len(blob["bytes"]), sha256(blob["bytes"]))


def near(pixel: Any, colour: tuple, slack: int = 40) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(pixel, colour, strict=False))


@pytest.fixture
def write(tmp_path: Path):
    def made(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return made


def test_a_large_photo_is_scaled_down_to_image_max(host_page, write):
    photo = write("big photo.jpg", jpeg(6000, 4000))
    portrait = write("portrait.jpg", jpeg(900, 2400))
    blobs = picked(host_page, {"imageMax": [1600, 1600]}, [photo, portrait])
    sizes = []
    for blob, name in zip(blobs, ["big photo.jpg", "portrait.jpg"], strict=True):
        assert_blob_describes_its_bytes(blob, "image/jpeg", name)
        image = opened(blob)
        assert image.format == "JPEG"
        sizes.append(image.size)
    assert sizes == [(1600, 1067), (600, 1600)]
    assert len(blobs[0]["bytes"]) < photo.stat().st_size


@pytest.mark.parametrize(
    ("dim", "expected"),
    [([300, None], (300, 200)), ([None, 50], (75, 50)), ([300, 300], (300, 200)), ([60, 90], (60, 40))],
)
def test_image_dim_scales_up_or_down_with_the_aspect_ratio_kept(host_page, write, dim, expected):
    path = write("photo.jpg", jpeg(150, 100))
    [blob] = picked(host_page, {"imageDim": dim}, [path])
    image = opened(blob)
    assert (image.format, image.size) == ("JPEG", expected)
    assert near(image.getpixel((2, 2)), CORNER) and near(image.getpixel((expected[0] - 3, expected[1] - 3)), REST)


def test_image_min_scales_small_images_up_and_leaves_big_ones(host_page, write):
    small = write("small.jpg", jpeg(100, 50))
    big = write("big.jpg", jpeg(900, 700))
    blobs = picked(host_page, {"imageMin": [800, 600]}, [small, big])
    assert opened(blobs[0]).size == (1200, 600)
    assert blobs[1]["bytes"] == big.read_bytes()


def test_image_quality_compresses_jpegs_only(host_page, write):
    photo = write("photo.jpg", jpeg(400, 300, quality=98))
    drawing = write("drawing.png", transparent(40, 30))
    blobs = picked(host_page, {"imageQuality": 10}, [photo, drawing])
    assert_blob_describes_its_bytes(blobs[0], "image/jpeg", "photo.jpg")
    image = opened(blobs[0])
    assert (image.format, image.size) == ("JPEG", (400, 300))
    assert len(blobs[0]["bytes"]) < photo.stat().st_size / 2
    assert blobs[1]["bytes"] == drawing.read_bytes()


def test_images_within_bounds_and_other_files_are_uploaded_byte_for_byte(host_page, write):
    paths = [
        write("fits.jpg", jpeg(800, 600)),
        write("fits.png", transparent(80, 60)),
        write("notes.txt", b"not an image at all"),
        write("report.pdf", b"%PDF-1.4 not really"),
    ]
    blobs = picked(host_page, {"imageMax": [800, 600]}, paths)
    for blob, path in zip(blobs, paths, strict=True):
        assert blob["filename"] == path.name
        assert blob["bytes"] == path.read_bytes()
        assert blob["size"] == path.stat().st_size


def test_every_exif_orientation_comes_out_upright(host_page, write):
    paths = [write(f"turned {o}.jpg", jpeg(240, 160, orientation=o)) for o in ORIENTATIONS]
    blobs = picked(host_page, {"imageMax": [120, 120]}, paths)
    for blob, orientation in zip(blobs, ORIENTATIONS, strict=True):
        image = opened(blob)
        assert image.size == (120, 80), orientation
        assert image.getexif().get(0x0112, 1) == 1, orientation  # nothing left for a viewer to turn
        assert near(image.getpixel((5, 5)), CORNER), (orientation, image.getpixel((5, 5)))
        assert near(image.getpixel((115, 75)), REST), (orientation, image.getpixel((115, 75)))
        assert near(image.getpixel((115, 5)), REST) and near(image.getpixel((5, 75)), REST), orientation


def test_bounds_apply_to_the_upright_picture(host_page, write):
    # stored 160 wide and 240 high, shown 240 x 160: it fits [240, 160] as it is shown
    path = write("turned.jpg", jpeg(240, 160, orientation=6))
    [blob] = picked(host_page, {"imageMax": [240, 160]}, [path])
    assert blob["bytes"] == path.read_bytes()


@pytest.mark.parametrize(("kind", "mimetype", "name"), [("PNG", "image/png", "logo.png"), ("WEBP", "image/webp", "logo.webp")])
def test_transparent_images_keep_their_type_and_alpha(host_page, write, kind, mimetype, name):
    path = write(name, transparent(400, 200, kind))
    [blob] = picked(host_page, {"imageMax": [100, 100], "imageQuality": 50}, [path])
    assert_blob_describes_its_bytes(blob, mimetype, name)
    image = opened(blob)
    assert (image.format, image.size, image.mode) == (kind, (100, 50), "RGBA")
    assert image.getpixel((10, 25))[3] == 0
    assert image.getpixel((90, 25))[3] == 255 and near(image.getpixel((90, 25)), (10, 200, 30, 255))


def test_animated_gifs_are_untouched_and_a_still_gif_becomes_a_png(host_page, write):
    animated = write("moving.gif", gif(300, 200, 4))
    still = write("still.gif", gif(300, 200, 1))
    blobs = picked(host_page, {"imageMax": [150, 150]}, [animated, still])
    assert blobs[0]["bytes"] == animated.read_bytes() and blobs[0]["mimetype"] == "image/gif"
    assert_blob_describes_its_bytes(blobs[1], "image/png", "still.png")
    assert opened(blobs[1]).size == (150, 100)


@pytest.mark.parametrize("kept", [1 / 3, 2 / 3, 0.99])
def test_a_truncated_image_is_uploaded_as_it_is_with_a_message(host_page, write, kept):
    whole = jpeg(600, 400)
    clear = transparent(600, 400)
    cut = write("cut.jpg", whole[: int(len(whole) * kept)])
    cut_png = write("cut.png", clear[: int(len(clear) * kept)])
    fine = write("fine.jpg", whole)
    blobs = picked(host_page, {"imageMax": [300, 300]}, [cut, cut_png, fine])
    assert blobs[0]["bytes"] == cut.read_bytes()
    assert blobs[1]["bytes"] == cut_png.read_bytes()
    assert opened(blobs[2]).size == (300, 200)
    for name in ("cut.jpg", "cut.png"):
        note = LOCALE["image.unedited"].format(filename=name)
        assert [w.rsplit(" (", 1)[0] for w in host_page.warnings if name in w] == [f"filepicker: {note}"]


def test_a_photo_with_data_after_its_end_is_still_resized(host_page, write):
    # phones append a video clip after the JPEG's end marker ("motion photos")
    path = write("motion.jpg", jpeg(600, 400) + b"ftypmp42" + bytes(range(256)) * 40)
    [blob] = picked(host_page, {"imageMax": [300, 300]}, [path])
    assert (opened(blob).size, blob["mimetype"]) == ((300, 200), "image/jpeg")


def test_an_image_that_would_be_too_large_is_uploaded_as_it_is_with_a_message(host_page, write):
    path = write("tiny.jpg", jpeg(30, 20))
    [blob] = picked(host_page, {"imageMin": [20000, 20000]}, [path])
    assert blob["bytes"] == path.read_bytes()
    note = LOCALE["image.too_large"].format(filename="tiny.jpg")
    assert host_page.warnings == [f"filepicker: {note} (too large)"]


def test_an_undecodable_image_is_uploaded_as_it_is_with_a_message(host_page, write):
    broken = write("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50 + b"IEND\xaeB`\x82")
    [blob] = picked(host_page, {"imageMax": [300, 300]}, [broken])
    assert blob["bytes"] == broken.read_bytes()
    note = LOCALE["image.unedited"].format(filename="broken.png")
    assert host_page.warnings == [f"filepicker: {note} (undecodable)"]
