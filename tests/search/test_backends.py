"""Behaviour both search backends share (each test runs on Whoosh and PostgreSQL)."""

from __future__ import annotations

import datetime
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kundenakte.search.base import IndexRecord, QueryError
from kundenakte.search.whoosh_backend import WhooshBackend

ALICE = frozenset({"*", "u:1", "g:10"})
BOB = frozenset({"*", "u:2"})
NOBODY: frozenset[str] = frozenset()


def doc(n: int, title: str = "", content: str = "", **kw) -> IndexRecord:
    kw.setdefault("read_principals", ["*"])
    return IndexRecord(id=f"doc:{n}", kind="document", title=title, content=content, **kw)


def ids(result) -> set[str]:
    return {h.id for h in result.hits}


def find(backend, query: str, principals=None, **kw) -> set[str]:
    return ids(backend.search(query, principals=principals, limit=None, **kw))


def test_upsert_replaces_by_id(search_backend):
    search_backend.index([doc(1, "Angebot", "alte Fassung", updated=1.0)])
    search_backend.index([doc(1, "Angebot", "neue Fassung", updated=2.0)])
    assert search_backend.count() == 1
    assert find(search_backend, "neue") == {"doc:1"}
    assert find(search_backend, "alte") == set()
    assert search_backend.stored_versions() == {"doc:1": 2.0}


def test_delete_removes_entries(search_backend):
    search_backend.index([doc(1, "Rechnung eins"), doc(2, "Rechnung zwei")])
    search_backend.delete(["doc:1", "doc:missing"])
    assert find(search_backend, "Rechnung") == {"doc:2"}
    assert search_backend.count() == 1
    search_backend.clear()
    assert search_backend.count() == 0


def test_german_stemming_finds_plural(search_backend):
    search_backend.index([doc(1, "Verträge 2024"), doc(2, "", "Der Vertrag ist unterschrieben")])
    assert find(search_backend, "Vertrag") == {"doc:1", "doc:2"}
    assert find(search_backend, "Verträge") == {"doc:1", "doc:2"}


@pytest.mark.parametrize("query", ["Müller", "Mueller", "Muller", "MÜLLER"])
def test_umlaut_spellings_are_equivalent(search_backend, query):
    search_backend.index([doc(1, "Brief an Müller"), doc(2, "Brief an Mueller"), doc(3, "Brief an Muller"),
                          doc(4, "Brief an Miller")])
    assert find(search_backend, query) == {"doc:1", "doc:2", "doc:3"}


def test_sharp_s_folds_to_ss(search_backend):
    search_backend.index([doc(1, "Hauptstraße 5"), doc(2, "Hauptstrasse 7")])
    assert find(search_backend, "Hauptstraße") == {"doc:1", "doc:2"}
    assert find(search_backend, "hauptstrasse") == {"doc:1", "doc:2"}


def test_prefix_queries(search_backend):
    search_backend.index([doc(1, "Verfahrensdokument Lager"), doc(2, "Rechnungen März"),
                          doc(3, "Verfahren eingestellt"), doc(4, "Angebot")])
    assert find(search_backend, "verfahren*") == {"doc:1", "doc:3"}
    assert find(search_backend, "rech*") == {"doc:2"}
    assert find(search_backend, "Verfahrensdok*") == {"doc:1"}
    assert find(search_backend, "mär*") == {"doc:2"}
    assert find(search_backend, "zzz*") == set()


def test_phrase_needs_adjacent_words(search_backend):
    search_backend.index([doc(1, "", "Der Vertrag wurde fristlos gekündigt."),
                          doc(2, "", "Gekündigt wurde nichts, der Vertrag läuft fristlos weiter.")])
    assert find(search_backend, '"fristlos gekündigt"') == {"doc:1"}
    assert find(search_backend, "fristlos gekündigt") == {"doc:1", "doc:2"}


def test_exclude_and_or(search_backend):
    search_backend.index([doc(1, "Rechnung Müller"), doc(2, "Rechnung Schmidt"), doc(3, "Angebot Schmidt")])
    assert find(search_backend, "Rechnung -Müller") == {"doc:2"}
    assert find(search_backend, "Rechnung OR Angebot") == {"doc:1", "doc:2", "doc:3"}
    assert find(search_backend, "Schmidt (Rechnung OR Angebot)") == {"doc:2", "doc:3"}
    assert find(search_backend, "Müller OR Angebot -Schmidt") == {"doc:1"}


