"""A renderer that crashes explains itself: the page's errors get a report naming the page, the
minidump crashpad wrote (with its signal and where) and Chromium's log. The crash is real: the
renderers of a browser of the test's own get SIGSEGV, so the shared browser is left alone and the
report lands in a list of the test's, not in a fixture that would fail."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

from playwright.sync_api import Browser

from harness.browser import crash_dumps, crashed, keep_on_loopback, launch, minidump_summary, new_page


def crash_renderers(browser: Browser) -> None:
    """Sends SIGSEGV to every renderer process of `browser`, as a fault in one would."""
    processes = browser.new_browser_cdp_session().send("SystemInfo.getProcessInfo")["processInfo"]
    renderers = [process["id"] for process in processes if process["type"] == "renderer"]
    assert renderers, processes
    for pid in renderers:
        os.kill(pid, signal.SIGSEGV)


def test_a_crashed_page_reports_its_url_its_minidump_and_the_log(browser, tmp_path: Path):
    evidence = tmp_path / "chromium"
    own = launch(browser.browser_type, evidence=evidence)
    try:
        context = own.new_context()
        outside: list[str] = []
        errors: list[str] = []
        keep_on_loopback(context, outside)
        page = new_page(context, errors)
        page.goto("data:text/html,<title>doomed</title><p>about to crash")
        assert not crashed(page) and errors == []
        with page.expect_event("crash"):
            crash_renderers(own)
        assert crashed(page)
        assert len(errors) == 1, errors
        report = errors[0]
        assert "data:text/html,<title>doomed</title>" in report
        assert "Target crashed" in report
        named = Path(re.search(r"newest minidump (\S+\.dmp)", report).group(1))  # type: ignore[union-attr]
        assert named in crash_dumps(evidence) and named.stat().st_size > 0
        assert "SIGSEGV" in report and "SIGSEGV" in minidump_summary(named)
        assert f"Chromium's log: {evidence / 'chromium.log'}" in report
        assert (evidence / "chromium.log").stat().st_size > 0
        assert outside == []
    finally:
        own.close()


def test_a_page_that_did_not_crash_has_no_report(page):
    page.goto("data:text/html,<p>fine")
    page.evaluate("1 + 1")
    assert not crashed(page)


# Run by the picker's interpreter (a <script type="py"> shares it): what Pyodide decided at load.
JSPI_PROBE = """
import js
import pyodide_js
js.window.pyodideJspi = bool(pyodide_js._module.newJspiSupported or pyodide_js._module.oldJspiSupported)
"""


def test_pyodide_boots_without_jspi_and_the_page_gets_it_back(page, host):
    """The renderer crashes of the suite (SIGSEGV reading past the end of a secondary wasm stack on
    the main thread) come from Pyodide running on JSPI stacks: the loader hides
    WebAssembly.Suspending while Pyodide loads, and gives it back to the page once the picker is up."""
    page.goto(f"{host.url}/host.html")
    assert page.evaluate("typeof WebAssembly.Suspending") == "function"  # this Chromium has JSPI
    page.evaluate("key => filepicker.setKey(key)", "demo")
    page.wait_for_function("window.pickerReady === true", timeout=60_000)
    assert page.evaluate("typeof WebAssembly.Suspending") == "function"
    page.evaluate(
        """probe => {
          const script = document.createElement("script");
          script.type = "py";
          script.textContent = probe;
          document.body.appendChild(script);
        }""",
        JSPI_PROBE,
    )
    page.wait_for_function("window.pyodideJspi !== undefined", timeout=30_000)
    assert page.evaluate("window.pyodideJspi") is False
