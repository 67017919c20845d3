"""The README's screenshots, made from a real store and Chromium: the dialog in English, in Arabic
(right to left), and in two themes (dark, and a site's own colours set by custom properties).
Run `.venv/bin/python -m harness.screenshots`; it writes docs/screenshot*.png."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import sync_playwright

from . import ROOT
from .host_pages import run_host_pages
from .picking import DIALOG, open_host, start_pick
from .store_process import run_store

DOCS = ROOT / "docs"
Scheme = Literal["light", "dark"]
SHOTS: list[tuple[str, dict[str, Any], Scheme, dict[str, str]]] = [
    # (file, picker options, color scheme, page's custom properties)
    ("screenshot.png", {"multiple": True}, "light", {}),
    ("screenshot-rtl.png", {"multiple": True, "language": "ar"}, "light", {}),
    ("screenshot-dark.png", {"multiple": True}, "dark", {}),
    ("screenshot-theme.png", {"multiple": True}, "light",
     {"--pickstore-accent": "#0a7d55", "--pickstore-accent-hover": "#086446", "--pickstore-accent-soft": "#d8f0e6",
      "--pickstore-on-accent-soft": "#064d36", "--pickstore-radius": "2px", "--pickstore-radius-small": "2px",
      "--pickstore-font": "15px/1.5 Georgia, 'DejaVu Serif', serif"}),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, run_store(Path(tmp)) as store, run_host_pages(store.url) as host, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 900, "height": 600})
        open_host(page, host)
        # The host test page's hostile styles (lime text) are what the dialog ignores; a screenshot
        # shows it over a plain page.
        page.add_style_tag(content="* { color: #333 !important; } body { background: #f4f4f4; }"
                                   " #open { opacity: 0; } iframe { display: none; }")
        for name, options, scheme, properties in SHOTS:
            page.emulate_media(color_scheme=scheme)
            page.evaluate("props => { const s = document.documentElement.style; s.cssText = '';"
                          " for (const [k, v] of Object.entries(props)) s.setProperty(k, v); }", properties)
            start_pick(page, "pickAndStore", options, {})
            page.locator(f"{DIALOG} [data-drop]").wait_for()
            page.mouse.move(0, 0)
            page.screenshot(path=str(DOCS / name))
            page.keyboard.press("Escape")
            page.wait_for_function("!document.querySelector('[data-pickstore]')")
            print(f"wrote docs/{name}")
        browser.close()


if __name__ == "__main__":
    main()