def test_field_filters(search_backend):
    search_backend.index([
        doc(1, "Vertrag Wartung", "Text", type="contract", folders=["Verträge"], status="offen",
            company="Müller GmbH", contact="Anna Schulz"),
        doc(2, "Mail zum Vertrag", "Text", type="email", folders=["Schriftverkehr", "Verträge"], status="erledigt",
            company="Schmidt AG", contact="Jörg Weber"),
    ])
    assert find(search_backend, "typ:email") == {"doc:2"}
    assert find(search_backend, "type:contract Vertrag") == {"doc:1"}
    assert find(search_backend, "ordner:schriftverkehr") == {"doc:2"}
    assert find(search_backend, 'ordner:"Verträge"') == {"doc:1", "doc:2"}
    assert find(search_backend, "ordner:vertrage") == {"doc:1", "doc:2"}  # folded like text
    assert find(search_backend, "status:offen") == {"doc:1"}
    assert find(search_backend, "status:erl*") == {"doc:2"}
    assert find(search_backend, "titel:Mail") == {"doc:2"}
    assert find(search_backend, "titel:Wartung Text") == {"doc:1"}
    assert find(search_backend, "firma:Mueller") == {"doc:1"}
    assert find(search_backend, "unternehmen:schmidt") == {"doc:2"}
    assert find(search_backend, "kontakt:Jörg") == {"doc:2"}
    assert find(search_backend, "titel:Schmidt") == set()  # company words are not title words
    assert find(search_backend, "typ:invoice") == set()
    assert find(search_backend, "Vertrag", types=["email"]) == {"doc:2"}
    assert find(search_backend, "Vertrag", folders=["Verträge"]) == {"doc:1", "doc:2"}


@pytest.mark.parametrize("query", ['"Vertrag', 'typ:', "OR", "Vertrag OR", "OR Vertrag", "(Vertrag", "Vertrag)",
                                   "-Vertrag", "NOT", "ver*trag", "v*", "*", "a AND", "()", 'ordner:"'])
def test_malformed_queries_raise_query_error(search_backend, query):
    search_backend.index([doc(1, "Vertrag")])
    with pytest.raises(QueryError) as err:
        search_backend.search(query, principals=None)
    assert str(err.value)  # a message for the user
    with pytest.raises(QueryError):
        search_backend.matching_ids(query, principals=None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet='ab ü"()*-:OR ANDtypordner\\\'%_&|!<>', max_size=24))
def test_any_input_gives_a_result_or_query_error(search_backend, query):
    if search_backend.count() == 0:
        search_backend.index([doc(1, "a b ü", "typ ordner", type="email")])
    try:
        result = search_backend.search(query, principals=ALICE)
    except QueryError:
        return
    assert result.total >= len(result.hits)


def test_principals_filter(search_backend):
    search_backend.index([
        doc(1, "Vertrag öffentlich", read_principals=["*"]),
        doc(2, "Vertrag Alice", read_principals=["u:1"]),
        doc(3, "Vertrag Gruppe", read_principals=["g:10"], type="email", folders=["Geheim"]),
        doc(4, "Vertrag Bob", read_principals=["u:2"]),
        doc(5, "Vertrag niemand", read_principals=[]),
        doc(6, "Vertrag archiviert", read_principals=["*"], archived=True),
    ])
    assert find(search_backend, "Vertrag", ALICE) == {"doc:1", "doc:2", "doc:3"}
    assert find(search_backend, "Vertrag", BOB) == {"doc:1", "doc:4"}
    assert find(search_backend, "Vertrag", frozenset({"u:2"})) == {"doc:1", "doc:4"}  # "*" is implied
    assert find(search_backend, "Vertrag", None) == {f"doc:{i}" for i in range(1, 6)}
    assert find(search_backend, "Vertrag", ALICE, include_archived=True) == {"doc:1", "doc:2", "doc:3", "doc:6"}
    assert set(search_backend.matching_ids("Vertrag", principals=BOB)) == {"doc:1", "doc:4"}
    assert set(search_backend.suggest("Vert", principals=BOB)) == {"Vertrag Bob", "Vertrag öffentlich"}


