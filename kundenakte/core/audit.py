"""The audit trail: who created, changed, archived, sent or deleted what, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundenakte.core.models import AuditEntry, utcnow


def record(session: Session, user_id: int | None, action: str, object_type: str, object_id: int | None, **details: Any) -> None:
    """Add an entry in the caller's transaction, so it exists exactly when the change does."""
    session.add(AuditEntry(at=utcnow(), user_id=user_id, action=action, object_type=object_type, object_id=object_id, details=details))


def history(session: Session, object_type: str, object_id: int) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )
