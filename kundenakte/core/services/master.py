"""Plumbing shared by the contact and company services: audit entries, guarded deletes, bulk writes."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kundenakte.core import audit
from kundenakte.core.models import IndexQueue, User, utcnow
from kundenakte.core.services.errors import InUse


def user_exists(session: Session, user_id: Any) -> bool:
    return isinstance(user_id, int) and not isinstance(user_id, bool) and session.get(User, user_id) is not None


def saved(session: Session, row: Any, kind: str, name: str, *, by: int | None, via: str | None,
          fields: list[str] | None = None, now: dt.datetime | None = None) -> None:
    """Finish a create (``fields`` None: flush for the id) or an update: the audit entry, in the caller's transaction."""
    if fields is None:
        session.add(row)
        session.flush()
    elif now is not None:
        row.updated_at = now
    details: dict[str, Any] = {"name": name}
    if fields is not None:
        details["fields"] = fields
    if via:
        details["via"] = via
    audit.record(session, by, "created" if fields is None else "changed", kind, row.id, **details)


def delete_unreferenced(session: Session, row: Any, kind: str, name: str, referrers: list[InstrumentedAttribute[Any]],
                        message: str, *, by: int | None, via: str | None) -> None:
    """Delete ``row`` unless a referring column names it (InUse with ``message`` then), with its audit entry."""
    for column in referrers:
        if session.scalar(select(func.count()).select_from(column.class_).where(column == row.id)):
            raise InUse(message)
    audit.record(session, by, "deleted", kind, row.id, name=name, **({"via": via} if via else {}))
    session.delete(row)


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]], is_sqlite: bool) -> list[int]:
    """Bulk INSERT; returns the new ids in the order of ``rows``.

    PostgreSQL: multi-row INSERT … RETURNING in parameter order ("insertmanyvalues"). SQLite would
    fall back to one statement per row for ordered RETURNING, so there the ids are assigned here:
    the write transaction began with BEGIN IMMEDIATE, so no other writer can take ids meanwhile.
    """
    if not rows:
        return []
    if is_sqlite:
        first = int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
        ids = list(range(first, first + len(rows)))
        session.execute(insert(table), [dict(row, id=i) for row, i in zip(rows, ids, strict=True)])
        return ids
    return list(session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def queue_rows(session: Session, kind: str, ids: list[int | None] | list[int]) -> None:
    """Index queue rows for rows written by Core statements (mapper events queue all others)."""
    now = utcnow()
    rows = [{"object_key": f"{kind}:{i}", "queued_at": now} for i in ids if i is not None]
    if rows:
        session.execute(insert(table_of(IndexQueue)), rows)


def table_of(model: Any) -> Table:
    """A mapped class's table; every model here is mapped to exactly one ``Table``."""
    return cast(Table, model.__table__)
