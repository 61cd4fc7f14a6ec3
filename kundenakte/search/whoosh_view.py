"""Query evaluation over one Whoosh searcher.

:class:`_View` holds one searcher and what is derived from it (filter sets,
lexicons), and evaluates parsed queries with set algebra over posting
lists read a block at a time, instead of Whoosh's per-posting matchers and
collectors. :func:`_blocks` reads those blocks (also used when the writer
merges segments); it relies on whoosh-reloaded 2.7.x leaf matcher
internals and falls back to the generic per-posting loop for any other
matcher.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Iterable
from itertools import accumulate

from whoosh.codec.whoosh3 import W3LeafMatcher

from . import query as uq
from .analysis import MAX_PREFIX, bigrams, fold
from .base import QueryError

_CACHED_FIELDS = frozenset({"kind", "type", "category", "status", "archived", "folders", "principals"})
_MAX_EXPANSION = 5000  # terms one long prefix may expand to


class _View:
    """One searcher plus what is derived from it; replaced when the index changes.

    Queries are evaluated here with set algebra over posting lists read a
    block at a time, because Whoosh's per-posting matcher and collector
    machinery costs ~20 µs per matching document. Only filter and facet
    terms are cached: free-text terms are read fresh for every query.
    """

    def __init__(self, searcher, previous: _View | None = None) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.generation = self.reader.generation()
        self.leaves = [(r, off, frozenset(r.deleted_docs_set) if r.has_deletions() else frozenset())
                       for r, off in self.reader.leaf_readers()]
        self.segment_ids = [r.segment().segment_id() if r.segment() is not None else None for r, _, _ in self.leaves]
        self.n_docs = max(1, self.reader.doc_count())
        self._live: set[int] | None = None
        self._cache: dict[tuple[str, str], frozenset[int]] = {}
        self._lexicon: dict[str, list[str]] = {}
        self._allowed: dict[tuple, set[int]] = {}
        self.lock = threading.Lock()
        if previous is not None:
            self._carry_over(previous)

    def _carry_over(self, old: _View) -> None:
        """Reuse the filter sets of the previous view for segments both share.

        A commit usually appends a small segment and deletes a few documents
        in old ones; rereading every filter posting list (50k entries for
        kind=document alone) would make each commit cost ~100 ms on the
        next query.
        """
        k = 0
        while (k < len(old.leaves) and k < len(self.leaves) and old.segment_ids[k] == self.segment_ids[k]
               and old.leaves[k][1] == self.leaves[k][1]):
            k += 1
        if k == 0:
            return
        end = self.leaves[k][1] if k < len(self.leaves) else self.reader.doc_count_all()
        old_end = old.leaves[k][1] if k < len(old.leaves) else old.reader.doc_count_all()
        drop = set(range(end, max(end, old_end)))
        for (_, off, deleted), (_, _, old_deleted) in zip(self.leaves[:k], old.leaves[:k]):
            if deleted != old_deleted:
                drop.update(d + off for d in deleted - old_deleted)
        tail = self.leaves[k:]
        for key, docs in list(old._cache.items()):
            fresh: set[int] = set()
            for ids, _ in self._postings(key[0], key[1], False, tail):
                fresh.update(ids)
            self._cache[key] = frozenset((docs - drop) | fresh)
        if old._live is not None:
            self._live = (old._live - drop) | self._live_in(tail)

    # -- posting access --------------------------------------------------------

    def _postings(self, field: str, text: str, weights: bool, leaves: list | None = None):
        """Yield (docnums, weights or None) per block, global docnums, deletions removed."""
        btext = text.encode("utf-8")
        for r, off, deleted in self.leaves if leaves is None else leaves:
            if (field, btext) not in r:
                continue
            m = r._terms.matcher(field, btext, r.schema[field].format)
            for ids, ws in _blocks(m, weights):
                if off:
                    ids = [i + off for i in ids]
                if deleted:
                    keep = [j for j, i in enumerate(ids) if i - off not in deleted]
                    ids = [ids[j] for j in keep]
                    ws = [ws[j] for j in keep] if ws is not None else None
                yield ids, ws

    def docs(self, field: str, text: str) -> frozenset[int] | set[int]:
        key = (field, text)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out: set[int] = set()
        for ids, _ in self._postings(field, text, False):
            out.update(ids)
        if field in _CACHED_FIELDS:
            hit = frozenset(out)
            with self.lock:
                self._cache[key] = hit
            return hit
        return out

    def tf(self, field: str, text: str) -> dict[int, float]:
        out: dict[int, float] = {}
        for ids, ws in self._postings(field, text, True):
            out.update(zip(ids, ws))
        return out

    def live(self) -> set[int]:
        if self._live is None:
            self._live = self._live_in(self.leaves)
        return self._live

    @staticmethod
    def _live_in(leaves: list) -> set[int]:
        # Ranges minus deletions: reader.all_doc_ids() asks is_deleted() per document.
        live: set[int] = set()
        for r, off, deleted in leaves:
            live.update(range(off, off + r.doc_count_all()))
            if deleted:
                live.difference_update(d + off for d in deleted)
        return live

    def terms(self, field: str) -> list[str]:
        hit = self._lexicon.get(field)
        if hit is None:
            hit = [t.decode("utf-8") if isinstance(t, bytes) else t for t in self.reader.lexicon(field)]
            self._lexicon[field] = hit
        return hit

    def keyword_terms(self, field: str, value: str, prefix: bool) -> list[str]:
        want = fold(value)
        return [t for t in self.terms(field) if (fold(t).startswith(want) if prefix else fold(t) == want)]

    def union(self, field: str, terms: Iterable[str]) -> set[int]:
        out: set[int] = set()
        for t in terms:
            out |= self.docs(field, t)
        return out

    def expand(self, field: str, prefix: str) -> set[int]:
        out: set[int] = set()
        for i, t in enumerate(self.reader.expand_prefix(field, prefix)):
            if i >= _MAX_EXPANSION:
                break
            out |= self.docs(field, t.decode("utf-8") if isinstance(t, bytes) else t)
        return out

    # -- filters and facets ----------------------------------------------------

    def allowed(self, principals, kinds, types, folders, include_archived) -> set[int]:
        key = (principals, tuple(kinds), tuple(types), tuple(folders), include_archived)
        hit = self._allowed.get(key)
        if hit is not None:
            return hit
        sets = [self.live()]
        if kinds:
            sets.append(self.union("kind", kinds))
        if types:
            sets.append(self.union("type", types))
        if folders:
            sets.append(self.union("folders", folders))
        if principals is not None:
            sets.append(self.union("principals", principals))
        sets.sort(key=len)
        result = set(sets[0]).intersection(*sets[1:])
        if not include_archived:
            result -= self.docs("archived", "1")
        with self.lock:
            if len(self._allowed) > 64:
                self._allowed.clear()
            self._allowed[key] = result
        return result

    def facets(self, matched: set[int]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for field in ("type", "folders"):
            counts = {}
            for t in self.terms(field):
                n = len(self.docs(field, t) & matched)  # C-level, iterates the smaller set
                if n and t:
                    counts[t] = n
            out[field] = counts
        return out

    # -- evaluation ------------------------------------------------------------

    def evaluate(self, node: uq.Node, allowed: set[int]) -> tuple[set[int], list]:
        """Matching docnums (within ``allowed``) and the scoring components."""
        parts: list = []
        docs = self._eval(node, allowed, parts, positive=True)
        return docs & allowed if docs is not allowed else set(allowed), parts

    def _eval(self, node: uq.Node, allowed: set[int], parts: list, positive: bool) -> set[int]:
        if isinstance(node, uq.Term):
            tf = self.tf(node.field or "all", node.stem)
            if positive and tf:
                parts.append((self._idf(len(tf)), tf))
            return tf.keys()  # type: ignore[return-value]
        if isinstance(node, (uq.Phrase, uq.Prefix, uq.Keyword)):
            docs = self._leaf_docs(node)
            if positive and docs and not isinstance(node, uq.Keyword):
                parts.append((self._idf(len(docs)), docs))
            return docs
        if isinstance(node, uq.Everything):
            return allowed
        if isinstance(node, uq.Or):
            out: set[int] = set()
            for c in node.children:
                out |= self._eval(c, allowed, parts, positive)
            return out
        if isinstance(node, uq.And):
            pos = [c for c in node.children if not isinstance(c, uq.Not)]
            neg = [c.child for c in node.children if isinstance(c, uq.Not)]
            out = set(allowed)
            for c in pos:
                out &= self._eval(c, allowed, parts, positive)
                if not out:
                    return out
            for c in neg:
                out -= self._eval(c, allowed, parts, False)
            return out
        raise QueryError("Nicht unterstützter Suchausdruck.")  # pragma: no cover

    def _leaf_docs(self, node) -> set[int]:
        if isinstance(node, uq.Phrase):
            if node.field is None:
                sets = [self.docs("big", p) for p in bigrams(node.stems)]
            else:
                sets = [self.tf(node.field, s).keys() for s in node.stems]
            sets.sort(key=len)
            return set(sets[0]).intersection(*sets[1:])
        if isinstance(node, uq.Prefix):
            if node.field is None:
                if len(node.text) <= MAX_PREFIX:
                    return self.docs("pfx", node.text)  # type: ignore[return-value]
                return self.expand("pfx", node.text)
            return self.expand(node.field, node.text)
        if node.field == uq.EXTRA_FIELD and not node.prefix:
            return set(self.docs(node.field, fold(node.value)))  # exact: no scan over every value
        return self.union(node.field, self.keyword_terms(node.field, node.value, node.prefix))

    def _idf(self, df: int) -> float:
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def rank(self, matched: set[int], parts: list, limit: int | None) -> list[tuple[int, float]]:
        """Best first: BM25-like saturation of term frequency, no length norm; newer docnum wins ties.

        Loops stay in C where possible: one term ranks by its raw frequency
        (the score is monotonic in it), several terms add up per posting.
        """
        newest_first = sorted(matched, reverse=True)
        if not parts:
            order = newest_first if limit is None else newest_first[:limit]
            return [(d, 0.0) for d in order]
        if len(parts) == 1 and isinstance(parts[0][1], dict):
            idf, tf = parts[0]
            keys = dict.fromkeys(matched, 0.0)
            keys.update(tf)  # extra keys outside ``matched`` are never looked at
            key = keys.__getitem__
            order = sorted(newest_first, key=key, reverse=True) if limit is None else \
                heapq.nlargest(limit, newest_first, key=key)
            return [(d, idf * keys[d] * 2.2 / (keys[d] + 1.2)) for d in order]
        scores = dict.fromkeys(matched, 0.0)
        for idf, comp in parts:
            if isinstance(comp, dict):
                for d, tf in comp.items():
                    if d in scores:
                        scores[d] += idf * tf * 2.2 / (tf + 1.2)
            else:
                for d in comp & scores.keys():
                    scores[d] += idf
        key = scores.__getitem__
        order = sorted(newest_first, key=key, reverse=True) if limit is None else \
            heapq.nlargest(limit, newest_first, key=key)
        return [(d, scores[d]) for d in order]


def _blocks(m, weights: bool):
    """Posting blocks of one segment matcher as (ids, weights) sequences."""
    if isinstance(m, W3LeafMatcher) and not m._byteids and hasattr(m, "_read_data") and hasattr(m, "_atend"):
        while not m._atend:
            if m._data is None:
                m._read_data()
            ids = list(accumulate(m._data[0]))  # whoosh's delta_decode, in C
            if weights:
                ws = m._data[1]
                ws = [1.0] * len(ids) if ws is None else [ws] * len(ids) if isinstance(ws, float) else ws
                yield ids, ws
            else:
                yield ids, None
            m._next_block()
        return
    ids, ws = [], []  # any other matcher: the slow, generic way
    while m.is_active():
        ids.append(m.id())
        ws.append(m.weight())
        m.next()
    yield ids, (ws if weights else None)
