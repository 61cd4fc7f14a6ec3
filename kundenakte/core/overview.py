"""The company/contact overview ("Übersicht"): declared sections turned into filtered, counted pages.

Plugins declare sections (:class:`OverviewSection`); the core runs, per section, one grouped query
for the counts (and sums) of every filter value and one query for the page of the active filter.
Both go through :func:`acl.readable_clause`, so neither a row nor a count reveals a document the
viewer may not read. Types no declared section covers get a generic section per category, so the
page is complete before (or without) any plugin declaring one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.categories import categories, category_for
from kundenakte.core.contributions import OverviewFilter, OverviewSection
from kundenakte.core.doctypes import DocumentType
from kundenakte.core.models import Contact, Document, User
from kundenakte.core.overview_cache import OverviewCache, scope_key, scope_versions

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

PER_PAGE = 20
FALLBACK_PREFIX = "kategorie_"


@dataclass(frozen=True)
class OverviewRow:
    """One document as a section row shows it: plain values from one joined query, no ORM objects.

    An overview lists up to a hundred rows; loading them as mapped documents with their contact and
    user cost more than the rest of the page (bench/overview_bench.py).
    """

    id: int
    type_key: str
    title: str
    document_date: dt.date | None
    status: str
    amount: Decimal | None
    data: dict[str, Any]
    contact_id: int | None
    contact_name: str
    responsible_name: str


_ROW_COLUMNS = (
    Document.id, Document.type_key, Document.title, Document.document_date, Document.status, Document.amount,
    Document.data, Document.contact_id, Contact.title, Contact.first_name, Contact.last_name, User.display_name,
)


def _row_select(*conditions: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*_ROW_COLUMNS)
        .select_from(Document)
        .outerjoin(Contact, Contact.id == Document.contact_id)
        .outerjoin(User, User.id == Document.responsible_id)
        .where(*conditions)
    )


def _to_row(r: Any) -> OverviewRow:
    contact_name = " ".join(p for p in (r[8], r[9], r[10]) if p)  # as Contact.full_name
    return OverviewRow(r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6] or {}, r[7], contact_name, r[11] or "")


@dataclass
class SectionView:
    """One section as the page shows it: counts per filter value, the active filter's page of rows."""

    section: OverviewSection
    active: str
    counts: dict[str, int]
    sums: dict[str, Decimal]
    rows: list[OverviewRow]
    total: int
    page: int
    pages: int
    overall: int = 0  # readable documents of the section whatever the filter
    per_page: int = PER_PAGE
    figures: tuple[Any, ...] = ()  # the section's own OverviewFigure objects
    types: dict[str, DocumentType] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.section.key

    @property
    def active_filter(self) -> OverviewFilter:
        return next(f for f in self.section.filters if f.value == self.active)


def _fallback_filters(types: list[DocumentType]) -> tuple[OverviewFilter, ...]:
    open_ = tuple(sorted({s.value for t in types for s in t.statuses if not s.closed}))
    closed = tuple(sorted({s.value for t in types for s in t.statuses if s.closed}))
    filters = [OverviewFilter("all", "alle", None, "all")]
    if open_ and closed:
        filters.append(OverviewFilter("open", "offen", open_, "open"))
        filters.append(OverviewFilter("closed", "erledigt", closed, "done"))
    return tuple(filters)


def sections_for(ka: Kundenakte, session: Session) -> list[OverviewSection]:
    """Declared sections of enabled plugins (restricted to enabled types) plus generic fallbacks.

    Depends only on the installed plugins and which are disabled, so it is worked out once per
    set of disabled plugins (every overview request needs it).
    """
    disabled = ka.disabled_plugins(session)
    known: dict[frozenset[str], list[OverviewSection]] = ka.derived.setdefault("overview_sections", {})
    if disabled not in known:
        known[disabled] = _sections(ka, session)
    return list(known[disabled])


def _sections(ka: Kundenakte, session: Session) -> list[OverviewSection]:
    enabled = {t.key: t for t in ka.enabled_types(session)}
    result: list[OverviewSection] = []
    seen_keys: set[str] = set()
    covered: set[str] = set()
    for plugin, section in ka.collect("register_overview_sections", session):
        if not isinstance(section, OverviewSection) or section.key in seen_keys or not section.filters:
            continue
        type_keys = tuple(k for k in section.type_keys if k in enabled)
        if not type_keys:
            continue
        default = section.default_filter if any(f.value == section.default_filter for f in section.filters) else section.filters[0].value
        seen_keys.add(section.key)
        covered.update(type_keys)
        result.append(replace(section, type_keys=type_keys, plugin=section.plugin or plugin, default_filter=default))
    by_category: dict[str, list[DocumentType]] = {}
    for doctype in enabled.values():
        if doctype.key not in covered:
            by_category.setdefault(doctype.category, []).append(doctype)
    taken = {s.label for s in result}
    known = categories(ka, session)
    for category, types in by_category.items():
        declared = category_for(known, category)
        de, en = declared.label, declared.label_en or declared.label
        key = FALLBACK_PREFIX + category
        if key in seen_keys:
            continue
        if de in taken:  # a plugin's section already carries the category's name
            de, en = f"{de} (weitere Arten)", f"{en} (other kinds)"
        result.append(
            OverviewSection(
                key=key,
                label=de,
                label_en=en,
                type_keys=tuple(t.key for t in sorted(types, key=lambda t: (t.menu_order, t.label))),
                filters=_fallback_filters(types),
                show_sum=any(t.amount_field for t in types),
                order=500 + declared.order,
                plugin="",
            )
        )
    return sorted(result, key=lambda s: (s.order, s.label))


