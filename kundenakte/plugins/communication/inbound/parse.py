"""Reading a message (RFC 5322 bytes or an Outlook .msg) into plain values for filing.

Only the standard library's ``email`` package (policy ``default``: RFC 2047 words, RFC 2231
file names and charsets decoded) and, for .msg, ``extract-msg`` read the bytes. Nothing in a
message is executed or used as a path: file names go through ``core.attachments.clean_filename``
when they are stored.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

# Headers whose absence together means the bytes are not a mail at all.
_KEY_HEADERS = ("from", "to", "subject", "date", "message-id")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:", re.MULTILINE)


class BrokenMessage(ValueError):
    """The bytes cannot be read as an e-mail; the message carries the German reason."""


@dataclass(frozen=True)
class Address:
    name: str
    email: str

    def formatted(self) -> str:
        # For display (decoded), not for a header.
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass
class Part:
    filename: str
    content_type: str
    payload: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str = ""
    subject: str = ""
    sender: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    date: dt.datetime | None = None
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    html: str = ""
    text: str = ""
    parts: list[Part] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers, nearest first."""
        ids = ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references))
        return list(dict.fromkeys(i for i in ids if i))


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header the policy cannot parse is read as absent
        return ""
    if value is None:
        return ""
    text = str(value)
    # Folded or hostile headers: one line, no control characters, bounded.
    return " ".join("".join(c for c in text if c >= " " or c == "\t").split())[:2000]


def _addresses(msg: Message, name: str) -> list[Address]:
    try:
        values = [str(v) for v in msg.get_all(name, [])]
    except Exception:  # noqa: BLE001
        return []
    out = []
    for display, addr in email.utils.getaddresses(values):
        addr = addr.strip().lower()
        if "@" in addr and len(addr) <= 254:
            out.append(Address(" ".join(display.split())[:200], addr))
    return out


def _msg_ids(text: str) -> list[str]:
    return re.findall(r"<[^<>\s]{1,900}>", text)


def _text_of(part: Message) -> str:
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else None
        if isinstance(content, str):
            return content
    except (LookupError, ValueError, AssertionError):
        pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _walk(part: Message, mail: ParsedMail) -> None:
    ctype = part.get_content_type()
    if part.is_multipart():
        children = part.get_payload()
        if isinstance(children, list):
            for child in children:
                if isinstance(child, Message):
                    _walk(child, mail)
        return
    disposition = part.get_content_disposition()
    filename = part.get_filename() or ""
    if ctype == "message/rfc822" or (ctype.startswith("message/") and filename):
        inner = part.get_payload()
        payload = inner[0].as_bytes() if isinstance(inner, list) and inner and isinstance(inner[0], Message) else b""
        mail.parts.append(Part(filename or "nachricht.eml", "message/rfc822", payload))
        return
    if not filename and disposition != "attachment" and ctype in ("text/plain", "text/html"):
        if ctype == "text/html" and not mail.html:
            mail.html = _text_of(part)
            return
        if ctype == "text/plain" and not mail.text:
            mail.text = _text_of(part)
            return
    decoded = part.get_payload(decode=True)
    payload = decoded if isinstance(decoded, bytes) else b""
    cid = _header(part, "content-id").strip().strip("<>")
    if not filename:
        extension = {"text/plain": ".txt", "text/html": ".html", "image/png": ".png", "image/jpeg": ".jpg",
                     "image/gif": ".gif", "application/pdf": ".pdf"}.get(ctype, ".bin")
        filename = f"{'bild' if ctype.startswith('image/') else 'anhang'}-{len(mail.parts) + 1}{extension}"
    mail.parts.append(Part(filename, ctype, payload, cid, inline=bool(cid) and disposition != "attachment"))


def parse_bytes(raw: bytes) -> ParsedMail:
    """The message's values; BrokenMessage when the bytes are no e-mail at all."""
    if not raw.strip():
        raise BrokenMessage("Die Nachricht ist leer.")
    head = raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    if not _HEADER_LINE.search(head):
        raise BrokenMessage("Die Nachricht hat keine lesbaren Kopfzeilen.")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # noqa: BLE001 - any parser failure is this message's problem only
        raise BrokenMessage(f"Die Nachricht ist nicht lesbar ({type(exc).__name__}).") from exc
    if not any(_header(msg, h) for h in _KEY_HEADERS):
        raise BrokenMessage("Die Nachricht hat weder Absender, Empfänger, Betreff, Datum noch Message-ID.")
    senders = _addresses(msg, "from")
    date = None
    raw_date = _header(msg, "date")
    if raw_date:
        try:
            date = email.utils.parsedate_to_datetime(raw_date)
        except (TypeError, ValueError, IndexError):
            date = None
    mail = ParsedMail(
        message_id=(_msg_ids(_header(msg, "message-id")) or [""])[0],
        subject=_header(msg, "subject"),
        sender=senders[0] if senders else None,
        to=_addresses(msg, "to"),
        cc=_addresses(msg, "cc"),
        date=date,
        in_reply_to=(_msg_ids(_header(msg, "in-reply-to")) or [""])[0],
        references=_msg_ids(_header(msg, "references"))[-50:],
    )
    try:
        _walk(msg, mail)
    except Exception as exc:  # noqa: BLE001
        raise BrokenMessage(f"Der Aufbau der Nachricht ist nicht lesbar ({type(exc).__name__}).") from exc
    mail.defects = [type(d).__name__ for d in getattr(msg, "defects", [])][:20]
    return mail


def msg_to_eml(data: bytes) -> bytes:
    """An Outlook .msg file as RFC 5322 bytes (extract-msg), so it is filed like any other mail."""
    import extract_msg

    try:
        # openMsg is typed as the base class; a mail file is an extract_msg.Message.
        message: Any = extract_msg.openMsg(data)
    except Exception as exc:  # noqa: BLE001 - extract-msg raises many kinds for bad files
        raise BrokenMessage("Die Outlook-Datei (.msg) ist nicht lesbar.") from exc
    try:
        converted = message.asEmailMessage()
        # Outlook keeps some values only as MAPI properties, not in the transport headers.
        for header, value in (("Subject", message.subject), ("From", message.sender), ("To", message.to),
                              ("Message-ID", message.messageId), ("In-Reply-To", message.inReplyTo)):
            if value and header not in converted:
                converted[header] = " ".join(str(value).split())
        if "Date" not in converted and isinstance(message.date, dt.datetime):
            converted["Date"] = email.utils.format_datetime(message.date)
        return bytes(converted.as_bytes(policy=policy.SMTP))
    except Exception as exc:  # noqa: BLE001
        raise BrokenMessage("Die Outlook-Datei (.msg) enthält keine lesbare E-Mail.") from exc
    finally:
        message.close()


def text_to_html(text: str) -> str:
    """A plain-text body as paragraphs, for the document's content."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs if p.strip())
