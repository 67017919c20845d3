"""The decisions of the capture sources (WEBCAM, VIDEO, AUDIO), without the browser: what to ask
the camera for, what size a photo is, what a captured file is named, which recording type to
choose from what the browser can record, and when a recording stops."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["webcam", "video", "audio"]

# The fake camera and most webcams give 640x480 when nothing else is asked for.
DEFAULT_PHOTO = (640, 480)

# What MediaRecorder is offered, best first: WebM (Chromium, Firefox), then MP4 (Safari).
VIDEO_TYPES = (
    "video/webm;codecs=vp9,opus",
    "video/webm;codecs=vp8,opus",
    "video/webm",
    "video/mp4;codecs=avc1,mp4a",
    "video/mp4",
)
AUDIO_TYPES = (
    "audio/webm;codecs=opus",
    "audio/webm",
    "audio/ogg;codecs=opus",
    "audio/mp4",
)
EXTENSIONS = {
    "video/webm": ".webm",
    "video/mp4": ".mp4",
    "audio/webm": ".weba",
    "audio/ogg": ".ogg",
    "audio/mp4": ".m4a",
}


def video_constraints(dim: tuple[int, int] | None) -> dict[str, object]:
    """The video constraints for a photo of `dim` (webcamDim): asked as ideals, so that a camera
    that cannot give as much still gives what it has rather than failing."""
    width, height = dim or DEFAULT_PHOTO
    return {"width": {"ideal": width}, "height": {"ideal": height}}


def recording_constraints(video_res: str) -> dict[str, object]:
    """The video constraints for a recording at videoRes ("640x480"): at most that size, so that
    the browser scales a larger camera down; a smaller camera still records at its own size."""
    width, height = (int(n) for n in video_res.split("x"))
    return {"width": {"ideal": width, "max": width}, "height": {"ideal": height, "max": height}}


def photo_size(asked: tuple[int, int] | None, given: tuple[int, int]) -> tuple[int, int]:
    """The photo's pixel size: what webcamDim asked for when the camera's picture covers it, else
    the camera's own size (the reference: "limited by the resolution of user's webcam")."""
    if asked is None:
        return given
    if given[0] >= asked[0] and given[1] >= asked[1]:
        return asked
    return given


