"""The contact form's repeatable rows in a real browser, by keyboard only (static/entries.js).

"weitere E-Mail-Adresse" adds a row in place and puts the focus into it; each row's "Entfernen"
button removes it and moves the focus to the next row; a live region says what happened; the rows
are named for screen readers ("E-Mail-Adresse 3"); saving stores exactly the rows on the page.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kundenakte.core.models import Contact
from kundenakte.core.services.points import points_of
from tests.browser.conftest import login, shot
from tests.browser.test_keyboard import focused, tab_until

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(180)]


def test_add_and_remove_rows_by_keyboard_and_save(ka: Any, people: Any, live_server: Any, browser_page: Any) -> None:
    page, base = browser_page, live_server
    login(page, base, "owner")
    page.goto(base + "/kontakte/neu")
    page.get_by_label("Nachname").fill("Tastatur")
    emails = page.locator("#entries-emails")
    # the empty list offers two rows; each row's inputs are labelled and the row is a named group
    expect(emails.locator("[data-entry]")).to_have_count(2)
    expect(emails.get_by_role("group", name="E-Mail-Adresse 2")).to_be_visible()
    page.locator("#f-emails-0-value").focus()
    page.keyboard.type("erste@example.org")
    tab_until(page, lambda f: f["name"] == "emails-1-value")
    page.keyboard.type("zweite@example.org")
    # to the add button and press it: a third row, the focus in its address input
    tab_until(page, lambda f: f["tag"] == "BUTTON" and "weitere E-Mail-Adresse" in f["text"])
    page.keyboard.press("Enter")
    expect(emails.locator("[data-entry]")).to_have_count(3)
    f = focused(page)
    assert f["type"] == "email" and f["name"].startswith("emails-") and f["name"] != "emails-1-value", f
    third = f["name"]
    expect(page.locator("[data-entries-status]")).to_have_text("Neue Zeile: E-Mail-Adresse 3")
    page.keyboard.type("dritte@example.org")
    # make the third one preferred by keyboard: Tab reaches the group's checked radio (the first row's
    # by default), the arrows move the choice down to the third row
    page.locator("#f-emails-0-value").focus()
    tab_until(page, lambda f: f["type"] == "radio" and f["name"] == "emails-preferred")
    assert page.locator("input[name=emails-preferred]:checked").get_attribute("value") == "0"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.locator("input[name=emails-preferred]:checked").get_attribute("value") == third.split("-")[1]
    # Space on the add button adds one more, Enter on a row's Entfernen removes it again
    tab_until(page, lambda f: f["tag"] == "BUTTON" and "weitere E-Mail-Adresse" in f["text"])
    page.keyboard.press("Space")
    expect(emails.locator("[data-entry]")).to_have_count(4)
    page.keyboard.type("vierte@example.org")
    tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"].startswith("Entfernen"))
    page.keyboard.press("Enter")
    expect(emails.locator("[data-entry]")).to_have_count(3)
    expect(page.locator("[data-entries-status]")).to_have_text("Zeile entfernt: E-Mail-Adresse 4")
    # the last row went: the focus goes to the row before it
    assert focused(page)["name"] == third
    # remove the first row with the keyboard: focus moves to what is now the first row
    page.locator("#f-emails-0-value").focus()
    tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"].startswith("Entfernen"))
    page.keyboard.press("Enter")
    expect(emails.locator("[data-entry]")).to_have_count(2)
    assert focused(page)["name"] == "emails-1-value"
    expect(emails.get_by_role("group", name="E-Mail-Adresse 2")).to_be_visible()
    # a phone row added by the button as well, then save with the toolbar button
    page.get_by_role("button", name="weitere Telefonnummer").click()
    expect(page.locator("#entries-phones [data-entry]")).to_have_count(3)
    page.keyboard.type("+49 751 1234")
    shot(page, "kontakt-zeilen")
    page.get_by_role("button", name="Speichern").first.click()
    expect(page.get_by_role("heading", name="Tastatur")).to_be_visible()
    assert not page.problems, page.problems  # type: ignore[attr-defined]
    with ka.db.read() as s:
        contact = s.scalar(select(Contact).where(Contact.last_name == "Tastatur"))
        lists = points_of(contact)
        assert [(e["value"], e["preferred"]) for e in lists["emails"]] == [
            ("zweite@example.org", False), ("dritte@example.org", True)]
        assert [p["value"] for p in lists["phones"]] == ["+49 751 1234"]
        assert contact.email == "dritte@example.org"
