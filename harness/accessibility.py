"""axe-core run over the picker's dialog in a page: the violations it finds, in the light and the
dark colour scheme (the dialog follows the user's preference; the page is left in light)."""

from __future__ import annotations

from typing import Any

from . import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCHEMES = ("light", "dark")


def axe_violations(page: Any, schemes: tuple[str, ...] = SCHEMES) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict] = []
    try:
        for scheme in schemes:
            page.emulate_media(color_scheme=scheme)
            found += [{"scheme": scheme, **v} for v in page.evaluate(
                """async () => {
                  const result = await axe.run({include: [['[data-pickstore]']]}, {resultTypes: ['violations']});
                  return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.html)}));
                }"""
            )]
    finally:
        page.emulate_media(color_scheme="light")
    return found
