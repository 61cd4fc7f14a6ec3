"""The sender format (Absenderangabe) of an e-mail: as the writing user or as the organisation ("Firma")."""

from __future__ import annotations

import email
import re
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from kundenakte.core.documents import DocumentInput, update_document
from kundenakte.core.models import Document
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.outbox import deliver_queued
from kundenakte.plugins.communication.settings import outbox_dir, settings_of
from kundenakte.plugins.communication.types import EMAIL
from tests.communication.test_outbox import NOW, configure, draft, queue
from tests.communication.test_templates import make_contacts, save
from tests.communication.test_views import login

ORGANISATION = "Müller & Söhne GmbH"
MAIL_FROM = "crm@kanzlei.example"  # set by configure()
AUTHOR = ("Owner", "owner@example.org")  # the "owner" user of the people fixture
TOP_LEVEL_HEADERS = ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"]


def set_sender_format(ka, people, doc_id: int, value: Any) -> None:  # type: ignore[no-untyped-def]
    """As a user would on the document form: a partial change of the declared field."""
    with ka.db.write() as s:
        update_document(ka, s, people.viewer("owner"), doc_id,
                        DocumentInput.from_mapping({"data": {"sender_format": value}}), expected_version=None)


def send(ka, people, handler, doc_id: int) -> EmailMessage:  # type: ignore[no-untyped-def]
    queue(ka, people, doc_id)
    assert deliver_queued(ka, now=NOW).sent == [doc_id]
    (mail,) = handler.messages
    assert mail.mail_from == MAIL_FROM and mail.rcpt_tos == ["anna.mueller@example.de"]
    return parse(mail.content)


def sender(msg: EmailMessage) -> tuple[str, str]:
    """The From display name decoded as RFC 2047 says (adjacent encoded words joined without the
    folding space; Python's structured address parser keeps that space in long names) and address."""
    (address,) = msg["From"].addresses
    name, addr = parseaddr(msg.raw_from)  # type: ignore[attr-defined]
    assert addr == address.addr_spec
    return str(make_header(decode_header(name))), addr


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    msg.raw_from = email.message_from_bytes(raw)["From"]  # type: ignore[attr-defined]  # compat32: as sent
    return msg  # type: ignore[return-value]


def reply_to(msg: EmailMessage) -> list[str]:
    return [a.addr_spec for a in msg["Reply-To"].addresses] if msg["Reply-To"] else []


