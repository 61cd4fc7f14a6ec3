"""axe-core on every page type in German and English: no serious or critical violation.

The pages are those of tests/browser/pages.py (login, start, lists, views, overview, document
views and forms, search, settings, Meine Aufgaben, the error page), signed in as an administrator
whose UI language is switched through the users service. A summary by rule is written to
test-artifacts/axe-<lang>.json for the record.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.browser.axe import blocking, describe, run_axe
from tests.browser.conftest import ROOT
from tests.browser.pages import MISSING, login_any, seed_pages, set_language

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(300)]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_every_page_type(ka, people, live_server, browser_page, lang):
    page, base = browser_page, live_server
    pages = seed_pages(ka, people)
    set_language(ka, people, lang)
    found: dict[str, list[dict[str, Any]]] = {}
    by_rule: Counter[str] = Counter()
    for name, path in pages:
        if name == "login":
            page.goto(f"{base}{path}")
        else:
            if name == "start":
                login_any(page, base)
            page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        if name != "login":
            assert page.evaluate("document.documentElement.lang") == lang, name
        violations = run_axe(page)
        found[name] = violations
        for v in violations:
            by_rule[f"{v['id']} ({v['impact']})"] += len(v["nodes"])
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / f"axe-{lang}.json").write_text(json.dumps(
        {"pages": [p for p, _ in pages], "nodes_by_rule": dict(sorted(by_rule.items())),
         "violations": found}, indent=1, ensure_ascii=False), encoding="utf-8")
    bad = {name: blocking(v) for name, v in found.items() if blocking(v)}
    assert not bad, "\n".join(f"[{name}]\n{describe(v)}" for name, v in bad.items())
    problems = [p for p in page.problems if not p.endswith(MISSING)]  # type: ignore[attr-defined]
    assert not problems, problems
