"""Issue 14 in a real browser (Chromium) against a real SMTP server (aiosmtpd on 127.0.0.1).

* A template with three paragraphs (one with a line break), a bulleted list and a two-line
  signature, picked for a contact: the draft's editor shows exactly that; "Senden" in the toolbar
  saves (through the editor), confirms recipient and attachments, sends exactly once; the
  received HTML and text parts have the same structure, parse without defects in Python's
  ``email`` and in ``mail-parser``, and name the attachment with ``filename=`` and ``filename*=``.
  The history reads as German sentences with the acting user, "Versendet am" by locale.
* Without SMTP: the notice on the document and in Einstellungen, "als Datei abgelegt"; a new
  e-mail from the contact's "…" menu is addressed to the contact, a broken address is refused on
  save with the input kept; the status is no form field and a forged one changes nothing.
* "Abbrechen" on a draft just created from a template discards it; after saving it does not.
"""

from __future__ import annotations

import email
import re
from email import policy
from typing import Any

import mailparser
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from kundenakte.core.models import Company, Contact, Document, User
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.settings import outbox_dir, settings_of
from tests.browser.conftest import login, nav, shot
from tests.communication.conftest import RecordingHandler, smtp_server  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(180)]

TEMPLATE = "Angebot Wartung"
BODY = ("wie besprochen erhalten Sie unser Angebot für {{ unternehmen.name }}.\nEs gilt bis Monatsende.\n\n"
        "Es umfasst:\n- Beratung\n• Lieferung\n* Montage\n\n"
        "Bei Fragen erreichen Sie mich unter {{ absender.email }}.")
PDF_NAME = "Preisliste März.pdf"
EXPECTED_TEXT = (
    "Sehr geehrter Herr Hartung,\n\n"
    "wie besprochen erhalten Sie unser Angebot für Hartung Haustechnik KG.\nEs gilt bis Monatsende.\n\n"
    "Es umfasst:\n\n- Beratung\n- Lieferung\n- Montage\n\n"
    "Bei Fragen erreichen Sie mich unter admin@example.org.\n\n"
    "Mit freundlichen Grüßen\n\n"
    "Admin\nKundendienst Süd\n"
)


def seed(ka: Any, people: Any, shared_pdf: Any = None) -> dict[str, int]:
    with ka.db.write() as s:
        company = Company(name="Hartung Haustechnik KG", street="Am Markt 3", postal_code="88212", city="Ravensburg")
        s.add(company)
        s.flush()
        contact = Contact(gender="male", first_name="Jens", last_name="Hartung", company_id=company.id,
                          email="jens.hartung@hartung.example")
        s.add(contact)
        s.flush()
        # As the product's demo does: the signature starts with the name.
        s.get(User, people.users["admin"]).signature = "Admin\nKundendienst Süd"
        template = svc.save_template(ka, s, people.viewer("admin"), {
            "name": TEMPLATE, "base_type": "email", "subject": "Ihr Angebot", "body": BODY, "readers": ["*"]})
        if shared_pdf is not None:
            with (shared_pdf / "example.pdf").open("rb") as fh:
                svc.add_template_file(ka, s, people.viewer("admin"), template, fh, PDF_NAME)
        return {"company": company.id, "contact": contact.id, "template": template.id}


def open_contact(page: Any, name: str) -> None:
    nav(page, "Kontakte")
    page.get_by_role("search", name="Kontakte filtern").get_by_label("Name").fill("Hartung")
    page.get_by_role("button", name="Filtern").click()
    page.get_by_role("link", name=name).click()


def pick_template(page: Any) -> int:
    page.get_by_role("button", name="Weitere Aktionen").click()
    page.get_by_role("menuitem", name="Vorlage auswählen …").click()
    page.get_by_label(TEMPLATE).check()
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(re.compile(r"/dokumente/\d+/bearbeiten\?verwerfen=1$"))
    return int(page.url.split("/dokumente/")[1].split("/")[0])


def assert_no_defects(raw: bytes) -> Any:
    message = email.message_from_bytes(raw, policy=policy.default)
    for part in message.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
    assert not mailparser.parse_from_bytes(raw).defects
    return message


