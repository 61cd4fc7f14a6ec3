"""Fast bulk writer for the Whoosh index, built on whoosh-reloaded internals.

Whoosh's generic writer costs several µs per posting in pure Python. The
writer here keeps postings in an in-memory pool and writes whole posting
blocks itself, in the same on-disk format. It relies on internals of
whoosh-reloaded 2.7.x (the W3 codec's postings writer, and the leaf
matcher through :func:`.whoosh_view._blocks` when merging; the dependency
is pinned below 2.8 for this reason) and checks for them before use: a
postings writer or matcher of an unknown shape falls back to Whoosh's
generic, slow path. Also here: the merge policy, and
:func:`_build_segment`, which a spawned helper process runs to build half of
a bulk chunk (it must stay a module-level function so that it pickles by
its qualified name).
"""

from __future__ import annotations

import operator
from array import array
from collections import Counter
from collections.abc import Iterable
from itertools import chain

from whoosh import formats
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

from .base import IndexRecord
from .whoosh_schema import _FREQ, _MULTI, _schema, _to_doc
from .whoosh_view import _blocks


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
