"""The capture sources as the user meets them, in Chromium with a fake camera that plays a known
picture (640x480, red left half, blue right half: harness/fake_devices.py): the photo taken and
stored at webcamDim or at the camera's size when it gives less, never mirrored though the preview
is; the keyboard alone takes one; the camera is released after each flow; what went wrong is said
in the panel; axe-core finds nothing in each state."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from harness.accessibility import axe_violations
from harness.dialogs import HostPage
from harness.fake_devices import CAMERA_SIZE, track_states
from harness.picking import DIALOG, LOCALE, downloaded, start_pick

READY = f"{DIALOG} .take:not([aria-disabled])"
NAME = re.compile(r"^webcam-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.jpg$")


def open_webcam(page, **options) -> None:
    start_pick(page, "pickAndStore", {"services": ["WEBCAM"], **options}, {})
    page.locator(READY).wait_for(timeout=15_000)


def wait_released(page) -> list[str]:
    page.wait_for_function("(window.capturedStreams || []).every(s => s.getTracks().every(t => t.readyState === 'ended'))",
                           timeout=5_000)
    return track_states(page)


def stored_photo(shared: HostPage) -> tuple[dict, Image.Image]:
    result = shared.outcome()
    assert result["kind"] == "success", result
    image = Image.open(io.BytesIO(downloaded(result["value"]["url"])))
    image.load()
    return result["value"], image


def assert_camera_picture(image: Image.Image) -> None:
    """Red on the left and blue on the right, as the camera sees them: not mirrored."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    left, right = (rgb.getpixel((x, height // 2)) for x in (width // 8, width - width // 8))
    assert isinstance(left, tuple) and isinstance(right, tuple)
    assert left[0] > 180 and left[2] < 80, left
    assert right[2] > 180 and right[0] < 80, right


@pytest.mark.parametrize(
    ("dim", "size"),
    [((320, 240), (320, 240)), ((1280, 720), CAMERA_SIZE)],
    ids=["within the camera", "beyond the camera"],
)
def test_a_photo_is_stored_as_a_jpeg_of_webcam_dim_or_of_the_cameras_size(camera_page, dim, size):
    page = camera_page.page
    open_webcam(page, webcamDim=list(dim))
    preview = page.locator(f"{DIALOG} video.preview")
    assert preview.evaluate("v => getComputedStyle(v).transform") == "matrix(-1, 0, 0, 1, 0, 0)"  # a mirror
    assert track_states(page) == ["live"]
    page.locator(READY).click()
    page.locator(f"{DIALOG} img.photo").wait_for()
    assert wait_released(page) == ["ended"]  # released once the photo is taken
    assert page.locator(f"{DIALOG} img.photo").evaluate("i => [i.naturalWidth, i.naturalHeight]") == list(size)
    page.locator(f"{DIALOG} .use").click()
    blob, image = stored_photo(camera_page)
    assert image.format == "JPEG"
    assert image.size == size
    assert_camera_picture(image)
    assert blob["mimetype"] == "image/jpeg"
    assert NAME.match(blob["filename"]), blob["filename"]
    assert not [w for w in camera_page.warnings if "webcamDim" in w]  # it works: no not-yet warning


def test_the_keyboard_alone_takes_retakes_and_uses_a_photo(camera_page):
    page = camera_page.page
    open_webcam(page, openTo="WEBCAM")
    focused = "() => document.querySelector('[data-pickstore]').shadowRoot.activeElement?.className"
    assert page.evaluate(focused) == "choose take"  # the dialog opens with the take button focused
    page.keyboard.press("Space")
    page.locator(f"{DIALOG} img.photo").wait_for()
    assert page.evaluate(focused) == "choose use"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) == "choose retake"
    page.keyboard.press("Enter")
    page.locator(READY).wait_for()
    assert page.evaluate(focused) == "choose take"
    page.keyboard.press("Enter")
    page.locator(f"{DIALOG} img.photo").wait_for()
    page.keyboard.press("Enter")
    _, image = stored_photo(camera_page)
    assert image.size == CAMERA_SIZE
    assert wait_released(page) == ["ended", "ended"]


def test_leaving_the_panel_or_closing_the_dialog_releases_the_camera(camera_page):
    page = camera_page.page
    start_pick(page, "pickAndStore", {"services": ["WEBCAM", "COMPUTER"]}, {})
    page.locator(READY).wait_for()
    assert track_states(page) == ["live"]
    page.locator(f"{DIALOG} [role=tab]", has_text=LOCALE["source.computer"]).click()
    assert wait_released(page) == ["ended"]
    page.locator(f"{DIALOG} [role=tab]", has_text=LOCALE["source.webcam"]).click()
    page.locator(READY).wait_for()
    assert track_states(page) == ["ended", "live"]
    page.keyboard.press("Escape")
    assert wait_released(page) == ["ended", "ended"]
    assert camera_page.outcome()["value"]["code"] == 101


def test_the_panel_in_each_state_has_no_accessibility_violations(camera_page):
    page = camera_page.page
    open_webcam(page)
    assert axe_violations(page) == []
    page.locator(READY).click()
    page.locator(f"{DIALOG} img.photo").wait_for()
    assert axe_violations(page) == []
    page.keyboard.press("Escape")


def refused_text() -> str:
    return LOCALE["capture.error.refused"].format(device=LOCALE["capture.device.camera"])


def test_a_refused_camera_is_said_in_the_panel_with_how_to_allow_it_and_nothing_is_picked(refused_camera_page):
    page = refused_camera_page.page
    start_pick(page, "pickAndStore", {"services": ["WEBCAM"]}, {})
    error = page.locator(f"{DIALOG} .capture-error")
    error.wait_for()
    assert error.inner_text() == refused_text()
    assert page.locator(f"{DIALOG} .retry").is_visible()
    assert axe_violations(page) == []
    page.wait_for_timeout(300)
    assert page.evaluate("window.calls") == []
    page.locator(f"{DIALOG} .retry").click()  # still refused: said again, never a blank panel
    error.wait_for()
    assert error.inner_text() == refused_text()
    assert page.evaluate("window.calls") == []


def test_no_camera_is_said_in_the_panel_and_nothing_is_picked(deviceless_page):
    page = deviceless_page.page
    start_pick(page, "pickAndStore", {"services": ["WEBCAM"]}, {})
    error = page.locator(f"{DIALOG} .capture-error")
    error.wait_for()
    assert error.inner_text() == LOCALE["capture.error.none"].format(device=LOCALE["capture.device.camera"])
    page.wait_for_timeout(300)
    assert page.evaluate("window.calls") == []