def test_empty_principals_see_nothing(search_backend):
    search_backend.index([doc(1, "Vertrag", read_principals=["*"], type="email", folders=["A"]),
                          doc(2, "Vertrag", read_principals=["u:1"])])
    for query in ["Vertrag", "", "ver*", "typ:email", '"Vertrag"']:
        result = search_backend.search(query, principals=NOBODY, include_archived=True)
        assert result.hits == [] and result.total == 0
        assert result.facets == {"type": {}, "folders": {}}
        assert search_backend.matching_ids(query, principals=NOBODY) == []
    assert search_backend.suggest("Ver", principals=NOBODY) == []
    assert search_backend.suggest("Ver", principals=None) == ["Vertrag"]


def test_changes_are_visible_to_the_next_search(search_backend):
    """Filters cached by one search must follow updates, deletes and merges."""
    search_backend.index([doc(i, f"Akte {i}", "Vorgang", read_principals=["u:1"], folders=["A"]) for i in range(12)])
    expected = {f"doc:{i}" for i in range(12)}
    for step in range(12):
        assert find(search_backend, "Vorgang", ALICE, folders=["A"]) == expected
        assert search_backend.search("", principals=ALICE, limit=0).facets["folders"] == ({"A": len(expected)} if expected else {})
        if step % 3 == 0:  # access revoked
            search_backend.index([doc(step, f"Akte {step}", "Vorgang", read_principals=["u:2"], folders=["A"])])
        elif step % 3 == 1:
            search_backend.delete([f"doc:{step}"])
        else:  # archived, and a new one appears
            search_backend.index([doc(step, f"Akte {step}", "Vorgang", read_principals=["u:1"], archived=True, folders=["A"]),
                                  doc(100 + step, "Neu", "Vorgang", read_principals=["g:10"], folders=["A"])])
            expected.add(f"doc:{100 + step}")
        expected.discard(f"doc:{step}")
    assert find(search_backend, "Vorgang", ALICE, folders=["A"]) == expected


def test_kinds(search_backend):
    search_backend.index([doc(1, "Müller Vertrag"),
                          IndexRecord(id="company:7", kind="company", title="Müller GmbH", read_principals=["*"]),
                          IndexRecord(id="contact:5", kind="contact", title="Anna Müller", read_principals=["*"])])
    assert find(search_backend, "Müller", ALICE) == {"doc:1"}
    assert find(search_backend, "Müller", ALICE, kinds=("company", "contact")) == {"company:7", "contact:5"}


def test_facets_total_paging_and_empty_query(search_backend):
    records = [doc(i, f"Rechnung {i}", type="invoice" if i % 3 else "email",
                   folders=["Buchhaltung"] + (["2024"] if i % 2 else []), date=datetime.date(2024, 1, i % 28 + 1))
               for i in range(1, 31)]
    search_backend.index(records)
    result = search_backend.search("Rechnung", principals=ALICE, limit=10, offset=5)
    assert result.total == 30 and len(result.hits) == 10
    assert result.facets == {"type": {"invoice": 20, "email": 10}, "folders": {"Buchhaltung": 30, "2024": 15}}
    everything = search_backend.matching_ids("Rechnung", principals=ALICE)
    assert len(everything) == 30 and len(set(everything)) == 30
    page2 = search_backend.search("Rechnung", principals=ALICE, limit=10, offset=10)
    assert not ids(page2) & ids(search_backend.search("Rechnung", principals=ALICE, limit=10))
    browse = search_backend.search("", principals=ALICE, limit=0, types=["email"])
    assert browse.total == 10 and browse.hits == [] and browse.facets["type"] == {"email": 10}


def test_ranking_prefers_more_matches(search_backend):
    search_backend.index([doc(1, "Notiz", "Wartung einmal erwähnt und sonst nichts weiter hier"),
                          doc(2, "Wartung", "Wartung Wartung Wartungsvertrag zur Wartung")])
    hits = search_backend.search("Wartung", principals=None).hits
    assert [h.id for h in hits] == ["doc:2", "doc:1"]
    assert hits[0].score >= hits[1].score


def test_suggestions_complete_titles(search_backend):
    search_backend.index([doc(1, "Rahmenvertrag Müller"), doc(2, "Rahmenvereinbarung Schmidt"),
                          doc(3, "Rechnung Rahmen"), doc(4, "Rahmenvertrag Geheim", read_principals=["u:9"])])
    assert set(search_backend.suggest("rahmenv", principals=ALICE)) == {"Rahmenvertrag Müller", "Rahmenvereinbarung Schmidt"}
    assert set(search_backend.suggest("Rahmenvertrag mü", principals=ALICE)) == {"Rahmenvertrag Müller"}
    assert len(search_backend.suggest("rahmen", principals=ALICE, limit=2)) == 2
    assert search_backend.suggest("r", principals=ALICE) == []


