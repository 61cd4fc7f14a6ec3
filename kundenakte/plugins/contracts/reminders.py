"""Tasks for contracts whose notice deadline is near; created once per contract and deadline."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select

from kundenakte.core import acl
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.formatting import format_date
from kundenakte.core.models import Document, User

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte


def create_deadline_tasks(ka: Kundenakte, *, within_days: int = 60) -> list[int]:
    if "task" not in ka.types or "tasks" in ka.disabled_plugins():
        return []
    today = ka.clock.today()
    horizon = today + dt.timedelta(days=within_days)
    created: list[int] = []
    with ka.db.write() as session:
        contracts = list(session.scalars(
            select(Document).where(
                Document.type_key == "contract", Document.status == "active", Document.archived_at.is_(None),
                Document.due_date.is_not(None), Document.due_date >= today, Document.due_date <= horizon,
            )
        ))
        for contract in contracts:
            due = contract.due_date
            if due is None:  # excluded by the query; tells the type checker
                continue
            marker = f"contract:{contract.id}:{due.isoformat()}"
            exists = session.scalar(
                select(Document.id).where(Document.type_key == "task", Document.parent_id == contract.id)
                .where(Document.title.like("Kündigungsfrist%"))
                .where(Document.due_date == due)
            )
            if exists:
                continue
            owner_id = contract.responsible_id or contract.author_id
            owner = session.get(User, owner_id) if owner_id else None
            if owner is None:
                continue
            viewer = acl.viewer_for(session, owner)
            task = create_document(ka, session, viewer, "task", DocumentInput(
                title=f"Kündigungsfrist: {contract.title}"[:300],
                company_id=contract.company_id, contact_id=contract.contact_id, parent_id=contract.id,
                data={"due": due.isoformat(), "priority": "high",
                      "description": f"Die Kündigungsfrist von „{contract.title}“ endet am "
                                     f"{format_date(due, 'de')}. ({marker})"},
                readers=[e.principal for e in contract.acl if e.role == "read"],
                editors=[e.principal for e in contract.acl if e.role == "edit"],
                responsible_id=owner.id,
            ))
            created.append(task.id)
    ka.search.notify()
    return created
