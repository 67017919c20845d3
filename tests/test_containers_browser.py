"""The dialog in each container: over the page, in a popup window, in an iframe of the page.
Results, progress and errors reach the page's callbacks from all three."""

from __future__ import annotations

import pytest

from .browser import DIALOG, LOCALE, open_host, outcome, progress_events, sha256, start_pick
from .test_pick_browser import png


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(png(20, 20, (10, 200, 10)) + bytes(range(256)) * 64)
    return path


def test_the_popup_window_container_picks_and_reports_to_the_page(page, host, photo):
    open_host(page, host)
    with page.context.expect_page() as opened:
        start_pick(page, "pickAndStore", {"container": "window"}, {})
    popup = opened.value
    popup.on("filechooser", lambda chooser: None)
    popup.locator(f"{DIALOG} .choose").wait_for()
    assert popup.title() == LOCALE["dialog.title.one"]
    assert page.locator(DIALOG).count() == 0, "the modal opened in the page as well"
    with popup.expect_file_chooser() as chooser:
        popup.locator(f"{DIALOG} .choose").click()
    chooser.value.set_files([str(photo)])
    result = outcome(page)
    assert result["kind"] == "success"
    assert result["value"]["sha256"] == sha256(photo.read_bytes())
    assert progress_events(page)[-1]["progress"] == 100
    for _ in range(50):
        if popup.is_closed():
            break
        page.wait_for_timeout(100)
    assert popup.is_closed(), "the popup stayed open after the pick"


def test_closing_the_popup_window_reports_101(page, host):
    open_host(page, host)
    with page.context.expect_page() as opened:
        start_pick(page, "pickAndStore", {"container": "window"}, {})
    popup = opened.value
    popup.locator(f"{DIALOG} .choose").wait_for()
    popup.close()
    result = outcome(page)
    assert (result["kind"], result["value"]["code"]) == ("error", 101)


def test_the_iframe_container_draws_inside_the_iframe(page, host, photo):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"container": "picker-frame", "multiple": True}, {})
    frame = page.frame_locator("#picker-frame")
    frame.locator(f"{DIALOG} .choose").wait_for()
    assert page.locator(DIALOG).count() == 0
    with page.expect_file_chooser() as chooser:
        frame.locator(f"{DIALOG} .choose").click()
    chooser.value.set_files([str(photo)])
    result = outcome(page)
    assert result["kind"] == "success"
    assert [b["sha256"] for b in result["value"]] == [sha256(photo.read_bytes())]
    assert frame.locator(DIALOG).count() == 0


def test_closing_the_dialog_in_the_iframe_reports_101(page, host):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"container": "picker-frame"}, {})
    page.frame_locator("#picker-frame").locator(f"{DIALOG} .close").click()
    result = outcome(page)
    assert (result["kind"], result["value"]["code"]) == ("error", 101)


def test_an_unknown_container_id_is_an_error_400_naming_it(page, host):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"container": "no-such-frame"}, {})
    result = outcome(page)
    assert result["kind"] == "error"
    assert result["value"]["code"] == 400
    assert "'no-such-frame'" in result["value"]["message"]


def test_pickers_open_one_after_another_on_the_same_page(page, host, photo):
    open_host(page, host)
    for _ in range(2):
        start_pick(page, "pickAndStore", {}, {})
        page.locator(f"{DIALOG} .close").click()
        page.wait_for_function("window.calls.filter(c => c.kind === 'error').length >= 1")
        page.wait_for_selector(DIALOG, state="detached")
    start_pick(page, "pickAndStore", {}, {})
    with page.expect_file_chooser() as chooser:
        page.locator(f"{DIALOG} .choose").click()
    chooser.value.set_files([str(photo)])
    page.wait_for_function("window.calls.some(c => c.kind === 'success')", timeout=60_000)
    kinds = [c["kind"] for c in page.evaluate("window.calls") if c["kind"] != "progress"]
    codes = [c["value"].get("code") for c in page.evaluate("window.calls") if c["kind"] == "error"]
    assert kinds == ["error", "error", "success"]
    assert codes == [101, 101]


def test_on_a_phone_the_dialog_opens_in_its_own_window(browser, host, photo):
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        open_host(page, host)
        with context.expect_page() as opened:
            start_pick(page, "pickAndStore", {}, {})
        popup = opened.value
        popup.locator(f"{DIALOG} .choose").wait_for()
        assert page.locator(DIALOG).count() == 0
    finally:
        context.close()
