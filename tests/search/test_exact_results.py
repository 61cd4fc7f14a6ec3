"""Search results are exact by construction: every output equals a reference computed from the database.

A hypothesis state machine interleaves creating, editing and deleting documents (random titles,
contents and text attachments), grants and revocations for users, groups and ``*``, nested group
membership changes, deactivation, archiving, index flushes, many small commits followed by
``optimize`` (segment merges), reopened searchers and a second backend instance writing. After
every step it compares, for every user and several queries, the search service's hits, total, type
facets and suggestions with the reference: documents readable now (``acl.readable_ids``, i.e.
``core/acl.py``) whose analysed text matches the query, less those still queued for indexing (the
only way results may differ, and only narrower).

Runs on SQLite + Whoosh and PostgreSQL + its full-text backend. Sizes: KUNDENAKTE_SEARCH_EXAMPLES
× KUNDENAKTE_SEARCH_STEPS (CI 8 × 15 per backend, the same examples every run; KUNDENAKTE_HARDENING_FULL=1:
100 × 40, freshly drawn).
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select, update

from kundenakte.core import acl
from kundenakte.core.attachments import add_attachment
from kundenakte.core.documents import DocumentInput, create_document, delete_document, queue_index, update_document
from kundenakte.core.models import Document, IndexQueue, User
from kundenakte.core.users import add_members, create_group, create_user, remove_members
from kundenakte.search.analysis import analyze, bigrams, fold
from tests.conftest import PASSWORD, _truncate_pg, make_ka, password_hash
from tests.hardening import FULL, env_int

EXAMPLES = env_int("KUNDENAKTE_SEARCH_EXAMPLES", 8, 100)
STEPS = env_int("KUNDENAKTE_SEARCH_STEPS", 15, 40)
N_USERS = 4
WORDS = ["Angebot", "Vertrag", "Rechnung", "Mahnung", "Wartung", "Lieferung", "Projekt", "Kunde"]
QUERIES = ["Vertrag", "Rechnung Wartung", '"Angebot Vertrag"', "ver*", "lie*", "mahnu*", "Kunde -Projekt", "Angebot OR Mahnung"]
SUGGEST = ["ve", "re", "an", "Kunde pro"]
words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
principal = st.sampled_from(["*", "u0", "u1", "u2", "u3", "g0", "g1"])


def _stems(text: str) -> tuple[set[str], set[str], set[str]]:
    toks = analyze(text)
    stems = [s for s, _ in toks]
    return set(stems), set(bigrams(stems)), {f for _, f in toks}


def matches(query: str, sections: list[str], *, joined: bool = False) -> bool:
    """The reference matcher for the queries above, over the document's text sections.

    ``joined``: PostgreSQL concatenates the sections into one tsvector, so a phrase may run from
    the end of one into the start of the next (a known difference, docs/architecture.md).
    """
    parsed = [_stems(s) for s in (["\n".join(sections)] if joined else sections)]
    stems = set().union(*(p[0] for p in parsed))
    pairs = set().union(*(p[1] for p in parsed))
    folded = set().union(*(p[2] for p in parsed))

    def word(w: str) -> bool:
        if w.endswith("*"):
            return any(f.startswith(fold(w[:-1])) for f in folded)
        return analyze(w)[0][0] in stems

    if query.startswith('"'):
        a, b = (analyze(w)[0][0] for w in query.strip('"').split())
        return f"{a}_{b}" in pairs
    if " OR " in query:
        return any(word(w) for w in query.split(" OR "))
    parts = query.split()
    return all(not word(p[1:]) if p.startswith("-") else word(p) for p in parts)


class SearchMachine(RuleBasedStateMachine):
    database: str
    backend: str
    template: Path | None

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="search-exact-"))
        if self.database == "sqlite":
            shutil.copy(self.template, self.folder / "kundenakte.sqlite3")  # type: ignore[arg-type]
        else:
            _truncate_pg(self.database)
        self.ka = make_ka(self.folder, self.database, search_backend=self.backend)
        self.ka.search.backend.clear()
        self.docs: list[int] = []
        self.checks = 0

    def teardown(self) -> None:
        self.ka.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize()
    def setup(self) -> None:
        with self.ka.db.write() as s:
            self.users = [create_user(s, f"s{i}", PASSWORD, display_name=f"S{i}", email=f"s{i}@example.org",
                                      password_hash=password_hash()).id for i in range(N_USERS)]
            self.admin_id = create_user(s, "s-admin", PASSWORD, display_name="Admin", email="a@example.org",
                                        is_admin=True, password_hash=password_hash()).id
            g0 = create_group(s, "Vertrieb")
            self.groups = [g0.id, create_group(s, "Vertrieb Nord", parent="Vertrieb").id]
        with self.ka.db.write() as s:
            add_members(s, "Vertrieb Nord", ["s1"])

    def real(self, p: str) -> str:
        if p == "*":
            return p
        return f"u:{self.users[int(p[1])]}" if p[0] == "u" else f"g:{self.groups[int(p[1])]}"

    def viewer(self, s: Any, i: int) -> acl.Viewer:
        return acl.viewer_for(s, s.get(User, self.users[i]))

    def admin(self, s: Any) -> acl.Viewer:
        return acl.viewer_for(s, s.get(User, self.admin_id))

    # -- rules -------------------------------------------------------------------------------

    @rule(author=st.integers(0, N_USERS - 1), title=words, content=words, readers=st.sets(principal, max_size=2),
          attachment=st.one_of(st.none(), words))
    def create(self, author: int, title: str, content: str, readers: set[str], attachment: str | None) -> None:
        with self.ka.db.write() as s:
            if self.viewer(s, author).sees_nothing:
                return  # a deactivated user writes nothing
            doc = create_document(self.ka, s, self.viewer(s, author), "free_document", DocumentInput(
                title=title, content=content, readers=[self.real(p) for p in readers]))
            if attachment is not None:
                add_attachment(self.ka, s, self.viewer(s, author), doc, io.BytesIO(attachment.encode()), "notiz.txt")
            self.docs.append(doc.id)

    def _live(self) -> list[int]:
        """Documents that can still be edited (archived ones are read-only)."""
        with self.ka.db.read() as s:
            return [d for d in self.docs if s.get(Document, d).archived_at is None]

    @rule(data=st.data(), title=words)
    def retitle(self, data: st.DataObject, title: str) -> None:
        if live := self._live():
            ident = data.draw(st.sampled_from(live))
            with self.ka.db.write() as s:
                update_document(self.ka, s, self.admin(s), ident,
                                DocumentInput(title=title, given={"title"}), expected_version=None)

    @rule(data=st.data(), readers=st.sets(principal, max_size=3))
    def set_readers(self, data: st.DataObject, readers: set[str]) -> None:
        """Grant and revoke in one: the document's readers become exactly ``readers``."""
        if live := self._live():
            ident = data.draw(st.sampled_from(live))
            with self.ka.db.write() as s:
                update_document(self.ka, s, self.admin(s), ident,
                                DocumentInput(readers=[self.real(p) for p in readers], given={"readers"}),
                                expected_version=None)

    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        if self.docs:
            ident = data.draw(st.sampled_from(self.docs))
            with self.ka.db.write() as s:
                delete_document(self.ka, s, self.admin(s), ident)
            self.docs.remove(ident)

    @rule(user=st.integers(0, N_USERS - 1), group=st.sampled_from(["Vertrieb", "Vertrieb Nord"]), join=st.booleans())
    def membership(self, user: int, group: str, join: bool) -> None:
        with self.ka.db.write() as s:
            (add_members if join else remove_members)(s, group, [f"s{user}"])

    @rule(user=st.integers(0, N_USERS - 1), active=st.booleans())
    def activation(self, user: int, active: bool) -> None:
        with self.ka.db.write() as s:
            s.execute(update(User).where(User.id == self.users[user]).values(active=active))

    @rule(data=st.data())
    def archive(self, data: st.DataObject) -> None:
        if live := self._live():
            ident = data.draw(st.sampled_from(live))
            with self.ka.db.write() as s:
                s.execute(update(Document).where(Document.id == ident).values(archived_at=self.ka.clock.now()))
                queue_index(s, f"doc:{ident}")

    @rule()
    def flush(self) -> None:
        self.ka.search.flush()

    @rule(n=st.integers(2, 12))
    def small_commits_then_optimize(self, n: int) -> None:
        """Many one-document commits (segments), then a merge of everything."""
        for i in range(n):
            self.create(i % N_USERS, WORDS[i % len(WORDS)], "Kunde", {"*"} if i % 3 else set(), None)
            self.ka.search.flush()
        optimize = getattr(self.ka.search.backend, "optimize", None)
        if optimize is not None:
            optimize()

    @rule()
    def reopen(self) -> None:
        backend, self.ka.search._backend = self.ka.search._backend, None
        if backend is not None and self.backend == "whoosh":
            backend.close()

    @rule()
    def second_writer(self) -> None:
        """Another worker's backend instance indexes the queue."""
        if self.backend != "whoosh":
            return
        from kundenakte.search.whoosh_backend import WhooshBackend

        other = WhooshBackend(self.ka.settings.index_dir)
        mine, self.ka.search._backend = self.ka.search._backend, other
        try:
            self.ka.search.flush()
        finally:
            self.ka.search._backend = mine
            other.close()

    # -- the invariant ---------------------------------------------------------------------------

    @invariant()
    def outputs_equal_reference(self) -> None:
        if not hasattr(self, "users"):
            return
        with self.ka.db.read() as s:
            pending = {int(k[4:]) for k in s.scalars(select(IndexQueue.object_key)) if k.startswith("doc:")}
            rows = {d.id: d for d in s.scalars(select(Document))}
            for i in range(N_USERS):
                viewer = self.viewer(s, i)
                readable = acl.readable_ids(s, viewer, list(rows)) if not viewer.sees_nothing else set()
                visible = {d for d in readable if d not in pending and rows[d].archived_at is None}
                for q in QUERIES:
                    expected = {d for d in visible
                                if matches(q, self.sections(rows[d]), joined=self.backend == "postgres")}
                    page = self.ka.search.search(s, viewer, q, per_page=100)
                    got = {h.document.id for h in page.hits}
                    assert got == expected, (q, i, got, expected)
                    assert page.total == len(expected), (q, i, page.total)
                    want_types = dict(Counter(rows[d].type_key for d in expected))
                    assert page.facets.get("type", {}) == want_types, (q, i)
                    self.checks += 1
                for p in SUGGEST:
                    got_titles = set(self.ka.search.suggest(s, viewer, p, limit=20))
                    want = {rows[d].title for d in visible if self._suggests(p, rows[d].title)}
                    assert got_titles == want, (p, i, got_titles, want)

    @staticmethod
    def _suggests(prefix: str, title: str) -> bool:
        words_ = prefix.split()
        folded = {f for _, f in analyze(title)}
        done = [analyze(w)[0][1] for w in words_[:-1]]
        return all(any(f.startswith(w) for f in folded) for w in done + [fold(words_[-1])])

    def sections(self, doc: Document) -> list[str]:
        texts = [doc.title or "", doc.content or ""]
        texts += [f"{a.filename}\n{a.text or ''}" for a in doc.attachments if not a.inline]
        return texts


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("database,backend", [("sqlite", "whoosh"), ("postgres", "postgres")])
def test_search_outputs_equal_the_reference(database: str, backend: str, request: pytest.FixtureRequest) -> None:
    SearchMachine.backend = backend
    if database == "sqlite":
        SearchMachine.database = "sqlite"
        SearchMachine.template = request.getfixturevalue("_sqlite_template")
    else:
        SearchMachine.database = request.getfixturevalue("_pg_ready")
        SearchMachine.template = None
    run_state_machine_as_test(SearchMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=not FULL,
        suppress_health_check=list(HealthCheck)))


