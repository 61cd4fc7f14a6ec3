"""The search backend interface shared by the Whoosh and PostgreSQL backends."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["Hit", "IndexRecord", "QueryError", "SearchBackend", "SearchResult", "visible_principals"]


@dataclass
class IndexRecord:
    """One searchable row: a document, contact or company."""

    id: str  # "doc:123", "contact:5", "company:7"; upserts replace by this key
    kind: str  # "document" | "contact" | "company"
    type: str = ""  # document type key, e.g. "email", "free_document"
    category: str = ""  # "communication", "tasks", ... or a plugin's
    title: str = ""
    content: str = ""  # plain text; see analysis.html_to_text
    attachments: str = ""  # extracted attachment text
    company: str = ""
    contact: str = ""
    folders: list[str] = field(default_factory=list)
    status: str = ""
    date: datetime.date | None = None
    archived: bool = False
    read_principals: list[str] = field(default_factory=list)  # "*", "u:3", "g:2"; prefilter only
    extra: dict[str, str] = field(default_factory=dict)  # merged into the catch-all text
    updated: float = 0.0  # epoch seconds of the row's updated_at, for consistency checks


@dataclass
class Hit:
    id: str
    score: float  # for ordering only: never shown or returned (it must not carry corpus statistics)
    highlights: str  # HTML: escaped text, only <mark> is markup


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]  # {"type": {...}, "folders": {...}}


class QueryError(ValueError):
    """A query the user typed cannot be parsed; ``str(exc)`` is shown to the user."""


def visible_principals(principals: frozenset[str] | None) -> frozenset[str] | None:
    """Principals to match against ``read_principals``.

    ``None`` means unrestricted. Every real user holds ``"*"`` (see acl.py),
    so it is added to any non-empty set; an empty set stays empty and must
    match nothing.
    """
    if principals is None:
        return None
    if not principals:
        return frozenset()
    return frozenset(principals) | {"*"}


@runtime_checkable
class SearchBackend(Protocol):
    def index(self, records: Iterable[IndexRecord]) -> None:
        """Upsert by id, committing in chunks."""

    def bulk(self, records: Iterable[IndexRecord]) -> int:
        """A rebuild: upsert many records in as few commits as the backend can."""

    def delete(self, ids: Iterable[str]) -> None: ...

    def search(
        self,
        query: str,
        *,
        principals: frozenset[str] | None,
        kinds: Sequence[str] = ("document",),
        types: Sequence[str] = (),
        folders: Sequence[str] = (),
        include_archived: bool = False,
        limit: int | None = 20,
        offset: int = 0,
        exclude: Collection[str] = (),
    ) -> SearchResult:
        """Matching entries readable by ``principals`` (None: everyone), less ``exclude``.

        ``total`` and ``facets`` count exactly the entries a full listing would return.
        """

    def matching_ids(
        self,
        query: str,
        *,
        principals: frozenset[str] | None,
        kinds: Sequence[str] = ("document",),
        types: Sequence[str] = (),
        folders: Sequence[str] = (),
        include_archived: bool = False,
        exclude: Collection[str] = (),
    ) -> list[str]:
        """Every matching id (as ``search`` would count them)."""

    def suggest(
        self, prefix: str, *, principals: frozenset[str] | None, limit: int = 10, exclude: Collection[str] = ()
    ) -> list[str]:
        """Title completions from readable documents only, less ``exclude``."""

    def stored_versions(self) -> dict[str, float]:
        """id -> updated of every entry, to find stale ones."""

    def clear(self) -> None: ...

    def count(self) -> int: ...

    def close(self) -> None: ...
