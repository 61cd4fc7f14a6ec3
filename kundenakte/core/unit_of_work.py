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
    # index keys ("doc:5") queued in the transaction (and savepoint) ``queued_in`` names: one row each is enough
    queued: set[str] = field(default_factory=set)
    queued_in: tuple[Any, Any] | None = None

    def not_yet_queued(self, session: Session, keys: list[str]) -> list[str]:
        """The ``keys`` this transaction has not queued yet, now counted as queued.

        Bound to the transaction and savepoint objects: after a commit, a rollback or a new
        savepoint everything counts as not queued again (a duplicate row is harmless, a missing
        one is not).
        """
        where = (session.get_transaction(), session.get_nested_transaction())
        if self.queued_in is None or self.queued_in[0] is not where[0] or self.queued_in[1] is not where[1]:
            self.queued, self.queued_in = set(), where
        fresh = [k for k in dict.fromkeys(keys) if k not in self.queued]
        self.queued.update(fresh)
        return fresh


def unit_of(session: Session) -> UnitOfWork:
    """The session's unit of work (created on first use)."""
    unit = session.info.get(_KEY)
    if unit is None:
        unit = session.info[_KEY] = UnitOfWork()
    assert isinstance(unit, UnitOfWork)
    return unit
