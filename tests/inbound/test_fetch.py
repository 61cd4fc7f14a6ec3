"""Fetching from a real Dovecot: every kind of message, size limit, malformed, exactly-once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kundenakte.core import services
from kundenakte.core.models import Attachment, Document, User
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
        company = services.create_company(s, {"name": "Kunde GmbH", "email": "info@kunde.example"}, by=None)
        contact = services.create_contact(s, {"first_name": "Max", "last_name": "Kunde", "email": "Max@Kunde.example",
                                              "company_id": company.id}, by=None)
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


def test_every_kind_of_message(ka: Any, people: Any, dovecot: Any, customer: dict[str, int], shared_pdf: Path) -> None:
    """HTML with inline images, PDF, umlauts in every header, Outlook, 25 MB and malformed in one batch."""
    pdf = (shared_pdf / "crazyones.pdf").read_bytes()
    account_id = make_account(ka, dovecot, people, max_size_mb="20")
    batch = [messages.html_inline(), messages.with_pdf(pdf), messages.umlauts(), messages.outlook(),
             messages.big(25), messages.malformed(), messages.plain(subject="Nach dem Kaputten")]
    dovecot.append_many(batch)
    summary = fetch_account(ka, account_id)
    assert (summary.imported, summary.failed) == (5, 2), summary
    with ka.db.read() as s:
        failed = {m.uid: m.reason for m in s.scalars(select(InboundMessage).where(InboundMessage.state == "failed"))}
    assert sorted(failed) == [5, 6]
    assert "34,2 MB groß" in failed[5] and "höchstens 20 MB" in failed[5]
    assert "Kopfzeilen" in failed[6]
    docs = {d.title: d for d in documents(ka)}

    html_doc = docs["Bilder im Text"]
    assert "<script" not in html_doc.content and "onclick" not in html_doc.content
    assert "tracker.example" not in html_doc.content.split('href="')[0]
    assert '<img src="https://tracker' not in html_doc.content and "[Externes Bild: Pixel]" in html_doc.content
    [inline] = [a for a in html_doc.attachments if a.inline]
    assert f'src="/dokumente/{html_doc.id}/anhang/{inline.id}"' in html_doc.content
    assert html_doc.data["remote_images"] == 1

    pdf_doc = docs["Rechnung anbei"]
    [pdf_att] = [a for a in pdf_doc.attachments if a.filename.endswith(".pdf")]
    assert pdf_att.filename == "Rechnung 2026-17.pdf" and pdf_att.mime_type == "application/pdf"
    assert pdf_att.size == len(pdf)

    umlaut_doc = docs["Größenänderung für Übergabe – Grüße aus Köln"]
    assert umlaut_doc.data["from_email"].startswith("Jürgen Müßig")
    assert "Zoë Weiß" in umlaut_doc.data["cc"] and "Ärger Öffentlich" in umlaut_doc.data["to_all"]
    assert "Schöne Grüße – äöüß ÄÖÜ €" in umlaut_doc.content
    assert "Prüfbericht Übergabe.txt" in [a.filename for a in umlaut_doc.attachments]
    assert umlaut_doc.contact_id is None and umlaut_doc.company_id == customer["company"]  # by domain

    outlook_doc = docs["MSG Test File"]
    assert "John Doe" in outlook_doc.content
    assert outlook_doc.data["direction"] == "in"
    assert "Nach dem Kaputten" in docs  # a broken message never stops the others
    every = [a.filename for d in docs.values() for a in d.attachments]
    assert sum(f.endswith(".eml") for f in every) == 5
    # Everything recorded is flagged on the server, the failed ones too (they are not retried).
    assert dovecot.uids(criteria="UNSEEN") == []


def test_size_limit_admits_25_mb_when_raised(ka: Any, people: Any, dovecot: Any, customer: dict[str, int]) -> None:
    account_id = make_account(ka, dovecot, people, max_size_mb="40")  # 25 MB are 34 MB in base64
    dovecot.append(messages.big(25))
    summary = fetch_account(ka, account_id)
    assert (summary.imported, summary.failed) == (1, 0), summary
    [doc] = documents(ka)
    sizes = sorted(a.size for a in doc.attachments)
    assert sizes[0] == 25 * 1024 * 1024  # the attachment; the larger one is the original .eml


def test_free_mail_and_internal_addresses_never_match(ka: Any, people: Any, dovecot: Any) -> None:
    with ka.db.write() as s:
        services.create_company(s, {"name": "Google", "email": "info@gmail.com"}, by=None)
        services.create_company(s, {"name": "Wir selbst", "email": "zentrale@example.org"}, by=None)  # the users' domain (people fixture)
    account_id = make_account(ka, dovecot, people)
    dovecot.append(messages.plain(sender="Privat <jemand@gmail.com>", to="owner@example.org"))
    fetch_account(ka, account_id)
    [doc] = documents(ka)
    assert (doc.contact_id, doc.company_id) == (None, None)  # → Posteingang


def test_mail_from_a_user_is_outgoing(ka: Any, people: Any, dovecot: Any, customer: dict[str, int]) -> None:
    """A BCC to the Ablage box of a mail a user wrote in their own client: ausgehend, at the recipient."""
    account_id = make_account(ka, dovecot, people)
    dovecot.append(messages.plain(sender="Owner <owner@example.org>", to="max@kunde.example"))
    fetch_account(ka, account_id)
    [doc] = documents(ka)
    assert doc.data["direction"] == "out" and doc.status == "sent"
    assert doc.contact_id == customer["contact"]


def test_several_matches_one_document_per_company(ka: Any, people: Any, dovecot: Any, customer: dict[str, int]) -> None:
    with ka.db.write() as s:
        other = services.create_company(s, {"name": "Andere AG", "email": "info@andere.example"}, by=None)
        other_id = other.id
    account_id = make_account(ka, dovecot, people)
    dovecot.append(messages.plain(to="max@kunde.example, einkauf@andere.example", sender="Owner <owner@example.org>"))
    fetch_account(ka, account_id)
    docs = documents(ka)
    assert [(d.contact_id, d.company_id) for d in docs] == [(customer["contact"], customer["company"]), (None, other_id)]
    assert docs[0].data["filed_with"] == [docs[1].id] and docs[1].data["filed_with"] == [docs[0].id]
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_same_message_id_in_two_mailboxes_is_filed_once(ka: Any, people: Any, dovecot: Any,
                                                        customer: dict[str, int]) -> None:
    shared = make_account(ka, dovecot, people)
    personal = make_account(ka, dovecot, people, name="Owner", kind="personal", owner_id=str(people.users["owner"]),
                            username="owner", password="owner-pw", address="owner@example.org")
    raw = messages.plain(message_id="<einmal@kunde.example>")
    dovecot.append(raw)
    dovecot.append(raw, user="owner")
    assert fetch_account(ka, shared).imported == 1
    again = fetch_account(ka, personal)
    assert (again.imported, again.duplicates) == (0, 1)
    assert len(documents(ka)) == 1


def test_personal_mailbox_is_private_until_filed(ka: Any, people: Any, dovecot: Any) -> None:
    personal = make_account(ka, dovecot, people, name="Owner", kind="personal", owner_id=str(people.users["owner"]),
                            username="owner", password="owner-pw", address="owner@example.org")
    dovecot.append(messages.plain(sender="Fremd <x@unbekannt.example>", to="owner@example.org"), user="owner")
    fetch_account(ka, personal)
    [doc] = documents(ka)
    from kundenakte.core import acl

    with ka.db.read() as s:
        assert acl.can_read(s, people.viewer("owner"), doc.id)
        assert not acl.can_read(s, people.viewer("reader"), doc.id)
        assert doc.author_id == people.users["owner"]


def test_shared_mailbox_default_acl(ka: Any, people: Any, dovecot: Any) -> None:
    group = f"g:{people.groups['Vertrieb']}"
    account_id = make_account(ka, dovecot, people, readers=[group])
    dovecot.append(messages.plain(sender="Fremd <x@unbekannt.example>"))
    fetch_account(ka, account_id)
    [doc] = documents(ka)
    from kundenakte.core import acl

    with ka.db.read() as s:
        assert acl.can_read(s, people.viewer("grouped"), doc.id)
        assert acl.can_read(s, people.viewer("nested"), doc.id)
        assert not acl.can_read(s, people.viewer("outsider"), doc.id)


def test_move_after_import(ka: Any, people: Any, dovecot: Any) -> None:
    dovecot.create_folder("Abgelegt")
    account_id = make_account(ka, dovecot, people, after_import="move", move_folder="Abgelegt")
    dovecot.append_many([messages.plain(), messages.plain(subject="Zwei")])
    assert fetch_account(ka, account_id).imported == 2
    assert dovecot.uids() == []
    assert len(dovecot.uids(folder="Abgelegt")) == 2
    with ka.db.read() as s:
        assert all(m.handled for m in s.scalars(select(InboundMessage)))


def test_wrong_password_is_reported(ka: Any, people: Any, dovecot: Any) -> None:
    from kundenakte.plugins.communication.inbound.fetch import fetch_all

    account_id = make_account(ka, dovecot, people, password="falsch")
    summary = fetch_all(ka)
    assert summary.errors and "Anmeldung" in summary.errors[0]
    with ka.db.read() as s:
        account = s.get(MailAccount, account_id)
        assert account is not None and "Anmeldung" in account.last_error
        assert "falsch" not in account.password_encrypted


def test_user_rows_untouched(ka: Any, people: Any) -> None:
    """The importer never writes users: internal addresses are only read."""
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(User)) == len(people.users)
    _ = Attachment


def test_background_loop_round_fetches_due_mailboxes_once(ka: Any, people: Any, dovecot: Any) -> None:
    """One round of the web workers' loop: a due mailbox is claimed and fetched; right after, it is not due."""
    from kundenakte.plugins.communication.inbound.loop import FetchLoop

    make_account(ka, dovecot, people, poll_minutes="5")
    make_account(ka, dovecot, people, name="Nur per Befehl", poll_minutes="0")
    dovecot.append(messages.plain())
    first = FetchLoop(ka).run_once()
    assert first is not None and first.imported == 1, first
    dovecot.append(messages.plain(subject="Später"))
    second = FetchLoop(ka).run_once()  # another worker, a moment later: the interval has not passed
    assert second is not None and (second.imported, second.skipped) == (0, 0), second
    assert [d.title for d in documents(ka)] == ["Anfrage Angebot"]
