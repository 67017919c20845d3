"""Every string the user sees, looked up by key in locales/<language>.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_LANGUAGE = "en"


def plural_category(language: str, count: int) -> str:
    """CLDR plural category; languages with other rules add theirs here."""
    return "one" if count == 1 else "other"


class Catalog:
    def __init__(self, language: str, messages: Mapping[str, Any]) -> None:
        self.language = language
        self.messages = messages

    def t(self, key: str, **params: Any) -> str:
        message = self.messages[key]
        if isinstance(message, Mapping):
            message = message[plural_category(self.language, int(params["count"]))]
        return str(message).format(**params)


def available_languages(locales: Path) -> list[str]:
    return sorted(p.stem for p in locales.glob("*.json"))


def choose_language(requested: str | None, browser: list[str], available: list[str]) -> str:
    """The requested language if we have it, else the browser's first we have, else English.
    'pt-BR', 'pt_br' and 'pt_BR' name the same language; a region falls back to its language."""
    for candidate in ([requested] if requested else []) + list(browser):
        tag = candidate.replace("-", "_").lower()
        for option in (tag, tag.split("_")[0]):
            if option in available:
                return option
    return DEFAULT_LANGUAGE


def load_catalog(language: str, locales: Path) -> Catalog:
    return Catalog(language, json.loads((locales / f"{language}.json").read_text(encoding="utf-8")))
