"""The outbox against a real SMTP server (aiosmtpd): at most once, retries, failures, uncertainty."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import DocumentInput, Forbidden, NotFound, ReadOnly, update_document
from kundenakte.core.models import AuditEntry, Document, DocumentAcl, User
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.models import OutboxEntry
from kundenakte.plugins.communication.outbox import deliver_queued, queue_email
from kundenakte.plugins.communication.settings import outbox_dir, settings_of
from tests.communication.test_templates import make_contacts, save

NOW = dt.datetime(2026, 11, 27, 10, 0, 0)


def configure(ka, host: str | None = None, port: int = 25) -> None:  # type: ignore[no-untyped-def]
    settings_of(ka).smtp_host = host or ""
    settings_of(ka).smtp_port = port
    settings_of(ka).smtp_security = "none"
    settings_of(ka).mail_from = "crm@kanzlei.example"
    ka.clock.set(NOW)


def draft(ka, people, shared_pdf: Path | None = None, who: str = "frau") -> int:  # type: ignore[no-untyped-def]
    ids = make_contacts(ka)
    with ka.db.write() as s:
        s.get(User, people.users["owner"]).signature = "Owner\nVertrieb"
    tid = save(ka, people)
    if shared_pdf is not None:
        with ka.db.write() as s:
            svc.add_template_file(ka, s, people.viewer("owner"), s.get(svc.CommTemplate, tid),
                                  (shared_pdf / "example.pdf").open("rb"), "Prospekt.pdf")
    with ka.db.write() as s:
        return svc.create_from_template(ka, s, people.viewer("owner"), tid, ids[who]).id


def queue(ka, people, doc_id: int) -> str:  # type: ignore[no-untyped-def]
    with ka.db.write() as s:
        return queue_email(ka, s, people.viewer("owner"), doc_id).message_id


def entry(ka, doc_id: int) -> OutboxEntry:  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        return s.scalar(select(OutboxEntry).where(OutboxEntry.document_id == doc_id))


def document(ka, doc_id: int) -> Document:  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        return s.get(Document, doc_id)


def actions(ka, doc_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "document",
                                                             AuditEntry.object_id == doc_id).order_by(AuditEntry.id)))


def test_delivered_once_with_everything(ka, people, smtp_server, handler_class, shared_pdf):  # type: ignore[no-untyped-def]
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    doc_id = draft(ka, people, shared_pdf)
    message_id = queue(ka, people, doc_id)
    queued = document(ka, doc_id)
    assert queued.status == "queued" and queued.data["_locked"] and queued.data["message_id"] == message_id
    with ka.db.write() as s, pytest.raises(ReadOnly):
        update_document(ka, s, people.viewer("owner"), doc_id, DocumentInput.from_mapping({"title": "x"}), expected_version=None)

    summary = deliver_queued(ka, now=NOW)
    assert summary.sent == [doc_id]
    assert len(handler.messages) == 1
    mail = handler.messages[0]
    assert mail.rcpt_tos == ["anna.mueller@example.de"]
    msg = email.message_from_bytes(mail.content, policy=policy.default)
    assert msg["Message-ID"] == message_id
    assert msg["Subject"] == "Informationen für Frau Dr. Müller"
    assert "anna.mueller@example.de" in msg["To"]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    for part in (html, text):
        assert "Sehr geehrte Frau Dr. Müller," in part
        assert "Informationen zu" in part
        assert "Mit freundlichen Grüßen" in part
        assert "Vertrieb" in part  # signature
        assert "PS: Besuchen Sie uns auf der Messe." in part
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "Prospekt.pdf"
    assert attachment.get_content() == (shared_pdf / "example.pdf").read_bytes()

    sent = document(ka, doc_id)
    assert sent.status == "sent" and sent.data["delivery_status"] == "sent" and sent.data["sent_at"]
    assert entry(ka, doc_id).state == "sent"
    assert "sent" in actions(ka, doc_id)
    assert not deliver_queued(ka, now=NOW + dt.timedelta(days=1)).sent
    assert len(handler.messages) == 1
    with ka.db.write() as s, pytest.raises(ReadOnly):
        queue_email(ka, s, people.viewer("owner"), doc_id)


def test_server_down_then_delivered_once(ka, people, smtp_server, handler_class, free_port):  # type: ignore[no-untyped-def]
    configure(ka, "127.0.0.1", free_port)
    doc_id = draft(ka, people)
    queue(ka, people, doc_id)
    summary = deliver_queued(ka, now=NOW)
    assert summary.retry == [doc_id]
    row = entry(ka, doc_id)
    assert row.state == "queued" and row.attempts == 1 and row.next_attempt_at > NOW and row.last_error
    assert document(ka, doc_id).status == "queued"
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    assert deliver_queued(ka, now=NOW).sent == []  # not due yet
    assert deliver_queued(ka, now=NOW + dt.timedelta(minutes=5)).sent == [doc_id]
    assert deliver_queued(ka, now=NOW + dt.timedelta(hours=5)).sent == []
    assert len(handler.messages) == 1
    assert entry(ka, doc_id).attempts == 2


def test_permanent_failure(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    handler = handler_class(rcpt_reply="550 5.1.1 Empfänger unbekannt")
    configure(ka, *smtp_server(handler))
    doc_id = draft(ka, people)
    queue(ka, people, doc_id)
    assert deliver_queued(ka, now=NOW).failed == [doc_id]
    row = entry(ka, doc_id)
    assert row.state == "failed" and "Empfänger unbekannt" in row.last_error
    doc = document(ka, doc_id)
    assert doc.status == "failed" and "Empfänger unbekannt" in doc.data["delivery_error"]
    assert "failed" in actions(ka, doc_id)
    assert deliver_queued(ka, now=NOW + dt.timedelta(days=1)).failed == []
    assert handler.messages == []


def test_dropped_after_data_is_uncertain_and_not_resent(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    handler = handler_class(drop_after_data=True)
    configure(ka, *smtp_server(handler))
    doc_id = draft(ka, people)
    queue(ka, people, doc_id)
    assert deliver_queued(ka, now=NOW).uncertain == [doc_id]
    assert entry(ka, doc_id).state == "uncertain" and document(ka, doc_id).status == "uncertain"
    handler.drop_after_data = False
    for hours in (1, 10, 100):
        deliver_queued(ka, now=NOW + dt.timedelta(hours=hours))
    assert len(handler.messages) == 1


def test_crash_while_sending_becomes_uncertain(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    doc_id = draft(ka, people)
    queue(ka, people, doc_id)
    with ka.db.write() as s:  # a run claimed the row, sent (maybe) and died before recording
        s.scalar(select(OutboxEntry).where(OutboxEntry.document_id == doc_id)).state = "sending"
    summary = deliver_queued(ka, now=NOW)
    assert summary.uncertain == [doc_id] and summary.sent == []
    assert entry(ka, doc_id).state == "uncertain" and document(ka, doc_id).status == "uncertain"
    deliver_queued(ka, now=NOW + dt.timedelta(days=1))
    assert handler.messages == []


def test_eml_without_smtp(ka, people, shared_pdf):  # type: ignore[no-untyped-def]
    configure(ka, None)
    doc_id = draft(ka, people, shared_pdf)
    message_id = queue(ka, people, doc_id)
    summary = deliver_queued(ka, now=NOW)
    # Written to a file is not sent: nobody received it, and the state says so.
    assert summary.filed == [doc_id] and summary.sent == []
    files = list(outbox_dir(ka).glob("*.eml"))
    assert [f.name for f in files] == [message_id.strip("<>") + ".eml"]
    msg = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["Message-ID"] == message_id
    assert next(msg.iter_attachments()).get_content() == (shared_pdf / "example.pdf").read_bytes()
    doc = document(ka, doc_id)
    assert doc.status == "filed" and doc.data["delivery_status"] == "filed" and "sent_at" not in doc.data
    assert entry(ka, doc_id).state == "filed" and entry(ka, doc_id).eml_path == str(files[0])
    assert not [p for p in outbox_dir(ka).iterdir() if p.name.startswith(".eml-")]


def test_queue_checks(ka, people):  # type: ignore[no-untyped-def]
    configure(ka, None)
    doc_id = draft(ka, people)
    with ka.db.write() as s, pytest.raises(NotFound):
        queue_email(ka, s, people.viewer("outsider"), doc_id)
    with ka.db.write() as s:
        s.add(DocumentAcl(document_id=doc_id, principal=f"u:{people.users['reader']}", role="read"))
    with ka.db.write() as s, pytest.raises(Forbidden):
        queue_email(ka, s, people.viewer("reader"), doc_id)
    with ka.db.write() as s:
        doc = s.get(Document, doc_id)
        doc.data = {**doc.data, "to_email": "kein-at-zeichen"}
    with ka.db.write() as s, pytest.raises(ValidationError) as exc:
        queue_email(ka, s, people.viewer("owner"), doc_id)
    assert "data.to_email" in exc.value.errors
    assert entry(ka, doc_id) is None and document(ka, doc_id).status == "draft"


def test_a_row_in_flight_elsewhere_is_not_taken_for_a_crash(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    """Cron's recovery must not mark a row uncertain while a live process (a web worker) sends it."""
    import os
    import socket

    from kundenakte.plugins.communication import outbox

    handler = handler_class()
    configure(ka, *smtp_server(handler))
    doc_id = draft(ka, people)
    queue(ka, people, doc_id)
    with ka.db.write() as s:
        row = s.scalar(select(OutboxEntry).where(OutboxEntry.document_id == doc_id))
        row.state, row.claimed_by, row.claimed_at = "sending", f"{socket.gethostname()}:{os.getpid()}", NOW
    assert deliver_queued(ka, now=NOW).uncertain == []  # this very process is alive: in flight
    assert entry(ka, doc_id).state == "sending" and handler.messages == []
    # another host's claim is trusted for STUCK_AFTER, then it counts as stuck
    with ka.db.write() as s:
        s.scalar(select(OutboxEntry).where(OutboxEntry.document_id == doc_id)).claimed_by = "elsewhere.example:4242"
    assert deliver_queued(ka, now=NOW + outbox.STUCK_AFTER / 2).uncertain == []
    assert deliver_queued(ka, now=NOW + outbox.STUCK_AFTER).uncertain == [doc_id]
    assert entry(ka, doc_id).state == "uncertain" and handler.messages == []


def test_a_row_whose_sender_died_is_uncertain_at_once(ka, people, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    import socket
    import subprocess
    import sys

    handler = handler_class()
    configure(ka, *smtp_server(handler))
    doc_id = draft(ka, people)
    queue(ka, people, doc_id)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    with ka.db.write() as s:
        row = s.scalar(select(OutboxEntry).where(OutboxEntry.document_id == doc_id))
        row.state, row.claimed_by, row.claimed_at = "sending", f"{socket.gethostname()}:{dead_pid}", NOW
    assert deliver_queued(ka, now=NOW).uncertain == [doc_id]
    assert handler.messages == []
