"""Embedded Whoosh search backend (the default).

Design notes, because Whoosh is pure Python and slow where it is naive:

* All text is analysed by :mod:`.analysis` before Whoosh sees it; the text
  fields receive space-separated stems, so Whoosh only splits on spaces.
* Prefixes (``rech*``) hit the ``pfx`` field of edge n-grams: one term lookup
  instead of an expansion over thousands of terms.
* Phrases hit the ``big`` field of adjacent stem pairs: a phrase is an AND of
  pair terms, so no positions are stored anywhere (smaller, faster index).
* Writers wait a bounded time for the lock; if another process keeps it,
  the batch is spooled to disk and applied first by whoever writes next, so
  no update is lost and no lock error reaches the caller. The lock is
  ``flock`` based: the kernel drops it when a writer dies, even by kill -9.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import heapq
import json
import logging
import math
import multiprocessing
import operator
import os
import random
import threading
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import accumulate, chain
from pathlib import Path

from whoosh import columns, fields, formats, index, writing
from whoosh.analysis import RegexTokenizer, SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

from . import query as uq
from .analysis import MAX_PREFIX, analyze, bigrams, edge_ngrams, fold, highlight_best, tokenize
from .base import Hit, IndexRecord, QueryError, SearchResult, visible_principals

__all__ = ["WhooshBackend"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = "2"  # 2: named extra fields
_SEP = "\x1f"  # separates multi-valued keyword values (folder names may hold spaces)
_STORE_MAX = 20_000  # characters of body kept for snippets


def _schema() -> fields.Schema:
    space = SpaceSeparatedTokenizer()
    multi = RegexTokenizer(r"[^\x1f]+")

    def text() -> fields.FieldType:
        return fields.TEXT(analyzer=space, phrase=False)

    def exists(analyzer=space) -> fields.FieldType:
        return fields.FieldType(formats.Existence(), analyzer, scorable=False)

    return fields.Schema(
        id=fields.ID(unique=True, stored=True, sortable=True),
        kind=fields.ID(),
        type=fields.ID(stored=True),
        category=fields.ID(),
        status=fields.ID(),
        archived=fields.ID(),
        folders=exists(multi),
        principals=exists(multi),
        extra=exists(multi),
        all=text(),
        title=text(),
        company=text(),
        contact=text(),
        big=exists(),
        pfx=exists(),
        tpfx=exists(),
        title_s=fields.STORED(),
        body_s=fields.STORED(),
        date=fields.STORED(),
        updated=fields.COLUMN(columns.NumericColumn("d", default=0.0)),
    )


def _to_doc(r: IndexRecord) -> dict:
    """Pre-analysed field values in the shapes :class:`_FastWriter` expects."""
    sections = [analyze(t) for t in (r.title, r.content, r.attachments, r.company, r.contact, *r.extra.values()) if t]
    title = analyze(r.title) if r.title else []
    stems: list[str] = [s for s, _ in title]  # title twice: a cheap title boost
    pairs: set[str] = set()
    grams: set[str] = set()
    for sec in sections:
        sec_stems = [s for s, _ in sec]
        stems.extend(sec_stems)
        pairs.update(bigrams(sec_stems))
        edge_ngrams({f for _, f in sec}, grams)
    body = r.content if not r.attachments else f"{r.content}\n{r.attachments}"
    return {
        "id": r.id,
        "kind": r.kind,
        "type": r.type,
        "category": r.category,
        "status": fold(r.status),
        "archived": "1" if r.archived else "0",
        "folders": [f for f in r.folders if f],
        "principals": [p for p in r.read_principals if p],
        "extra": [fold(f"{k}={v}") for k, v in r.extra.items() if v],
        "all": stems,
        "title": [s for s, _ in title],
        "company": [s for s, _ in analyze(r.company)],
        "contact": [s for s, _ in analyze(r.contact)],
        "big": pairs,
        "pfx": grams,
        "tpfx": edge_ngrams({f for _, f in title}),
        "title_s": r.title,
        "body_s": body[:_STORE_MAX],
        "date": r.date.isoformat() if r.date else None,
        "updated": float(r.updated),
    }


_MULTI = frozenset({"folders", "principals", "extra", "big", "pfx", "tpfx"})
_FREQ = frozenset({"all", "title", "company", "contact"})


class _FastPool:
    """In-memory posting pool replacing Whoosh's pickling external sort.

    Whoosh spends ~30 µs per posting in its generic pool; here a posting of
    an existence field is one int appended to an array. Chunked commits keep
    the pool small, so no spilling to disk is needed.
    """

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, array]] = {}  # field -> term -> docnums
        self.full: dict[tuple[str, bytes], list] = {}  # (field, term) -> [(docnum, weight, vbytes)]
        self.lengths: dict[str, dict[int, int]] = {}  # field -> docnum -> token count

    def add(self, item: tuple) -> None:  # generic path, used when merging segments
        self.full.setdefault((item[0], item[1]), []).append((item[2], item[3], item[4]))

    def add_ids(self, field: str, terms: Iterable[str], docnum: int) -> None:
        ids = self.ids.get(field)
        if ids is None:
            ids = self.ids[field] = {}
        for t in terms:
            arr = ids.get(t)
            if arr is None:
                ids[t] = arr = array("I")
            arr.append(docnum)

    def extend_ids(self, field: str, term: str, docnums: list[int]) -> None:
        ids = self.ids.setdefault(field, {})
        arr = ids.get(term)
        if arr is None:
            ids[term] = arr = array("I")
        arr.extend(docnums)

    def add_freqs(self, field: str, stems: list[str], docnum: int) -> int:
        full = self.full
        for t, n in Counter(stems).items():
            full.setdefault((field, t.encode("utf-8")), []).append((docnum, float(n), pack_uint(n)))
        self.lengths.setdefault(field, {})[docnum] = len(stems)
        return len(stems)

    def terms(self) -> dict[str, dict[bytes, tuple[array | None, list | None]]]:
        """field -> encoded term -> (docnum array, full rows)."""
        out: dict[str, dict[bytes, tuple]] = {}
        for field, terms in self.ids.items():
            dst = out.setdefault(field, {})
            for t, arr in terms.items():
                dst[t.encode("utf-8")] = (arr, None)
        for (field, text), rows in self.full.items():
            dst = out.setdefault(field, {})
            arr = dst.get(text, (None, None))[0]
            dst[text] = (arr, rows)
        return out

    def cleanup(self) -> None:
        self.ids, self.full, self.lengths = {}, {}, {}


class _Lengths:
    def __init__(self, pdr, schema, known: dict[str, dict[int, int]]) -> None:
        self._pdr = pdr
        self._scorable = frozenset(n for n, f in schema.items() if f.scorable)
        self._known = known

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        if fieldname not in self._scorable:
            return default
        n = self._known.get(fieldname, {}).get(docnum)
        if n is not None:
            return n
        return self._pdr.doc_field_length(docnum, fieldname, default) if self._pdr else default


_ONES = array("f", [1.0]) * 1024
_CODEC = W3Codec(blocklimit=512, compression=1)  # fewer, bigger blocks: less per-block Python


def _speed_up(pw, ones: bool) -> None:
    """C-speed replacements for whoosh3's per-element block encoding.

    Same on-disk format: ids delta-encoded in a tuple; ``None`` weights mean
    "all 1.0", which holds for every posting of an Existence field.
    """
    if not hasattr(pw, "_mini_ids") or getattr(pw, "_byteids", False):
        return
    pw._mini_ids = lambda: tuple(map(operator.sub, pw._ids, chain((0,), pw._ids)))
    if ones:
        pw._mini_weights = lambda: None


def _bulk_ok(pw) -> bool:
    return all(hasattr(pw, a) for a in (
        "_ids", "_weights", "_values", "_maxweight", "_minlength", "_maxlength", "_blocklimit", "_write_block"))


def _bulk_ids(pw, ids: array) -> None:
    """Fill a whoosh3 postings writer one block at a time (ids ascending)."""
    step = pw._blocklimit
    for i in range(0, len(ids), step):
        if pw._ids:
            pw._write_block()
        block = ids[i:i + step]
        pw._ids = array("I", block)
        pw._weights = _ONES[: len(block)]
        pw._maxweight = 1.0


def _bulk_rows(pw, rows: list, field: str, lengths: _Lengths) -> None:
    """Like _bulk_ids for (docnum, weight, vbytes) rows of a Frequency field."""
    step = pw._blocklimit
    for i in range(0, len(rows), step):
        if pw._ids:
            pw._write_block()
        block = rows[i:i + step]
        ids, ws, vs = zip(*block)
        pw._ids = array("I", ids)
        pw._weights = array("f", ws)
        pw._values = list(vs)
        pw._maxweight = max(ws)
        lens = [n for n in (lengths.doc_field_length(d, field) for d in ids) if n]
        if lens:
            pw._minlength, pw._maxlength = min(lens), max(lens)


class _FastWriter(SegmentWriter):
    """SegmentWriter whose add_document takes :func:`_to_doc` output directly."""

    def __init__(self, ix, **kwargs) -> None:
        kwargs.setdefault("codec", _CODEC)
        super().__init__(ix, **kwargs)
        self.pool = _FastPool()
        self.extra_segments: list = []

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        try:
            self._write_postings(_Lengths(pdr, self.schema, self.pool.lengths))
        finally:
            self.fieldwriter.close()
            if pdr:
                pdr.close()

    def _write_postings(self, lengths) -> None:
        """Like FieldWriter.add_postings, with whole blocks for id-only terms.

        Whoosh's generic loop costs several µs per posting, and most postings
        here are edge n-grams and word pairs that carry nothing but a docnum.
        """
        fw, schema = self.fieldwriter, self.schema
        by_field = self.pool.terms()
        for field in sorted(by_field):
            fobj = schema[field]
            fw.start_field(field, fobj)
            fast = not fobj.scorable and isinstance(fobj.format, formats.Existence)
            _speed_up(fw._postwriter, ones=fast)
            terms = by_field[field]
            for text in sorted(terms):
                arr, rows = terms[text]
                if not arr and not rows:
                    continue  # every posting belonged to a deleted document
                fw.start_term(text)
                if fast and rows is None and _bulk_ok(fw._postwriter):
                    _bulk_ids(fw._postwriter, arr)
                    fw.finish_term()
                    continue
                rows = rows or []
                if arr is not None:
                    rows = sorted(rows + [(d, 1.0, b"") for d in arr])
                elif len(rows) > 1 and rows[0][0] > rows[-1][0]:
                    rows.sort()
                if isinstance(fobj.format, formats.Frequency) and _bulk_ok(fw._postwriter):
                    _bulk_rows(fw._postwriter, rows, field, lengths)
                else:
                    for d, w, v in rows:
                        fw.add(d, w, v or b"", lengths.doc_field_length(d, field))
                fw.finish_term()
            fw.finish_field()

    def add_postings_to_pool(self, reader, startdoc: int, docmap: dict | None) -> None:
        """Merge a segment's postings block-wise (Whoosh copies them one by one)."""
        pool, schema = self.pool, self.schema
        for field, btext in reader.all_terms():
            if field not in schema:
                continue
            fobj = schema[field]
            # Raw matcher: deleted documents are dropped through docmap below.
            m = reader._terms.matcher(field, btext, fobj.format)
            text = btext.decode("utf-8")
            ids_only = field in _MULTI or not fobj.scorable
            for ids, ws in _blocks(m, not ids_only):
                if docmap is not None:
                    keep = [j for j, d in enumerate(ids) if d in docmap]
                    new = [docmap[ids[j]] for j in keep]
                    ws = [ws[j] for j in keep] if ws is not None else None
                else:
                    new = [d + startdoc for d in ids]
                if ids_only:
                    pool.extend_ids(field, text, new)
                else:
                    rows = pool.full.setdefault((field, btext), [])
                    rows.extend((d, float(w), pack_uint(int(w))) for d, w in zip(new, ws))

    def commit(self, mergetype=None, optimize=None, merge=None) -> None:
        """SegmentWriter.commit, plus segments that helper processes wrote."""
        self._check_state()
        try:
            final = self._merge_segments(mergetype, optimize, merge)
            if self._added:
                final.append(self._finalize_segment())
            else:
                self._close_segment()
            final.extend(self.extra_segments)
            self._commit_toc(final)
        finally:
            self._finish()

    def add_document(self, **doc) -> None:
        self._check_state()
        pdw, schema, pool, docnum = self.perdocwriter, self.schema, self.pool, self.docnum
        pdw.start_doc(docnum)
        try:
            for name in _FIELD_ORDER:
                value = doc.get(name)
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if name in _MULTI:
                    pool.add_ids(name, value, docnum)
                elif name in _FREQ:
                    length = pool.add_freqs(name, value, docnum)
                elif field.indexed and value:
                    pool.add_ids(name, (value,), docnum)
                pdw.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    pdw.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            pdw.cancel_doc()
            raise
        pdw.finish_doc()
        self._added = True
        self.docnum += 1