def test_highlights_mark_matches_and_escape_everything_else(search_backend):
    search_backend.index([doc(1, "Test", 'Hallo <script>alert("x")</script> & die Verträge von Müller')])
    hit = search_backend.search("Vertrag mueller", principals=None).hits[0]
    assert "<script>" not in hit.highlights
    assert "&lt;script&gt;" in hit.highlights and "&amp;" in hit.highlights
    assert "<mark>Verträge</mark>" in hit.highlights and "<mark>Müller</mark>" in hit.highlights
    assert hit.highlights.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    prefix_hit = search_backend.search("verträ*", principals=None).hits[0]
    assert "<mark>Verträge</mark>" in prefix_hit.highlights


def test_attachments_and_extra_fields_are_searchable(search_backend):
    search_backend.index([doc(1, "Brief", "Text", attachments="Anlage: Lieferschein 4711",
                              extra={"invoice_no": "RE-2024-0815"})])
    assert find(search_backend, "Lieferschein") == {"doc:1"}
    assert find(search_backend, "0815") == {"doc:1"}


# -- concurrency and crashes -------------------------------------------------------

def _writer(spec, worker: int, rounds: int) -> None:
    backend = spec.open(lock_timeout=0.2) if spec.kind == "whoosh" else spec.open()
    for i in range(rounds):
        batch = [doc(worker * 1000 + i * 5 + j, f"Beleg w{worker}", f"Runde {i}", updated=float(i))
                 for j in range(5)]
        # Every round also rewrites this worker's own counter document.
        batch.append(IndexRecord(id=f"counter:{worker}", kind="document", title=f"Zähler w{worker}",
                                 content=f"stand{i}", read_principals=["*"], updated=float(i)))
        backend.index(batch)
    backend.close()


def _fresh(spec) -> None:
    backend = spec.open()
    backend.clear()  # the PostgreSQL schema is shared by the session's tests
    backend.close()