def test_template_mail_arrives_as_written_and_is_sent_once(ka, people, live_server, browser_page, smtp_server,  # noqa: F811
                                                           shared_pdf):
    page, base = browser_page, live_server
    handler = RecordingHandler()
    host, port = smtp_server(handler)
    settings = settings_of(ka)
    settings.smtp_host, settings.smtp_port, settings.smtp_security = host, port, "none"
    settings.mail_from = "crm@hartung-kunden.example"
    ids = seed(ka, people, shared_pdf)

    login(page, base, "admin")
    open_contact(page, "Hartung, Jens")
    doc_id = pick_template(page)

    # -- the draft shows the template's structure ----------------------------------------------------
    editor = page.locator("#inhalt .ql-editor")
    expect(editor.locator("> p").first).to_have_text("Sehr geehrter Herr Hartung,")
    expect(editor.locator("li")).to_have_text(["Beratung", "Lieferung", "Montage"])
    text = editor.inner_text()
    assert text.count("Sehr geehrter") == 1 and text.count("Admin") == 1, text
    # The status is the outbox's: shown, not a field.
    expect(page.locator("select[name=status]")).to_have_count(0)
    expect(page.locator("#f-status")).to_have_text("Entwurf")
    expect(page.locator(".page-notice")).to_have_count(0)  # SMTP is configured
    shot(page, "40-mail-entwurf-aus-vorlage")

    # -- Senden in the toolbar: saves, then confirms recipient and attachments ----------------------
    page.locator(".doc-toolbar").get_by_role("button", name="Senden").click()
    expect(page).to_have_url(re.compile(rf"/kommunikation/{doc_id}/senden$"))
    expect(page.get_by_role("heading", name="E-Mail senden?")).to_be_visible()
    expect(page.locator(".send-recipient")).to_have_text("Jens Hartung <jens.hartung@hartung.example>")
    expect(page.locator(".send-attachments")).to_contain_text(PDF_NAME)
    shot(page, "41-mail-senden-bestaetigen")
    with ka.db.read() as s:
        saved = s.get(Document, doc_id)
        assert saved.version == 2 and saved.status == "draft"  # saved through the editor first
    # The same confirmation in a second tab: both press "Jetzt senden", one mail leaves.
    second = page.context.new_page()
    second.goto(f"{base}/kommunikation/{doc_id}/senden")
    page.get_by_role("button", name="Jetzt senden").click()
    expect(page.get_by_text("Die E-Mail wurde versendet.")).to_be_visible()
    expect(page.locator("section#allgemein .status")).to_have_text("versendet")
    expect(page.locator(".doc-toolbar").get_by_role("link", name="Senden")).to_have_count(0)
    second.get_by_role("button", name="Jetzt senden").click()
    expect(second.get_by_text("Die E-Mail ist bereits versendet oder in der Warteschlange.")).to_be_visible()
    second.close()
    assert len(handler.messages) == 1

    # History: German sentences with the acting user; the time by locale, not ISO.
    history = page.locator("ol.doc-history")
    expect(history).to_contain_text("Admin · E-Mail an jens.hartung@hartung.example versendet")
    expect(history).to_contain_text("Admin · aus der Vorlage „Angebot Wartung“ erstellt")
    expect(history).not_to_contain_text("from_template")
    expect(history).not_to_contain_text("queued")
    expect(history).not_to_contain_text("unbekannt")
    sent_at = page.locator("section#allgemein dd.kind-datetime")
    expect(sent_at).to_have_text(re.compile(r"^\d\d\.\d\d\.\d{4},? \d\d:\d\d"))
    shot(page, "42-mail-versendet")

    # -- what the customer receives -------------------------------------------------------------------
    raw = handler.messages[0].content
    assert handler.messages[0].rcpt_tos == ["jens.hartung@hartung.example"]
    message = assert_no_defects(raw)
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == EXPECTED_TEXT
    html = message.get_body(("html",)).get_content()
    assert "Angebot für Hartung Haustechnik KG.<br>Es gilt bis Monatsende.</p>" in html
    assert "<ul><li>Beratung</li><li>Lieferung</li><li>Montage</li></ul>" in html, html
    assert "<p>Admin<br>Kundendienst Süd</p>" in html and html.count("Admin") == 1
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == PDF_NAME
    assert attachment.get_content() == (shared_pdf / "example.pdf").read_bytes()
    header = raw.split(b"Content-Disposition: attachment;", 1)[1].split(b"\r\n\r\n", 1)[0]
    assert b"filename*=utf-8''Preisliste%20M%C3%A4rz.pdf" in header and b'filename="Preisliste Maerz.pdf"' in header
    assert message["Reply-To"].addresses[0].display_name == "Admin"
    assert not page.problems, page.problems  # type: ignore[attr-defined]
    assert ids


