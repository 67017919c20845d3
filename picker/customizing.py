"""customText and customCss: where they may come from, and what a customText file must hold.

customText names a JSON file with every key of the language pack (the store publishes each pack at
/locales/<language>.json as a base to write one from). Its placeholders are written {{variable}},
as the old library's were; a blank value keeps the language pack's text, since a blank button or
heading would leave the user with nothing to read or press. A file that cannot be used is told to
the page's author (console and onError 400) and the dialog shows the chosen language instead: of a
file missing some keys, what it gives is used and the rest comes from the pack.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from .fperror import BAD_PARAMETERS, FPError

DOUBLE_BRACES = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SINGLE_BRACES = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
MAX_LISTED = 12  # missing keys named in one message; the console has them all


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_url(option: str, value: str, page_url: str, store_url: str) -> str:
    """`value` resolved against the page (the reference writes '//domain.com/file.json'), if it is
    https or on the page's or the store's own origin; else FPError 400."""
    resolved = urljoin(page_url, value.strip())
    scheme = urlsplit(resolved).scheme.lower()
    if scheme == "https" or (scheme == "http" and _origin(resolved) in (_origin(page_url), _origin(store_url))):
        return resolved
    raise FPError(BAD_PARAMETERS, f"{option} must be an https URL, or one on this page's or the store's own "
                                  f"origin: {value!r} is not")


@dataclass(frozen=True)
class CustomText:
    messages: dict[str, Any]  # the pack with the file's texts in place of its own
    problems: tuple[str, ...]  # what the page's author must fix, empty when the file is whole
    missing: tuple[str, ...]

    def error(self, url: str) -> FPError | None:
        if not self.problems:
            return None
        return FPError(BAD_PARAMETERS, f"customText {url}: " + "; ".join(self.problems))


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _converted(text: str, allowed: set[str]) -> tuple[str | None, str | None]:
    """A customText value with {{variable}} made {variable} (and lone braces doubled, so that they
    show as themselves); None when blank. The second item names a problem."""
    if not text.strip():
        return None, None
    names = set(DOUBLE_BRACES.findall(text))
    unknown = sorted(names - allowed)
    if unknown:
        return None, f"unknown placeholder {', '.join('{{' + n + '}}' for n in unknown)}"
    single = sorted(set(SINGLE_BRACES.findall(DOUBLE_BRACES.sub("", text))) & allowed)
    if single:
        return None, f"write {', '.join('{{' + n + '}}' for n in single)} with double braces"
    pieces = DOUBLE_BRACES.split(text)
    out = []
    for index, piece in enumerate(pieces):
        out.append("{" + piece + "}" if index % 2 else piece.replace("{", "{{").replace("}", "}}"))
    return "".join(out), None


def custom_text(loaded: Any, pack: Mapping[str, Any]) -> CustomText:
    """The pack with the texts of a customText file (`loaded`: its parsed JSON) put in."""
    if not isinstance(loaded, Mapping):
        return CustomText(dict(pack), ("it is not a JSON object of keys to texts",), ())
    messages = dict(pack)
    problems: list[str] = []
    for key, given in loaded.items():
        if key not in pack:
            continue  # a key of another version of the picker: harmless
        ours = pack[key]
        forms = ours if isinstance(ours, Mapping) else {"": ours}
        if isinstance(ours, Mapping) and isinstance(given, str):
            given = dict.fromkeys(forms, given)  # one text for every count
        if isinstance(ours, Mapping) and not isinstance(given, Mapping):
            problems.append(f"{key} must be a text or an object of plural forms")
            continue
        if not isinstance(ours, Mapping) and not isinstance(given, str):
            problems.append(f"{key} must be a text")
            continue
        texts = given if isinstance(given, Mapping) else {"": given}
        merged = dict(forms)
        for form, text in texts.items():
            if form not in forms or not isinstance(text, str):
                continue
            converted, problem = _converted(text, _fields(str(forms[form])))
            if problem:
                problems.append(f"{key}: {problem}")
            elif converted is not None:
                merged[form] = converted
        messages[key] = merged if isinstance(ours, Mapping) else merged[""]
    missing = tuple(key for key in pack if key not in loaded)
    if missing:
        listed = ", ".join(missing[:MAX_LISTED]) + (f" and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else "")
        problems.insert(0, f"{len(missing)} of the language pack's keys are missing: {listed}")
    return CustomText(messages, tuple(problems), missing)
