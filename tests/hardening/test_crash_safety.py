"""Crash safety: a real gunicorn on the embedded default (SQLite + Whoosh + files), killed with
SIGKILL at random points while a client uploads, saves and the index thread indexes; restarted each
time. Afterwards the database is intact, every attachment row has its blob, ``storage gc`` leaves no
blob without a row, ``search check --repair`` then ``search check`` is clean and no acknowledged
save is lost. Plus: a mail delivery killed between claim and record is "uncertain", never resent.

Kills: ``KUNDENAKTE_CRASH_KILLS`` (CI 5; the full battery 50).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kundenakte.core.models import Attachment, Document
from tests.conftest import PASSWORD, make_ka, password_hash
from tests.hardening import FIGURES, PROBLEMS, env_int, flush_index

pytestmark = [pytest.mark.sqlite_only, pytest.mark.timeout(600)]

KILLS = env_int("KUNDENAKTE_CRASH_KILLS", 5, 50)
VENV_BIN = Path(sys.executable).parent
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KUNDENAKTE_INSTANCE=str(instance))
    return subprocess.run([str(VENV_BIN / "kundenakte"), *args], env=env, capture_output=True, text=True, timeout=300)


class Server:
    def __init__(self, instance: Path, log: Path) -> None:
        self.instance, self.log = instance, log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(os.environ, KUNDENAKTE_INSTANCE=str(self.instance))
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "--workers", "1", "--threads", "2", "--bind", f"127.0.0.1:{self.port}",
                 "--graceful-timeout", "2", "kundenakte.web.wsgi:app"],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("server did not start: " + self.log.read_text()[-2000:])

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)  # master and worker at once, like a power cut
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


class Driver(threading.Thread):
    """Logs in through the form, then saves its document and uploads new ones until stopped."""

    def __init__(self, base: str, doc_id: int, seed: int, ledger: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.base, self.doc_id, self.rnd, self.ledger = base, doc_id, random.Random(seed), ledger
        self.stop = threading.Event()

    def run(self) -> None:
        import requests

        s = requests.Session()
        try:
            page = s.get(self.base + "/anmelden", timeout=10).text
            s.post(self.base + "/anmelden", data={"login": "crash", "password": PASSWORD,
                                                 "csrf_token": TOKEN_RE.search(page).group(1)}, timeout=10)  # type: ignore[union-attr]
            while not self.stop.is_set():
                if self.rnd.random() < 0.6:
                    self.save(s)
                else:
                    self.upload(s)
        except (requests.RequestException, AttributeError):
            return  # the server died under us: expected

    def save(self, s: Any) -> None:
        form = s.get(f"{self.base}/dokumente/{self.doc_id}/bearbeiten", timeout=10).text
        token, version = TOKEN_RE.search(form).group(1), VERSION_RE.search(form).group(1)
        n = self.ledger["attempted"] = self.ledger["attempted"] + 1
        response = s.post(f"{self.base}/dokumente/{self.doc_id}/bearbeiten", allow_redirects=False, timeout=10, data={
            "csrf_token": token, "version": version, "title": f"Stand {n}", "content": f"<p>Stand {n}</p>",
            "status": "", "readers": "*"})
        if response.status_code == 302:
            self.ledger["acknowledged"] = n
            FIGURES["crash.saves"] += 1
        elif response.status_code >= 500:
            self.ledger["5xx"] += 1

    def upload(self, s: Any) -> None:
        form = s.get(f"{self.base}/dokumente/neu/free_document", timeout=10).text
        token = TOKEN_RE.search(form).group(1)
        size = self.rnd.choice([10, 5000, 300_000])
        body = os.urandom(size)
        response = s.post(f"{self.base}/dokumente/neu/free_document", allow_redirects=False, timeout=20,
                          data={"csrf_token": token, "title": "Upload", "content": "<p>Upload absturzwort</p>", "readers": "*"},
                          files={"attachments": (f"datei-{self.rnd.randrange(10**6)}.bin", body)})
        if response.status_code == 302:
            match = re.search(r"/dokumente/(\d+)", response.headers.get("Location", ""))
            if match:
                self.ledger["uploads"].append(int(match.group(1)))
                FIGURES["crash.uploads"] += 1
        elif response.status_code >= 500:
            self.ledger["5xx"] += 1


def test_kill_minus_nine_at_random_points(tmp_path: Path, _sqlite_template: Path) -> None:
    pytest.importorskip("requests")
    if not (VENV_BIN / "gunicorn").exists():
        pytest.skip("gunicorn not installed")
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(_sqlite_template, instance / "kundenakte.sqlite3")
    # the server runs the entry-point plugins only; the template also holds the test plugin's (empty) tables
    from kundenakte.core import migrate
    from kundenakte.core.documents import DocumentInput, create_document
    from kundenakte.core.users import create_user

    ka = make_ka(instance, "sqlite", extra_plugins=[])
    migrate.upgrade(ka)
    with ka.db.write() as s:
        uid = create_user(s, "crash", PASSWORD, display_name="Crash", email="crash@example.org",
                          password_hash=password_hash()).id
    from kundenakte.core import acl
    from kundenakte.core.models import User

    with ka.db.write() as s:
        viewer = acl.viewer_for(s, s.get(User, uid))
        doc_id = create_document(ka, s, viewer, "free_document", DocumentInput(title="Stand 0", readers=["*"])).id
    ka.close()

    server = Server(instance, tmp_path / "server.log")
    rnd = random.Random(int(os.environ.get("KUNDENAKTE_CRASH_SEED", "4711")))
    ledger: dict[str, Any] = {"attempted": 0, "acknowledged": 0, "uploads": [], "5xx": 0}
    try:
        for kill in range(KILLS):
            server.start()
            driver = Driver(server.base, doc_id, rnd.randrange(10**9), ledger)
            driver.start()
            time.sleep(rnd.uniform(0.5, 2.5))
            server.kill()
            driver.stop.set()
            driver.join(15)
            FIGURES["crash.kills"] += 1
        # one clean run at the end, so the index thread catches up with what is queued
        server.start()
    finally:
        server.stop()

    problems: list[str] = []
    with sqlite3.connect(instance / "kundenakte.sqlite3") as conn:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            problems.append(f"integrity_check: {result}")
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append(f"foreign_key_check: {fk[:5]}")
    ka = make_ka(instance, "sqlite", extra_plugins=[])
    try:
        with ka.db.read() as s:
            rows = list(s.execute(select(Attachment.id, Attachment.sha256, Attachment.document_id)))
            title = s.scalar(select(Document.title).where(Document.id == doc_id))
            existing = set(s.scalars(select(Document.id)))
        for att_id, sha, _doc in rows:
            if not ka.storage.exists(sha):
                problems.append(f"attachment {att_id}: blob {sha} missing")
        stored = int(title.split()[-1])
        if stored < ledger["acknowledged"]:
            problems.append(f"lost update: acknowledged 'Stand {ledger['acknowledged']}', stored '{title}'")
        if stored > ledger["attempted"]:
            problems.append(f"stored '{title}' was never sent (attempted {ledger['attempted']})")
        for upload in ledger["uploads"]:
            if upload not in existing:
                problems.append(f"acknowledged upload document {upload} lost")
        referenced = {sha for _i, sha, _d in rows}
    finally:
        ka.close()
    gc = cli(instance, "storage", "gc", "--min-age", "0")
    if gc.returncode != 0:
        problems.append(f"storage gc failed: {gc.stderr[-500:]}")
    files = instance / "files"
    for path in files.rglob("*"):
        if path.is_file() and "tmp" not in path.relative_to(files).parts and path.name not in referenced:
            problems.append(f"blob without a row after gc: {path.relative_to(files)}")
    repair = cli(instance, "search", "check", "--repair")
    if repair.returncode != 0:
        problems.append(f"search check --repair failed: {repair.stdout[-300:]} {repair.stderr[-800:]}")
    check = cli(instance, "search", "check")
    if check.returncode != 0:
        problems.append(f"search check after repair not clean: {check.stdout[-500:]}")
    log = (tmp_path / "server.log").read_text(errors="replace")
    if ledger["5xx"]:
        problems.append(f"{ledger['5xx']} 5xx answers")
    FIGURES["crash.inconsistencies"] += len(problems)
    FIGURES["crash.locked"] += log.count("database is locked")
    PROBLEMS.extend(f"crash safety: {p}" for p in problems)
    assert ledger["acknowledged"] > 0 or ledger["uploads"], "the driver never got a write through: " + log[-2000:]
    assert not problems, problems


def test_mail_killed_while_sending_is_uncertain_and_never_resent(ka: Any, people: Any) -> None:
    """The delivery protocol claims a row (state ``sending``, committed) before it talks to the server;
    a process killed right there leaves the row ``sending``. The next run must not send it again."""
    if ka.db.url.startswith("postgresql"):
        pytest.skip("the CLI run below uses the embedded instance")
    from kundenakte.core.documents import DocumentInput, create_document
    from kundenakte.plugins.communication import outbox
    from kundenakte.plugins.communication.models import OutboxEntry

    with ka.db.write() as s:
        doc = create_document(ka, s, people.viewer("owner"), "email", DocumentInput(
            title="Angebot", data={"subject": "Angebot", "to_email": "lea@example.org", "to_name": "Lea"}))
        entry = outbox.queue_email(ka, s, people.viewer("owner"), doc.id)
        s.flush()
        entry_id, doc_id = entry.id, doc.id
    ka.close()
    # What a delivery run does first — claim the row and commit — in a process then killed with -9
    # (the claim records its process, and only a claim whose process is gone counts as a crash).
    claimer = (
        "import os, signal\n"
        "from kundenakte.core.config import load_settings\n"
        "from kundenakte.core.runtime import Kundenakte\n"
        "from kundenakte.plugins.communication import outbox\n"
        f"ka = Kundenakte(load_settings({{'instance': {str(ka.settings.instance)!r}, 'index_async': False}}))\n"
        f"assert outbox._claim(ka, {entry_id})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", claimer], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    eml_dir = Path(ka.settings.instance) / "outbox"
    before = set(eml_dir.rglob("*")) if eml_dir.exists() else set()
    for _run in range(2):  # two later runs of the cron job (a real process, as cron starts it)
        result = cli(Path(ka.settings.instance), "mail", "send-queued")
        assert result.returncode == 0, result.stdout + result.stderr
    FIGURES["crash.mail_kills"] += 1
    again = make_ka(Path(ka.settings.instance), "sqlite")
    try:
        with again.db.read() as s:
            row = s.get(OutboxEntry, entry_id)
            status = s.get(Document, doc_id).status
        problems = []
        if row.state != "uncertain":
            problems.append(f"outbox row state {row.state!r}, expected 'uncertain'")
        if row.attempts != 1:
            problems.append(f"attempts {row.attempts}: resent")
        if status != "uncertain":
            problems.append(f"document status {status!r}")
        after = set(eml_dir.rglob("*")) if eml_dir.exists() else set()
        if after - before:
            problems.append(f"resent as {sorted(str(p) for p in after - before)}")
    finally:
        again.close()
    FIGURES["crash.inconsistencies"] += len(problems)
    PROBLEMS.extend(f"outbox: {p}" for p in problems)
    assert not problems


def test_index_flush_with_new_attachment_and_contact(ka: Any, people: Any) -> None:
    """Regression of finding F1 (fixed in 80a3b4d): text extraction dirtied the flush's read session,
    whose next query autoflushed and SQLite answered "database is locked"."""
    import io

    from kundenakte.core.attachments import add_attachment
    from kundenakte.core.documents import DocumentInput, create_document
    from kundenakte.core.documents import queue_index
    from kundenakte.core.models import Contact

    with ka.db.write() as s:
        contact = Contact(first_name="Lea", last_name="Müller")
        s.add(contact)
        s.flush()
        queue_index(s, f"contact:{contact.id}")
        doc = create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(
            title="Mit Anhang", data={"subject": "x"}, contact_id=contact.id))
        s.flush()
        add_attachment(ka, s, people.viewer("owner"), doc, io.BytesIO(b"Anhangtext zitronenfalter\n"), "a.txt")
    ka.search.flush()  # raised OperationalError "database is locked" before the fix
    with ka.db.read() as s:
        assert ka.search.search(s, people.viewer("owner"), "zitronenfalter").total == 1
