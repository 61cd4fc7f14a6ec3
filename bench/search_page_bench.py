"""The search as users meet it: /suche under gunicorn, the reindex command, import → searchable, worker memory.

    python bench/search_page_bench.py --docs 50000 --contacts 100000

Builds a SQLite instance with the search bench's German corpus as documents (with its ACLs, 40
users in 8 groups) and N imported contacts, then prints ONE line:

* import → searchable: the contact import (parse, plan, apply) and then the indexing service's
  background thread, until the queue is empty and a contact of the file is found;
* ``kundenakte search reindex`` itself (the real command, a subprocess): entries per second;
* /suche?q=Vertrag (a common word) p50/p95 under gunicorn with two workers, 20 logged-in users
  taking turns (one request at a time by default: what a request costs, not how long it queues),
  next to the bare /healthz page measured the same way;
* the RSS of each worker after 1,000 searches by those 20 users;
* save → searchable on another host: two gunicorn servers (2 workers each) on the same instance,
  a document created through the API of the first, then searched through the API of the second
  until it is found (p50/p95 over 30 saves; the second server's workers learn of it from the
  shared index, not from the saving process).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import generate  # noqa: E402
from search_bench import corpus  # noqa: E402
from web_bench import PASSWORD, bench_folder, gunicorn_server, log, p50_p95, request, session_cookie  # noqa: E402

from kundenakte.core import migrate  # noqa: E402
from kundenakte.core.config import load_settings  # noqa: E402
from kundenakte.core.runtime import Kundenakte  # noqa: E402

USERS = 40
GROUPS = 8
QUERY = "/suche?" + urlencode({"q": "Vertrag"})


def build(instance: Path, docs: int) -> None:
    """Schema through the migrations, users and groups through the core, documents bulk-inserted."""
    from kundenakte.core.passwords import hash_password
    from kundenakte.core.users import add_members, create_group, create_user

    ka = Kundenakte(load_settings({"instance": instance, "index_async": False}))
    migrate.upgrade(ka)
    hashed = hash_password(PASSWORD)
    with ka.db.write() as s:
        for i in range(USERS):  # ids 1..40, as the corpus's principals name them
            create_user(s, f"user{i}", "", display_name=f"Benutzer {i}", password_hash=hashed)
        for g in range(GROUPS):
            create_group(s, f"Gruppe {g + 1}")
    with ka.db.write() as s:
        for i in range(USERS):
            add_members(s, f"Gruppe {i % GROUPS + 1}", [f"user{i}"])
    ka.close()
    conn = sqlite3.connect(instance / "kundenakte.sqlite3")
    conn.execute("PRAGMA synchronous=OFF")
    rows, acl_rows = [], []
    for r in corpus(docs):
        ident = int(r.id.split(":")[1]) + 1
        rows.append((ident, r.type if r.type in ("email", "free_document", "task", "letter") else "free_document",
                     r.title, r.content, r.status, r.date.isoformat(), "{}", 1, 1, "2026-01-01 00:00:00", "2026-01-01 00:00:00"))
        acl_rows.extend((ident, p, "read") for p in r.read_principals)
    conn.executemany("INSERT INTO documents (id, type_key, title, content, status, document_date, data, version, author_id,"
                     " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.executemany("INSERT INTO document_acl (document_id, principal, role) VALUES (?,?,?)", acl_rows)
    conn.commit()
    conn.close()


def import_until_searchable(instance: Path, contacts: int, tmp: Path) -> float:
    from kundenakte.core import acl
    from kundenakte.core.exchange import read_records
    from kundenakte.core.exchange.importer import apply_import, plan_import

    path = tmp / "kontakte.csv"
    path.write_bytes(generate(contacts))
    ka = Kundenakte(load_settings({"instance": instance, "index_async": True}))
    try:
        start = time.perf_counter()
        records = read_records(path.read_bytes(), filename=path.name)
        with ka.db.read() as session:
            plan = plan_import(session, records)
        apply_import(ka, plan)
        ka.search.notify()
        while True:
            with ka.db.read() as session:
                if not ka.search.queue_length(session):
                    break
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        with ka.db.read() as session:
            contacts_found, _ = ka.search.master_data(session, records[-1].last_name)
            assert contacts_found, "the imported contacts are not searchable"
            assert acl.Viewer  # noqa: B018 - imported for the type only
        return elapsed
    finally:
        ka.close()


def reindex(instance: Path) -> tuple[float, int]:
    env = dict(os.environ, KUNDENAKTE_INSTANCE=str(instance), PYTHONPATH=str(ROOT))
    with sqlite3.connect(instance / "kundenakte.sqlite3") as conn:
        entries = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("documents", "contacts", "companies"))
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "kundenakte"), "search", "reindex"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return entries / (time.perf_counter() - start), entries


def timed_requests(port: int, path: str, cookies: list[str], total: int, threads: int) -> list[float]:
    samples: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            t = time.perf_counter()
            answer = request(port, "GET", path, headers={"Cookie": cookies[n % len(cookies)]})
            elapsed = (time.perf_counter() - t) * 1000
            assert answer.status == 200, f"{path} answered {answer.status}"
            with lock:
                samples.append(elapsed)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return samples


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident, of which private) MB: the rest is the index's files mapped into memory, which
    the workers share with each other and the page cache."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "RssAnon:")):
            fields[line.split(":")[0]] = int(line.split()[1]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("RssAnon", 0.0)


def api_token(instance: Path) -> str:
    from kundenakte.core.tokens import create_token

    ka = Kundenakte(load_settings({"instance": instance, "index_async": False}))
    try:
        with ka.db.write() as s:
            return create_token(s, 1, "bench")[1]
    finally:
        ka.close()


def fresh_on_other_host(instance: Path, tmp: Path, saves: int) -> tuple[float, float]:
    token = api_token(instance)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    (tmp / "a").mkdir(exist_ok=True)
    (tmp / "b").mkdir(exist_ok=True)
    samples: list[float] = []
    with gunicorn_server(instance, tmp / "a") as (port_a, _), gunicorn_server(instance, tmp / "b") as (port_b, _):
        for n in range(saves):
            word = f"frischwort{n}x{os.getpid()}"
            body = json.dumps({"type": "free_document", "title": f"Notiz {word}", "readers": ["u:1"]})
            answer = request(port_a, "POST", "/api/v1/documents", body, auth)
            assert answer.status == 201, f"create answered {answer.status}"
            saved = time.perf_counter()
            while True:
                if _search_total(port_b, word, auth):
                    break
                if time.perf_counter() - saved > 60:
                    raise RuntimeError(f"{word} not searchable on the other host after 60 s")
                time.sleep(0.005)
            samples.append((time.perf_counter() - saved) * 1000)
    return p50_p95(samples)


def _search_total(port: int, word: str, headers: dict[str, str]) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/api/v1/search?" + urlencode({"q": word}), headers=headers)
    response = conn.getresponse()
    data = json.loads(response.read())
    conn.close()
    assert response.status == 200, f"search answered {response.status}"
    return int(data["total"])


def serve(instance: Path, tmp: Path, searches: int, threads: int) -> tuple[
        tuple[float, float], tuple[float, float], list[tuple[float, float]]]:
    with gunicorn_server(instance, tmp) as (port, pid):
        cookies = [session_cookie(port, f"user{i}") for i in range(20)]
        timed_requests(port, QUERY, cookies, 40, threads)  # warm both workers
        page = timed_requests(port, QUERY, cookies, searches, threads)
        bare = timed_requests(port, "/healthz", cookies, searches, threads)
        children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return p50_p95(page), p50_p95(bare), [rss_mb(child) for child in children]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1,
                        help="client threads; 1 measures what one request costs, more measure queueing (bench/load.py)")
    parser.add_argument("--saves", type=int, default=30, help="saves for the other-host freshness figure")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with bench_folder("ka-search-page-", args.keep) as tmp:
        instance = tmp / "instance"
        build(instance, args.docs)
        log(f"built {args.docs} documents")
        searchable = import_until_searchable(instance, args.contacts, tmp)
        log(f"imported {args.contacts} contacts, searchable after {searchable:.1f} s")
        rate, entries = reindex(instance)
        log(f"reindexed {entries} entries at {rate:.0f}/s")
        (p50, p95), (b50, b95), rss = serve(instance, tmp, args.searches, args.threads)
        f50, f95 = fresh_on_other_host(instance, tmp, args.saves)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"docs={args.docs} contacts={args.contacts} load {load} | import->searchable {searchable:.1f} s | "
          f"reindex command {rate:.0f} entries/s ({entries}) | gunicorn 2 workers, 20 users, {args.threads} threads, "
          f"{args.searches} requests: /suche?q=Vertrag p50 {p50:.0f} / p95 {p95:.0f} ms vs /healthz p50 {b50:.0f} / "
          f"p95 {b95:.0f} ms | worker RSS after the searches {' / '.join(f'{r:.0f} ({a:.0f} private)' for r, a in rss)} MB"
          f" | save on host A -> found on host B ({args.saves} saves) p50 {f50:.0f} / p95 {f95:.0f} ms")


if __name__ == "__main__":
    main()
