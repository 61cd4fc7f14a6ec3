"""What a session's transaction leaves to do once it ends, as one typed object on the session.

The document service, attachments, storage and the runtime used to talk through string keys in
``session.info``; they share this object instead (``unit_of(session)``). Each part clears only
its own fields when the transaction ends: the runtime fires the after-commit events and checks
the blobs a deletion may have left unreferenced; storage removes the blobs a rolled-back
transaction stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

_KEY = "kundenakte_unit_of_work"


@dataclass
class UnitOfWork:
    # (hook name, keyword arguments) to call on the enabled plugins after the commit
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # content hashes whose last attachment row may have been deleted: removed after the commit if unused
    blobs_to_check: list[str] = field(default_factory=list)
    # content hashes this transaction stored: removed again if it rolls back
    new_blobs: set[str] = field(default_factory=set)
    # storage's commit/rollback listeners are installed on this session
    blob_listeners: bool = False
    # the plugins an admin switched off, read once per transaction
    disabled_plugins: frozenset[str] | None = None


def unit_of(session: Session) -> UnitOfWork:
    """The session's unit of work (created on first use)."""
    unit = session.info.get(_KEY)
    if unit is None:
        unit = session.info[_KEY] = UnitOfWork()
    assert isinstance(unit, UnitOfWork)
    return unit
