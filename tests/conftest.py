"""Fixtures: a real store process, a host page server on another loopback origin, Chromium, a moto
server standing in for S3, Azurite for Azure Blob Storage, one booted host page the dialog tests
share, and the files a user picks. What they run lives in harness/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from harness.azurite import Azurite, run_azurite
from harness.browser import crashed, keep_on_loopback, launch, new_page
from harness.dialogs import HostPage
from harness.host_pages import HostPages, run_host_pages
from harness.images import png
from harness.moto import Moto, run_moto
from harness.picking import open_host
from harness.store_process import Store, run_store

MIB = 1024 * 1024


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
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium, keeping its log and the minidumps of crashed processes in a `chromium` folder of
    the session's pytest temporary directory: a test whose page crashes fails naming both."""
    with sync_playwright() as playwright:
        chromium = launch(playwright.chromium, evidence=tmp_path_factory.mktemp("chromium"))
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context whose every request must go to 127.0.0.1: anything else is aborted
    and fails the test, as an uncaught error in the page does."""
    context = browser.new_context()
    outside: list[str] = []
    errors: list[str] = []
    keep_on_loopback(context, outside)
    page = new_page(context, errors)
    yield page
    context.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="session")
def booted(browser: Browser, host: HostPages) -> Iterator[HostPage]:
    """A page on the host site with the picker booted, kept for the whole session. Like the
    `page` fixture, it lets no request leave 127.0.0.1 and fails on uncaught page errors."""
    context = browser.new_context()
    shared = HostPage(None, host)
    keep_on_loopback(context, shared.outside)
    context.on("request", lambda request: shared.requests.append(request.url))
    open_shared(shared, context)
    yield shared
    context.close()


def open_shared(shared: HostPage, context: BrowserContext) -> None:
    """Opens the host page with the picker booted in `context` as `shared.page`, its warnings and
    uncaught errors recorded in `shared`."""

    def warned(message: ConsoleMessage) -> None:
        if message.type == "warning":
            shared.warnings.append(message.text)

    shared.page = new_page(context, shared.errors)
    shared.page.on("console", warned)
    open_host(shared.page, shared.host)


@pytest.fixture
def host_page(booted: HostPage) -> Iterator[HostPage]:
    """The shared page, with no callback calls, requests or warnings recorded yet. A test that
    leaves a dialog or a window open gets the page reloaded after it."""
    for record in (booted.warnings, booted.requests, booted.errors, booted.outside):
        record.clear()
    booted.page.evaluate("window.calls = []")
    yield booted
    if crashed(booted.page):  # a new page for the next tests, and this one fails with the report
        context = booted.page.context
        booted.page.close()
        errors = booted.errors[:]
        open_shared(booted, context)
        pytest.fail(f"uncaught errors in the page: {errors}")
    if not booted.is_clean():
        for other in booted.page.context.pages[1:]:
            other.close()
        open_host(booted.page, booted.host)
    assert booted.outside == [], f"requests left 127.0.0.1: {booted.outside}"
    assert booted.errors == [], f"uncaught errors in the page: {booted.errors}"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    made = {
        "small": ("small.png", png(4, 4, (1, 2, 3))),
        "big": ("big.png", png(4, 4, (1, 2, 3)) + b"\0" * 3000),
        "other": ("other.png", png(5, 5, (9, 9, 9))),
        "third": ("third.png", png(6, 6, (7, 7, 7))),
        "notes": ("notes.txt", b"not an image"),
    }
    for name, data in made.values():
        (tmp_path / name).write_bytes(data)
    return {key: tmp_path / name for key, (name, _) in made.items()}


@pytest.fixture
def album(tmp_path: Path, files: dict[str, Path]) -> Path:
    """A folder with a file in it and one in a folder of its own."""
    folder = tmp_path / "album"
    (folder / "day two").mkdir(parents=True)
    (folder / "a.png").write_bytes(files["small"].read_bytes())
    (folder / "day two" / "b.png").write_bytes(files["other"].read_bytes())
    return folder


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(png(12, 12, (40, 80, 160)))
    return path


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, bytes]:
    """A file of a few MiB and its bytes."""
    data = os.urandom(5 * MIB + 12_345)
    path = tmp_path / "source.bin"
    path.write_bytes(data)
    return path, data
