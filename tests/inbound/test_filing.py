"""Filing without IMAP (service level, SQLite and PostgreSQL): threads, uploads of .eml and .msg."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kundenakte.core import services
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Company, Contact, Document
from kundenakte.plugins.communication.inbound import filing
from kundenakte.plugins.communication.inbound.models import InboundMessage
from kundenakte.plugins.communication.inbound.parse import parse_bytes
from kundenakte.plugins.communication.inbound.upload import UploadError, file_upload
from kundenakte.plugins.communication.outbox import deliver_queued, queue_email
from tests.inbound import messages
from tests.inbound.messages import DATA


@pytest.fixture
def customer(ka: Any) -> dict[str, int]:
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "Kunde GmbH", "email": "info@kunde.example"}, by=None)
        contact = services.create_contact(s, {"first_name": "Max", "last_name": "Kunde", "email": "max@kunde.example",
                                              "company_id": company.id}, by=None)
        return {"company": company.id, "contact": contact.id}


def sent_mail(ka: Any, people: Any, customer: dict[str, int]) -> tuple[int, str]:
    owner = people.viewer("owner")
    with ka.db.write() as s:
        doc = create_document(ka, s, owner, "email", DocumentInput(
            title="Ihr Angebot", contact_id=customer["contact"], content="<p>Anbei das Angebot.</p>",
            data={"to_email": "max@kunde.example", "subject": "Ihr Angebot"}))
        doc_id = doc.id
    with ka.db.write() as s:
        message_id = queue_email(ka, s, owner, doc_id).message_id
    deliver_queued(ka)  # no SMTP host: written to instance/outbox/*.eml, "als Datei abgelegt" (issue 14)
    with ka.db.read() as s:
        assert s.get(Document, doc_id).status == "filed"  # type: ignore[union-attr]
    return doc_id, message_id


def test_reply_to_a_sent_mail_is_threaded(ka: Any, people: Any, customer: dict[str, int]) -> None:
    sent_id, message_id = sent_mail(ka, people, customer)
    # The customer answers from a private address nobody knows: the thread files it at the contact.
    reply = messages.plain(subject="Re: Ihr Angebot", sender="Max privat <max.k@gmail.com>", to="owner@example.org",
                           in_reply_to=message_id)
    with ka.db.write() as s:
        filed = filing.file_message(ka, s, people.viewer("admin"), reply)
        filing.record(s, filed, account_id=None, source="test")
        reply_id = filed.documents[0].id
    with ka.db.read() as s:
        doc = s.get(Document, reply_id)
        assert doc is not None
        assert doc.parent_id == sent_id
        assert (doc.contact_id, doc.company_id) == (customer["contact"], customer["company"])
        assert doc.data["direction"] == "in" and doc.data["filed_by"] == "thread"


def test_copy_of_a_sent_mail_is_not_filed_again(ka: Any, people: Any, customer: dict[str, int]) -> None:
    """The Ablage box gets a BCC of a mail sent from Kundenakte: it is the same document."""
    sent_id, message_id = sent_mail(ka, people, customer)
    copy = messages.plain(subject="Ihr Angebot", sender="Owner <owner@example.org>", to="max@kunde.example",
                          message_id=message_id)
    with ka.db.write() as s:
        filed = filing.file_message(ka, s, people.viewer("admin"), copy)
        assert filed.documents == [] and filed.duplicate_of == sent_id


def test_upload_eml_at_contact(ka: Any, people: Any, customer: dict[str, int]) -> None:
    raw = messages.umlauts()
    with ka.db.write() as s:
        contact = s.get(Contact, customer["contact"])
        doc_id = file_upload(ka, s, people.viewer("owner"), raw, "mail.eml", contact=contact, company=None)
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        assert (doc.contact_id, doc.company_id) == (customer["contact"], customer["company"])
        assert doc.author_id == people.users["owner"]
        row = s.scalar(select(InboundMessage).where(InboundMessage.document_id == doc_id))
        assert row is not None and row.source == "upload" and row.account_id is None
    # The same file again is recognised by its Message-ID.
    with ka.db.write() as s:
        contact = s.get(Contact, customer["contact"])
        again = file_upload(ka, s, people.viewer("owner"), raw, "mail.eml", contact=contact, company=None)
    assert again == doc_id


def test_upload_outlook_msg_at_company(ka: Any, people: Any, customer: dict[str, int]) -> None:
    data = (DATA / "strangeDate.msg").read_bytes()
    with ka.db.write() as s:
        company = s.get(Company, customer["company"])
        doc_id = file_upload(ka, s, people.viewer("owner"), data, "strangeDate.msg", contact=None, company=company)
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.company_id == customer["company"] and doc.contact_id is None
        assert doc.title == "MSG Test File"
        names = sorted(a.filename for a in doc.attachments)
        assert "strangeDate.msg" in names and "MSG Test File.eml" in names
        original = next(a for a in doc.attachments if a.filename == "strangeDate.msg")
        assert original.size == len(data)


def test_upload_refuses_what_is_no_mail(ka: Any, people: Any, customer: dict[str, int]) -> None:
    with ka.db.write() as s:
        contact = s.get(Contact, customer["contact"])
        with pytest.raises(UploadError, match="Kopfzeilen"):
            file_upload(ka, s, people.viewer("owner"), messages.malformed(), "kaputt.eml", contact=contact, company=None)
        with pytest.raises(UploadError, match=r"\.msg"):
            file_upload(ka, s, people.viewer("owner"), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "x.msg",
                        contact=contact, company=None)


def test_header_injection_and_paths_are_harmless(ka: Any, people: Any) -> None:
    raw = (b"From: a@b.example\r\nSubject: =?utf-8?b?" + __import__("base64").b64encode(b"x\r\nBcc: evil@x")
           + b"?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Disposition: attachment; filename=\"../../../etc/passwd\"\r\n\r\nroot\r\n--b--\r\n")
    mail = parse_bytes(raw)
    assert "\n" not in mail.subject and "\r" not in mail.subject
    with ka.db.write() as s:
        filed = filing.file_message(ka, s, people.viewer("admin"), raw)
        names = [a.filename for a in filed.documents[0].attachments]
    assert "passwd" in names and not any("/" in n for n in names)
