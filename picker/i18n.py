"""Every string the user sees, looked up by key in locales/<language>.json.

A pack is one JSON object of keys to messages. A message is a string with `{name}` placeholders, or,
where it says how many of something, an object of CLDR plural categories to strings. English
(locales/en.json) has every key; every other base language has every key too; a regional pack
(es_mx, es_ar, fr_ca, pt_br, zh_tw) holds only what differs from its base language, and a key it
leaves out comes from the base language, then from English.

The browser adapter gives a Catalog the browser's own plural rules and number format
(Intl.PluralRules, Intl.NumberFormat); without them (CPython) English rules and plain digits apply.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_LANGUAGE = "en"

# The reference's languages, and ja, ar and ca.
LANGUAGES = ("ar", "bg", "ca", "cs", "da", "de", "el", "en", "es", "es_ar", "es_mx", "fi", "fo", "fr", "fr_ca",
             "he", "hu", "id", "it", "ja", "ko", "ms", "nl", "no", "pl", "pt", "pt_br", "ru", "sk", "sr", "sv",
             "tr", "uk", "vi", "zh", "zh_tw")
RIGHT_TO_LEFT = frozenset({"ar", "he"})

# The CLDR plural categories of each base language, as the browser's Intl.PluralRules lists them
# (resolvedOptions().pluralCategories; a browser test holds this table to it). A plural message of a
# pack has exactly these forms; a regional pack's are its base language's.
PLURAL_FORMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("bg", "da", "de", "el", "en", "fi", "fo", "hu", "nl", "no", "sv", "tr"), ("one", "other")),
    **dict.fromkeys(("ca", "es", "fr", "it", "pt"), ("one", "many", "other")),
    **dict.fromkeys(("cs", "pl", "ru", "sk", "uk"), ("one", "few", "many", "other")),
    **dict.fromkeys(("id", "ja", "ko", "ms", "vi", "zh"), ("other",)),
    "sr": ("one", "few", "other"),
    "he": ("one", "two", "other"),
    "ar": ("zero", "one", "two", "few", "many", "other"),
}

# Tags the browser may give that name one of our regional packs without saying its region.
SCRIPT_REGIONS = {"zh_hant": "zh_tw", "zh_hk": "zh_tw", "zh_mo": "zh_tw", "zh_hans": "zh"}

Plural = Callable[[int], str]
Number = Callable[[float, int], str]  # (value, fraction digits) -> text


def english_plural(count: int) -> str:
    return "one" if count == 1 else "other"


def plain_number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def plural_category(language: str, count: int) -> str:
    """English's rule, which CPython falls back on; the browser gives each Catalog its language's."""
    return english_plural(count)


def base_language(language: str) -> str:
    return language.split("_")[0]


def direction(language: str) -> str:
    return "rtl" if base_language(language) in RIGHT_TO_LEFT else "ltr"


# Packs whose bare language tag would make the browser apply another region's rules: Intl takes
# "pt" for Brazilian Portuguese (plurals, grouping), and our pt pack is Portugal's.
REGION_OF = {"pt": "pt-PT"}


def bcp47(language: str) -> str:
    """'pt_br' -> 'pt-BR', the tag a browser's lang attribute and Intl understand."""
    base, _, region = language.partition("_")
    return f"{base}-{region.upper()}" if region else REGION_OF.get(base, base)


Listing = Callable[[Sequence[str], str], str]  # (items, "and" or "or") -> text


def plain_listing(items: Sequence[str], kind: str) -> str:
    return ", ".join(items)


UNITS = 1024


def human_size(size: int, units: list[str], number: Number | None = None) -> str:
    """1536 -> "1.5 KB" with units ["B", "KB", "MB", "GB", "TB"] (powers of 1024, as file
    managers show sizes); `number` writes the value as the user's language does ("1,5" in German)."""
    write = number or (lambda value, digits: f"{value:.{digits}f}")
    value = float(size)
    unit = units[-1]
    for smaller in units[:-1]:
        if value < UNITS:
            unit = smaller
            break
        value /= UNITS
    if unit == units[0] or value >= 10 or value.is_integer():
        return f"{write(round(value), 0)} {unit}"
    return f"{write(value, 1)} {unit}"


class Catalog:
    def __init__(self, language: str, messages: Mapping[str, Any], plural: Plural | None = None,
                 number: Number | None = None, listing: Listing | None = None) -> None:
        self.language = language
        self.messages = messages
        self.plural = plural or english_plural
        self.number = number or plain_number
        self.listing = listing or plain_listing

    def t(self, key: str, **params: Any) -> str:
        message = self.messages[key]
        if isinstance(message, Mapping):
            count = int(params["count"])
            message = message.get(self.plural(count)) or message["other"]
        shown = {name: self.number(value, 0) if isinstance(value, int) and not isinstance(value, bool) else value
                 for name, value in params.items()}
        return str(message).format(**shown)

    def size(self, nbytes: int) -> str:
        """A number of bytes as the user's language writes it ("1,5 MB" in German)."""
        return human_size(nbytes, self.t("size.units").split(), self.number)

    @property
    def direction(self) -> str:
        return direction(self.language)


def available_languages(locales: Path) -> list[str]:
    return sorted(p.stem for p in locales.glob("*.json"))


def _candidates(tag: str) -> list[str]:
    """'zh-Hant-TW' -> ['zh_hant_tw', 'zh_tw', 'zh_hant', 'zh'] (a script subtag is dropped, the
    region kept; then the bare language)."""
    parts = tag.replace("-", "_").lower().split("_")
    out = ["_".join(parts)]
    if len(parts) > 2:
        out.append(f"{parts[0]}_{parts[-1]}")
    if len(parts) > 1:
        out.append(f"{parts[0]}_{parts[1]}")
    out.append(parts[0])
    return [SCRIPT_REGIONS.get(c, c) for c in out]


def choose_language(requested: str | None, browser: list[str], available: list[str]) -> str:
    """The requested language if we have it, else the browser's first we have, else English.
    'pt-BR', 'pt_br' and 'PT_BR' name the same language; a region we have no pack for falls back to
    its language ('es-419' -> 'es'); a script names its region ('zh-Hant' -> 'zh_tw')."""
    for candidate in ([requested] if requested else []) + list(browser):
        for option in _candidates(candidate):
            if option in available:
                return option
    return DEFAULT_LANGUAGE


def read_pack(language: str, locales: Path) -> dict[str, Any]:
    """The pack as it is written (a regional pack: only what differs from its base language)."""
    loaded: dict[str, Any] = json.loads((locales / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


def full_pack(language: str, locales: Path) -> dict[str, Any]:
    """Every key: English, overlaid by the base language, overlaid by the regional pack."""
    chain = [DEFAULT_LANGUAGE, base_language(language), language]
    merged: dict[str, Any] = {}
    for name in dict.fromkeys(chain):
        merged.update(read_pack(name, locales))
    return merged


def double_braced(message: Any) -> Any:
    """A message with its placeholders written {{variable}}, as a customText file writes them."""
    if isinstance(message, Mapping):
        return {form: double_braced(text) for form, text in message.items()}
    return "".join(literal.replace("{", "{{").replace("}", "}}") + ("" if field is None else "{{" + field + "}}")
                   for literal, field, _, _ in string.Formatter().parse(str(message)))


def load_catalog(language: str, locales: Path, plural: Plural | None = None,
                 number: Number | None = None, listing: Listing | None = None) -> Catalog:
    return Catalog(language, full_pack(language, locales), plural, number, listing)
