"""Issue 14 (mail content, delivery, status): structure kept, one composition, status owned by the
outbox, addresses checked on save, and what a real SMTP server receives.

Real SQLite/PostgreSQL, a real aiosmtpd server on 127.0.0.1; received messages are parsed with
Python's ``email`` (policy=default, defects of every part) and with ``mail-parser`` (PyPI).
"""

from __future__ import annotations

import email
import re
from email import policy
from typing import Any

import mailparser
import pytest
from sqlalchemy import select

from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import DocumentInput, create_document, update_document
from kundenakte.core.models import AuditEntry, Document, User
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.composition import compose, to_editor_html, to_mail_html
from kundenakte.plugins.communication.mime import ascii_filename, html_to_text
from kundenakte.plugins.communication.outbox import deliver_queued, helo_hostname, queue_email
from kundenakte.plugins.communication.settings import outbox_dir, settings_of
from tests.api import api_app, api_as, world  # noqa: F401 - fixtures
from tests.communication.conftest import RecordingHandler
from tests.communication.test_outbox import NOW, configure
from tests.communication.test_templates import make_contacts

# Three paragraphs (the first with a line break), a bulleted list in all three spellings.
BODY = ("wie besprochen erhalten Sie unser Angebot.\nEs gilt bis Monatsende.\n\n"
        "Es umfasst:\n- Beratung\n• Lieferung\n* Montage\n\n"
        "Bei Fragen rufen Sie mich gern an.")
SIGNATURE = "Owner\nVertrieb Süd"
EXPECTED_TEXT = (
    "Sehr geehrter Herr Schmidt,\n\n"
    "wie besprochen erhalten Sie unser Angebot.\nEs gilt bis Monatsende.\n\n"
    "Es umfasst:\n\n- Beratung\n- Lieferung\n- Montage\n\n"
    "Bei Fragen rufen Sie mich gern an.\n\n"
    "Mit freundlichen Grüßen\n\n"
    "Owner\nVertrieb Süd\n"
)


class HeloRecordingHandler(RecordingHandler):
    """Also records the name the client greeted with (EHLO/HELO)."""

    def __init__(self) -> None:
        super().__init__()
        self.greetings: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.greetings.append(session.host_name)
        return await super().handle_DATA(server, session, envelope)


