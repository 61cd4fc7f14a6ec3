"""The page types at phone size (390×844): no page scrolls sideways, menus and the navigation reachable.

Screenshots of every page type go to test-artifacts/screenshots/phone-*.png (the folder the other
browser tests use). Tables turn into stacked cards on small screens (app.css; app.js labels each
cell with its column heading), forms are one column.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, TIMEOUT_MS
from tests.browser.pages import MISSING, login_any, seed_pages, settle

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(300)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(chromium: Any) -> Any:
    expect.set_options(timeout=TIMEOUT_MS)
    context = chromium.new_context(locale="de-DE", viewport=PHONE, device_scale_factor=1, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.problems = problems  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith(MISSING) and problems.append(f"{r.status} {r.url}"))
    yield page
    context.close()


def overflow(page: Any) -> dict[str, Any]:
    """How far the page scrolls sideways, and the widest elements that stick out (for the message)."""
    return page.evaluate("""() => {
        const w = window.innerWidth;
        const wide = [];
        for (const el of document.querySelectorAll("body *")) {
            const r = el.getBoundingClientRect();
            if (r.right > w + 1 && r.width > 0 && getComputedStyle(el).position !== "fixed") {
                wide.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                          (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "")
                          + " " + Math.round(r.right));
            }
        }
        return {scroll: document.documentElement.scrollWidth, inner: w, wide: wide.slice(0, 8)};
    }""")


def test_every_page_type_fits_a_phone(ka, people, live_server, phone_page):
    page, base = phone_page, live_server
    pages = seed_pages(ka, people)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    too_wide = {}
    for name, path in pages:
        if name == "start":
            login_any(page, base)
        page.goto(f"{base}{path}")
        settle(page)
        o = overflow(page)
        assert o["inner"] == PHONE["width"], o
        if o["scroll"] > o["inner"]:
            too_wide[name] = o
        page.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"), full_page=True)
    assert not too_wide, too_wide
    assert not page.problems, page.problems  # type: ignore[attr-defined]


def test_menus_navigation_and_tables_on_a_phone(ka, people, live_server, phone_page):
    page, base = phone_page, live_server
    pages = dict(seed_pages(ka, people))
    login_any(page, base)
    # The navigation opens from the ☰ button and its links are on screen.
    page.get_by_role("button", name="Navigation").click()
    link = page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Kontakte", exact=True)
    expect(link).to_be_in_viewport()
    link.click()
    page.wait_for_url("**/kontakte")
    # The contact list is a stack of cards: every cell says which column it is.
    row = page.locator("table.list tbody tr").first
    expect(row.locator('td[data-label="E-Mail"]')).to_be_visible()
    expect(row.locator('td[data-label="Telefon"]')).to_be_visible()
    assert row.bounding_box()["width"] <= PHONE["width"]
    # Each "…" menu opens inside the screen.
    for name in ("dokument-email", "kontakt", "unternehmen"):
        page.goto(base + pages[name])
        page.locator("details.action-menu > summary").first.click()
        panel = page.locator("details.action-menu[open] .menu-panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
        page.screenshot(path=str(SCREENSHOTS / f"phone-menu-{name}.png"))
    assert not page.problems, page.problems  # type: ignore[attr-defined]
