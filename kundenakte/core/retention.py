"""Retention: archive every document whose Aufbewahrungsfrist has passed.

Archived documents stay readable and findable by those allowed, are hidden from default lists and
cannot be changed. Running the archiver twice archives nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from kundenakte.core import audit
from kundenakte.core.documents import _after_commit
from kundenakte.core.models import Document

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

BATCH = 500


@dataclass(frozen=True)
class ArchivedDocument:
    id: int
    type_key: str
    title: str
    archive_due: str


def archive_due_documents(ka: Kundenakte, *, dry_run: bool = False) -> list[ArchivedDocument]:
    """Archive documents whose archive-due date is today or earlier; returns what was archived."""
    today = ka.clock.today()
    done: list[ArchivedDocument] = []
    while True:
        with ka.db.write() as session:
            rows = list(
                session.scalars(
                    select(Document)
                    .where(Document.archived_at.is_(None), Document.archive_due.is_not(None), Document.archive_due <= today)
                    .order_by(Document.id)
                    .limit(BATCH)
                    .offset(len(done) if dry_run else 0)
                )
            )
            if not rows:
                break
            for doc in rows:
                done.append(ArchivedDocument(doc.id, doc.type_key, doc.title, doc.archive_due.isoformat() if doc.archive_due else ""))
                if dry_run:
                    continue
                doc.archived_at = ka.clock.now()  # queued by the mapper events
                audit.record(session, None, "archived", "document", doc.id, archive_due=str(doc.archive_due))
                _after_commit(ka, session, "document_archived", document_id=doc.id)
            if dry_run:
                session.rollback()
        if len(rows) < BATCH:
            break
    return done
