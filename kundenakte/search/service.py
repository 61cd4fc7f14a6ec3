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
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kundenakte.core import acl
from kundenakte.core.html import html_to_text
from kundenakte.core.models import Attachment, Company, Contact, Document, IndexQueue

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte
    from kundenakte.search.base import IndexRecord, SearchBackend

log = logging.getLogger(__name__)

CHUNK = 500


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
    return value.replace(tzinfo=dt.timezone.utc).timestamp()


def _doc_id(key: str) -> int | None:
    kind, _, ident = key.partition(":")
    return int(ident) if kind == "doc" and ident.isdigit() else None


class SearchService:
    def __init__(self, ka: Kundenakte) -> None:
        self.ka = ka
        self._backend: SearchBackend | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
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
        if self._thread is not None:
            self._thread.join(timeout=5)
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
        while not self._stop:
            self._wake.wait(timeout=5.0)
            self._wake.clear()
            if self._stop:
                return
            try:
                while self.flush(limit=CHUNK) == CHUNK:
                    pass
            except Exception:  # the next wake-up retries; the queue keeps the work
                log.exception("indexing failed; will retry")
                time.sleep(1.0)

    def flush(self, *, limit: int | None = None) -> int:
        """Index what the queue holds (up to ``limit`` rows); returns the number of rows handled."""
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

    def pending_document_ids(self, session: Session) -> set[int]:
        keys = session.scalars(select(IndexQueue.object_key).distinct())
        return {i for i in (_doc_id(k) for k in keys) if i is not None}

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
            self._extract_missing_texts([a for d in docs.values() for a in d.attachments])
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

    def _extract_missing_texts(self, attachments: list[Attachment]) -> None:
        """Extract attachment text once and keep it in the row, so reindexing does not redo it."""
        todo = [a for a in attachments if a.text is None and not a.inline]
        if not todo:
            return
        from kundenakte.search.extract import extract_text

        texts: dict[int, str] = {}
        for att in todo:
            try:
                path = self.ka.storage.path_for(att.sha256)
                texts[att.id] = extract_text(path, att.mime_type) if path.exists() else ""
            except Exception:  # a hostile file must not stop indexing
                log.exception("text extraction failed for attachment %s", att.id)
                texts[att.id] = ""
            # Not a change of the read session's object: that would make its next autoflush
            # write from a stale snapshot (SQLite: "database is locked").
            set_committed_value(att, "text", texts[att.id])
        with self.ka.db.write() as session:
            for ident, text in texts.items():
                row = session.get(Attachment, ident)
                if row is not None:
                    row.text = text

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

        return IndexRecord(
            id=f"contact:{contact.id}",
            kind="contact",
            title=contact.full_name,
            content=" ".join(filter(None, [contact.position, contact.email, contact.phone, contact.city])),
            company=contact.company.name if contact.company else "",
            read_principals=[acl.EVERYONE],
            updated=_epoch(contact.updated_at),
        )

    def company_record(self, company: Company) -> IndexRecord:
        from kundenakte.search.base import IndexRecord

        return IndexRecord(
            id=f"company:{company.id}",
            kind="company",
            title=company.name,
            content=" ".join(filter(None, [company.street, company.postal_code, company.city, company.email, company.web])),
            company=company.name,
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
        """Rebuild the whole index from the database, in chunks (memory stays flat)."""
        with self.ka.db.read() as session:
            keys = list(self.all_keys_with_versions(session))
        self.backend.clear()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(keys), unit="Dok.", desc="Index")
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            with self.ka.db.read() as session:
                records, _gone = self.build_records(session, part)
            self.backend.index(records)
            if bar is not None:
                bar.update(len(part))
        if bar is not None:
            bar.close()
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
        """Documents matching ``query`` that the viewer may read; raises QueryError on bad syntax."""
        page = max(1, page)
        if viewer.sees_nothing or not query.strip():
            return SearchPage(hits=[], total=0, page=page, per_page=per_page)
        principals = None if viewer.sees_all else viewer.principals
        pending = self.pending_document_ids(session)
        denied: set[str] = set()
        if pending and not viewer.sees_all:
            matching = self.backend.matching_ids(
                query, principals=principals, kinds=("document",), types=types, folders=folders, include_archived=include_archived
            )
            suspects = {i for i in (_doc_id(k) for k in matching) if i in pending}
            if suspects:
                allowed = acl.readable_ids(session, viewer, suspects)
                denied = {f"doc:{i}" for i in suspects - allowed}
        window = page * per_page + len(denied)
        result = self.backend.search(
            query,
            principals=principals,
            kinds=("document",),
            types=types,
            folders=folders,
            include_archived=include_archived,
            limit=window,
            offset=0,
        )
        hits = [h for h in result.hits if h.id not in denied][(page - 1) * per_page : page * per_page]
        ids = [i for i in (_doc_id(h.id) for h in hits) if i is not None]
        rows = {
            d.id: d
            for d in session.scalars(
                select(Document)
                .where(Document.id.in_(ids), acl.readable_clause(viewer))
                .options(selectinload(Document.company), selectinload(Document.contact), selectinload(Document.folders))
            )
        } if ids else {}
        page_hits = [DocumentHit(rows[i], h.score, h.highlights) for h, i in zip(hits, ids) if i in rows]
        facets = {name: dict(counts) for name, counts in result.facets.items()}
        if denied:
            self._subtract_facets(session, facets, denied)
        return SearchPage(hits=page_hits, total=max(0, result.total - len(denied)), facets=facets, page=page, per_page=per_page)

    def _subtract_facets(self, session: Session, facets: dict[str, dict[str, int]], denied: Iterable[str]) -> None:
        ids = [i for i in (_doc_id(k) for k in denied) if i is not None]
        for doc in session.scalars(select(Document).where(Document.id.in_(ids)).options(selectinload(Document.folders))):
            for name, value in [("type", doc.type_key)] + [("folders", f.name) for f in doc.folders]:
                bucket = facets.get(name, {})
                if bucket.get(value, 0) > 0:
                    bucket[value] -= 1
                    if bucket[value] == 0:
                        del bucket[value]

    def suggest(self, session: Session, viewer: acl.Viewer, prefix: str, *, limit: int = 10) -> list[str]:
        """Title completions from documents the viewer may read."""
        if viewer.sees_nothing or not prefix.strip():
            return []
        principals = None if viewer.sees_all else viewer.principals
        pending = self.pending_document_ids(session)
        if not pending or viewer.sees_all:
            return self.backend.suggest(prefix, principals=principals, limit=limit)
        # Titles of queued documents may belong to a revoked right: confirm them in the database.
        titles = self.backend.suggest(prefix, principals=principals, limit=limit * 2)
        pending_titles = dict(
            session.execute(select(Document.title, Document.id).where(Document.id.in_(pending), Document.title.in_(titles))).all()
        )
        allowed = acl.readable_ids(session, viewer, pending_titles.values())
        safe = [t for t in titles if t not in pending_titles or pending_titles[t] in allowed]
        return safe[:limit]

    def count_indexed(self) -> int:
        return self.backend.count()

    def queue_length(self, session: Session) -> int:
        return int(session.scalar(select(func.count()).select_from(IndexQueue)) or 0)


def index_everything_later(session: Session) -> None:
    """Queue every object (after an import or a restore)."""
    for ident in session.scalars(select(Document.id)):
        session.add(IndexQueue(object_key=f"doc:{ident}"))