_FIELD_ORDER = tuple(sorted(_schema().names()))


_DRAIN_WAIT = 1.0  # seconds to wait for the lock when draining someone else's spool
_PARALLEL_MIN = 2000  # records in a batch before a helper process pays off
_SMALL_SEGMENT = 1000


def _merge_policy(writer, segments: list) -> list:
    """Merge small segments in tiers of ten; never rewrite big ones by surprise.

    Whoosh's MERGE_SMALL eventually merges everything, which in pure Python
    stalls a one-document commit for minutes on a large index. Here eight or
    more segments of one size tier (1-9, 10-99, 100-999 documents) are merged
    into one, and a segment that lost more than half its documents to updates
    is rewritten on its own. :meth:`WhooshBackend.optimize` merges everything.
    """
    from whoosh.reading import SegmentReader

    tiers: dict[int, list] = {}
    merge = []
    for seg in segments:
        total, live = seg.doc_count_all(), seg.doc_count()
        if total >= _SMALL_SEGMENT:
            if live < total // 2:
                merge.append(seg)
            continue
        tiers.setdefault(len(str(max(live, 1))), []).append(seg)
    for group in tiers.values():
        if len(group) >= 8:
            merge.extend(group)
    if not merge:
        return segments
    for seg in merge:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in merge]


