"""Fixtures: a real store process, a host page server on another loopback origin, Chromium, a moto
server standing in for S3, Azurite for Azure Blob Storage, one booted host page the dialog tests
share, and the files a user picks. What they run lives in harness/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from harness.azurite import Azurite, run_azurite
from harness.browser import keep_on_loopback, launch, new_page
from harness.dialogs import HostPage
from harness.fake_devices import RECORD_STREAMS, camera_file, device_flags
from harness.host_pages import HostPages, run_host_pages
from harness.images import png
from harness.indexes import IndexUnderTest
from harness.moto import Moto, run_moto
from harness.picking import open_host
from harness.postgres import Postgres, run_postgres
from harness.store_process import Store, run_store

MIB = 1024 * 1024


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with run_store(tmp_path_factory.mktemp("store")) as running:
        yield running


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL server on loopback, in a temporary folder of its own."""
    with run_postgres() as running:
        yield running


@pytest.fixture(scope="module")
def postgres_db(postgres: Postgres, request: pytest.FixtureRequest) -> str:
    """The URL of a fresh database for the test module."""
    return postgres.new_database(request.module.__name__.rpartition(".")[2])


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> IndexUnderTest:
    """An empty index of each kind, to open as often as a test needs (as several processes would)."""
    if request.param == "sqlite":
        return IndexUnderTest(tmp_path / "index.sqlite3")
    return IndexUnderTest(request.getfixturevalue("postgres").emptied(request.getfixturevalue("postgres_db")))


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
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch(playwright.chromium)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def camera_browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium with a fake camera (640x480, red left half, blue right half: harness/fake_devices.py)
    and a fake microphone; each context's permissions say whether a page may use them."""
    camera = camera_file(tmp_path_factory.mktemp("camera") / "camera.y4m")
    chromium = launch(playwright.chromium, *device_flags(camera))
    yield chromium
    chromium.close()


def booted_page(context, host: HostPages) -> HostPage:
    """A host page of `context` with the picker booted, no request let off 127.0.0.1, its uncaught
    errors and console warnings recorded, and the streams it was given kept (RECORD_STREAMS)."""
    errors: list[str] = []
    context.add_init_script(RECORD_STREAMS)
    page = new_page(context, errors)
    shared = HostPage(page, host, errors=errors)
    keep_on_loopback(context, shared.outside)
    page.on("console", lambda message: shared.warnings.append(message.text) if message.type == "warning" else None)
    open_host(page, host)
    return shared


@pytest.fixture(scope="session")
def camera_booted(camera_browser: Browser, host: HostPages) -> Iterator[HostPage]:
    """A booted host page allowed to use the fake camera and microphone, kept for the session."""
    context = camera_browser.new_context(permissions=["camera", "microphone"])
    yield booted_page(context, host)
    context.close()


@pytest.fixture
def camera_page(camera_booted: HostPage) -> Iterator[HostPage]:
    """The shared camera page as `host_page` hands its page: reset, and reloaded after a test that
    left a dialog open."""
    for record in (camera_booted.warnings, camera_booted.errors, camera_booted.outside):
        record.clear()
    camera_booted.page.evaluate("window.calls = []; window.capturedStreams = []")
    yield camera_booted
    if not camera_booted.is_clean():
        open_host(camera_booted.page, camera_booted.host)
    assert camera_booted.outside == [], f"requests left 127.0.0.1: {camera_booted.outside}"
    assert camera_booted.errors == [], f"uncaught errors in the page: {camera_booted.errors}"


@pytest.fixture(scope="session")
def pattern_camera_page(playwright: Playwright, host: HostPages) -> Iterator[HostPage]:
    """A booted host page with Chromium's own fake camera (a moving test pattern), which gives each
    size asked of it natively: what a recording at videoRes is checked with (the file-playing camera
    above is scaled by the browser, and Chromium's recorder then encodes the file's own size)."""
    chromium = launch(playwright.chromium, *device_flags(None), "--use-fake-device-for-media-stream")
    shared = booted_page(chromium.new_context(permissions=["camera", "microphone"]), host)
    yield shared
    chromium.close()
    assert shared.errors == [], f"uncaught errors in the page: {shared.errors}"


@pytest.fixture
def refused_camera_page(camera_browser: Browser, host: HostPages) -> Iterator[HostPage]:
    """A booted host page whose context was never allowed the camera or microphone: the browser
    refuses them, as it does once the user has said no."""
    context = camera_browser.new_context(permissions=[])
    shared = booted_page(context, host)
    yield shared
    context.close()
    assert shared.errors == [], f"uncaught errors in the page: {shared.errors}"


@pytest.fixture
def deviceless_page(playwright: Playwright, host: HostPages) -> Iterator[HostPage]:
    """A booted host page in a Chromium that grants every request but has no camera or microphone."""
    chromium = launch(playwright.chromium, *device_flags(None, fake_ui=True))
    shared = booted_page(chromium.new_context(), host)
    yield shared
    chromium.close()
    assert shared.errors == [], f"uncaught errors in the page: {shared.errors}"


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
    errors: list[str] = []
    page = new_page(context, errors)
    shared = HostPage(page, host, errors=errors)
    keep_on_loopback(context, shared.outside)

    def warned(message: ConsoleMessage) -> None:
        if message.type == "warning":
            shared.warnings.append(message.text)

    context.on("request", lambda request: shared.requests.append(request.url))
    page.on("console", warned)
    open_host(page, host)
    yield shared
    context.close()


@pytest.fixture
def host_page(booted: HostPage) -> Iterator[HostPage]:
    """The shared page, with no callback calls, requests or warnings recorded yet. A test that
    leaves a dialog or a window open gets the page reloaded after it."""
    for record in (booted.warnings, booted.requests, booted.errors, booted.outside):
        record.clear()
    booted.page.evaluate("window.calls = []")
    yield booted
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
