"""Templates in a real browser (issue "Communication", done-when).

As admin: Einstellungen → Kommunikation → Neu → Vorlage with a PDF, folders, Aufbewahrungsfrist,
readers/editors of the created documents, subject/body with placeholders and a PS. Then on a
contact: "…" → Vorlage auswählen → search "informationen" → exactly three → OK → every section of
the new e-mail is right → Senden in the toolbar → confirmation → no SMTP: an .eml in the instance outbox, shown as "als Datei
abgelegt" (never "versendet") → the overview's Kommunikation section lists it under that state.
"""

from __future__ import annotations

import email
import re
from email import policy
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kundenakte.core.models import Company, Contact, Document
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.models import CommTemplate
from kundenakte.plugins.communication.settings import outbox_dir
from tests.browser.conftest import login, nav, shot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(120)]

PDF_NAME = "two-different-pages.pdf"
TEMPLATE = "Informationsmaterial Wareneingang"
SUBJECT = "Informationen zu {{ unternehmen.name }}"
BODY = ("<p>anbei erhalten Sie die gewünschten Informationen für die {{ unternehmen.name }} "
        "in {{ unternehmen.ort }}.</p><p>Bei Fragen erreichen Sie mich unter {{ absender.email }}.</p>")
PS = "<p>PS: Besuchen Sie uns am {{ datum.heute }} auf der Messe.</p>"


def seed(ka: Any, people: Any) -> dict[str, int]:
    with ka.db.write() as s:
        company = Company(name="DOCHOUSE GmbH", street="Lindenstraße 17", postal_code="88212", city="Ravensburg")
        s.add(company)
        s.flush()
        contact = Contact(gender="female", title="Dr.", first_name="Maria", last_name="Schäfer", company_id=company.id,
                          email="maria.schaefer@dochouse.example", street="Lindenstraße 17", postal_code="88212",
                          city="Ravensburg")
        s.add(contact)
        s.flush()
        # Two more templates mention "Informationen" (in the name, in the body); one does not.
        admin = people.viewer("admin")
        for values in (
            {"name": "Produktinformationen Herbst", "subject": "Neuheiten", "body": "<p>Unser Herbstprogramm.</p>"},
            {"name": "Messe-Einladung", "subject": "Einladung", "body": "<p>Weitere Informationen am Stand.</p>"},
            {"name": "Terminbestätigung", "subject": "Ihr Termin", "body": "<p>Wir bestätigen den Termin.</p>"},
        ):
            svc.save_template(ka, s, admin, {"base_type": "email", "readers": ["*"], **values})
        return {"company": company.id, "contact": contact.id}


def selected_labels(page: Any, selector: str) -> list[str]:
    return page.eval_on_selector(selector, "s => Array.from(s.selectedOptions).map(o => o.textContent.trim())")


