"""Delivering one message over SMTP with an outcome the outbox can act on.

The SMTP dialogue is driven step by step (instead of ``smtplib.SMTP.send_message``) because the
outbox must distinguish "the server did not take the message" (safe to retry) from "the connection
broke after the complete message was sent" (the server may have delivered it; retrying could send
it twice). Only the latter is UNCERTAIN.
"""

from __future__ import annotations

import copy
import enum
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from typing import Literal

from .mime import MAIL_POLICY

__all__ = [
    "DeliveryOutcome",
    "DeliveryStatus",
    "SmtpConfig",
    "deliver",
    "envelope_recipients",
    "retry_delay",
]

Security = Literal["none", "starttls", "ssl"]

_FIRST_RETRY = timedelta(minutes=1)
_MAX_RETRY = timedelta(hours=6)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    # getfqdn() in smtplib can stall for seconds on hosts with broken reverse DNS.
    local_hostname: str | None = None
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Fail when the settings are saved, not hours later in the outbox worker.
        if self.security not in ("none", "starttls", "ssl"):
            raise ValueError(f"unknown SMTP security mode: {self.security!r}")
        if not self.host or any(ch.isspace() for ch in self.host):
            raise ValueError("SMTP host is empty or contains whitespace")
        if not 0 < self.port < 65536:
            raise ValueError(f"invalid SMTP port: {self.port}")
        if self.timeout <= 0:
            raise ValueError("SMTP timeout must be positive")


class DeliveryStatus(enum.Enum):
    SENT = "sent"
    TEMPORARY_FAILURE = "temporary_failure"
    PERMANENT_FAILURE = "permanent_failure"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class DeliveryOutcome:
    status: DeliveryStatus
    detail: str = ""
    smtp_code: int | None = None

    @property
    def retryable(self) -> bool:
        """Only temporary failures may be retried automatically; UNCERTAIN never."""
        return self.status is DeliveryStatus.TEMPORARY_FAILURE


