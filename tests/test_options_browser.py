"""Picker options as a page author uses them, in Chromium: limits refused in the dialog, services,
confirm-before-upload, hide, sniffed types, loose calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from .browser import DIALOG, LOCALE, choose_files, drop_files, open_host, outcome, sha256, start_pick
from .test_pick_browser import png


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    made = {
        "small": (tmp_path / "small.png", png(4, 4, (1, 2, 3))),
        "big": (tmp_path / "big.png", png(4, 4, (1, 2, 3)) + b"\0" * 3000),
        "other": (tmp_path / "other.png", png(5, 5, (9, 9, 9))),
        "third": (tmp_path / "third.png", png(6, 6, (7, 7, 7))),
    }
    for path, data in made.values():
        path.write_bytes(data)
    return {name: path for name, (path, _) in made.items()}


def alert_text(page) -> str:
    alert = page.locator(f"{DIALOG} [role=alert]")
    alert.wait_for()
    return alert.inner_text()


def uploads_seen(page) -> list[str]:
    return page.evaluate("performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/store'))")


def test_a_file_over_max_size_is_refused_naming_the_limit_and_nothing_is_sent(page, host, files):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"maxSize": "2048", "multiple": True}, {})
    choose_files(page, [files["small"], files["big"]])
    expected = LOCALE["error.max_size"]["one"].format(names="big.png", limit="2 KB")
    assert alert_text(page).startswith(expected)
    assert page.evaluate("window.calls") == []
    assert uploads_seen(page) == []


def test_picking_more_than_max_files_is_refused(page, host, files):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"maxFiles": 2, "multiple": True}, {})
    choose_files(page, [files["small"], files["other"], files["third"]])
    assert alert_text(page).startswith(LOCALE["error.max_files"]["other"].format(count=2, chosen=3))
    # Picking within the limit in the same dialog then works.
    choose_files(page, [files["small"], files["other"]])
    result = outcome(page)
    assert result["kind"] == "success"
    assert [b["filename"] for b in result["value"]] == ["small.png", "other.png"]


@pytest.mark.parametrize(
    "options, words",
    [
        ({"mimetype": "image/*", "extension": ".pdf"}, ["mimetype", "extension"]),
        ({"services": ["COMPUTER", "NOPE"]}, ["'NOPE'", "unknown service"]),
        ({"services": ["COMPUTER", "BOX"]}, ["'BOX'", "not available"]),
        ({"openTo": "FTP"}, ["openTo"]),
        ({"maxSize": -1}, ["maxSize"]),
        ({"webcam": {"videoRes": "800x600"}}, ["videoRes", "1280x720"]),
    ],
)
def test_an_invalid_option_is_an_error_400_naming_it(page, host, options, words):
    open_host(page, host)
    start_pick(page, "pickAndStore", options, {})
    result = outcome(page)
    assert result["kind"] == "error"
    assert result["value"]["code"] == 400
    assert result["text"] == "FPError 400"
    for word in words:
        assert word in result["value"]["message"]
    assert page.locator(DIALOG).count() == 0


def test_without_background_upload_nothing_is_sent_until_the_user_confirms(page, host, files):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"backgroundUpload": False, "multiple": True}, {})
    choose_files(page, [files["small"], files["other"]])
    start = page.locator(f"{DIALOG} .start")
    start.wait_for()
    assert start.inner_text() == LOCALE["action.upload"]["other"].format(count=2)
    page.wait_for_timeout(300)
    assert uploads_seen(page) == []
    start.click()
    result = outcome(page)
    assert result["kind"] == "success"
    assert len(result["value"]) == 2


def test_hide_closes_the_dialog_on_selection_and_the_upload_still_reports(page, host, files):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"hide": True}, {})
    choose_files(page, [files["big"]])
    page.wait_for_selector(DIALOG, state="detached", timeout=5_000)
    result = outcome(page)
    assert result["kind"] == "success"
    assert result["value"]["sha256"] == sha256(files["big"].read_bytes())
    progress = [c["value"]["progress"] for c in page.evaluate("window.calls") if c["kind"] == "progress"]
    assert progress and progress[-1] == 100


def test_a_file_without_a_type_gets_the_one_its_bytes_announce(page, host, files, tmp_path):
    unnamed = tmp_path / "scan-0001"
    unnamed.write_bytes(files["small"].read_bytes())
    open_host(page, host)
    start_pick(page, "pickAndStore", {"mimetype": "image/png"}, {})
    drop_files(page, [unnamed])  # no type given, as browsers do for unknown extensions
    result = outcome(page)
    assert result["kind"] == "success"
    assert result["value"]["mimetype"] == "image/png"


def test_options_left_out_move_the_callbacks_left(page, host, files):
    open_host(page, host)
    start_pick(page, "pickAndStore")  # pickAndStore(onSuccess, onError, onProgress)
    choose_files(page, [files["small"]])
    result = outcome(page)
    assert result["kind"] == "success"
    assert result["value"]["filename"] == "small.png"


def test_unknown_option_names_are_warned_about_and_the_pick_goes_on(page, host, files):
    warnings: list[str] = []
    page.on("console", lambda message: message.type == "warning" and warnings.append(message.text))
    open_host(page, host)
    start_pick(page, "pickAndStore", {"mimetyp": "image/*", "multiple": True}, {"locaton": "S3"})
    choose_files(page, [files["small"]])
    result = outcome(page)
    assert result["kind"] == "success"
    assert any("'mimetyp'" in w for w in warnings) and any("'locaton'" in w for w in warnings)


def test_a_chosen_folder_is_uploaded_with_each_files_path_in_it(page, host, files, tmp_path):
    album = tmp_path / "album"
    (album / "day two").mkdir(parents=True)
    (album / "a.png").write_bytes(files["small"].read_bytes())
    (album / "day two" / "b.png").write_bytes(files["other"].read_bytes())
    open_host(page, host)
    start_pick(page, "pickAndStore", {"folders": True, "multiple": True}, {})
    folder = page.locator(f"{DIALOG} .folder")
    assert folder.inner_text() == LOCALE["computer.choose_folder"]
    with page.expect_file_chooser() as chooser:
        folder.click()
    chooser.value.set_files(str(album))
    result = outcome(page)
    assert result["kind"] == "success"
    paths = sorted((b["originalPath"], b["sha256"]) for b in result["value"])
    assert paths == [
        ("album/a.png", sha256(files["small"].read_bytes())),
        ("album/day two/b.png", sha256(files["other"].read_bytes())),
    ]


def test_without_folders_there_is_no_folder_button(page, host):
    open_host(page, host)
    start_pick(page, "pickAndStore", {"multiple": True}, {})
    page.locator(f"{DIALOG} .choose").first.wait_for()
    assert page.locator(f"{DIALOG} .folder").count() == 0