def test_templates_workflow(ka, people, live_server, browser_page, shared_pdf):
    page, base = browser_page, live_server
    ids = seed(ka, people)
    pdf = shared_pdf / PDF_NAME
    vertrieb, editor = people.groups["Vertrieb"], people.users["editor"]

    # -- Einstellungen → Kommunikation → Neu → Vorlage -------------------------------------------
    login(page, base, "admin")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Einstellungen").click()
    page.get_by_role("link", name="Kommunikation – Vorlagen").click()
    expect(page.get_by_role("heading", name="Kommunikation – Vorlagen")).to_be_visible()
    page.get_by_role("button", name="Neu").click()
    page.get_by_role("menuitem", name="Vorlage").click()
    expect(page.get_by_role("heading", name="Neue Vorlage")).to_be_visible()
    form = page.locator("form.template-form")
    form.get_by_label("Bezeichnung").fill(TEMPLATE)
    form.get_by_label("Basismaske").select_option(label="E-Mail")
    form.get_by_label("Typ", exact=True).select_option(label="E-Mail")
    form.get_by_label("Ordner").select_option(label=["DOCHOUSE 4", "Schriftverkehr"])
    form.get_by_label("Aufbewahrungsfrist (Tage)").fill("720")
    form.get_by_label("Leser der erstellten Dokumente").select_option(label="Gruppe Vertrieb")
    form.get_by_label("Bearbeiter der erstellten Dokumente").select_option(label="Editor")
    german = form.locator("#inhalt-de")
    german.get_by_label("Betreff").fill(SUBJECT)
    german.get_by_label("Text").fill(BODY)
    form.locator("#anhaenge-de").get_by_label("Anhänge / PS").fill(PS)
    form.get_by_label("Dateien hinzufügen").set_input_files(str(pdf))
    expect(form.get_by_label("Wer darf die Vorlage sehen und verwenden")).to_have_values(["*"])
    shot(page, "10-vorlage-formular")
    form.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Vorlage gespeichert.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Vorlage „{TEMPLATE}“")).to_be_visible()
    expect(page.locator("form.template-form")).to_contain_text(PDF_NAME)
    with ka.db.read() as s:
        template = s.scalar(select(CommTemplate).where(CommTemplate.name == TEMPLATE))
        assert template.retention_days == 720 and template.base_type == "email" and template.kind == "email"
        assert template.doc_readers == [f"g:{vertrieb}"] and template.doc_editors == [f"u:{editor}"]
        assert [f.filename for f in template.files] == [PDF_NAME]
        template_id = template.id
    page.locator(".toolbar").get_by_role("link", name="Kommunikation – Vorlagen").click()
    expect(page.locator("table.list tbody tr")).to_have_count(4)

    # -- Kontakt → "…" → Vorlage auswählen → "informationen" → 3 → OK ----------------------------
    nav(page, "Kontakte")
    page.get_by_role("search", name="Kontakte filtern").get_by_label("Name").fill("Schäfer")
    page.get_by_role("button", name="Filtern").click()
    page.get_by_role("link", name="Schäfer, Maria").click()
    expect(page.get_by_role("heading", name="Maria Schäfer", level=1)).to_be_visible()
    page.get_by_role("button", name="Weitere Aktionen").click()
    page.get_by_role("menuitem", name="Vorlage auswählen …").click()
    dialog = page.get_by_role("dialog", name="Vorlage auswählen für Dr. Maria Schäfer")
    expect(dialog).to_be_visible()
    choices = dialog.locator("table.template-choice tbody tr")
    expect(choices).to_have_count(4)
    search = dialog.locator("form.template-search")
    search.get_by_label("Suche").fill("informationen")
    search.get_by_role("button", name="Suchen").click()
    expect(choices).to_have_count(3)
    expect(page.locator("table.template-choice")).not_to_contain_text("Terminbestätigung")
    page.get_by_label(TEMPLATE).check()
    shot(page, "11-vorlage-auswaehlen")
    page.get_by_role("button", name="OK").click()

    # -- the new e-mail: every section -----------------------------------------------------------
    expect(page).to_have_url(re.compile(r"/dokumente/\d+/bearbeiten\?verwerfen=1$"))
    doc_id = int(page.url.rsplit("/", 2)[1])
    expect(page.locator(".doc-toolbar .doc-type")).to_have_text("E-Mail")
    expect(page.get_by_label("Titel")).to_have_value("Informationen zu DOCHOUSE GmbH")
    expect(page.get_by_label("Unternehmen", exact=True)).to_have_value(str(ids["company"]))
    expect(page.get_by_label("Kontakt", exact=True)).to_have_value(str(ids["contact"]))
    expect(page.locator("#f-status")).to_have_text("Entwurf")  # the outbox's, not a field
    expect(page.get_by_label("An (E-Mail-Adresse)")).to_have_value("maria.schaefer@dochouse.example")
    expect(page.get_by_label("An (Name)")).to_have_value("Dr. Maria Schäfer")
    expect(page.get_by_label("Betreff")).to_have_value("Informationen zu DOCHOUSE GmbH")
    assert selected_labels(page, "#f-folder-ids") == ["DOCHOUSE 4", "Schriftverkehr"]
    expect(page.get_by_label("Aufbewahrungsfrist (Tage)")).to_have_value("720")
    expect(page.get_by_label("Leser", exact=True)).to_have_values([f"g:{vertrieb}"])
    expect(page.get_by_label("Bearbeiter", exact=True)).to_have_values([f"u:{editor}"])
    content = page.locator("#inhalt .ql-editor")
    expect(content.locator("p").first).to_have_text("Sehr geehrte Frau Dr. Schäfer,")
    expect(content).to_contain_text("anbei erhalten Sie die gewünschten Informationen für die DOCHOUSE GmbH in Ravensburg.")
    expect(content).to_contain_text("Bei Fragen erreichen Sie mich unter admin@example.org.")
    expect(content).to_contain_text("Mit freundlichen Grüßen")
    expect(content).not_to_contain_text("{{")
    text = content.inner_text()
    assert text.count("Sehr geehrte") == 1, text
    assert text.index("Sehr geehrte") < text.index("anbei") < text.index("Mit freundlichen Grüßen") < text.index("Admin")
    appendix = page.locator('.richtext-editor[data-input="f-data-appendix"] .ql-editor')
    today = ka.clock.today().strftime("%d.%m.%Y")
    expect(appendix).to_have_text(f"PS: Besuchen Sie uns am {today} auf der Messe.")
    expect(page.locator("#dateianhaenge .attachment-list")).to_contain_text(PDF_NAME)
    shot(page, "12-email-aus-vorlage")
    page.locator(".doc-toolbar").get_by_role("button", name="Speichern").click()

    # -- the view, then Senden -------------------------------------------------------------------
    expect(page).to_have_url(re.compile(rf"/dokumente/{doc_id}$"))
    expect(page.locator("section#allgemein").get_by_role("link", name="DOCHOUSE GmbH")).to_be_visible()
    expect(page.locator("section#allgemein").get_by_role("link", name="Dr. Maria Schäfer")).to_be_visible()
    expect(page.locator("section#ablage .tag")).to_have_text(["DOCHOUSE 4", "Schriftverkehr"])
    expect(page.locator("section#zugriff dd").nth(0)).to_have_text("Gruppe: Vertrieb")
    expect(page.locator("section#zugriff dd").nth(1)).to_have_text("Editor")
    expect(page.locator("section#inhalt")).to_contain_text("Sehr geehrte Frau Dr. Schäfer,")
    expect(page.locator("section#allgemein")).to_contain_text("PS: Besuchen Sie uns")
    expect(page.locator("section#dateianhaenge").get_by_role("link", name=PDF_NAME)).to_be_visible()
    page.locator(".doc-toolbar").get_by_role("link", name="Senden").click()
    expect(page.locator(".send-recipient")).to_have_text("Dr. Maria Schäfer <maria.schaefer@dochouse.example>")
    expect(page.locator(".send-attachments")).to_contain_text(PDF_NAME)
    page.get_by_role("button", name="Als Datei ablegen").click()
    expect(page.get_by_text("Die E-Mail wurde nicht versendet, sondern als Datei abgelegt")).to_be_visible()
    expect(page.locator("section#allgemein .status")).to_have_text("als Datei abgelegt")
    expect(page.get_by_text("Dieses Dokument ist als Datei abgelegt und kann nicht mehr geändert werden.")).to_be_visible()
    shot(page, "13-email-versendet")

    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.status == "filed" and doc.type_key == "email"
        assert sorted((e.principal, e.role) for e in doc.acl) == [(f"g:{vertrieb}", "read"), (f"u:{editor}", "edit")]
    files = sorted(outbox_dir(ka).glob("*.eml"))
    assert len(files) == 1, files
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["Subject"] == "Informationen zu DOCHOUSE GmbH"
    assert message["To"].addresses[0].addr_spec == "maria.schaefer@dochouse.example"
    assert message["From"].addresses[0].addr_spec == "admin@example.org"
    body = message.get_body(("html",)).get_content()
    assert "Sehr geehrte Frau Dr. Schäfer," in body and "PS: Besuchen Sie uns" in body
    attachments = [(p.get_filename(), p.get_content_type(), p.get_content()) for p in message.iter_attachments()]
    assert attachments == [(PDF_NAME, "application/pdf", pdf.read_bytes())]

    # -- the overview lists it as versendet ------------------------------------------------------
    page.goto(f"{base}/kontakte/{ids['contact']}")
    page.get_by_role("link", name="Übersicht", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/kontakte/{ids['contact']}/uebersicht"))
    for overview in ("contact", "company"):
        comm = page.locator("#section-communication")
        expect(comm.get_by_role("radio", name=re.compile(r"^versendet")).locator(".count")).to_have_text("0")
        sent = comm.get_by_role("radio", name=re.compile(r"^als Datei abgelegt"))
        expect(sent.locator(".count")).to_have_text("1")
        sent.click()
        expect(comm.get_by_role("radio", name=re.compile(r"^als Datei abgelegt"))).to_have_attribute("aria-checked", "true")
        expect(page).to_have_url(re.compile(r"f_communication=filed"))
        row = comm.locator("tbody tr")
        expect(row).to_have_count(1)
        expect(row.get_by_role("link", name="Informationen zu DOCHOUSE GmbH")).to_be_visible()
        expect(row.locator(".badge")).to_have_text("als Datei abgelegt")
        expect(row).to_contain_text("Informationen zu DOCHOUSE GmbH")
        drafts = comm.get_by_role("radio", name=re.compile(r"^Entwürfe"))
        expect(drafts.locator(".count")).to_have_text("0")
        if overview == "contact":
            shot(page, "14-kontakt-uebersicht-versendet")
            page.get_by_role("link", name="Übersicht des Unternehmens DOCHOUSE GmbH").click()
            expect(page).to_have_url(re.compile(rf"/unternehmen/{ids['company']}/uebersicht"))
    assert template_id
    assert not page.problems, page.problems  # type: ignore[attr-defined]