def assert_no_defects(raw: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    for part in message.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
    parsed = mailparser.parse_from_bytes(raw)
    assert not parsed.defects, parsed.defects
    return message  # type: ignore[return-value]


def template_draft(ka: Any, people: Any, contact: str = "herr", **values: Any) -> int:
    ids = make_contacts(ka)
    with ka.db.write() as s:
        s.get(User, people.users["owner"]).signature = SIGNATURE
        base = {"name": "Angebot", "base_type": "email", "subject": "Ihr Angebot", "body": BODY, "readers": ["*"]}
        template = svc.save_template(ka, s, people.viewer("owner"), {**base, **values})
        return svc.create_from_template(ka, s, people.viewer("owner"), template.id, ids[contact]).id


# -- structure ------------------------------------------------------------------------------------


def test_editor_lines_become_paragraphs_lines_and_lists() -> None:
    editor = compose(salutation="Sehr geehrter Herr Schmidt,", body_html=BODY, closing="Mit freundlichen Grüßen",
                     sender_name="Owner", signature=SIGNATURE)
    # The editor's line model: consecutive lines without a blank line, one blank line between paragraphs.
    assert "<p>Owner</p><p>Vertrieb Süd</p>" in editor
    assert "<p>wie besprochen erhalten Sie unser Angebot.</p><p>Es gilt bis Monatsende.</p>" in editor
    assert editor.count('data-list="bullet"') == 3
    mail = to_mail_html(editor)
    assert "<p>wie besprochen erhalten Sie unser Angebot.<br>Es gilt bis Monatsende.</p>" in mail
    assert "<ul><li>Beratung</li><li>Lieferung</li><li>Montage</li></ul>" in mail
    assert "<p>Owner<br>Vertrieb Süd</p>" in mail
    assert html_to_text(mail) == EXPECTED_TEXT


def test_html_template_paragraphs_keep_their_breaks() -> None:
    editor = to_editor_html("<p>Erster Absatz</p><p>Zweiter<br>mit Umbruch</p><ol><li>eins</li><li>zwei</li></ol>")
    assert editor == ('<p>Erster Absatz</p><p><br></p><p>Zweiter</p><p>mit Umbruch</p><p><br></p>'
                      '<ol><li data-list="ordered">eins</li><li data-list="ordered">zwei</li></ol>')
    assert to_mail_html(editor) == "<p>Erster Absatz</p><p>Zweiter<br>mit Umbruch</p><ol><li>eins</li><li>zwei</li></ol>"


# -- composition: each part once -------------------------------------------------------------------

SALUTATIONS = {
    "automatic": "",
    "placeholder": "{{ kontakt.briefanrede }}\n\n",
    "placeholder_with_comma": "{{ kontakt.briefanrede }},\n\n",
    "own_text": "Hallo {{ kontakt.vorname }},\n\n",
}
CLOSINGS = {"automatic": "", "placeholder": "\n\n{{ kontakt.grussformel }}", "own_text": "\n\nViele Grüße"}
SIGNATURES = {"starts_with_name": "Owner\nVertrieb Süd", "without_name": "Vertrieb Süd\nTel. 089 1", "empty": ""}


@pytest.mark.parametrize("signature", SIGNATURES)
@pytest.mark.parametrize("closing", CLOSINGS)
@pytest.mark.parametrize("salutation", SALUTATIONS)
@pytest.mark.sqlite_only
def test_no_doubled_salutation_closing_or_name(ka, people, salutation, closing, signature):  # type: ignore[no-untyped-def]
    ids = make_contacts(ka)
    with ka.db.write() as s:
        s.get(User, people.users["owner"]).signature = SIGNATURES[signature]
        template = svc.save_template(ka, s, people.viewer("owner"), {
            "name": "T", "base_type": "email", "subject": "S", "readers": ["*"],
            "body": SALUTATIONS[salutation] + "Der Text." + CLOSINGS[closing]})
        doc = svc.create_from_template(ka, s, people.viewer("owner"), template.id, ids["herr"])
        text = html_to_text(to_mail_html(doc.content))
    lines = text.splitlines()
    greeting = "Hallo Bernd," if salutation == "own_text" else "Sehr geehrter Herr Schmidt,"
    assert lines[0] == greeting, text
    assert ",," not in text
    assert text.count("Sehr geehrter") == (0 if salutation == "own_text" else 1)
    closing_line = "Viele Grüße" if closing == "own_text" else "Mit freundlichen Grüßen"
    assert lines.count(closing_line) == 1 and text.count("Grüße") == 1, text
    # The name appears exactly once, right under the closing (after one blank line).
    assert text.count("Owner") == 1, text
    after = lines[lines.index(closing_line) + 1:]
    assert after[0] == "" and after[1] == "Owner"
    if signature == "without_name":
        assert after[2:4] == ["Vertrieb Süd", "Tel. 089 1"]


def test_signature_placeholder_in_the_body_is_not_added_again(ka, people):  # type: ignore[no-untyped-def]
    doc_id = template_draft(ka, people, body="Text.\n\n{{ kontakt.grussformel }}\n{{ absender.signatur }}")
    with ka.db.read() as s:
        text = html_to_text(to_mail_html(s.get(Document, doc_id).content))
    assert text.endswith("Text.\n\nMit freundlichen Grüßen\nOwner\nVertrieb Süd\n"), text


# -- status owned by the outbox ---------------------------------------------------------------------


def test_status_cannot_be_set_by_a_save(ka, people):  # type: ignore[no-untyped-def]
    doc_id = template_draft(ka, people)
    with ka.db.write() as s, pytest.raises(ValidationError) as exc:
        update_document(ka, s, people.viewer("owner"), doc_id, DocumentInput.from_mapping({"status": "sent"}),
                        expected_version=None)
    assert "wird vom System gesetzt" in exc.value.errors["status"]
    with ka.db.write() as s, pytest.raises(ValidationError):
        create_document(ka, s, people.viewer("owner"), "email", DocumentInput(title="x", status="sent"))
    with ka.db.read() as s:
        assert s.get(Document, doc_id).status == "draft"


def test_address_is_checked_on_save(ka, people):  # type: ignore[no-untyped-def]
    doc_id = template_draft(ka, people)
    with ka.db.write() as s, pytest.raises(ValidationError) as exc:
        update_document(ka, s, people.viewer("owner"), doc_id,
                        DocumentInput.from_mapping({"data": {"to_email": "kaputt"}}), expected_version=None)
    assert exc.value.errors == {"data.to_email": "„kaputt“ ist keine gültige E-Mail-Adresse."}


def test_api_refuses_status_and_bad_address(ka, people, api_as, world):  # type: ignore[no-untyped-def]
    api = api_as("owner")
    bad = api.post("/documents", json={"type": "email", "title": "Mail", "data": {"to_email": "kaputt"}})
    assert bad.status_code == 422, bad.get_json()
    assert "keine gültige E-Mail-Adresse" in bad.get_json()["fields"]["data.to_email"]
    forced = api.post("/documents", json={"type": "email", "title": "Mail", "status": "sent",
                                          "data": {"to_email": "lea@dochouse.example"}})
    assert forced.status_code == 422 and "status" in forced.get_json()["fields"]
    good = api.post("/documents", json={"type": "email", "title": "Mail", "data": {"to_email": "lea@dochouse.example"}})
    assert good.status_code == 201 and good.get_json()["status"] == "draft"
    doc = good.get_json()
    patched = api.patch(f"/documents/{doc['id']}", json={"version": doc["version"], "status": "sent"})
    assert patched.status_code == 422 and "vom System gesetzt" in patched.get_json()["fields"]["status"]
    patched = api.patch(f"/documents/{doc['id']}", json={"version": doc["version"], "data": {"to_email": "kaputt"}})
    assert patched.status_code == 422
    with ka.db.read() as s:
        row = s.get(Document, doc["id"])
        assert row.status == "draft" and row.data["to_email"] == "lea@dochouse.example"


# -- delivery ---------------------------------------------------------------------------------------


def test_received_message_structure_filenames_reply_to_and_helo(ka, people, smtp_server, shared_pdf):  # type: ignore[no-untyped-def]
    handler = HeloRecordingHandler()
    host, port = smtp_server(handler)
    configure(ka, host, port)
    settings_of(ka).helo_hostname = "crm.kanzlei.example"
    doc_id = template_draft(ka, people)
    pdf = (shared_pdf / "example.pdf").read_bytes()
    with ka.db.write() as s:
        doc = s.get(Document, doc_id)
        blob = ka.storage.put(__import__("io").BytesIO(pdf), session=s, filename="Übersicht März.pdf")
        from kundenakte.core.models import Attachment

        doc.attachments.append(Attachment(filename="Übersicht März.pdf", mime_type="application/pdf", size=blob.size,
                                          sha256=blob.sha256, inline=False, created_at=NOW))
    with ka.db.write() as s:
        queue_email(ka, s, people.viewer("owner"), doc_id)
    assert deliver_queued(ka, now=NOW).sent == [doc_id]
    assert len(handler.messages) == 1 and handler.greetings == ["crm.kanzlei.example"]
    raw = handler.messages[0].content
    message = assert_no_defects(raw)
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == EXPECTED_TEXT
    html = message.get_body(("html",)).get_content()
    assert "<p>wie besprochen erhalten Sie unser Angebot.<br>Es gilt bis Monatsende.</p>" in html
    assert "<ul><li>Beratung</li><li>Lieferung</li><li>Montage</li></ul>" in html
    assert "<p>Owner<br>Vertrieb Süd</p>" in html
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "Übersicht März.pdf" and attachment.get_content() == pdf
    disposition = re.search(rb"Content-Disposition: attachment;(.*?)\r\n(?!\s)", raw, re.S)
    assert disposition is not None
    assert b"filename*=utf-8''%C3%9Cbersicht%20M%C3%A4rz.pdf" in disposition.group(1)
    assert b'filename="Uebersicht Maerz.pdf"' in disposition.group(1)
    assert [a["filename"] for a in mailparser.parse_from_bytes(raw).attachments] in (
        ["Übersicht März.pdf"], ["Uebersicht Maerz.pdf"])
    assert message["Reply-To"].addresses[0].display_name == "Owner"
    assert message["Reply-To"].addresses[0].addr_spec == people_email(ka, people, "owner")
    with ka.db.read() as s:
        sent = s.get(Document, doc_id)
        assert sent.status == "sent" and sent.data["delivery_status"] == "sent"
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.object_id == doc_id).order_by(AuditEntry.id)))
        texts = [(e.action, e.user_id, (e.details or {}).get("text")) for e in entries]
    owner = people.users["owner"]
    assert ("sent", owner, "E-Mail an bernd@example.de versendet") in texts
    assert ("queued", owner, "E-Mail an bernd@example.de zum Versand gegeben") in texts
    assert ("from_template", owner, "aus der Vorlage „Angebot“ erstellt") in texts


