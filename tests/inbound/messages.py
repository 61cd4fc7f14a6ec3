"""Real messages for the inbound tests, built with the standard library as mail clients send them."""

from __future__ import annotations

import base64
import email.utils
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
# A 1×1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _base(subject: str, sender: str, to: str, *, message_id: str | None = None, cc: str | None = None,
          in_reply_to: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(email.utils.parsedate_to_datetime("Tue, 01 Dec 2026 10:15:00 +0100"))
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain="kunde.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    return msg


def plain(subject: str = "Anfrage Angebot", sender: str = "Max Kunde <max@kunde.example>",
          to: str = "ablage@firma.example", body: str = "Guten Tag,\n\nbitte ein Angebot.\n\nGruß Max", **kw: str) -> bytes:
    msg = _base(subject, sender, to, **kw)
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP)


def html_inline(sender: str = "Max Kunde <max@kunde.example>", to: str = "ablage@firma.example") -> bytes:
    msg = _base("Bilder im Text", sender, to)
    msg.set_content("Text-Fassung mit Bild")
    msg.add_alternative(
        '<html><body><p>Logo: <img src="cid:logo@kunde.example" alt="Logo"></p>'
        '<p>Tracker: <img src="https://tracker.example/pixel.gif?u=1" alt="Pixel"></p>'
        '<script>alert(1)</script><p onclick="x()">Ende</p></body></html>', subtype="html")
    html_part = msg.get_payload()[1]
    html_part.add_related(PNG, "image", "png", cid="<logo@kunde.example>", filename="logo.png")
    return msg.as_bytes(policy=SMTP)


def with_pdf(pdf: bytes, sender: str = "Max Kunde <max@kunde.example>", to: str = "ablage@firma.example",
             filename: str = "Rechnung 2026-17.pdf") -> bytes:
    msg = _base("Rechnung anbei", sender, to)
    msg.set_content("Anbei die Rechnung.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return msg.as_bytes(policy=SMTP)


def umlauts() -> bytes:
    """Umlauts in every header: RFC 2047 encoded-words (the policy encodes them) and an RFC 2231 file name."""
    msg = _base("Größenänderung für Übergabe – Grüße aus Köln", "Jürgen Müßig <juergen@kunde.example>",
                "Ärger Öffentlich <ablage@firma.example>", cc="Zoë Weiß <zoe@kunde.example>")
    msg["Reply-To"] = "Jürgen Müßig <juergen@kunde.example>"
    msg["X-Bemerkung"] = "Straße, Übermaß, ärgerlich"
    msg.set_content("Schöne Grüße – äöüß ÄÖÜ €")
    msg.add_attachment("Prüfbericht äöü".encode(), maintype="text", subtype="plain", filename="Prüfbericht Übergabe.txt")
    return msg.as_bytes(policy=SMTP)


def big(size_mb: int = 25) -> bytes:
    msg = _base("Große Datei", "Max Kunde <max@kunde.example>", "ablage@firma.example")
    msg.set_content("Eine große Datei.")
    msg.add_attachment(b"\0" * (size_mb * 1024 * 1024), maintype="application", subtype="octet-stream", filename="gross.bin")
    return msg.as_bytes(policy=SMTP)


def malformed() -> bytes:
    """Not an e-mail: binary garbage without a single header line."""
    return b"\x00\x01\x02\xff\xfe garbage without headers \x00\r\n\r\n\x89PNG\r\n"


def outlook() -> bytes:
    """The Outlook .msg sample of tests/data, converted as Outlook would send it."""
    from kundenakte.plugins.communication.inbound.parse import msg_to_eml

    return msg_to_eml((DATA / "strangeDate.msg").read_bytes())
