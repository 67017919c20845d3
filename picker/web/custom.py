"""The page's customText and customCss, fetched and checked before the dialog opens
(the decisions are picker/customizing.py's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import js
from pyodide.ffi import JsException

from ..customizing import allowed_url, custom_text
from ..fperror import BAD_PARAMETERS, FPError
from ..i18n import Catalog, available_languages, choose_language
from ..options import PickerOptions
from .dom import js_object
from .intl import browser_catalog

FETCH_SECONDS = 10


def own_urls() -> tuple[str, str]:
    return str(js.location.href), str(js.filepicker.base)


async def fetched_json(url: str) -> Any:
    """The JSON at `url`, or FPError 400 saying why it could not be had."""
    try:
        response = await js.fetch(url, js_object({"signal": js.AbortSignal.timeout(FETCH_SECONDS * 1000)}))
    except JsException as error:
        raise FPError(BAD_PARAMETERS, f"customText {url} could not be fetched ({error}): is the URL right, and does "
                                      "its server allow this page's origin (CORS)?") from None
    if not response.ok:
        raise FPError(BAD_PARAMETERS, f"customText {url} could not be fetched: the server answered {response.status}")
    text = str(await response.text())
    try:
        return json.loads(text)
    except ValueError as error:
        raise FPError(BAD_PARAMETERS, f"customText {url} is not JSON: {error}") from None


async def dialog_catalog(options: PickerOptions, locales: Path) -> tuple[Catalog, FPError | None]:
    """The catalog of the language chosen, with the customText file's texts when one is given, and
    what was wrong with that file (the dialog then shows the language's own texts where it must)."""
    language = choose_language(options.language, list(js.navigator.languages), available_languages(locales))
    catalog = browser_catalog(language, locales)
    if not options.custom_text:
        return catalog, None
    try:
        url = allowed_url("customText", options.custom_text, *own_urls())
        loaded = await fetched_json(url)
    except FPError as error:
        return catalog, error
    made = custom_text(loaded, catalog.messages)
    catalog.messages = made.messages
    return catalog, made.error(url)


def stylesheet_url(options: PickerOptions) -> tuple[str | None, FPError | None]:
    if not options.custom_css:
        return None, None
    try:
        return allowed_url("customCss", options.custom_css, *own_urls()), None
    except FPError as error:
        return None, error
