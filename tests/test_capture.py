"""The capture sources' decisions (picker/capture.py), in CPython: what the camera is asked for, a
photo's size and crop, the file names, the recording type and its extension, when a recording
stops, the countdown, and what a refused camera is called."""

from __future__ import annotations

import pytest

from picker.capture import (
    AUDIO_TYPES,
    VIDEO_TYPES,
    Stop,
    base_type,
    crop,
    device_key,
    extension_for,
    file_name,
    level,
    media_error,
    mirrored,
    photo_size,
    recording_constraints,
    recording_type,
    stop_for,
    time_left,
    unfit,
    video_constraints,
    with_devices,
)
from picker.fperror import BAD_PARAMETERS, FPError
from picker.options import parse_call


def test_webcam_dim_is_asked_as_an_ideal_and_640x480_without_it():
    assert video_constraints((1280, 720)) == {"width": {"ideal": 1280}, "height": {"ideal": 720}}
    assert video_constraints(None) == {"width": {"ideal": 640}, "height": {"ideal": 480}}
    assert recording_constraints("320x240") == {"width": {"ideal": 320, "max": 320}, "height": {"ideal": 240, "max": 240}}


@pytest.mark.parametrize(
    ("asked", "given", "size"),
    [
        ((320, 240), (640, 480), (320, 240)),  # the camera covers it: what was asked
        ((640, 480), (640, 480), (640, 480)),
        ((1280, 720), (640, 480), (640, 480)),  # the camera gives less: the camera's size
        ((600, 600), (640, 480), (640, 480)),  # less in one direction is less
        (None, (1920, 1080), (1920, 1080)),
    ],
)
def test_a_photo_is_the_size_asked_unless_the_camera_gives_less(asked, given, size):
    assert photo_size(asked, given) == size


@pytest.mark.parametrize(
    ("source", "target", "part"),
    [
        ((640, 480), (320, 240), (0, 0, 640, 480)),  # same shape: all of it
        ((640, 480), (480, 480), (80, 0, 480, 480)),  # square from 4:3: the middle
        ((1280, 720), (640, 480), (160, 0, 960, 720)),
        ((640, 480), (640, 240), (0, 120, 640, 240)),  # wider target: a band across the middle
    ],
)
def test_a_photo_of_another_shape_is_cropped_from_the_middle_never_stretched(source, target, part):
    assert crop(source, target) == part
    _, _, w, h = part
    assert abs(w * target[1] - h * target[0]) <= max(target)  # same aspect ratio, to a pixel


def test_a_camera_mirrors_unless_it_faces_away():
    assert mirrored("user") and mirrored(None) and mirrored("")
    assert not mirrored("environment")


def test_file_names_tell_what_and_when_and_never_repeat_in_a_pick():
    moment = (2026, 12, 2, 10, 15, 3)
    assert file_name("webcam", moment, ".jpg") == "webcam-2026-12-02-10-15-03.jpg"
    assert file_name("webcam", moment, ".jpg", ["webcam-2026-12-02-10-15-03.jpg"]) == "webcam-2026-12-02-10-15-03-2.jpg"
    taken = ["video-2026-01-09-08-05-00.webm", "video-2026-01-09-08-05-00-2.webm"]
    assert file_name("video", (2026, 1, 9, 8, 5, 0), ".webm", taken) == "video-2026-01-09-08-05-00-3.webm"


def test_the_recording_type_is_the_first_the_browser_can_record():
    chromium = {"video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus", "video/webm", "audio/webm;codecs=opus", "audio/webm"}
    safari = {"video/mp4", "audio/mp4"}
    assert recording_type(VIDEO_TYPES, chromium.__contains__) == "video/webm;codecs=vp9,opus"
    assert recording_type(VIDEO_TYPES, safari.__contains__) == "video/mp4"
    assert recording_type(AUDIO_TYPES, chromium.__contains__) == "audio/webm;codecs=opus"
    assert recording_type(AUDIO_TYPES, safari.__contains__) == "audio/mp4"
    assert recording_type(VIDEO_TYPES, lambda t: False) is None


@pytest.mark.parametrize(
    ("mimetype", "base", "extension"),
    [
        ("video/webm;codecs=vp9,opus", "video/webm", ".webm"),
        ("video/mp4; codecs=avc1", "video/mp4", ".mp4"),
        ("audio/webm;codecs=opus", "audio/webm", ".weba"),
        ("audio/ogg;codecs=opus", "audio/ogg", ".ogg"),
        ("audio/mp4", "audio/mp4", ".m4a"),
        ("image/jpeg", "image/jpeg", ".jpg"),
        ("video/x-matroska;codecs=avc1", "video/x-matroska", ".x-matroska"),
    ],
)
def test_the_extension_and_the_blob_type_match_what_was_recorded(mimetype, base, extension):
    assert base_type(mimetype) == base
    assert extension_for(mimetype) == extension


