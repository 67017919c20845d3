"""The foundation, end to end in Chromium: a page on another loopback origin embeds the picker,
the user picks files, the store keeps them, the page's callbacks get what the reference says."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from harness.images import png
from harness.picking import (
    DIALOG,
    LOCALE,
    assert_progress_honest,
    choose_files,
    downloaded,
    drop_files,
    open_host,
    outcome,
    progress_events,
    sha256,
    start_pick,
)

HANDLE = re.compile(r"^[A-Za-z0-9_-]{20}$")


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    small = tmp_path / "red square.png"
    small.write_bytes(png(64, 64, (200, 30, 30)))
    # Big enough for several progress events; the bytes are random so that any corruption shows.
    large = tmp_path / "scan.png"
    large.write_bytes(png(8, 8, (0, 0, 255)) + os.urandom(6 * 1024 * 1024))
    return [small, large]


def check_blobs(blobs: list[dict], files: list[Path], store) -> None:
    assert [b["filename"] for b in blobs] == [f.name for f in files]
    for blob, path in zip(blobs, files, strict=True):
        data = path.read_bytes()
        assert blob["mimetype"] == "image/png"
        assert blob["size"] == len(data)
        assert HANDLE.match(blob["handle"])
        assert blob["url"] == f"{store.url}/api/file/{blob['handle']}"
        assert blob["key"] == f"{blob['handle']}_{path.name}"
        assert blob["container"] == "files"
        assert blob["isWriteable"] is False
        assert blob["sha256"] == sha256(data)
        assert sha256(downloaded(blob["url"])) == sha256(data)


def test_reference_example_stores_files_picked_with_the_file_chooser(page, host, store, images):
    logged: list[str] = []

    def log(message: Any) -> None:
        if message.type == "log":
            logged.append(message.text)

    page.on("console", log)
    page.goto(f"{host.url}/reference.html")
    page.click("#upload")
    choose_files(page, images)
    page.wait_for_function("() => true")
    page.wait_for_selector(DIALOG, state="detached", timeout=60_000)
    page.wait_for_timeout(100)
    results = [json.loads(line) for line in logged if line.startswith("[")]
    assert len(results) == 1, logged
    check_blobs(results[0], images, store)
    assert_progress_honest([json.loads(line) for line in logged if line.startswith('{"progress"')], images)


def test_dropped_files_are_stored(page, host, store, images):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"mimetype": "image/*", "multiple": True}, {})
    drop_files(page, images, {p.name: "image/png" for p in images})
    result = outcome(page)
    assert result["kind"] == "success"
    check_blobs(result["value"], images, store)
    assert_progress_honest(progress_events(page), images)


def test_single_pick_gives_one_blob_not_a_list(page, host, store, images):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"mimetype": "image/*"}, {})
    choose_files(page, images[:1])
    result = outcome(page)
    assert result["kind"] == "success"
    check_blobs([result["value"]], images[:1], store)


def test_closing_the_dialog_reports_101_and_returns_focus(page, host):
    open_host(page, host)
    start_pick(page, "pickAndStore", {}, {})
    page.locator(f"{DIALOG} .close").click()
    result = outcome(page)
    assert result["kind"] == "error"
    assert result["value"]["code"] == 101
    assert result["text"] == "FPError 101"
    assert page.locator(DIALOG).count() == 0
    assert page.evaluate("document.activeElement.id") == "open"


def test_escape_closes_the_dialog_with_101(page, host):
    open_host(page, host)
    start_pick(page, "pickAndStore", {}, {})
    page.locator(f"{DIALOG} .choose").wait_for()
    page.keyboard.press("Escape")
    result = outcome(page)
    assert (result["kind"], result["value"]["code"]) == ("error", 101)
    assert page.locator(DIALOG).count() == 0


def test_pick_without_a_key_reports_400_and_opens_nothing(page, host):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    open_host(page, host, key=None)
    start_pick(page, "pickAndStore", {}, {})
    result = outcome(page)
    assert result["kind"] == "error"
    assert result["value"]["code"] == 400
    assert "filepicker.setKey" in result["value"]["message"]
    assert page.locator(DIALOG).count() == 0
    assert not [url for url in requested if "/vendor/" in url], "the runtime booted without a key"


def test_unknown_key_is_refused_and_nothing_is_stored(page, host, store, images):
    before = store.stored_files()
    open_host(page, host, key="no-such-key")
    start_pick(page, "pickAndStore", {"multiple": True}, {})
    choose_files(page, images[:1])
    result = outcome(page)
    assert result["kind"] == "error"
    assert result["value"]["code"] == 403
    assert "no-such-key" in result["value"]["message"]
    alert = page.locator(f"{DIALOG} [role=alert]")
    assert alert.is_visible()
    assert "no-such-key" in alert.inner_text()
    assert store.stored_files() == before


def test_unconfigured_location_is_refused_naming_the_configured_ones(page, host, store, images):
    before = store.stored_files()
    open_host(page, host)
    start_pick(page, "pickAndStore", {}, {"location": "S3"})
    choose_files(page, images[:1])
    result = outcome(page)
    assert result["kind"] == "error"
    assert result["value"]["code"] == 400
    assert "'S3'" in result["value"]["message"] and "local" in result["value"]["message"]
    assert store.stored_files() == before


def test_a_file_of_the_wrong_type_is_refused_in_the_dialog_and_nothing_is_lost(page, host, store, images, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    open_host(page, host)
    start_pick(page, "pickAndStore", {"mimetype": "image/*"}, {})
    choose_files(page, [notes])
    alert = page.locator(f"{DIALOG} [role=alert]")
    alert.wait_for()
    expected = LOCALE["error.type"]["one"].format(names="notes.txt", accepted="image/*")
    assert alert.inner_text().startswith(expected)
    assert page.evaluate("window.calls") == []
    # The user can go on and pick an image in the same dialog.
    choose_files(page, images[:1])
    result = outcome(page)
    assert result["kind"] == "success"
    assert result["value"]["sha256"] == sha256(images[0].read_bytes())


def test_the_dialog_is_a_labelled_modal_whose_focus_stays_inside(page, host):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"multiple": True}, {})
    dialog = page.locator(f"{DIALOG} [role=dialog]")
    assert dialog.get_attribute("aria-modal") == "true"
    title_id = dialog.get_attribute("aria-labelledby")
    assert page.locator(f"{DIALOG} #{title_id}").inner_text() == LOCALE["dialog.title.many"]
    in_dialog = "() => document.activeElement.matches('[data-pickstore]') && !!document.activeElement.shadowRoot.activeElement"
    focused = "() => document.querySelector('[data-pickstore]').shadowRoot.activeElement.textContent"
    assert page.evaluate(focused) == LOCALE["computer.choose.many"]
    seen = []
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate(in_dialog)
        seen.append(page.evaluate(focused))
    assert seen.count(LOCALE["computer.choose.many"]) >= 2, f"Tab did not cycle inside the dialog: {seen}"
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(in_dialog)


def test_files_can_be_picked_with_the_keyboard_alone(page, host, store, images):
    open_host(page, host)
    page.focus("#open")
    page.evaluate("pick => { window.nextPick = pick; }", ["pickAndStore", {"multiple": True}, {}])
    page.keyboard.press("Enter")
    page.locator(f"{DIALOG} .choose").wait_for()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files([str(p) for p in images])
    result = outcome(page)
    assert result["kind"] == "success"
    check_blobs(result["value"], images, store)


def test_host_page_styles_do_not_reach_the_dialog(page, host):
    open_host(page, host)
    start_pick(page, "pickAndStore", {}, {})
    choose = page.locator(f"{DIALOG} .choose")
    style = choose.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).fontSize, getComputedStyle(b).color]")
    assert style[0] != "rgb(255, 0, 0)"
    assert style[1] != "40px"
    assert style[2] != "rgb(0, 255, 0)"
    # and the picker's styles do not leak into the page
    assert page.locator("#open").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(255, 0, 0)"


def test_a_pick_called_before_the_picker_is_ready_opens_once_it_is(page, host):
    page.goto(f"{host.url}/host.html")
    page.evaluate(
        "() => { filepicker.setKey('demo'); window.nextPick = ['pickAndStore', {}, {}]; document.getElementById('open').click(); }"
    )
    page.locator(f"{DIALOG} .choose").wait_for(timeout=60_000)
    assert page.locator(f"{DIALOG} .choose").inner_text() == LOCALE["computer.choose.one"]


def test_a_new_pick_replaces_a_dialog_left_open(page, host, images):
    """The dialog of a failed pick stays open to say why, and a dialog may be left open: the next
    pick replaces either (the one left open ends as closed, 101), and only its dialog shows."""
    open_host(page, host)
    start_pick(page, "pickAndStore", {}, {"location": "gcs"})
    choose_files(page, images[:1])
    failed = outcome(page)
    assert (failed["kind"], failed["value"]["code"]) == ("error", 400)
    assert page.locator(f"{DIALOG} [role=alert]").is_visible()
    # The page's code starts the next picks itself (a modal dialog covers the page's buttons).
    call = "pick => filepicker[pick[0]].apply(filepicker, pick.slice(1).concat(window.callbacks))"
    page.evaluate(call, ["pickAndStore", {}, {}])  # the user never chooses here
    page.locator(f"{DIALOG} .choose").wait_for()
    assert page.locator(DIALOG).count() == 1
    page.evaluate("window.calls = []")
    page.evaluate(call, ["pickAndStore", {}, {}])
    page.locator(f"{DIALOG} .choose").wait_for()
    assert page.locator(DIALOG).count() == 1
    left = outcome(page)
    assert (left["kind"], left["value"]["code"]) == ("error", 101)
    page.evaluate("window.calls = []")
    choose_files(page, images[:1])
    result = outcome(page)
    assert result["kind"] == "success" and result["value"]["filename"] == images[0].name
    assert page.evaluate("window.calls.filter(c => c.kind === 'error').length") == 0
