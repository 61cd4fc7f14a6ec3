"""Fetching from a real Dovecot: every kind of message, size limit, malformed, exactly-once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kundenakte.core.models import Attachment, Company, Contact, Document, User
from kundenakte.plugins.communication.inbound import accounts
from kundenakte.plugins.communication.inbound.fetch import fetch_account
from kundenakte.plugins.communication.inbound.models import InboundMessage, MailAccount
from tests.inbound import messages


def make_account(ka: Any, dovecot: Any, people: Any, **values: Any) -> int:
    with ka.db.write() as s:
        admin = people.viewer("admin")
        data = {"name": "Ablage", "kind": "shared", "host": dovecot.host, "port": str(dovecot.port),
                "security": "plain", "username": "ablage", "password": "ablage-pw", "folder": "INBOX",
                "after_import": "flag", "poll_minutes": "5", "max_size_mb": "20", "readers": [], "editors": [],
                "address": "ablage@firma.example", "active": True}
        data.update(values)
        return accounts.save_account(ka, s, admin, data).id


@pytest.fixture
def customer(ka: Any) -> dict[str, int]:
    with ka.db.write() as s:
        company = Company(name="Kunde GmbH", email="info@kunde.example")
        s.add(company)
        s.flush()
        contact = Contact(first_name="Max", last_name="Kunde", email="Max@Kunde.example", company_id=company.id)
        s.add(contact)
        s.flush()
        return {"company": company.id, "contact": contact.id}


def documents(ka: Any) -> list[Document]:
    with ka.db.read() as s:
        docs = list(s.scalars(select(Document).where(Document.type_key == "email").order_by(Document.id)))
        for d in docs:
            _ = d.attachments
        s.expunge_all()
        return docs


def test_plain_mail_filed_at_contact(ka: Any, people: Any, dovecot: Any, customer: dict[str, int]) -> None:
    account_id = make_account(ka, dovecot, people)
    dovecot.append(messages.plain())
    summary = fetch_account(ka, account_id)
    assert (summary.imported, summary.failed) == (1, 0), summary
    [doc] = documents(ka)
    assert doc.contact_id == customer["contact"] and doc.company_id == customer["company"]
    assert doc.data["direction"] == "in" and doc.status == "received"
    assert doc.title == "Anfrage Angebot"
    assert "bitte ein Angebot" in doc.content
    assert [a.filename for a in doc.attachments] == ["Anfrage Angebot.eml"]
    # After import the message is flagged as seen, and a second fetch imports nothing.
    assert dovecot.uids(criteria="UNSEEN") == []
    again = fetch_account(ka, account_id)
    assert (again.imported, again.skipped) == (0, 1)
    assert len(documents(ka)) == 1
