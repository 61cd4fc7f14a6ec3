"""Search benchmark: Kundenakte's Whoosh backend vs. raw Whoosh vs. SQLite FTS5.

    python bench/search_bench.py --docs 50000

Prints one line of figures (milliseconds unless noted). The corpus is a
seeded synthetic German business corpus, identical on every run.
"""

from __future__ import annotations

import argparse
import os
import datetime
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kundenakte.search.base import IndexRecord  # noqa: E402
from kundenakte.search.whoosh_backend import WhooshBackend  # noqa: E402

WORDS = (
    "Vertrag Verträge Vertragsverlängerung Rechnung Rechnungen Rechnungsnummer Angebot Angebote Auftrag "
    "Aufträge Lieferung Lieferschein Mahnung Zahlung Zahlungsziel Kunde Kunden Kundennummer Ansprechpartner "
    "Verfahrensdokument Verfahren Verfahrensanweisung Prüfung Prüfbericht Gewährleistung Kündigung Frist "
    "Fristen Termin Besprechung Protokoll Projekt Projektplan Meilenstein Aufgabe Aufgaben Wiedervorlage "
    "Schriftverkehr Korrespondenz Anfrage Reklamation Gutschrift Bestellung Bestätigung Unterschrift "
    "Geschäftsführer Geschäftsführung Änderung Änderungen Übergabe Übersicht Größe Gebühr Gebühren Straße "
    "Büro Lösung Lösungen Qualität Maßnahme Maßnahmen Steuer Umsatzsteuer Betrag Summe Preis Preise Rabatt "
    "Wartung Wartungsvertrag Service Dienstleistung Leistung Leistungen Abnahme Freigabe Entwurf Anlage "
    "Anlagen Nachtrag Verlängerung Laufzeit Kündigungsfrist Vereinbarung Vereinbarungen Rahmenvertrag "
    "Zahlungseingang Verzug Versand Verpackung Vertrieb Verkauf Verwaltung Versicherung Vollmacht"
).split()
FILLER = "der die das und mit für von zum zur im am auf bei nach über wie wird wurde ist sind bitte noch".split()
NAMES = "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange".split()
TYPES = ["email", "free_document", "invoice", "offer", "contract", "task", "note", "letter"]
FOLDERS = ["Schriftverkehr", "Verträge", "Rechnungen", "Angebote", "Projekte", "Personal", "Technik", "Archiv 2023", "Einkauf", "Vertrieb Nord", "Vertrieb Süd", "Service"]
STATUSES = ["offen", "erledigt", "in Arbeit", "entwurf", "versendet"]
USER = frozenset({"*", "u:7", "g:2", "g:5"})  # a typical clerk
TERM, AND2, PHRASE = "Vertrag", "Rechnung Zahlung", '"Rechnung Zahlung"'
QUERIES = {"term": TERM, "and2": AND2, "phrase": PHRASE, "rech*": "rech*", "ver*": "ver*"}


def corpus(n: int, seed: int = 42) -> Iterator[IndexRecord]:
    rnd = random.Random(seed)
    start = datetime.date(2018, 1, 1)
    for i in range(n):
        words = [rnd.choice(WORDS) if rnd.random() < 0.6 else rnd.choice(FILLER) for _ in range(rnd.randint(30, 160))]
        if rnd.random() < 0.05:
            words.insert(rnd.randrange(len(words)), "Rechnung Zahlung")
        roll = rnd.random()
        principals = ["*"] if roll < 0.3 else [f"u:{rnd.randint(1, 40)}", f"g:{rnd.randint(1, 8)}"]
        yield IndexRecord(
            id=f"doc:{i}",
            kind="document",
            type=rnd.choice(TYPES),
            category="communication",
            title=" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 6))),
            content=" ".join(words),
            company=f"{rnd.choice(NAMES)} GmbH",
            contact=f"{rnd.choice(['Anna', 'Jörg', 'Jürgen', 'Sabine', 'Uwe'])} {rnd.choice(NAMES)}",
            folders=rnd.sample(FOLDERS, rnd.randint(0, 2)),
            status=rnd.choice(STATUSES),
            date=start + datetime.timedelta(days=rnd.randrange(2500)),
            archived=rnd.random() < 0.1,
            read_principals=principals,
            updated=1.7e9 + i,
        )


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm caches the way a running server has them warm
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def fmt(name: str, p: tuple[float, float]) -> str:
    return f"{name} {p[0]:.1f}/{p[1]:.1f}"


