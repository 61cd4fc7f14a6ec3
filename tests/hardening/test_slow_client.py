"""Slow clients on the live gunicorn server, started as ``kundenakte serve`` starts it.

Several clients dribble request bodies at 1 byte/s (raw sockets, a large Content-Length): API
document creates and attachment uploads, a web upload form and a web save. While they are in
flight, other users save documents through the web form and the API; every save must complete in
under 3 s (the bound the issue asks for). Before, an API request took SQLite's write lock before
reading its body and held it until the worker timed out, and two slow requests occupied both
sync workers.

More slow requests than one worker has threads: a worker whose threads are all taken must not
accept (and queue) the others' requests while the other worker has threads free.

Sizes: ``KUNDENAKTE_SLOW_CLIENTS`` dribbling requests (CI 12, full 15: one of the 2 × 8 threads
left), ``KUNDENAKTE_SLOW_SAVES`` saves per kind (CI 4, full 20).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kundenakte.core import acl
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import User
from tests.api import make_token
from tests.conftest import PASSWORD
from tests.hardening import FIGURES, PROBLEMS, env_int
from tests.hardening.live import TOKEN_RE, VENV_BIN, VERSION_RE, Client, Gunicorn

pytestmark = pytest.mark.timeout(600)

SLOW = env_int("KUNDENAKTE_SLOW_CLIENTS", 12, 15)
SAVES = env_int("KUNDENAKTE_SLOW_SAVES", 4, 20)
BOUND_S = 3.0


class Dribbler(threading.Thread):
    """Sends a request's headers and then its body one byte per second until stopped."""

    def __init__(self, port: int, head: bytes, body: bytes) -> None:
        super().__init__(daemon=True)
        self.port, self.head, self.body = port, head, body
        self.stop = threading.Event()
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(self.head)
                for byte in self.body:
                    if self.stop.wait(1.0):
                        return
                    sock.sendall(bytes([byte]))
                    self.sent += 1
        except OSError as exc:
            self.error = exc


def _request_head(method: str, path: str, content_type: str, length: int, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _multipart(fields: dict[str, str], filename: str, size: int) -> tuple[str, bytes]:
    boundary = "----kundenakte-slow"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n")
    body = "".join(parts).encode() + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def _document(ka: Any, login: str, title: str) -> int:
    with ka.db.write() as s:
        user = s.query(User).filter_by(login=login).one()
        viewer = acl.viewer_for(s, user)
        return create_document(ka, s, viewer, "free_document", DocumentInput(title=title, readers=["*"])).id


def _dribblers(server: Gunicorn, secret: str, web: Client, doc_id: int, count: int) -> list[Dribbler]:
    auth = {"Authorization": f"Bearer {secret}"}
    web_token = TOKEN_RE.search(web.get(f"/dokumente/{doc_id}/bearbeiten")[2]).group(1)  # type: ignore[union-attr]
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in web.cookies.items())}
    kinds = []
    api_json = json.dumps({"type": "free_document", "title": "Langsam", "readers": ["*"]}).encode().ljust(4000)
    kinds.append(("POST", "/api/v1/documents", "application/json", api_json, auth))
    ctype, body = _multipart({}, "langsam.bin", 200_000)
    kinds.append(("POST", f"/api/v1/documents/{doc_id}/attachments", ctype, body, auth))
    ctype, body = _multipart({"csrf_token": web_token, "title": "Langsam", "readers": "*"}, "langsam.txt", 200_000)
    kinds.append(("POST", "/dokumente/neu/free_document", ctype, body, cookie))
    form = f"csrf_token={web_token}&version=1&title=Langsam&readers=*&content=".encode() + b"x" * 5000
    kinds.append(("POST", f"/dokumente/{doc_id}/bearbeiten", "application/x-www-form-urlencoded", form, cookie))
    result = []
    for i in range(count):
        method, path, ctype, body, headers = kinds[i % len(kinds)]
        result.append(Dribbler(server.port, _request_head(method, path, ctype, len(body), headers), body))
    return result


@pytest.fixture
def server(ka: Any, people: Any, database: str, tmp_path: Path) -> Any:
    if not (VENV_BIN / "gunicorn").exists():
        pytest.skip("gunicorn not installed")
    srv = Gunicorn(ka.settings.instance, tmp_path / "server.log", database_url="" if database == "sqlite" else database)
    srv.start()
    yield srv
    srv.stop()


def test_saves_complete_while_slow_uploads_are_in_flight(server: Gunicorn, ka: Any, people: Any) -> None:
    slow_doc = _document(ka, "owner", "Ziel der langsamen Anfragen")
    web_doc = _document(ka, "editor", "Schnelle Webspeicherung")
    api_doc = _document(ka, "reader", "Schnelle API-Speicherung")
    slow_web = Client(server.port, "127.0.0.20")
    assert slow_web.login("owner", PASSWORD) == 302
    dribblers = _dribblers(server, make_token(ka, people.users["owner"]), slow_web, slow_doc, SLOW)
    for d in dribblers:
        d.start()
    time.sleep(2.5)  # every slow request is now inside the app, reading its body
    assert all(d.sent >= 1 and d.error is None for d in dribblers), [(d.sent, d.error) for d in dribblers]

    editor = Client(server.port, "127.0.0.21")
    assert editor.login("editor", PASSWORD) == 302
    reader_api = {"Authorization": f"Bearer {make_token(ka, people.users['reader'])}", "Content-Type": "application/json"}
    api = Client(server.port, "127.0.0.22")
    durations: list[float] = []
    failures: list[str] = []
    try:
        for n in range(SAVES):
            page = editor.get(f"/dokumente/{web_doc}/bearbeiten")[2]
            token, version = TOKEN_RE.search(page).group(1), VERSION_RE.search(page).group(1)  # type: ignore[union-attr]
            started = time.monotonic()
            status, _h, _b = editor.post_form(f"/dokumente/{web_doc}/bearbeiten", {
                "csrf_token": token, "version": version, "title": f"Web {n}", "content": f"<p>Web {n}</p>", "readers": "*"})
            durations.append(time.monotonic() - started)
            if status != 302:
                failures.append(f"web save {n}: {status}")

            status, _h, body = api.get(f"/api/v1/documents/{api_doc}", headers=reader_api)
            version = json.loads(body)["version"]
            started = time.monotonic()
            status, _h, body = api.request("PATCH", f"/api/v1/documents/{api_doc}", headers=reader_api,
                                           body=json.dumps({"version": version, "title": f"API {n}"}).encode())
            durations.append(time.monotonic() - started)
            if status != 200:
                failures.append(f"api save {n}: {status} {body[:200]}")
        still_dribbling = sum(1 for d in dribblers if d.is_alive() and d.error is None)
    finally:
        for d in dribblers:
            d.stop.set()
        for d in dribblers:
            d.join(10)

    slowest = max(durations)
    FIGURES["slow.clients"] = max(FIGURES["slow.clients"], len(dribblers))
    FIGURES["slow.saves"] += len(durations)
    FIGURES["slow.max_ms"] = max(FIGURES["slow.max_ms"], round(slowest * 1000))
    FIGURES["slow.failures"] += len(failures)
    print(f"{len(dribblers)} dribbling requests, {len(durations)} saves by others, slowest {slowest * 1000:.0f} ms")
    if slowest >= BOUND_S or failures:
        PROBLEMS.append(f"slow client: slowest save {slowest:.1f} s, failures {failures[:3]}")
    assert not failures, failures
    assert still_dribbling == len(dribblers), "a slow request ended early; the test did not hold it in flight"
    assert slowest < BOUND_S, durations
    assert "database is locked" not in server.log_text().lower()
