"""axe-core in a Playwright page: inject it, run it, and read its violations.

axe-core is an npm devDependency (package.json); `make test` runs `npm ci` to put it in
node_modules/. The page's Content-Security-Policy allows no inline script, so a page that axe
runs in must come from a context opened with ``bypass_csp=True`` (the pages here have no
inline script or style for the bypass to let through).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("critical", "serious", "moderate", "minor")
BLOCKING = ("critical", "serious")


@dataclass
class AxeResult:
    violations: list[dict]
    version: str

    def counts(self) -> dict[str, int]:
        """Violated rules by impact (a rule counts once, however many nodes it flags)."""
        counter = Counter(v.get("impact") or "minor" for v in self.violations)
        return {impact: counter.get(impact, 0) for impact in IMPACTS}

    def blocking(self) -> list[dict]:
        return [v for v in self.violations if v.get("impact") in BLOCKING]

    def describe(self, violations: list[dict] | None = None) -> str:
        lines = []
        for v in self.violations if violations is None else violations:
            lines.append(f"[{v.get('impact')}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
            for node in v["nodes"][:10]:
                target = " ".join(
                    " > ".join(t) if isinstance(t, list) else t for t in node["target"]
                )
                lines.append(f"    {target}")
                summary = (node.get("failureSummary") or "").replace("\n", " ")
                if summary:
                    lines.append(f"        {summary[:300]}")
            if len(v["nodes"]) > 10:
                lines.append(f"    … and {len(v['nodes']) - 10} more")
        return "\n".join(lines)


def require_axe() -> Path:
    """The path of axe.min.js; fails (never skips) when it is missing, so CI cannot pass
    without running the accessibility checks."""
    if not AXE_JS.is_file():
        pytest.fail(
            f"{AXE_JS.relative_to(ROOT)} is missing: run `make test` (or `npm ci` in {ROOT}) "
            "to install axe-core from package.json",
            pytrace=False,
        )
    return AXE_JS


def run_axe(page: Page) -> AxeResult:
    """Inject axe-core into the page (once) and run every rule on the whole document."""
    path = require_axe()
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(path))
        if not page.evaluate("typeof window.axe === 'object'"):
            pytest.fail("axe-core did not load: open the page with bypass_csp=True", pytrace=False)
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ["violations"]});
          return {
            version: axe.version,
            violations: r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
              nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary})),
            })),
          };
        }"""
    )
    return AxeResult(violations=result["violations"], version=result["version"])
