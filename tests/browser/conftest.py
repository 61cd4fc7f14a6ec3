"""Browser test fixtures: one Debian Chromium per session, a live server per test, screenshots.

* ``chromium`` (tests/conftest.py): the system browser driven by Playwright, one per session.
* ``live_server`` (tests/conftest.py): the app of the test's ``ka`` instance on a loopback port.
* ``browser_page``: a fresh browser context (own cookies) and page per test; console errors, page
  errors and failed responses are collected in ``page.problems``.
* ``shot(page, name)``: a full-page screenshot into ``test-artifacts/screenshots/`` at the repo root.

Every test in this folder is marked ``browser`` and ``sqlite_only``: the browser part does not
depend on the database, and the PostgreSQL path is covered by the non-browser tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Generous enough for a loaded CI machine, short enough that a missing element fails fast.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.path)).resolve().parent == here:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.sqlite_only)


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.problems = problems  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
            and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    # 404s are asserted on purpose in some tests; those tests clear the list afterwards.
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    try:
        yield page
    finally:
        context.close()


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artefact and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page: Any, base: str, login_name: str, password: str = PASSWORD) -> None:
    """Log in through the real form; ends on the start page."""
    from playwright.sync_api import expect

    page.goto(f"{base}/anmelden")
    page.get_by_label("Anmeldename").fill(login_name)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_visible()


def logout(page: Any) -> None:
    """Log out through the user menu, like a person would."""
    from playwright.sync_api import expect

    page.locator(".user-menu .menu-button").click()
    page.get_by_role("menuitem", name="Abmelden").click()
    expect(page.get_by_label("Anmeldename")).to_be_visible()


def nav(page: Any, label: str) -> None:
    """Follow a link of the left navigation."""
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state("domcontentloaded")
