"""The page types every accessibility and phone-layout test walks, on one small seeded file.

``seed_pages(ka, people)`` writes a company, a contact and a few documents through the core
services and returns ``[(name, path)]``: one entry per page type (login first, then the pages of a
signed-in administrator). The error page is a 404 on purpose; callers clear it from
``page.problems``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Company, Contact, User
from kundenakte.core.retention import archive_due_documents
from kundenakte.core.users import update_user

LOGIN = "admin"
MISSING = "/kontakte/999999"


def seed_pages(ka: Any, people: Any) -> list[tuple[str, str]]:
    today = ka.clock.today()
    viewer = people.viewer(LOGIN)
    with ka.db.write() as s:
        company = Company(name="DOCHOUSE GmbH", street="Marktstraße 28", postal_code="88212", city="Ravensburg")
        s.add(company)
        s.flush()
        contact = Contact(first_name="Katrin", last_name="Vogel", company_id=company.id,
                          email="k.vogel@example.com", phone="0751 123456")
        s.add(contact)
        s.flush()
        docs: dict[str, int] = {}
        for key, title, status, data in [
            ("email", "Angebot Wartung", "draft", {"subject": "Angebot Wartung"}),
            ("task", "Angebot nachfassen", "open", {"due": (today + dt.timedelta(days=3)).isoformat()}),
            ("contract", "Wartungsvertrag", "active", {"subject": "Wartungsvertrag", "value": "1200.00",
                                                      "start": (today - dt.timedelta(days=30)).isoformat(),
                                                      "notice_to": "end_of_month"}),
            ("free_document", "Notiz Erstgespräch", None, {}),
        ]:
            doc = create_document(ka, s, viewer, key, DocumentInput(
                title=title, company_id=company.id, contact_id=contact.id, status=status, data=data,
                content="<p>Erstes Gespräch mit <strong>Frau Vogel</strong>.</p>",
                responsible_id=people.users[LOGIN]))
            s.flush()
            docs[key] = doc.id
        # One archived document, so the search page shows its hint (archived by retention, the writer).
        create_document(ka, s, viewer, "free_document", DocumentInput(
            title="Angebot 2019", company_id=company.id, contact_id=contact.id, retention_days=0,
            content="<p>Altes Angebot.</p>", responsible_id=people.users[LOGIN]))
        company_id, contact_id = company.id, contact.id
    archive_due_documents(ka)
    ka.search.flush()
    return [
        ("login", "/anmelden"),
        ("start", "/"),
        ("kontakte", "/kontakte"),
        ("kontakt", f"/kontakte/{contact_id}"),
        ("kontakt-formular", f"/kontakte/{contact_id}/bearbeiten"),
        ("kontakt-neu", "/kontakte/neu"),
        ("kontakt-uebersicht", f"/kontakte/{contact_id}/uebersicht"),
        ("unternehmen-liste", "/unternehmen"),
        ("unternehmen-formular", f"/unternehmen/{company_id}/bearbeiten"),
        ("unternehmen", f"/unternehmen/{company_id}"),
        ("uebersicht", f"/unternehmen/{company_id}/uebersicht"),
        ("dokument-email", f"/dokumente/{docs['email']}"),
        ("dokument-aufgabe", f"/dokumente/{docs['task']}"),
        ("dokument-vertrag", f"/dokumente/{docs['contract']}"),
        ("formular-notiz-neu", f"/dokumente/neu/free_document?company_id={company_id}"),
        ("formular-email", f"/dokumente/{docs['email']}/bearbeiten"),
        ("formular-vertrag", f"/dokumente/{docs['contract']}/bearbeiten"),
        ("suche", "/suche?q=Angebot"),
        ("suche-eingegrenzt", "/suche?q=Angebot&typ=email&archiviert=1"),
        ("einstellungen", "/einstellungen"),
        ("profil", "/einstellungen/profil"),
        ("benutzer", "/einstellungen/benutzer"),
        ("benutzer-formular", f"/einstellungen/benutzer/{people.users['reader']}"),
        ("gruppen", "/einstellungen/gruppen"),
        ("ordner", "/einstellungen/ordner"),
        ("plugins", "/einstellungen/plugins"),
        ("api-tokens", "/einstellungen/api-tokens"),
        ("import", "/einstellungen/import"),
        ("aufgaben", "/aufgaben"),
        ("fehler", MISSING),
    ]


def set_language(ka: Any, people: Any, lang: str) -> None:
    """The admin's own UI language, as the profile page stores it (core users service)."""
    with ka.db.write() as s:
        user = s.get(User, people.users[LOGIN])
        update_user(s, user, by=user.id, language=lang)


def login_any(page: Any, base: str) -> None:
    """Log in as the admin through the form, whatever their UI language (fields by name)."""
    from tests.conftest import PASSWORD

    page.goto(f"{base}/anmelden")
    page.fill("input[name=login]", LOGIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("#sidebar")
    # The sidebar is in the HTML before the deferred app.js has bound the ☰ button and the menus:
    # a click right away went nowhere under load (seen once in a full run).
    settle(page)


def settle(page: Any) -> None:
    """Wait until a page walked to is final: its load event, its web fonts, two animation frames.

    The pages fetch nothing by themselves (suggestions, pickers and dialogs fetch on input), so
    this is when they are complete; "networkidle" waited 500 ms of network silence more per page,
    about half of each page-type walk's time.
    """
    page.wait_for_load_state("load")
    page.evaluate("""() => document.fonts.ready.then(() => new Promise(
        done => requestAnimationFrame(() => requestAnimationFrame(() => done(true)))))""")
