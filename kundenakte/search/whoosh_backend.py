"""Embedded Whoosh search backend (the default), on Whoosh's public API only.

* Two indexes in one folder: ``docs`` for documents, ``people`` for contacts and companies
  (:mod:`.whoosh_schema`).
* Writing: Whoosh's own writers (``update_document``, ``delete_by_term``; for bulk loads its
  multi-process writer), its own merge policy on every commit and ``optimize`` after a rebuild.
  Writers wait a bounded time for the lock; if another process keeps it, the batch is spooled to
  disk and applied first by whoever writes next, so no update is lost and no lock error reaches the
  caller.
* Reading: a searcher per index generation (:class:`.whoosh_snapshot.Snapshot`); everything derived
  from document numbers lives and dies with that searcher. Searches compute the matching set with
  ``docs_for_query``, intersect it with the permission filter and subtract ``exclude`` (the entries
  whose index state may be stale), and rank the page with Whoosh's collector over exactly that set.
  Scoring is :class:`whoosh.scoring.Frequency`: a document's score depends on that document alone,
  never on statistics of documents the viewer may not read.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh import scoring
from whoosh.filedb.filestore import FileStorage
from whoosh.index import Index, LockError

from . import query as uq
from .analysis import analyze, fold, highlight_best, tokenize
from .base import Hit, IndexRecord, SearchResult, visible_principals
from .whoosh_schema import DOCS, PEOPLE, SCHEMA_VERSION, docs_schema, people_schema, to_fields
from .whoosh_snapshot import Snapshot, to_whoosh

__all__ = ["WhooshBackend"]

log = logging.getLogger(__name__)

_DRAIN_WAIT = 1.0  # seconds to wait for the lock when draining someone else's spool
PARALLEL_MIN = 5000  # records in one call before Whoosh's multi-process writer pays off
MAX_WINDOW = 1000  # hits a search ranks at most (deep pages are refused by the service)
MAX_SUGGEST_WORDS = 500  # title words one typed prefix may stand for in suggestions


class WhooshBackend:
    """Search backend over a folder holding the ``docs`` and ``people`` Whoosh indexes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_timeout: float = 30.0,
        chunk_size: int = 10_000,
        parallel: bool = False,
        limitmb: int = 128,
    ) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.chunk_size = chunk_size  # records per commit in index(): bounds a writer's memory
        self.parallel = parallel  # multi-process bulk writes: only for the CLI and benchmarks, never in web workers
        self.limitmb = limitmb
        self._spool_dir = self.path / "spool"
        self._wlock = threading.Lock()  # one writer per process at a time
        self._slock = threading.Lock()
        self._snaps: dict[str, Snapshot] = {}
        self.path.mkdir(parents=True, exist_ok=True)
        self._spool_dir.mkdir(exist_ok=True)
        self._ix = self._open_or_create()

    # -- opening -------------------------------------------------------------

    def _open_or_create(self) -> dict[str, Index]:
        # Two workers starting at once must not both create the indexes.
        with open(self.path / "init.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                marker = self.path / "kundenakte-schema"
                storage = FileStorage(str(self.path))
                current = marker.read_text().strip() if marker.exists() else None
                schemas = {DOCS: docs_schema, PEOPLE: people_schema}
                if current == SCHEMA_VERSION and all(storage.index_exists(name) for name in schemas):
                    return {name: storage.open_index(indexname=name) for name in schemas}
                # New or outdated layout: start empty; the indexing service notices the missing
                # entries through stored_versions() (``kundenakte search check --repair``) or the
                # empty index (``kundenakte serve`` reindexes it).
                out = {name: storage.create_index(make(), indexname=name) for name, make in schemas.items()}
                marker.write_text(SCHEMA_VERSION)
                return out
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def snapshot(self, name: str = DOCS) -> Iterator[Snapshot]:
        """The current searcher of one index, held for the duration of the block.

        A newer generation on disk (this or another process committed) gets a new searcher; the
        old one is closed once the last search using it has finished.
        """
        with self._slock:
            snap = self._snaps.get(name)
            if snap is None or not snap.searcher.up_to_date():
                if snap is not None:
                    snap.retired = True
                    if snap.users == 0:
                        snap.close()
                snap = Snapshot(self._open_searcher(name))
                self._snaps[name] = snap
            snap.users += 1
        try:
            yield snap
        finally:
            with self._slock:
                snap.users -= 1
                if snap.retired and snap.users == 0:
                    snap.close()

    def _open_searcher(self, name: str) -> Any:
        # Another process's commit may delete the files of the generation whose TOC we just read;
        # the next generation is then complete.
        for attempt in range(20):
            try:
                return self._ix[name].searcher(weighting=scoring.Frequency())
            except OSError:
                if attempt == 19:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    # -- writing -------------------------------------------------------------

    def index(self, records: Iterable[IndexRecord]) -> None:
        by_index: dict[str, dict[str, IndexRecord]] = {DOCS: {}, PEOPLE: {}}
        for r in records:  # the last version of an id wins
            by_index[DOCS if r.kind == "document" else PEOPLE][r.id] = r
        for name, recs in by_index.items():
            values = list(recs.values())
            for start in range(0, len(values), self.chunk_size):
                self._write(name, values[start : start + self.chunk_size], [])

    def bulk(self, records: Iterable[IndexRecord]) -> int:
        """Write many records in one commit per index (a rebuild); returns how many were written.

        With ``parallel`` Whoosh's multi-process writer builds one segment per process, so a
        rebuild ends with a handful of segments and needs no ``optimize``.
        """
        writers: dict[str, Any] = {}
        n = 0
        with self._wlock:
            try:
                for r in records:
                    name = DOCS if r.kind == "document" else PEOPLE
                    writer = writers.get(name)
                    if writer is None:
                        self._drain_spool(name, self.lock_timeout)
                        writer = self._acquire(name, max(self.lock_timeout, 60.0), **self._writer_options(PARALLEL_MIN))
                        if writer is None:
                            raise RuntimeError("search index stayed locked; cannot rebuild it")
                        writers[name] = writer
                    writer.update_document(**to_fields(r))
                    n += 1
                for writer in writers.values():
                    writer.commit()
            except BaseException:
                for writer in writers.values():
                    try:
                        writer.cancel()
                    except Exception:  # already committed or closed
                        pass
                raise
        for name in writers:
            self._drain_spool(name, _DRAIN_WAIT)
        return n

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        docs = [i for i in ids if i.startswith("doc:")]
        people = [i for i in ids if not i.startswith("doc:")]
        for name, part in ((DOCS, docs), (PEOPLE, people)):
            if part:
                self._write(name, [], part)

    def _acquire(self, name: str, timeout: float, **options: Any) -> Any:
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            try:
                return self._ix[name].writer(**options)
            except LockError:
                if time.monotonic() >= deadline:
                    return None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 1.5, 0.5)

    def _writer_options(self, n_records: int) -> dict[str, Any]:
        # Whoosh spills its posting pool to disk (pickled runs) past ``limitmb``: a bulk write that
        # stays in memory is about a third cheaper.
        options: dict[str, Any] = {"limitmb": self.limitmb if n_records < PARALLEL_MIN else max(self.limitmb, 384)}
        if self.parallel and n_records >= PARALLEL_MIN and (os.cpu_count() or 1) > 1:
            options.update(procs=min(2, os.cpu_count() or 1), multisegment=True)
        return options

    def _write(self, name: str, records: list[IndexRecord], deletes: list[str]) -> None:
        fields = [to_fields(r) for r in records]  # analyse before taking the lock
        with self._wlock:
            self._drain_spool(name, self.lock_timeout)
            writer = self._acquire(name, self.lock_timeout, **self._writer_options(len(fields)))
            if writer is not None and self._pending(name):  # spooled while we waited
                writer.cancel()
                self._drain_spool(name, self.lock_timeout)
                writer = self._acquire(name, self.lock_timeout, **self._writer_options(len(fields)))
            if writer is None:
                log.warning("search index busy for %.0fs; spooling %d changes", self.lock_timeout, len(records) + len(deletes))
                self._spool(name, records, deletes)
                # Whoever holds the lock now drains the spool after releasing it; if it already
                # has, this drains it.
                self._drain_spool(name, _DRAIN_WAIT)
                return
            try:
                for doc_id in deletes:
                    writer.delete_by_term("id", doc_id)
                for f in fields:
                    writer.update_document(**f)
                writer.commit()  # Whoosh's default merge policy keeps the number of segments small
            except BaseException:
                writer.cancel()
                raise
            # A writer that gave up on the lock while we held it spooled its batch; drain it now
            # that the lock is free again.
            self._drain_spool(name, _DRAIN_WAIT)

    # A spool file is one JSON document {"records": [...], "deletes": [...]}, per index.

    def _pending(self, name: str) -> list[Path]:
        return sorted(self._spool_dir.glob(f"{name}-*.json"))

    def _spool(self, name: str, records: list[IndexRecord], deletes: list[str]) -> None:
        stem = f"{name}-{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        payload = {"records": [_record_to_json(r) for r in records], "deletes": deletes}
        tmp = self._spool_dir / f"{stem}.tmp"
        tmp.write_text(json.dumps(payload))
        os.replace(tmp, self._spool_dir / f"{stem}.json")  # atomic: never half a spool file

    def _drain_spool(self, name: str, timeout: float) -> None:
        """Apply spooled batches before anything newer, in their own commit.

        Loops: a batch spooled while we held the lock must not wait for some later write.
        """
        for _ in range(10):
            if not self._pending(name):
                return
            writer = self._acquire(name, timeout, limitmb=self.limitmb)
            if writer is None:
                return  # the holder drains after releasing the lock
            try:
                files = self._pending(name)
                for path in files:
                    try:
                        payload = json.loads(path.read_text())
                    except (OSError, ValueError):
                        log.exception("unreadable search spool file %s", path)
                        continue
                    for r in payload.get("records", []):
                        writer.update_document(**to_fields(_record_from_json(r)))
                    for doc_id in payload.get("deletes", []):
                        writer.delete_by_term("id", doc_id)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            # Deleting after the commit: a crash in between re-applies the same batch later, still
            # before anything newer, which is harmless.
            for path in files:
                path.unlink(missing_ok=True)

    def clear(self) -> None:
        with self._wlock:
            for name in self._ix:
                for path in self._pending(name):
                    path.unlink(missing_ok=True)
                writer = self._acquire(name, max(self.lock_timeout, 60.0))
                if writer is None:
                    raise RuntimeError("search index stayed locked; cannot clear it")
                writer.delete_by_query(wq.Every())
                writer.commit(optimize=True)

    def optimize(self) -> None:
        """Merge each index into one segment (after a rebuild)."""
        with self._wlock:
            for name in self._ix:
                writer = self._acquire(name, self.lock_timeout)
                if writer is not None:
                    writer.commit(optimize=True)

    def segment_count(self) -> int:
        """Segments of both indexes (``kundenakte search check`` reports it)."""
        total = 0
        for name in self._ix:
            with self.snapshot(name) as snap:
                total += len(snap.searcher.reader().leaf_readers()) if snap.searcher.doc_count_all() else 0
        return total

    # -- reading -------------------------------------------------------------

    def count(self) -> int:
        total = 0
        for name in self._ix:
            with self.snapshot(name) as snap:
                total += snap.searcher.doc_count()
        return total

    def stored_versions(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name in self._ix:
            with self.snapshot(name) as snap:
                for stored in snap.searcher.all_stored_fields():
                    out[stored["id"]] = float(stored.get("updated") or 0.0)
        return out

    def _select(
        self,
        snap: Snapshot,
        query: str,
        principals: frozenset[str] | None,
        types: Sequence[str],
        folders: Sequence[str],
        include_archived: bool,
        exclude: Collection[str],
    ) -> tuple[uq.Node, wq.Query, set[int]] | None:
        """The parsed query, its Whoosh form and the docnums of every hit the caller may see."""
        node = uq.parse(query)
        principals = visible_principals(principals)
        if node is None or (principals is not None and not principals):
            return None
        allowed = snap.allowed(principals, types, folders, include_archived)
        if not allowed:
            return None
        q = to_whoosh(node, snap)
        hits = snap.matching(q)
        hits &= allowed
        if exclude and hits:
            hits -= snap.docnums(exclude)
        return node, q, hits

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
        exclude: Collection[str] = (),
    ) -> SearchResult:
        empty = SearchResult(hits=[], total=0, facets={"type": {}, "folders": {}})
        if tuple(kinds) != ("document",):
            return self._search_people(query, kinds, limit or MAX_WINDOW)
        with self.snapshot(DOCS) as snap:
            selected = self._select(snap, query, principals, types, folders, include_archived, exclude)
            if selected is None:
                return empty
            node, q, hits = selected
            page: list[Hit] = []
            if hits and (limit is None or limit > 0):
                window = min(MAX_WINDOW, len(hits) if limit is None else offset + limit)
                stems, prefixes = uq.positive_terms(node)
                for docnum, score in snap.ranked(q, hits, window, scored=bool(stems))[offset:]:
                    stored = snap.stored(docnum)  # snippets for the page shown only
                    snippet = highlight_best([stored.get("body_s") or "", stored.get("title_s") or ""], stems, prefixes)
                    page.append(Hit(id=stored["id"], score=score, highlights=snippet))
            return SearchResult(hits=page, total=len(hits), facets=snap.facets(hits))

    def _search_people(self, query: str, kinds: Sequence[str], limit: int) -> SearchResult:
        node = uq.parse(query)
        if node is None:
            return SearchResult(hits=[], total=0, facets={})
        with self.snapshot(PEOPLE) as snap:
            q = to_whoosh(node, snap, master_data=True)
            hits = snap.matching(q)
            if set(kinds) != {"contact", "company"}:
                hits = hits.intersection(*(snap.docs("kind", k) for k in kinds)) if len(kinds) == 1 \
                    else hits & snap.union("kind", kinds)
            ranked = snap.ranked(q, hits, min(limit, MAX_WINDOW))
            page = [Hit(id=snap.stored(d)["id"], score=s, highlights="") for d, s in ranked]
            return SearchResult(hits=page, total=len(hits), facets={})

    def matching_ids(
        self,
        query: str,
        *,
        principals: frozenset[str] | None,
        kinds: Sequence[str] = ("document",),
        types: Sequence[str] = (),
        folders: Sequence[str] = (),
        include_archived: bool = False,
        exclude: Collection[str] = (),
    ) -> list[str]:
        with self.snapshot(DOCS) as snap:
            selected = self._select(snap, query, principals, types, folders, include_archived, exclude)
            if selected is None:
                return []
            return sorted(snap.stored(d)["id"] for d in selected[2])

    def suggest(
        self, prefix: str, *, principals: frozenset[str] | None, limit: int = 10, exclude: Collection[str] = ()
    ) -> list[str]:
        principals = visible_principals(principals)
        raw = tokenize(prefix)
        if not raw or (principals is not None and not principals) or limit <= 0:
            return []
        last = fold(raw[-1])
        if len(last) < 2:
            return []
        # Completed words must be title words too; stop words are not indexed.
        words = [f for _, f in analyze(" ".join(raw[:-1]))] + [last]
        with self.snapshot(DOCS) as snap:
            parts = []
            for w in words:
                found = [t for t in islice(snap.searcher.reader().expand_prefix("twords", w), MAX_SUGGEST_WORDS)]
                if not found:
                    return []
                parts.append(wq.Or([wq.Term("twords", _text(t)) for t in found]))
            q = wq.And(parts) if len(parts) > 1 else parts[0]
            hits = snap.matching(q) & snap.allowed(principals, (), (), False)
            if exclude and hits:
                hits -= snap.docnums(exclude)
            seen: dict[str, None] = {}
            folded: set[str] = set()
            for docnum in sorted(hits, reverse=True)[: limit * 20]:  # newest first, bounded
                title = (snap.stored(docnum).get("title_s") or "").strip()
                if title and title.casefold() not in folded:
                    folded.add(title.casefold())
                    seen[title] = None
                    if len(seen) >= limit:
                        break
            return list(seen)

    def close(self) -> None:
        with self._slock:
            for snap in self._snaps.values():
                snap.retired = True
                if snap.users == 0:
                    snap.close()
            self._snaps.clear()
        for ix in self._ix.values():
            ix.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _record_to_json(r: IndexRecord) -> dict[str, Any]:
    data = dataclasses.asdict(r)
    data["date"] = r.date.isoformat() if r.date else None
    return data


def _record_from_json(data: dict[str, Any]) -> IndexRecord:
    data = dict(data)
    if data.get("date"):
        data["date"] = datetime.date.fromisoformat(data["date"])
    return IndexRecord(**data)
