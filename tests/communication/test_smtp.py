"""MIME assembly and SMTP delivery against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import ssl
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest

from kundenakte.plugins.communication.mime import build_message, html_to_text, make_message_id
from kundenakte.plugins.communication.smtp import (
    DeliveryStatus,
    SmtpConfig,
    deliver,
    envelope_recipients,
    retry_delay,
)

PDF_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "pdf" / "example.pdf"
SUBJECT = "Ihr Angebot für Müller & Söhne – Größe ÄÖÜ äöü ß"
HTML = (
    "<html><head><style>p { color: red }</style></head><body>"
    "<p>Sehr geehrte Frau Dr. Müller,</p>"
    "<p>anbei das Angebot. Details finden Sie <a href=\"https://example.de/angebot?id=1&amp;x=2\">hier</a>."
    "<br>Zweite Zeile mit Umlauten: äöü ß</p>"
    "<ul><li>Position eins</li><li>Position zwei</li></ul>"
    "<p>Mit freundlichen Grüßen<br>Max Mustermann</p></body></html>"
)
DATE = datetime(2026, 11, 27, 9, 30, tzinfo=timezone(timedelta(hours=1)))


def _config(host: str, port: int, **overrides: object) -> SmtpConfig:
    values: dict = {"host": host, "port": port, "security": "none", "timeout": 5.0, "local_hostname": "localhost"}
    values.update(overrides)
    return SmtpConfig(**values)


def _message(**overrides: object) -> EmailMessage:
    values: dict = {
        "sender_name": "Max Mustermann (Müller & Söhne)",
        "sender_email": "max@example.de",
        "to_name": "Dr. Anna Müller",
        "to_email": "anna.mueller@example.de",
        "subject": SUBJECT,
        "html_body": HTML,
        "attachments": [],
        "message_id": "<angebot-4711@kundenakte.example.de>",
        "date": DATE,
    }
    values.update(overrides)
    return build_message(**values)


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


# --- MIME ----------------------------------------------------------------------------------------


def test_html_to_text() -> None:
    text = html_to_text(HTML)
    assert "color" not in text
    assert text.startswith("Sehr geehrte Frau Dr. Müller,\n\nanbei das Angebot.")
    assert "hier (https://example.de/angebot?id=1&x=2)." in text
    assert "hier (https://example.de/angebot?id=1&x=2).\nZweite Zeile mit Umlauten: äöü ß" in text
    assert "- Position eins\n- Position zwei" in text
    assert text.endswith("Mit freundlichen Grüßen\nMax Mustermann\n")
    assert html_to_text('<a href="https://x.de">https://x.de</a>') == "https://x.de\n"
    assert html_to_text('<a href="mailto:a@x.de">a@x.de</a>') == "a@x.de\n"


def test_make_message_id() -> None:
    first, second = make_message_id("kundenakte.example.de"), make_message_id("kundenakte.example.de")
    assert first != second
    assert first.startswith("<") and first.endswith("@kundenakte.example.de>")
    assert make_message_id("bücher.de").endswith("@xn--bcher-kva.de>")
    for bad in ("", "exa mple.de", "example.de>\r\nBcc: x@y.de", "a@b"):
        with pytest.raises(ValueError):
            make_message_id(bad)


def test_build_message_structure() -> None:
    raw = _message(attachments=[("Übersicht März.pdf", "application/pdf", b"%PDF-1.4 test")]).as_bytes()
    # RFC 2231 parameter encoding, not the non-standard RFC 2047 words inside quotes.
    assert b"filename*=utf-8''%C3%9Cbersicht%20M%C3%A4rz.pdf" in raw
    assert raw.isascii()
    msg = _parse(raw)
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["Subject"] == SUBJECT
    assert msg["To"].addresses[0].display_name == "Dr. Anna Müller"
    assert msg["From"].addresses[0].display_name == "Max Mustermann (Müller & Söhne)"
    assert msg["Date"].datetime == DATE
    assert msg["Message-ID"] == "<angebot-4711@kundenakte.example.de>"
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "Übersicht März.pdf"


def test_build_message_sanitises_attachment_names_and_types() -> None:
    msg = _message(attachments=[("../../etc/passwd\r\nX-Evil: 1", "not a type", b"x"), ("", "multipart/mixed", b"y")])
    names = [(a.get_filename(), a.get_content_type()) for a in msg.iter_attachments()]
    assert names == [("passwd_X-Evil_ 1", "application/octet-stream"), ("anhang", "application/octet-stream")]
    assert "X-Evil" not in [key for key in _parse(msg.as_bytes()).keys()]


@pytest.mark.parametrize(
    "field,value",
    [
        ("to_email", "anna@example.de\r\nBcc: evil@example.com"),
        ("to_email", "anna@example.de\nRCPT TO:<evil@example.com>"),
        ("to_email", "anna@example.de, evil@example.com"),
        ("to_email", "Anna <anna@example.de>"),
        ("to_email", ""),
        ("to_email", "kein-at-zeichen"),
        ("sender_email", "max@example.de\r\nBcc: evil@example.com"),
        ("reply_to", "r@example.de\r\nBcc: evil@example.com"),
        ("message_id", "<a@b>\r\nBcc: evil@example.com"),
        ("message_id", "keine-spitzen-klammern@example.de"),
    ],
)
def test_build_message_rejects_header_injection_in_addresses(field: str, value: str) -> None:
    with pytest.raises(ValueError):
        _message(**{field: value})


def test_naive_date_is_local_time() -> None:
    msg = _message(date=datetime(2026, 11, 27, 9, 30))
    assert _parse(msg.as_bytes())["Date"].datetime.tzinfo is not None


def test_envelope_recipients_come_from_parsed_headers() -> None:
    msg = _message()
    msg["Cc"] = "Jan <jan@example.de>, ANNA.MUELLER@example.de"
    msg["Bcc"] = "geheim@example.de"
    assert envelope_recipients(msg) == ["anna.mueller@example.de", "jan@example.de", "geheim@example.de"]


def test_retry_delay() -> None:
    assert [retry_delay(n) for n in range(1, 6)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert retry_delay(9) == timedelta(hours=4, minutes=16)
    assert retry_delay(10) == timedelta(hours=6)
    assert retry_delay(10_000) == timedelta(hours=6)
    assert retry_delay(0) == timedelta(minutes=1)


# --- Delivery ------------------------------------------------------------------------------------


def test_delivers_complete_message(smtp_server, handler_class) -> None:
    if not PDF_PATH.is_file():
        pytest.skip(f"test PDF missing: {PDF_PATH}")
    pdf = PDF_PATH.read_bytes()
    handler = handler_class()
    host, port = smtp_server(handler)
    message = _message(attachments=[("Angebot Müller & Söhne.pdf", "application/pdf", pdf)])

    outcome = deliver(message, _config(host, port))

    assert outcome.status is DeliveryStatus.SENT, outcome.detail
    assert outcome.smtp_code == 250
    [received] = handler.messages
    assert received.mail_from == "max@example.de"
    assert received.rcpt_tos == ["anna.mueller@example.de"]
    parsed = _parse(received.content)
    assert parsed["Subject"] == SUBJECT
    assert parsed["Message-ID"] == "<angebot-4711@kundenakte.example.de>"
    assert parsed["To"].addresses[0].addr_spec == "anna.mueller@example.de"
    assert parsed["To"].addresses[0].display_name == "Dr. Anna Müller"
    html_part = parsed.get_body(("html",))
    text_part = parsed.get_body(("plain",))
    assert html_part is not None and "Sehr geehrte Frau Dr. Müller," in html_part.get_content()
    assert text_part is not None and "hier (https://example.de/angebot?id=1&x=2)" in text_part.get_content()
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "Angebot Müller & Söhne.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf
    # The caller's message object is unchanged by the delivery.
    assert message["Message-ID"] == "<angebot-4711@kundenakte.example.de>"


def test_dot_stuffing_keeps_lines_starting_with_a_dot(smtp_server, handler_class) -> None:
    handler = handler_class()
    host, port = smtp_server(handler)
    html = "<pre>\n.\n..zwei Punkte\n.eins\n</pre>"
    outcome = deliver(_message(html_body=html), _config(host, port))
    assert outcome.status is DeliveryStatus.SENT
    received = _parse(handler.messages[0].content).get_body(("html",)).get_content()
    assert received.replace("\r\n", "\n").rstrip("\n") == html


def test_bcc_is_in_envelope_but_not_in_message(smtp_server, handler_class) -> None:
    handler = handler_class()
    host, port = smtp_server(handler)
    message = _message()
    message["Bcc"] = "geheim@example.de"
    outcome = deliver(message, _config(host, port))
    assert outcome.status is DeliveryStatus.SENT
    assert handler.rcpt_commands == ["anna.mueller@example.de", "geheim@example.de"]
    assert b"geheim" not in handler.messages[0].content
    assert message["Bcc"] == "geheim@example.de"


@pytest.mark.parametrize(
    "reply,status",
    [
        ("421 4.3.2 Service nicht verfügbar, bitte später", DeliveryStatus.TEMPORARY_FAILURE),
        ("451 4.7.1 Greylisting, bitte später erneut", DeliveryStatus.TEMPORARY_FAILURE),
        ("550 5.1.1 Postfach unbekannt", DeliveryStatus.PERMANENT_FAILURE),
    ],
)
def test_recipient_refused(smtp_server, handler_class, reply: str, status: DeliveryStatus) -> None:
    handler = handler_class(rcpt_reply=reply)
    host, port = smtp_server(handler)
    outcome = deliver(_message(), _config(host, port))
    assert outcome.status is status
    assert outcome.smtp_code == int(reply[:3])
    assert reply[4:] in outcome.detail
    assert outcome.retryable is (status is DeliveryStatus.TEMPORARY_FAILURE)
    assert handler.messages == []


@pytest.mark.parametrize(
    "reply,status",
    [
        ("421 4.3.0 Server wird heruntergefahren", DeliveryStatus.TEMPORARY_FAILURE),
        ("451 4.3.0 Lokaler Fehler", DeliveryStatus.TEMPORARY_FAILURE),
        ("550 5.7.1 Nachricht als Spam abgelehnt", DeliveryStatus.PERMANENT_FAILURE),
        ("552 5.3.4 Nachricht zu groß", DeliveryStatus.PERMANENT_FAILURE),
    ],
)
def test_message_refused_after_data(smtp_server, handler_class, reply: str, status: DeliveryStatus) -> None:
    handler = handler_class(data_reply=reply)
    host, port = smtp_server(handler)
    outcome = deliver(_message(), _config(host, port))
    assert outcome.status is status
    assert outcome.smtp_code == int(reply[:3])
    assert reply[4:] in outcome.detail


def test_connection_dropped_after_data_is_uncertain(smtp_server, handler_class) -> None:
    handler = handler_class(drop_after_data=True)
    host, port = smtp_server(handler)
    outcome = deliver(_message(), _config(host, port))
    assert outcome.status is DeliveryStatus.UNCERTAIN
    assert outcome.retryable is False
    assert "möglicherweise zugestellt" in outcome.detail
    # ...and indeed the server has the complete message.
    assert len(handler.messages) == 1


def test_connection_dropped_before_data_is_temporary(smtp_server, handler_class) -> None:
    handler = handler_class(drop_at_rcpt=True)
    host, port = smtp_server(handler)
    outcome = deliver(_message(), _config(host, port))
    assert outcome.status is DeliveryStatus.TEMPORARY_FAILURE
    assert outcome.retryable


def test_server_down_is_temporary(free_port: int) -> None:
    outcome = deliver(_message(), _config("127.0.0.1", free_port))
    assert outcome.status is DeliveryStatus.TEMPORARY_FAILURE
    assert outcome.detail


def test_server_silent_times_out(silent_server: tuple[str, int]) -> None:
    host, port = silent_server
    outcome = deliver(_message(), _config(host, port, timeout=0.5))
    assert outcome.status is DeliveryStatus.TEMPORARY_FAILURE


def test_crlf_injection_in_names_and_subject(smtp_server, handler_class) -> None:
    handler = handler_class()
    host, port = smtp_server(handler)
    injected = "\r\nBcc: evil@example.com\r\nX-Injected: ja\r\n"
    message = _message(
        sender_name="Max" + injected,
        to_name="Anna" + injected + "To: evil2@example.com",
        subject="Angebot" + injected + "\n\nKörper",
    )
    outcome = deliver(message, _config(host, port))
    assert outcome.status is DeliveryStatus.SENT
    assert handler.rcpt_commands == ["anna.mueller@example.de"]
    assert handler.messages[0].rcpt_tos == ["anna.mueller@example.de"]
    parsed = _parse(handler.messages[0].content)
    assert sorted(parsed.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"]
    )
    assert parsed["X-Injected"] is None and parsed["Bcc"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["anna.mueller@example.de"]
    assert parsed["Subject"] == "Angebot Bcc: evil@example.com X-Injected: ja Körper"


def test_recipient_address_with_non_ascii_local_part_uses_smtputf8(smtp_server, handler_class) -> None:
    handler = handler_class()
    host, port = smtp_server(handler, enable_SMTPUTF8=True)
    outcome = deliver(_message(to_email="jürgen@example.de"), _config(host, port))
    assert outcome.status is DeliveryStatus.SENT, outcome.detail
    assert "SMTPUTF8" in handler.mail_options[0]
    assert handler.rcpt_commands == ["jürgen@example.de"]

    plain_handler = handler_class()
    host, port = smtp_server(plain_handler, enable_SMTPUTF8=False)
    outcome = deliver(_message(to_email="jürgen@example.de"), _config(host, port))
    assert outcome.status is DeliveryStatus.PERMANENT_FAILURE
    assert plain_handler.rcpt_commands == []


def test_idn_domain_is_punycoded(smtp_server, handler_class) -> None:
    handler = handler_class()
    host, port = smtp_server(handler)
    outcome = deliver(_message(to_email="info@bücher.de"), _config(host, port))
    assert outcome.status is DeliveryStatus.SENT
    assert handler.rcpt_commands == ["info@xn--bcher-kva.de"]


# --- TLS and authentication ----------------------------------------------------------------------


def test_starttls_with_login(smtp_server, handler_class, tls_files, authenticator) -> None:
    handler = handler_class()
    host, port = smtp_server(
        handler, tls_context=tls_files.server_context(), require_starttls=True,
        authenticator=authenticator("max", "geheim"), auth_require_tls=True,
    )
    config = _config(host, port, security="starttls", username="max", password="geheim",
                     ssl_context=tls_files.client_context())
    assert "geheim" not in repr(config)
    outcome = deliver(_message(), config)
    assert outcome.status is DeliveryStatus.SENT, outcome.detail
    assert len(handler.messages) == 1

    wrong = _config(host, port, security="starttls", username="max", password="falsch",
                    ssl_context=tls_files.client_context())
    outcome = deliver(_message(), wrong)
    assert outcome.status is DeliveryStatus.PERMANENT_FAILURE
    assert outcome.smtp_code == 535
    assert len(handler.messages) == 1


def test_starttls_not_offered_is_not_downgraded(smtp_server, handler_class) -> None:
    handler = handler_class()
    host, port = smtp_server(handler)
    outcome = deliver(_message(), _config(host, port, security="starttls"))
    assert outcome.status is DeliveryStatus.PERMANENT_FAILURE
    assert "STARTTLS" in outcome.detail
    assert handler.rcpt_commands == []


def test_implicit_tls(smtp_server, handler_class, tls_files) -> None:
    handler = handler_class()
    host, port = smtp_server(handler, ssl_context=tls_files.server_context())
    outcome = deliver(_message(), _config(host, port, security="ssl", ssl_context=tls_files.client_context()))
    assert outcome.status is DeliveryStatus.SENT, outcome.detail
    assert len(handler.messages) == 1


def test_untrusted_certificate_is_not_accepted(smtp_server, handler_class, tls_files) -> None:
    handler = handler_class()
    host, port = smtp_server(handler, ssl_context=tls_files.server_context())
    outcome = deliver(_message(), _config(host, port, security="ssl", ssl_context=ssl.create_default_context()))
    assert outcome.status is DeliveryStatus.TEMPORARY_FAILURE
    assert "Zertifikat" in outcome.detail
    assert handler.messages == []


@pytest.mark.parametrize(
    "overrides",
    [{"security": "tls"}, {"host": ""}, {"host": "mail.example.de\r\n"}, {"port": 0}, {"timeout": 0}],
)
def test_smtp_config_validation(overrides: dict) -> None:
    values: dict = {"host": "mail.example.de", "port": 587, "security": "starttls"}
    values.update(overrides)
    with pytest.raises(ValueError):
        SmtpConfig(**values)


def test_long_umlaut_headers_keep_their_spaces() -> None:
    # CPython's own folder loses the space between adjacent encoded words in long headers.
    subject = "Ärger über Öl – Größe " * 6
    raw = _message(subject=subject).as_bytes()
    assert raw.isascii()
    assert _parse(raw)["Subject"] == subject.strip()
