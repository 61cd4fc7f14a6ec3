"""The audit trail: who created, changed, archived, sent or deleted what, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kundenakte.core.models import AuditEntry, utcnow


def record(session: Session, user_id: int | None, action: str, object_type: str, object_id: int | None, **details: Any) -> None:
    """Add an entry in the caller's transaction, so it exists exactly when the change does."""
    session.add(AuditEntry(at=utcnow(), user_id=user_id, action=action, object_type=object_type, object_id=object_id, details=details))


def history(session: Session, object_type: str, object_id: int) -> list[AuditEntry]:
    """The entries of the object that has this id *now*, oldest first.

    An id may have named another object before: SQLite reused the highest id of a deleted row
    until migration 0005_core, so an old database can hold a deleted document's entries under
    a new document's id. Every deletion is recorded ("deleted"), and entries up to and
    including the last deletion belong to the earlier object; they are never shown with this one.
    Entry ids only grow (AUTOINCREMENT, sequences), so "after" is ``id >`` that deletion's id.
    """
    last_deletion = (
        select(func.max(AuditEntry.id))
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id,
               AuditEntry.action == "deleted")
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id,
                   AuditEntry.id > func.coalesce(last_deletion, 0))
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )
