"""The dialog as assistive technology meets it: axe-core finds no violations in it, in each of its
states, and its text comes from the locale."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.images import png
from harness.picking import DIALOG, open_host, start_pick

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
          const result = await axe.run({include: [['[data-pickstore]']]}, {resultTypes: ['violations']});
          return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.html)}));
        }"""
    )


@pytest.mark.parametrize("options", [{}, {"multiple": True, "folders": True, "mimetype": "image/*"}])
def test_the_open_dialog_has_no_accessibility_violations(page, host, options):
    open_host(page, host)
    start_pick(page, "pickAndStore", options, {})
    page.locator(f"{DIALOG} [data-drop]").wait_for()
    assert violations(page) == []


def test_the_dialog_with_files_and_an_error_has_no_accessibility_violations(page, host, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(png(8, 8, (1, 1, 1)))
    notes = tmp_path / "notes.txt"
    notes.write_text("text")
    open_host(page, host)
    start_pick(page, "pickAndStore", {"multiple": True, "backgroundUpload": False, "mimetype": "image/*"}, {})
    with page.expect_file_chooser() as chooser:
        page.locator(f"{DIALOG} .choose").click()
    chooser.value.set_files([str(notes)])
    page.locator(f"{DIALOG} [role=alert]").wait_for()
    assert violations(page) == []
    with page.expect_file_chooser() as chooser:
        page.locator(f"{DIALOG} .choose").click()
    chooser.value.set_files([str(photo)])
    page.locator(f"{DIALOG} .start").wait_for()
    assert violations(page) == []
