"""Template grants in a real browser: a colleague's shared template names its author and a group as
"Leser der erstellten Dokumente". Creating a document from it shows that on the draft's first page,
preselected in Zugriff; nobody has access until the user saves, and what the user removes is never
granted: the template's author cannot open the document.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from kundenakte.core import acl
from kundenakte.core.models import Company, Contact, Document
from kundenakte.plugins.communication import templates_service as svc
from tests.browser.conftest import login, logout, shot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(120)]


def test_template_readers_are_shown_and_only_granted_as_saved(ka: Any, people: Any, live_server: str,
                                                              browser_page: Any) -> None:
    page, base = browser_page, live_server
    owner, vertrieb = people.users["owner"], people.groups["Vertrieb"]
    with ka.db.write() as s:
        company = Company(name="DOCHOUSE GmbH", city="Ravensburg")
        s.add(company)
        s.flush()
        contact = Contact(gender="female", first_name="Maria", last_name="Schäfer", company_id=company.id,
                          email="maria@dochouse.example")
        s.add(contact)
        s.flush()
        contact_id = contact.id
        # The author puts themselves (and a group, and an inactive user) among the created documents' readers.
        svc.save_template(ka, s, people.viewer("owner"), {
            "name": "Angebotsschreiben", "base_type": "email", "readers": ["*"], "subject": "Ihr Angebot",
            "body": "<p>anbei unser Angebot.</p>",
            "doc_readers": [f"u:{owner}", f"g:{vertrieb}", f"u:{people.users['nobody']}"],
            "doc_editors": [f"u:{people.users['editor']}"]})

    login(page, base, "reader")
    page.goto(f"{base}/kommunikation/vorlage?contact_id={contact_id}")
    page.get_by_label("Angebotsschreiben").check()
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(re.compile(r"/dokumente/\d+/bearbeiten\?verwerfen=1$"))
    doc_id = int(page.url.rsplit("/", 2)[1])

    # The draft's first page says who the template gives access to, before anything is saved.
    notice = page.get_by_role("note", name="Vorgeschlagener Zugriff")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Zugriff durch Vorlage „Angebotsschreiben“")
    expect(notice).to_contain_text("Owner")
    expect(notice).to_contain_text("Gruppe: Vertrieb")
    expect(notice).to_contain_text("Bearbeiter: Editor")
    expect(notice).not_to_contain_text("Nobody")  # inactive: not pickable, so not proposed either
    readers = page.get_by_label("Leser", exact=True)
    expect(readers).to_have_values([f"g:{vertrieb}", f"u:{owner}"])
    expect(page.get_by_label("Bearbeiter", exact=True)).to_have_values([f"u:{people.users['editor']}"])
    shot(page, "20-vorlage-zugriff-vorgeschlagen")
    with ka.db.read() as s:
        assert s.get(Document, doc_id).acl == []
        assert not acl.can_read(s, people.viewer("owner"), doc_id)
        assert not acl.can_read(s, people.viewer("grouped"), doc_id)

    # The user keeps the group, drops the template's author and the editor, and saves.
    readers.select_option([f"g:{vertrieb}"])
    page.get_by_label("Bearbeiter", exact=True).select_option([])
    page.locator(".doc-toolbar").get_by_role("button", name="Speichern").click()
    expect(page).to_have_url(re.compile(rf"/dokumente/{doc_id}$"))
    expect(page.locator("section#zugriff dd").nth(0)).to_have_text("Gruppe: Vertrieb")
    expect(page.locator("section#zugriff dd").nth(1)).to_have_text("–")
    expect(page.get_by_role("note", name="Vorgeschlagener Zugriff")).to_have_count(0)
    expect(page.locator("#vorgeschlagener-zugriff")).to_have_count(0)
    with ka.db.read() as s:
        assert [(e.principal, e.role) for e in s.get(Document, doc_id).acl] == [(f"g:{vertrieb}", "read")]
        assert acl.can_read(s, people.viewer("grouped"), doc_id)

    # The template's author cannot open it.
    logout(page)
    login(page, base, "owner")
    response = page.goto(f"{base}/dokumente/{doc_id}")
    assert response is not None and response.status == 404
    page.problems.clear()  # type: ignore[attr-defined]  # the 404 was the point
    assert not page.problems  # type: ignore[attr-defined]
