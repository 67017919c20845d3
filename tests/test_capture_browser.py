"""The capture sources as the user meets them, in Chromium with a fake camera that plays a known
picture (640x480, red left half, blue right half: harness/fake_devices.py): the photo taken and
stored at webcamDim or at the camera's size when it gives less, never mirrored though the preview
is; the keyboard alone takes one; the camera is released after each flow; what went wrong is said
in the panel; axe-core finds nothing in each state."""

from __future__ import annotations

import io
import json
import re
import subprocess

import pytest
from PIL import Image

from harness.accessibility import axe_violations
from harness.dialogs import HostPage
from harness.fake_devices import CAMERA_SIZE, track_states
from harness.picking import DIALOG, LOCALE, downloaded, start_pick

READY = f"{DIALOG} .take:not([aria-disabled])"
FFPROBE = "/usr/bin/ffprobe"  # Debian's ffmpeg, which `make test` installs
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
    return LOCALE["capture.error.refused.camera"]


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
    assert error.inner_text() == LOCALE["capture.error.none.camera"]
    page.wait_for_timeout(300)
    assert page.evaluate("window.calls") == []


def probe(path) -> dict:
    """What ffprobe (Debian's ffmpeg) reads in a recording: its container, its streams, and its
    length as the time of its last packet (MediaRecorder writes WebM without a duration)."""
    found = json.loads(subprocess.run(
        [FFPROBE, "-v", "error", "-show_format", "-show_streams", "-show_entries", "packet=pts_time", "-of", "json", str(path)],
        check=True, capture_output=True, text=True, timeout=60).stdout)
    times = [float(p["pts_time"]) for p in found.get("packets", []) if p.get("pts_time") not in (None, "N/A")]
    return {"format": found["format"]["format_name"], "streams": found["streams"], "length": max(times, default=0.0)}


def stored_recording(shared: HostPage, tmp_path) -> tuple[dict, dict]:
    result = shared.outcome()
    assert result["kind"] == "success", result
    path = tmp_path / result["value"]["filename"]
    path.write_bytes(downloaded(result["value"]["url"]))
    return result["value"], probe(path)


def test_a_video_stops_by_itself_at_video_len_and_is_stored_as_the_webm_it_was(pattern_camera_page, tmp_path):
    camera_page = pattern_camera_page
    page = camera_page.page
    page.evaluate("window.calls = []; window.capturedStreams = []")
    start_pick(page, "pickAndStore", {"services": ["VIDEO"], "webcam": {"videoRes": "320x240", "videoLen": 2}}, {})
    page.locator(f"{DIALOG} .record:not([aria-disabled])").wait_for(timeout=15_000)
    assert page.locator(f"{DIALOG} [role=timer]").inner_text() == "0:02"
    assert track_states(page) == ["live", "live"]  # camera and microphone
    page.locator(f"{DIALOG} .record").click()
    page.locator(f"{DIALOG} [role=timer]", has_text="0:01").wait_for()  # the time left counts down
    page.locator(f"{DIALOG} video.playback").wait_for(timeout=10_000)  # stopped by itself
    assert wait_released(page) == ["ended", "ended"]
    note = LOCALE["capture.stopped.length"].format(time="0:02")
    assert page.locator(f"{DIALOG} [role=status]").inner_text() == note
    assert axe_violations(page) == []
    page.locator(f"{DIALOG} .use").click()
    blob, recording = stored_recording(camera_page, tmp_path)
    assert blob["mimetype"] == "video/webm"
    assert re.match(r"^video-\d{4}(-\d{2}){5}\.webm$", blob["filename"]), blob["filename"]
    assert "webm" in recording["format"]
    kinds = {s["codec_type"]: s for s in recording["streams"]}
    assert set(kinds) == {"video", "audio"}
    assert (kinds["video"]["width"], kinds["video"]["height"]) == (320, 240)  # videoRes
    assert 1.0 <= recording["length"] <= 2.5, recording["length"]


def test_an_audio_recording_shows_its_level_stops_on_the_keyboard_and_is_stored(camera_page, tmp_path):
    page = camera_page.page
    start_pick(page, "pickAndStore", {"services": ["AUDIO"], "webcam": {"audioLen": 30}}, {})
    toggle = page.locator(f"{DIALOG} .record:not([aria-disabled])")
    toggle.wait_for(timeout=15_000)
    assert track_states(page) == ["live"]
    assert page.locator(f"{DIALOG} [role=timer]").inner_text() == "0:30"
    # The fake microphone beeps: the meter shows it hears something.
    page.wait_for_function(
        "() => document.querySelector('[data-pickstore]').shadowRoot.querySelector('meter.level').value > 0.05", timeout=5_000)
    assert axe_violations(page) == []
    page.keyboard.press("Space")  # the dialog opened with the start button focused
    page.locator(f"{DIALOG} [role=timer]", has_text="0:28").wait_for(timeout=5_000)
    page.keyboard.press("Enter")  # stop
    page.locator(f"{DIALOG} audio.playback").wait_for(timeout=10_000)
    assert wait_released(page) == ["ended"]
    assert axe_violations(page) == []
    page.keyboard.press("Enter")  # use
    blob, recording = stored_recording(camera_page, tmp_path)
    assert blob["mimetype"] == "audio/webm"
    assert re.match(r"^audio-\d{4}(-\d{2}){5}\.weba$", blob["filename"]), blob["filename"]
    assert "webm" in recording["format"]
    assert [s["codec_type"] for s in recording["streams"]] == ["audio"]
    assert recording["streams"][0]["codec_name"] == "opus"
    assert 1.5 <= recording["length"] <= 4.0, recording["length"]


