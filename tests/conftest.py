"""Fixtures: a real store process, a host page server on another loopback origin, Chromium, a moto
server standing in for S3, and Azurite for Azure Blob Storage."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from .azurite import Azurite, run_azurite
from .servers import BROWSER, HostPages, Moto, Store, run_host_pages, run_moto, run_store


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with run_store(tmp_path_factory.mktemp("store")) as running:
        yield running


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    """A real moto server (S3) on loopback, with two buckets."""
    with run_moto(("pickstore-one", "pickstore-two")) as running:
        yield running


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """A real Azurite (Azure Blob Storage) on loopback, with no containers yet."""
    with run_azurite(tmp_path_factory.mktemp("azurite")) as running:
        yield running


@pytest.fixture(scope="session")
def host(store: Store) -> Iterator[HostPages]:
    with run_host_pages(store.url) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**BROWSER)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser context whose every request must go to 127.0.0.1: anything else is aborted
    and fails the test."""
    context = browser.new_context()
    outside: list[str] = []

    def guard(route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Intercepting file choosers from the start avoids a race on the first one.
    page.on("filechooser", lambda chooser: None)
    yield page
    context.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert errors == [], f"uncaught errors in the page: {errors}"
