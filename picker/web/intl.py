"""The browser's own plural rules, number format and lists for a language (Intl.PluralRules,
Intl.NumberFormat, Intl.ListFormat), as picker.i18n.Catalog takes them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import js
from pyodide.ffi import to_js

from ..i18n import Catalog, bcp47, load_catalog
from .dom import js_object


def browser_catalog(language: str, locales: Path) -> Catalog:
    tag = bcp47(language)
    rules = js.Intl.PluralRules.new(tag)
    formats: dict[int, object] = {}

    def plural(count: int) -> str:
        return str(rules.select(count))

    def number(value: float, digits: int) -> str:
        if digits not in formats:
            formats[digits] = js.Intl.NumberFormat.new(
                tag, js_object({"minimumFractionDigits": digits, "maximumFractionDigits": digits}))
        return str(formats[digits].format(value))  # type: ignore[attr-defined]

    lists: dict[str, object] = {}

    def listing(items: Sequence[str], kind: str) -> str:
        if kind not in lists:
            lists[kind] = js.Intl.ListFormat.new(
                tag, js_object({"style": "long", "type": "disjunction" if kind == "or" else "conjunction"}))
        return str(lists[kind].format(to_js(list(items))))  # type: ignore[attr-defined]

    return load_catalog(language, locales, plural, number, listing)