def people_email(ka: Any, people: Any, login: str) -> str:
    with ka.db.read() as s:
        return str(s.get(User, people.users[login]).email)


def test_helo_falls_back_to_the_sender_domain(ka) -> None:  # type: ignore[no-untyped-def]
    configure(ka, "127.0.0.1")
    assert helo_hostname(ka) == "kanzlei.example"
    settings_of(ka).mail_from = ""
    assert helo_hostname(ka) == "localhost"


def test_without_smtp_the_mail_is_filed_not_sent(ka, people):  # type: ignore[no-untyped-def]
    configure(ka, None)
    doc_id = template_draft(ka, people)
    with ka.db.write() as s:
        queue_email(ka, s, people.viewer("owner"), doc_id)
    summary = deliver_queued(ka, now=NOW)
    assert summary.filed == [doc_id] and summary.sent == []
    (eml,) = outbox_dir(ka).glob("*.eml")
    assert_no_defects(eml.read_bytes())
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.status == "filed" and "nicht versendet" in doc.data["delivery_error"]


def test_ascii_filename() -> None:
    assert ascii_filename("Größe Übersicht.pdf") == "Groesse Uebersicht.pdf"
    assert ascii_filename("café.txt") == "cafe.txt"
    assert ascii_filename("日本.pdf") == "anhang.pdf"
