"""Contact filter and page throughput benchmark.

    python bench/web_bench.py --contacts 1000000

Builds a seeded SQLite instance with N contacts (and N/10 companies), then prints ONE line:

* the contact filter of the manual (PLZ 88212 + company "doc*" + account manager) through
  ``kundenakte.core.directory.filter_contacts`` inside an open session (as a page calls it, after
  the login opened the request's session) next to the very same SQL statements on raw ``sqlite3``
  (p50/p95 in ms, target: at most twice the raw time), and also including opening and closing a
  session per call;
* requests per second under gunicorn (2 workers) for the filtered contact list page and for the
  bare ``/healthz`` page of the same app, driven by a bounded thread + ``http.client`` load client.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kundenakte.core import migrate  # noqa: E402
from kundenakte.core.config import load_settings  # noqa: E402
from kundenakte.core.directory import ContactFilter, filter_contacts  # noqa: E402
from kundenakte.core.runtime import Kundenakte  # noqa: E402
from kundenakte.core.text import fold  # noqa: E402

PASSWORD = "bench-password-1"
USERS = 40
PREFIXES = ("Alpha Beta Delta Nord Süd West Ost Rhein Main Elb Isar Weser Berg Tal Stadt Land Bau Holz Stahl Glas "
            "Müller Schäfer Weiß Groß Klein Neu Alt Öko Bio Tech Data Net Soft Med Agrar Auto Elektro Energie").split()
SUFFIXES = "werk bau technik haus handel service systeme logistik consult partner media druck".split()
LEGAL = ("GmbH", "GmbH & Co. KG", "AG", "KG", "e.K.", "OHG", "UG")
FIRST = "Lea Max Anna Paul Marie Jonas Sophie Felix Emma Leon Mia Lukas Hannah Jan Laura Tim Julia Finn Lena Ben".split()
LAST = ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter "
        "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Öztürk Weiß Groß").split()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- data ------------------------------------------------------------------------------------------


def build(instance: Path, contacts: int, seed: int) -> dict[str, Any]:
    """Create the schema through the migrations, then bulk-insert master data with executemany."""
    from kundenakte.core.users import create_user
    from kundenakte.core.passwords import hash_password

    ka = Kundenakte(load_settings({"instance": instance, "index_async": False}), extra_plugins=())
    migrate.upgrade(ka)
    hashed = hash_password(PASSWORD)
    with ka.db.write() as s:
        ids = [create_user(s, f"user{i}", "", display_name=f"Benutzer {i}", password_hash=hashed).id for i in range(USERS)]
    ka.close()

    rnd = random.Random(seed)
    now = dt.datetime(2026, 1, 1).isoformat(sep=" ")
    n_companies = max(10, contacts // 10)
    postal_codes = [f"{rnd.randint(1000, 99999):05d}" for _ in range(max(10, contacts // 200))]
    postal_codes[0] = "88212"
    conn = sqlite3.connect(instance / "kundenakte.sqlite3")
    conn.execute("PRAGMA synchronous=OFF")
    companies = []
    for cid in range(1, n_companies + 1):
        if cid == 1:
            name, plz, city = "DOCHOUSE GmbH", "88212", "Ravensburg"
        else:
            first = "Doc" if rnd.random() < 0.01 else rnd.choice(PREFIXES)
            name = f"{first}{rnd.choice(SUFFIXES)} {rnd.choice(LEGAL)}"
            plz, city = rnd.choice(postal_codes), f"Ort {rnd.randint(1, 3000)}"
        companies.append((cid, name, fold(name), f"Straße {rnd.randint(1, 200)}", plz, city, fold(city), "Deutschland",
                          "", "", "", rnd.choice(ids), now, now))
    conn.executemany(
        "INSERT INTO companies (id, name, name_folded, street, postal_code, city, city_folded, country, phone, email, web,"
        " account_manager_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", companies)
    # Contacts share their company's address (as the web form copies it), so PLZ and company correlate.
    batch: list[tuple[Any, ...]] = []
    for pid in range(1, contacts + 1):
        company = companies[0] if pid <= 3 else companies[rnd.randrange(n_companies)]
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        manager = ids[0] if pid == 1 else (company[11] if rnd.random() < 0.7 else rnd.choice(ids))
        batch.append(("unknown", "", first, last, fold(f"{first} {last}"), "", "de", company[0], "", "", "", True,
                      company[3], company[4], company[5], company[6], "Deutschland", manager, now, now))
        if len(batch) == 50_000:
            _insert_contacts(conn, batch)
            batch = []
    _insert_contacts(conn, batch)
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return {"manager": ids[0], "users": ids}


def _insert_contacts(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    conn.executemany(
        "INSERT INTO contacts (gender, title, first_name, last_name, name_folded, salutation_override, language,"
        " company_id, position, email, phone, use_company_address, street, postal_code, city, city_folded, country,"
        " account_manager_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)


# -- filter timing ---------------------------------------------------------------------------------


@contextmanager
def bench_folder(prefix: str, keep: bool) -> Iterator[Path]:
    """A temporary folder for one benchmark's instance, removed afterwards unless ``keep``."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield tmp
    finally:
        if keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def p50_p95(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), percentile(values, 95)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def time_filter(instance: Path, manager: int, runs: int) -> tuple[list[float], list[float], list[float], int]:

    ka = Kundenakte(load_settings({"instance": instance, "index_async": False}), extra_plugins=())
    f = ContactFilter(postal_code="88212", company="doc*", account_manager_id=manager)
    captured: list[tuple[str, Any]] = []
    from kundenakte.core import directory

    run = directory._run

    def recording(session: Any, shape: Any, build: Any, params: dict[str, Any]) -> Any:
        # The very statement and arguments the filter hands to the driver (it bypasses
        # SQLAlchemy's cursor events, so they are taken from its statement cache).
        rows = run(session, shape, build, params)
        sql, order = directory._SQL[(session.connection().dialect.name, *shape)]
        captured.append((sql, tuple(params[name] for name in order) if order is not None else params))
        return rows

    directory._run = recording
    try:
        with ka.db.read() as session:
            rows, total = filter_contacts(session, f, page=1, per_page=50)
    finally:
        directory._run = run

    # As a page calls it: inside the request's session, which the login already opened.
    kundenakte_ms: list[float] = []
    with ka.db.read() as session:
        filter_contacts(session, f, page=1, per_page=50)
        for _ in range(runs):
            start = time.perf_counter()
            filter_contacts(session, f, page=1, per_page=50)
            kundenakte_ms.append((time.perf_counter() - start) * 1000)
    # And including opening and closing a session (connection checkout, BEGIN, rollback).
    fresh_ms: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        with ka.db.read() as session:
            filter_contacts(session, f, page=1, per_page=50)
        fresh_ms.append((time.perf_counter() - start) * 1000)
    ka.close()

    raw = sqlite3.connect(instance / "kundenakte.sqlite3")
    raw_ms: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        for statement, parameters in captured:
            raw.execute(statement, parameters).fetchall()
        raw_ms.append((time.perf_counter() - start) * 1000)
    raw.close()
    return kundenakte_ms, fresh_ms, raw_ms, total


