"""The outbox: queueing e-mail documents and delivering them at most once.

Delivery protocol per row: claim it (state ``sending``, with the claiming process "host:pid" and the
time) and COMMIT, then send, then record the outcome in a new transaction. A row still ``sending``
whose claiming process has ended (or, on another host, whose claim is older than ``STUCK_AFTER``)
means a run died between sending and recording; it becomes ``uncertain`` and is never sent again
automatically. A row another live process is sending is left to that process.

Who delivers: "Senden" makes one immediate attempt; after a temporary failure the row stays
``queued`` until ``next_attempt_at`` (growing back-off). Every web process retries due rows by
itself every ``mail_retry_seconds`` (:mod:`.retry`), with ``recover=False`` like the immediate
attempt, so it never touches ``sending`` rows. ``kundenakte mail send-queued`` (cron) remains the
only run that turns stuck ``sending`` rows into ``uncertain``, and the way to deliver without a
web process.

Without an SMTP host the complete message is written to ``instance/outbox/*.eml`` and the row and
document become ``filed`` ("als Datei abgelegt"), never ``sent``. The outbox is the only writer of
an e-mail's status (``DocumentType.status_managed``); every outcome is audited as a German
sentence in the name of the user who pressed "Senden" (``_queued_by``).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from kundenakte.core import acl, audit
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import ReadOnly, after_commit, load_for_write, set_document_state
from kundenakte.core.html import sanitize_html
from kundenakte.core.models import Document, User
from kundenakte.plugins.communication.addresses import is_valid_email
from kundenakte.plugins.communication.composition import to_mail_html
from kundenakte.plugins.communication.mime import build_message, make_message_id, sanitize_header_text
from kundenakte.plugins.communication.models import OutboxEntry
from kundenakte.plugins.communication.settings import outbox_dir, settings_of
from kundenakte.plugins.communication.smtp import DeliveryOutcome, DeliveryStatus, SmtpConfig, deliver, retry_delay

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

QUEUEABLE = ("draft", "failed")


@dataclass
class DeliverySummary:
    sent: list[int] = field(default_factory=list)
    # No SMTP server configured: written to instance/outbox/*.eml, received by nobody.
    filed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{len(self.sent)} versendet, {len(self.filed)} als Datei abgelegt, {len(self.retry)} später erneut, "
                f"{len(self.failed)} fehlgeschlagen, {len(self.uncertain)} unklar")


# Who pressed "Senden": the outbox records every later outcome (sent, failed …) in their name,
# also when the retry loop or cron delivers it.
QUEUED_BY = "_queued_by"


def sending_configured(ka: Kundenakte) -> bool:
    """Whether e-mails really leave the house; without an SMTP host they are only filed as .eml."""
    return bool(settings_of(ka).smtp_host)


def _domain(ka: Kundenakte) -> str:
    sender = settings_of(ka).mail_from or ""
    domain = sender.rpartition("@")[2].strip(" >")
    return domain or "kundenakte.localhost"


def _set_doc(ka: Kundenakte, session: Session, doc: Document, status: str, user_id: int | None, **data: Any) -> None:
    # The core's public state change (index, document_saved); the callers write their specific audit entries.
    set_document_state(ka, session, doc, status=status, data_changes=data, by=user_id, audit_action=None)


def queue_email(ka: Kundenakte, session: Session, viewer: acl.Viewer, document_id: int) -> OutboxEntry:
    """Queue an e-mail document for delivery; same transaction marks it queued and read-only."""
    # A failed mail is unlocked again for a new attempt, so the read-only rule is checked below.
    doc = load_for_write(session, viewer, document_id, check_read_only=False)
    if doc.type_key != "email":
        raise ValidationError({"type_key": "Nur E-Mails können versendet werden."})
    if doc.archived_at is not None:
        raise ReadOnly("Archivierte Dokumente können nicht versendet werden.")
    if doc.status not in QUEUEABLE:
        raise ReadOnly("Die E-Mail ist bereits versendet oder in der Warteschlange.")
    data = doc.data or {}
    to_email = str(data.get("to_email") or "").strip()
    if not to_email:
        raise ValidationError({"data.to_email": "Bitte eine Empfängeradresse angeben."})
    if not is_valid_email(to_email):
        raise ValidationError({"data.to_email": f"Die Empfängeradresse „{to_email}“ ist ungültig."})
    if not str(data.get("subject") or "").strip():
        raise ValidationError({"data.subject": "Bitte einen Betreff angeben."})
    now = ka.clock.now()
    entry = OutboxEntry(document_id=doc.id, message_id=make_message_id(_domain(ka)), state="queued", attempts=0,
                        next_attempt_at=now, last_error="", created_at=now, eml_path="")
    session.add(entry)
    _set_doc(ka, session, doc, "queued", viewer.user_id, delivery_status="queued", message_id=entry.message_id,
             delivery_error=None, _locked=True, **{QUEUED_BY: viewer.user_id})
    session.flush()
    audit.record(session, viewer.user_id, "queued", "document", doc.id, message_id=entry.message_id,
                 text=f"E-Mail an {to_email} zum Versand gegeben")
    return entry


def _actor(doc: Document | None) -> int | None:
    value = (doc.data or {}).get(QUEUED_BY) if doc is not None else None
    return value if isinstance(value, int) else None


def _recipient(doc: Document) -> str:
    return str((doc.data or {}).get("to_email") or "")


def smtp_config(ka: Kundenakte) -> SmtpConfig | None:
    s = settings_of(ka)
    if not s.smtp_host:
        return None
    return SmtpConfig(host=s.smtp_host, port=int(s.smtp_port), security=s.smtp_security,
                      username=s.smtp_username, password=s.smtp_password, timeout=20.0,
                      local_hostname=helo_hostname(ka))


def helo_hostname(ka: Kundenakte) -> str:
    """The name this instance greets mail servers with (EHLO/HELO).

    The ``helo_hostname`` setting, else the domain of ``mail_from``; "localhost" only as the last
    resort, because many servers score a "localhost" greeting as spam. Not looked up in DNS
    (``getfqdn`` can stall for seconds on hosts with broken reverse DNS).
    """
    configured = str(settings_of(ka).helo_hostname or "").strip()
    if configured:
        return configured if configured.isascii() else configured.encode("idna").decode("ascii")
    domain = _domain(ka)
    if domain == "kundenakte.localhost":
        return "localhost"
    return domain if domain.isascii() else domain.encode("idna").decode("ascii")


def sender_display_name(ka: Kundenakte, data: dict[str, Any], author_name: str) -> str:
    """The From display name: the organisation for sender format "Firma" when one is configured,
    otherwise (and as the fallback) the writing user's name."""
    if data.get("sender_format") == "company":
        organisation = sanitize_header_text(settings_of(ka).organisation_name)
        if organisation:
            return organisation
    return author_name