def _build_segment(path: str, records: list[IndexRecord]):
    """Helper-process half of a bulk chunk: write one segment, return its descriptor.

    Runs without the write lock; the parent holds it until it commits the TOC
    that adopts this segment.
    """
    ix = FileStorage(path).open_index()
    writer = _FastWriter(ix, _lk=False)
    # Not writer._finish(): the temp folder is shared with the parent's writer.
    for r in records:
        writer.add_document(**_to_doc(r))
    return writer._finalize_segment()


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


class WhooshBackend:
    """Search backend over a Whoosh index directory."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_timeout: float = 30.0,
        chunk_size: int = 10_000,
        parallel: bool = True,
    ) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.chunk_size = chunk_size
        self.parallel = parallel
        self._spool_dir = self.path / "spool"
        self._wlock = threading.Lock()  # one writer per process at a time
        self._vlock = threading.Lock()
        self._view: _View | None = None
        self.path.mkdir(parents=True, exist_ok=True)
        self._spool_dir.mkdir(exist_ok=True)
        self._ix = self._open_or_create()

    # -- opening -------------------------------------------------------------

    def _open_or_create(self) -> index.Index:
        # Two workers starting at once must not both create the index.
        with open(self.path / "init.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                marker = self.path / "kundenakte-schema"
                storage = FileStorage(str(self.path))
                current = marker.read_text().strip() if marker.exists() else None
                if current == SCHEMA_VERSION and index.exists(storage):
                    return storage.open_index()
                # New or outdated layout: start empty; the indexing service
                # notices the missing entries through stored_versions().
                ix = storage.create_index(_schema())
                marker.write_text(SCHEMA_VERSION)
                return ix
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _current(self) -> _View:
        """The shared searcher, replaced (not refreshed in place) after a commit.

        A fresh searcher instead of ``refresh()``: refresh closes readers the
        old searcher still hands to other threads.
        """
        view = self._view
        if view is not None and self._ix.latest_generation() == view.generation:
            return view
        with self._vlock:
            view = self._view
            if view is None or self._ix.latest_generation() != view.generation:
                view = _View(self._open_searcher(), previous=view)
                self._view = view
            return view

    def _open_searcher(self):
        # Another process's commit may delete the files of the generation we
        # just read the TOC of; the next generation is then complete.
        for attempt in range(20):
            try:
                return self._ix.searcher()
            except OSError:
                if attempt == 19:
                    raise
                time.sleep(0.01 * (attempt + 1))

    # -- writing -------------------------------------------------------------

    def index(self, records: Iterable[IndexRecord]) -> None:
        helper: ProcessPoolExecutor | None = None
        batch: list[IndexRecord] = []
        try:
            for rec in records:
                batch.append(rec)
                if len(batch) >= self.chunk_size:
                    # A bulk load: a second process builds half of each chunk.
                    if helper is None and self.parallel and (os.cpu_count() or 1) > 1:
                        helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
                    self._write(batch, [], helper)
                    batch = []
            if batch:
                self._write(batch, [], helper if len(batch) >= _PARALLEL_MIN else None)
        finally:
            if helper is not None:
                helper.shutdown(cancel_futures=True)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), self.chunk_size):
            self._write([], ids[i:i + self.chunk_size])

    def _acquire(self, timeout: float) -> _FastWriter | None:
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            try:
                return _FastWriter(self._ix)
            except LockError:
                if time.monotonic() >= deadline:
                    return None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 1.5, 0.5)

    def _write(self, records: list[IndexRecord], deletes: list[str], helper: ProcessPoolExecutor | None = None) -> None:
        records = list({r.id: r for r in records}.values())  # last version of an id wins
        split = len(records) // 2 if helper is not None else len(records)
        # Analyse before taking the lock, unless the helper shares the work.
        docs = [_to_doc(r) for r in records] if helper is None else None
        with self._wlock:
            self._drain_spool(self.lock_timeout)
            writer = self._acquire(self.lock_timeout)
            if writer is not None and self._pending():  # spooled while we waited
                writer.cancel()
                self._drain_spool(self.lock_timeout)
                writer = self._acquire(self.lock_timeout)
            if writer is None:
                log.warning("search index busy for %.0fs; spooling %d changes", self.lock_timeout, len(records) + len(deletes))
                self._spool(records, deletes)
                # Whoever holds the lock now drains the spool after releasing
                # it; if it already has, this drains it.
                self._drain_spool(_DRAIN_WAIT)
                return
            future = None
            try:
                if writer.segments:
                    reader = writer.searcher().reader()
                    for r in records:
                        if ("id", r.id) in reader:  # a lexicon probe is far cheaper than a delete
                            writer.delete_by_term("id", r.id)
                for doc_id in deletes:
                    writer.delete_by_term("id", doc_id)
                if helper is not None:
                    # Submitted under the lock: no other commit may clean up
                    # the helper's segment files while it writes them.
                    try:
                        future = helper.submit(_build_segment, str(self.path), records[split:])
                    except Exception:  # broken pool: do it all here
                        log.exception("search index helper unavailable")
                        split = len(records)
                for doc in docs if docs is not None else map(_to_doc, records[:split]):
                    writer.add_document(**doc)
                if future is not None:
                    try:
                        writer.extra_segments.append(future.result())
                    except Exception:
                        log.exception("search index helper failed; indexing its half here")
                        for r in records[split:]:
                            writer.add_document(**_to_doc(r))
                writer.commit(mergetype=_merge_policy)
            except BaseException:
                if future is not None:
                    future.cancel()
                if not writer.is_closed:
                    writer.cancel()
                raise

            # A writer that gave up on the lock while we held it spooled its
            # batch; drain it now that the lock is free again.
            self._drain_spool(_DRAIN_WAIT)

    # A spool file is one JSON document {"records": [...], "deletes": [...]}.

    def _pending(self) -> list[Path]:
        return sorted(p for p in self._spool_dir.glob("*.json"))

    def _spool(self, records: list[IndexRecord], deletes: list[str]) -> None:
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        payload = {"records": [_record_to_json(r) for r in records], "deletes": deletes}
        tmp = self._spool_dir / f"{name}.tmp"
        tmp.write_text(json.dumps(payload))
        os.replace(tmp, self._spool_dir / f"{name}.json")  # atomic: never half a spool file

    def _drain_spool(self, timeout: float) -> None:
        """Apply spooled batches before anything newer, in their own commit.

        Loops: a batch spooled while we held the lock must not wait for
        some later write.
        """
        for _ in range(10):
            if not self._pending():
                return
            writer = self._acquire(timeout)
            if writer is None:
                return  # the holder drains after releasing the lock
            try:
                files = self._pending()
                for path in files:
                    try:
                        payload = json.loads(path.read_text())
                    except (OSError, ValueError):
                        log.exception("unreadable search spool file %s", path)
                        continue
                    for r in payload.get("records", []):
                        writer.update_document(**_to_doc(_record_from_json(r)))
                    for doc_id in payload.get("deletes", []):
                        writer.delete_by_term("id", doc_id)
                writer.commit(mergetype=_merge_policy)
            except BaseException:
                if not writer.is_closed:
                    writer.cancel()
                raise
            # Deleting after the commit: a crash in between re-applies the
            # same batch later, still before anything newer, which is harmless.
            for path in files:
                path.unlink(missing_ok=True)

    def clear(self) -> None:
        with self._wlock:
            for path in self._pending():
                path.unlink(missing_ok=True)
            writer = self._acquire(max(self.lock_timeout, 60.0))
            if writer is None:
                raise RuntimeError("search index stayed locked; cannot clear it")
            writer.commit(mergetype=writing.CLEAR)

    def optimize(self) -> None:
        """Merge all segments into one (after a bulk rebuild)."""
        with self._wlock:
            writer = self._acquire(self.lock_timeout)
            if writer is not None:
                writer.commit(mergetype=writing.OPTIMIZE)

    # -- reading -------------------------------------------------------------

    def count(self) -> int:
        return self._current().searcher.doc_count()

    def stored_versions(self) -> dict[str, float]:
        view = self._current()
        if view.reader.doc_count_all() == 0:
            return {}  # an empty index has no column readers at all
        ids = view.reader.column_reader("id")
        updated = view.reader.column_reader("updated")
        return {_text(ids[n]): updated[n] for n in view.live()}

    def _prepare(self, query, principals, kinds, types, folders, include_archived):
        node = uq.parse(query)
        principals = visible_principals(principals)
        if node is None or (principals is not None and not principals):
            return None
        view = self._current()
        allowed = view.allowed(principals, tuple(kinds), tuple(types), tuple(folders), include_archived)
        if not allowed:
            return None
        matched, parts = view.evaluate(node, allowed)
        return node, view, matched, parts

    def search(
        self,
        query: str,
        *,
        principals: frozenset[str] | None,
        kinds: Sequence[str] = ("document",),
        types: Sequence[str] = (),
        folders: Sequence[str] = (),
        include_archived: bool = False,
        limit: int | None = 20,
        offset: int = 0,
    ) -> SearchResult:
        prep = self._prepare(query, principals, kinds, types, folders, include_archived)
        if prep is None:
            return SearchResult(hits=[], total=0, facets={"type": {}, "folders": {}})
        node, view, matched, parts = prep
        hits: list[Hit] = []
        if matched and (limit is None or limit > 0):
            stems, prefixes = uq.positive_terms(node)
            ranked = view.rank(matched, parts, None if limit is None else offset + limit)
            for docnum, score in ranked[offset:]:
                stored = view.searcher.stored_fields(docnum)
                snippet = highlight_best([stored.get("body_s") or "", stored.get("title_s") or ""], stems, prefixes)
                hits.append(Hit(id=stored["id"], score=score, highlights=snippet))
        return SearchResult(hits=hits, total=len(matched), facets=view.facets(matched))

    def matching_ids(
        self,
        query: str,
        *,
        principals: frozenset[str] | None,
        kinds: Sequence[str] = ("document",),
        types: Sequence[str] = (),
        folders: Sequence[str] = (),
        include_archived: bool = False,
    ) -> list[str]:
        prep = self._prepare(query, principals, kinds, types, folders, include_archived)
        if prep is None:
            return []
        _, view, matched, parts = prep
        ids = view.reader.column_reader("id")
        return [_text(ids[d]) for d, _ in view.rank(matched, parts, None)]

    def suggest(self, prefix: str, *, principals: frozenset[str] | None, limit: int = 10) -> list[str]:
        principals = visible_principals(principals)
        raw = tokenize(prefix)
        if not raw or (principals is not None and not principals) or limit <= 0:
            return []
        last = fold(raw[-1])
        if len(last) < 2:
            return []
        # Completed words must be title words too; stop words are not indexed.
        words = [f for _, f in analyze(" ".join(raw[:-1]))] + [last]
        view = self._current()
        allowed = view.allowed(principals, ("document",), (), (), False)
        if not allowed:
            return []
        found = set(allowed)
        for w in words:
            found &= view.docs("tpfx", w[:MAX_PREFIX]) if len(w) <= MAX_PREFIX else view.expand("tpfx", w)
        seen: dict[str, None] = {}
        for docnum in sorted(found, reverse=True)[: limit * 20]:  # newest first
            title = (view.searcher.stored_fields(docnum).get("title_s") or "").strip()
            if title and title.casefold() not in {t.casefold() for t in seen}:
                seen[title] = None
                if len(seen) >= limit:
                    break
        return list(seen)

    def close(self) -> None:
        with self._vlock:
            if self._view is not None:
                self._view.searcher.close()
                self._view = None
        self._ix.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _record_to_json(r: IndexRecord) -> dict:
    data = dataclasses.asdict(r)
    data["date"] = r.date.isoformat() if r.date else None
    return data


def _record_from_json(data: dict) -> IndexRecord:
    data = dict(data)
    if data.get("date"):
        data["date"] = datetime.date.fromisoformat(data["date"])
    return IndexRecord(**data)
