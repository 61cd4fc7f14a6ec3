"""axe-core in the browser tests: the vendored build (vendor/axe-core, never fetched at run time).

``run_axe(page)`` injects axe.min.js into the loaded page through the DevTools protocol (not a
script tag, so the page's Content-Security-Policy stays in force) and returns its violations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parent / "vendor" / "axe-core"
AXE_SOURCE = VENDOR / "axe.min.js"
BLOCKING = ("serious", "critical")


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe's violations on the current page (WCAG 2.x A/AA and best practices, axe's defaults)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8") + "\n;undefined")
    result: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                                          summary: n.failureSummary}))}));
        }"""
    )
    return result


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}")
        lines.extend(f"    {n['target']}: {n['html']}" for n in v["nodes"][:5])
    return "\n".join(lines)
