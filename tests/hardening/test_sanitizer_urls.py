"""The sanitizer's URL rules: scheme-relative ("//host"), backslash ("/\\host", "\\\\host") and disguised
variants (tabs, line breaks, spaces, entities) and ``data:`` links never survive in ``href`` or
``src``; inline ``data:image/…`` rasters in ``<img>`` and ordinary links do. The same holds for what
goes out in e-mails, even for content stored before the rule (sanitised again when the MIME message
is built).
"""

from __future__ import annotations

import email
from email import policy
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import update

from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.html import sanitize_html
from kundenakte.core.models import Document
from kundenakte.plugins.communication.settings import outbox_dir, settings_of
from tests.hardening import FIGURES, PROBLEMS

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg=="
REFUSED = [
    '<img src="/\\evil.example/x.png">',
    '<img src="//evil.example/x.png">',
    '<img src="\\\\evil.example\\x.png">',
    '<img src="/\t/evil.example/x.png">',
    '<img src="/\n/evil.example/x.png">',
    '<img src=" //evil.example/x.png">',
    '<img src="&#47;&#47;evil.example/x.png">',
    '<img src="/&#92;evil.example/x.png">',
    '<img src="http://evil.example/x.png">',
    '<img src="https:/\\evil.example/x.png">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<img src="data:text/html,<script>alert(1)</script>">',
    '<a href="//evil.example/x">x</a>',
    '<a href="/\\evil.example/x">x</a>',
    '<a href="\\\\evil.example\\x">x</a>',
    '<a href="/\t/evil.example/x">x</a>',
    '<a href=" //evil.example/x">x</a>',
    '<a href="&#47;&#47;evil.example/x">x</a>',
    '<a href="https:\\\\evil.example\\x">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="DATA:text/html,<script>alert(1)</script>">x</a>',
    f'<a href="{PNG}">x</a>',
    '<a href=" data:text/html,x">x</a>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
]
KEPT = [
    (f'<img src="{PNG}" alt="Logo">', PNG),
    ('<img src="/dokumente/1/anhang/2?inline=1">', "/dokumente/1/anhang/2?inline=1"),
    ('<a href="https://www.dochouse.example/produkte">Produkte</a>', "https://www.dochouse.example/produkte"),
    ('<a href="mailto:info@dochouse.example">Mail</a>', "mailto:info@dochouse.example"),
    ('<a href="tel:+49751123">Anruf</a>', "tel:+49751123"),
    ('<a href="/kontakte/3">Kontakt</a>', "/kontakte/3"),
    ('<a href="#abschnitt">Abschnitt</a>', "#abschnitt"),
]


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append((tag, name, value))


def urls(html: str) -> list[tuple[str, str, str]]:
    parser = _Urls()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("payload", REFUSED)
def test_refused_urls(payload: str) -> None:
    out = sanitize_html(f"<p>vorher {payload} nachher</p>")
    FIGURES["sanitizer.payloads"] += 1
    if urls(out):
        FIGURES["sanitizer.passed"] += 1
        PROBLEMS.append(f"sanitizer let through {urls(out)}")
    assert urls(out) == [], out  # the URL attribute is gone (the element may stay)
    assert "evil.example" not in out and "vorher" in out and "nachher" in out


@pytest.mark.parametrize(("payload", "url"), KEPT)
def test_kept_urls(payload: str, url: str) -> None:
    out = sanitize_html(payload)
    assert [u[2] for u in urls(out)] == [url], out


def test_urls_do_not_go_out_in_emails(ka: Any, people: Any) -> None:
    """Through the real send path (no SMTP configured: an .eml in the outbox folder)."""
    from kundenakte.plugins.communication.outbox import deliver_queued, queue_email

    settings_of(ka).mail_from = "crm@kanzlei.example"
    body = "".join(f"<p>{i}: {p}</p>" for i, p in enumerate(REFUSED)) + "".join(p for p, _url in KEPT)
    owner = people.viewer("owner")
    with ka.db.write() as s:
        doc = create_document(ka, s, owner, "email", DocumentInput(
            title="Angebot", content=body, data={"to_email": "kunde@example.org", "subject": "Angebot",
                                                 "appendix": REFUSED[0] + REFUSED[13]}))
        doc_id = doc.id
        assert sorted(u[2] for u in urls(doc.content)) == sorted(url for _p, url in KEPT)  # sanitised when saved
        # Content from before the rule (an old database): written straight into the table.
        s.execute(update(Document).where(Document.id == doc_id).values(content=body))
    with ka.db.write() as s:
        queue_email(ka, s, owner, doc_id)
    summary = deliver_queued(ka, document_id=doc_id, limit=1, recover=False)
    assert doc_id in summary.filed  # no SMTP server: filed as .eml, not sent
    (eml,) = sorted(outbox_dir(ka).glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    html_part = message.get_body(("html",)).get_content()
    text_part = message.get_body(("plain",)).get_content()
    sent = [u[2] for u in urls(html_part)]
    FIGURES["sanitizer.mails"] += 1
    FIGURES["sanitizer.in_mails"] += len([u for u in sent if u not in {url for _p, url in KEPT}])
    assert sorted(sent) == sorted(url for _payload, url in KEPT), sent
    assert "evil.example" not in html_part and "evil.example" not in text_part
    assert "data:text" not in html_part.lower() and "javascript:" not in html_part