def bench_backend(docs: int, repeat: int, tmp: Path) -> tuple[list[str], WhooshBackend]:
    be = WhooshBackend(tmp / "ka", parallel=True)  # the CLI's rebuild path: Whoosh's multi-process writer
    t, cpu = time.perf_counter(), _cpu()
    be.bulk(corpus(docs))
    rate, cpu_rate = docs / (time.perf_counter() - t), docs / (_cpu() - cpu)
    # docs per CPU second (this process and its helpers) tells what a busy machine hides
    out = [f"ka index {rate:.0f} docs/s ({cpu_rate:.0f}/cpu-s)"]
    for label, principals in (("ka(b)user", USER), ("ka(a)all", None)):
        parts = [fmt(k, timed(lambda q=q: be.search(q, principals=principals), repeat)) for k, q in QUERIES.items()]
        out.append(f"{label}[{' '.join(parts)}]")
    t = time.perf_counter()
    be.index([IndexRecord(id="doc:new", kind="document", title="Zauberwort", read_principals=["*"])])
    assert be.search("Zauberwort", principals=None).total == 1
    out.append(f"searchable {1000 * (time.perf_counter() - t):.0f}")
    # The first query after a commit opens a new searcher and rebuilds its permission filter.
    firsts = []
    for i in range(5):
        be.index([IndexRecord(id=f"doc:new{i}", kind="document", title="Zauberwort", read_principals=["*"])])
        t = time.perf_counter()
        be.search(TERM, principals=USER)
        firsts.append((time.perf_counter() - t) * 1000)
    out.append(f"first query after commit p50 {statistics.median(firsts):.0f} max {max(firsts):.0f}")
    t = time.perf_counter()
    probe = WhooshBackend(tmp / "ka")
    probe.search("Vertrag", principals=None, limit=1)
    out.append(f"open {1000 * (time.perf_counter() - t):.0f}")
    probe.close()
    return out, be


def bench_api(backend: WhooshBackend, repeat: int, docs: int, tmp: Path) -> list[str]:
    """(a) Through Kundenakte's search service as a clerk: ACL verification and the hits' rows loaded.

    The documents are inserted into a fresh SQLite instance with the corpus's ACL, and the service
    is handed the index built above, so the figures compare like with like.
    """
    from sqlalchemy import insert

    from kundenakte.core import migrate
    from kundenakte.core.acl import Viewer
    from kundenakte.core.config import load_settings
    from kundenakte.core.models import Document, DocumentAcl
    from kundenakte.core.runtime import Kundenakte

    ka = Kundenakte(load_settings({"instance": tmp / "inst", "index_async": False}))
    migrate.upgrade(ka)
    rows, acl_rows = [], []
    for r in corpus(docs):
        ident = int(r.id.split(":")[1])
        rows.append({"id": ident, "type_key": r.type, "title": r.title, "status": r.status, "document_date": r.date,
                     "content": r.content, "data": {}, "version": 1})
        acl_rows.extend({"document_id": ident, "principal": p, "role": "read"} for p in r.read_principals)
    with ka.db.write() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Document), rows[start:start + 5000])
        for start in range(0, len(acl_rows), 5000):
            session.execute(insert(DocumentAcl), acl_rows[start:start + 5000])
    reindex = reindex_command(tmp / "inst", docs)
    ka.search._backend = backend
    clerk = Viewer(user_id=7, is_admin=False, active=True, principals=USER)

    def run(q: str) -> None:
        with ka.db.read() as session:
            ka.search.search(session, clerk, q, per_page=20)

    parts = [fmt(k, timed(lambda q=q: run(q), repeat)) for k, q in QUERIES.items()]
    visible = searchable_after_save(ka, saves=20)
    ka.search.close()  # stops the indexing thread
    ka.search._backend = None  # the backend is closed by the caller
    ka.db.dispose()
    return [f"ka-api(a)user+rows[{' '.join(parts)}]", reindex,
            f"save->searchable via background thread p50 {visible[0]:.0f} / p95 {visible[1]:.0f} ms"]


def reindex_command(instance: Path, docs: int) -> str:
    """``kundenakte search reindex`` itself, as an admin runs it, on the bench instance."""
    import subprocess

    env = dict(os.environ, KUNDENAKTE_INSTANCE=str(instance), PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    t = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "kundenakte"), "search", "reindex"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return f"reindex command {docs / (time.perf_counter() - t):.0f} entries/s"