def test_a_recording_stops_by_itself_before_it_could_pass_max_size(pattern_camera_page, tmp_path):
    page = pattern_camera_page.page
    page.evaluate("window.calls = []; window.capturedStreams = []")
    limit = 600_000
    start_pick(page, "pickAndStore", {"services": ["VIDEO"], "maxSize": limit, "webcam": {"videoLen": 600}}, {})
    page.locator(f"{DIALOG} .record:not([aria-disabled])").wait_for(timeout=15_000)
    page.locator(f"{DIALOG} .record").click()
    page.locator(f"{DIALOG} video.playback").wait_for(timeout=30_000)  # long before videoLen
    assert page.locator(f"{DIALOG} [role=status]").inner_text() == LOCALE["capture.stopped.size"].format(limit="586 KB")
    assert wait_released(page) == ["ended", "ended"]
    page.locator(f"{DIALOG} .use").click()
    blob, recording = stored_recording(pattern_camera_page, tmp_path)
    assert 0 < blob["size"] <= limit
    assert recording["length"] < 30


def test_capture_sources_the_restriction_would_refuse_are_not_shown_and_the_console_says_why(camera_page):
    page = camera_page.page
    start_pick(page, "pickAndStore", {"mimetype": "image/*", "services": ["VIDEO", "WEBCAM", "AUDIO"]}, {})
    page.locator(READY).wait_for(timeout=15_000)
    assert page.locator(f"{DIALOG} [role=tab]").all_inner_texts() == [LOCALE["source.webcam"]]
    [warning] = [w for w in camera_page.warnings if "services left out" in w]
    assert "VIDEO: it makes video/webm" in warning and "AUDIO: it makes audio/webm" in warning
    page.keyboard.press("Escape")
    camera_page.outcome()
    page.evaluate("window.calls = []")
    start_pick(page, "pickAndStore", {"mimetype": "image/*", "services": ["VIDEO"]}, {})
    result = camera_page.outcome()
    assert (result["kind"], result["value"]["code"]) == ("error", 400)
    assert "VIDEO: it makes video/webm, video/mp4, which mimetype image/* refuses" in result["value"]["message"]
    assert page.locator(DIALOG).count() == 0


def last_track_label(page, kind: str) -> str:
    label: str = page.evaluate(
        "kind => { const s = window.capturedStreams.at(-1);"
        " return (kind === 'audio' ? s.getAudioTracks() : s.getVideoTracks())[0].label; }",
        kind)
    return label


def test_a_chosen_microphone_is_used_and_remembered_for_the_next_pick_on_the_site(camera_page):
    page = camera_page.page
    chooser = page.locator(f"{DIALOG} select[data-device=audio]")
    try:
        start_pick(page, "pickAndStore", {"services": ["AUDIO"]}, {})
        page.locator(f"{DIALOG} .record:not([aria-disabled])").wait_for(timeout=15_000)
        labels = chooser.locator("option").all_inner_texts()
        assert len(labels) == 3 and "Fake Audio Input 2" in labels  # Chromium's three fake microphones
        assert page.get_by_label(LOCALE["capture.choose.audio"], exact=True).evaluate("s => s.dataset.device") == "audio"
        assert axe_violations(page) == []
        chooser.select_option(label="Fake Audio Input 2")
        page.wait_for_function("window.capturedStreams.length === 2")
        page.locator(f"{DIALOG} .record:not([aria-disabled])").wait_for(timeout=15_000)
        assert last_track_label(page, "audio") == "Fake Audio Input 2"
        assert track_states(page) == ["ended", "live"]  # the first microphone let go
        page.keyboard.press("Escape")
        wait_released(page)
        page.evaluate("window.calls = []")
        start_pick(page, "pickAndStore", {"services": ["AUDIO"]}, {})  # the next pick
        page.locator(f"{DIALOG} .record:not([aria-disabled])").wait_for(timeout=15_000)
        assert last_track_label(page, "audio") == "Fake Audio Input 2"
        assert chooser.evaluate("s => s.selectedOptions[0].textContent") == "Fake Audio Input 2"
        page.keyboard.press("Escape")
        assert wait_released(page) == ["ended"] * 3
    finally:
        page.evaluate("localStorage.clear()")


def test_a_remembered_device_that_is_gone_gives_way_to_the_default_one(camera_page):
    page = camera_page.page
    try:
        page.evaluate("localStorage.setItem('pickstore.device.audio', 'a-microphone-unplugged-since')")
        start_pick(page, "pickAndStore", {"services": ["AUDIO"]}, {})
        page.locator(f"{DIALOG} .record:not([aria-disabled])").wait_for(timeout=15_000)
        assert track_states(page) == ["live"]
        assert page.locator(f"{DIALOG} .capture-error").count() == 0
        page.keyboard.press("Escape")
        assert wait_released(page) == ["ended"]
    finally:
        page.evaluate("localStorage.clear()")


@pytest.mark.parametrize("service", ["WEBCAM", "VIDEO", "AUDIO"])
def test_each_capture_panel_right_to_left_has_no_accessibility_violations(camera_page, service):
    page = camera_page.page
    start_pick(page, "pickAndStore", {"services": [service], "language": "ar"}, {})
    page.locator(f"{DIALOG} .capture .choose").first.wait_for()
    assert page.locator(f"{DIALOG} [role=dialog]").get_attribute("dir") == "rtl"
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    assert camera_page.outcome()["value"]["code"] == 101
