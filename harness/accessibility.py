"""axe-core run over the picker's dialog in a page: the violations it finds."""

from __future__ import annotations

from typing import Any

from . import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Any) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    found: list[dict] = page.evaluate(
        """async () => {
          const result = await axe.run({include: [['[data-pickstore]']]}, {resultTypes: ['violations']});
          return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.html)}));
        }"""
    )
    return found
