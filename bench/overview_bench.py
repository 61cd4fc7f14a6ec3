"""Company overview ("Übersicht") benchmark.

    python bench/overview_bench.py --docs 10000

Builds a seeded SQLite instance with one company, 50 contacts and N documents spread over every
overview section (communication, tasks, contracts, sales, projects; every status, with amounts)
and ACL rows of every kind (``*``, the group Vertrieb, single users), then prints ONE line:

* the overview build (every section: grouped counts/sums and the first page of the default filter)
  through ``kundenakte.core.overview.build_overview`` as a normal non-admin user with group rights,
  next to hand-written raw ``sqlite3`` SQL doing the same work (per section one GROUP BY count query
  with the ACL ``EXISTS`` and one first-page query joining contact and responsible user): p50/p95
  in ms, target at most 3× the raw time;
* the same build reusing counts and rows through ``core/overview_cache.py`` (what a repeated view
  of an unchanged company costs; any document, ACL or name change starts over);
* requests per second under gunicorn (2 workers) for the overview page and for the bare
  ``/healthz`` page of the same app (bounded thread + ``http.client`` load client on 127.0.0.1,
  fixed duration), target: the overview at least 15 % of ``/healthz``; once as served (with the
  reuse) and once with ``KUNDENAKTE_OVERVIEW_CACHE=false``, i.e. every request computing afresh.

Documents are inserted directly (``executemany``) with their ``document_acl`` rows, exactly the rows
``kundenakte.core.documents`` would write; the schema comes from the migrations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.web_bench import PASSWORD, bench_folder, log, p50_p95, serve_and_load  # noqa: E402
from kundenakte.core import acl, migrate  # noqa: E402
from kundenakte.core.config import load_settings  # noqa: E402
from kundenakte.core.overview import PER_PAGE, build_overview, sections_for  # noqa: E402
from kundenakte.core.runtime import Kundenakte  # noqa: E402
from kundenakte.core.text import fold  # noqa: E402

USERS = 20
CONTACTS = 50
# (type key, statuses, amount range or None, share of the documents)
MIX: list[tuple[str, tuple[str, ...], tuple[int, int] | None, float]] = [
    ("email", ("draft", "sent", "sent", "sent"), None, 0.18),
    ("letter", ("draft", "sent"), None, 0.06),
    ("phone_note", ("",), None, 0.08),
    ("free_document", ("",), None, 0.04),
    ("contact_report", ("",), None, 0.04),
    ("task", ("open", "done", "done"), None, 0.20),
    ("contract", ("active", "cancelled", "ended"), (50, 5000), 0.10),
    ("opportunity", ("open", "won", "lost", "discontinued"), (500, 100_000), 0.10),
    ("quote", ("open", "won", "lost", "discontinued"), (100, 50_000), 0.10),
    ("project", ("open", "planned", "in_progress", "done"), (1000, 200_000), 0.10),
]


# -- data ------------------------------------------------------------------------------------------


def build(instance: Path, docs: int, seed: int) -> dict[str, Any]:
    """Schema through the migrations, users/group through the core, documents by executemany."""
    from kundenakte.core.users import add_members, create_group, create_user
    from kundenakte.core.passwords import hash_password

    ka = Kundenakte(load_settings({"instance": instance, "index_async": False}), extra_plugins=())
    migrate.upgrade(ka)
    hashed = hash_password(PASSWORD)
    with ka.db.write() as s:
        users = [create_user(s, f"user{i}", "", display_name=f"Benutzer {i}", password_hash=hashed).id for i in range(USERS)]
        create_group(s, "Vertrieb")
        create_group(s, "Vertrieb Nord", parent="Vertrieb")
        create_group(s, "Technik")
        add_members(s, "Vertrieb Nord", ["user0", "user1", "user2"])  # user0 holds g:Vertrieb through the parent
        add_members(s, "Technik", [f"user{i}" for i in range(10, 15)])
        from kundenakte.core.models import Group

        groups = {g.name: g.id for g in s.query(Group)}
    ka.close()

    rnd = random.Random(seed)
    now = dt.datetime(2026, 1, 1)
    stamp = now.isoformat(sep=" ")
    conn = sqlite3.connect(instance / "kundenakte.sqlite3")
    conn.execute("PRAGMA synchronous=OFF")
    companies = [(1, "DOCHOUSE GmbH", "88212", "Ravensburg")] + [
        (i, f"Firma {i} GmbH", f"{rnd.randint(10000, 99999)}", f"Ort {i}") for i in range(2, 11)]
    conn.executemany(
        "INSERT INTO companies (id, name, name_folded, street, postal_code, city, city_folded, country, phone, email, web,"
        " account_manager_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(cid, name, fold(name), "Lindenstraße 17", plz, city, fold(city), "Deutschland", "", "", "", users[0], stamp, stamp)
         for cid, name, plz, city in companies])
    contacts = []
    for pid in range(1, CONTACTS + 1):
        first, last = rnd.choice(["Lea", "Max", "Anna", "Paul", "Marie"]), f"Kontakt{pid}"
        contacts.append(("unknown", "", first, last, fold(f"{first} {last}"), "", "de", 1, "", "", "", True,
                         "Lindenstraße 17", "88212", "Ravensburg", fold("Ravensburg"), "Deutschland", users[0], stamp, stamp))
    conn.executemany(
        "INSERT INTO contacts (gender, title, first_name, last_name, name_folded, salutation_override, language,"
        " company_id, position, email, phone, use_company_address, street, postal_code, city, city_folded, country,"
        " account_manager_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", contacts)
    contact_ids = [r[0] for r in conn.execute("SELECT id FROM contacts WHERE company_id = 1")]

    # Who may read: a mix like a real customer file; user0 (Vertrieb Nord → Vertrieb) sees about half.
    principals = [("*", 0.15), (f"g:{groups['Vertrieb']}", 0.25), (f"g:{groups['Vertrieb Nord']}", 0.05),
                  (f"g:{groups['Technik']}", 0.15), ("u:other", 0.25), ("", 0.15)]
    weights = [m[3] for m in MIX]
    doc_rows: list[tuple[Any, ...]] = []
    acl_rows: list[tuple[Any, ...]] = []
    start = dt.date(2023, 1, 1)
    # A few documents for other companies, so the company condition has something to skip.
    total = docs + docs // 5
    for doc_id in range(1, total + 1):
        type_key, statuses, amount_range, _share = rnd.choices(MIX, weights)[0]
        company = 1 if doc_id <= docs else rnd.randint(2, len(companies))
        contact = rnd.choice(contact_ids) if company == 1 and rnd.random() < 0.8 else None
        author = rnd.choice(users)
        day = start + dt.timedelta(days=rnd.randrange(3 * 365))
        amount = round(rnd.uniform(*amount_range), 2) if amount_range else None
        archived = stamp if rnd.random() < 0.03 else None
        doc_rows.append((doc_id, type_key, f"{type_key} {doc_id}", company, contact, author, author, None, day.isoformat(),
                         rnd.choice(statuses), "", "{}", amount, None, 3650, (day + dt.timedelta(days=3650)).isoformat(),
                         archived, 1, stamp, stamp))
        chosen = rnd.choices([p for p, _w in principals], [w for _p, w in principals])[0]
        if chosen == "u:other":
            chosen = f"u:{rnd.choice(users[3:])}"
        if chosen:
            acl_rows.append((doc_id, chosen, "read"))
        if rnd.random() < 0.2:
            editor = f"u:{rnd.choice(users)}"
            if editor != chosen:
                acl_rows.append((doc_id, editor, "edit"))
        if len(doc_rows) >= 50_000:
            _flush(conn, doc_rows, acl_rows)
    _flush(conn, doc_rows, acl_rows)
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return {"user": users[0], "company": 1, "groups": groups}


def _flush(conn: sqlite3.Connection, doc_rows: list[tuple[Any, ...]], acl_rows: list[tuple[Any, ...]]) -> None:
    conn.executemany(
        "INSERT INTO documents (id, type_key, title, company_id, contact_id, author_id, responsible_id, parent_id,"
        " document_date, status, content, data, amount, due_date, retention_days, archive_due, archived_at, version,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", doc_rows)
    conn.executemany("INSERT INTO document_acl (document_id, principal, role) VALUES (?,?,?)", acl_rows)
    doc_rows.clear()
    acl_rows.clear()


# -- overview timing -------------------------------------------------------------------------------


def time_overview(instance: Path, user_id: int, company_id: int,
                  runs: int) -> tuple[list[float], list[float], list[float], str]:
    from kundenakte.core.models import User

    ka = Kundenakte(load_settings({"instance": instance, "index_async": False}), extra_plugins=())
    with ka.db.read() as session:
        viewer = acl.viewer_for(session, session.get(User, user_id))
        sections = sections_for(ka, session)
        views = build_overview(ka, session, viewer, company_id=company_id)
        summary = ", ".join(f"{v.key} {v.overall}" for v in views)
        expected = {v.key: (v.counts, [d.id for d in v.rows]) for v in views}
    assert not viewer.sees_all and len(viewer.principals) > 2, "the bench user must be a non-admin with groups"

    ka_ms: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        with ka.db.read() as session:  # a fresh session per build, as one request has
            build_overview(ka, session, viewer, company_id=company_id)
        ka_ms.append((time.perf_counter() - started) * 1000)
    cached_ms: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        with ka.db.read() as session:
            views = build_overview(ka, session, viewer, company_id=company_id, cache=ka.overview_cache)
        cached_ms.append((time.perf_counter() - started) * 1000)
        assert {v.key: (v.counts, [d.id for d in v.rows]) for v in views} == expected, "reuse changed the overview"
    ka.close()

    # The same work in hand-written SQL: per section a GROUP BY status count (and sum) with the ACL
    # EXISTS, then the first page of the default filter with contact and responsible user.
    principals = sorted(viewer.principals)
    marks = ",".join("?" * len(principals))
    acl_sql = (f"(d.author_id = ? OR d.responsible_id = ? OR EXISTS (SELECT 1 FROM document_acl a "
               f"WHERE a.document_id = d.id AND a.principal IN ({marks})))")
    plans = []
    for section in sections:
        types = ",".join("?" * len(section.type_keys))
        where = f"d.company_id = ? AND d.type_key IN ({types}) AND d.archived_at IS NULL AND {acl_sql}"
        params = [company_id, *section.type_keys, user_id, user_id, *principals]
        count_sql = f"SELECT d.status, count(*), sum(d.amount) FROM documents d WHERE {where} GROUP BY d.status"
        default = next(f for f in section.filters if f.value == section.default_filter)
        page_where, page_params = where, list(params)
        if default.statuses is not None:
            page_where += f" AND d.status IN ({','.join('?' * len(default.statuses))})"
            page_params += list(default.statuses)
        page_sql = (
            "SELECT d.id, d.type_key, d.title, d.document_date, d.status, d.amount, d.data, d.contact_id,"
            " c.first_name, c.last_name, u.display_name FROM documents d"
            " LEFT JOIN contacts c ON c.id = d.contact_id LEFT JOIN users u ON u.id = d.responsible_id"
            f" WHERE {page_where} ORDER BY d.document_date DESC, d.id DESC LIMIT {PER_PAGE}"
        )
        plans.append((section.key, section.filters, count_sql, params, page_sql, page_params))

    raw = sqlite3.connect(instance / "kundenakte.sqlite3")

    def raw_overview() -> dict[str, tuple[dict[str, int], list[int]]]:
        result = {}
        for key, filters, count_sql, params, page_sql, page_params in plans:
            per_status = {(status or ""): n for status, n, _sum in raw.execute(count_sql, params)}
            counts = {f.value: sum(n for s, n in per_status.items() if f.statuses is None or s in f.statuses)
                      for f in filters}
            rows = [r[0] for r in raw.execute(page_sql, page_params)] if sum(per_status.values()) else []
            result[key] = (counts, rows)
        return result

    assert raw_overview() == expected, "raw SQL and build_overview disagree"
    raw_ms: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        raw_overview()
        raw_ms.append((time.perf_counter() - started) * 1000)
    raw.close()
    return ka_ms, cached_ms, raw_ms, summary


# -- HTTP throughput ---------------------------------------------------------------------------------


def http_bench(instance: Path, tmp: Path, company_id: int, seconds: float, threads: int,
               reuse: bool = True) -> tuple[float, float]:
    extra = {} if reuse else {"KUNDENAKTE_OVERVIEW_CACHE": "false"}
    return serve_and_load(instance, tmp, f"/unternehmen/{company_id}/uebersicht", seconds, threads, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000, help="documents of the benchmarked company")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=200, help="overview builds per side")
    parser.add_argument("--seconds", type=float, default=10.0, help="load duration per page")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance")
    args = parser.parse_args()

    with bench_folder("ka-overview-bench-", args.keep) as tmp:
        instance = tmp / "instance"
        started = time.perf_counter()
        info = build(instance, args.docs, args.seed)
        log(f"built {args.docs} documents in {time.perf_counter() - started:.1f} s under {instance}")
        ka_ms, cached_ms, raw_ms, summary = time_overview(instance, info["user"], info["company"], args.runs)
        (ka50, ka95), (c50, c95), (raw50, raw95) = p50_p95(ka_ms), p50_p95(cached_ms), p50_p95(raw_ms)
        page_rps, bare_rps = http_bench(instance, tmp, info["company"], args.seconds, args.threads)
        fresh_rps, fresh_bare = http_bench(instance, tmp, info["company"], args.seconds, args.threads, reuse=False)
        print(
            f"N={args.docs} documents, {CONTACTS} contacts, user with group rights (readable: {summary}): "
            f"build_overview p50 {ka50:.2f} ms / p95 {ka95:.2f} ms vs raw sqlite3 p50 {raw50:.2f} ms / p95 {raw95:.2f} ms "
            f"(ratio p50 {ka50 / raw50:.2f}x, p95 {ka95 / raw95:.2f}x, target <= 3x); reused p50 {c50:.2f} ms / "
            f"p95 {c95:.2f} ms; gunicorn 2 workers, {args.threads} client threads, {args.seconds:g} s: overview "
            f"{page_rps:.0f} req/s vs /healthz {bare_rps:.0f} req/s ({100 * page_rps / bare_rps:.1f} %, target >= 15 %); "
            f"computed afresh per request {fresh_rps:.0f} req/s vs /healthz {fresh_bare:.0f} req/s "
            f"({100 * fresh_rps / fresh_bare:.1f} %)"
        )


if __name__ == "__main__":
    main()
