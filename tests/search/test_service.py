"""The indexing service on a real instance: ACL at query time, consistency, check and repair."""

import pytest
from sqlalchemy import func, select

from kundenakte.core.documents import DocumentInput, create_document, delete_document, update_document
from kundenakte.core.models import IndexQueue
from kundenakte.core.users import remove_members
from kundenakte.search.base import QueryError

USERS = ("owner", "reader", "grouped", "nested", "editor", "outsider", "admin", "nobody")


@pytest.fixture
def corpus(ka, people):
    """One document per ACL shape, each with a unique canary word in its content."""
    g, u = people.groups, people.users
    shapes = {
        "private": ([], []),
        "everyone": (["*"], []),
        "direct": ([f"u:{u['reader']}"], []),
        "group": ([f"g:{g['Vertrieb']}"], []),
        "nested": ([f"g:{g['Vertrieb Nord']}"], []),
        "edit": ([], [f"u:{u['editor']}"]),
    }
    ids = {}
    with ka.db.write() as s:
        for name, (readers, editors) in shapes.items():
            ids[name] = create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(
                title=f"Verfahrensdokument {name}", content=f"<p>Kanarienvogel{name} Verträge für DOCHOUSE</p>",
                data={"subject": f"betreff{name}"}, readers=readers, editors=editors)).id
    ka.search.flush()
    return ids


EXPECTED = {
    "owner": {"private", "everyone", "direct", "group", "nested", "edit"},
    "reader": {"everyone", "direct"},
    "grouped": {"everyone", "group"},
    "nested": {"everyone", "group", "nested"},
    "editor": {"everyone", "edit"},
    "outsider": {"everyone"},
    "admin": {"private", "everyone", "direct", "group", "nested", "edit"},
    "nobody": set(),
}


def _visible(ka, people, login, query="Verfahrensdokument"):
    with ka.db.read() as s:
        page = ka.search.search(s, people.viewer(login), query, per_page=50)
        suggestions = ka.search.suggest(s, people.viewer(login), "Verfahr")
    titles = {h.document.title.split()[-1] for h in page.hits}
    return titles, page.total, sum(page.facets.get("type", {}).values()), suggestions


@pytest.mark.parametrize("login", USERS)
def test_permission_matrix_results_counts_facets_suggestions(ka, people, corpus, login):
    titles, total, facet_total, suggestions = _visible(ka, people, login)
    assert titles == EXPECTED[login]
    assert total == facet_total == len(EXPECTED[login])
    assert {s.split()[-1] for s in suggestions} <= EXPECTED[login]
    for name in set(corpus) - EXPECTED[login]:  # canaries of unreadable documents never appear
        with ka.db.read() as s:
            page = ka.search.search(s, people.viewer(login), f"Kanarienvogel{name}")
        assert page.total == 0 and page.hits == []


def test_revoked_right_and_group_change_take_effect_on_the_next_search(ka, people, corpus):
    with ka.db.write() as s:  # revoke; the index has not caught up yet (no flush)
        update_document(ka, s, people.viewer("owner"), corpus["direct"], DocumentInput.from_mapping({"readers": []}),
                        expected_version=None)
    assert "direct" not in _visible(ka, people, "reader")[0]
    assert _visible(ka, people, "reader")[1] == 1
    with ka.db.write() as s:
        remove_members(s, "Vertrieb Nord", ["nested"])
    assert _visible(ka, people, "nested")[0] == {"everyone"}
    ka.search.flush()
    assert _visible(ka, people, "reader")[0] == {"everyone"}


def test_stemming_folding_prefix_and_bad_syntax(ka, people, corpus):
    with ka.db.read() as s:
        viewer = people.viewer("admin")
        assert ka.search.search(s, viewer, "Vertrag").total == 6  # "Verträge" in the content
        assert ka.search.search(s, viewer, "verfahren*").total == 6
        assert ka.search.search(s, viewer, "dochouse -Kanarienvogelprivate").total == 5
        with pytest.raises(QueryError):
            ka.search.search(s, viewer, '"unbalanced')


def test_index_follows_commits_not_rollbacks_and_check_repairs(ka, people, corpus):
    with pytest.raises(RuntimeError):
        with ka.db.write() as s:
            create_document(ka, s, people.viewer("owner"), "testnote",
                            DocumentInput(title="Geisterdokument", data={"subject": "x"}, readers=["*"]))
            raise RuntimeError
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(IndexQueue)) == 0
    assert ka.search.check() == {"missing": [], "stale": [], "extra": []}
    with ka.db.write() as s:
        delete_document(ka, s, people.viewer("owner"), corpus["private"])
    ka.search.flush()
    with ka.db.read() as s:
        assert ka.search.search(s, people.viewer("admin"), "Verfahrensdokument").total == 5
    # Simulate drift: the index loses an entry behind the service's back.
    ka.search.backend.delete([f"doc:{corpus['group']}"])
    report = ka.search.check()
    assert report["missing"] == [f"doc:{corpus['group']}"]
    ka.search.check(repair=True)
    assert ka.search.check() == {"missing": [], "stale": [], "extra": []}
    assert ka.search.reindex() >= 5
    assert ka.search.check() == {"missing": [], "stale": [], "extra": []}


