"""Every behaviour of the dialog in each of its containers: over the page ("modal"), in a popup
window ("window"), and in an iframe of the page (its id). Results, progress and errors reach the
page's callbacks from all three; refusals are explained where the user is looking.

These tests share one booted page (`host_page`): each opens its dialogs on it in turn, as a page
that lets its user pick several times does."""

from __future__ import annotations

import pytest

from harness.dialogs import CONTAINERS
from harness.picking import DIALOG, LOCALE, assert_progress_honest, open_host, progress_events, sha256, start_pick


@pytest.mark.parametrize("container", CONTAINERS)
def test_picked_files_reach_on_success_and_their_progress_reaches_on_progress(host_page, container, files):
    picked = [files["small"], files["other"]]
    dialog = host_page.open(container, "pickAndStore", {"multiple": True}, {})
    if container != "modal":
        assert host_page.page.locator(DIALOG).count() == 0, "a modal opened over the page as well"
    if container == "window":
        assert dialog.scope.title() == LOCALE["dialog.title.many"]
    dialog.choose(picked)
    result = host_page.outcome()
    assert result["kind"] == "success"
    blobs = result["value"]
    assert [b["filename"] for b in blobs] == ["small.png", "other.png"]
    for blob, path in zip(blobs, picked, strict=True):
        assert (blob["size"], blob["mimetype"], blob["sha256"]) == (path.stat().st_size, "image/png", sha256(path.read_bytes()))
        assert blob["url"].endswith(f"/api/file/{blob['handle']}")
    assert_progress_honest(progress_events(host_page.page), picked)
    dialog.wait_gone()


REFUSALS = {
    "mimetype": (
        {"mimetype": "image/*"}, ["notes"],
        LOCALE["error.type"]["one"].format(names="notes.txt", accepted="image/*"),
    ),
    "extensions": (
        {"extensions": [".png", "gif"]}, ["notes"],
        LOCALE["error.type"]["one"].format(names="notes.txt", accepted=".png or .gif"),
    ),
    "maxSize": (
        {"maxSize": 2048, "multiple": True}, ["small", "big"],
        LOCALE["error.max_size"]["one"].format(names="big.png", limit="2 KB"),
    ),
    "maxFiles": (
        {"maxFiles": 2, "multiple": True}, ["small", "other", "third"],
        LOCALE["error.max_files"]["other"].format(count=2, chosen=3),
    ),
}


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_refused_selection_is_explained_in_the_dialog_and_nothing_is_sent(host_page, container, refusal, files):
    options, chosen, message = REFUSALS[refusal]
    dialog = host_page.open(container, "pickAndStore", options, {})
    dialog.choose([files[name] for name in chosen])
    assert dialog.alert() == message
    page = host_page.page
    page.wait_for_timeout(200)
    assert host_page.calls() == []
    assert host_page.uploads() == []
    # The user reads it, dismisses it, and closes the dialog: the page hears 101 and nothing else.
    dialog.part("[role=alert] button").click()
    assert dialog.part("[role=alert]").is_hidden()
    dialog.part(".close").click()
    result = host_page.outcome()
    assert (result["kind"], result["value"]["code"]) == ("error", 101)
    dialog.wait_gone()


@pytest.mark.parametrize("container", CONTAINERS)
def test_two_files_dropped_on_a_single_pick_are_refused(host_page, container, files):
    dialog = host_page.open(container, "pick", {})
    dialog.drop([files["small"], files["other"]], {"small.png": "image/png", "other.png": "image/png"})
    assert dialog.alert() == LOCALE["error.only_one"].format(count=2)
    # One of them then goes through.
    dialog.drop([files["other"]], {"other.png": "image/png"})
    result = host_page.outcome()
    assert result["kind"] == "success"
    assert result["value"]["filename"] == "other.png"
    dialog.wait_gone()


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("folders", [False, True], ids=["folders off", "folders on without multiple"])
def test_a_dropped_folder_is_refused_unless_folders_are_on(host_page, container, folders, album):
    dialog = host_page.open(container, "pickAndStore", {"folders": folders}, {})
    dialog.drop_folder(album)
    assert dialog.alert() == LOCALE["error.folders"]["one"].format(names="album")
    host_page.page.wait_for_timeout(200)
    assert host_page.calls() == []
    assert host_page.uploads() == []
    dialog.part(".close").click()
    assert host_page.outcome()["value"]["code"] == 101
    dialog.wait_gone()


