"""How tests and benchmarks start Chromium (with the settings of playwright.config.py) and keep a page
on loopback: every request that would leave 127.0.0.1 is aborted and noted, and uncaught page errors
are collected, so that the caller can fail on either."""

from __future__ import annotations

import runpy
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, Route

from . import ROOT

LAUNCH: dict[str, Any] = runpy.run_path(str(ROOT / "playwright.config.py"))["LAUNCH"]


def launch(browser_type: BrowserType, *args: str) -> Browser:
    """Chromium as playwright.config.py starts it, with `args` added to its command line."""
    return browser_type.launch(**{**LAUNCH, "args": [*LAUNCH.get("args", []), *args]})


def keep_on_loopback(context: BrowserContext, outside: list[str]) -> None:
    """Lets the pages of `context` reach 127.0.0.1 only: any other request is aborted and its URL
    added to `outside`."""

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)


def new_page(context: BrowserContext, errors: list[str]) -> Page:
    """A page of `context` whose uncaught errors are added to `errors`. It intercepts file choosers
    from the start, which avoids a race on the first one."""
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("filechooser", lambda chooser: None)
    return page