def test_without_smtp_filed_notice_prefill_and_status_not_settable(ka, people, live_server, browser_page):
    page, base = browser_page, live_server
    settings_of(ka).smtp_host = ""
    settings_of(ka).mail_from = "crm@hartung-kunden.example"
    seed(ka, people)
    login(page, base, "admin")

    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Einstellungen").click()
    expect(page.locator(".page-notice")).to_contain_text("E-Mails werden nicht versendet")

    # -- a new e-mail from the contact's "…" menu is addressed to the contact ----------------------------
    open_contact(page, "Hartung, Jens")
    page.get_by_role("button", name="Weitere Aktionen").click()
    page.get_by_role("menuitem", name="E-Mail", exact=True).click()
    expect(page.get_by_label("An (E-Mail-Adresse)")).to_have_value("jens.hartung@hartung.example")
    expect(page.get_by_label("An (Name)")).to_have_value("Jens Hartung")
    expect(page.locator(".page-notice")).to_contain_text("E-Mails werden nicht versendet")
    page.get_by_label("Titel").fill("Rückfrage")
    page.get_by_label("Betreff").fill("Rückfrage zum Termin")
    page.get_by_label("An (E-Mail-Adresse)").fill("kaputt")
    # A forged status field (the form has none) must change nothing.
    page.evaluate("""() => { const i = document.createElement('input'); i.type = 'hidden'; i.name = 'status';
                             i.value = 'sent'; document.getElementById('doc-form').appendChild(i); }""")
    page.locator(".doc-toolbar").get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("„kaputt“ ist keine gültige E-Mail-Adresse.")).to_be_visible()
    expect(page.get_by_label("An (E-Mail-Adresse)")).to_have_value("kaputt")
    expect(page.get_by_label("Betreff")).to_have_value("Rückfrage zum Termin")
    page.problems.clear()  # type: ignore[attr-defined]  # the 422 answer is asserted above
    page.get_by_label("An (E-Mail-Adresse)").fill("jens.hartung@hartung.example")
    page.evaluate("""() => { const i = document.createElement('input'); i.type = 'hidden'; i.name = 'status';
                             i.value = 'sent'; document.getElementById('doc-form').appendChild(i); }""")
    page.locator(".doc-toolbar").get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Dokument angelegt.")).to_be_visible()
    expect(page.locator("section#allgemein .status")).to_have_text("Entwurf")
    expect(page.locator(".page-notice")).to_contain_text("E-Mails werden nicht versendet")
    doc_id = int(page.url.rsplit("/", 1)[1])

    # -- Senden without SMTP: "als Datei abgelegt", never "versendet" ----------------------------------
    page.locator(".doc-toolbar").get_by_role("link", name="Senden").click()
    expect(page.locator(".page-notice")).to_contain_text("nicht versendet")
    page.get_by_role("button", name="Als Datei ablegen").click()
    expect(page.get_by_text("Die E-Mail wurde nicht versendet, sondern als Datei abgelegt")).to_be_visible()
    expect(page.get_by_text("Die E-Mail wurde versendet.")).to_have_count(0)
    expect(page.locator("section#allgemein .status")).to_have_text("als Datei abgelegt")
    expect(page.locator("ol.doc-history")).to_contain_text("Admin · E-Mail an jens.hartung@hartung.example nicht "
                                                           "versendet, als Datei abgelegt")
    shot(page, "43-mail-als-datei-abgelegt")
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.status == "filed" and "sent_at" not in doc.data
    (eml,) = outbox_dir(ka).glob("*.eml")
    assert_no_defects(eml.read_bytes())
    assert not page.problems, page.problems  # type: ignore[attr-defined]


def test_abbrechen_discards_a_fresh_template_draft(ka, people, live_server, browser_page):
    page, base = browser_page, live_server
    ids = seed(ka, people)
    login(page, base, "admin")
    open_contact(page, "Hartung, Jens")
    doc_id = pick_template(page)
    page.locator(".doc-toolbar").get_by_role("button", name="Abbrechen").click()
    expect(page.get_by_text("Der Entwurf wurde verworfen.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/kontakte/{ids['contact']}$"))
    with ka.db.read() as s:
        assert s.get(Document, doc_id) is None

    # Once saved, "Abbrechen" only leaves the form.
    doc_id = pick_template(page)
    page.locator(".doc-toolbar").get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Gespeichert.")).to_be_visible()
    page.locator(".doc-toolbar").get_by_role("link", name="Bearbeiten").click()
    page.locator(".doc-toolbar").get_by_role("link", name="Abbrechen").click()
    expect(page).to_have_url(re.compile(rf"/dokumente/{doc_id}$"))
    with ka.db.read() as s:
        assert s.get(Document, doc_id) is not None
        assert s.scalar(select(func.count()).select_from(Document)) == 1
    assert not page.problems, page.problems  # type: ignore[attr-defined]
