"""The company/contact overview ("Übersicht"): declared sections turned into filtered, counted pages.

Plugins declare sections (:class:`OverviewSection`); the core runs, per section, one grouped query
for the counts (and sums) of every filter value and one query for the page of the active filter.
Both go through :func:`acl.readable_clause`, so neither a row nor a count reveals a document the
viewer may not read. Types no declared section covers get a generic section per category, so the
page is complete before (or without) any plugin declaring one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from kundenakte.core import acl
from kundenakte.core.contributions import OverviewFilter, OverviewSection
from kundenakte.core.doctypes import CATEGORIES, DocumentType
from kundenakte.core.models import Document

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

PER_PAGE = 20
CATEGORY_ORDER = {key: 10 * (i + 1) for i, key in enumerate(("communication", "tasks", "contracts", "sales", "projects"))}
FALLBACK_PREFIX = "kategorie_"


@dataclass
class SectionView:
    """One section as the page shows it: counts per filter value, the active filter's page of rows."""

    section: OverviewSection
    active: str
    counts: dict[str, int]
    sums: dict[str, Decimal]
    rows: list[Document]
    total: int
    page: int
    pages: int
    overall: int = 0  # readable documents of the section whatever the filter
    per_page: int = PER_PAGE
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
    """Declared sections of enabled plugins (restricted to enabled types) plus generic fallbacks."""
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
    for category, types in by_category.items():
        de, en = CATEGORIES.get(category, (category.title(), category.title()))
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
                order=500 + CATEGORY_ORDER.get(category, 90),
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
) -> SectionView:
    """Counts for every filter value and the requested page of the active filter, ACL-filtered."""
    base = _base_conditions(viewer, company_id, contact_id, mine, section.type_keys)
    if grouped is None:
        grouped = _grouped_counts(session, base)
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
    rows: list[Document] = []
    if total:
        stmt = select(Document).where(*base)
        if active_filter.statuses is not None:
            stmt = stmt.where(Document.status.in_(active_filter.statuses))
        stmt = (
            stmt.options(selectinload(Document.contact), selectinload(Document.responsible))
            .order_by(Document.document_date.desc(), Document.id.desc())
            .limit(PER_PAGE)
            .offset((current - 1) * PER_PAGE)
        )
        # Walk the scope newest first and stop after one page, instead of sorting every match:
        # without statistics SQLite would pick the (scope, type) index and sort in a temp b-tree.
        index = "ix_documents_contact_date" if contact_id is not None else "ix_documents_company_date"
        stmt = stmt.with_hint(Document, f"INDEXED BY {index}", "sqlite")
        rows = list(session.scalars(stmt))
    types = {k: t for k in section.type_keys if (t := ka.types.get(k)) is not None}
    return SectionView(section=section, active=active, counts=counts, sums=sums, rows=rows, total=total,
                       page=current, pages=pages, types=types, overall=sum(c for c, _a in per_status.values()))


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
) -> list[SectionView]:
    """Every section of a company's or contact's overview, in order."""
    filters = filters or {}
    page = page or {}
    sections = sections_for(ka, session)
    all_types = {k for section in sections for k in section.type_keys}
    grouped = _grouped_counts(session, _base_conditions(viewer, company_id, contact_id, mine, all_types)) if all_types else {}
    return [
        build_section(ka, session, viewer, section, company_id=company_id, contact_id=contact_id, mine=mine,
                      filter_value=filters.get(section.key), page=page.get(section.key, 1), grouped=grouped)
        for section in sections
    ]


def find_section(ka: Kundenakte, session: Session, key: str) -> OverviewSection | None:
    return next((s for s in sections_for(ka, session) if s.key == key), None)