class _Failure(Exception):
    def __init__(self, outcome: DeliveryOutcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


def _reply_text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return str(reply)


def _from_reply(code: int, reply: bytes | str, phase: str) -> DeliveryOutcome:
    text = f"{phase}: {code} {_reply_text(reply)}".strip()
    if 200 <= code < 400:
        return DeliveryOutcome(DeliveryStatus.SENT, text, code)
    if 400 <= code < 500:
        return DeliveryOutcome(DeliveryStatus.TEMPORARY_FAILURE, text, code)
    if 500 <= code < 600:
        return DeliveryOutcome(DeliveryStatus.PERMANENT_FAILURE, text, code)
    # smtplib reports -1 for unparsable replies; treat like a broken connection.
    return DeliveryOutcome(DeliveryStatus.TEMPORARY_FAILURE, text, code if code > 0 else None)


def _expect(code: int, reply: bytes, phase: str, ok: tuple[int, ...]) -> None:
    if code not in ok:
        raise _Failure(_from_reply(code, reply, phase))


def _addresses(message: EmailMessage, name: str) -> list[Address]:
    found: list[Address] = []
    for header in message.get_all(name, []):
        parsed = header if hasattr(header, "addresses") else email_policy.SMTP.header_factory(name, str(header))
        found.extend(parsed.addresses)
    return found


def _valid_addr_spec(addr_spec: str) -> bool:
    return bool(addr_spec) and "@" in addr_spec and not any(
        ch.isspace() or ch in "<>,;" or ord(ch) < 32 or ord(ch) == 127 for ch in addr_spec
    )


def envelope_recipients(message: EmailMessage) -> list[str]:
    """RCPT TO addresses, taken only from the parsed To/Cc/Bcc headers, de-duplicated."""
    result: list[str] = []
    seen: set[str] = set()
    for name in ("To", "Cc", "Bcc"):
        for address in _addresses(message, name):
            spec = address.addr_spec
            if not _valid_addr_spec(spec):
                raise ValueError(f"invalid recipient address: {spec!r}")
            if spec.lower() not in seen:
                seen.add(spec.lower())
                result.append(spec)
    return result


def _envelope_sender(message: EmailMessage) -> str:
    senders = _addresses(message, "Sender") or _addresses(message, "From")
    if len(senders) != 1 or not _valid_addr_spec(senders[0].addr_spec):
        raise ValueError("message needs exactly one valid From (or Sender) address")
    return senders[0].addr_spec


def _payload(message: EmailMessage, utf8: bool) -> bytes:
    # Bcc must not travel in the message itself; work on a copy so the caller's object stays intact.
    outgoing = copy.deepcopy(message)
    del outgoing["Bcc"]
    # Keep the message's own policy: it may fold headers differently from the stdlib default.
    base = message.policy if isinstance(message.policy, EmailPolicy) else MAIL_POLICY
    policy = base.clone(linesep="\r\n", utf8=utf8)
    return outgoing.as_bytes(policy=policy)


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    context = config.ssl_context or ssl.create_default_context()
    # Passing the host to the constructor (rather than calling connect() later) matters: smtplib
    # only then remembers it for TLS hostname verification. A non-220 greeting raises
    # SMTPConnectError, which deliver() classifies by its code.
    if config.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout,
            local_hostname=config.local_hostname, context=context,
        )
    else:
        client = smtplib.SMTP(
            config.host, config.port, timeout=config.timeout, local_hostname=config.local_hostname
        )
    try:
        code, reply = client.ehlo()
        if not 200 <= code < 300:
            code, reply = client.helo()
            _expect(code, reply, "HELO", (250,))
        if config.security == "starttls":
            if not client.has_extn("starttls"):
                raise _Failure(DeliveryOutcome(
                    DeliveryStatus.PERMANENT_FAILURE,
                    "Der Server bietet kein STARTTLS an; unverschlüsselt wird nicht gesendet.",
                ))
            code, reply = client.starttls(context=context)
            _expect(code, reply, "STARTTLS", (220,))
            code, reply = client.ehlo()
            _expect(code, reply, "EHLO", (250,))
        if config.username:
            try:
                code, reply = client.login(config.username, config.password)
            except smtplib.SMTPAuthenticationError as exc:
                raise _Failure(_from_reply(exc.smtp_code, exc.smtp_error, "Anmeldung")) from exc
            except smtplib.SMTPNotSupportedError as exc:
                raise _Failure(DeliveryOutcome(
                    DeliveryStatus.PERMANENT_FAILURE,
                    "Anmeldung: Der Server unterstützt keine (passende) Authentifizierung.",
                )) from exc
    except BaseException:
        client.close()
        raise
    return client


def _send(client: smtplib.SMTP, sender: str, recipients: list[str], payload: bytes, utf8: bool) -> DeliveryOutcome:
    options: list[str] = []
    if utf8:
        if not client.has_extn("smtputf8"):
            return DeliveryOutcome(
                DeliveryStatus.PERMANENT_FAILURE,
                "Der Server unterstützt keine Adressen mit Umlauten (SMTPUTF8).",
            )
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    code, reply = client.mail(sender, options)
    _expect(code, reply, "MAIL FROM", (250, 251))

    refused: list[DeliveryOutcome] = []
    for recipient in recipients:
        code, reply = client.rcpt(recipient)
        if code not in (250, 251):
            refused.append(_from_reply(code, reply, f"RCPT TO <{recipient}>"))
    if refused:
        # All or nothing: a customer file must record exactly who received the mail. One
        # permanent refusal makes the whole message permanent, since retrying cannot fix it.
        worst = next(
            (o for o in refused if o.status is DeliveryStatus.PERMANENT_FAILURE), refused[0]
        )
        detail = "; ".join(o.detail for o in refused)
        return DeliveryOutcome(worst.status, detail, worst.smtp_code)

    code, reply = client.docmd("DATA")
    _expect(code, reply, "DATA", (354,))
    client.send(_dot_stuffed(payload))
    # From here on the server holds the complete message; a broken connection no longer proves
    # that it was not delivered.
    try:
        code, reply = client.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        return DeliveryOutcome(
            DeliveryStatus.UNCERTAIN,
            "Die Verbindung brach nach dem Senden der Nachricht ab, bevor der Server den Empfang "
            f"bestätigte ({exc}). Die Nachricht wurde möglicherweise zugestellt.",
        )
    if not 200 <= code < 600:
        # smtplib turns an unparsable reply into code -1; it does not say "not delivered" either.
        return DeliveryOutcome(
            DeliveryStatus.UNCERTAIN,
            f"Unverständliche Antwort des Servers nach dem Senden: {_reply_text(reply)}. "
            "Die Nachricht wurde möglicherweise zugestellt.",
        )
    return _from_reply(code, reply, "Nachricht")


