"""A location's backend settings, from its table in the store's TOML file: the checks every backend
shares (settings it does not know, each setting's type, public_url_prefix), made once here; each
backend adds the rules of its own."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints

from ..config import Location

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

S = TypeVar("S", bound="DataclassInstance")
# A text field's metadata may say what it must be, for the message that refuses another value.
MUST_BE = "must_be"


def described(location: Location) -> str:
    """How messages about a location's settings name it."""
    return f"location {location.name!r} (backend {location.backend})"


def checked_prefix(where: str, prefix: Any) -> str | None:
    """A location's `public_url_prefix` setting: None, or an http(s) URL."""
    if prefix is not None and not (isinstance(prefix, str) and prefix.startswith(("http://", "https://"))):
        raise ValueError(f"{where}: public_url_prefix must be an http:// or https:// URL, not {prefix!r}")
    return prefix


def read_settings(cls: type[S], location: Location) -> S:
    """The settings dataclass `cls` made from the location's table, or ValueError naming what is
    wrong: a setting `cls` does not have, a `bool` setting that is not true or false, a text setting
    that is not text, a public_url_prefix that is not an http(s) URL."""
    where = described(location)
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(location.settings) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown setting {', '.join(unknown)}; known settings: "
                         f"{', '.join(sorted([*known, 'containers']))}")
    checked_prefix(where, location.settings.get("public_url_prefix"))
    hints = get_type_hints(cls)
    for field in fields(cls):
        if field.name not in location.settings or field.name == "public_url_prefix":
            continue
        value, kind = location.settings[field.name], hints[field.name]
        if kind is bool and not isinstance(value, bool):
            raise ValueError(f"{where}: {field.name} must be true or false")
        if kind in (str, str | None) and not isinstance(value, str):
            raise ValueError(f"{where}: {field.name} must be {field.metadata.get(MUST_BE, 'a string')}")
    return cls(**location.settings)
