"""A host page's boot in Chromium against a real store process, cold and returning: the runtime
arrives compressed, and a returning visitor's boot takes it from the browser's cache (versioned,
immutable URLs) and revalidates our own files, moving almost nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext

from harness.host_pages import HostPages
from harness.picking import open_host
from store.precompress import make_copies

# Every resource of the boot, the page itself included, as Resource Timing reports it (the store
# sends Timing-Allow-Origin, so the sizes of its cross-origin files are visible).
TRANSFERS = """() => [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
    .map(e => ({url: e.name, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))"""


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    make_copies()
    # No request routing here: routing turns Chromium's HTTP cache off. Requests are watched instead.
    context = browser.new_context()
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    yield context
    context.close()
    assert [url for url in requested if urlsplit(url).hostname != "127.0.0.1"] == []


def boot(context: BrowserContext, host: HostPages) -> list[dict[str, Any]]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_host(page, host)
    entries: list[dict[str, Any]] = page.evaluate(TRANSFERS)
    page.close()
    assert errors == []
    return entries


def test_cold_load_is_compressed_and_returning_load_moves_under_50_kb(context: BrowserContext, host: HostPages) -> None:
    cold = boot(context, host)
    wasm = [e for e in cold if e["url"].endswith("/pyodide.asm.wasm")]
    assert len(wasm) == 1 and "/vendor/pyodide/" in wasm[0]["url"]
    assert wasm[0]["encoded"] < 0.45 * wasm[0]["decoded"], "the wasm came uncompressed"
    cold_bytes = sum(e["transfer"] for e in cold)
    assert 3_000_000 < cold_bytes <= 6_500_000, cold_bytes

    returning = boot(context, host)
    returning_bytes = sum(e["transfer"] for e in returning)
    runtime = [e for e in returning if "/vendor/" in e["url"]]
    assert runtime, "the returning boot did not load the runtime"
    assert [e["url"] for e in runtime if e["transfer"] != 0] == [], "runtime files fetched again"
    assert returning_bytes <= 50_000, returning