def build_for(ka: Kundenakte, session: Session, doc: Document, message_id: str, now: dt.datetime) -> Any:
    data = doc.data or {}
    author = session.get(User, doc.author_id) if doc.author_id else None
    author_name = author.display_name if author else ""
    author_email = author.email if author else ""
    sender_email = settings_of(ka).mail_from or author_email
    if not sender_email:
        raise ValueError("Es ist kein Absender konfiguriert (mail_from).")
    sender_name = sender_display_name(ka, data, author_name)
    # Answers reach the writing user whenever the From address is not theirs.
    reply_to = author_email if author_email and author_email != sender_email else None
    reply_to_name = author_name if reply_to else None
    # Sanitised again on the way out: content saved before a sanitiser rule existed (or written
    # around the core) must not carry off-origin or data: links into the recipient's mail client.
    # The editor's lines become paragraphs and lists (composition.py), for HTML and text alike.
    html_body = to_mail_html(sanitize_html(doc.content or ""))
    appendix = to_mail_html(sanitize_html(str(data.get("appendix") or "")))
    if appendix.strip():
        html_body += f'<hr><div class="appendix">{appendix}</div>'
    files = []
    for att in doc.attachments:
        if att.inline:
            continue
        with ka.storage.open(att.sha256) as fh:
            files.append((att.filename, att.mime_type, fh.read()))
    return build_message(
        sender_name=sender_name, sender_email=sender_email, to_name=str(data.get("to_name") or ""),
        to_email=str(data.get("to_email") or ""), subject=str(data.get("subject") or ""), html_body=html_body,
        attachments=files, message_id=message_id, date=now.replace(tzinfo=dt.UTC), reply_to=reply_to,
        reply_to_name=reply_to_name,
    )


def _write_eml(ka: Kundenakte, message: Any, message_id: str) -> Path:
    folder = outbox_dir(ka)
    folder.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() or c in "-._@" else "_" for c in message_id.strip("<>")) + ".eml"
    target = folder / name
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".eml-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(message.as_bytes())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