@pytest.mark.parametrize("database,backend", [("sqlite", "whoosh"), ("postgres", "postgres")])
def test_outsider_learns_nothing_after_many_commits_and_a_merge(database: str, backend: str, tmp_path: Path,
                                                                 request: pytest.FixtureRequest) -> None:
    """40 single-document commits by two users, then a merge: the outsider's outputs stay empty."""
    if database == "sqlite":
        shutil.copy(request.getfixturevalue("_sqlite_template"), tmp_path / "kundenakte.sqlite3")
    else:
        database = request.getfixturevalue("_pg_ready")
        _truncate_pg(database)
    ka = make_ka(tmp_path, database, search_backend=backend)
    try:
        ka.search.backend.clear()
        with ka.db.write() as s:
            ids = [create_user(s, n, PASSWORD, display_name=n.title(), email=f"{n}@example.org",
                               password_hash=password_hash()).id for n in ("owner", "colleague", "outsider")]
        for i in range(40):
            with ka.db.write() as s:
                author = acl.viewer_for(s, s.get(User, ids[i % 2]))
                title = f"Geheimprojekt Zauberwort{i}" if i % 2 == 0 else f"Offenes Angebot {i}"
                readers = [] if i % 2 == 0 else ["*"]
                create_document(ka, s, author, "free_document", DocumentInput(title=title, content="Inhalt", readers=readers))
            ka.search.flush()
        optimize = getattr(ka.search.backend, "optimize", None)
        if optimize is not None:
            optimize()
        with ka.db.read() as s:
            outsider = acl.viewer_for(s, s.get(User, ids[2]))
            for q in ("Geheimprojekt", "zauberwort*", "Zauberwort0", "Geheimprojekt OR Angebot", "ge*"):
                page = ka.search.search(s, outsider, q)
                assert all("Geheim" not in h.document.title for h in page.hits)
                assert page.total == (20 if "Angebot" in q else 0), q
                assert sum(page.facets.get("type", {}).values()) == page.total
            assert ka.search.suggest(s, outsider, "Geh") == []
            assert ka.search.suggest(s, outsider, "zau") == []
            owner = acl.viewer_for(s, s.get(User, ids[0]))
            assert ka.search.search(s, owner, "Geheimprojekt").total == 20
    finally:
        ka.close()