@pytest.mark.parametrize("container", CONTAINERS)
def test_a_dropped_folder_is_uploaded_with_each_files_path_when_folders_are_on(host_page, container, album):
    dialog = host_page.open(container, "pickAndStore", {"folders": True, "multiple": True}, {})
    dialog.drop_folder(album)
    result = host_page.outcome()
    assert result["kind"] == "success"
    assert sorted((b["originalPath"], b["filename"], b["sha256"]) for b in result["value"]) == [
        ("album/a.png", "a.png", sha256((album / "a.png").read_bytes())),
        ("album/day two/b.png", "b.png", sha256((album / "day two" / "b.png").read_bytes())),
    ]
    dialog.wait_gone()


UPLOAD_CREATION = "**/api/upload"  # the request that creates an upload, before any of its bytes are sent

CLOSINGS = [(c, "close button") for c in CONTAINERS] + [(c, "Escape") for c in CONTAINERS] + [("window", "window closed")]


@pytest.mark.parametrize("container, how", CLOSINGS)
def test_closing_without_picking_is_error_101(host_page, container, how):
    dialog = host_page.open(container, "pickAndStore", {}, {})
    if how == "close button":
        dialog.part(".close").click()
    elif how == "Escape":
        dialog.press("Escape")
    else:
        dialog.scope.close()  # the user closes the popup window itself
    result = host_page.outcome()
    assert (result["kind"], result["value"]["code"], result["text"]) == ("error", 101, "FPError 101")
    dialog.wait_gone()
    assert host_page.uploads() == []


@pytest.mark.parametrize("container", CONTAINERS)
def test_without_background_upload_nothing_is_sent_until_the_user_presses_upload(host_page, container, files):
    dialog = host_page.open(container, "pickAndStore", {"backgroundUpload": False, "multiple": True}, {})
    dialog.choose([files["small"], files["other"]])
    start = dialog.part(".start")
    start.wait_for()
    assert start.inner_text() == LOCALE["action.upload"]["other"].format(count=2)
    assert dialog.part(".files li").count() == 2
    host_page.page.wait_for_timeout(300)
    assert host_page.uploads() == []
    assert host_page.calls() == []
    start.click()
    result = host_page.outcome()
    assert result["kind"] == "success"
    assert [b["filename"] for b in result["value"]] == ["small.png", "other.png"]
    dialog.wait_gone()


@pytest.mark.parametrize("container", CONTAINERS)
def test_hide_closes_the_modal_on_selection_while_the_upload_goes_on(host_page, container, files):
    """The reference: hide "works only for modal mode". A window or an iframe keeps showing the
    upload, as without hide."""
    page = host_page.page
    held: list = []
    page.route(UPLOAD_CREATION, lambda route: held.append(route))  # the upload waits until the test lets it go
    try:
        dialog = host_page.open(container, "pickAndStore", {"hide": True}, {})
        dialog.choose([files["big"]])
        for _ in range(100):
            if held:
                break
            page.wait_for_timeout(50)
        assert held, "the upload did not start"
        if container == "modal":
            dialog.wait_gone(seconds=1)
        else:
            assert dialog.part(".files li .name").inner_text() == "big.png"
            assert not dialog.is_gone()
        assert [c for c in host_page.calls() if c["kind"] != "progress"] == []
    finally:
        for route in held:
            route.continue_()
        page.unroute(UPLOAD_CREATION)
    result = host_page.outcome()
    assert result["kind"] == "success"
    assert result["value"]["sha256"] == sha256(files["big"].read_bytes())
    assert_progress_honest(progress_events(page), [files["big"]])
    dialog.wait_gone()


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("method", ["pick", "pickMultiple"])
def test_pick_gives_one_blob_and_pick_multiple_a_list(host_page, container, method, files):
    dialog = host_page.open(container, method, {})
    single = method == "pick"
    title = LOCALE["dialog.title.one" if single else "dialog.title.many"]
    assert dialog.part("h2").inner_text() == title
    dialog.choose([files["small"]])
    result = host_page.outcome()
    assert result["kind"] == "success"
    if single:
        assert isinstance(result["value"], dict)
        assert result["value"]["filename"] == "small.png"
    else:
        assert [b["filename"] for b in result["value"]] == ["small.png"]
    dialog.wait_gone()


def test_an_unknown_container_id_is_an_error_400_naming_it(host_page):
    start_pick(host_page.page, "pickAndStore", {"container": "no-such-frame"}, {})
    result = host_page.outcome()
    assert (result["kind"], result["value"]["code"]) == ("error", 400)
    assert "'no-such-frame'" in result["value"]["message"]
    assert host_page.is_clean()


def test_pickers_open_one_after_another_in_every_container(host_page, files):
    for container in CONTAINERS:
        dialog = host_page.open(container, "pickAndStore", {}, {})
        dialog.part(".close").click()
        dialog.wait_gone()
    host_page.page.wait_for_function("window.calls.length === 3")
    for container in CONTAINERS:
        dialog = host_page.open(container, "pick", {})
        dialog.choose([files["small"]])
        dialog.wait_gone(seconds=30)
    host_page.page.wait_for_function("window.calls.filter(c => c.kind === 'success').length === 3", timeout=30_000)
    finals = [(c["kind"], c["value"].get("code")) for c in host_page.calls() if c["kind"] != "progress"]
    assert finals == [("error", 101)] * 3 + [("success", None)] * 3


