"""Keyboard only: out of every rich-text editor with Tab, and every "…" menu with arrows and Escape.

A keyboard user on the document form types into the Quill editor, leaves it with Tab (no tab
character lands in the text) and reaches Dateianhänge and Speichern; Shift+Tab goes back through
the editor's toolbar to Zugriff and Ablage; Escape leaves the editor too; Ctrl+M types a tab. The
document's, the contact's and the company's "…" menus and the user menu open with the keyboard,
move with arrows and Home/End, and close with Escape, the focus back on their button.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.pages import LOGIN, seed_pages

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(180)]


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate("""() => {
        const el = document.activeElement;
        const fs = el && el.closest("fieldset");
        return {tag: el.tagName, id: el.id, name: el.getAttribute("name") || "", type: el.type || "",
                role: el.getAttribute("role") || "", text: (el.innerText || el.value || "").trim().slice(0, 60),
                section: fs ? fs.id : "", editor: !!el.closest(".ql-editor"), menu: !!el.closest("details.menu[open]")};
    }""")


def tab_until(page: Any, test: Any, key: str = "Tab", limit: int = 60) -> list[dict[str, Any]]:
    """Press ``key`` until ``test(focused)`` holds; returns the elements passed on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        f = focused(page)
        seen.append(f)
        if test(f):
            return seen
    raise AssertionError(f"never reached; passed {seen}")


def test_tab_leaves_the_editor_and_reaches_the_sections_below(ka, people, live_server, browser_page):
    page, base = browser_page, live_server
    pages = dict(seed_pages(ka, people))
    login(page, base, LOGIN)
    page.goto(base + pages["formular-notiz-neu"])
    editor = page.locator("#inhalt .ql-editor")
    editor.click()
    page.keyboard.type("Erste Zeile")
    # Tab leaves the editor without typing a tab; the next stops are the attachments, then Speichern.
    page.keyboard.press("Tab")
    f = focused(page)
    assert not f["editor"] and f["section"] == "dateianhaenge", f
    assert "\t" not in editor.inner_text()
    seen = tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Speichern")
    assert seen[-1]["type"] == "submit"
    # Back: Shift+Tab into the editor, through its toolbar, to Zugriff and Ablage.
    tab_until(page, lambda f: f["editor"], key="Shift+Tab")
    seen = tab_until(page, lambda f: f["section"] == "zugriff", key="Shift+Tab")
    assert any(s["section"] == "inhalt" and s["tag"] == "BUTTON" for s in seen), seen  # the toolbar
    tab_until(page, lambda f: f["section"] == "ablage", key="Shift+Tab")
    # Escape leaves the editor as well (to the next stop below it).
    editor.click()
    page.keyboard.press("End")
    page.keyboard.press("Escape")
    assert focused(page)["section"] == "dateianhaenge"
    # Ctrl+M is the way to type a tab on purpose.
    editor.click()
    page.keyboard.press("End")
    page.keyboard.press("Control+m")
    page.keyboard.type("danach")
    expect(editor).to_contain_text("Erste Zeile\tdanach")
    # The form still saves what was typed, reached by keyboard alone.
    page.fill("#f-title", "Per Tastatur")
    editor.click()
    page.keyboard.press("Tab")
    tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Speichern")
    page.keyboard.press("Enter")
    page.wait_for_url("**/dokumente/*")
    expect(page.locator(".doc-richtext")).to_contain_text("Erste Zeile")
    assert not page.problems, page.problems  # type: ignore[attr-defined]


def check_menu(page: Any, menu: Any) -> None:
    button = menu.locator(":scope > summary")
    items = menu.locator("[role=menuitem]")
    n = items.count()
    assert n >= 2, n
    button.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("End")
    expect(items.last).to_be_focused()
    page.keyboard.press("ArrowDown")  # wraps around
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(items.last).to_be_focused()
    page.keyboard.press("Home")
    expect(items.first).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(button).to_be_focused()
    # ArrowUp on the closed button opens at the last entry; Tab closes and moves on.
    page.keyboard.press("ArrowUp")
    expect(items.last).to_be_focused()
    page.keyboard.press("Tab")
    expect(menu).not_to_have_attribute("open", "")


@pytest.mark.parametrize("which", ["dokument-email", "kontakt", "unternehmen", "start"])
def test_every_menu_works_with_the_keyboard(ka, people, live_server, browser_page, which):
    page, base = browser_page, live_server
    pages = dict(seed_pages(ka, people))
    login(page, base, LOGIN)
    page.goto(base + pages[which])
    menus = [page.locator("details.user-menu")]
    if which != "start":
        menus.insert(0, page.locator("details.action-menu").first)
    for menu in menus:
        check_menu(page, menu)
    # Pressing Enter on an entry follows it (the first link of the user menu: Meine Einstellungen).
    page.locator("details.user-menu > summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator("details.user-menu [role=menuitem]").first).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/einstellungen/profil")
    assert not page.problems, page.problems  # type: ignore[attr-defined]
