"""Steps a page author's user takes in the browser: open a host page (harness/pages/host.html), start
a pick, choose or drop files, and read what the page's callbacks received."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx

from . import ROOT

DIALOG = "[data-pickstore]"
LOCALE = json.loads((ROOT / "locales" / "en.json").read_text())


def open_host(page: Any, host: Any, key: str | None = "demo") -> None:
    page.goto(f"{host.url}/host.html")
    if key is not None:
        page.evaluate("key => filepicker.setKey(key)", key)
        page.wait_for_function("window.pickerReady === true", timeout=60_000)


def start_pick(page: Any, method: str, *options: Any) -> None:
    page.evaluate("pick => { window.nextPick = pick; }", [method, *options])
    page.click("#open")


def choose_files(page: Any, paths: list[Path]) -> None:
    with page.expect_file_chooser() as chooser:
        page.locator(f"{DIALOG} .choose").click()
    chooser.value.set_files([str(p) for p in paths])


def drop_files(page: Any, paths: list[Path], types: dict[str, str] | None = None) -> None:
    page.locator(f"{DIALOG} [data-drop]").wait_for()
    files = [
        {"name": p.name, "type": (types or {}).get(p.name, ""), "b64": base64.b64encode(p.read_bytes()).decode()}
        for p in paths
    ]
    page.evaluate(
        """files => {
          const transfer = new DataTransfer();
          for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name, {type: f.type}));
          }
          const zone = document.querySelector('[data-pickstore]').shadowRoot.querySelector('[data-drop]');
          for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
          }
        }""",
        files,
    )


def outcome(page: Any, timeout: float = 60_000) -> dict:
    """The first success or error callback call."""
    page.wait_for_function("window.calls.some(c => c.kind !== 'progress')", timeout=timeout)
    return next(c for c in page.evaluate("window.calls") if c["kind"] != "progress")


def stored(page: Any, host: Any, path: Path, picker_options: dict, store_options: dict, key: str = "demo") -> dict:
    """The outcome of picking `path` alone with pickAndStore(picker_options, store_options) on a
    freshly opened host page of the app `key`."""
    open_host(page, host, key=key)
    start_pick(page, "pickAndStore", picker_options, store_options)
    choose_files(page, [path])
    return outcome(page)


def progress_events(page: Any) -> list[dict]:
    return [c["value"] for c in page.evaluate("window.calls") if c["kind"] == "progress"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def downloaded(url: str) -> bytes:
    response = httpx.get(url, timeout=30)
    response.raise_for_status()
    return response.content


def assert_progress_honest(events: list[dict], files: list[Path]) -> None:
    """Per file: never backwards, ends at exactly 100, and carries the file's name and size."""
    for path in files:
        mine = [e for e in events if e["filename"] == path.name]
        assert mine, f"no progress for {path.name}"
        values = [e["progress"] for e in mine]
        assert values == sorted(values), f"progress went backwards for {path.name}: {values}"
        assert values[-1] == 100
        assert all(e["size"] == path.stat().st_size for e in mine)
