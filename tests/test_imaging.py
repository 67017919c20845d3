"""The geometry and decisions of client-side resizing (picker/imaging.py), in CPython."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.fuzzing import FUZZ
from picker.fperror import FPError
from picker.imaging import (
    Box,
    CropRules,
    ImageRules,
    crop_limits,
    fits_canvas,
    initial_box,
    key_step,
    looks_whole,
    may_edit,
    moved,
    parse_ratio,
    plan,
    renamed,
    resized,
    rotated_box,
    target_size,
)
from picker.options import OPTIONS, NotYet, parse_call, parse_picker_options


@pytest.mark.parametrize(
    ("size", "dim", "expected"),
    [
        ((4000, 3000), (800, 600), (800, 600)),  # same ratio: exactly the box
        ((4000, 3000), (800, 800), (800, 600)),  # the width is the tighter side
        ((3000, 4000), (800, 800), (600, 800)),
        ((400, 300), (800, 600), (800, 600)),  # upscaled too
        ((4000, 3000), (800, None), (800, 600)),
        ((4000, 3000), (None, 600), (800, 600)),
        ((1000, 333), (None, 100), (300, 100)),
        ((333, 1000), (100, None), (100, 300)),
        ((1000, 10), (10, None), (10, 1)),  # never below one pixel
    ],
)
def test_image_dim_scales_up_or_down_keeping_the_aspect_ratio(size, dim, expected):
    assert target_size(size[0], size[1], ImageRules(dim=dim)) == expected


@pytest.mark.parametrize(
    ("size", "maximum", "expected"),
    [
        ((6000, 4000), (1600, 1600), (1600, 1067)),
        ((4000, 6000), (1600, 1600), (1067, 1600)),
        ((6000, 4000), (800, 600), (800, 533)),  # not 800x600: the ratio is not the box's
        ((800, 600), (800, 600), (800, 600)),  # within bounds: untouched
        ((100, 50), (800, 600), (100, 50)),  # smaller: never upscaled by a maximum
        ((900, 100), (800, 600), (800, 89)),
    ],
)
def test_image_max_only_scales_down_bigger_images(size, maximum, expected):
    assert target_size(size[0], size[1], ImageRules(max=maximum)) == expected


@pytest.mark.parametrize(
    ("size", "minimum", "expected"),
    [
        ((400, 300), (800, 600), (800, 600)),
        ((400, 200), (800, 600), (1200, 600)),  # both sides reach their minimum
        ((200, 400), (800, 600), (800, 1600)),
        ((1000, 100), (800, 600), (6000, 600)),
        ((900, 700), (800, 600), (900, 700)),  # big enough: untouched
    ],
)
def test_image_min_only_scales_up_smaller_images(size, minimum, expected):
    assert target_size(size[0], size[1], ImageRules(min=minimum)) == expected


def test_the_maximum_has_the_last_word():
    assert target_size(100, 100, ImageRules(dim=(50, None), min=(400, 400), max=(200, 300))) == (200, 200)


@given(
    st.integers(1, 9000), st.integers(1, 9000),
    st.integers(1, 4000), st.integers(1, 4000),
)
@FUZZ
def test_a_maximum_is_always_met_and_the_ratio_kept_to_a_pixel(width, height, max_w, max_h):
    w, h = target_size(width, height, ImageRules(max=(max_w, max_h)))
    assert w <= max(max_w, 1) and h <= max(max_h, 1)
    assert (w, h) == (width, height) or w == max_w or h == max_h
    # the side that followed is the other times the ratio, rounded
    assert abs(w * height - h * width) <= max(width, height)


def test_an_image_within_bounds_with_no_quality_asked_is_left_as_it_is():
    assert plan("image/jpeg", 800, 600, ImageRules(max=(800, 600))) is None
    assert plan("image/png", 80, 60, ImageRules(max=(800, 600))) is None


def test_a_quality_reencodes_a_jpeg_only():
    assert plan("image/jpeg", 80, 60, ImageRules(quality=80)) == plan("image/jpeg", 80, 60, ImageRules(quality=80))
    jpeg = plan("image/jpeg", 80, 60, ImageRules(quality=80))
    assert jpeg is not None and (jpeg.size, jpeg.mimetype, jpeg.quality) == ((80, 60), "image/jpeg", 0.8)
    assert plan("image/png", 80, 60, ImageRules(quality=80)) is None
    assert not may_edit("image/png", ImageRules(quality=80))
    assert may_edit("image/jpeg", ImageRules(quality=0))


def test_resized_images_keep_their_type_and_transparency():
    png = plan("image/png", 800, 600, ImageRules(max=(400, 400), quality=50))
    assert png is not None and (png.size, png.mimetype, png.quality) == ((400, 300), "image/png", None)
    webp = plan("image/webp", 800, 600, ImageRules(max=(400, 400)))
    assert webp is not None and webp.mimetype == "image/webp"
    heic = plan("image/heic", 800, 600, ImageRules(max=(400, 400), quality=70))
    assert heic is not None and (heic.mimetype, heic.quality) == ("image/jpeg", 0.7)
    gif = plan("image/gif", 800, 600, ImageRules(max=(400, 400)))
    assert gif is not None and gif.mimetype == "image/png"


def test_sizes_beyond_what_a_page_should_draw_are_told():
    assert fits_canvas(6000, 4000) and fits_canvas(16384, 1)
    assert not fits_canvas(16385, 1) and not fits_canvas(9000, 9000) and not fits_canvas(0, 10)


def test_non_images_are_never_edited():
    rules = ImageRules(dim=(10, 10), quality=10)
    for mimetype in ("application/pdf", "text/plain", "video/mp4", "image/svg+xml", "application/octet-stream"):
        assert not may_edit(mimetype, rules)
    assert not may_edit("image/jpeg", ImageRules())


def test_truncated_images_are_told_by_their_ending():
    assert looks_whole("image/jpeg", b"..\xff\xd9ftypmp42")  # left to the decoder
    assert looks_whole("image/png", b"\x00\x00\x00\x00IEND\xaeB`\x82")
    assert not looks_whole("image/png", b"IDAT\x00\x01\x02")
    assert looks_whole("image/webp", b"anything")


@pytest.mark.parametrize(
    ("name", "mimetype", "expected"),
    [
        ("IMG_1.HEIC", "image/jpeg", "IMG_1.jpg"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("photo.JPG", "image/jpeg", "photo.JPG"),
        ("still.gif", "image/png", "still.png"),
        ("noext", "image/png", "noext.png"),
        (".hidden", "image/png", ".hidden.png"),
        ("a.b.png", "image/png", "a.b.png"),
    ],
)
def test_the_filename_follows_a_new_type(name, mimetype, expected):
    assert renamed(name, mimetype) == expected


def test_the_options_are_parsed_into_rules():
    options = parse_picker_options(
        {"imageDim": [800, None], "imageMax": ["1600", 1600.0], "imageMin": [10, 20], "imageQuality": "80"}
    )
    assert options.images == ImageRules(dim=(800, None), max=(1600, 1600), min=(10, 20), quality=80)
    assert parse_picker_options({"imageDim": [None, 600]}).images.dim == (None, 600)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("imageDim", [None, None]), ("imageDim", [800]), ("imageDim", "800x600"), ("imageDim", [0, 10]),
        ("imageMax", [800, None]), ("imageMin", [-1, 5]), ("imageQuality", 101), ("imageQuality", -1),
        ("imageQuality", "high"),
    ],
)
def test_bad_values_are_refused(name, value):
    with pytest.raises(FPError) as raised:
        parse_picker_options({name: value})
    assert raised.value.code == 400


def test_the_resize_options_are_no_longer_warned_about():
    for name in ("imageQuality", "imageDim", "imageMax", "imageMin"):
        assert not isinstance(OPTIONS[name], NotYet)
    call = parse_call("pickAndStore", [{"imageMax": [800, 600], "imageQuality": 80}, {}])
    assert call.warnings == ()


# The crop box.

@pytest.mark.parametrize(
    ("value", "expected"),
    [(16 / 9, 16 / 9), (4 / 3, 4 / 3), (2, 2.0), ("16/9", 16 / 9), (" 4 / 3 ", 4 / 3), ("3:2", 1.5), ("1.5", 1.5),
     ("0/9", None), ("16/0", None), ("wide", None), (-1, None), (True, None), (None, None), ([16, 9], None)],
)
def test_crop_ratio_is_a_number_or_a_ratio_string(value, expected):
    assert parse_ratio(value) == expected


def test_crop_limits_apply_only_where_the_image_is_big_enough():
    assert crop_limits(1000, 800, CropRules(max=(600, 400), min=(100, 50))) == (100, 50, 600, 400)
    assert crop_limits(300, 200, CropRules(max=(600, 400))) == (1, 1, 300, 200)
    assert crop_limits(300, 200, CropRules(min=(400, 100))) == (300, 100, 300, 200)


def test_the_box_opens_centred_at_the_largest_size_allowed():
    assert initial_box(1600, 900, CropRules()) == Box(0, 0, 1600, 900)
    assert initial_box(1600, 1200, CropRules(ratio=16 / 9)) == Box(0, 150, 1600, 900)
    assert initial_box(1000, 1000, CropRules(max=(400, 300))) == Box(300, 350, 400, 300)
    assert initial_box(1000, 1000, CropRules(ratio=1, max=(400, 300))) == Box(350, 350, 300, 300)


def test_crop_dim_is_a_fixed_box_that_fills_a_smaller_image():
    rules = CropRules(dim=(800, 600))
    assert initial_box(2000, 1000, rules) == Box(600, 200, 800, 600)
    assert initial_box(500, 400, rules) == Box(0, 0, 500, 400)
    box = initial_box(2000, 1000, rules)
    assert resized(box, 100, 100, 2000, 1000, rules) == box
    assert key_step(box, "ArrowRight", True, 2000, 1000, rules) == box
    assert key_step(box, "ArrowRight", False, 2000, 1000, rules) == Box(610, 200, 800, 600)


def test_the_box_moves_only_within_the_image():
    box = Box(10, 10, 100, 50)
    assert moved(box, -50, 5, 400, 300) == Box(0, 15, 100, 50)
    assert moved(box, 1000, 1000, 400, 300) == Box(300, 250, 100, 50)


def test_keyboard_steps_move_and_with_shift_resize():
    rules, box = CropRules(), Box(100, 100, 200, 100)
    assert key_step(box, "ArrowLeft", False, 1000, 1000, rules) == Box(90, 100, 200, 100)
    assert key_step(box, "ArrowDown", False, 1000, 1000, rules) == Box(100, 110, 200, 100)
    assert key_step(box, "ArrowRight", True, 1000, 1000, rules) == Box(100, 100, 210, 100)
    assert key_step(box, "ArrowUp", True, 1000, 1000, rules) == Box(100, 100, 200, 90)
    assert key_step(box, "Enter", True, 1000, 1000, rules) == box
    assert key_step(Box(0, 0, 1, 1), "ArrowLeft", True, 10, 10, rules) == Box(0, 0, 1, 1)


def test_resizing_keeps_the_ratio_and_the_limits():
    rules = CropRules(ratio=2, min=(100, 20), max=(600, 600))
    box = Box(0, 0, 200, 100)
    assert key_step(box, "ArrowRight", True, 1000, 1000, rules) == Box(0, 0, 210, 105)
    assert key_step(box, "ArrowDown", True, 1000, 1000, rules) == Box(0, 0, 210, 105)
    assert resized(box, 5000, 10, 1000, 1000, rules) == Box(0, 0, 600, 300)
    assert resized(box, 10, 10, 1000, 1000, rules) == Box(0, 0, 100, 50)
    # at the image's edge the box moves back to stay on it
    assert resized(Box(900, 900, 100, 50), 400, 0, 1000, 1000, rules) == Box(600, 800, 400, 200)


@given(st.integers(1, 3000), st.integers(1, 3000), st.floats(0.2, 5), st.integers(1, 400), st.integers(1, 400))
@FUZZ
def test_any_resize_stays_on_the_image_within_the_ratio(width, height, ratio, new_w, new_h):
    rules = CropRules(ratio=ratio)
    box = resized(initial_box(width, height, rules), new_w, new_h, width, height, rules)
    assert box.x >= 0 and box.y >= 0 and box.x + box.width <= width and box.y + box.height <= height
    assert box.width >= 1 and box.height >= 1
    assert abs(box.width / ratio - box.height) <= 1 or box.height == height or box.width == 1


def test_rotating_turns_the_box_with_the_pixels_in_it():
    box = Box(10, 20, 30, 40)  # on a 100 x 50 image
    right = rotated_box(box, 100, 50, clockwise=True)  # the image is now 50 x 100
    assert right == Box(50 - 20 - 40, 10, 40, 30)
    assert rotated_box(right, 50, 100, clockwise=False) == box
    turned = box
    for _ in range(4):
        turned = rotated_box(turned, *((100, 50) if turned.width == 30 else (50, 100)), clockwise=True)
    assert turned == box
