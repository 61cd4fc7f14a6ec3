"""Real SMTP servers (aiosmtpd) on 127.0.0.1 for the communication tests."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

HOST = "127.0.0.1"


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class RecordingHandler:
    """Accepts everything and records each RCPT and message.

    ``rcpt_reply``/``data_reply`` replace the success reply (e.g. "550 5.1.1 Unbekannt"), and the
    ``drop_*`` flags close the connection without answering.
    """

    rcpt_reply: str | None = None
    data_reply: str | None = None
    drop_at_rcpt: bool = False
    drop_after_data: bool = False
    rcpt_commands: list[str] = field(default_factory=list)
    mail_options: list[list[str]] = field(default_factory=list)
    messages: list[ReceivedMail] = field(default_factory=list)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]) -> str:
        self.mail_options.append(list(mail_options))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        self.rcpt_commands.append(address)
        if self.drop_at_rcpt:
            server.transport.close()
            return "250 OK"
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_after_data:
            # The complete message has arrived, but the client never learns that.
            self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            server.transport.close()
            return "250 OK"
        if self.data_reply:
            return self.data_reply
        self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 Ok: queued"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    return _free_port()


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[str, int]]]:
    """Factory: ``smtp_server(handler, **smtp_kwargs) -> (host, port)``; stopped after the test."""
    controllers: list[Controller] = []

    def start(handler: Any, **smtp_kwargs: Any) -> tuple[str, int]:
        last_error: Exception | None = None
        for _ in range(5):  # a freshly probed port can be taken in between; try another one
            controller = Controller(handler, hostname=HOST, port=_free_port(), ready_timeout=5, **smtp_kwargs)
            try:
                controller.start()
            except Exception as exc:  # noqa: BLE001 - retried with another port
                last_error = exc
                continue
            controllers.append(controller)
            return HOST, controller.port
        raise RuntimeError(f"could not start SMTP test server: {last_error}")

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def silent_server() -> Iterator[tuple[str, int]]:
    """Accepts TCP connections (via the backlog) but never sends an SMTP greeting."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(5)
        yield HOST, sock.getsockname()[1]


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """Self-signed certificate for 127.0.0.1 (needs the openssl binary)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl binary not available")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    return TlsFiles(cert, key)


def make_authenticator(username: str, password: str) -> Callable[..., AuthResult]:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = auth_data.login == username.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    return authenticate


# Test modules reach the helpers through fixtures: "import conftest" is ambiguous once several
# test directories have a conftest.py.
@pytest.fixture
def handler_class() -> type[RecordingHandler]:
    return RecordingHandler


@pytest.fixture
def authenticator() -> Callable[[str, str], Callable[..., AuthResult]]:
    return make_authenticator