def test_two_processes_write_at_once(backend_spec):
    _fresh(backend_spec)
    ctx = multiprocessing.get_context("fork")
    rounds = 25
    procs = [ctx.Process(target=_writer, args=(backend_spec, w, rounds)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0, "a writer raised"
    backend = backend_spec.open()
    try:
        versions = backend.stored_versions()
        assert len(versions) == 2 * (rounds * 5 + 1)  # no lost document
        assert versions["counter:1"] == versions["counter:2"] == float(rounds - 1)  # no lost update
        assert find(backend, f"stand{rounds - 1}") == {"counter:1", "counter:2"}
        assert backend.search("Beleg", principals=None).total == 2 * rounds * 5
    finally:
        backend.close()


def _big_write(spec) -> None:
    backend = spec.open(chunk_size=500, parallel=False) if spec.kind == "whoosh" else spec.open()
    backend.index(doc(10 + i, f"Massenimport {i}", "Vertrag Rechnung Lieferung " * 20) for i in range(1_000_000))


def test_reopens_after_kill_during_write(backend_spec):
    _fresh(backend_spec)
    backend = backend_spec.open()
    backend.index([doc(1, "vor dem Absturz")])
    backend.close()
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_big_write, args=(backend_spec,))
    child.start()
    deadline = time.monotonic() + 60
    reopened = backend_spec.open()
    try:
        # Kill once some chunks are committed, i.e. in the middle of the next one.
        while reopened.count() < 1500 and time.monotonic() < deadline and child.is_alive():
            time.sleep(0.2)
        assert child.is_alive(), "the writer finished before it could be killed"
        time.sleep(0.3)
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
    finally:
        reopened.close()
    after = backend_spec.open(lock_timeout=5) if backend_spec.kind == "whoosh" else backend_spec.open()
    try:
        n = after.count()
        assert n >= 1500
        assert find(after, "Absturz") == {"doc:1"}
        assert after.search("Massenimport", principals=None, limit=1).total == n - 1
        after.index([doc(2, "nach dem Absturz")])  # the dead writer's lock is gone
        assert find(after, "Absturz") == {"doc:1", "doc:2"}
    finally:
        after.close()


# -- Whoosh specifics -------------------------------------------------------------

def test_whoosh_bulk_with_helper_process_and_reindex(tmp_path: Path):
    backend = WhooshBackend(tmp_path / "ix", chunk_size=400)
    records = [doc(i, f"Akte {i}", "Vertrag Rechnung" if i % 2 else "Angebot", folders=["F"]) for i in range(1000)]
    backend.index(records)
    assert backend.count() == 1000
    assert backend.search("Vertrag", principals=None).total == 500
    backend.index(records[:700])  # upsert again, through the helper too
    assert backend.count() == 1000
    assert backend.search("rech*", principals=None).total == 500
    assert backend.search('"Vertrag Rechnung"', principals=None).total == 500
    backend.close()


def test_whoosh_merges_small_segments_correctly(tmp_path: Path):
    backend = WhooshBackend(tmp_path / "ix")
    for i in range(40):  # forty one-document commits: merged along the way
        backend.index([doc(i, f"Einzel {i}", f"Wort{i % 4} gemeinsam", folders=[f"O{i % 2}"])])
    backend.delete([f"doc:{i}" for i in range(0, 40, 5)])
    backend.index([doc(1, "Einzel neu", "anders")])
    assert backend.segment_count() < 20
    assert backend.count() == 32
    assert backend.search("gemeinsam", principals=None).total == 31
    assert backend.search("wort1*", principals=None).total == 7  # 1,5,9..37 less 5, 25 and the rewritten 1
    assert backend.search('"wort2 gemeinsam"', principals=None).total == 8
    assert backend.search("", principals=None, limit=0).facets["folders"] == {"O0": 16, "O1": 15}
    backend.optimize()
    assert backend.segment_count() == 1  # the (empty) people index has none
    assert backend.search("gemeinsam", principals=None).total == 31
    backend.close()


def test_whoosh_spooled_batch_is_applied(tmp_path: Path):
    first = WhooshBackend(tmp_path / "ix", lock_timeout=0.1)
    second = WhooshBackend(tmp_path / "ix", lock_timeout=0.1)
    writer = first._acquire("docs", 1)  # another worker holds the lock
    second.index([doc(1, "gespoolt")])
    assert list((tmp_path / "ix" / "spool").glob("*.json"))
    writer.cancel()
    first.index([doc(2, "direkt")])  # the next writer applies the spool first
    assert not list((tmp_path / "ix" / "spool").glob("*.json"))
    assert find(second, "gespoolt OR direkt") == {"doc:1", "doc:2"}
    first.close()
    second.close()


def test_named_extra_fields_match_whole_values(search_backend):
    """extra_index_fields and searchable type fields are searchable as ``name:value``."""
    from kundenakte.search.base import IndexRecord

    search_backend.index([
        IndexRecord(id="doc:1", kind="document", title="Pumpe", read_principals=["*"], extra={"seriennummer": "SN-4711-X"}),
        IndexRecord(id="doc:2", kind="document", title="Ventil", read_principals=["*"], extra={"seriennummer": "SN-4712-Y"}),
    ])
    assert [h.id for h in search_backend.search("seriennummer:SN-4711-X", principals=None).hits] == ["doc:1"]
    assert [h.id for h in search_backend.search("Seriennummer:sn-4712-y", principals=None).hits] == ["doc:2"]
    assert search_backend.search("seriennummer:SN-4711", principals=None).total == 0  # whole value, not a part
    assert search_backend.search("seriennummer:SN-47*", principals=None).total == 2
    assert search_backend.search("seriennummer:SN-4711-X", principals=frozenset()).total == 0


def test_facets_and_totals_are_exact_for_many_hits(search_backend):
    """Above the Whoosh backend's thresholds facets come from term sets and ranking from one word:
    counts stay exact."""
    from collections import Counter

    records = [doc(i, f"Vertrag {i}", "Rechnung Zahlung" if i % 3 else "Rechnung", type=("email", "task")[i % 2],
                   folders=[f"O{i % 5}"] if i % 7 else [], read_principals=["*"] if i % 4 else ["u:9"])
               for i in range(2600)]
    search_backend.index(records)
    for query, wanted in (("Vertrag", lambda i: True), ("Rechnung Zahlung", lambda i: i % 3 != 0)):
        expected = [i for i in range(2600) if wanted(i) and i % 4]
        result = search_backend.search(query, principals=BOB, limit=20)
        assert result.total == len(expected)
        assert result.facets["type"] == dict(Counter(("email", "task")[i % 2] for i in expected))
        assert result.facets["folders"] == dict(Counter(f"O{i % 5}" for i in expected if i % 7))
        assert len(result.hits) == 20 and all(int(h.id[4:]) % 4 for h in result.hits)