def _scope(company_id: int | None, contact_id: int | None) -> ColumnElement[bool]:
    # Documents carry their contact's company, so a company's scope includes its contacts' documents.
    if contact_id is not None:
        return Document.contact_id == contact_id
    if company_id is not None:
        return Document.company_id == company_id
    raise ValueError("an overview needs a company or a contact")


def _int(value: Any, default: int = 1) -> int:
    try:
        return max(1, min(int(value), 100_000))
    except (TypeError, ValueError):
        return default


def _base_conditions(
    viewer: acl.Viewer, company_id: int | None, contact_id: int | None, mine: bool, type_keys: Iterable[str]
) -> list[ColumnElement[bool]]:
    base: list[ColumnElement[bool]] = [
        _scope(company_id, contact_id),
        Document.type_key.in_(tuple(type_keys)),
        Document.archived_at.is_(None),
        acl.readable_clause(viewer),
    ]
    if mine:
        base.append(or_(Document.author_id == viewer.user_id, Document.responsible_id == viewer.user_id))
    return base


def _grouped_counts(session: Session, base: list[ColumnElement[bool]]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """Counts and sums per (type, status): one scan of the scope through the ACL for all sections."""
    stmt = select(Document.type_key, Document.status, func.count(), func.sum(Document.amount)).where(*base)
    result: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for type_key, status, count, amount in session.execute(stmt.group_by(Document.type_key, Document.status)):
        result[(type_key, status or "")] = (int(count), Decimal(amount if amount is not None else 0))
    return result


@dataclass(frozen=True)
class _Memo:
    """One request's view of the overview cache: the key prefix holds every input of the result."""

    cache: OverviewCache
    key: tuple[Any, ...]

    @classmethod
    def open(cls, ka: Kundenakte, session: Session, viewer: acl.Viewer, company_id: int | None,
             contact_id: int | None, mine: bool, cache: OverviewCache | None) -> _Memo | None:
        if cache is None:
            return None
        scope = scope_key(company_id, contact_id)
        key = (scope, *scope_versions(session, scope), viewer.user_id, viewer.sees_all, viewer.principals, mine,
               ka.disabled_plugins(session))
        return cls(cache, key)


def _page_rows_key(section: OverviewSection, statuses: tuple[str, ...] | None, page: int) -> tuple[Any, ...]:
    return ("rows", section.key, section.type_keys, statuses, page)


def _still_readable(session: Session, viewer: acl.Viewer, rows: list[OverviewRow]) -> bool:
    """Whether every remembered row still passes the ACL (and is not archived): one id-only query."""
    if not rows:
        return True
    ids = [r.id for r in rows]
    found = session.connection().execute(_readable_ids_statement(viewer), {"ids": ids}).scalars().all()
    return len(set(found)) == len(set(ids))


@lru_cache(maxsize=256)
def _readable_ids_statement(viewer: acl.Viewer) -> Select[Any]:
    # One statement per viewer, ids bound at execution: building the ACL clause and a 100-value
    # IN list on every hit cost twice the query itself. The rule is still acl.readable_clause.
    return select(Document.id).where(
        Document.id.in_(bindparam("ids", expanding=True)), Document.archived_at.is_(None), acl.readable_clause(viewer)
    )


def build_section(
    ka: Kundenakte,
    session: Session,
    viewer: acl.Viewer,
    section: OverviewSection,
    *,
    company_id: int | None = None,
    contact_id: int | None = None,
    mine: bool = False,
    filter_value: str | None = None,
    page: Any = 1,
    grouped: Mapping[tuple[str, str], tuple[int, Decimal]] | None = None,
    cache: OverviewCache | None = None,
    _memo: _Memo | None = None,
    _rows: list[OverviewRow] | None = None,
) -> SectionView:
    """Counts for every filter value and the requested page of the active filter, ACL-filtered.

    With ``cache``, counts and the page's rows are reused while nothing they depend on changed; the
    rows' ids pass the ACL query again before they are shown.
    """
    def base() -> list[ColumnElement[bool]]:  # built only when a query runs: a hit needs none
        return _base_conditions(viewer, company_id, contact_id, mine, section.type_keys)

    memo = _memo or _Memo.open(ka, session, viewer, company_id, contact_id, mine, cache)
    if grouped is None:
        if memo is not None:
            grouped = memo.cache.get_or_compute(("section", section.key, section.type_keys, *memo.key),
                                                lambda: _grouped_counts(session, base()))
        else:
            grouped = _grouped_counts(session, base())
    per_status: dict[str, tuple[int, Decimal]] = {}
    for (type_key, status), (count, amount) in grouped.items():
        if type_key in section.type_keys:
            old_count, old_amount = per_status.get(status, (0, Decimal(0)))
            per_status[status] = (old_count + count, old_amount + (amount if section.show_sum else Decimal(0)))
    counts: dict[str, int] = {}
    sums: dict[str, Decimal] = {}
    for flt in section.filters:
        chosen = per_status.items() if flt.statuses is None else [(s, per_status[s]) for s in flt.statuses if s in per_status]
        counts[flt.value] = sum(c for _s, (c, _a) in chosen)
        sums[flt.value] = sum((a for _s, (_c, a) in chosen), Decimal(0))
    values = [f.value for f in section.filters]
    active = filter_value if filter_value in values else section.default_filter
    active_filter = next(f for f in section.filters if f.value == active)
    total = counts[active]
    pages = max(1, math.ceil(total / PER_PAGE))
    current = min(_int(page), pages)
    rows: list[OverviewRow] = list(_rows or []) if total else []
    rows_key = (*_page_rows_key(section, active_filter.statuses, current), *memo.key) if memo is not None else None
    remembered = memo.cache.get(rows_key) if memo is not None and not rows else None
    if total and remembered and _still_readable(session, viewer, remembered):
        rows = list(remembered)
    if total and not rows:
        stmt = _row_select(*base())
        if active_filter.statuses is not None:
            stmt = stmt.where(Document.status.in_(active_filter.statuses))
        stmt = stmt.order_by(Document.document_date.desc(), Document.id.desc()).limit(PER_PAGE).offset((current - 1) * PER_PAGE)
        # Walk the scope newest first and stop after one page, instead of sorting every match:
        # without statistics SQLite would pick the (scope, type) index and sort in a temp b-tree.
        index = "ix_documents_contact_date" if contact_id is not None else "ix_documents_company_date"
        stmt = stmt.with_hint(Document, f"INDEXED BY {index}", "sqlite")
        rows = [_to_row(r) for r in session.connection().execute(stmt)]
        if memo is not None:
            memo.cache.put(rows_key, tuple(rows))
    types = {k: t for k in section.type_keys if (t := ka.types.get(k)) is not None}
    figures: tuple[Any, ...] = ()
    if section.figures is not None and per_status:
        # Not cached: a plugin's figure may depend on its own rows (payments) that bump no scope version.
        figures = tuple(section.figures(ka, session, select(Document.id).where(*base())))
    return SectionView(section=section, active=active, counts=counts, sums=sums, rows=rows, total=total,
                       page=current, pages=pages, types=types, overall=sum(c for c, _a in per_status.values()),
                       figures=figures)


def build_overview(
    ka: Kundenakte,
    session: Session,
    viewer: acl.Viewer,
    *,
    company_id: int | None = None,
    contact_id: int | None = None,
    mine: bool = False,
    filters: Mapping[str, str] | None = None,
    page: Mapping[str, Any] | None = None,
    cache: OverviewCache | None = None,
) -> list[SectionView]:
    """Every section of a company's or contact's overview, in order.

    With ``cache``, counts and page rows are reused while the scope's and the names' versions, the
    viewer's rights, "nur meine" and the enabled plugins are unchanged (see core/overview_cache.py).
    """
    filters = filters or {}
    page = page or {}
    sections = sections_for(ka, session)
    all_types = tuple(sorted({k for section in sections for k in section.type_keys}))
    memo = _Memo.open(ka, session, viewer, company_id, contact_id, mine, cache)

    def grouped_counts() -> dict[tuple[str, str], tuple[int, Decimal]]:
        if not all_types:
            return {}
        return _grouped_counts(session, _base_conditions(viewer, company_id, contact_id, mine, all_types))

    grouped = memo.cache.get_or_compute(("all", all_types, *memo.key), grouped_counts) if memo else grouped_counts()
    # The pages of every section are remembered together, so a hit is checked with one query.
    pages_key = ("pages", tuple((s.key, filters.get(s.key), page.get(s.key, 1)) for s in sections), *memo.key) if memo else None
    remembered: dict[str, tuple[OverviewRow, ...]] | None = memo.cache.get(pages_key) if memo else None
    if remembered is not None and not _still_readable(session, viewer, [r for rows in remembered.values() for r in rows]):
        remembered = None
    views = [
        build_section(ka, session, viewer, section, company_id=company_id, contact_id=contact_id, mine=mine,
                      filter_value=filters.get(section.key), page=page.get(section.key, 1), grouped=grouped,
                      _rows=list(remembered.get(section.key, ())) if remembered is not None else None)
        for section in sections
    ]
    if memo is not None and remembered is None:
        memo.cache.put(pages_key, {v.key: tuple(v.rows) for v in views})
    return views


def find_section(ka: Kundenakte, session: Session, key: str) -> OverviewSection | None:
    return next((s for s in sections_for(ka, session) if s.key == key), None)
