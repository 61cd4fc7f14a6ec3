"""Filing one message as E-Mail document(s): who it belongs to, its thread, its files.

Rules (docs/inbound-mail.md):

* direction: ``out`` when the sender is an internal address (a user's, or a mailbox's own),
  otherwise ``in``;
* assignment: every external address (sender, then To, then Cc) that is a contact's e-mail address
  names that contact and its company; an address whose domain matches a company's e-mail address
  (or a contact's of that company) names the company, unless it is a free-mail domain
  (:data:`FREE_MAIL_DOMAINS`) or the domain of an internal address;
* several matches: one document per matched company (its first matched contact) and per matched
  contact without a company, at most :data:`MAX_COPIES`; each copy has exact ``contact_id``/
  ``company_id`` and the same ACL, so pages, counts and search stay what ``core.acl`` allows;
* a reply (In-Reply-To/References naming a mail sent from or filed in Kundenakte) gets that
  document as ``parent_id`` and, when no address matches, its contact and company;
* nothing matches: the document has no contact and no company and waits in the Posteingang.

Documents and attachments are written only through ``core.documents`` and ``core.attachments``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.attachments import add_attachment
from kundenakte.core.documents import DocumentInput, create_document, set_document_state, update_document
from kundenakte.core.models import Contact, ContactPoint, Document, User
from kundenakte.core.services import create_contact
from kundenakte.core.validation import is_email
from kundenakte.plugins.communication.inbound.models import InboundMessage, MailAccount
from kundenakte.plugins.communication.inbound.parse import Address, ParsedMail, parse_bytes, text_to_html
from kundenakte.plugins.communication.models import OutboxEntry

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

# Domains of mail providers many unrelated people share: never evidence for a company.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "web.de", "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "gmx.com", "gmx.li",
    "t-online.de", "magenta.de", "freenet.de", "arcor.de", "vodafone.de", "kabelmail.de", "online.de", "email.de",
    "mail.de", "1und1.de", "ionos.de", "outlook.com", "outlook.de", "hotmail.com", "hotmail.de", "live.com",
    "live.de", "msn.com", "yahoo.com", "yahoo.de", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "aol.de", "posteo.de", "posteo.net", "mailbox.org", "proton.me", "protonmail.com", "protonmail.ch",
    "tutanota.com", "tutanota.de", "tuta.io", "zoho.com", "yandex.com", "yandex.ru", "mail.ru", "gmx.fr",
})
MAX_COPIES = 10
MAX_TEXT_BODY = 200_000
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
CID_PREFIX = "/__cid__/"


@dataclass(frozen=True)
class Target:
    contact_id: int | None
    company_id: int | None
    how: str  # "contact", "domain", "thread", "upload", "none"


@dataclass
class Filed:
    mail: ParsedMail
    documents: list[Document]
    duplicate_of: int | None = None

    @property
    def first_id(self) -> int | None:
        return self.documents[0].id if self.documents else self.duplicate_of


def internal_addresses(session: Session) -> set[str]:
    """Users' and mailboxes' own addresses: never matched as customers."""
    users = {str(e).strip().lower() for e in session.scalars(select(User.email)) if e and "@" in e}
    boxes = {str(e).strip().lower() for e in session.scalars(select(MailAccount.address)) if e and "@" in e}
    return users | boxes


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_targets(session: Session, addresses: Sequence[str], internal: set[str]) -> list[Target]:
    """Contacts and companies named by the external addresses, in the order of the addresses."""
    internal_domains = {_domain(a) for a in internal}
    external = [a for a in dict.fromkeys(addresses) if a not in internal]
    if not external:
        return []
    # Every address of a contact counts, not only the preferred one (contact_points, indexed key).
    contacts = list(session.execute(
        select(Contact.id, Contact.company_id, ContactPoint.value_key)
        .join(ContactPoint, ContactPoint.contact_id == Contact.id)
        .where(ContactPoint.channel == "email", ContactPoint.value_key.in_([a.casefold() for a in external]))
        .order_by(Contact.id)
    ))
    by_address: dict[str, list[tuple[int, int | None]]] = {}
    for cid, company_id, address in contacts:
        by_address.setdefault(str(address), []).append((int(cid), company_id))
    targets: list[Target] = []
    seen_companies: set[int] = set()
    seen_contacts: set[int] = set()

    def add(target: Target) -> None:
        if target.company_id is not None:
            if target.company_id in seen_companies:
                return
            seen_companies.add(target.company_id)
        if target.contact_id is not None:
            if target.contact_id in seen_contacts:
                return
            seen_contacts.add(target.contact_id)
        targets.append(target)

    for address in external:
        for cid, company_id in by_address.get(address.casefold(), []):
            add(Target(cid, company_id, "contact"))
    for address in external:
        if by_address.get(address.casefold()):
            continue
        domain = _domain(address)
        if not domain or domain in FREE_MAIL_DOMAINS or domain in internal_domains:
            continue
        pattern = "%@" + _like_escape(domain)
        domain_points = (ContactPoint.channel == "email", ContactPoint.value_key.like(pattern, escape="\\"))
        company_ids = list(session.scalars(
            select(ContactPoint.company_id).where(*domain_points, ContactPoint.company_id.is_not(None))
            .order_by(ContactPoint.company_id)
        ))
        company_ids += list(session.scalars(
            select(Contact.company_id).join(ContactPoint, ContactPoint.contact_id == Contact.id)
            .where(*domain_points, Contact.company_id.is_not(None)).order_by(Contact.id)
        ))
        for company_id in dict.fromkeys(c for c in company_ids if c is not None):
            add(Target(None, int(company_id), "domain"))
    return targets[:MAX_COPIES]


def known_message_documents(session: Session, message_ids: Iterable[str]) -> dict[str, int]:
    """Message-ID → document for mails sent from Kundenakte or filed before."""
    ids = [m for m in dict.fromkeys(message_ids) if m]
    if not ids:
        return {}
    found: dict[str, int] = {}
    for mid, doc_id in session.execute(select(InboundMessage.message_id, InboundMessage.document_id).where(
            InboundMessage.message_id.in_(ids), InboundMessage.document_id.is_not(None),
            InboundMessage.state == "imported").order_by(InboundMessage.id)):
        if doc_id is not None:
            found.setdefault(str(mid), int(doc_id))
    # A sent mail wins over an earlier import of its copy.
    for mid, doc_id in session.execute(select(OutboxEntry.message_id, OutboxEntry.document_id).where(
            OutboxEntry.message_id.in_(ids))):
        found[str(mid)] = int(doc_id)
    return found


def find_parent(session: Session, viewer: acl.Viewer, mail: ParsedMail) -> Document | None:
    known = known_message_documents(session, mail.thread_ids)
    for mid in mail.thread_ids:
        doc_id = known.get(mid)
        if doc_id is not None and acl.can_read(session, viewer, doc_id):
            return session.get(Document, doc_id)
    return None


def _prepare_html(mail: ParsedMail) -> tuple[str, int, set[str]]:
    """The HTML body with remote images turned into links and cid: images marked; counts."""
    source = mail.html or text_to_html(mail.text)
    remote = 0
    cids: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        nonlocal remote
        tag = match.group(0)
        src_match = _SRC.search(tag)
        src = next((g for g in src_match.groups() if g is not None), "") if src_match else ""
        alt_match = _ALT.search(tag)
        alt = next((g for g in alt_match.groups() if g is not None), "") if alt_match else ""
        if src.lower().startswith("cid:"):
            cid = src[4:].strip("<>")
            cids.add(cid)
            return f'<img src="{CID_PREFIX}{_attr(cid)}" alt="{_attr(alt)}">'
        if src.lower().startswith(("http://", "https://", "//")):
            # Remote images are tracking pixels as often as content: never fetched by the page;
            # the user opens one by following the link.
            remote += 1
            label = alt or "Bild"
            return f'<a href="{_attr(src)}">[Externes Bild: {_text(label)}]</a>'
        return tag

    return _IMG_TAG.sub(replace, source), remote, cids


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _names(addresses: Sequence[Address]) -> str:
    return ", ".join(a.formatted() for a in addresses)[:2000]


def _document_date(mail: ParsedMail, ka: Kundenakte) -> dt.date:
    if mail.date is None:
        return ka.clock.today()
    if mail.date.tzinfo is not None:
        return mail.date.astimezone().date()
    return mail.date.date()


def _original_name(mail: ParsedMail, extension: str) -> str:
    stem = re.sub(r"\s+", " ", mail.subject).strip()[:80] or "E-Mail"
    return f"{stem}{extension}"


def file_message(
    ka: Kundenakte,
    session: Session,
    viewer: acl.Viewer,
    raw: bytes,
    *,
    readers: list[str] | None = None,
    editors: list[str] | None = None,
    target: Target | None = None,
    original: tuple[bytes, str] | None = None,
    source: dict[str, Any] | None = None,
) -> Filed:
    """Parse ``raw`` and file it; the caller records the InboundMessage row and commits.

    ``target`` files at one given contact/company (upload on its page); ``original`` is the file
    to keep when it is not ``raw`` itself (an Outlook .msg). Raises ``parse.BrokenMessage``,
    ``ValidationError`` and ``storage.UploadTooLarge``; nothing of the message stays then once the
    caller rolls back.
    """
    mail = parse_bytes(raw)
    known_self = known_message_documents(session, [mail.message_id])
    if mail.message_id and mail.message_id in known_self:
        # The same message again (another mailbox, a BCC copy of a mail sent from here, an upload).
        return Filed(mail, [], duplicate_of=known_self[mail.message_id])
    internal = internal_addresses(session)
    sender = mail.sender.email if mail.sender else ""
    direction = "out" if sender and sender in internal else "in"
    parent = find_parent(session, viewer, mail)
    if target is not None:
        targets = [target]
    else:
        addresses = ([sender] if sender else []) + [a.email for a in mail.to] + [a.email for a in mail.cc]
        targets = find_targets(session, addresses, internal)
        if not targets and parent is not None and (parent.contact_id or parent.company_id):
            targets = [Target(parent.contact_id, parent.company_id, "thread")]
        if not targets:
            targets = [Target(None, None, "none")]
    content, remote_images, cids = _prepare_html(mail)
    to_first = mail.to[0] if mail.to else None
    documents: list[Document] = []
    for t in targets:
        inp = DocumentInput(
            title=(mail.subject or "(ohne Betreff)")[:300],
            contact_id=t.contact_id, company_id=t.company_id,
            document_date=_document_date(mail, ka),
            content=content if not cids else "",
            data={"to_email": to_first.email if to_first else "", "to_name": (to_first.name if to_first else "")[:200],
                  "subject": mail.subject[:500]},
            readers=list(readers) if readers is not None else None,
            editors=list(editors) if editors is not None else None,
            parent_id=parent.id if parent is not None else None,
        )
        doc = create_document(ka, session, viewer, "email", inp)
        # The status and the plugin's computed fields are the plugin's own (status_managed, as the
        # outbox sets delivery data): the core's public state change, same transaction.
        set_document_state(ka, session, doc, status="received" if direction == "in" else "sent", by=viewer.user_id,
                           audit_action=None, data_changes={
            "direction": direction,
            "from_email": mail.sender.formatted() if mail.sender else "",
            "from_address": sender,
            "to_all": _names(mail.to),
            "cc": _names(mail.cc),
            "message_id": mail.message_id,
            "in_reply_to": mail.in_reply_to,
            "received_at": mail.date.isoformat() if mail.date else "",
            "text_body": mail.text[:MAX_TEXT_BODY],
            "remote_images": remote_images,
            "filed_by": t.how,
            "inbound": dict(source or {}),
        })
        inline_urls: dict[str, str] = {}
        for part in mail.parts:
            att = add_attachment(ka, session, viewer, doc, io.BytesIO(part.payload), part.filename,
                                 inline=bool(part.content_id and part.content_id in cids))
            if part.content_id and part.content_id in cids:
                inline_urls[part.content_id] = f"/dokumente/{doc.id}/anhang/{att.id}"
        if original is not None:
            add_attachment(ka, session, viewer, doc, io.BytesIO(original[0]), original[1])
        add_attachment(ka, session, viewer, doc, io.BytesIO(raw), _original_name(mail, ".eml"))
        if cids:
            rewritten = content
            for cid in cids:
                rewritten = rewritten.replace(f'src="{CID_PREFIX}{_attr(cid)}"', f'src="{inline_urls.get(cid, "")}"')
            update_document(ka, session, viewer, doc.id, DocumentInput(content=rewritten, given={"content"}),
                            expected_version=None)
        documents.append(doc)
    if len(documents) > 1:
        ids = [d.id for d in documents]
        for doc in documents:
            doc.data = {**(doc.data or {}), "filed_with": [i for i in ids if i != doc.id]}
    return Filed(mail, documents)


def record(
    session: Session,
    filed: Filed | None,
    *,
    account_id: int | None,
    uidvalidity: int = 0,
    uid: int = 0,
    size: int = 0,
    source: str = "imap",
    reason: str = "",
    message_id: str = "",
) -> InboundMessage:
    """The InboundMessage row of one message; in the filing transaction (exactly-once)."""
    if filed is None:
        state, doc_id = "failed", None
    elif filed.duplicate_of is not None:
        state, doc_id = "duplicate", filed.duplicate_of
    else:
        state, doc_id = "imported", filed.first_id
    row = InboundMessage(account_id=account_id, uidvalidity=uidvalidity, uid=uid,
                         message_id=(filed.mail.message_id if filed else message_id)[:998], state=state,
                         document_id=doc_id, reason=reason[:2000], size=size, source=source,
                         handled=False)
    session.add(row)
    session.flush()
    return row


def assign(ka: Kundenakte, session: Session, viewer: acl.Viewer, document_id: int, *, contact_id: int | None,
           company_id: int | None) -> Document:
    """Posteingang: file an unassigned mail at a contact or company (through update_document)."""
    return update_document(ka, session, viewer, document_id,
                           DocumentInput(contact_id=contact_id, company_id=company_id, given={"contact_id", "company_id"}),
                           expected_version=None)


def contact_from_sender(session: Session, viewer: acl.Viewer, doc: Document) -> Contact:
    """A new contact from an unassigned mail's sender (name split at the last space)."""
    data = doc.data or {}
    address = str(data.get("from_address") or "")
    display = str(data.get("from_email") or "")
    name = display.split("<", 1)[0].strip().strip('"') if "<" in display else ""
    first, _, last = name.rpartition(" ")
    if not last:
        last = address.split("@", 1)[0] or "Unbekannt"
    company_id = None
    domain = _domain(address) if "@" in address else ""
    if domain and domain not in FREE_MAIL_DOMAINS:
        pattern = "%@" + _like_escape(domain)
        company_id = session.scalar(select(ContactPoint.company_id).where(
            ContactPoint.channel == "email", ContactPoint.company_id.is_not(None),
            ContactPoint.value_key.like(pattern, escape="\\")).order_by(ContactPoint.company_id).limit(1))
    # Through the core's contact service (the one writer): its rules, its audit entry. A sender
    # address the service's e-mail rule refuses is left out rather than refusing the contact.
    values: dict[str, Any] = {"first_name": first[:120], "last_name": last[:120], "company_id": company_id}
    if is_email(address):
        values["email"] = address[:254]
    return create_contact(session, values, by=viewer.user_id, via="inbound_mail")
