"""The "Meine Aufgaben" list: open tasks the viewer is responsible for, overdue first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, select
from sqlalchemy.orm import Session, selectinload

from kundenakte.core import acl
from kundenakte.core.models import Document


def my_tasks(session: Session, viewer: acl.Viewer, today: dt.date, *, include_done: bool = False, limit: int = 200) -> list[Document]:
    stmt = (
        select(Document)
        .where(
            Document.type_key == "task",
            Document.responsible_id == viewer.user_id,
            Document.archived_at.is_(None),
            acl.readable_clause(viewer),
        )
        .options(selectinload(Document.company), selectinload(Document.contact))
        .order_by(
            case((Document.status == "open", 0), else_=1),
            case((Document.due_date < today, 0), else_=1),
            Document.due_date.is_(None),
            Document.due_date,
            Document.id,
        )
        .limit(limit)
    )
    if not include_done:
        stmt = stmt.where(Document.status == "open")
    return list(session.scalars(stmt))
