"""Previews of picked images in the dialog's file list, made by the browser at preview size, only
for the rows the user can see. The uploads wait for the Upload button (backgroundUpload: false) so
that the list stays on screen while it is looked at; the tests take turns on one booted page."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from PIL import Image

from harness.images import CORNER, REST, jpeg, transparent

ROOT = "document.querySelector('[data-pickstore]').shadowRoot"
PREVIEWS = f"() => [...{ROOT}.querySelectorAll('.files li')].map(row => {{\n" """
  const canvas = row.querySelector('canvas.thumb');
  return canvas ? {state: canvas.dataset.thumb || null, url: canvas.dataset.thumb === 'drawn' ? canvas.toDataURL() : null}
                : null;
})"""


def previews(page: Any) -> list[dict | None]:
    return page.evaluate(PREVIEWS)


def drawn(page: Any, index: int) -> None:
    page.wait_for_function(
        f"i => {ROOT}.querySelectorAll('.files li')[i]?.querySelector('canvas.thumb')?.dataset.thumb === 'drawn'",
        arg=index, timeout=30_000,
    )


def pixels(url: str) -> Any:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA")


def near(pixel: Any, colour: tuple, slack: int = 40) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(pixel, colour, strict=False))


def test_each_picked_image_shows_an_upright_preview_at_preview_size(host_page, tmp_path: Path):
    paths = {"turned.jpg": jpeg(300, 200, orientation=6), "logo.png": transparent(400, 200), "notes.txt": b"text"}
    for name, data in paths.items():
        (tmp_path / name).write_bytes(data)
    dialog = host_page.open("modal", "pickAndStore", {"multiple": True, "backgroundUpload": False}, {})
    dialog.choose([tmp_path / name for name in paths])
    drawn(host_page.page, 0)
    drawn(host_page.page, 1)
    photo, logo, notes = previews(host_page.page)
    assert notes is None  # no preview for what is not an image
    assert photo is not None and logo is not None
    small = pixels(photo["url"])
    assert small.size == (64, 43)
    assert near(small.getpixel((3, 3)), CORNER) and near(small.getpixel((60, 40)), REST)
    clear = pixels(logo["url"])
    assert clear.size == (64, 32)
    assert clear.getpixel((5, 16))[3] == 0 and clear.getpixel((60, 16))[3] == 255
    dialog.part(".start").click()
    assert host_page.outcome()["kind"] == "success"


def test_previews_are_made_only_for_rows_the_user_scrolls_to(host_page, tmp_path: Path):
    data = jpeg(40, 30)
    paths = []
    for i in range(150):
        path = tmp_path / f"photo {i:03}.jpg"
        path.write_bytes(data)
        paths.append(path)
    dialog = host_page.open("modal", "pickAndStore", {"multiple": True, "backgroundUpload": False}, {})
    dialog.choose(paths)
    page = host_page.page
    page.wait_for_function(f"() => {ROOT}.querySelector('canvas.thumb[data-thumb=drawn]') !== null", timeout=30_000)
    states = [p["state"] if p else None for p in previews(page)]
    # Only the rows in view (and a few beyond) ever get one, however long the user waits.
    assert 0 < states.count("drawn") < 40, states.count("drawn")
    shown = [i for i, state in enumerate(states) if state == "drawn"]
    far = 0 if shown[0] > len(paths) // 2 else len(paths) - 1
    assert states[far] is None
    page.evaluate(f"i => {ROOT}.querySelectorAll('.files li')[i].scrollIntoView()", far)
    drawn(page, far)
    states = [p["state"] if p else None for p in previews(page)]
    assert states.count("drawn") < 80, "rows scrolled past had their previews made"
    assert states[len(paths) // 2] is None
    dialog.part(".start").click()
    result = host_page.outcome()
    assert result["kind"] == "success" and len(result["value"]) == len(paths)
