"""Load test: gunicorn as `kundenakte serve` runs it, on a fresh demo instance, a client mix for a fixed time.

    python bench/load.py                      # 60 s on the embedded default (SQLite + Whoosh)
    python bench/load.py --seconds 20 --clients 6
    python bench/load.py --clients 20 --companies 200     # 20 users, one thread each, no think time
    python bench/load.py --worker-class sync --workers 2  # the former default worker model, for comparison
    python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The server is ``kundenakte.cli.gunicorn_command`` (gthread, ``--workers`` × ``--threads``, default
2 × 8); ``--worker-class sync`` runs plain sync workers instead.

The clients log in through the real form (CSRF token) and mix page reads, searches, saves to the
SAME few documents with the form's version field (a stale version must answer 409, never overwrite)
and uploads. Afterwards: lost updates are counted from the versions (every acknowledged save adds
exactly one version), the server log is searched for "database is locked", the index is compared
with the database (``kundenakte search check``). Besides the p95 of all requests, the line gives the
p95 of the cheap pages — contact list, a contact, a contact's overview (from the overview cache after
its first request) — which must not queue behind searches and saves. Prints ONE line; exit status 1
when a must-be-zero figure is not zero.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
WORDS = ["Angebot", "Vertrag", "Rechnung", "Müller", "Besuch", "Termin", "Pumpe", "Wartung", "Lieferung", "GmbH"]
SAVE_TYPES = ("phone_note", "visit_report", "contact_report", "free_document")
CHEAP = ("contact list", "contact", "overview")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(BIN / "kundenakte"), *args], env=env, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise SystemExit(f"kundenakte {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def open_ka(instance: Path, database_url: str) -> Any:
    from kundenakte.core.config import load_settings
    from kundenakte.core.runtime import Kundenakte

    overrides: dict[str, Any] = {"instance": instance, "index_async": False}
    if database_url:
        overrides["database_url"] = database_url
    return Kundenakte(load_settings(overrides))


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.status: dict[int, int] = {}
        self.errors = 0
        self.acks: dict[int, int] = {}  # document id -> acknowledged saves
        self.conflicts = 0
        self.uploads = 0
        self.by_kind: dict[str, list[float]] = {}

    def record(self, started: float, status: int, kind: str = "") -> None:
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
            self.status[status] = self.status.get(status, 0) + 1
            if kind and status in (200, 302):
                self.by_kind.setdefault(kind, []).append(elapsed)


class Client(threading.Thread):
    def __init__(self, base: str, login: str, password: str, docs: list[int], contacts: list[int], stats: Stats,
                 until: float, seed: int, writer: bool) -> None:
        super().__init__(daemon=True)
        self.base, self.login, self.password, self.docs, self.stats = base, login, password, docs, stats
        self.contacts = contacts
        self.until, self.rnd, self.writer = until, random.Random(seed), writer

    def request(self, session: Any, method: str, path: str, kind: str = "", **kw: Any) -> Any:
        import requests

        started = time.perf_counter()
        try:
            response = session.request(method, self.base + path, timeout=30, allow_redirects=False, **kw)
        except requests.RequestException:
            with self.stats.lock:
                self.stats.errors += 1
            return None
        self.stats.record(started, response.status_code, kind)
        return response

    def run(self) -> None:
        import requests

        s = requests.Session()
        page = self.request(s, "GET", "/anmelden")
        token = TOKEN_RE.search(page.text).group(1)  # type: ignore[union-attr]
        done = self.request(s, "POST", "/anmelden", data={"login": self.login, "password": self.password, "csrf_token": token})
        if done is None or done.status_code != 302:
            raise SystemExit(f"login of {self.login} failed: {done.status_code if done is not None else 'no answer'}")
        while time.time() < self.until:
            roll = self.rnd.random()
            if not self.writer or roll < 0.35:
                self.read(s)
            elif roll < 0.55:
                self.request(s, "GET", "/suche", "search", params={"q": self.rnd.choice(WORDS)})
            elif roll < 0.9:
                self.save(s)
            else:
                self.upload(s)

    def read(self, s: Any) -> None:
        contact = self.rnd.choice(self.contacts)
        kind, path = self.rnd.choice([
            ("home", "/"), ("contact list", "/kontakte"), ("company list", "/unternehmen"), ("tasks", "/aufgaben"),
            ("document", f"/dokumente/{self.rnd.choice(self.docs)}"),
            ("suggestions", "/suche/vorschlaege?q=" + self.rnd.choice(WORDS)[:4]),
            ("contact", f"/kontakte/{contact}"), ("overview", f"/kontakte/{contact}/uebersicht")])
        self.request(s, "GET", path, kind)

    def save(self, s: Any) -> None:
        doc = self.rnd.choice(self.docs)
        form = self.request(s, "GET", f"/dokumente/{doc}/bearbeiten", "edit form")
        if form is None or form.status_code != 200:
            return
        token, version = TOKEN_RE.search(form.text), VERSION_RE.search(form.text)
        if not token or not version:
            return
        time.sleep(self.rnd.uniform(0, 0.05))  # think time: others save in between, so conflicts happen
        stamp = f"{self.name}-{time.time():.6f}"
        response = self.request(s, "POST", f"/dokumente/{doc}/bearbeiten", "save", data={
            "csrf_token": token.group(1), "version": version.group(1), "title": f"Lasttest {stamp}",
            "content": f"<p>Stand {stamp}</p>", "readers": "*"})
        if response is None:
            return
        with self.stats.lock:
            if response.status_code == 302:
                self.stats.acks[doc] = self.stats.acks.get(doc, 0) + 1
            elif response.status_code == 409:
                self.stats.conflicts += 1

    def upload(self, s: Any) -> None:
        form = self.request(s, "GET", "/dokumente/neu/free_document", "new form")
        if form is None or form.status_code != 200:
            return
        token = TOKEN_RE.search(form.text)
        if not token:
            return
        response = self.request(s, "POST", "/dokumente/neu/free_document", "upload", data={
            "csrf_token": token.group(1), "title": "Lastupload", "content": "<p>Lastupload</p>", "readers": "*"},
            files={"attachments": (f"last-{self.rnd.randrange(10**9)}.txt", os.urandom(self.rnd.choice([100, 20_000])))})
        if response is not None and response.status_code == 302:
            with self.stats.lock:
                self.stats.uploads += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (half of them write)")
    parser.add_argument("--docs", type=int, default=3, help="documents all writers save to")
    parser.add_argument("--companies", type=int, default=15, help="size of the demo data")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (an empty database/schema)")
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread",
                        help="gthread: exactly `kundenakte serve`'s command; sync: the former default")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (gthread)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance")
    parser.add_argument("--workdir", default="", help="reuse (or create and keep) the instance in this folder")
    args = parser.parse_args(argv)
    import requests

    from sqlalchemy import select

    from kundenakte.core import acl
    from kundenakte.core.demo import DEMO_PASSWORD
    from kundenakte.core.models import Contact, Document, User

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="kundenakte-load-"))
    reuse = bool(args.workdir) and (workdir / "instance").exists()
    if args.workdir:
        args.keep = True
    instance = workdir / "instance"
    env = dict(os.environ, KUNDENAKTE_INSTANCE=str(instance))
    if args.database_url:
        env["KUNDENAKTE_DATABASE_URL"] = args.database_url
    if not reuse:
        run_cli(env, "init")
        run_cli(env, "demo", "--companies", str(args.companies))
        run_cli(env, "search", "reindex")

    ka = open_ka(instance, args.database_url)
    with ka.db.read() as s:
        admin = s.scalar(select(User).where(User.login == "admin"))
        reader_login = s.scalar(select(User.login).where(User.login != "admin", User.active.is_(True)).order_by(User.id))
        viewer = acl.viewer_for(s, admin)
        docs = list(s.scalars(select(Document.id).where(Document.type_key.in_(SAVE_TYPES), Document.archived_at.is_(None),
                                                      acl.readable_clause(viewer)).order_by(Document.id).limit(args.docs)))
        readable = list(s.scalars(select(Document.id).order_by(Document.id).limit(200)))
        contacts = list(s.scalars(select(Contact.id).order_by(Contact.id).limit(50)))
        before = dict(s.execute(select(Document.id, Document.version).where(Document.id.in_(docs))).all())
    ka.close()
    if not docs:
        raise SystemExit("no document to save to in the demo data")

    port = free_port()
    log_path = workdir / "server.log"
    control = workdir / "gunicorn.ctl"
    if args.worker_class == "gthread":
        from kundenakte.cli import gunicorn_command

        _exe, gunicorn = gunicorn_command("127.0.0.1", port, args.workers, args.threads, str(instance))
        gunicorn[-1:-1] = ["--error-logfile", "-", "--capture-output"]
    else:
        gunicorn = [str(BIN / "gunicorn"), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
                    "--control-socket", str(control), "--error-logfile", "-", "--capture-output", "kundenakte.web.wsgi:app"]
    log = log_path.open("wb")
    server = subprocess.Popen(gunicorn, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("server did not start:\n" + log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.2)

        # Untimed warm-up: every contact's overview once per worker (likely), so the run measures the
        # overview "from cache" as a returning user sees it; saves during the run invalidate some.
        warm = Client(base, reader_login, DEMO_PASSWORD, readable, contacts, Stats(), time.time(), 0, writer=False)
        warm_session = requests.Session()
        page = warm.request(warm_session, "GET", "/anmelden")
        warm.request(warm_session, "POST", "/anmelden", data={"login": reader_login, "password": DEMO_PASSWORD,
                                                             "csrf_token": TOKEN_RE.search(page.text).group(1)})
        for contact in contacts * 3:
            warm.request(warm_session, "GET", f"/kontakte/{contact}/uebersicht")

        stats = Stats()
        until = time.time() + args.seconds
        writers = max(1, args.clients // 2)
        clients = [Client(base, "admin", DEMO_PASSWORD, docs, contacts, stats, until, i, writer=True)
                   for i in range(writers)]
        clients += [Client(base, reader_login, DEMO_PASSWORD, readable, contacts, stats, until, 100 + i, writer=False)
                    for i in range(args.clients - writers)]
        started = time.time()
        for c in clients:
            c.start()
        for c in clients:
            c.join(args.seconds + 120)
        elapsed = time.time() - started

        # let the index threads catch up before comparing the index with the database
        ka = open_ka(instance, args.database_url)
        try:
            drain_deadline = time.time() + 120
            while time.time() < drain_deadline:
                with ka.db.read() as s:
                    if ka.search.queue_length(s) == 0:
                        break
                time.sleep(0.5)
            with ka.db.read() as s:
                after = dict(s.execute(select(Document.id, Document.version).where(Document.id.in_(docs))).all())
        finally:
            ka.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()

    check = run_cli(env, "search", "check", check=False)
    lost = sum(max(0, stats.acks.get(d, 0) - (after[d] - before[d])) for d in docs)
    phantom = sum(max(0, (after[d] - before[d]) - stats.acks.get(d, 0)) for d in docs)
    server_log = log_path.read_text(errors="replace")
    locked = server_log.lower().count("database is locked")
    fivexx = sum(n for code, n in stats.status.items() if code >= 500)
    total = sum(stats.status.values())
    lat = sorted(stats.latencies)
    p95 = lat[int(len(lat) * 0.95)] * 1000 if lat else 0.0
    from bench.web_bench import percentile

    cheap_all = [v for kind in CHEAP for v in stats.by_kind.get(kind, [])]
    cheap = ", ".join(f"{kind} {percentile(stats.by_kind[kind], 95) * 1000:.0f}" for kind in CHEAP if stats.by_kind.get(kind))
    model = (f"{args.workers} gthread workers × {args.threads} threads" if args.worker_class == "gthread"
             else f"{args.workers} sync workers")
    index_ok = check.returncode == 0
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"load ({backend}, {model}, {args.clients} clients, {elapsed:.0f} s): {total / elapsed:.1f} requests/s, "
          f"p95 {p95:.0f} ms, cheap pages p95 {percentile(cheap_all, 95) * 1000 if cheap_all else 0.0:.0f} ms "
          f"({cheap} ms; {len(cheap_all)} requests), "
          f"5xx {fivexx}, database is locked {locked}, lost updates {lost}, "
          f"saves {sum(stats.acks.values())} (409 conflicts {stats.conflicts}), uploads {stats.uploads}, "
          f"connection errors {stats.errors}, index == database: {'yes' if index_ok else 'NO'}")
    for kind, values in sorted(stats.by_kind.items()):
        print(f"  {kind:<13} {len(values):>6} requests  p50 {percentile(values, 50) * 1000:6.0f} ms  "
              f"p95 {percentile(values, 95) * 1000:6.0f} ms", file=sys.stderr)
    if not index_ok:
        print(check.stdout[-1500:], file=sys.stderr)
    if phantom:
        print(f"note: {phantom} version step(s) without an acknowledged save (a save whose answer was lost)", file=sys.stderr)
    if args.keep:
        print(f"instance kept in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if (fivexx == 0 and locked == 0 and lost == 0 and index_ok and stats.errors == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