def crop(source: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The centred part (x, y, width, height) of a `source` picture that fills `target` with the
    same aspect ratio, so that a photo is cropped, never stretched."""
    sw, sh = source
    tw, th = target
    if sw * th > tw * sh:  # the source is wider: trim left and right
        width = round(sh * tw / th)
        return (sw - width) // 2, 0, width, sh
    height = round(sw * th / tw)
    return 0, (sh - height) // 2, sw, height


def mirrored(facing_mode: str | None) -> bool:
    """Whether the preview shows the camera as a mirror: a camera facing the user, which is what a
    webcam that says nothing of its facing is."""
    return facing_mode != "environment"


def file_name(kind: Kind, moment: tuple[int, int, int, int, int, int], extension: str, taken: Iterable[str] = ()) -> str:
    """"webcam-2026-12-02-10-15-03.jpg" for a photo taken at that (local) moment; a second file
    of the same second in the same pick gets "-2", then "-3"."""
    stem = "{}-{:04d}-{:02d}-{:02d}-{:02d}-{:02d}-{:02d}".format(kind, *moment)
    names = set(taken)
    name, number = stem + extension, 1
    while name in names:
        number += 1
        name = f"{stem}-{number}{extension}"
    return name


def base_type(mimetype: str) -> str:
    """"video/webm" of "video/webm;codecs=vp9,opus"."""
    return mimetype.split(";")[0].strip().lower()


def recording_type(candidates: Iterable[str], supported: Callable[[str], bool]) -> str | None:
    """The first of `candidates` the browser can record (MediaRecorder.isTypeSupported), or None."""
    return next((c for c in candidates if supported(c)), None)


def extension_for(mimetype: str) -> str:
    """The file name extension of a recorded (or photo) type: ".webm" for video/webm;codecs=vp9."""
    base = base_type(mimetype)
    if base == "image/jpeg":
        return ".jpg"
    return EXTENSIONS.get(base, "." + base.partition("/")[2] if "/" in base else "")


@dataclass(frozen=True)
class Stop:
    """Why a recording stopped by itself: "length" (videoLen/audioLen reached) or "size" (maxSize)."""

    reason: Literal["length", "size"]


def stop_for(elapsed: float, limit: int, recorded: int, largest_chunk: int, max_size: int | None) -> Stop | None:
    """Whether a recording must stop now: at its length limit, or when one more chunk as large as
    the largest so far could take it past maxSize (it stops below the limit, never past it)."""
    if elapsed >= limit:
        return Stop("length")
    if max_size is not None and recorded + 2 * largest_chunk >= max_size:
        return Stop("size")
    return None


def time_left(elapsed: float, limit: int) -> str:
    """The countdown the user sees: "1:00:00", "4:59", "0:03"."""
    seconds = max(0, limit - int(elapsed))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


# What went wrong, from the DOMException's name getUserMedia rejects with; each problem's message
# is "capture.error.<problem>" in the locales. "insecure" and "unsupported" come from the page itself.
Problem = Literal["refused", "none", "busy", "insecure", "unsupported", "other"]
MEDIA_ERRORS: Mapping[str, Problem] = {
    "NotAllowedError": "refused",
    "SecurityError": "refused",
    "NotFoundError": "none",
    "OverconstrainedError": "none",
    "NotReadableError": "busy",
    "AbortError": "busy",
}


def media_error(name: str) -> Problem:
    """The problem a getUserMedia failure named `name` is to the user."""
    return MEDIA_ERRORS.get(name, "other")


def level(samples: bytes) -> float:
    """How loud a stretch of sound is, 0 (silence) to 1, from 8-bit samples centred on 128 (what an
    AnalyserNode's getByteTimeDomainData gives): the peak, so that speech shows at once."""
    if not samples:
        return 0.0
    return min(1.0, max(abs(s - 128) for s in samples) / 128)


# What each capture source makes, as types and file name extensions (any of which it may choose).
OUTPUTS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "WEBCAM": (("image/jpeg",), (".jpg",)),
    "VIDEO": (tuple(dict.fromkeys(base_type(t) for t in VIDEO_TYPES)), tuple(dict.fromkeys(extension_for(t) for t in VIDEO_TYPES))),
    "AUDIO": (tuple(dict.fromkeys(base_type(t) for t in AUDIO_TYPES)), tuple(dict.fromkeys(extension_for(t) for t in AUDIO_TYPES))),
}


def _type_passes(pattern: str, mimetype: str) -> bool:
    pattern = pattern.lower()
    if pattern in ("*/*", "*"):
        return True
    return mimetype.startswith(pattern[:-1]) if pattern.endswith("/*") else pattern == mimetype


def unfit(service: str, mimetypes: Sequence[str], extensions: Sequence[str]) -> str | None:
    """Why nothing `service` captures could pass the page's mimetype or extension restriction
    (for the console), or None when something could (and for every service that captures nothing)."""
    if service not in OUTPUTS:
        return None
    types, suffixes = OUTPUTS[service]
    if mimetypes and not any(_type_passes(p, t) for p in mimetypes for t in types):
        return f"it makes {', '.join(types)}, which mimetype {', '.join(mimetypes)} refuses"
    if extensions and not {e.lower() for e in extensions} & set(suffixes):
        return f"it makes {', '.join(suffixes)} files, which extension {', '.join(extensions)} refuses"
    return None


# The device kinds enumerateDevices lists, by the constraint's name in getUserMedia.
DEVICE_KINDS = {"video": "videoinput", "audio": "audioinput"}


def device_key(kind: str) -> str:
    """The localStorage key remembering the device the user chose, per site, for `kind`."""
    return f"pickstore.device.{kind}"


def with_devices(constraints: Mapping[str, object], remembered: Mapping[str, str | None]) -> dict[str, object]:
    """`constraints` asking for exactly each remembered device ("video": its deviceId), one that is
    still there (browsers pass over an ideal deviceId)."""
    asked = dict(constraints)
    for kind, device in remembered.items():
        wanted = asked.get(kind)
        if device and wanted:
            asked[kind] = {**(wanted if isinstance(wanted, Mapping) else {}), "deviceId": {"exact": device}}
    return asked
