"""axe-core on every page type in German and English: no serious or critical violation.

The pages are those of tests/browser/pages.py (login, start, lists, views, overview, document
views and forms, search, settings, Meine Aufgaben, the error page), signed in as an administrator
whose UI language is switched through the users service. A summary by rule is written to
test-artifacts/axe-<lang>.json for the record.

CI-sized (the default): every page type in German; in English the pages whose markup the language
changes most (login, start, the error page) plus a rotating third of the others
(``tests.sizing.rotation``: the ISO week, or ``KUNDENAKTE_AXE_ROTATION=0|1|2``), so every English
page is checked within three weeks and a failure names its rotation. ``pytest --full``: every page
type in both languages.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests import sizing
from tests.browser.axe import blocking, describe, run_axe
from tests.browser.conftest import ROOT
from tests.browser.pages import MISSING, login_any, seed_pages, set_language, settle

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(300)]

ENGLISH_ALWAYS = ("login", "start", "fehler")
ROTATIONS = 3


def english_pages(pages: list[tuple[str, str]], rotation: int) -> list[tuple[str, str]]:
    """The CI-sized English walk: the fixed pages plus every ``ROTATIONS``-th other one, from ``rotation``."""
    others = [p for p in pages if p[0] not in ENGLISH_ALWAYS]
    chosen = {name for name, _ in others[rotation::ROTATIONS]} | set(ENGLISH_ALWAYS)
    return [p for p in pages if p[0] in chosen]  # in walk order: "start" signs in before the rest


def test_the_english_rotations_cover_every_page_type() -> None:
    pages = [(f"p{i}", f"/{i}") for i in range(30)] + [(n, "/") for n in ENGLISH_ALWAYS]
    walks = [english_pages(pages, r) for r in range(ROTATIONS)]
    assert set().union(*({n for n, _ in w} for w in walks)) == {n for n, _ in pages}
    assert all(len(w) <= len(ENGLISH_ALWAYS) + 30 // ROTATIONS for w in walks)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_every_page_type(ka, people, live_server, browser_page, lang):
    page, base = browser_page, live_server
    pages = seed_pages(ka, people)
    rotation = sizing.rotation(ROTATIONS, "KUNDENAKTE_AXE_ROTATION")
    walked = "every page type" if sizing.full() or lang == "de" else f"rotation {rotation} of {ROTATIONS}"
    if lang == "en" and not sizing.full():
        pages = english_pages(pages, rotation)
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
        settle(page)
        if name != "login":
            assert page.evaluate("document.documentElement.lang") == lang, name
        violations = run_axe(page)
        found[name] = violations
        for v in violations:
            by_rule[f"{v['id']} ({v['impact']})"] += len(v["nodes"])
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / f"axe-{lang}.json").write_text(json.dumps(
        {"walked": walked, "pages": [p for p, _ in pages], "nodes_by_rule": dict(sorted(by_rule.items())),
         "violations": found}, indent=1, ensure_ascii=False), encoding="utf-8")
    bad = {name: blocking(v) for name, v in found.items() if blocking(v)}
    assert not bad, f"({lang}, {walked})\n" + "\n".join(f"[{name}]\n{describe(v)}" for name, v in bad.items())
    problems = [p for p in page.problems if not p.endswith(MISSING)]  # type: ignore[attr-defined]
    assert not problems, problems
