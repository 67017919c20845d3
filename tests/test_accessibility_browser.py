"""The dialog as assistive technology meets it: axe-core finds no violations in it, in each of its
states, in light and dark, left to right (en) and right to left (ar); the dialog fits 320 CSS px
and a page zoomed to 200 % without scrolling sideways; its targets are at least 24 by 24 CSS px."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.accessibility import axe_violations
from harness.dialogs import UPLOADS
from harness.images import png
from harness.picking import DIALOG, choose_files, start_pick
from store.tus_protocol import parse_metadata


def violations_in_each_scheme(page, state: str, found: dict) -> None:
    if violations := axe_violations(page):  # light and dark
        found[state] = violations


def close(page) -> None:
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('[data-pickstore]')")


@pytest.fixture
def pictures(tmp_path: Path) -> dict[str, Path]:
    made = {}
    for name, colour in (("one.png", (1, 1, 1)), ("two.png", (200, 10, 10))):
        made[name] = tmp_path / name
        made[name].write_bytes(png(8, 8, colour))
    made["notes.txt"] = tmp_path / "notes.txt"
    made["notes.txt"].write_text("text")
    return made


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_state_of_the_dialog_has_no_accessibility_violations(host_page, pictures, language):
    page = host_page.page
    found: dict = {}
    start_pick(page, "pickAndStore", {"language": language}, {})
    page.locator(f"{DIALOG} [data-drop]").wait_for()
    violations_in_each_scheme(page, "open", found)
    close(page)

    start_pick(page, "pickAndStore", {"language": language, "multiple": True, "folders": True}, {})
    page.locator(f"{DIALOG} [data-drop]").wait_for()
    violations_in_each_scheme(page, "open for several files and folders", found)
    close(page)

    start_pick(page, "pickAndStore", {"language": language, "multiple": True, "backgroundUpload": False,
                                      "mimetype": "image/*"}, {})
    page.locator(f"{DIALOG} [data-drop]").wait_for()
    choose_files(page, [pictures["notes.txt"]])
    page.locator(f"{DIALOG} [role=alert]").wait_for()
    violations_in_each_scheme(page, "a refused file", found)
    choose_files(page, [pictures["one.png"], pictures["two.png"]])
    page.locator(f"{DIALOG} .start").wait_for()
    violations_in_each_scheme(page, "files chosen", found)

    # The second file's upload is held back, so that the dialog shows one file done and one uploading.
    held: list = []

    def hold(route) -> None:
        if route.request.method == "POST" and "two.png" in _filename(route.request):
            held.append(route)
        else:
            route.fallback()

    page.route(f"**{UPLOADS}", hold)
    try:
        page.locator(f"{DIALOG} .start").click()
        page.wait_for_function("() => document.querySelector('[data-pickstore]').shadowRoot"
                               ".querySelectorAll('.files li.done').length === 1")
        violations_in_each_scheme(page, "one file uploaded, one uploading", found)
    finally:
        releasing = list(held)
        held.clear()
        for route in releasing:
            route.continue_()  # (a fallback() made after the handler returned is taken as unhandled)
        page.unroute(f"**{UPLOADS}")
    page.wait_for_function("window.calls.some(c => c.kind === 'success')")
    assert found == {}


def _filename(request) -> str:
    return parse_metadata(request.headers.get("upload-metadata")).get("filename", "")


def test_an_upload_failure_has_no_accessibility_violations(host_page, pictures):
    page = host_page.page
    found: dict = {}
    page.route(f"**{UPLOADS}**", lambda route: route.fulfill(status=507, body="full"))
    try:
        start_pick(page, "pickAndStore", {"language": "ar"}, {})
        choose_files(page, [pictures["one.png"]])
        page.locator(f"{DIALOG} [role=alert]").wait_for()
        violations_in_each_scheme(page, "an upload failed", found)
    finally:
        page.unroute(f"**{UPLOADS}**")
    close(page)
    assert found == {}


SIDEWAYS = """() => {
  const root = document.querySelector('[data-pickstore]').shadowRoot;
  const dialog = root.querySelector('.dialog');
  const box = dialog.getBoundingClientRect();
  return {dialog: dialog.scrollWidth > dialog.clientWidth, inside: box.left >= -0.5 && box.right <= innerWidth + 0.5};
}"""

SMALL_TARGETS = """() => {
  const root = document.querySelector('[data-pickstore]').shadowRoot;
  return [...root.querySelectorAll('button, select, input, [role=tab]')]
    .filter(n => n.getClientRects().length && !n.closest('.visually-hidden'))
    .map(n => [n.outerHTML.slice(0, 80), n.getBoundingClientRect()])
    .filter(([, r]) => r.width < 24 || r.height < 24).map(([html]) => html);
}"""


@pytest.mark.parametrize("width, zoom", [(320, 1), (1280, 2)])
def test_the_dialog_fits_narrow_screens_and_zoom_without_scrolling_sideways(host_page, width, zoom):
    # 200 % zoom of a 1280 px window is a 640 CSS px viewport at device scale 2.
    page = host_page.page
    before = page.viewport_size
    page.set_viewport_size({"width": width // zoom, "height": 720 // zoom})
    try:
        for language in ("en", "ar", "de"):
            start_pick(page, "pickAndStore", {"language": language, "multiple": True, "folders": True}, {})
            page.locator(f"{DIALOG} [data-drop]").wait_for()
            assert page.evaluate(SIDEWAYS) == {"dialog": False, "inside": True}, language
            assert page.evaluate(SMALL_TARGETS) == [], language
            close(page)
    finally:
        page.set_viewport_size(before)
