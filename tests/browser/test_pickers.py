"""The document form's type-aheads in a real browser: type into "Unternehmen", pick a suggestion, save.

The threshold is lowered for the test (documents.PICKER_THRESHOLD): a few companies stand for
100,000. tests/web/test_pickers.py covers the endpoints and the server side on both databases.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kundenakte.core.models import Company, Contact, Document
from kundenakte.web import documents
from tests.browser.conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(120)]


def test_pick_company_and_contact_by_typing(ka: Any, people: Any, live_server: str, browser_page: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "PICKER_THRESHOLD", 1)
    with ka.db.write() as s:
        muller, bau, other = Company(name="Müller & Söhne GmbH"), Company(name="Mueller Bau AG"), Company(name="Andere AG")
        s.add_all([muller, bau, other])
        s.flush()
        s.add_all([Contact(first_name="Lea", last_name="Müller", company_id=muller.id),
                   Contact(first_name="Max", last_name="Mustermann", company_id=other.id)])
        s.flush()
        muller_id, other_id = muller.id, other.id
    page = browser_page
    login(page, live_server, "owner")
    page.goto(f"{live_server}/dokumente/neu/testnote")
    company = page.locator("#f-company-id-text")
    expect(page.locator("select#f-company-id")).to_have_count(0)
    expect(company).to_have_attribute("role", "combobox")

    # typing "mül" offers both spellings; clicking one puts its id into the hidden field
    company.click()
    page.keyboard.type("mül")
    options = page.get_by_role("listbox", name="Unternehmen").get_by_role("option")
    expect(options).to_have_text(["Müller & Söhne GmbH", "Mueller Bau AG"])
    expect(company).to_have_attribute("aria-expanded", "true")
    shot(page, "picker-company-suggestions")
    options.first.click()
    expect(company).to_have_value("Müller & Söhne GmbH")
    expect(page.locator("#f-company-id")).to_have_value(str(muller_id))
    expect(page.get_by_role("listbox", name="Unternehmen")).to_be_hidden()

    # typing again drops the id; the keyboard picks as well
    company.fill("")
    page.keyboard.type("ander")
    expect(page.locator("#f-company-id")).to_have_value("")
    expect(options).to_have_text(["Andere AG"])
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")  # picks, does not submit
    expect(page.locator("#f-company-id")).to_have_value(str(other_id))
    expect(company).to_have_value("Andere AG")

    # a wildcard that matches nothing says so
    contact = page.locator("#f-contact-id-text")
    contact.click()
    page.keyboard.type("*xyz")
    expect(page.get_by_role("listbox", name="Kontakt")).to_contain_text("Keine Treffer.")
    contact.fill("")
    page.keyboard.type("muster")
    page.get_by_role("listbox", name="Kontakt").get_by_role("option", name="Mustermann, Max – Andere AG").click()

    page.fill("#f-title", "Per Type-ahead")
    page.fill("#f-data-subject", "Betreff")
    page.click(".doc-toolbar button[type=submit]")
    page.wait_for_url("**/dokumente/*")
    expect(page.locator("h1").first).to_have_text("Per Type-ahead")
    with ka.db.read() as s:
        doc = s.scalar(select(Document).where(Document.title == "Per Type-ahead"))
        assert doc is not None and doc.company_id == other_id and doc.contact_id is not None
    assert not page.problems, page.problems  # type: ignore[attr-defined]


def test_picking_a_contact_fills_the_empty_company(ka: Any, people: Any, live_server: str, browser_page: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "PICKER_THRESHOLD", 1)
    with ka.db.write() as s:
        a, b = Company(name="Alpha GmbH"), Company(name="Beta AG")
        s.add_all([a, b])
        s.flush()
        s.add_all([Contact(first_name="Anna", last_name="Alpha", company_id=a.id),
                   Contact(first_name="Bernd", last_name="Beta", company_id=b.id)])
        s.flush()
        alpha = a.id
    page = browser_page
    login(page, live_server, "owner")
    page.goto(f"{live_server}/dokumente/neu/testnote")
    page.locator("#f-contact-id-text").click()
    page.keyboard.type("anna")
    page.get_by_role("option", name="Alpha, Anna – Alpha GmbH").click()
    expect(page.locator("#f-company-id")).to_have_value(str(alpha))
    expect(page.locator("#f-company-id-text")).to_have_value("Alpha GmbH")
    assert not page.problems, page.problems  # type: ignore[attr-defined]
