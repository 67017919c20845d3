"""A pick asked before the Python side is ready, on a freshly loaded host page (cold, the runtime
still booting): the loader draws the dialog's frame at once, in its Shadow DOM, labelled, in the
page's language, with focus inside and a loading state; its close button and Esc give 101. When
the picker is ready, the Python dialog takes that frame over: one dialog all along, never none."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page

from harness import ROOT
from harness.host_pages import HostPages
from harness.picking import DIALOG

WORDS = json.loads((ROOT / "locales" / "en.json").read_text(encoding="utf-8"))

# From before the click: when it happened (the event's own time), when the dialog's host entered
# the page and the next frame after that was drawn, and, at every animation frame from then on,
# what the page showed: how many dialog hosts, whether the one shown is the first, and its state.
WATCH = """() => {
  const seen = window.seen = {hosts: [], frames: [], clickAt: null, readyAtClick: null};
  document.getElementById("open").addEventListener("click", event => {
    seen.clickAt = event.timeStamp;
    seen.readyAtClick = window.pickerReady === true;
  }, {capture: true});
  new MutationObserver(records => {
    for (const record of records) for (const node of record.addedNodes) {
      if (node.nodeType !== 1 || !node.matches("[data-pickstore]") || seen.hosts.includes(node)) continue;
      seen.hosts.push(node);
      if (seen.hosts.length === 1) {
        seen.insertedAt = performance.now();
        // The frame that draws it starts now: its rendering follows this callback.
        requestAnimationFrame(() => { seen.visibleAt = performance.now(); });
      }
    }
  }).observe(document.body, {childList: true});
  function sample() {
    if (seen.hosts.length) {
      const shown = [...document.querySelectorAll("[data-pickstore]")];
      const root = shown.length === 1 ? shown[0].shadowRoot : null;
      const dialog = root && root.querySelector("[role=dialog]");
      const box = dialog && dialog.getBoundingClientRect();
      seen.frames.push({
        count: shown.length,
        first: shown[0] === seen.hosts[0],
        visible: !!(box && box.width > 100 && box.height > 100),
        loading: !!(root && root.querySelector(".loading")),
        ready: !!(root && root.querySelector(".choose")),
      });
    }
    if (!seen.stop) requestAnimationFrame(sample);
  }
  requestAnimationFrame(sample);
}"""

FRAME_STATE = """() => {
  const host = document.querySelector("[data-pickstore]");
  const root = host && host.shadowRoot;
  if (!root) return null;
  const dialog = root.querySelector("[role=dialog]");
  const label = dialog && root.getElementById(dialog.getAttribute("aria-labelledby"));
  const focused = root.activeElement;
  return {
    modal: dialog && dialog.getAttribute("aria-modal"),
    lang: dialog && dialog.getAttribute("lang"),
    label: label ? label.textContent : null,
    loading: root.querySelector(".loading") && root.querySelector(".loading").textContent,
    loadingRole: root.querySelector(".loading") && root.querySelector(".loading").getAttribute("role"),
    focused: focused ? focused.getAttribute("aria-label") : null,
    ready: !!root.querySelector(".choose"),
    overlay: getComputedStyle(root.querySelector(".overlay")).position,
  };
}"""


class Held:
    """The network slowed to a trickle from now until `release()`, as for a visitor whose runtime
    is still downloading when the click comes: the picker is certainly not ready, and the boot's
    long tasks (Pyodide's start takes the main thread for seconds on a busy machine) cannot be
    what delays the click."""

    def __init__(self, page: Page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.throttle(20_000)

    def throttle(self, bytes_per_second: float) -> None:
        self.cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": bytes_per_second, "uploadThroughput": -1})

    def release(self) -> None:
        self.throttle(-1)


def first_click(page: Page, host: HostPages, method: str, *options: Any) -> Held:
    """The host page loaded afresh, the picker's key set (which starts the boot) and, at once,
    the user's click on the page's button that asks for a pick; the runtime is held back until
    the test releases it."""
    page.goto(f"{host.url}/host.html")
    page.evaluate(WATCH)
    held = Held(page)
    box = page.locator("#open").bounding_box()
    assert box is not None
    page.evaluate("pick => { filepicker.setKey('demo'); window.nextPick = pick; }", [method, *options])
    # A click as soon as the page is up, as a user's right after the page appears: one input
    # event, without the checks page.click makes first.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("window.seen.visibleAt !== undefined", timeout=10_000)
    return held


def frame_state(page: Page) -> Any:
    return page.evaluate(FRAME_STATE)


def seen(page: Page) -> Any:
    return page.evaluate("""() => ({clickAt: seen.clickAt, readyAtClick: seen.readyAtClick,
      insertedAt: seen.insertedAt, visibleAt: seen.visibleAt, hosts: seen.hosts.length, frames: seen.frames})""")


@pytest.mark.parametrize(("method", "options", "title"), [
    ("pickAndStore", [{}, {}], "dialog.title.one"),
    ("pickMultiple", [{"language": "en-GB"}], "dialog.title.many"),
])
def test_frame_within_100_ms_then_the_dialog_takes_it_over(page: Page, host: HostPages, method: str,
                                                           options: list[Any], title: str) -> None:
    held = first_click(page, host, method, *options)
    shown = seen(page)
    assert shown["readyAtClick"] is False, "the picker was ready before the click: nothing to test"
    assert shown["visibleAt"] - shown["clickAt"] <= 100, shown
    state = frame_state(page)
    assert state == {"modal": "true", "lang": "en", "label": WORDS[title], "loading": WORDS["dialog.loading"],
                     "loadingRole": "status", "focused": WORDS["dialog.close"], "ready": False, "overlay": "fixed"}
    page.keyboard.press("Tab")  # focus stays inside
    assert frame_state(page)["focused"] == WORDS["dialog.close"]

    held.release()
    page.wait_for_function("window.pickerReady === true", timeout=60_000)
    page.locator(f"{DIALOG} .choose").first.wait_for()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.evaluate("() => { seen.stop = true; }")
    shown = seen(page)
    frames = shown["frames"]
    assert shown["hosts"] == 1, "a second dialog host was added"
    assert frames and all(f["count"] == 1 and f["first"] and f["visible"] for f in frames), \
        [f for f in frames if not (f["count"] == 1 and f["first"] and f["visible"])]
    # The loading state first, then the dialog's content, never both and never neither.
    states = [(f["loading"], f["ready"]) for f in frames]
    assert states[0] == (True, False) and states[-1] == (False, True), states
    assert all(s in ((True, False), (False, True)) for s in states), states
    switched = states.index((False, True))
    assert all(s == (False, True) for s in states[switched:]), states
    state = frame_state(page)
    assert state["label"] == WORDS[title] and state["lang"] == "en"

    page.keyboard.press("Escape")
    page.wait_for_function("window.calls.length > 0")
    assert [c["text"] for c in page.evaluate("window.calls")] == ["FPError 101"]
    assert page.locator(DIALOG).count() == 0
    assert page.evaluate("document.activeElement.id") == "open"


@pytest.mark.parametrize("how", ["close button", "Escape"])
def test_closing_the_frame_gives_101_and_no_dialog_follows(page: Page, host: HostPages, how: str) -> None:
    held = first_click(page, host, "pickAndStore", {}, {})
    assert frame_state(page)["ready"] is False
    if how == "Escape":
        page.keyboard.press("Escape")
    else:
        page.locator(f"{DIALOG} button.close").click()
    calls = page.evaluate("window.calls")
    assert [(c["kind"], c["value"]["code"], c["text"]) for c in calls] == [("error", 101, "FPError 101")]
    assert page.locator(DIALOG).count() == 0
    assert page.evaluate("document.activeElement.id") == "open"

    # Once ready, the closed pick opens nothing and reports nothing more; a new pick opens one dialog.
    held.release()
    page.wait_for_function("window.pickerReady === true", timeout=60_000)
    assert page.locator(DIALOG).count() == 0
    page.click("#open")
    page.locator(f"{DIALOG} .choose").first.wait_for()
    assert page.locator(DIALOG).count() == 1
    assert page.evaluate("seen.hosts.length") == 2
    page.keyboard.press("Escape")
    page.wait_for_function("window.calls.length > 1")
    assert [c["text"] for c in page.evaluate("window.calls")] == ["FPError 101", "FPError 101"]


def test_frame_of_a_refused_call_goes_away_with_its_error(page: Page, host: HostPages) -> None:
    held = first_click(page, host, "pickAndStore", {"mimetype": "image/*", "extension": ".png"}, {})
    assert frame_state(page)["loading"] == WORDS["dialog.loading"]
    held.release()
    page.wait_for_function("window.calls.length > 0", timeout=60_000)
    calls = page.evaluate("window.calls")
    assert [(c["kind"], c["value"]["code"]) for c in calls] == [("error", 400)]
    page.wait_for_function("!document.querySelector('[data-pickstore]')")
    assert page.evaluate("document.activeElement.id") == "open"


def test_no_frame_for_a_window_container(page: Page, host: HostPages) -> None:
    """A popup opens only from the click itself; the loader draws no frame over the page for it."""
    first_click_without_frame = """pick => { filepicker.setKey('demo'); window.nextPick = pick; }"""
    page.goto(f"{host.url}/host.html")
    page.evaluate(WATCH)
    held = Held(page)
    page.evaluate(first_click_without_frame, ["pickAndStore", {"container": "window"}, {}])
    page.click("#open")
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    assert page.evaluate("seen.readyAtClick") is False
    assert page.locator(DIALOG).count() == 0
    held.release()