# A claim older than this is stuck even if its owner cannot be checked (another host): one message
# takes at most the SMTP timeout (20 s) plus writing its outcome.
STUCK_AFTER = dt.timedelta(minutes=10)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(claimed_by: str) -> bool | None:
    """Whether the claiming process has ended: True/False on this host, None when it cannot tell."""
    host, _, pid = claimed_by.rpartition(":")
    if not pid.isdigit() or host != socket.gethostname():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


def _is_stuck(entry: OutboxEntry, now: dt.datetime) -> bool:
    if not entry.claimed_by or entry.claimed_at is None:
        return True  # claimed before claims were recorded: nothing to wait for
    gone = _owner_gone(entry.claimed_by)
    if gone is not None:
        return gone
    return entry.claimed_at <= now - STUCK_AFTER


def _recover_stuck(ka: Kundenakte, now: dt.datetime) -> list[int]:
    """Rows left in ``sending`` by a run that died: the server may have the message; never resend.

    A row whose sender still runs (the web's retry loop or "Senden" in another process, a second
    cron run) is in flight, not stuck, and is left alone.
    """
    found: list[int] = []
    with ka.db.write() as session:
        for entry in session.scalars(select(OutboxEntry).where(OutboxEntry.state == "sending")):
            if not _is_stuck(entry, now):
                continue
            entry.state = "uncertain"
            entry.last_error = ("Der Versand wurde unterbrochen; ob der Mailserver die Nachricht angenommen hat, "
                                "ist unklar. Sie wird nicht automatisch erneut gesendet.")
            doc = session.get(Document, entry.document_id)
            if doc is not None:
                _set_doc(ka, session, doc, "uncertain", None, delivery_status="uncertain", delivery_error=entry.last_error)
                audit.record(session, None, "uncertain", "document", doc.id, message_id=entry.message_id,
                             text="Versand unterbrochen; ob die E-Mail angekommen ist, ist unklar")
            found.append(entry.document_id)
    return found


def _claim(ka: Kundenakte, entry_id: int, now: dt.datetime | None = None) -> bool:
    with ka.db.write() as session:
        result = session.execute(
            update(OutboxEntry).where(OutboxEntry.id == entry_id, OutboxEntry.state == "queued")
            .values(state="sending", attempts=OutboxEntry.attempts + 1, claimed_by=_owner(),
                    claimed_at=now or ka.clock.now())
        )
        # An UPDATE answers with a CursorResult (the generic Result type has no rowcount).
        assert isinstance(result, CursorResult)
        return result.rowcount == 1


FILED_NOTE = ("Es ist kein Mailserver eingerichtet: Die E-Mail wurde nicht versendet, sondern nur als Datei "
              "im Ausgangsordner der Instanz abgelegt.")


def _record(ka: Kundenakte, entry_id: int, outcome: DeliveryOutcome, now: dt.datetime, eml: str = "") -> str:
    with ka.db.write() as session:
        entry = session.get(OutboxEntry, entry_id)
        assert entry is not None
        doc = session.get(Document, entry.document_id)
        actor = _actor(doc)
        status = outcome.status
        if status is DeliveryStatus.SENT and eml:
            # Complete, but nobody received it: never reported as "versendet".
            entry.state, entry.sent_at, entry.last_error, entry.eml_path = "filed", now, "", eml
            if doc is not None:
                _set_doc(ka, session, doc, "filed", actor, delivery_status="filed", delivery_error=FILED_NOTE,
                         _locked=True)
                audit.record(session, actor, "filed", "document", doc.id, message_id=entry.message_id, eml=eml,
                             text=f"E-Mail an {_recipient(doc)} nicht versendet, als Datei abgelegt "
                                  "(kein Mailserver eingerichtet)")
                after_commit(ka, session, "communication_mail_sent", document_id=doc.id, message_id=entry.message_id)
            return "filed"
        if status is DeliveryStatus.SENT:
            entry.state, entry.sent_at, entry.last_error, entry.eml_path = "sent", now, "", eml
            if doc is not None:
                _set_doc(ka, session, doc, "sent", actor, delivery_status="sent", sent_at=now.isoformat(timespec="seconds"),
                         delivery_error=None, _locked=True)
                audit.record(session, actor, "sent", "document", doc.id, message_id=entry.message_id,
                             text=f"E-Mail an {_recipient(doc)} versendet")
                after_commit(ka, session, "communication_mail_sent", document_id=doc.id, message_id=entry.message_id)
            return "sent"
        if status is DeliveryStatus.TEMPORARY_FAILURE:
            entry.state = "queued"
            entry.last_error = outcome.detail
            entry.next_attempt_at = now + retry_delay(entry.attempts)
            if doc is not None:
                _set_doc(ka, session, doc, "queued", actor, delivery_status="queued",
                         delivery_error=f"Wird erneut versucht: {outcome.detail}")
            return "retry"
        if status is DeliveryStatus.PERMANENT_FAILURE:
            entry.state, entry.last_error = "failed", outcome.detail
            if doc is not None:
                # Unlocked again so the user can correct the address and send anew.
                _set_doc(ka, session, doc, "failed", actor, delivery_status="failed",
                         delivery_error=f"Versand fehlgeschlagen: {outcome.detail}", _locked=None)
                audit.record(session, actor, "failed", "document", doc.id, message_id=entry.message_id,
                             error=outcome.detail, smtp_code=outcome.smtp_code,
                             text=f"Versand an {_recipient(doc)} fehlgeschlagen: {outcome.detail}")
            return "failed"
        entry.state, entry.last_error = "uncertain", outcome.detail
        if doc is not None:
            _set_doc(ka, session, doc, "uncertain", actor, delivery_status="uncertain",
                     delivery_error=f"Unklar, ob die Nachricht angekommen ist: {outcome.detail}")
            audit.record(session, actor, "uncertain", "document", doc.id, message_id=entry.message_id,
                         error=outcome.detail, text=f"Unklar, ob die E-Mail an {_recipient(doc)} angekommen ist")
        return "uncertain"


