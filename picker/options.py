"""The arguments of pickAndStore / pick / pickMultiple, parsed once into typed options."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .capture import unfit
from .fperror import BAD_PARAMETERS, FPError
from .imaging import ImageRules
from .sources import AVAILABLE, why_missing

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
# What each of these names does is in OPTIONS, below the options' types.


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
    services: tuple[str, ...] = field(default_factory=lambda: tuple(AVAILABLE))  # the names the dialog shows
    open_to: str = "COMPUTER"
    language: str | None = None
    background_upload: bool = True
    hide: bool = False
    webcam: WebcamOptions = field(default_factory=WebcamOptions)
    policy: str | None = None
    signature: str | None = None
    images: ImageRules = field(default_factory=ImageRules)  # imageDim, imageMax, imageMin, imageQuality
    custom_text: str | None = None  # URL of a JSON file of the dialog's texts (picker/customizing.py)
    custom_css: str | None = None  # URL of a stylesheet for the dialog's Shadow DOM
    warnings: tuple[str, ...] = ()  # for the page's author, in the console


@dataclass(frozen=True)
class StoreOptions:
    location: str | None = None
    path: str | None = None
    container: str | None = None
    region: str | None = None
    access: str | None = None


@dataclass(frozen=True)
class Fills:
    """The option sets this field of PickerOptions or StoreOptions, which the picker acts on."""

    options: type[PickerOptions] | type[StoreOptions]
    field: str


@dataclass(frozen=True)
class NotYet:
    """The option is accepted, so that a page giving it still works, but does nothing yet: the page's
    author is told so in the console. `reason`: what is missing."""

    reason: str


_NO_EDITOR = NotYet("there is no image editor (CONVERT) yet")
_NO_CUSTOM_SOURCE = NotYet("there is no CUSTOMSOURCE (S3) source yet")

# Every option name the parser accepts and what it does: one entry per name of PICKER_KEYS and
# STORE_KEYS (tests/test_picker_options.py holds them to that).
OPTIONS: dict[str, Fills | NotYet] = {
    "container": Fills(PickerOptions, "container"),
    "mimetype": Fills(PickerOptions, "mimetypes"),
    "mimetypes": Fills(PickerOptions, "mimetypes"),
    "extension": Fills(PickerOptions, "extensions"),
    "extensions": Fills(PickerOptions, "extensions"),
    "multiple": Fills(PickerOptions, "multiple"),
    "maxSize": Fills(PickerOptions, "max_size"),
    "maxFiles": Fills(PickerOptions, "max_files"),
    "folders": Fills(PickerOptions, "folders"),
    "service": Fills(PickerOptions, "services"),
    "services": Fills(PickerOptions, "services"),
    "openTo": Fills(PickerOptions, "open_to"),
    "language": Fills(PickerOptions, "language"),
    "backgroundUpload": Fills(PickerOptions, "background_upload"),
    "hide": Fills(PickerOptions, "hide"),
    "policy": Fills(PickerOptions, "policy"),
    "signature": Fills(PickerOptions, "signature"),
    "webcam": Fills(PickerOptions, "webcam"),
    "webcamDim": Fills(PickerOptions, "webcam"),
    "customSourceContainer": _NO_CUSTOM_SOURCE,
    "customSourcePath": _NO_CUSTOM_SOURCE,
    "customCss": Fills(PickerOptions, "custom_css"),
    "customText": Fills(PickerOptions, "custom_text"),
    "imageQuality": Fills(PickerOptions, "images"),
    "imageDim": Fills(PickerOptions, "images"),
    "imageMax": Fills(PickerOptions, "images"),
    "imageMin": Fills(PickerOptions, "images"),
    "conversions": _NO_EDITOR,
    "cropRatio": _NO_EDITOR,
    "cropDim": _NO_EDITOR,
    "cropMax": _NO_EDITOR,
    "cropMin": _NO_EDITOR,
    "cropForce": _NO_EDITOR,
    "location": Fills(StoreOptions, "location"),
    "path": Fills(StoreOptions, "path"),
    "storeContainer": Fills(StoreOptions, "container"),
    "storeRegion": Fills(StoreOptions, "region"),
    "access": Fills(StoreOptions, "access"),
}


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


def _image_dim(raw: Mapping[str, Any]) -> tuple[int | None, int | None] | None:
    """imageDim [width, height], either side null to follow the aspect ratio, not both."""
    value = raw.get("imageDim")
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2 or (value[0] is None and value[1] is None):
        raise _bad("imageDim", "[width, height], one of them may be null", value)
    return _integer({"imageDim": value[0]}, "imageDim", 1), _integer({"imageDim": value[1]}, "imageDim", 1)


def _image_rules(raw: Mapping[str, Any]) -> ImageRules:
    return ImageRules(
        dim=_image_dim(raw),
        max=_dimensions(raw, "imageMax"),
        min=_dimensions(raw, "imageMin"),
        quality=_integer(raw, "imageQuality", 0, 100),
    )


def _services(
    raw: Mapping[str, Any], mimetypes: Sequence[str] = (), extensions: Sequence[str] = ()
) -> tuple[tuple[str, ...], str, list[str]]:
    """The services the dialog shows, in the page's order, the one it opens to, and warnings. Pages
    written for the old library name services we lack (FACEBOOK, URL, ...): those are left out with
    a warning, so that the page still works; only a list naming none we have is an error."""
    named = tuple(dict.fromkeys(s.upper() for s in _strings(raw, "service", "services")))
    services = tuple(n for n in named if n in AVAILABLE) if named else tuple(AVAILABLE)
    left_out = [n for n in named if n not in AVAILABLE]
    reasons = ", ".join(f"{n} ({why_missing(n)})" for n in left_out)
    if not services:
        raise FPError(
            BAD_PARAMETERS,
            f"none of the services in option 'services' is available: {reasons}; available: {', '.join(AVAILABLE)}",
        )
    warnings = [f"filepicker: services left out of the dialog: {reasons}"] if left_out else []
    # A capture source whose every file the mimetype/extension restriction would refuse is not shown.
    refused = {n: why for n in services if (why := unfit(n, mimetypes, extensions))}
    services = tuple(n for n in services if n not in refused)
    if named and refused:
        why = "; ".join(f"{n}: {reason}" for n, reason in refused.items())
        if not services:
            raise FPError(BAD_PARAMETERS, f"none of the services in option 'services' can make a file the restriction accepts ({why})")
        warnings.append(f"filepicker: services left out of the dialog, since nothing they make could be picked: {why}")
    open_to = raw.get("openTo")
    if isinstance(open_to, (list, tuple)):  # old pages passed it as a list
        open_to = open_to[0] if open_to else None
    if open_to is None:
        return services, services[0], warnings
    if not isinstance(open_to, str):
        raise _bad("openTo", f"the name of one of the services shown ({', '.join(services)})", open_to)
    if open_to.upper() not in services:
        warnings.append(f"filepicker: openTo {open_to!r} is not among the services shown; the dialog opens to {services[0]}")
        return services, services[0], warnings
    return services, open_to.upper(), warnings


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
    services, open_to, warnings = _services(raw, mimetypes, [e if e.startswith(".") else "." + e for e in extensions])
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
        images=_image_rules(raw),
        custom_text=_string(raw, "customText") or None,
        custom_css=_string(raw, "customCss") or None,
        warnings=tuple(warnings),
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
    warnings = []
    for name in dict.fromkeys([*picker_raw, *store_raw]):
        if name not in known:
            warnings.append(f"filepicker: unknown option {name!r} ignored")
        elif isinstance(effect := OPTIONS.get(name), NotYet):
            warnings.append(f"filepicker: option {name!r} is not supported yet and does nothing: {effect.reason}")
    picker = parse_picker_options(picker_raw, method, mobile)
    return PickCall(
        method=method,
        picker=picker,
        store=parse_store_options(store_raw),
        on_success=split.on_success,
        on_error=split.on_error,
        on_progress=split.on_progress,
        warnings=(*warnings, *picker.warnings),
    )