def _dot_stuffed(payload: bytes) -> bytes:
    # Same transformation smtplib.SMTP.data() applies, which cannot be used here because it
    # hides whether the failure happened before or after the payload was sent.
    body = payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if body.startswith(b"."):
        body = b"." + body
    body = body.replace(b"\r\n.", b"\r\n..")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def deliver(message: EmailMessage, config: SmtpConfig) -> DeliveryOutcome:
    """Send ``message``; never raises for network or server problems, only for invalid input.

    Envelope recipients are the parsed To/Cc/Bcc addresses; the envelope sender is the parsed
    Sender or From address. UNCERTAIN outcomes must not be retried automatically.
    """
    sender = _envelope_sender(message)
    recipients = envelope_recipients(message)
    if not recipients:
        return DeliveryOutcome(DeliveryStatus.PERMANENT_FAILURE, "Die Nachricht hat keine Empfänger.")
    utf8 = not (sender.isascii() and all(r.isascii() for r in recipients))
    payload = _payload(message, utf8)

    client: smtplib.SMTP | None = None
    try:
        client = _connect(config)
        outcome = _send(client, sender, recipients, payload, utf8)
    except _Failure as failure:
        outcome = failure.outcome
    except smtplib.SMTPResponseException as exc:
        outcome = _from_reply(exc.smtp_code, exc.smtp_error, "SMTP")
        if outcome.status is DeliveryStatus.SENT:  # an exception is never a success
            outcome = DeliveryOutcome(DeliveryStatus.TEMPORARY_FAILURE, outcome.detail, outcome.smtp_code)
    except ssl.SSLCertVerificationError as exc:
        outcome = DeliveryOutcome(
            DeliveryStatus.TEMPORARY_FAILURE,
            f"Das TLS-Zertifikat des Servers ist ungültig: {exc.verify_message or exc}",
        )
    except TimeoutError as exc:
        outcome = DeliveryOutcome(
            DeliveryStatus.TEMPORARY_FAILURE, f"Zeitüberschreitung bei der Verbindung zum Server ({exc})."
        )
    except (OSError, smtplib.SMTPException) as exc:
        # Refused or dropped connections before DATA was complete: the server has not taken the
        # message, so a retry is safe.
        outcome = DeliveryOutcome(
            DeliveryStatus.TEMPORARY_FAILURE,
            f"Verbindung zum Mailserver fehlgeschlagen: {exc or type(exc).__name__}",
        )
    if client is not None:
        try:
            if outcome.status is DeliveryStatus.SENT:
                client.quit()
        except (OSError, smtplib.SMTPException):
            pass  # The message is accepted; a failing QUIT changes nothing.
        finally:
            client.close()
    return outcome


def retry_delay(attempt: int) -> timedelta:
    """Back-off after failed attempt number ``attempt`` (1-based): 1 min, 2, 4, … capped at 6 h."""
    exponent = max(attempt, 1) - 1
    if exponent >= 20:  # 2**20 minutes is far beyond the cap; avoid huge integers.
        return _MAX_RETRY
    return min(_FIRST_RETRY * (1 << exponent), _MAX_RETRY)  # 1 << n is 2**n typed as int