def stored(ka, doc_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        return dict(s.get(Document, doc_id).data)


def test_declared_as_an_optional_choice_with_the_templates_values():
    field = EMAIL.field("sender_format")
    assert field is not None and field.kind == "choice" and field.label == "Absenderangabe"
    assert not field.required and field.default == "name_address"
    assert {c.value: c.label for c in field.choices} == {"name_address": "Name", "company": "Firma"}
    assert {c.value for c in field.choices} == set(svc.SENDER_FORMATS)


def test_default_sends_as_the_person(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    settings_of(ka).organisation_name = ORGANISATION  # configured, but the document does not ask for it
    doc_id = draft(ka, people)
    assert stored(ka, doc_id)["sender_format"] == "name_address"
    msg = send(ka, people, handler, doc_id)
    assert sender(msg) == ("Owner", MAIL_FROM)
    assert reply_to(msg) == [AUTHOR[1]]


def test_document_without_the_field_sends_as_the_person(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    """Documents saved before the field existed (or by API clients leaving it out) keep working."""
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    settings_of(ka).organisation_name = ORGANISATION
    doc_id = draft(ka, people)
    with ka.db.write() as s:
        doc = s.get(Document, doc_id)
        doc.data = {k: v for k, v in doc.data.items() if k != "sender_format"}
    msg = send(ka, people, handler, doc_id)
    assert sender(msg) == ("Owner", MAIL_FROM) and reply_to(msg) == [AUTHOR[1]]


def test_company_sends_as_the_organisation(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    settings_of(ka).organisation_name = ORGANISATION
    doc_id = draft(ka, people)
    set_sender_format(ka, people, doc_id, "company")
    assert stored(ka, doc_id)["sender_format"] == "company"
    msg = send(ka, people, handler, doc_id)
    assert sender(msg) == (ORGANISATION, MAIL_FROM)
    assert msg["From"].addresses[0].display_name == "Müller & Söhne GmbH"  # short: one encoded word
    assert reply_to(msg) == [AUTHOR[1]]
    raw_from = next(line for line in handler.messages[0].content.split(b"\r\n") if line.startswith(b"From:"))
    assert raw_from.isascii() and b"=?utf-8?" in raw_from.lower()  # RFC 2047, the umlauts encoded


def test_company_without_mail_from_uses_the_authors_address(ka, people):  # type: ignore[no-untyped-def]
    configure(ka, None)  # no SMTP: written as .eml
    settings_of(ka).mail_from = ""
    settings_of(ka).organisation_name = ORGANISATION
    doc_id = draft(ka, people)
    set_sender_format(ka, people, doc_id, "company")
    queue(ka, people, doc_id)
    assert deliver_queued(ka, now=NOW).filed == [doc_id]
    (eml,) = outbox_dir(ka).glob("*.eml")
    msg = parse(eml.read_bytes())
    assert sender(msg) == (ORGANISATION, AUTHOR[1])
    assert msg["Reply-To"] is None  # From is already the author's address


def test_company_without_organisation_name_falls_back_to_the_person(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    for blank in ("", "  \r\n "):
        settings_of(ka).organisation_name = blank
        handler.messages.clear()
        doc_id = draft(ka, people)
        set_sender_format(ka, people, doc_id, "company")
        msg = send(ka, people, handler, doc_id)
        assert sender(msg) == ("Owner", MAIL_FROM) and reply_to(msg) == [AUTHOR[1]]


def test_created_from_a_company_template(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    settings_of(ka).organisation_name = ORGANISATION
    ids = make_contacts(ka)
    tid = save(ka, people, name="Firmenmail", sender_format="company")
    with ka.db.write() as s:
        doc_id = svc.create_from_template(ka, s, people.viewer("owner"), tid, ids["frau"]).id
    assert stored(ka, doc_id)["sender_format"] == "company"
    msg = send(ka, people, handler, doc_id)
    assert sender(msg) == (ORGANISATION, MAIL_FROM) and reply_to(msg) == [AUTHOR[1]]
    assert msg["Subject"] == "Informationen für Frau Dr. Müller"


def test_letter_from_a_company_template_has_no_sender_format(ka, people):  # type: ignore[no-untyped-def]
    """Only e-mails declare the field; a letter template's format must not make its document invalid."""
    ids = make_contacts(ka)
    tid = save(ka, people, name="Firmenbrief", base_type="letter", sender_format="company")
    with ka.db.write() as s:
        doc = svc.create_from_template(ka, s, people.viewer("owner"), tid, ids["frau"])
        assert doc.type_key == "letter" and "sender_format" not in doc.data


def test_line_breaks_in_organisation_name_cannot_inject_headers(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    for organisation, shown in (
        ("Müller & Söhne GmbH\r\nBcc: evil@attacker.example", "Müller & Söhne GmbH Bcc: evil@attacker.example"),
        ("Evil Corp\r\nBcc: evil@attacker.example\n\nbody", "Evil Corp Bcc: evil@attacker.example body"),
    ):
        handler = handler_class()
        configure(ka, *smtp_server(handler))
        settings_of(ka).organisation_name = organisation
        doc_id = draft(ka, people)
        set_sender_format(ka, people, doc_id, "company")
        msg = send(ka, people, handler, doc_id)
        assert list(msg.keys()) == TOP_LEVEL_HEADERS
        assert msg["Bcc"] is None
        assert sender(msg) == (shown, MAIL_FROM) and reply_to(msg) == [AUTHOR[1]]
        head = handler.messages[0].content.split(b"\r\n\r\n", 1)[0]
        assert not any(line.lower().startswith(b"bcc") for line in head.split(b"\r\n"))


def test_changed_on_the_document_form(app, ka, people):  # type: ignore[no-untyped-def]
    configure(ka, None)
    doc_id = draft(ka, people)
    client = login(app, "owner")
    page = client.get(f"/dokumente/{doc_id}/bearbeiten")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Absenderangabe" in html
    assert '<option value="name_address" selected>Name</option>' in html
    assert '<option value="company">Firma</option>' in html
    version = re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        form = {"version": version, "title": doc.title, "status": doc.status, "company_id": str(doc.company_id),
                "contact_id": str(doc.contact_id), "content": doc.content,
                **{f"data.{key}": str(doc.data.get(key) or "") for key in ("to_email", "to_name", "subject", "appendix")},
                "data.sender_format": "company"}
    response = client.post(f"/dokumente/{doc_id}/bearbeiten", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored(ka, doc_id)["sender_format"] == "company"
    html = client.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    assert '<option value="company" selected>Firma</option>' in html
