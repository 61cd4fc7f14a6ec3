"""Fetching mailboxes over IMAP (``imaplib``) and filing each message exactly once.

Exactly-once: a message is known by (mailbox, UIDVALIDITY, UID) — a unique key of
``comm_inbound_messages`` — and by its Message-ID. The row is written in the same transaction as
the documents filed from the message, so a fetcher killed at any moment (also ``kill -9``) leaves
each message either filed and recorded or untouched; the next run skips what is recorded and
files the rest. The after-import action (flag/move) runs only after that commit and is repeated
for recorded rows not yet ``handled``, so a crash in between never files a message twice.

A message over the mailbox's size limit is recorded as failed from its ``RFC822.SIZE`` without
being downloaded; a message that cannot be read is recorded as failed with the reason. Neither
stops the others.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ipaddress
import logging
import re
import ssl
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.formatting import format_decimal
from kundenakte.core.models import User
from kundenakte.core.storage import UploadTooLarge
from kundenakte.plugins.communication.inbound import filing
from kundenakte.plugins.communication.inbound.crypto import decrypt_password
from kundenakte.plugins.communication.inbound.models import InboundMessage, MailAccount
from kundenakte.plugins.communication.inbound.parse import BrokenMessage

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

log = logging.getLogger(__name__)

TIMEOUT = 30.0
FLAG_KEYWORD = "$Kundenakte"
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class FetchError(Exception):
    """The mailbox could not be read (connection, login, folder); German message."""


@dataclass
class FetchSummary:
    imported: int = 0
    duplicates: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"{self.imported} importiert, {self.duplicates} doppelt, {self.failed} fehlgeschlagen, "
                f"{self.skipped} bereits bekannt")
        return text + ("; " + "; ".join(self.errors) if self.errors else "")

    def add(self, other: FetchSummary) -> None:
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.failed += other.failed
        self.skipped += other.skipped
        self.errors += other.errors


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect(ka: Kundenakte, account: MailAccount) -> imaplib.IMAP4:
    """A logged-in IMAP connection; plain text only to a loopback host."""
    password = decrypt_password(ka, account.password_encrypted) if account.password_encrypted else ""
    try:
        if account.security == "tls":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(account.host, account.port, ssl_context=ssl.create_default_context(),
                                                    timeout=TIMEOUT)
        else:
            if account.security != "starttls" and not is_loopback(account.host):
                raise FetchError("Unverschlüsselte Verbindungen sind nur zu 127.0.0.1/localhost erlaubt.")
            conn = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT)
            if account.security == "starttls":
                conn.starttls(ssl_context=ssl.create_default_context())
        conn.login(account.username, password)
    except FetchError:
        raise
    except (OSError, ssl.SSLError) as exc:
        raise FetchError(f"Verbindung zu {account.host}:{account.port} fehlgeschlagen ({exc}).") from exc
    except imaplib.IMAP4.error as exc:
        raise FetchError(f"Anmeldung am Postfach fehlgeschlagen ({exc}).") from exc
    return conn


def importer_viewer(session: Session, account: MailAccount) -> acl.Viewer:
    """Who files a mailbox's messages: its owner (personal) or the admin who set it up (shared)."""
    user_id = account.owner_id if account.kind == "personal" else account.created_by
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise FetchError("Das Postfach hat keinen aktiven Benutzer, in dessen Namen abgelegt wird.")
    return acl.viewer_for(session, user)


def _select(conn: imaplib.IMAP4, folder: str) -> int:
    typ, _data = conn.select(_quote(folder))
    if typ != "OK":
        raise FetchError(f"Ordner „{folder}“ nicht gefunden.")
    _typ, values = conn.response("UIDVALIDITY")
    for value in values or []:
        if isinstance(value, bytes) and value.isdigit():
            return int(value)
    raise FetchError("Der Server nennt keine UIDVALIDITY.")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uids(conn: imaplib.IMAP4) -> list[int]:
    typ, data = conn.uid("SEARCH", "ALL")
    if typ != "OK":
        raise FetchError("Die Nachrichtenliste ist nicht lesbar.")
    return sorted(int(x) for x in b" ".join(d for d in data if isinstance(d, bytes)).split() if x.isdigit())