def test_on_a_phone_the_dialog_opens_in_its_own_window(browser, host):
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


# Where the picker first reads the changed file: its first bytes, to find the real type of a file
# the browser types generically; a chunk to hash; or only the request that sends it.
READS = [("report.bin", "sha256"), ("report.png", "sha256"), ("report.png", False)]


@pytest.mark.parametrize(("name", "checksum"), READS)
def test_a_file_changed_after_it_was_picked_fails_its_upload_with_a_clear_message(host_page, store, tmp_path, name,
                                                                                checksum):
    """The browser refuses to read a picked file that has since changed on disk. The pick ends in
    onError at once (no retries of a read that cannot succeed) with a message that says so, shown
    in the dialog too; nothing is stored."""
    changing = tmp_path / name
    changing.write_bytes(b"first version " * 1000)
    host_page.page.evaluate("options => filepicker.setUploadOptions(options)", {"checksum": checksum})
    try:
        dialog = host_page.open("modal", "pickAndStore", {"backgroundUpload": False}, {})
        dialog.choose([changing])
        dialog.part(".start").wait_for()
        changing.write_bytes(b"second version, longer " * 1000)
        dialog.part(".start").click()
        result = host_page.outcome()
    finally:
        host_page.page.evaluate("filepicker.setUploadOptions({})")
    assert result["kind"] == "error"
    assert result["value"]["code"] == 400
    message = result["value"]["message"]
    assert message == LOCALE["error.unreadable"].format(filename=name)
    assert dialog.alert() == message
    assert not [p for p in store.stored_files() if p.read_bytes() in (b"first version " * 1000, changing.read_bytes())]
    dialog.part(".close").click()


# A dropped entry whose file() hands over something no browser makes: a "file" whose size is no
# number. It stands for any fault in the picker's own code while it handles a pick.
DROP_BROKEN_FILE = """() => {
  const broken = {name: 'broken.png', size: 'many', type: 'image/png', lastModified: 0};
  const entry = {name: 'broken.png', fullPath: '/broken.png', isFile: true, isDirectory: false,
                 file: (ok) => setTimeout(() => ok(broken))};
  const transfer = new DataTransfer();
  Object.defineProperty(transfer, 'items', {value: [{kind: 'file', webkitGetAsEntry: () => entry}]});
  Object.defineProperty(transfer, 'files', {value: [broken]});
  const zone = document.querySelector('[data-pickstore]').shadowRoot.querySelector('[data-drop]');
  for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""


def test_a_fault_in_the_picker_ends_the_pick_with_on_error_instead_of_waiting_for_ever(host_page):
    dialog = host_page.open("modal", "pickAndStore", {}, {})
    dialog.part("[data-drop]").wait_for()
    host_page.page.evaluate(DROP_BROKEN_FILE)
    result = host_page.outcome()
    assert result["kind"] == "error"
    assert result["value"]["code"] == 500
    assert result["value"]["message"].startswith("The upload stopped because of a fault in the picker: ValueError(")
    assert dialog.alert() == result["value"]["message"]
    dialog.part(".close").click()


# A dropped folder the browser cannot list: readEntries calls its error callback, as it does for a
# folder removed after the drop.
DROP_UNREADABLE_FOLDER = """() => {
  const folder = {name: 'gone', fullPath: '/gone', isFile: false, isDirectory: true,
                  createReader: () => ({readEntries: (ok, fail) => setTimeout(() => fail({message: 'NotFoundError'}))})};
  const transfer = new DataTransfer();
  Object.defineProperty(transfer, 'items', {value: [{kind: 'file', webkitGetAsEntry: () => folder}]});
  const zone = document.querySelector('[data-pickstore]').shadowRoot.querySelector('[data-drop]');
  for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""


def test_a_dropped_folder_that_cannot_be_read_is_explained_and_the_user_may_pick_again(host_page, files):
    dialog = host_page.open("modal", "pickAndStore", {"folders": True, "multiple": True}, {})
    dialog.part("[data-drop]").wait_for()
    host_page.page.evaluate(DROP_UNREADABLE_FOLDER)
    assert dialog.alert() == LOCALE["error.folder_unreadable"].format(message="NotFoundError")
    assert host_page.calls() == [] and host_page.uploads() == []
    dialog.choose([files["small"]], button=".choose:not(.folder)")
    result = host_page.outcome()
    assert result["kind"] == "success"
    assert [b["filename"] for b in result["value"]] == ["small.png"]
