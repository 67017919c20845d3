"""Picker options as a page author uses them, in Chromium: invalid values refused with 400,
sniffed types, folders, and the loose ways real pages call the v2 API, which the picker takes as
the old library did. (Each option's effect in every container: test_containers_browser.py.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from harness.picking import DIALOG, LOCALE, choose_files, drop_files, outcome, sha256, start_pick


def alert_says(page, text: str, whole: bool = True) -> None:
    """The dialog's message comes to read `text`. A new choice replaces the message shown for the
    last one a moment after the chooser closes, so reading it at once may still give the old one."""
    message = expect(page.locator(f"{DIALOG} [role=alert] p"))
    if whole:
        message.to_have_text(text)
    else:
        message.to_contain_text(text)


def outcomes(page, count: int) -> list[dict]:
    """The first `count` success or error calls, once there are that many."""
    page.wait_for_function(f"window.calls.filter(c => c.kind !== 'progress').length >= {count}", timeout=30_000)
    return [c for c in page.evaluate("window.calls") if c["kind"] != "progress"]


def start_with(page, script: str) -> None:
    """The user clicks the page's button, which runs the call `script` sets up in window.nextPick
    (page code, for what JSON cannot carry: undefined, functions, one object in two places)."""
    page.evaluate(script)
    page.click("#open")


@pytest.mark.parametrize(
    "options, words",
    [
        ({"mimetype": "image/*", "extension": ".pdf"}, ["mimetype", "extension"]),
        ({"services": ["NOPE", "BOX"]}, ["'services'", "NOPE (unknown name", "BOX (needs an OAuth app", "available: COMPUTER"]),
        ({"openTo": 3}, ["openTo"]),
        ({"maxSize": -1}, ["maxSize"]),
        ({"maxFiles": "two"}, ["maxFiles"]),
        ({"webcam": {"videoRes": "800x600"}}, ["videoRes", "1280x720"]),
    ],
)
def test_an_invalid_option_is_an_error_400_naming_it(host_page, options, words):
    start_pick(host_page.page, "pickAndStore", options, {})
    result = host_page.outcome()
    assert result["kind"] == "error"
    assert result["value"]["code"] == 400
    assert result["text"] == "FPError 400"
    for word in words:
        assert word in result["value"]["message"]
    assert host_page.is_clean()


# With a mimetype restriction the type is needed to accept the file; without one, it is found just
# before the file uploads.
@pytest.mark.parametrize("options", [{"mimetype": "image/png"}, {}])
def test_a_file_without_a_type_gets_the_one_its_bytes_announce(host_page, files, tmp_path, options):
    unnamed = tmp_path / "scan-0001"
    unnamed.write_bytes(files["small"].read_bytes())
    start_pick(host_page.page, "pickAndStore", options, {})
    drop_files(host_page.page, [unnamed])  # no type given, as browsers do for unknown extensions
    result = host_page.outcome()
    assert result["kind"] == "success"
    assert result["value"]["mimetype"] == "image/png"


def test_a_chosen_folder_is_uploaded_with_each_files_path_in_it(host_page, album):
    page = host_page.page
    start_pick(page, "pickAndStore", {"folders": True, "multiple": True}, {})
    folder = page.locator(f"{DIALOG} .folder")
    assert folder.inner_text() == LOCALE["computer.choose_folder"]
    with page.expect_file_chooser() as chooser:
        folder.click()
    chooser.value.set_files(str(album))
    result = host_page.outcome()
    assert result["kind"] == "success"
    paths = sorted((b["originalPath"], b["sha256"]) for b in result["value"])
    assert paths == [
        ("album/a.png", sha256((album / "a.png").read_bytes())),
        ("album/day two/b.png", sha256((album / "day two" / "b.png").read_bytes())),
    ]


def test_without_folders_there_is_no_folder_button(host_page):
    page = host_page.page
    start_pick(page, "pickAndStore", {"multiple": True}, {})
    page.locator(f"{DIALOG} .choose").first.wait_for()
    assert page.locator(f"{DIALOG} .folder").count() == 0
    page.locator(f"{DIALOG} .close").click()
    assert host_page.outcome()["value"]["code"] == 101


# --- loose calls, as real pages make them ------------------------------------------------------


@pytest.mark.parametrize(
    "call, many",
    [
        (["pickAndStore"], False),  # pickAndStore(onSuccess, onError, onProgress)
        (["pickAndStore", {"multiple": True}], True),  # pickAndStore(picker_options, onSuccess, ...)
        (["pickAndStore", None, None], False),  # null for both options objects
        (["pick"], False),
        (["pickMultiple"], True),
    ],
    ids=["no options", "no store options", "null options", "pick", "pickMultiple"],
)
def test_options_left_out_move_the_callbacks_left(host_page, files, call, many):
    page = host_page.page
    start_pick(page, *call)
    choose_files(page, [files["small"]])
    result = host_page.outcome()
    assert result["kind"] == "success"
    blob = result["value"][0] if many else result["value"]
    assert isinstance(result["value"], list) is many
    assert blob["filename"] == "small.png"
    progress = [c for c in host_page.calls() if c["kind"] == "progress"]
    assert progress and progress[-1]["value"]["progress"] == 100, "onProgress did not reach its slot"


def test_numbers_and_booleans_given_as_strings(host_page, files):
    page = host_page.page
    start_pick(page, "pickAndStore", {"maxFiles": "2", "maxSize": "2048", "multiple": "true"}, {})
    choose_files(page, [files["small"], files["other"], files["third"]])
    alert_says(page, LOCALE["error.max_files"]["other"].format(count=2, chosen=3))
    choose_files(page, [files["small"], files["big"]])
    alert_says(page, LOCALE["error.max_size"]["one"].format(names="big.png", limit="2 KB"))
    choose_files(page, [files["small"], files["other"]])
    result = host_page.outcome()
    assert [b["filename"] for b in result["value"]] == ["small.png", "other.png"]


def test_mimetypes_as_one_comma_separated_string(host_page, files, tmp_path):
    data = tmp_path / "data.json"
    data.write_text("{}")
    page = host_page.page
    start_pick(page, "pickAndStore", {"mimetypes": "image/png, text/plain", "multiple": True}, {})
    accept = page.locator(f"{DIALOG} input[type=file]").first.get_attribute("accept")
    assert accept == "image/png,text/plain"
    choose_files(page, [data])
    alert_says(page, LOCALE["error.type"]["one"].format(names="data.json", accepted="image/png or text/plain"))
    choose_files(page, [files["small"], files["notes"]])
    result = host_page.outcome()
    assert [(b["filename"], b["mimetype"]) for b in result["value"]] == [("small.png", "image/png"), ("notes.txt", "text/plain")]


def test_open_to_given_as_a_list(host_page, files):
    page = host_page.page
    start_pick(page, "pickAndStore", {"services": ["computer"], "openTo": ["computer"]}, {})
    current = page.locator(f"{DIALOG} [role=tab][aria-selected=true]")
    assert current.inner_text() == LOCALE["source.computer"]
    choose_files(page, [files["small"]])
    assert host_page.outcome()["kind"] == "success"


def test_services_the_picker_lacks_are_left_out_with_one_warning_and_the_pick_goes_on(host_page, files):
    """A page written for the old library names services we lack, and opens to one of them."""
    page = host_page.page
    start_pick(page, "pickAndStore", {"services": ["URL", "COMPUTER", "DROPBOX"], "openTo": ["URL"]}, {})
    tabs = page.locator(f"{DIALOG} [role=tab]")
    tabs.first.wait_for()
    assert tabs.all_inner_texts() == [LOCALE["source.computer"]]
    assert tabs.first.get_attribute("aria-selected") == "true"
    choose_files(page, [files["small"]])
    assert host_page.outcome()["kind"] == "success"
    assert host_page.warnings == [
        "filepicker: services left out of the dialog: URL (not available yet), "
        "DROPBOX (needs an OAuth app the operator has not configured)",
        "filepicker: openTo 'URL' is not among the services shown; the dialog opens to COMPUTER",
    ]


def test_options_that_do_nothing_yet_are_warned_about_by_name(host_page, files):
    page = host_page.page
    start_pick(page, "pickAndStore", {"customSourcePath": "x/", "cropDim": [800, 600]}, {})
    choose_files(page, [files["small"]])
    assert host_page.outcome()["kind"] == "success"
    assert [w.split(":")[1].strip() for w in host_page.warnings] == [
        "option 'customSourcePath' is not supported yet and does nothing",
        "option 'cropDim' is not supported yet and does nothing",
    ]


def test_the_same_object_as_picker_and_store_options(host_page, files):
    page = host_page.page
    start_with(page, """() => {
      const options = {mimetype: "image/*", multiple: true, location: "local", path: "shared/"};
      window.nextPick = ["pickAndStore", options, options];
    }""")
    choose_files(page, [files["small"]])
    result = host_page.outcome()
    assert result["kind"] == "success"
    [blob] = result["value"]  # multiple, from the picker half
    assert blob["key"] == f"shared/{blob['handle']}_small.png"  # path, from the store half
    assert host_page.warnings == []


def test_set_key_called_again_before_every_pick(host_page, files):
    page = host_page.page
    for count, key in enumerate(["demo", "no-such-key", "demo"], start=1):
        page.evaluate("key => filepicker.setKey(key)", key)
        start_pick(page, "pickAndStore", {}, {})
        choose_files(page, [files["small"]])
        last = outcomes(page, count)[-1]
        if key == "no-such-key":
            assert (last["kind"], last["value"]["code"]) == ("error", 403)
            alert_says(page, "no-such-key", whole=False)
            page.locator(f"{DIALOG} .close").click()
            page.wait_for_selector(DIALOG, state="detached")
        else:
            assert last["kind"] == "success"
    assert [c["kind"] for c in outcomes(page, 3)] == ["success", "error", "success"]
    assert page.evaluate("document.querySelectorAll('script[type=py]').length") == 1, "the picker booted twice"


@pytest.mark.parametrize("container", ["modal", "picker-frame"])
def test_a_pick_started_while_the_page_loads(page, host, files, container):
    page.goto(f"{host.url}/onload.html#{container}")
    scope = page if container == "modal" else page.frame_locator(f"#{container}")
    choose = scope.locator(f"{DIALOG} .choose")
    choose.wait_for(timeout=60_000)
    with page.expect_file_chooser() as chooser:
        choose.click()
    chooser.value.set_files([str(files["small"])])
    result = outcome(page)
    assert result["kind"] == "success"
    assert result["value"]["sha256"] == sha256(files["small"].read_bytes())


def test_unknown_keys_even_undefined_or_functions_are_warned_about_and_the_pick_goes_on(host_page, files):
    page = host_page.page
    start_with(page, """() => {
      window.nextPick = ["pickAndStore",
        {mimetype: "image/*", mimetyp: "image/*", colour: undefined, onPicked: function () {}, maxSize: undefined, language: null},
        {location: undefined, locaton: "S3", callback: function () {}}];
    }""")
    choose_files(page, [files["small"]])
    result = host_page.outcome()
    assert result["kind"] == "success"
    named = " ".join(host_page.warnings)
    for name in ("mimetyp", "colour", "onPicked", "locaton", "callback"):
        assert f"'{name}'" in named, f"no warning names {name}: {host_page.warnings}"
    for name in ("mimetype", "maxSize", "language", "location"):
        assert f"'{name}'" not in named