def test_archived_documents_are_excluded_unless_asked(ka, people, corpus):
    from kundenakte.core.models import Document

    with ka.db.write() as s:
        doc = s.get(Document, corpus["everyone"])
        doc.archived_at = ka.clock.now()
        doc.updated_at = ka.clock.now()
        s.add(IndexQueue(object_key=f"doc:{doc.id}"))
    ka.search.flush()
    with ka.db.read() as s:
        viewer = people.viewer("outsider")
        assert ka.search.search(s, viewer, "Verfahrensdokument").total == 0
        assert ka.search.search(s, viewer, "Verfahrensdokument", include_archived=True).total == 1


def test_a_slow_attachment_never_holds_back_other_saves(ka, people, monkeypatch):
    """Extraction runs off the indexing path: while one file's text takes long, other saves become findable."""
    import io
    import threading
    import time

    from kundenakte.core.attachments import add_attachment
    from kundenakte.search import extract

    release = threading.Event()
    real = extract.extract_text

    def slow(path, mime_type, **kw):  # stands in for a PDF that takes its whole time box
        release.wait(timeout=30)
        return real(path, mime_type, **kw)

    monkeypatch.setattr(extract, "extract_text", slow)
    ka.settings.index_async = True  # the background threads, as in a web worker
    try:
        owner = people.viewer("owner")
        with ka.db.write() as s:
            slow_doc = create_document(ka, s, owner, "testnote", DocumentInput(title="Langsamer Anhang", data={"subject": "a"}, readers=["*"]))
            add_attachment(ka, s, owner, slow_doc, io.BytesIO(b"Zauberwortimanhang"), "notiz.txt")
        with ka.db.write() as s:
            create_document(ka, s, owner, "testnote", DocumentInput(title="Schnelles Angebot", data={"subject": "b"}, readers=["*"]))
        ka.search.notify()

        def found(q: str) -> int:
            with ka.db.read() as s:
                return ka.search.search(s, owner, q).total

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (found("Schnelles") and found("Langsamer")):
            time.sleep(0.05)
        assert found("Schnelles") == 1 and found("Langsamer") == 1  # both titles, the file still unread
        assert found("Zauberwortimanhang") == 0
        release.set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not found("Zauberwortimanhang"):
            time.sleep(0.05)
        assert found("Zauberwortimanhang") == 1
    finally:
        release.set()


def test_two_workers_indexing_at_once_never_leave_an_older_state(ka, people, tmp_path, database):
    """Two workers' indexers on one queue: the newest state of a document is the one that stays.

    Worker A reads the queue and builds an entry from the state before a revocation; worker B then
    flushes after the revocation. Without one indexer at a time, A would write its older entry
    last and both would delete the queue rows: a stale, public entry with nothing left to fix it.
    """
    import threading

    from kundenakte.testing import make_ka as plain_make_ka

    other = plain_make_ka(tmp_path, database)  # a second worker process on the same instance
    try:
        owner = people.viewer("owner")
        with ka.db.write() as s:
            ident = create_document(ka, s, owner, "testnote", DocumentInput(
                title="Geheimsache Zwei", data={"subject": "x"}, readers=["*"])).id
        ka.search.flush()
        with ka.db.write() as s:
            update_document(ka, s, owner, ident, DocumentInput(title="Geheimsache Drei", given={"title"}),
                            expected_version=None)
        built = threading.Event()
        go_on = threading.Event()
        original = ka.search.build_records

        def slow_build(session, keys):  # type: ignore[no-untyped-def]
            result = original(session, keys)
            built.set()
            go_on.wait(timeout=30)
            return result

        ka.search.build_records = slow_build  # type: ignore[method-assign]
        worker_a = threading.Thread(target=ka.search.flush)
        worker_a.start()
        assert built.wait(timeout=30)
        with ka.db.write() as s:  # the revocation, while A holds its older snapshot
            update_document(ka, s, owner, ident, DocumentInput(readers=[], given={"readers"}), expected_version=None)
        worker_b = threading.Thread(target=other.search.flush)
        worker_b.start()
        worker_b.join(timeout=1.0)
        go_on.set()
        worker_a.join(timeout=30)
        worker_b.join(timeout=30)
        ka.search.build_records = original  # type: ignore[method-assign]
        ka.search.flush()
        with ka.db.read() as s:
            assert s.scalar(select(func.count()).select_from(IndexQueue)) == 0
            outsider = people.viewer("outsider")
            for service in (ka.search, other.search):
                assert service.search(s, outsider, "Geheimsache").total == 0
                assert service.suggest(s, outsider, "Geheim") == []
            assert ka.search.search(s, owner, "Geheimsache Drei").total == 1
    finally:
        other.close()
