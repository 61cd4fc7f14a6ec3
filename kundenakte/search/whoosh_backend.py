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

This module holds :class:`WhooshBackend` (locking, spooling, writing,
searching); the schema and record conversion are in :mod:`.whoosh_schema`,
the fast bulk writer and merge policy in :mod:`.whoosh_writer`, query
evaluation over one searcher in :mod:`.whoosh_view`.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import json
import logging
import multiprocessing
import os
import random
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from whoosh import index, writing
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError

from . import query as uq
from .analysis import MAX_PREFIX, analyze, fold, highlight_best, tokenize
from .base import Hit, IndexRecord, SearchResult, visible_principals
from .whoosh_schema import SCHEMA_VERSION, _schema, _to_doc
from .whoosh_view import _View
from .whoosh_writer import _FastWriter, _build_segment, _merge_policy

__all__ = ["WhooshBackend"]

log = logging.getLogger(__name__)

_DRAIN_WAIT = 1.0  # seconds to wait for the lock when draining someone else's spool
_PARALLEL_MIN = 2000  # records in a batch before a helper process pays off


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
