"""Voucher numbers, lines, totals and follow-ups, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import DocumentInput, NotFound, create_document, get_readable, set_document_state
from kundenakte.core.models import Document
from kundenakte.plugins.sales.chain import check_followup, copy_lines_for_followup
from kundenakte.plugins.sales.models import LineItemRow, NumberFormat, NumberSequence
from kundenakte.plugins.sales.numbering import DEFAULT_PATTERN, DEFAULT_PREFIXES, VOUCHER_TYPES, format_voucher_number, scope_year
from kundenakte.plugins.sales.totals import LineItem, Totals, compute_totals

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte


def allocate_number(session: Session, type_key: str, year: int) -> str:
    """Next number of a type: unique and gap-free because it is taken in the document's transaction.

    SQLite writers hold the database lock from BEGIN IMMEDIATE; PostgreSQL writers lock the
    sequence row (SELECT … FOR UPDATE), so a second writer waits and then sees the new value.
    A rolled-back transaction takes its increment with it, which is what keeps the numbers gap-free.
    """
    fmt = session.get(NumberFormat, type_key)
    pattern = fmt.pattern if fmt else DEFAULT_PATTERN
    prefix = fmt.prefix if fmt else DEFAULT_PREFIXES.get(type_key, type_key[:2].upper())
    scope = scope_year(pattern, year)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        session.execute(
            insert(NumberSequence).values(type_key=type_key, year=scope, last_value=0).on_conflict_do_nothing()
        )
        row = session.scalar(
            select(NumberSequence).where(NumberSequence.type_key == type_key, NumberSequence.year == scope).with_for_update()
        )
    else:
        row = session.get(NumberSequence, (type_key, scope))
        if row is None:
            row = NumberSequence(type_key=type_key, year=scope, last_value=0)
            session.add(row)
    assert row is not None
    row.last_value = row.last_value + 1
    session.flush()
    return format_voucher_number(pattern, prefix=prefix, year=year, counter=row.last_value)


def load_lines(session: Session, document_id: int) -> list[LineItem]:
    rows = session.scalars(select(LineItemRow).where(LineItemRow.document_id == document_id).order_by(LineItemRow.position, LineItemRow.id))
    return [
        LineItem(position=r.position, article=r.article, description=r.description, quantity=Decimal(r.quantity),
                 unit=r.unit, unit_price=Decimal(r.unit_price), discount_percent=Decimal(r.discount_percent),
                 vat_rate=Decimal(r.vat_rate))
        for r in rows
    ]


def totals_data(totals: Totals) -> dict[str, Any]:
    """The document data keys a voucher's totals live in (``gross`` is mirrored into ``amount``)."""
    return {"net": str(totals.net), "vat": str(totals.vat_total), "gross": str(totals.gross),
            "vat_by_rate": {str(rate): [str(base), str(tax)] for rate, (base, tax) in totals.vat_by_rate.items()}}


def store_totals(document: Document, totals: Totals) -> None:
    """Inside the core's save only (``prepare_document``): the totals into the document being saved."""
    document.data = dict(document.data or {}) | totals_data(totals)
    document.amount = totals.gross


def replace_lines(session: Session, document: Document, items: Sequence[LineItem]) -> Totals:
    """Replace the line rows (the plugin's own table); the document's totals follow through the core."""
    session.execute(delete(LineItemRow).where(LineItemRow.document_id == document.id), execution_options={"synchronize_session": False})
    for i, item in enumerate(items, start=1):
        session.add(LineItemRow(
            document_id=document.id, position=item.position or i, article=item.article, description=item.description,
            quantity=item.quantity, unit=item.unit, unit_price=item.unit_price,
            discount_percent=item.discount_percent, vat_rate=item.vat_rate,
        ))
    return compute_totals(items)


def save_lines(ka: Kundenakte, session: Session, viewer: acl.Viewer, document_id: int, items: Sequence[LineItem], *,
               expected_version: int | None) -> Totals:
    """Replace a voucher's lines (editor rights required) and recompute its totals."""
    from kundenakte.core.documents import Conflict, Forbidden, update_document

    doc = get_readable(session, viewer, document_id)
    if not acl.can_edit(session, viewer, document_id):
        raise Forbidden()
    if expected_version is not None and doc.version != expected_version:
        raise Conflict(doc.version)
    replace_lines(session, doc, items)
    session.flush()
    # The save recomputes the totals from the new lines (on_prepare) in the document's one update.
    update_document(ka, session, viewer, document_id, DocumentInput.from_mapping({}), expected_version=expected_version)
    return compute_totals(items)


def create_followup(ka: Kundenakte, session: Session, viewer: acl.Viewer, source_id: int, target_type: str) -> Document:
    """A follow-up voucher with the source's lines, linked through ``parent_id``.

    NotFound for a source the viewer may not read; ValidationError (German) for a source that is
    no voucher, an unknown target type or a follow-up the chain does not allow.
    """
    source = get_readable(session, viewer, source_id)
    if target_type not in VOUCHER_TYPES:
        raise ValidationError({"type_key": "Unbekannter Belegtyp: Einen solchen Folgebeleg gibt es nicht."})
    if source.type_key not in VOUCHER_TYPES:
        source_type = ka.types.get(source.type_key)
        label = source_type.label if source_type is not None else source.type_key
        raise ValidationError({"type_key": f"Aus einem Dokument vom Typ „{label}“ kann kein Folgebeleg erstellt "
                                           "werden; Folgebelege gibt es nur zu Belegen."})
    problem = check_followup(source.type_key, target_type)
    if problem:
        raise ValidationError({"type_key": problem})
    if target_type not in ka.types:
        raise NotFound()
    target_label = ka.types.get(target_type).label  # type: ignore[union-attr]
    doc = create_document(ka, session, viewer, target_type, DocumentInput(
        title=f"{target_label} zu {source.title}"[:300],
        company_id=source.company_id, contact_id=source.contact_id, parent_id=source.id,
        content=source.content,
        readers=[e.principal for e in source.acl if e.role == "read"],
        editors=[e.principal for e in source.acl if e.role == "edit"],
        folder_ids=None,
    ))
    items = copy_lines_for_followup(load_lines(session, source.id), target_type, source_type=source.type_key)
    totals = replace_lines(session, doc, items)
    # The new voucher's "created" entry is written; its totals are a state change, not a user edit.
    set_document_state(ka, session, doc, data_changes=totals_data(totals), by=viewer.user_id, audit_action=None)
    return doc


def on_prepare(ka: Kundenakte, session: Session, document: Document, created: bool) -> None:
    from kundenakte.plugins.sales.types import LINE_TYPES, VOUCHER_KEYS

    if document.type_key not in VOUCHER_KEYS:
        return
    data: dict[str, Any] = dict(document.data or {})
    if created and not data.get("number"):
        year = (document.document_date or ka.clock.today()).year
        data["number"] = allocate_number(session, document.type_key, year)
        document.data = data
    if document.type_key in LINE_TYPES and document.id is not None:
        store_totals(document, compute_totals(load_lines(session, document.id)))
    elif document.type_key in LINE_TYPES:
        store_totals(document, compute_totals([]))
