"""Payments received for invoices and the payment status computed from them and the due date.

Status (``payment_state``): *bezahlt* when the payments cover the gross total, *überfällig* when
money is still open after the due date, *teilweise bezahlt* when something but not all was paid,
else *offen*. A credit note (negative total) is settled the same way with its amount's absolute value.
Payments live in their own table, so recording one never changes a finalised invoice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kundenakte.core import acl, audit
from kundenakte.core.contributions import OverviewFigure
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import load_for_write
from kundenakte.core.formatting import round_money
from kundenakte.core.models import Document
from kundenakte.plugins.sales.models import PaymentRow
from kundenakte.plugins.sales.types import INVOICE_TYPES

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

STATUS_LABELS = {"open": "offen", "partial": "teilweise bezahlt", "paid": "bezahlt", "overdue": "überfällig"}
STATUS_LABELS_EN = {"open": "open", "partial": "partly paid", "paid": "paid", "overdue": "overdue"}


@dataclass(frozen=True)
class PaymentState:
    status: str
    gross: Decimal
    paid: Decimal
    open: Decimal
    due_date: dt.date | None
    last_paid_on: dt.date | None

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def paid_amounts(session: Session, document_ids: list[int]) -> dict[int, Decimal]:
    if not document_ids:
        return {}
    rows = session.execute(
        select(PaymentRow.document_id, func.sum(PaymentRow.amount)).where(PaymentRow.document_id.in_(document_ids))
        .group_by(PaymentRow.document_id)
    )
    return {doc_id: Decimal(total or 0) for doc_id, total in rows}


def compute_state(gross: Decimal, paid: Decimal, due_date: dt.date | None, today: dt.date,
                  last_paid_on: dt.date | None = None) -> PaymentState:
    owed = abs(gross)
    open_amount = round_money(max(owed - paid, Decimal(0)))
    if owed > 0 and open_amount == 0:
        status = "paid"
    elif due_date is not None and today > due_date:
        status = "overdue"
    elif paid > 0:
        status = "partial"
    else:
        status = "open"
    return PaymentState(status, round_money(gross), round_money(paid), open_amount, due_date, last_paid_on)


def _due(document: Document) -> dt.date | None:
    raw = (document.data or {}).get("due_date")
    return dt.date.fromisoformat(raw) if raw else None


def payment_state(session: Session, document: Document, today: dt.date) -> PaymentState:
    paid = paid_amounts(session, [document.id]).get(document.id, Decimal(0))
    last = session.scalar(select(func.max(PaymentRow.paid_on)).where(PaymentRow.document_id == document.id))
    return compute_state(Decimal(document.amount or 0), paid, _due(document), today, last)


def record_payment(ka: Kundenakte, session: Session, viewer: acl.Viewer, document_id: int, *, paid_on: dt.date,
                   amount: Decimal | None = None) -> PaymentRow:
    """Book a payment ("bezahlt am"); without ``amount`` the whole open amount. The caller commits.

    Allowed on a finalised invoice too: the payment is a booking of its own, the invoice stays as sent.
    """
    doc = load_for_write(session, viewer, document_id, check_read_only=False)
    if doc.type_key not in INVOICE_TYPES:
        raise ValidationError({"amount": "Zahlungen gibt es nur zu Rechnungen und Gutschriften."})
    if doc.archived_at is not None:
        raise ValidationError({"amount": "Das Dokument ist archiviert."})
    state = payment_state(session, doc, ka.clock.today())
    value = state.open if amount is None else amount
    errors: dict[str, str] = {}
    if value <= 0:
        errors["amount"] = "Bitte einen Betrag größer als 0 angeben." if amount is not None else "Die Rechnung ist bereits bezahlt."
    elif value.as_tuple().exponent < -2:  # type: ignore[operator]
        errors["amount"] = "Beträge haben höchstens zwei Nachkommastellen."
    elif value > state.open:
        errors["amount"] = "Der Betrag ist höher als der offene Betrag."
    if paid_on > ka.clock.today():
        errors["paid_on"] = "Das Zahlungsdatum darf nicht in der Zukunft liegen."
    if errors:
        raise ValidationError(errors)
    row = PaymentRow(document_id=doc.id, paid_on=paid_on, amount=value, user_id=viewer.user_id, created_at=ka.clock.now())
    session.add(row)
    session.flush()
    audit.record(session, viewer.user_id, "payment_recorded", "document", doc.id, amount=str(value), paid_on=paid_on.isoformat())
    return row


def receivables_figures(ka: Kundenakte, session: Session, readable_ids: Any) -> list[OverviewFigure]:
    """"Offene Posten" and "davon überfällig" for an overview section of invoices and credit notes.

    Over the invoices the viewer may read in the scope (``readable_ids``, the core's ACL-filtered
    SELECT): each invoice's gross, less its payments, less the gross of the readable credit notes that
    correct it (``parent_id``); what remains above zero is open, and overdue once its due date passed.
    """
    invoices = list(session.execute(select(Document.id, Document.amount, Document.data).where(
        Document.id.in_(readable_ids), Document.type_key == "invoice")))
    if not invoices:
        return [OverviewFigure("Offene Posten (brutto)", Decimal(0), "Open receivables (gross)")]
    ids = [i for i, _a, _d in invoices]
    paid = paid_amounts(session, ids)
    credited: dict[int, Decimal] = {}
    for parent_id, amount in session.execute(select(Document.parent_id, Document.amount).where(
            Document.id.in_(readable_ids), Document.type_key == "credit_note", Document.parent_id.in_(ids))):
        if parent_id is not None:
            credited[parent_id] = credited.get(parent_id, Decimal(0)) + abs(Decimal(amount or 0))
    today = ka.clock.today()
    open_total = overdue = Decimal(0)
    for ident, amount, data in invoices:
        rest = round_money(Decimal(amount or 0) - paid.get(ident, Decimal(0)) - credited.get(ident, Decimal(0)))
        if rest <= 0:
            continue
        open_total += rest
        due = (data or {}).get("due_date")
        if due and dt.date.fromisoformat(str(due)) < today:
            overdue += rest
    return [OverviewFigure("Offene Posten (brutto)", open_total, "Open receivables (gross)"),
            OverviewFigure("davon überfällig", overdue, "of which overdue")]