def deliver_one(ka: Kundenakte, entry_id: int, now: dt.datetime) -> str | None:
    """Claim, send and record one row; None when another run claimed it first."""
    if not _claim(ka, entry_id, now):
        return None
    eml = ""
    try:
        with ka.db.read() as session:
            entry = session.get(OutboxEntry, entry_id)
            doc = session.get(Document, entry.document_id) if entry is not None else None
            if entry is None or doc is None:
                outcome = DeliveryOutcome(DeliveryStatus.PERMANENT_FAILURE, "Das Dokument existiert nicht mehr.")
                message = None
            else:
                message_id = entry.message_id
                message = build_for(ka, session, doc, message_id, now)
                outcome = None
        if message is not None:
            config = smtp_config(ka)
            if config is None:
                # _record turns a SENT outcome with an .eml path into "filed", never "sent".
                eml = str(_write_eml(ka, message, message_id))
                outcome = DeliveryOutcome(DeliveryStatus.SENT, "als .eml-Datei abgelegt")
            else:
                outcome = deliver(message, config)
    except (ValueError, FileNotFoundError) as exc:
        # Nothing was handed to a server: invalid addresses or a missing attachment blob.
        outcome = DeliveryOutcome(DeliveryStatus.PERMANENT_FAILURE, str(exc))
    assert outcome is not None
    return _record(ka, entry_id, outcome, now, eml)


def deliver_queued(ka: Kundenakte, *, now: dt.datetime | None = None, limit: int = 50,
                   document_id: int | None = None, recover: bool = True) -> DeliverySummary:
    """Deliver due rows; ``recover=False`` (the web's immediate attempt and retry loop) leaves ``sending``
    rows to the cron command, so an in-flight send of a concurrent run is not mistaken for a crash."""
    summary = DeliverySummary()
    now = now or ka.clock.now()
    if recover:
        summary.uncertain.extend(_recover_stuck(ka, now))
    with ka.db.read() as session:
        query = (select(OutboxEntry.id, OutboxEntry.document_id)
                 .where(OutboxEntry.state == "queued",
                        (OutboxEntry.next_attempt_at.is_(None)) | (OutboxEntry.next_attempt_at <= now))
                 .order_by(OutboxEntry.next_attempt_at, OutboxEntry.id).limit(limit))
        if document_id is not None:
            query = query.where(OutboxEntry.document_id == document_id)
        due = list(session.execute(query))
    for entry_id, doc_id in due:
        result = deliver_one(ka, entry_id, now)
        if result is not None:
            getattr(summary, result).append(doc_id)
    return summary


def outbox_entry_for(session: Session, document_id: int) -> OutboxEntry | None:
    return session.scalar(select(OutboxEntry).where(OutboxEntry.document_id == document_id)
                          .order_by(OutboxEntry.id.desc()).limit(1))
