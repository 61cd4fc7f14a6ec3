"""Reuse of overview results while nothing they depend on has changed.

An overview's counts need one pass over every document of the company through the ACL; on a
customer file with thousands of documents that pass dominates the page. Its result depends only on
the scope's documents and their ACL rows, on the names of contacts and users shown (both versioned
by database triggers, see ``OverviewVersion``), on who asks (user, admin flag, principals — read
fresh on every request), on "nur meine" and on the enabled plugins. All of that is in the key, so a
hit is exactly what a fresh computation would return. Even so, the remembered rows' ids pass the
ACL query again on every hit; a row that fails it discards the entry (defence in depth: a leak is
the one bug this product must not have).

The cache is per process and bounded; it holds counts and plain row values, never ORM objects.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kundenakte.core.models import OverviewVersion

T = TypeVar("T")

# Built once: the statement runs on every overview request.
_VERSIONS = select(OverviewVersion.scope, OverviewVersion.version).where(
    OverviewVersion.scope.in_([bindparam("scope"), bindparam("names")])
)
NAMES = "names"


def scope_key(company_id: int | None, contact_id: int | None) -> str:
    """The scope name the triggers use: a contact's overview is keyed by the contact."""
    return f"p:{contact_id}" if contact_id is not None else f"c:{company_id}"


def scope_version(session: Session, scope: str) -> int:
    """The scope's change counter; 0 while no document of it has ever been written."""
    return scope_versions(session, scope)[0]


def scope_versions(session: Session, scope: str) -> tuple[int, int]:
    """The scope's counter and the shared counter of contact and user names, in one statement."""
    found = dict(session.connection().execute(_VERSIONS, {"scope": scope, "names": NAMES}).all())
    return int(found.get(scope, 0)), int(found.get(NAMES, 0))


class OverviewCache:
    """A bounded, thread-safe LRU map from a full dependency key to a computed value."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]  # type: ignore[no-any-return]
            self.misses += 1
        value = compute()
        self.put(key, value)
        return value

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return self._data[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)
