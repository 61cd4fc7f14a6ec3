"""One Whoosh searcher and what is derived from it, plus the translation of parsed queries.

Document numbers are only meaningful inside the searcher that produced them: after a commit or a
segment merge the same number names another document. So every set of document numbers computed
here belongs to exactly one :class:`Snapshot` and dies with it; nothing is carried over to the next
searcher. (Reusing such sets across searchers is what once let a merge show private documents to
the wrong people.)

Only Whoosh's documented API is used: ``Searcher.docs_for_query``, ``search(filter=…)``,
``document_number``, ``lexicon``, ``expand_prefix``, ``stored_fields`` and the query classes.
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from whoosh import query as wq

from . import query as uq
from .analysis import bigrams, fold
from .base import QueryError
from .whoosh_schema import GRAM_MAX, SEP

__all__ = ["Snapshot", "to_whoosh"]

MAX_EXPANSION = 2000  # words one prefix may expand to before the user is asked to type more
_ALLOWED_CACHE = 32  # permission filters remembered per searcher (LRU)
FACETS_BY_TERM = 2000  # hits from which facets intersect cached term sets instead of reading columns
RANK_BY_ONE_TERM = 500  # hits above which a compound query is ranked by its rarest word
_SCORED_FIELDS = frozenset({"all", "title", "company", "contact"})


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class Snapshot:
    """A searcher plus docnum sets derived from it; replaced, never updated, when the index changes."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self._terms: dict[tuple[str, str], frozenset[int]] = {}
        self._allowed: OrderedDict[tuple[Any, ...], frozenset[int]] = OrderedDict()
        self._lexicons: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.users = 0  # searches running on this snapshot
        self.retired = False

    def close(self) -> None:
        self.searcher.close()

    # -- derived sets ----------------------------------------------------------------------

    def docs(self, field: str, text: str) -> frozenset[int]:
        """Docnums holding one term (cached: filter and facet terms repeat on every search)."""
        key = (field, text)
        hit = self._terms.get(key)
        if hit is None:
            hit = frozenset(self.searcher.docs_for_query(wq.Term(field, text)))
            with self._lock:
                self._terms[key] = hit
        return hit

    def lexicon(self, field: str) -> list[str]:
        hit = self._lexicons.get(field)
        if hit is None:
            hit = [_text(t) for t in self.searcher.lexicon(field)]
            self._lexicons[field] = hit
        return hit

    def allowed(
        self, principals: frozenset[str] | None, types: Sequence[str], folders: Sequence[str], include_archived: bool
    ) -> frozenset[int]:
        """Docnums the filters let through: readable by one of ``principals`` (None: everyone)."""
        key = (principals, tuple(types), tuple(folders), include_archived)
        with self._lock:
            hit = self._allowed.get(key)
            if hit is not None:
                self._allowed.move_to_end(key)
                return hit
        sets: list[frozenset[int] | set[int]] = []
        if principals is not None:
            sets.append(self.union("principals", principals))
        if types:
            sets.append(self.union("type", types))
        if folders:
            sets.append(self.union("folders", folders))
        if sets:
            sets.sort(key=len)
            result = set(sets[0]).intersection(*sets[1:])
        else:
            result = set(self.searcher.docs_for_query(wq.Every()))
        if not include_archived:
            result -= self.docs("archived", "1")
        frozen = frozenset(result)
        with self._lock:
            self._allowed[key] = frozen
            while len(self._allowed) > _ALLOWED_CACHE:
                self._allowed.popitem(last=False)
        return frozen

    def union(self, field: str, terms: Iterable[str]) -> set[int]:
        out: set[int] = set()
        for t in terms:
            out |= self.docs(field, t)
        return out

    def docnums(self, ids: Iterable[str]) -> set[int]:
        """Docnums of the given entry ids (absent ones are skipped)."""
        ids = list(ids)
        if len(ids) <= 64:
            found = (self.searcher.document_number(id=i) for i in ids)
            return {n for n in found if n is not None}
        return set(self.searcher.docs_for_query(wq.Or([wq.Term("id", i) for i in ids])))

    def facets(self, hits: set[int] | frozenset[int]) -> dict[str, dict[str, int]]:
        """Type and folder counts over exactly ``hits``.

        Few hits: read each hit's facet column (nothing to precompute, so the first search after a
        commit costs what any other does). Many hits: intersect with each facet term's docnums,
        cached for this searcher, which runs in C.
        """
        if len(hits) >= FACETS_BY_TERM:
            out: dict[str, dict[str, int]] = {}
            for field in ("type", "folders"):
                counts = {t: len(self.docs(field, t) & hits) for t in self.lexicon(field) if t}
                out[field] = {t: n for t, n in counts.items() if n}
            return out
        column = self.searcher.reader().column_reader("facet")
        types: Counter[str] = Counter()
        folders: Counter[str] = Counter()
        for docnum in hits:
            parts = _text(column[docnum]).split(SEP)
            types[parts[0]] += 1
            folders.update(parts[1:])
        types.pop("", None)
        folders.pop("", None)
        return {"type": dict(types), "folders": dict(folders)}

    def stored(self, docnum: int) -> dict[str, Any]:
        fields: dict[str, Any] = self.searcher.stored_fields(docnum)
        return fields

    # -- evaluation ------------------------------------------------------------------------

    def matching(self, q: wq.Query) -> set[int]:
        """Docnums matching ``q``: each term's postings read once by Whoosh, combined as sets.

        Whoosh's compound matchers step through every posting in Python (a two-word AND of common
        words costs several times its terms); sets intersect and unite in C.
        """
        if isinstance(q, wq.Term):
            return set(self.searcher.docs_for_query(q))
        if isinstance(q, wq.And):
            parts = sorted((self.matching(c) for c in q.subqueries), key=len)
            return parts[0].intersection(*parts[1:]) if parts else set()
        if isinstance(q, wq.Or):
            return set().union(*(self.matching(c) for c in q.subqueries))
        if isinstance(q, wq.AndNot):
            return self.matching(q.a) - self.matching(q.b)
        if q is wq.NullQuery:
            return set()
        return set(self.searcher.docs_for_query(q))

    def ranked(self, q: wq.Query, within: set[int], limit: int, *, scored: bool = True) -> list[tuple[int, float]]:
        """The best ``limit`` docnums of ``within`` for ``q`` (Whoosh's own collector and weighting).

        ``scored=False`` (a query of prefixes and filters only, where every hit weighs the same):
        newest entries first, without a second pass over the postings.
        """
        if not within or limit <= 0:
            return []
        if not scored:
            return [(d, 0.0) for d in heapq.nlargest(limit, within)]
        if len(within) > RANK_BY_ONE_TERM and not isinstance(q, wq.Term):
            # Many hits of a compound query: rank by the rarest word alone, which Whoosh's
            # collector does with block skipping; the order among thousands of hits barely moves.
            terms = _positive_terms(q)
            if terms:
                q = min(terms, key=lambda t: self.searcher.doc_frequency(t.fieldname, t.text))
        results = self.searcher.search(q, limit=limit, filter=set(within))
        return [(hit.docnum, float(hit.score or 0.0)) for hit in results]