# -- HTTP throughput ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body or None, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def session_cookie(port: int, login: str = "user0", password: str = PASSWORD) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/anmelden")
    response = conn.getresponse()
    page = response.read().decode()
    conn.close()
    cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    body = urlencode({"login": login, "password": password, "csrf_token": token.group(1)})
    response = request(port, "POST", "/anmelden", body,
                       {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    assert response.status == 302, f"login of {login} failed: {response.status}"
    return (response.getheader("Set-Cookie") or cookie).split(";")[0]


def load(port: int, path: str, cookie: str, seconds: float, threads: int) -> float:
    """Requests per second with ``threads`` clients for ``seconds``; every answer must be 200."""
    done = [0] * threads
    failed = [0] * threads
    deadline = time.monotonic() + seconds

    def worker(slot: int) -> None:
        while time.monotonic() < deadline:
            try:
                response = request(port, "GET", path, headers={"Cookie": cookie})
                if response.status == 200:
                    done[slot] += 1
                else:
                    failed[slot] += 1
            except OSError:
                failed[slot] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    start = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - start
    if sum(failed):
        log(f"warning: {sum(failed)} failed requests on {path}")
    return sum(done) / elapsed


@contextmanager
def gunicorn_server(instance: Path, tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[tuple[int, int]]:
    """gunicorn with two sync workers on the instance: (port, master pid), stopped afterwards."""
    port = free_port()
    env = dict(os.environ, KUNDENAKTE_INSTANCE=str(instance), KUNDENAKTE_SECRET_KEY="bench-secret",
               PYTHONPATH=str(ROOT), **(extra_env or {}))
    gunicorn = Path(sys.executable).with_name("gunicorn")
    cmd = [str(gunicorn) if gunicorn.exists() else "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
           "--control-socket", str(tmp / "gunicorn.ctl"), "--log-level", "warning", "kundenakte.web:create_app()"]
    server = subprocess.Popen(cmd, env=env, cwd=str(tmp), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            try:
                if request(port, "GET", "/healthz").status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start: " + (server.stderr.read().decode() if server.stderr else ""))
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def serve_and_load(instance: Path, tmp: Path, page: str, seconds: float, threads: int,
                   extra_env: dict[str, str] | None = None) -> tuple[float, float]:
    """requests/s of ``page`` and of the bare /healthz page, both served by gunicorn with two workers."""
    with gunicorn_server(instance, tmp, {"KUNDENAKTE_INDEX_ASYNC": "false", **(extra_env or {})}) as (port, _pid):
        cookie = session_cookie(port)
        probe = request(port, "GET", page, headers={"Cookie": cookie})
        assert probe.status == 200, f"{page} answered {probe.status}"
        load(port, page, cookie, 1.0, threads)  # warm both workers
        page_rps = load(port, page, cookie, seconds, threads)
        bare_rps = load(port, "/healthz", cookie, seconds, threads)
        return page_rps, bare_rps


def http_bench(instance: Path, tmp: Path, manager: int, seconds: float, threads: int) -> tuple[float, float]:
    page = "/kontakte?" + urlencode({"plz": "88212", "unternehmen": "doc*", "betreuer": manager})
    return serve_and_load(instance, tmp, page, seconds, threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=300, help="filter calls per side")
    parser.add_argument("--seconds", type=float, default=10.0, help="load duration per page")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance")
    args = parser.parse_args()

    with bench_folder("ka-web-bench-", args.keep) as tmp:
        instance = tmp / "instance"
        started = time.perf_counter()
        info = build(instance, args.contacts, args.seed)
        log(f"built {args.contacts} contacts in {time.perf_counter() - started:.1f} s under {instance}")
        ka_ms, fresh_ms, raw_ms, hits = time_filter(instance, info["manager"], args.runs)
        (ka50, ka95), (fresh50, fresh95), (raw50, raw95) = p50_p95(ka_ms), p50_p95(fresh_ms), p50_p95(raw_ms)
        list_rps, bare_rps = http_bench(instance, tmp, info["manager"], args.seconds, args.threads)
        print(
            f"N={args.contacts} contacts ({max(10, args.contacts // 10)} companies), filter PLZ 88212 + 'doc*' + manager "
            f"({hits} hits): filter_contacts p50 {ka50:.2f} ms / p95 {ka95:.2f} ms vs raw sqlite3 p50 {raw50:.2f} ms / "
            f"p95 {raw95:.2f} ms (ratio p50 {ka50 / raw50:.2f}x, p95 {ka95 / raw95:.2f}x); with opening a session each "
            f"time p50 {fresh50:.2f} ms / p95 {fresh95:.2f} ms; gunicorn 2 workers, "
            f"{args.threads} client threads, {args.seconds:g} s: /kontakte filtered {list_rps:.0f} req/s vs /healthz "
            f"{bare_rps:.0f} req/s"
        )


if __name__ == "__main__":
    main()
