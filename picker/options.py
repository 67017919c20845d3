"""The arguments of pickAndStore / pick / pickMultiple, parsed once into typed options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .errors import BAD_PARAMETERS, FPError

CONTAINERS = ("modal",)

PICKER_KEYS = {
    "container", "mimetype", "mimetypes", "extension", "extensions", "multiple", "maxSize",
    "maxFiles", "language", "policy", "signature",
}
STORE_KEYS = {"location", "path", "storeContainer", "storeRegion", "access"}


@dataclass(frozen=True)
class PickerOptions:
    container: str = "modal"
    mimetypes: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    multiple: bool = False
    language: str | None = None
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
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(name, "true or false", value)


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


def parse_picker_options(raw: Mapping[str, Any], method: str = "pickAndStore") -> PickerOptions:
    container = _string(raw, "container") or "modal"
    if container not in CONTAINERS:
        raise _bad("container", " or ".join(repr(c) for c in CONTAINERS), container)
    mimetypes = _strings(raw, "mimetype", "mimetypes")
    extensions = _strings(raw, "extension", "extensions")
    if mimetypes and extensions:
        raise FPError(BAD_PARAMETERS, "give either mimetype(s) or extension(s), not both")
    multiple = {"pick": False, "pickMultiple": True}.get(method, _boolean(raw, "multiple", False))
    return PickerOptions(
        container=container,
        mimetypes=tuple(m.lower() for m in mimetypes),
        extensions=tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions),
        multiple=multiple,
        language=_string(raw, "language"),
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


def parse_call(method: str, args: Sequence[Any]) -> PickCall:
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
        picker=parse_picker_options(picker_raw, method),
        store=parse_store_options(store_raw),
        on_success=split.on_success,
        on_error=split.on_error,
        on_progress=split.on_progress,
        warnings=warnings,
    )