def _positive_terms(q: wq.Query) -> list[wq.Term]:
    """Scored text terms of ``q`` outside any exclusion."""
    if isinstance(q, wq.Term):
        return [q] if q.fieldname in _SCORED_FIELDS else []
    if isinstance(q, wq.AndNot):
        return _positive_terms(q.a)
    if isinstance(q, (wq.And, wq.Or)):
        return [t for c in q.subqueries for t in _positive_terms(c)]
    return []


def to_whoosh(node: uq.Node, snap: Snapshot, *, master_data: bool = False) -> wq.Query:
    """The Whoosh query for a parsed user query.

    ``master_data``: for the contacts/companies index, which has one text field and no phrase pairs.
    """

    def field(name: str | None) -> str:
        return "all" if master_data or name is None else name

    def expand(fname: str, prefix: str) -> wq.Query:
        words = [_text(t) for t in islice(snap.searcher.reader().expand_prefix(fname, prefix), MAX_EXPANSION + 1)]
        if len(words) > MAX_EXPANSION:
            raise QueryError(f"„{prefix}*“ passt auf zu viele Wörter. Bitte mehr Buchstaben vor „*“ eingeben.")
        if not words:
            return wq.NullQuery
        return wq.Or([wq.Term(fname, w) for w in words]) if len(words) > 1 else wq.Term(fname, words[0])

    def walk(n: uq.Node) -> wq.Query:
        if isinstance(n, uq.Term):
            return wq.Term(field(n.field), n.stem)
        if isinstance(n, uq.Phrase):
            if n.field is None and not master_data:
                return wq.And([wq.Term("big", p) for p in bigrams(n.stems)])
            return wq.And([wq.Term(field(n.field), s) for s in n.stems])
        if isinstance(n, uq.Prefix):
            if n.field is not None and not master_data:
                return expand(field(n.field), n.text)
            if len(n.text) <= GRAM_MAX:
                return wq.Term("pfx", n.text)
            return expand("words", n.text)
        if isinstance(n, uq.Keyword):
            return wq.NullQuery if master_data else keyword(n)
        if isinstance(n, uq.Everything):
            return wq.Every()
        if isinstance(n, uq.Or):
            return wq.Or([walk(c) for c in n.children])
        if isinstance(n, uq.And):
            pos = [walk(c) for c in n.children if not isinstance(c, uq.Not)]
            neg = [walk(c.child) for c in n.children if isinstance(c, uq.Not)]
            base: wq.Query = wq.And(pos) if len(pos) > 1 else (pos[0] if pos else wq.Every())
            return wq.AndNot(base, wq.Or(neg)) if neg else base
        if isinstance(n, uq.Not):
            return wq.AndNot(wq.Every(), walk(n.child))
        raise QueryError("Nicht unterstützter Suchausdruck.")  # pragma: no cover

    def keyword(n: uq.Keyword) -> wq.Query:
        want = fold(n.value)
        if n.field in ("folders", "status", uq.EXTRA_FIELD):
            fname = "folders_f" if n.field == "folders" else n.field
            return expand(fname, want) if n.prefix else wq.Term(fname, want)
        # type and category keys: few values, matched case- and umlaut-blind
        terms = [t for t in snap.lexicon(n.field) if (fold(t).startswith(want) if n.prefix else fold(t) == want)]
        if not terms:
            return wq.NullQuery
        return wq.Or([wq.Term(n.field, t) for t in terms])

    return walk(node)
