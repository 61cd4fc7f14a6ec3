"""Keeps the search index in line with the database and answers searches through the ACL.

Consistency: every change writes an ``index_queue`` row in its own transaction, so the queue holds
exactly the objects whose index entry may be stale, also after a crash. A background thread (or
``flush()``) turns queue rows into index updates and deletes only the rows it has handled; a change
committed meanwhile leaves a newer row behind. Saving therefore never waits for an index commit.

Permissions: the backend prefilters by the principals stored with each entry, which are exact for
every entry not in the queue. Hits that are still queued are decided by the database at query
time (``acl.readable_ids``), and the page's rows are loaded through ``acl.readable_clause``, so a
revoked right is effective on the very next search.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, selectinload

from kundenakte.core import acl
from kundenakte.core.html import html_to_text
from kundenakte.core.models import Attachment, Company, Contact, Document, IndexQueue
from kundenakte.search.analysis import MIN_PREFIX, tokenize
from kundenakte.search.base import QueryError

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte
    from kundenakte.search.base import IndexRecord, SearchBackend

log = logging.getLogger(__name__)

CHUNK = 500  # queue rows per index commit in normal operation
BULK_CHUNK = 5000  # per commit while a long queue drains (an import): fewer, larger commits
MAX_RESULTS = 1000  # hits reachable by paging; deeper pages get a message instead
MAX_SUGGESTIONS = 20


@dataclass
class DocumentHit:
    document: Document
    score: float
    highlights: str


@dataclass
class SearchPage:
    hits: list[DocumentHit]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    page: int = 1
    per_page: int = 20
    error: str = ""


def _epoch(value: dt.datetime | None) -> float:
    if value is None:
        return 0.0
    return value.replace(tzinfo=dt.UTC).timestamp()


def _doc_id(key: str) -> int | None:
    kind, _, ident = key.partition(":")
    return int(ident) if kind == "doc" and ident.isdigit() else None


class SearchService:
    def __init__(self, ka: Kundenakte) -> None:
        self.ka = ka
        self._backend: SearchBackend | None = None
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._extractor: threading.Thread | None = None
        self._extract_todo: set[int] = set()  # attachment ids whose text is still to be extracted
        self._stop = False

    # -- backend -----------------------------------------------------------------------------

    @property
    def backend(self) -> SearchBackend:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = self._open_backend()
        return self._backend

    def _open_backend(self) -> SearchBackend:
        settings = self.ka.settings
        if settings.search_backend == "postgres":
            from kundenakte.search.pg_backend import PgSearchBackend

            return PgSearchBackend(self.ka.db.engine)
        from kundenakte.search.whoosh_backend import WhooshBackend

        return WhooshBackend(settings.index_dir)

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        for thread in (self._thread, self._extractor):
            if thread is not None:
                thread.join(timeout=5)
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    # -- indexing ----------------------------------------------------------------------------

    def notify(self) -> None:
        """A change was committed: index it soon, in the background when configured so."""
        if not self.ka.settings.index_async:
            return
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="kundenakte-indexer", daemon=True)
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        self._recover_extraction()
        while not self._stop:
            self._wake.wait(timeout=5.0)
            self._wake.clear()
            if self._stop:
                return
            try:
                while not self._stop:
                    with self.ka.db.read() as session:
                        backlog = self.queue_length(session)
                    if not backlog:
                        break
                    # A long queue (an import) drains in larger commits: each Whoosh commit costs.
                    self.flush(limit=BULK_CHUNK if backlog > CHUNK else CHUNK)
                if self._extract_todo:
                    self._start_extractor()
            except Exception:  # the next wake-up retries; the queue keeps the work
                log.exception("indexing failed; will retry")
                time.sleep(1.0)

    def flush(self, *, limit: int | None = None) -> int:
        """Index what the queue holds (up to ``limit`` rows); returns the number of rows handled.

        Attachment text is not extracted here: entries are indexed at once with what is known (file
        names, titles, rights), and attachments still lacking text are extracted afterwards — in a
        background thread of its own when indexing runs asynchronously, inline otherwise — and
        their documents queued again. One slow file never holds back anyone else's save.
        """
        with self.flush_guard():
            handled = self._flush_once(limit)
        if not self.ka.settings.index_async and self._extract_todo:
            if self.extract_pending():
                with self.flush_guard():
                    handled += self._flush_once(None)
        return handled

    @contextmanager
    def flush_guard(self) -> Iterator[None]:
        """One indexer at a time, across threads, worker processes and (PostgreSQL) hosts.

        Two workers' indexers reading the same queue could otherwise write an older state of a
        document after a newer one and then both delete the queue rows — an index entry with stale
        rights and nothing left to say so. Under the guard each indexer reads the queue and the rows
        after the previous one has written and cleaned up, so the last write is always the newest.
        """
        with self._flush_lock:
            if self.ka.db.engine.dialect.name == "postgresql":
                with self.ka.db.engine.connect() as conn:
                    conn.execute(text("SELECT pg_advisory_lock(hashtext('kundenakte.index_flush'))"))
                    try:
                        yield
                    finally:
                        conn.execute(text("SELECT pg_advisory_unlock(hashtext('kundenakte.index_flush'))"))
                        conn.commit()
            else:
                path = Path(self.ka.settings.instance) / "index-flush.lock"
                with open(path, "a+") as fh:  # flock: the kernel releases it when a process dies
                    fcntl.flock(fh, fcntl.LOCK_EX)
                    try:
                        yield
                    finally:
                        fcntl.flock(fh, fcntl.LOCK_UN)

    def _flush_once(self, limit: int | None) -> int:
        with self.ka.db.read() as session:
            stmt = select(IndexQueue.id, IndexQueue.object_key).order_by(IndexQueue.id)
            if limit:
                stmt = stmt.limit(limit)
            rows = session.execute(stmt).all()
            if not rows:
                return 0
            keys = list(dict.fromkeys(key for _, key in rows))
            records, gone = self.build_records(session, keys)
        if records:
            self.backend.index(records)
        if gone:
            self.backend.delete(gone)
        with self.ka.db.write() as session:
            session.execute(delete(IndexQueue).where(IndexQueue.id.in_([r[0] for r in rows])))
        return len(rows)

    # -- attachment text, off the indexing path ----------------------------------------------

    def _recover_extraction(self) -> None:
        """Attachments a crash left without text (their documents were indexed without it)."""
        try:
            with self.ka.db.read() as session:
                ids = session.scalars(select(Attachment.id).where(Attachment.text.is_(None), Attachment.inline.is_(False)))
                with self._lock:
                    self._extract_todo.update(ids)
        except Exception:
            log.exception("could not look for attachments without text")

    def _start_extractor(self) -> None:
        with self._lock:
            if self._extractor is None or not self._extractor.is_alive():
                self._extractor = threading.Thread(target=self._extract_loop, name="kundenakte-extract", daemon=True)
                self._extractor.start()

    def _extract_loop(self) -> None:
        while not self._stop and self._extract_todo:
            try:
                self.extract_pending()
            except Exception:
                log.exception("attachment text extraction failed; will retry")
                time.sleep(1.0)

    def extract_pending(self, *, limit: int = 50) -> int:
        """Extract text for attachments that have none yet, store it and queue their documents."""
        with self._lock:
            todo = sorted(self._extract_todo)[:limit]
        if not todo:
            return 0
        from kundenakte.search.extract import extract_text

        with self.ka.db.read() as session:
            atts = list(session.execute(
                select(Attachment.id, Attachment.document_id, Attachment.sha256, Attachment.mime_type)
                .where(Attachment.id.in_(todo), Attachment.text.is_(None))
            ))
        texts: dict[int, tuple[int, str]] = {}
        for att_id, doc_id, sha, mime in atts:
            if self._stop:
                break
            try:
                path = self.ka.storage.path_for(sha)
                text = extract_text(path, mime) if path.exists() else ""
            except Exception:  # a hostile file must not stop indexing
                log.exception("text extraction failed for attachment %s", att_id)
                text = ""
            texts[att_id] = (doc_id, text)
        if texts:
            with self.ka.db.write() as session:
                for att_id, (_doc_id, text) in texts.items():
                    row = session.get(Attachment, att_id)
                    if row is not None and row.text is None:
                        row.text = text
                for doc_id in {d for d, _ in texts.values()}:
                    session.add(IndexQueue(object_key=f"doc:{doc_id}"))
        with self._lock:
            self._extract_todo.difference_update(todo)
        self.notify()
        return len(texts)

    def pending_document_keys(self, session: Session) -> frozenset[str]:
        """Index keys of documents whose index entry may be stale (queued, not yet indexed)."""
        return frozenset(session.scalars(select(IndexQueue.object_key).where(IndexQueue.object_key.like("doc:%")).distinct()))

    def build_records(self, session: Session, keys: Sequence[str]) -> tuple[list[IndexRecord], list[str]]:
        """Index records for the given keys, and the keys whose object no longer exists."""
        records: list[IndexRecord] = []
        gone: list[str] = []
        doc_ids = [i for i in (_doc_id(k) for k in keys) if i is not None]
        contact_ids = [int(k[8:]) for k in keys if k.startswith("contact:")]
        company_ids = [int(k[8:]) for k in keys if k.startswith("company:")]
        if doc_ids:
            docs = {
                d.id: d
                for d in session.scalars(
                    select(Document)
                    .where(Document.id.in_(doc_ids))
                    .options(
                        selectinload(Document.acl),
                        selectinload(Document.folders),
                        selectinload(Document.attachments),
                        selectinload(Document.company),
                        selectinload(Document.contact),
                    )
                )
            }
            waiting = [a.id for d in docs.values() for a in d.attachments if a.text is None and not a.inline]
            if waiting:
                with self._lock:
                    self._extract_todo.update(waiting)
            for ident in doc_ids:
                doc = docs.get(ident)
                if doc is None:
                    gone.append(f"doc:{ident}")
                else:
                    records.append(self.document_record(doc))
        if contact_ids:
            found = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}
            for ident in contact_ids:
                contact = found.get(ident)
                if contact is None:
                    gone.append(f"contact:{ident}")
                else:
                    records.append(self.contact_record(contact))
        if company_ids:
            found_c = {c.id: c for c in session.scalars(select(Company).where(Company.id.in_(company_ids)))}
            for ident in company_ids:
                company = found_c.get(ident)
                if company is None:
                    gone.append(f"company:{ident}")
                else:
                    records.append(self.company_record(company))
        return records, gone

    def document_record(self, doc: Document) -> IndexRecord:
        from kundenakte.search.base import IndexRecord

        doctype = self.ka.types.get(doc.type_key)
        extra: dict[str, str] = {}
        if doctype is not None:
            for f in doctype.fields:
                value = (doc.data or {}).get(f.name)
                if f.searchable and value not in (None, ""):
                    extra[f.name] = html_to_text(str(value)) if f.kind == "richtext" else str(value)
        for _plugin, fields in self.ka.call("extra_index_fields", document=doc):
            if isinstance(fields, dict):
                extra.update({str(k): str(v) for k, v in fields.items() if v not in (None, "")})
        return IndexRecord(
            id=f"doc:{doc.id}",
            kind="document",
            type=doc.type_key,
            category=doctype.category if doctype else "",
            title=doc.title,
            content=html_to_text(doc.content),
            attachments="\n".join((a.filename + "\n" + (a.text or "")) for a in doc.attachments if not a.inline),
            company=doc.company.name if doc.company else "",
            contact=doc.contact.full_name if doc.contact else "",
            folders=[f.name for f in doc.folders],
            status=doc.status,
            date=doc.document_date,
            archived=doc.archived_at is not None,
            read_principals=acl.read_principals_of(doc),
            extra=extra,
            updated=_epoch(doc.updated_at),
        )

    def contact_record(self, contact: Contact) -> IndexRecord:
        from kundenakte.search.base import IndexRecord

        # Names only: the master-data index answers "Kontakte und Unternehmen" by name, and a
        # contact's e-mail, phone and city would only multiply what an import has to index.
        return IndexRecord(
            id=f"contact:{contact.id}",
            kind="contact",
            title=contact.full_name,
            read_principals=[acl.EVERYONE],
            updated=_epoch(contact.updated_at),
        )

    def company_record(self, company: Company) -> IndexRecord:
        from kundenakte.search.base import IndexRecord

        return IndexRecord(
            id=f"company:{company.id}",
            kind="company",
            title=company.name,
            read_principals=[acl.EVERYONE],
            updated=_epoch(company.updated_at),
        )

    def all_keys_with_versions(self, session: Session) -> dict[str, float]:
        result: dict[str, float] = {}
        for ident, updated in session.execute(select(Document.id, Document.updated_at)):
            result[f"doc:{ident}"] = _epoch(updated)
        for ident, updated in session.execute(select(Contact.id, Contact.updated_at)):
            result[f"contact:{ident}"] = _epoch(updated)
        for ident, updated in session.execute(select(Company.id, Company.updated_at)):
            result[f"company:{ident}"] = _epoch(updated)
        return result

    def reindex(self, *, progress: bool = False) -> int:
        """Rebuild the whole index from the database: one bulk write, records built in chunks.

        Memory stays flat (a chunk of rows at a time); attachments without extracted text are
        extracted afterwards and their documents queued again.
        """
        with self.flush_guard():
            return self._reindex(progress)

    def _reindex(self, progress: bool) -> int:
        with self.ka.db.read() as session:
            keys = list(self.all_keys_with_versions(session))
        self.backend.clear()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(keys), unit="Einträge", desc="Index")

        def records() -> Iterator[IndexRecord]:
            for start in range(0, len(keys), BULK_CHUNK):
                part = keys[start : start + BULK_CHUNK]
                with self.ka.db.read() as session:
                    built, _gone = self.build_records(session, part)
                yield from built
                if bar is not None:
                    bar.update(len(part))

        # Whoosh's multi-process writer forks: fine in the command line's process, never used by the
        # threads of a web worker (they index through flush()).
        previous = getattr(self.backend, "parallel", None)
        if previous is not None:
            self.backend.parallel = True  # type: ignore[attr-defined]
        try:
            self.backend.bulk(records())
        finally:
            if previous is not None:
                self.backend.parallel = previous  # type: ignore[attr-defined]
        if bar is not None:
            bar.close()
        while self._extract_todo and self.extract_pending(limit=500):
            pass
        if not self.ka.settings.index_async:
            while self._flush_once(BULK_CHUNK):  # under the guard already
                pass
        return len(keys)

    def check(self, *, repair: bool = False) -> dict[str, list[str]]:
        """Compare index and database: entries missing, stale (older than the row) or extra."""
        with self.ka.db.read() as session:
            wanted = self.all_keys_with_versions(session)
        stored = self.backend.stored_versions()
        missing = sorted(k for k in wanted if k not in stored)
        stale = sorted(k for k, v in wanted.items() if k in stored and abs(stored[k] - v) > 1e-3)
        extra = sorted(k for k in stored if k not in wanted)
        if repair and (missing or stale or extra):
            for start in range(0, len(missing + stale), CHUNK):
                part = (missing + stale)[start : start + CHUNK]
                with self.ka.db.read() as session:
                    records, _ = self.build_records(session, part)
                self.backend.index(records)
            if extra:
                self.backend.delete(extra)
        return {"missing": missing, "stale": stale, "extra": extra}

    # -- searching ---------------------------------------------------------------------------

    def search(
        self,
        session: Session,
        viewer: acl.Viewer,
        query: str,
        *,
        types: Sequence[str] = (),
        folders: Sequence[str] = (),
        include_archived: bool = False,
        page: int = 1,
        per_page: int = 20,
    ) -> SearchPage:
        """Documents matching ``query`` that the viewer may read; raises QueryError on bad syntax.

        The one definition of a result (docs/architecture.md): every output — hits, total, facets —
        is computed over {documents matching the query} ∩ readable(viewer), where readable is what
        ``core/acl.py`` says now. The backend's stored principals are exact for every entry that is
        not queued for indexing; queued entries may be stale, so they are left out until indexed
        (results are narrower for a moment, never wider). The queue is read *before* the index, so
        an entry that left the queue is already in the searcher we open.
        """
        page = max(1, page)
        if viewer.sees_nothing or not query.strip():
            return SearchPage(hits=[], total=0, page=page, per_page=per_page)
        if page * per_page > MAX_RESULTS:
            raise QueryError(
                f"Es werden höchstens die ersten {MAX_RESULTS} Treffer angezeigt. Bitte grenzen Sie die Suche weiter ein."
            )
        principals = None if viewer.sees_all else viewer.principals
        pending = self.pending_document_keys(session)
        result = self.backend.search(
            query,
            principals=principals,
            kinds=("document",),
            types=types,
            folders=folders,
            include_archived=include_archived,
            limit=per_page,
            offset=(page - 1) * per_page,
            exclude=pending,
        )
        ids = [i for i in (_doc_id(h.id) for h in result.hits) if i is not None]
        rows = {
            d.id: d
            for d in session.scalars(
                select(Document)
                .where(Document.id.in_(ids), acl.readable_clause(viewer))
                .options(selectinload(Document.company), selectinload(Document.contact), selectinload(Document.folders))
            )
        } if ids else {}
        missing = [i for i in ids if i not in rows]
        if missing:  # the index disagrees with the database: never show it, and repair the entry
            log.error("search index disagrees with the database for documents %s; requeued", missing)
            self.requeue([f"doc:{i}" for i in missing])
        page_hits = [DocumentHit(rows[i], h.score, h.highlights) for h, i in zip(result.hits, ids, strict=False) if i in rows]
        facets = {name: dict(counts) for name, counts in result.facets.items()}
        return SearchPage(hits=page_hits, total=result.total, facets=facets, page=page, per_page=per_page)

    def requeue(self, keys: Iterable[str]) -> None:
        with self.ka.db.write() as session:
            for key in keys:
                session.add(IndexQueue(object_key=key))
        self.notify()

    def suggest(self, session: Session, viewer: acl.Viewer, prefix: str, *, limit: int = 10) -> list[str]:
        """Title completions from documents the viewer may read (queued ones left out until indexed)."""
        if viewer.sees_nothing or not prefix.strip():
            return []
        principals = None if viewer.sees_all else viewer.principals
        pending = self.pending_document_keys(session)
        return self.backend.suggest(prefix, principals=principals, limit=min(limit, MAX_SUGGESTIONS), exclude=pending)

    def master_data(self, session: Session, text: str, *, limit: int = 5) -> tuple[list[Contact], list[Company]]:
        """Contacts and companies whose words start like ``text`` (shared master data: no ACL)."""
        words = [w for w in tokenize(text) if len(w) >= MIN_PREFIX][:3]
        if not words:
            return [], []
        query = " ".join(f"{w}*" for w in words)
        out: dict[str, list[int]] = {"contact": [], "company": []}
        for kind in out:
            try:
                result = self.backend.search(query, principals=None, kinds=(kind,), limit=limit)
            except QueryError:
                return [], []
            out[kind] = [int(h.id.partition(":")[2]) for h in result.hits]
        contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(out["contact"])))} if out["contact"] else {}
        companies = {c.id: c for c in session.scalars(select(Company).where(Company.id.in_(out["company"])))} if out["company"] else {}
        return ([contacts[i] for i in out["contact"] if i in contacts], [companies[i] for i in out["company"] if i in companies])

    def count_indexed(self) -> int:
        return self.backend.count()

    def queue_length(self, session: Session) -> int:
        return int(session.scalar(select(func.count()).select_from(IndexQueue)) or 0)


def index_everything_later(session: Session) -> None:
    """Queue every object (after an import or a restore)."""
    for ident in session.scalars(select(Document.id)):
        session.add(IndexQueue(object_key=f"doc:{ident}"))

