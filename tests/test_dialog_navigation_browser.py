"""The dialog's list of sources as the user meets it, in Chromium: a vertical tab list in the page's
order, opened at openTo, moved through with the arrow keys, Home and End; selecting a source draws
its panel in place of the last one, which is disposed of. COMPUTER is the only real source, so the
test registers a second one (tests/second_source.py) in the running picker, as a new source is
added: its module and one registry row."""

from __future__ import annotations

from pathlib import Path

from harness.picking import DIALOG, LOCALE, choose_files, open_host, outcome, start_pick

SECOND = "Second source"
COMPUTER = LOCALE["source.computer"]

# Run by the picker's own interpreter (a <script type="py"> shares it): the module goes where the
# picker's modules are, its row into the registry, and its label, a locale key like every other
# source's, into the English catalog the picker reads at each pick.
REGISTER = """
import json
from pathlib import Path
import js
import picker
from picker.sources import AVAILABLE, Service
from picker.web.session import LOCALES

Path(picker.__file__).parent.parent.joinpath("second_source.py").write_text(str(js.window.secondSourceCode))
AVAILABLE["SECOND"] = Service("SECOND", "source.second", "second_source", "file")
english = LOCALES / "en.json"
english.write_text(json.dumps({**json.loads(english.read_text()), "source.second": str(js.window.secondLabel)}))
js.window.secondRegistered = True
"""


def register_second_source(page) -> None:
    page.evaluate(
        """([code, label, register]) => {
          Object.assign(window, {secondSourceCode: code, secondLabel: label, secondPings: 0, secondDisposed: 0});
          const script = document.createElement("script");
          script.type = "py";
          script.textContent = register;
          document.body.appendChild(script);
        }""",
        [(Path(__file__).parent / "second_source.py").read_text(), SECOND, REGISTER],
    )
    page.wait_for_function("window.secondRegistered === true", timeout=30_000)


def focused_text(page) -> str | None:
    return page.evaluate("() => document.querySelector('[data-pickstore]').shadowRoot.activeElement?.textContent ?? null")


def ping(page) -> int:
    """Sends the event the second source listens for while shown; how many it has heard in all."""
    return page.evaluate("() => { document.dispatchEvent(new Event('second:ping')); return window.secondPings; }")


def assert_selected(page, label: str) -> None:
    tabs = page.locator(f"{DIALOG} [role=tab]")
    selected = page.locator(f"{DIALOG} [role=tab][aria-selected=true]")
    assert selected.count() == 1 and selected.inner_text() == label
    # A roving tabindex: Tab reaches the list at its selected tab only.
    assert [tabs.nth(i).get_attribute("tabindex") for i in range(tabs.count())] == [
        "0" if text == label else "-1" for text in tabs.all_inner_texts()
    ]
    panel = page.locator(f"{DIALOG} [role=tabpanel]")
    assert panel.get_attribute("id") == selected.get_attribute("aria-controls")
    assert panel.get_attribute("aria-labelledby") == selected.get_attribute("id")
    if label == SECOND:
        assert panel.locator(".second").inner_text() == "The second source"
        assert panel.locator("[data-drop]").count() == 0
    else:
        assert panel.locator("[data-drop] .choose").is_visible()
        assert panel.locator(".second").count() == 0


def test_the_arrow_keys_move_between_sources_and_each_swaps_the_panel(page, host, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("picked after switching back")
    open_host(page, host)
    register_second_source(page)
    start_pick(page, "pickAndStore", {"services": ["SECOND", "COMPUTER"], "openTo": "COMPUTER"}, {})
    page.locator(f"{DIALOG} [data-drop] .choose").wait_for()

    # The page's order, with openTo selected (not moved first).
    assert page.locator(f"{DIALOG} [role=tablist]").get_attribute("aria-orientation") == "vertical"
    assert page.locator(f"{DIALOG} [role=tab]").all_inner_texts() == [SECOND, COMPUTER]
    assert_selected(page, COMPUTER)
    assert focused_text(page) == LOCALE["computer.choose.one"]
    page.keyboard.press("Shift+Tab")  # back from the panel to the list, at its selected tab
    assert focused_text(page) == COMPUTER

    for key, label in [("ArrowDown", SECOND), ("ArrowUp", COMPUTER), ("Home", SECOND),
                       ("ArrowRight", COMPUTER), ("ArrowLeft", SECOND), ("End", COMPUTER)]:
        page.keyboard.press(key)
        assert focused_text(page) == label, key
        assert_selected(page, label)
        heard = page.evaluate("window.secondPings")
        # The second source hears the page only while it is shown: leaving it removed its listener.
        assert ping(page) == heard + (1 if label == SECOND else 0), key
    assert page.evaluate("window.secondDisposed") == 3

    page.locator(f"{DIALOG} [role=tab]", has_text=SECOND).click()
    assert_selected(page, SECOND)
    page.locator(f"{DIALOG} [role=tab]", has_text=COMPUTER).click()
    assert_selected(page, COMPUTER)
    assert page.evaluate("window.secondDisposed") == 4

    choose_files(page, [notes])  # the device's source works after being drawn again
    result = outcome(page)
    assert result["kind"] == "success"
    assert (result["value"]["filename"], result["value"]["size"]) == ("notes.txt", notes.stat().st_size)
    page.wait_for_selector(DIALOG, state="detached")
    assert page.evaluate("window.secondDisposed") == 4  # closing disposes only the source shown
