"""The arguments of pickAndStore / pick / pickMultiple, parsed once into typed options."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .fperror import BAD_PARAMETERS, FPError

SOURCES_AVAILABLE = ("COMPUTER",)
# Every service name the old library knew. Only SOURCES_AVAILABLE are built so far; asking for
# another is refused with a message saying so, never shown as a button that does nothing.
SERVICES_KNOWN = SOURCES_AVAILABLE + (
    "BOX", "FTP", "URL", "CUSTOMSOURCE", "FACEBOOK", "DROPBOX", "GOOGLE_DRIVE", "GMAIL",
    "INSTAGRAM", "FLICKR", "PICASA", "GITHUB", "EVERNOTE", "ALFRESCO", "IMAGE_SEARCH", "WEBCAM",
    "VIDEO", "AUDIO", "CONVERT", "SKYDRIVE", "ONEDRIVE", "CLOUDDRIVE", "WEBDAV",
)
VIDEO_RESOLUTIONS = ("320x240", "640x480", "1280x720")
RECORDING_MAX_SECONDS = 5400

PICKER_KEYS = {
    "container", "mimetype", "mimetypes", "extension", "extensions", "multiple", "maxSize",
    "maxFiles", "folders", "service", "services", "openTo", "language", "backgroundUpload", "hide",
    "webcamDim", "webcam", "policy", "signature", "customSourceContainer", "customSourcePath",
    "customCss", "customText", "imageQuality", "imageDim", "imageMax", "imageMin", "conversions",
    "cropRatio", "cropDim", "cropMax", "cropMin", "cropForce",
}
STORE_KEYS = {"location", "path", "storeContainer", "storeRegion", "access"}


@dataclass(frozen=True)
class WebcamOptions:
    video_res: str = "640x480"
    audio_len: int = 3600
    video_len: int = 3600
    dim: tuple[int, int] | None = None


@dataclass(frozen=True)
class PickerOptions:
    container: str = "modal"
    mimetypes: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    multiple: bool = False
    max_size: int | None = None
    max_files: int | None = None
    folders: bool = False
    services: tuple[str, ...] = SOURCES_AVAILABLE
    open_to: str = "COMPUTER"
    language: str | None = None
    background_upload: bool = True
    hide: bool = False
    webcam: WebcamOptions = field(default_factory=WebcamOptions)
    policy: str | None = None
    signature: str | None = None


@dataclass(frozen=True)
class StoreOptions:
    location: str | None = None
    path: str | None = None
    container: str | None = None
    region: str | None = None
    access: str | None = None


Callback = Callable[[Any], Any]


@dataclass(frozen=True)
class PickCall:
    method: str
    picker: PickerOptions
    store: StoreOptions
    on_success: Callback | None = None
    on_error: Callback | None = None
    on_progress: Callback | None = None
    warnings: tuple[str, ...] = field(default=())


def _bad(option: str, expected: str, value: Any) -> FPError:
    return FPError(BAD_PARAMETERS, f"option {option!r} must be {expected}, got {value!r}")


def _string(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(name, "a string", value)
    return value


def _boolean(raw: Mapping[str, Any], name: str, default: bool) -> bool:
    value = raw.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    # Pages built by server templates write 1 and 0, or quote them, as the old library took.
    if isinstance(value, (int, float)) and value in (0, 1):
        return value == 1
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise _bad(name, "true or false", value)


def _integer(raw: Mapping[str, Any], name: str, minimum: int, maximum: int | None = None) -> int | None:
    """A whole number, also given as a string ("10485760") or an integral float, as the old
    library took them."""
    value = raw.get(name)
    if value is None:
        return None
    number: Any = value
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        number = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    expected = f"a whole number from {minimum}" + (f" to {maximum}" if maximum is not None else " up")
    if isinstance(number, bool) or not isinstance(number, int):
        raise _bad(name, expected, value)
    if number < minimum or (maximum is not None and number > maximum):
        raise _bad(name, expected, value)
    return number


def _dimensions(raw: Mapping[str, Any], name: str) -> tuple[int, int] | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise _bad(name, "[width, height]", value)
    width = _integer({"width": value[0]}, "width", 1)
    height = _integer({"height": value[1]}, "height", 1)
    if width is None or height is None:
        raise _bad(name, "[width, height] in pixels", value)
    return width, height


def _services(raw: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
    names = tuple(s.upper() for s in _strings(raw, "service", "services")) or SOURCES_AVAILABLE
    unknown = [n for n in names if n not in SERVICES_KNOWN]
    if unknown:
        raise FPError(BAD_PARAMETERS, f"unknown service {unknown[0]!r} in option 'services'; known services: {', '.join(SERVICES_KNOWN)}")
    missing = [n for n in names if n not in SOURCES_AVAILABLE]
    if missing:
        raise FPError(
            BAD_PARAMETERS,
            f"service {missing[0]!r} is not available in this picker yet; available: {', '.join(SOURCES_AVAILABLE)}",
        )
    services = tuple(dict.fromkeys(names))
    open_to = raw.get("openTo")
    if isinstance(open_to, (list, tuple)):  # old pages passed it as a list
        open_to = open_to[0] if open_to else None
    if open_to is None:
        return services, services[0]
    if not isinstance(open_to, str) or open_to.upper() not in services:
        raise _bad("openTo", f"one of the services shown ({', '.join(services)})", open_to)
    return services, open_to.upper()


def _webcam(raw: Mapping[str, Any]) -> WebcamOptions:
    webcam = raw.get("webcam")
    if webcam is None:
        webcam = {}
    if not isinstance(webcam, Mapping):
        raise _bad("webcam", "an object such as {videoRes: '640x480'}", webcam)
    video_res = _string(webcam, "videoRes") or "640x480"
    if video_res not in VIDEO_RESOLUTIONS:
        raise _bad("webcam.videoRes", " or ".join(repr(r) for r in VIDEO_RESOLUTIONS), video_res)
    lengths = {
        name: _integer(webcam, name, 1, RECORDING_MAX_SECONDS) or 3600 for name in ("audioLen", "videoLen")
    }
    return WebcamOptions(
        video_res=video_res,
        audio_len=lengths["audioLen"],
        video_len=lengths["videoLen"],
        dim=_dimensions(webcam, "webcamDim") or _dimensions(raw, "webcamDim"),
    )


def _strings(raw: Mapping[str, Any], one: str, many: str) -> tuple[str, ...]:
    """`mimetype: "image/*"`, `mimetypes: ["image/*", "text/*"]` or a comma-separated string."""
    values: list[str] = []
    for name in (one, many):
        value = raw.get(name)
        if value is None:
            continue
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise _bad(name, "a string or a list of strings", value)
        values.extend(item.strip() for item in items if item.strip())
    return tuple(values)


def parse_picker_options(raw: Mapping[str, Any], method: str = "pickAndStore", mobile: bool = False) -> PickerOptions:
    """`mobile`: the page is narrow and touch-driven, where the dialog defaults to its own window."""
    container = _string(raw, "container") or ("window" if mobile else "modal")
    mimetypes = _strings(raw, "mimetype", "mimetypes")
    extensions = _strings(raw, "extension", "extensions")
    if mimetypes and extensions:
        raise FPError(BAD_PARAMETERS, "give either mimetype(s) or extension(s), not both")
    multiple = {"pick": False, "pickMultiple": True}.get(method, _boolean(raw, "multiple", False))
    services, open_to = _services(raw)
    return PickerOptions(
        container=container,
        mimetypes=tuple(m.lower() for m in mimetypes),
        extensions=tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions),
        multiple=multiple,
        max_size=_integer(raw, "maxSize", 1),
        max_files=_integer(raw, "maxFiles", 1),
        folders=multiple and _boolean(raw, "folders", False),
        services=services,
        open_to=open_to,
        language=_string(raw, "language"),
        background_upload=_boolean(raw, "backgroundUpload", True),
        # The reference: hide "works only for modal mode"; a window or an iframe shows the upload.
        hide=_boolean(raw, "hide", False) and container == "modal",
        webcam=_webcam(raw),
        policy=_string(raw, "policy"),
        signature=_string(raw, "signature"),
    )


def parse_store_options(raw: Mapping[str, Any]) -> StoreOptions:
    return StoreOptions(
        location=_string(raw, "location"),
        path=_string(raw, "path"),
        container=_string(raw, "storeContainer"),
        region=_string(raw, "storeRegion"),
        access=_string(raw, "access"),
    )


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FPError(BAD_PARAMETERS, f"{name} must be an object of options, got {value!r}")
    return value


@dataclass(frozen=True)
class CallArguments:
    picker: Mapping[str, Any]
    store: Mapping[str, Any]
    on_success: Callback | None
    on_error: Callback | None
    on_progress: Callback | None


def split_call(method: str, args: Sequence[Any]) -> CallArguments:
    """pickAndStore(picker_options, store_options, onSuccess, onError, onProgress) and
    pick(picker_options, onSuccess, onError, onProgress). Options may be left out, in which case
    the callbacks move left, as the old library allowed. Never fails, so that a bad option can
    still be reported through onError."""
    option_slots = 2 if method == "pickAndStore" else 1
    rest = list(args)
    options: list[Any] = []
    while rest and len(options) < option_slots and not callable(rest[0]):
        options.append(rest.pop(0))
    callbacks = [a if callable(a) else None for a in rest[:3]] + [None] * 3
    return CallArguments(
        picker=options[0] if options and options[0] is not None else {},
        store=options[1] if len(options) > 1 and options[1] is not None else {},
        on_success=callbacks[0],
        on_error=callbacks[1],
        on_progress=callbacks[2],
    )


def parse_call(method: str, args: Sequence[Any], mobile: bool = False) -> PickCall:
    split = split_call(method, args)
    picker_raw = _mapping(split.picker, "picker_options")
    store_raw = _mapping(split.store, "store_options")
    # The old library took one object as both picker and store options, so a key of either kind
    # is known in either place; only names neither knows are reported (they are often typos).
    known = PICKER_KEYS | STORE_KEYS
    warnings = tuple(
        f"filepicker: unknown option {name!r} ignored"
        for name in dict.fromkeys([*picker_raw, *store_raw])
        if name not in known
    )
    return PickCall(
        method=method,
        picker=parse_picker_options(picker_raw, method, mobile),
        store=parse_store_options(store_raw),
        on_success=split.on_success,
        on_error=split.on_error,
        on_progress=split.on_progress,
        warnings=warnings,
    )