def _sizes(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), 200):
        chunk = ",".join(str(u) for u in uids[start:start + 200])
        typ, data = conn.uid("FETCH", chunk, "(RFC822.SIZE)")
        if typ != "OK":
            continue
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            match = _SIZE.search(line)
            if match:
                uid, size = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
                sizes[int(uid)] = int(size)
    return sizes


def _body(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _after_import(conn: imaplib.IMAP4, account: MailAccount, uids: list[int]) -> list[int]:
    """Flag or move what has been recorded; the uids actually handled."""
    if not uids or account.after_import == "leave":
        return uids
    done: list[int] = []
    for start in range(0, len(uids), 200):
        chunk_uids = uids[start:start + 200]
        chunk = ",".join(str(u) for u in chunk_uids)
        if account.after_import == "move" and account.move_folder:
            _typ, caps = conn.capability()  # the greeting's list predates the login
            if b"MOVE" in b" ".join(c for c in caps if isinstance(c, bytes)).upper().split():
                typ, _ = conn.uid("MOVE", chunk, _quote(account.move_folder))
            else:
                typ, _ = conn.uid("COPY", chunk, _quote(account.move_folder))
                if typ == "OK":
                    conn.uid("STORE", chunk, "+FLAGS.SILENT", "(\\Deleted)")
                    conn.expunge()
        else:
            typ, _ = conn.uid("STORE", chunk, "+FLAGS.SILENT", f"(\\Seen {FLAG_KEYWORD})")
        if typ == "OK":
            done += chunk_uids
    return done


def _file_one(ka: Kundenakte, account: MailAccount, uidvalidity: int, uid: int, size: int, raw: bytes | None,
              reason: str, summary: FetchSummary) -> None:
    """File one message and record it, in one transaction."""
    try:
        with ka.db.write() as session:
            exists = session.scalar(select(InboundMessage.id).where(
                InboundMessage.account_id == account.id, InboundMessage.uidvalidity == uidvalidity,
                InboundMessage.uid == uid))
            if exists is not None:  # another fetcher was faster
                summary.skipped += 1
                return
            if raw is None:
                filing.record(session, None, account_id=account.id, uidvalidity=uidvalidity, uid=uid, size=size,
                              reason=reason)
                summary.failed += 1
                return
            viewer = importer_viewer(session, account)
            try:
                with session.begin_nested():
                    filed = filing.file_message(
                        ka, session, viewer, raw, readers=list(account.readers or []),
                        editors=list(account.editors or []),
                        source={"account_id": account.id, "uidvalidity": uidvalidity, "uid": uid},
                    )
            except (BrokenMessage, ValidationError, UploadTooLarge) as exc:
                text = str(exc) if not isinstance(exc, ValidationError) else "; ".join(
                    f"{k}: {v}" for k, v in exc.errors.items())
                session.info.pop("kundenakte_events", None)
                filing.record(session, None, account_id=account.id, uidvalidity=uidvalidity, uid=uid, size=size,
                              reason=text)
                summary.failed += 1
                return
            filing.record(session, filed, account_id=account.id, uidvalidity=uidvalidity, uid=uid, size=size)
            if filed.duplicate_of is not None:
                summary.duplicates += 1
            else:
                summary.imported += 1
    except IntegrityError:
        summary.skipped += 1  # the unique key: recorded by a concurrent run


def fetch_account(ka: Kundenakte, account_id: int, *, limit: int | None = None) -> FetchSummary:
    """Fetch one mailbox: file every message not yet recorded, then flag/move what is recorded."""
    summary = FetchSummary()
    with ka.db.read() as session:
        account = session.get(MailAccount, account_id)
        if account is None:
            raise FetchError("Unbekanntes Postfach.")
        session.expunge(account)
    conn = connect(ka, account)
    try:
        uidvalidity = _select(conn, account.folder)
        uids = _uids(conn)
        with ka.db.read() as session:
            rows = session.execute(select(InboundMessage.uid, InboundMessage.handled).where(
                InboundMessage.account_id == account.id, InboundMessage.uidvalidity == uidvalidity)).all()
        known = {int(u) for u, _h in rows}
        unhandled = [int(u) for u, h in rows if not h and int(u) in set(uids)]
        pending = [u for u in uids if u not in known]
        summary.skipped += len(uids) - len(pending)
        if limit is not None:
            pending = pending[:limit]
        sizes = _sizes(conn, pending)
        limit_bytes = max(1, account.max_size_mb) * 1024 * 1024
        for start in range(0, len(pending), 20):
            batch = pending[start:start + 20]
            for uid in batch:
                size = sizes.get(uid, 0)
                raw: bytes | None = None
                reason = ""
                if size > limit_bytes:
                    megabytes = format_decimal(Decimal(size) / 1024 / 1024, "de", places=1)
                    reason = (f"Die Nachricht ist {megabytes} MB groß; das Postfach nimmt höchstens "
                              f"{account.max_size_mb} MB an.")
                else:
                    raw = _body(conn, uid)
                    if raw is None:
                        reason = "Die Nachricht konnte nicht abgerufen werden."
                try:
                    _file_one(ka, account, uidvalidity, uid, size, raw, reason, summary)
                except FetchError:
                    raise
                except Exception as exc:  # noqa: BLE001 - one message never stops the others
                    log.exception("filing message %s of mailbox %s failed", uid, account.id)
                    _file_one(ka, account, uidvalidity, uid, size, None,
                              f"Unerwarteter Fehler beim Ablegen ({type(exc).__name__}).", summary)
            unhandled += batch
            _mark_handled(ka, account.id, uidvalidity, _after_import(conn, account, batch))
            unhandled = [u for u in unhandled if u not in batch]
        if unhandled:
            _mark_handled(ka, account.id, uidvalidity, _after_import(conn, account, unhandled))
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    with ka.db.write() as session:
        session.execute(update(MailAccount).where(MailAccount.id == account.id).values(
            last_fetch_at=ka.clock.now(), last_error="; ".join(summary.errors)[:2000]))
    return summary


def _mark_handled(ka: Kundenakte, account_id: int, uidvalidity: int, uids: list[int]) -> None:
    if not uids:
        return
    with ka.db.write() as session:
        for start in range(0, len(uids), 500):
            session.execute(update(InboundMessage).where(
                InboundMessage.account_id == account_id, InboundMessage.uidvalidity == uidvalidity,
                InboundMessage.uid.in_(uids[start:start + 500])).values(handled=True))


def due_accounts(ka: Kundenakte, now: dt.datetime) -> list[int]:
    with ka.db.read() as session:
        rows = session.execute(select(MailAccount.id, MailAccount.last_fetch_at, MailAccount.poll_minutes).where(
            MailAccount.active.is_(True)).order_by(MailAccount.id)).all()
    return [int(i) for i, last, minutes in rows
            if minutes > 0 and (last is None or last + dt.timedelta(minutes=minutes) <= now)]


def claim(ka: Kundenakte, account_id: int, now: dt.datetime) -> bool:
    """Take a due mailbox for this process (one web worker of many fetches it)."""
    with ka.db.write() as session:
        account = session.get(MailAccount, account_id)
        if account is None:
            return False
        last = account.last_fetch_at
        if last is not None and last + dt.timedelta(minutes=account.poll_minutes) > now:
            return False
        result = session.execute(update(MailAccount).where(
            MailAccount.id == account_id,
            MailAccount.last_fetch_at.is_(None) if last is None else MailAccount.last_fetch_at == last,
        ).values(last_fetch_at=now))
        return bool(getattr(result, "rowcount", 0))


def fetch_all(ka: Kundenakte, *, account_ids: list[int] | None = None, limit: int | None = None) -> FetchSummary:
    """Every active mailbox (or the given ones); a failing mailbox is reported, the rest still run."""
    summary = FetchSummary()
    if account_ids is None:
        with ka.db.read() as session:
            account_ids = list(session.scalars(select(MailAccount.id).where(MailAccount.active.is_(True))
                                               .order_by(MailAccount.id)))
    for account_id in account_ids:
        try:
            summary.add(fetch_account(ka, account_id, limit=limit))
        except FetchError as exc:
            summary.errors.append(f"Postfach {account_id}: {exc}")
            with ka.db.write() as session:
                session.execute(update(MailAccount).where(MailAccount.id == account_id).values(
                    last_error=str(exc)[:2000], last_fetch_at=ka.clock.now()))
    return summary
