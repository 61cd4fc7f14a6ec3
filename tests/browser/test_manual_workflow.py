"""The manual's main workflow in a real browser (issue "Web UI", done-when).

Kontakte → filter (PLZ 88212, Unternehmen "doc*", interner Betreuer Lea Müller) → exactly one
contact → "…" → Kommunikation → Freies Dokument with formatted text, an inline image, a PDF, two
folders, a reader group and an editor → the view shows all of it → Unternehmen → Ort "Ravensburg"
→ Übersicht lists the document under Kommunikation; a user without rights sees neither the
document nor a count for it, and its URL answers 404.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kundenakte.core.models import Company, Contact, Document
from kundenakte.core.users import create_user
from tests.browser.conftest import login, logout, nav, shot
from tests.conftest import password_hash

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(120)]

# A 1×1 PNG for the editor's image button.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100"
    "05fe02fea75b3c0000000049454e44ae426082"
)
PDF_NAME = "crazyones.pdf"


def seed(ka: Any, people: Any) -> dict[str, int]:
    """Master data through the core: Lea Müller, DOCHOUSE with the wanted contact, and decoys."""
    with ka.db.write() as s:
        lea = create_user(s, "lea", "", display_name="Lea Müller", email="lea@example.org",
                          password_hash=password_hash()).id
        dochouse = Company(name="DOCHOUSE GmbH", street="Lindenstraße 17", postal_code="88212", city="Ravensburg",
                           account_manager_id=lea)
        dochaus = Company(name="Dochaus AG", street="Hafenweg 3", postal_code="20095", city="Hamburg",
                          account_manager_id=lea)
        holz = Company(name="Ravensburger Holz KG", postal_code="88212", city="Ravensburg", account_manager_id=lea)
        s.add_all([dochouse, dochaus, holz])
        s.flush()
        wanted = Contact(gender="female", first_name="Petra", last_name="Schneider", company_id=dochouse.id,
                         account_manager_id=lea, email="petra.schneider@dochouse.example")
        decoys = [
            # same company and PLZ, another account manager
            Contact(gender="male", first_name="Jonas", last_name="Öztürk", company_id=dochouse.id,
                    account_manager_id=people.users["owner"]),
            # same account manager and a "doc*" company, another PLZ
            Contact(gender="female", first_name="Greta", last_name="Hafen", company_id=dochaus.id, account_manager_id=lea),
            # same account manager and PLZ, a company not matching "doc*"
            Contact(gender="male", first_name="Bernd", last_name="Brett", company_id=holz.id, account_manager_id=lea),
        ]
        s.add_all([wanted, *decoys])
        s.flush()
        from kundenakte.core.services.addresses import copy_company_address

        for contact in (wanted, *decoys):
            copy_company_address(s, contact)
        return {"lea": lea, "dochouse": dochouse.id, "dochaus": dochaus.id, "contact": wanted.id}


def section(page: Any, key: str) -> Any:
    return page.locator(f"#section-{key}")


def radio_count(page: Any, key: str, label: str) -> Any:
    return section(page, key).get_by_role("radio", name=re.compile(rf"^{re.escape(label)}\b")).locator(".count")


def test_manual_workflow(ka, people, live_server, browser_page, shared_pdf):
    page, base = browser_page, live_server
    ids = seed(ka, people)
    pdf = shared_pdf / PDF_NAME

    # -- Kontakte filtern ------------------------------------------------------------------------
    login(page, base, "owner")
    nav(page, "Kontakte")
    expect(page.get_by_role("heading", name="Kontakte", level=1)).to_be_visible()
    filters = page.get_by_role("search", name="Kontakte filtern")
    filters.get_by_label("PLZ").fill("88212")
    filters.get_by_label("Unternehmen").fill("doc*")
    filters.get_by_label("interner Betreuer").select_option(label="Lea Müller")
    filters.get_by_role("button", name="Filtern").click()
    expect(page).to_have_url(re.compile(r"/kontakte\?.*plz=88212"))
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Schneider, Petra")
    expect(rows.first).to_contain_text("DOCHOUSE GmbH")
    expect(rows.first).to_contain_text("Lea Müller")
    expect(page.get_by_text("1 Kontakt gefunden")).to_be_visible()
    shot(page, "01-kontakte-gefiltert")

    # -- Kontakt öffnen, "…" → Kommunikation → Freies Dokument -----------------------------------
    rows.first.get_by_role("link", name="Schneider, Petra").click()
    expect(page.get_by_role("heading", name="Petra Schneider", level=1)).to_be_visible()
    page.get_by_role("button", name="Weitere Aktionen").click()
    menu = page.locator(".action-menu .menu-panel")
    expect(menu).to_be_visible()
    expect(menu.locator(".menu-heading").first).to_have_text("Kommunikation")
    for label in ("Freies Dokument", "E-Mail", "Brief", "Kurzbrief", "Besuchsbericht", "Kontaktbericht", "Telefonnotiz",
                  "Aufgabe", "Opportunity", "Vertrag", "Projekt", "Vorlage auswählen …"):
        expect(menu.get_by_role("menuitem", name=label, exact=True)).to_be_visible()
    shot(page, "02-kontakt-menue")
    menu.get_by_role("menuitem", name="Freies Dokument", exact=True).click()

    # -- the form --------------------------------------------------------------------------------
    expect(page).to_have_url(re.compile(r"/dokumente/neu/free_document"))
    expect(page.locator("#inhalt .ql-editor")).to_be_visible()
    expect(page.get_by_label("Kontakt", exact=True)).to_have_value(str(ids["contact"]))
    expect(page.get_by_label("Unternehmen", exact=True)).to_have_value(str(ids["dochouse"]))
    page.get_by_label("Titel").fill("Verfahrensdokument Wareneingang")
    editor = page.locator("#inhalt .ql-editor")
    editor.click()
    page.keyboard.type("Der Plan für den ")
    page.keyboard.press("Control+b")
    page.keyboard.type("Wareneingang")
    page.keyboard.press("Control+b")
    page.keyboard.type(" liegt als PDF bei. ")
    # A new document has no upload URL yet: Quill's own image handler embeds the picture as data: URL.
    with page.expect_file_chooser() as chooser:
        page.locator("#inhalt .ql-toolbar button.ql-image").click()
    chooser.value.set_files(files=[{"name": "plan.png", "mimeType": "image/png", "buffer": PNG}])
    expect(editor.locator("img")).to_have_count(1)
    expect(editor.locator("strong")).to_have_text("Wareneingang")
    page.get_by_label("Dateien hinzufügen").set_input_files(str(pdf))
    page.get_by_label("Ordner").select_option(label=["DOCHOUSE 4", "Schriftverkehr"])
    page.get_by_label("Leser", exact=True).select_option(label="Gruppe: Vertrieb")
    page.get_by_label("Bearbeiter", exact=True).select_option(label="Editor")
    shot(page, "03-dokument-formular")
    page.locator(".doc-toolbar").get_by_role("button", name="Speichern").click()

    # -- the view shows all of it ----------------------------------------------------------------
    expect(page).to_have_url(re.compile(r"/dokumente/\d+$"))
    doc_url = page.url
    doc_id = int(doc_url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", name="Verfahrensdokument Wareneingang", level=1)).to_be_visible()
    general = page.locator("section#allgemein")
    expect(general).to_contain_text("Freies Dokument")
    expect(general.get_by_role("link", name="DOCHOUSE GmbH")).to_be_visible()
    expect(general.get_by_role("link", name="Petra Schneider")).to_be_visible()
    filing = page.locator("section#ablage")
    expect(filing.locator(".tag")).to_have_text(["DOCHOUSE 4", "Schriftverkehr"])
    expect(filing).to_contain_text("720 Tage")
    access = page.locator("section#zugriff")
    expect(access.locator("dd").nth(0)).to_have_text("Gruppe: Vertrieb")
    expect(access.locator("dd").nth(1)).to_have_text("Editor")
    content = page.locator("section#inhalt .doc-richtext")
    expect(content.locator("strong")).to_have_text("Wareneingang")
    expect(content).to_contain_text("Der Plan für den Wareneingang liegt als PDF bei.")
    image = content.locator("img")
    expect(image).to_have_count(1)
    page.wait_for_function("() => { const i = document.querySelector('#inhalt .doc-richtext img');"
                           " return i && i.complete && i.naturalWidth === 1; }")
    link = page.locator("section#dateianhaenge").get_by_role("link", name=PDF_NAME)
    expect(link).to_be_visible()
    downloaded = page.request.get(base + link.get_attribute("href"))
    assert downloaded.status == 200 and downloaded.body() == pdf.read_bytes()
    shot(page, "04-dokument-ansicht")

    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.type_key == "free_document" and doc.contact_id == ids["contact"] and doc.company_id == ids["dochouse"]
        assert sorted(f.name for f in doc.folders) == ["DOCHOUSE 4", "Schriftverkehr"]
        assert sorted((e.principal, e.role) for e in doc.acl) == [
            (f"g:{people.groups['Vertrieb']}", "read"), (f"u:{people.users['editor']}", "edit")]
        assert "<strong>Wareneingang</strong>" in doc.content
        assert [(a.filename, a.mime_type, a.inline) for a in doc.attachments] == [(PDF_NAME, "application/pdf", False)]

    # -- Unternehmen → Ort Ravensburg → Übersicht ------------------------------------------------
    nav(page, "Unternehmen")
    filters = page.get_by_role("search", name="Unternehmen filtern")
    filters.get_by_label("Ort").fill("Ravensburg")
    filters.get_by_role("button", name="Filtern").click()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(2)  # DOCHOUSE and the Holz KG; Dochaus AG is in Hamburg
    expect(page.locator("table.list")).not_to_contain_text("Dochaus AG")
    rows.filter(has_text="DOCHOUSE GmbH").get_by_role("link", name="Übersicht").click()
    expect(page).to_have_url(re.compile(rf"/unternehmen/{ids['dochouse']}/uebersicht"))
    comm = section(page, "communication")
    expect(comm.get_by_role("heading", name=re.compile("^Kommunikation"))).to_be_visible()
    expect(comm.locator("h2 .count")).to_have_text("1")
    expect(radio_count(page, "communication", "alle")).to_have_text("1")
    expect(comm.get_by_role("link", name="Verfahrensdokument Wareneingang")).to_be_visible()
    expect(comm.locator("tbody tr")).to_have_count(1)
    expect(comm.locator("tbody tr")).to_contain_text("Petra Schneider")
    shot(page, "05-unternehmen-uebersicht")
    assert not page.problems, page.problems  # type: ignore[attr-defined]

    # -- someone without rights ------------------------------------------------------------------
    logout(page)
    login(page, base, "outsider")
    page.goto(f"{base}/unternehmen/{ids['dochouse']}/uebersicht")
    comm = section(page, "communication")
    expect(comm).to_be_visible()
    expect(comm.locator("h2 .count")).to_have_text("0")
    for label in ("alle", "Entwürfe", "versendet"):
        expect(radio_count(page, "communication", label)).to_have_text("0")
    expect(comm).to_contain_text("Keine Einträge.")
    expect(page.locator("main")).not_to_contain_text("Verfahrensdokument")
    response = page.goto(doc_url)
    assert response is not None and response.status == 404
    expect(page.locator("main")).not_to_contain_text("Verfahrensdokument")
    with ka.db.read() as s:  # nothing about the document leaked into the outsider's pages
        assert s.scalar(select(Document.id).where(Document.id == doc_id)) == doc_id
    problems = [p for p in page.problems if not p.startswith(f"404 {doc_url}")]  # type: ignore[attr-defined]
    assert not problems, problems