def test_a_recording_stops_at_its_length_or_before_it_could_pass_max_size():
    assert stop_for(2.9, 3, 10_000, 4_000, None) is None
    assert stop_for(3.0, 3, 10_000, 4_000, None) == Stop("length")
    assert stop_for(1.0, 3600, 10_000, 4_000, 20_000) is None
    assert stop_for(1.0, 3600, 12_000, 4_000, 20_000) == Stop("size")  # two more chunks would reach it
    assert stop_for(5.0, 5, 12_000, 4_000, 20_000) == Stop("length")


@pytest.mark.parametrize(
    ("elapsed", "limit", "shown"),
    [(0, 3600, "1:00:00"), (0.5, 3600, "1:00:00"), (1, 300, "4:59"), (7.9, 10, "0:03"), (12, 10, "0:00"), (0, 5400, "1:30:00")],
)
def test_the_countdown_shows_the_whole_seconds_left(elapsed, limit, shown):
    assert time_left(elapsed, limit) == shown


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("NotAllowedError", "refused"),
        ("SecurityError", "refused"),
        ("NotFoundError", "none"),
        ("OverconstrainedError", "none"),
        ("NotReadableError", "busy"),
        ("TypeError", "other"),
    ],
)
def test_each_camera_failure_has_its_message(name, problem):
    assert media_error(name) == problem


def test_the_level_is_the_peak_of_the_samples():
    assert level(b"") == 0.0
    assert level(bytes([128] * 512)) == 0.0
    assert level(bytes([128, 192, 128, 64])) == 0.5
    assert level(bytes([0, 255])) == 1.0


@pytest.mark.parametrize(
    ("service", "mimetypes", "extensions", "fits"),
    [
        ("WEBCAM", ("image/*",), (), True),
        ("VIDEO", ("image/*",), (), False),
        ("AUDIO", ("image/*", "audio/*"), (), True),
        ("VIDEO", ("video/mp4",), (), True),
        ("WEBCAM", (), (".png",), False),
        ("WEBCAM", (), (".JPG",), True),
        ("AUDIO", (), (".webm",), False),
        ("VIDEO", (), (".webm",), True),
        ("COMPUTER", ("image/*",), (), True),  # not a capture source: not for this rule
        ("VIDEO", (), (), True),
    ],
)
def test_a_capture_source_is_unfit_when_nothing_it_makes_could_pass(service, mimetypes, extensions, fits):
    assert (unfit(service, mimetypes, extensions) is None) == fits


def test_capture_sources_that_could_never_be_picked_are_hidden_and_named_ones_said_why():
    default = parse_call("pickAndStore", [{"mimetype": "image/*"}, {}])
    assert default.picker.services == ("COMPUTER", "WEBCAM")
    assert default.warnings == ()  # the page named none of them
    named = parse_call("pickAndStore", [{"mimetype": "image/*", "services": ["VIDEO", "WEBCAM", "AUDIO"]}, {}])
    assert named.picker.services == ("WEBCAM",)
    assert named.warnings == (
        "filepicker: services left out of the dialog, since nothing they make could be picked: "
        "VIDEO: it makes video/webm, video/mp4, which mimetype image/* refuses; "
        "AUDIO: it makes audio/webm, audio/ogg, audio/mp4, which mimetype image/* refuses",
    )
    with pytest.raises(FPError) as caught:
        parse_call("pickAndStore", [{"extension": "png", "services": ["VIDEO", "WEBCAM"]}, {}])
    assert caught.value.code == BAD_PARAMETERS
    assert "VIDEO: it makes .webm, .mp4 files, which extension .png refuses" in caught.value.message


def test_a_remembered_device_is_asked_for_exactly_with_the_rest():
    video = video_constraints((320, 240))
    asked = with_devices({"video": video, "audio": True}, {"video": "cam-2", "audio": "mic-1"})
    assert asked == {"video": {**video, "deviceId": {"exact": "cam-2"}}, "audio": {"deviceId": {"exact": "mic-1"}}}
    assert with_devices({"audio": True, "video": False}, {"audio": None, "video": "cam-2"}) == {"audio": True, "video": False}
    assert device_key("audio") == "pickstore.device.audio"
