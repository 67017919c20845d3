"""Chromium's fake camera and microphone, as the capture tests and benchmarks use them: a camera
playing a Y4M file made here (so that a test knows what the camera sees: red on its left half,
blue on its right), the launch flags, and a record in the page of every stream the page was given
(the real getUserMedia still answers; the record only lets a test read each track's readyState)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# BT.601 studio-swing Y, U, V of pure red and pure blue.
RED_YUV = (81, 90, 240)
BLUE_YUV = (41, 240, 110)
CAMERA_SIZE = (640, 480)


def camera_file(path: Path, width: int = CAMERA_SIZE[0], height: int = CAMERA_SIZE[1], frames: int = 2) -> Path:
    """A Y4M video of `width` x `height` (4:2:0), left half red and right half blue."""
    half = width // 2
    luma = (bytes([RED_YUV[0]]) * half + bytes([BLUE_YUV[0]]) * (width - half)) * height
    u_row = bytes([RED_YUV[1]]) * (half // 2) + bytes([BLUE_YUV[1]]) * ((width - half) // 2)
    v_row = bytes([RED_YUV[2]]) * (half // 2) + bytes([BLUE_YUV[2]]) * ((width - half) // 2)
    frame = b"FRAME\n" + luma + u_row * (height // 2) + v_row * (height // 2)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F20:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)
    return path


def device_flags(camera: Path | None, fake_ui: bool = False) -> list[str]:
    """Chromium's flags for fake devices (`camera`: the file it plays; None: no fake devices at
    all, so that the machine's own, none here, are what the page finds). `fake_ui` grants every
    request without asking; without it, a context's permissions decide."""
    flags = ["--use-fake-ui-for-media-stream"] if fake_ui else []
    if camera is not None:
        flags += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"]
    return flags


# Keeps every MediaStream that getUserMedia hands the page in window.capturedStreams.
RECORD_STREAMS = """(() => {
  const devices = navigator.mediaDevices;
  if (!devices) return;
  const real = devices.getUserMedia.bind(devices);
  window.capturedStreams = [];
  devices.getUserMedia = async (constraints) => {
    const stream = await real(constraints);
    window.capturedStreams.push(stream);
    return stream;
  };
})();"""


def track_states(page: Any) -> list[str]:
    """The readyState of every track of every stream the page was given: "live" or "ended"."""
    states: list[str] = page.evaluate(
        "(window.capturedStreams || []).flatMap(s => s.getTracks().map(t => t.readyState))")
    return states
