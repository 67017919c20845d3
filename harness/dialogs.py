"""The picker's dialog as the user finds it in each container: over the page ("modal"), in a popup
window, or in an iframe of the page (OpenDialog), opened on a host page whose picker has booted
(HostPage). The browser tests that only need to open dialogs take turns on one such page, the
`host_page` fixture: booting the runtime is most of a browser test's time."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError

from .picking import DIALOG, drop_files, outcome, start_pick

FRAME = "picker-frame"  # the id of the iframe in harness/pages/host.html
CONTAINERS = ("modal", "window", FRAME)
UPLOADS = "/api/upload"

# Builds directory entries (name, fullPath, isDirectory, createReader().readEntries, file()) for
# files given by their path, and drops the top-level ones on the dialog's drop area.
DROP_ENTRIES = """files => {
  const root = {children: new Map()};
  for (const f of files) {
    const parts = f.path.split('/');
    let node = root;
    parts.forEach((name, i) => {
      const fullPath = '/' + parts.slice(0, i + 1).join('/');
      if (i === parts.length - 1) {
        const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
        node.children.set(name, {file: new File([bytes], name), fullPath});
      } else {
        if (!node.children.has(name)) node.children.set(name, {children: new Map(), fullPath});
        node = node.children.get(name);
      }
    });
  }
  const entry = (name, node) => node.file ? {
    name, fullPath: node.fullPath, isFile: true, isDirectory: false,
    file: (ok) => setTimeout(() => ok(node.file)),
  } : {
    name, fullPath: node.fullPath, isFile: false, isDirectory: true,
    createReader: () => {
      let handed = false;  // one batch, then an empty one, as readEntries does
      return {readEntries: (ok) => setTimeout(() => {
        ok(handed ? [] : [...node.children].map(([n, child]) => entry(n, child)));
        handed = true;
      })};
    },
  };
  const transfer = new DataTransfer();
  const items = [...root.children].map(([name, node]) => ({kind: 'file', webkitGetAsEntry: () => entry(name, node)}));
  Object.defineProperty(transfer, 'items', {value: items});
  const zone = document.querySelector('[data-pickstore]').shadowRoot.querySelector('[data-drop]');
  for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""


@dataclass
class HostPage:
    """The shared page and what it did during the current test."""

    page: Any
    host: Any
    warnings: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def uploads(self) -> list[str]:
        return [url for url in self.requests if UPLOADS in url]

    def calls(self) -> list[dict]:
        return self.page.evaluate("window.calls")

    def outcome(self) -> dict:
        """The one success or error call of the pick; there must be no other."""
        result = outcome(self.page)
        self.page.wait_for_timeout(100)
        finals = [c for c in self.calls() if c["kind"] != "progress"]
        assert finals == [result], f"more than one outcome: {finals}"
        return result

    def start(self, container: str, method: str, *options: Any) -> None:
        """The user clicks the page's button, which calls `method` with `options`, the first of
        them (the picker options) placing the dialog in `container`."""
        first = {**(options[0] if options else {}), "container": container}
        start_pick(self.page, method, first, *options[1:])

    def open(self, container: str, method: str, *options: Any) -> OpenDialog:
        """Starts a pick in `container` and waits for its dialog to show."""
        if container == "window":
            with self.page.context.expect_page() as opened:
                self.start(container, method, *options)
            scope = chooser = opened.value
            scope.on("filechooser", lambda chooser: None)
        else:
            self.start(container, method, *options)
            chooser = self.page
            scope = self.page if container == "modal" else frame(self.page)
        dialog = OpenDialog(container, self.page, scope, chooser)
        dialog.part(".choose").first.wait_for()
        return dialog

    def is_clean(self) -> bool:
        """No dialog left open anywhere and no window but the page."""
        return (
            len(self.page.context.pages) == 1
            and self.page.locator(DIALOG).count() == 0
            and frame(self.page).locator(DIALOG).count() == 0
        )


def frame(page: Any) -> Any:
    return page.locator(f"#{FRAME}").element_handle().content_frame()


@dataclass
class OpenDialog:
    """A dialog the user sees in one container."""

    container: str
    page: Any  # the host page, whose callbacks record the outcome
    scope: Any  # the Page or Frame holding the dialog
    chooser: Any  # the Page whose file chooser opens

    def part(self, selector: str) -> Any:
        return self.scope.locator(f"{DIALOG} {selector}")

    def choose(self, paths: list[Path], button: str = ".choose") -> None:
        with self.chooser.expect_file_chooser() as chosen:
            self.part(button).click()
        chosen.value.set_files([str(p) for p in paths])

    def drop(self, paths: list[Path], types: dict[str, str] | None = None) -> None:
        drop_files(self.scope, paths, types)

    def drop_folder(self, folder: Path) -> None:
        """Drops `folder` as the browser hands a dropped folder over: as a directory entry of the
        File and Directory Entries API. Playwright cannot drop a real folder, so the entries are
        built here from the folder's files, with the methods the picker calls on them."""
        files = [
            {"path": str(p.relative_to(folder.parent)), "b64": base64.b64encode(p.read_bytes()).decode()}
            for p in sorted(folder.rglob("*")) if p.is_file()
        ]
        self.part("[data-drop]").wait_for()
        self.scope.evaluate(DROP_ENTRIES, files)

    def alert(self) -> str:
        """The message the dialog shows the user, once it shows one."""
        self.part("[role=alert]").wait_for()
        return self.part("[role=alert] p").inner_text()

    def is_gone(self) -> bool:
        if self.container == "window":
            return self.scope.is_closed()
        return self.scope.locator(DIALOG).count() == 0

    def wait_gone(self, seconds: float = 5) -> None:
        for _ in range(int(seconds * 20)):
            if self.is_gone():
                return
            self.page.wait_for_timeout(50)
        raise AssertionError(f"the dialog in {self.container!r} is still open")

    def press(self, key: str) -> None:
        page = self.scope if self.container == "window" else self.page
        try:
            page.keyboard.press(key)
        except PlaywrightError:
            if not self.is_gone():  # a key that closes the popup ends the press with an error
                raise
