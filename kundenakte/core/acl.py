"""The one permission choke point: who may read or edit which document.

Rules (also in docs/architecture.md):

* an inactive user may read nothing;
* an active admin may read and edit every document;
* a document's author and its responsible user may read and edit it;
* a principal in the document's ACL with role ``read`` may read it, with role ``edit`` may read
  and edit it; principals are ``*`` (every active user), ``u:<id>`` and ``g:<id>``, where a user
  holds every group it is in directly or through nested groups.

Every read path builds its query with :func:`readable_clause` or checks one document with
:func:`can_read`; nothing else in the code base decides access to documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, false, or_, select, true
from sqlalchemy.orm import Session

from kundenakte.core.models import Document, DocumentAcl, Group, User, group_members

EVERYONE = "*"


def user_principal(user_id: int) -> str:
    return f"u:{user_id}"


def group_principal(group_id: int) -> str:
    return f"g:{group_id}"


@dataclass(frozen=True)
class Viewer:
    """What the ACL needs to know about the person asking; computed once per request."""

    user_id: int | None
    is_admin: bool
    active: bool
    principals: frozenset[str]

    @property
    def sees_all(self) -> bool:
        return self.active and self.is_admin

    @property
    def sees_nothing(self) -> bool:
        return not self.active or self.user_id is None


NOBODY = Viewer(user_id=None, is_admin=False, active=False, principals=frozenset())


def _group_closure(user_id: Any) -> Any:
    """Recursive CTE of the user's groups, direct and inherited through parent groups.

    UNION (not UNION ALL) drops rows already found, so a cycle in the group tree ends the recursion.
    """
    closure = (
        select(group_members.c.group_id.label("id"))
        .where(group_members.c.user_id == user_id)
        .cte("member_groups", recursive=True)
    )
    return closure.union(
        select(Group.parent_id).join(closure, Group.id == closure.c.id).where(Group.parent_id.is_not(None))
    )


@cache
def _statements() -> tuple[Any, Any]:
    # Built once with a bound user id: constructing the recursive CTE costs far more than running it.
    closure = _group_closure(bindparam("user_id"))
    groups = select(closure.c.id)
    closure = _group_closure(bindparam("user_id"))
    user_and_groups = select(User, closure.c.id).outerjoin(closure, true()).where(User.id == bindparam("user_id"))
    return groups, user_and_groups


def group_ids_of(session: Session, user_id: int) -> set[int]:
    """The user's groups, direct and inherited through parent groups (cycles tolerated)."""
    return set(session.scalars(_statements()[0], {"user_id": user_id}))


def _viewer(user: User | None, group_ids: Iterable[int]) -> Viewer:
    if user is None or not user.active:
        return NOBODY
    principals = {EVERYONE, user_principal(user.id)}
    principals.update(group_principal(g) for g in group_ids)
    return Viewer(user_id=user.id, is_admin=user.is_admin, active=True, principals=frozenset(principals))


def viewer_for(session: Session, user: User | None) -> Viewer:
    """Read the user's current rights from the database (never from a cache)."""
    if user is None or not user.active:
        return NOBODY
    return _viewer(user, group_ids_of(session, user.id))


def load_viewer(session: Session, user_id: int) -> tuple[User | None, Viewer]:
    """The user and its current rights in one statement: what every signed-in request starts with."""
    rows = session.execute(_statements()[1], {"user_id": user_id}).all()
    if not rows:
        return None, NOBODY
    user = rows[0][0]
    return user, _viewer(user, (gid for _u, gid in rows if gid is not None))


def readable_clause(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition on ``Document`` rows the viewer may read."""
    if viewer.sees_nothing:
        return false()
    if viewer.sees_all:
        return true()
    return or_(
        Document.author_id == viewer.user_id,
        Document.responsible_id == viewer.user_id,
        exists().where(
            and_(DocumentAcl.document_id == Document.id, DocumentAcl.principal.in_(sorted(viewer.principals)))
        ),
    )


def editable_clause(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition on ``Document`` rows the viewer may change."""
    if viewer.sees_nothing:
        return false()
    if viewer.sees_all:
        return true()
    return or_(
        Document.author_id == viewer.user_id,
        Document.responsible_id == viewer.user_id,
        exists().where(
            and_(
                DocumentAcl.document_id == Document.id,
                DocumentAcl.principal.in_(sorted(viewer.principals)),
                DocumentAcl.role == "edit",
            )
        ),
    )


def can_read(session: Session, viewer: Viewer, document_id: int) -> bool:
    return bool(session.scalar(select(Document.id).where(Document.id == document_id, readable_clause(viewer))))


def can_edit(session: Session, viewer: Viewer, document_id: int) -> bool:
    return bool(session.scalar(select(Document.id).where(Document.id == document_id, editable_clause(viewer))))


def readable_ids(session: Session, viewer: Viewer, ids: Iterable[int], *, chunk: int = 900) -> set[int]:
    """The subset of ``ids`` the viewer may read (used to verify search hits at query time)."""
    wanted = list(dict.fromkeys(ids))
    if viewer.sees_nothing or not wanted:
        return set()
    result: set[int] = set()
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        result.update(session.scalars(select(Document.id).where(Document.id.in_(part), readable_clause(viewer))))
    return result


def read_principals_of(document: Document) -> list[str]:
    """Principals that may read a document, for the search index's coarse prefilter."""
    principals = {entry.principal for entry in document.acl}
    for uid in (document.author_id, document.responsible_id):
        if uid is not None:
            principals.add(user_principal(uid))
    return sorted(principals)


def grantable_principals(session: Session, viewer: Viewer) -> set[str]:
    """The principals ``viewer`` may name as readers or editors of a document.

    Exactly what the document form's reader picker offers: everyone (``*``), every group and
    every active user. Access proposed by someone else (a template's readers) is cut down to
    this set before the viewer sees it, so a proposal never names more than the viewer could.
    """
    if viewer.sees_nothing:
        return set()
    principals = {EVERYONE}
    principals.update(group_principal(g) for g in session.scalars(select(Group.id)))
    principals.update(user_principal(u) for u in session.scalars(select(User.id).where(User.active.is_(True))))
    return principals


def parse_principal(text: str) -> str:
    """Validate a principal string as stored in the ACL."""
    text = text.strip()
    if text == EVERYONE:
        return text
    kind, _, ident = text.partition(":")
    if kind in ("u", "g") and ident.isdigit():
        return f"{kind}:{int(ident)}"
    raise ValueError(f"Ungültiger Berechtigter: {text!r}")