def searchable_after_save(ka: Any, saves: int) -> tuple[float, float]:
    """Time from a committed save (the core's document service) until the search finds it.

    The save never waits for the index: the service's background thread indexes after the commit.
    """
    from kundenakte.core.acl import Viewer
    from kundenakte.core.documents import DocumentInput, create_document
    from kundenakte.core.users import create_user

    ka.settings.index_async = True
    with ka.db.write() as session:
        uid = create_user(session, "bench-admin", "", display_name="Bench", is_admin=True, password_hash="-").id
    admin = Viewer(user_id=uid, is_admin=True, active=True, principals=frozenset({"*", f"u:{uid}"}))
    waits: list[float] = []
    for i in range(saves):
        word = f"Zauberwort{i}xq"
        started = time.perf_counter()
        with ka.db.write() as session:
            create_document(ka, session, admin, "free_document", DocumentInput(title=word))
        while time.perf_counter() - started < 30:
            with ka.db.read() as session:
                if ka.search.search(session, admin, word).total:
                    break
            time.sleep(0.002)
        waits.append((time.perf_counter() - started) * 1000)
    waits.sort()
    return statistics.median(waits), waits[min(len(waits) - 1, round(0.95 * (len(waits) - 1)))]


def bench_raw_whoosh(docs: int, repeat: int, tmp: Path) -> list[str]:
    from whoosh import fields, index
    from whoosh.analysis import StandardAnalyzer
    from whoosh.qparser import QueryParser

    schema = fields.Schema(id=fields.ID(stored=True, unique=True), title=fields.TEXT(analyzer=StandardAnalyzer()),
                           content=fields.TEXT(analyzer=StandardAnalyzer()))
    ix = index.create_in(str(tmp / "raw"), schema)
    t = time.perf_counter()
    w = ix.writer(limitmb=256, procs=2, multisegment=True)  # the same writer options as the product's bulk path
    for r in corpus(docs):
        w.add_document(id=r.id, title=r.title, content=r.content)
    w.commit()
    rate = docs / (time.perf_counter() - t)
    parser = QueryParser("content", schema)
    out = [f"raw({docs}) index {rate:.0f} docs/s"]
    with ix.searcher() as s:
        parts = []
        for k, q in QUERIES.items():
            parsed = parser.parse(q)
            slow = k.endswith("*")
            parts.append(fmt(k, timed(lambda p=parsed: len(s.search(p, limit=20)), max(3, repeat // 10) if slow else repeat)))
    out.append(f"raw[{' '.join(parts)}]")
    return out


def bench_fts5(docs: int, repeat: int, tmp: Path) -> list[str]:
    db = sqlite3.connect(tmp / "fts.db")
    db.execute("CREATE VIRTUAL TABLE d USING fts5(id UNINDEXED, title, content, tokenize='unicode61 remove_diacritics 2')")
    t = time.perf_counter()
    db.executemany("INSERT INTO d VALUES (?,?,?)", ((r.id, r.title, r.content) for r in corpus(docs)))
    db.commit()
    rate = docs / (time.perf_counter() - t)
    fts = {"term": "Vertrag", "and2": "Rechnung Zahlung", "phrase": '"Rechnung Zahlung"', "rech*": "rech*", "ver*": "ver*"}
    sql = "SELECT id, snippet(d, 2, '<mark>', '</mark>', '…', 12), (SELECT count(*) FROM d WHERE d MATCH ?1) FROM d WHERE d MATCH ?1 ORDER BY rank LIMIT 20"
    parts = [fmt(k, timed(lambda q=q: db.execute(sql, (q,)).fetchall(), repeat)) for k, q in fts.items()]
    db.close()
    return [f"fts5 index {rate:.0f} docs/s", f"fts5[{' '.join(parts)}]"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--raw-docs", type=int, default=0, help="corpus size for the raw Whoosh baseline (default: --docs)")
    ap.add_argument("--repeat", type=int, default=25, help="timed runs per query (after one warm-up)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ka-bench-"))
    try:
        (tmp / "raw").mkdir()
        ka, backend = bench_backend(args.docs, args.repeat, tmp)
        api = bench_api(backend, args.repeat, args.docs, tmp)
        backend.close()
        raw = bench_raw_whoosh(args.raw_docs or args.docs, args.repeat, tmp)
        fts = bench_fts5(args.docs, args.repeat, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"docs={args.docs} p50/p95 ms, load {load} | " + " | ".join(ka + api + raw + fts))


if __name__ == "__main__":
    main()
