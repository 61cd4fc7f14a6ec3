"""Assembling outgoing e-mails as MIME messages.

Header values come from user input (contact names, rendered subjects), so every one of them is
flattened to a single line before it reaches a header: a CR/LF must never be able to start a new
header or add a recipient. Addresses containing line breaks are rejected outright rather than
repaired, because a "repaired" address would silently go to someone else.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
import uuid
from collections.abc import Sequence
from datetime import datetime
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from html.parser import HTMLParser

__all__ = [
    "MAIL_POLICY",
    "MAIL_POLICY_UTF8",
    "build_message",
    "html_to_text",
    "make_message_id",
    "sanitize_header_text",
]

# Everything str.splitlines() treats as a line break plus the remaining C0 controls and DEL.
_UNSAFE_HEADER_CHARS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_MIME_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")
_FILENAME_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f\x85\u2028\u2029/\\:*?"<>|]+')


_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender"})


class _MailPolicy(EmailPolicy):
    """SMTP policy with a correct RFC 2047 encoding of non-ASCII subjects and display names.

    Python's own folder drops the space between adjacent encoded words in long non-ASCII headers
    ("Größe ÄÖÜ" arrives as "GrößeÄÖÜ"); ``email.header.Header`` puts all text, spaces included,
    inside the encoded words.
    """

    def _encode_words(self, text: str, name: str) -> str:
        return Header(text, "utf-8", header_name=name).encode(
            linesep=self.linesep, maxlinelen=self.max_line_length or 78
        )

    def _fold_disposition(self, name: str, value: object) -> str | None:
        params = dict(getattr(value, "params", {}) or {})
        filename = params.get("filename")
        if not isinstance(filename, str) or filename.isascii() or self.utf8:
            return None
        fallback = ascii_filename(filename).replace("\\", "_").replace('"', "_")
        encoded = urllib.parse.quote(filename, safe="")
        disposition = getattr(value, "content_disposition", None) or "attachment"
        # One parameter per line (readable, far below 998 characters). filename* first: parsers
        # that know both, Python's email package among them, take the first; old ones skip it.
        return (f"{name}: {disposition};{self.linesep} filename*=utf-8''{encoded};{self.linesep}"
                f' filename="{fallback}"{self.linesep}')

    def _fold_encoded(self, name: str, value: object) -> str | None:
        if name.lower() == "content-disposition":
            return self._fold_disposition(name, value)
        text = str(value)
        if self.utf8 or text.isascii():
            return None  # raw UTF-8 or plain ASCII: the standard folder is fine
        key = name.lower()
        if key == "subject":
            return f"{name}: {self._encode_words(text, name)}{self.linesep}"
        groups = getattr(value, "groups", ())
        # Named groups ("Team: a@x, b@y;") are rare enough to leave to the standard folder.
        if key in _ADDRESS_HEADERS and not any(group.display_name for group in groups):
            parts = []
            for address in getattr(value, "addresses", ()):
                if address.display_name.isascii():
                    parts.append(str(address))
                else:
                    parts.append(f"{self._encode_words(address.display_name, name)} <{address.addr_spec}>")
            if parts:
                return f"{name}: {', '.join(parts)}{self.linesep}"
        return None

    def fold(self, name: str, value: str) -> str:
        return self._fold_encoded(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        folded = self._fold_encoded(name, value)
        return folded.encode("ascii") if folded else super().fold_binary(name, value)


MAIL_POLICY = _MailPolicy(linesep="\r\n")
MAIL_POLICY_UTF8 = MAIL_POLICY.clone(utf8=True)


def sanitize_header_text(value: str | None) -> str:
    """Flatten free text (display names, subjects) to one line; control characters become spaces."""
    if not value:
        return ""
    return " ".join(_UNSAFE_HEADER_CHARS.sub(" ", str(value)).split())


def _idna_domain(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"invalid domain: {domain!r}") from exc


def _address(display_name: str | None, email: str, role: str) -> Address:
    if not isinstance(email, str) or not email.strip():
        raise ValueError(f"{role}: address is empty")
    email = email.strip()
    if _UNSAFE_HEADER_CHARS.search(email) or any(ch.isspace() for ch in email):
        raise ValueError(f"{role}: address contains line breaks, control characters or spaces")
    local, sep, domain = email.rpartition("@")
    if not sep or not local or not domain:
        raise ValueError(f"{role}: {email!r} is not an e-mail address")
    # Internationalised domains work with every server once punycoded; only a non-ASCII local
    # part needs SMTPUTF8.
    domain = domain if domain.isascii() else _idna_domain(domain)
    # Address() parses addr_spec strictly and refuses lists ("a@x, b@y") and trailing garbage, but
    # it also refuses non-ASCII local parts, which SMTPUTF8 allows; those are checked with an ASCII
    # stand-in of the same shape.
    probe = "".join(ch if ch.isascii() else "x" for ch in local)
    try:
        Address(addr_spec=f"{probe}@{domain}")
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise ValueError(f"{role}: {email!r} is not a valid e-mail address") from exc
    name = sanitize_header_text(display_name)
    if local.isascii():
        return Address(display_name=name, addr_spec=f"{local}@{domain}")
    return Address(display_name=name, username=local, domain=domain)


def _attachment_filename(filename: str) -> str:
    # Only the last path component: recipients' mail clients must not see directory parts.
    base = re.split(r"[/\\]", filename or "")[-1]
    name = _FILENAME_FORBIDDEN.sub("_", base).strip(" .")
    return name or "anhang"


class _TextExtractor(HTMLParser):
    """Readable plain-text rendition of an HTML mail body for the text/plain alternative."""

    _BLOCKS = frozenset(
        {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote",
         "pre", "address", "section", "article", "header", "footer", "hr"}
    )
    _LINES = frozenset({"li", "tr", "dt", "dd"})
    _SKIP = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0
        self._links: list[tuple[str, int]] = []

    def _newlines(self, count: int) -> None:
        self.parts.append("\n" * count)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag == "br":
            self._newlines(1)
        elif tag in self._BLOCKS:
            self._newlines(2)
            if tag == "hr":
                self.parts.append("--------------------")
                self._newlines(2)
            if tag == "pre":
                self._pre_depth += 1
        elif tag in self._LINES:
            self._newlines(1)
            if tag == "li":
                self.parts.append("- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._links.append((href.strip(), len(self.parts)))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip_depth = max(self._skip_depth - 1, 0)
        elif tag in self._BLOCKS:
            if tag == "pre":
                self._pre_depth = max(self._pre_depth - 1, 0)
            self._newlines(2)
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            text = " ".join("".join(self.parts[start:]).split())
            target = href[len("mailto:"):] if href.lower().startswith("mailto:") else href
            if target and target != text and not href.startswith("#"):
                self.parts.append(f" ({target})" if text else target)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._pre_depth:
            self.parts.append(data)
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        raw = "".join(self.parts)
        lines = [line.strip() for line in raw.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def html_to_text(html: str) -> str:
    """Convert an HTML body to readable text: paragraphs, line breaks, links as "text (url)"."""
    parser = _TextExtractor()
    parser.feed(html or "")
    parser.close()
    return parser.text()


def make_message_id(domain: str) -> str:
    """A globally unique Message-ID such as ``<3f2c…@kanzlei-example.de>``."""
    domain = sanitize_header_text(domain).strip(".")
    domain = domain if domain.isascii() else _idna_domain(domain)
    if not _DOMAIN.match(domain):
        raise ValueError(f"invalid domain for Message-ID: {domain!r}")
    return f"<{uuid.uuid4().hex}@{domain}>"


def build_message(
    *,
    sender_name: str,
    sender_email: str,
    to_name: str,
    to_email: str,
    subject: str,
    html_body: str,
    attachments: Sequence[tuple[str, str, bytes]],
    message_id: str,
    date: datetime,
    reply_to: str | None = None,
    reply_to_name: str | None = None,
) -> EmailMessage:
    """Build a multipart/alternative (HTML + text) message, wrapped in multipart/mixed if there are
    attachments. Raises ``ValueError`` for invalid addresses or Message-ID.

    A naive ``date`` is taken as local time.
    """
    sender = _address(sender_name, sender_email, "sender")
    recipient = _address(to_name, to_email, "recipient")
    reply = _address(reply_to_name, reply_to, "reply_to") if reply_to else None
    if not isinstance(message_id, str) or not _MESSAGE_ID.match(message_id):
        raise ValueError(f"invalid Message-ID: {message_id!r}")

    needs_utf8 = any(not addr.username.isascii() for addr in (sender, recipient, reply) if addr)
    msg = EmailMessage(policy=MAIL_POLICY_UTF8 if needs_utf8 else MAIL_POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    if reply is not None:
        msg["Reply-To"] = reply
    msg["Subject"] = sanitize_header_text(subject)
    msg["Date"] = format_datetime(date if date.tzinfo else date.astimezone())
    msg["Message-ID"] = message_id

    # Quoted-printable keeps umlauts intact even through relays without 8BITMIME.
    msg.set_content(html_to_text(html_body), subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html_body or "", subtype="html", charset="utf-8", cte="quoted-printable")
    for filename, mime_type, data in attachments:
        maintype, subtype = (
            mime_type.lower().split("/", 1)
            if isinstance(mime_type, str) and _MIME_TYPE.match(mime_type)
            else ("application", "octet-stream")
        )
        if maintype in ("multipart", "message"):
            # These would need structured payloads; as opaque bytes they are just octet streams.
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(bytes(data), maintype=maintype, subtype=subtype)
        # After add_attachment the message is multipart/mixed: its payload is the list of parts.
        parts = msg.get_payload()
        assert isinstance(parts, list) and isinstance(parts[-1], EmailMessage)
        _set_attachment_filename(parts[-1], _attachment_filename(filename))
    return msg


def ascii_filename(name: str) -> str:
    """An ASCII stand-in for ``filename=`` (older clients ignore ``filename*=`` and would show
    "ATT00001"): umlauts transliterated (ä → ae), other letters without accents, the rest "_"."""

    def ascii_part(text: str) -> str:
        for umlaut, replacement in _TRANSLITERATION.items():
            text = text.replace(umlaut, replacement)
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        return "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in text).strip(" ._")

    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem, ext = ascii_part(stem) or "anhang", ascii_part(ext)
    return f"{stem}.{ext}" if ext else stem


_TRANSLITERATION = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}


def _set_attachment_filename(part: EmailMessage, name: str) -> None:
    """Name the attachment for every client: ``filename=`` in ASCII and, for a non-ASCII name, also
    ``filename*=`` (RFC 2231) with the exact name — written by ``_MailPolicy`` when folding, because
    Python's email package alone writes only ``filename*=``. Content-Type carries the ASCII ``name``."""
    part.replace_header("Content-Disposition", "attachment")
    part.set_param("filename", name, header="Content-Disposition")
    part.set_param("name", ascii_filename(name), header="Content-Type")
