"""Demo vouchers: lines for every demo voucher, a whole chain with a finished (finalised) invoice,
an open and an overdue invoice, and payments.

Everything goes through the services (``save_lines``, ``create_followup``, ``finalise_voucher``,
``record_payment``) as the demo users. An instance without company details gets the demo
company's in memory only (the printed vouchers need a sender); configured settings are kept.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from kundenakte.core import acl
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.formatting import round_money
from kundenakte.core.models import Company, Contact, Document, User
from kundenakte.plugins.sales.finalise import finalise_voucher
from kundenakte.plugins.sales.payments import record_payment
from kundenakte.plugins.sales.service import create_followup, load_lines, save_lines
from kundenakte.plugins.sales.settings import PLUGIN
from kundenakte.plugins.sales.totals import LineItem
from kundenakte.plugins.sales.types import LINE_TYPES

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

DEMO_COMPANY = {
    "company_name": "Kundenakte Demo GmbH", "company_street": "Marienplatz 1", "company_postcode": "80331",
    "company_city": "München", "company_phone": "089 9999990", "company_email": "buchhaltung@kundenakte.example",
    "company_website": "www.kundenakte.example", "register_court": "Amtsgericht München", "register_number": "HRB 999999",
    "managing_directors": "Lea Müller", "vat_id": "DE999999999", "bank_name": "Demobank München",
    "iban": "DE02120300000000202051", "bic": "BYLADEM1001",
}

CATALOGUE = (
    ("KA-LIZ", "Kundenakte Lizenz (je Arbeitsplatz, 12 Monate)", "Stk", "240.00", "19"),
    ("KA-EIN", "Einrichtung und Datenübernahme", "Std", "95.00", "19"),
    ("KA-SCH", "Schulung vor Ort", "Tag", "980.00", "19"),
    ("KA-SUP", "Supportpaket Premium", "pauschal", "1490.00", "19"),
    ("BUCH-01", "Handbuch „Digitale Kundenakte“ (gedruckt)", "Stk", "24.90", "7"),
    ("KA-ANP", "Anpassung Vorlagen und Dokumenttypen", "Std", "110.00", "19"),
)


def _lines(rnd: random.Random, count: int) -> list[LineItem]:
    picked = rnd.sample(CATALOGUE, count)
    return [LineItem(position=i, article=a, description=d, quantity=Decimal(rnd.choice(["1", "2", "3", "5", "1.5", "10"])),
                     unit=u, unit_price=Decimal(p), discount_percent=Decimal(rnd.choice(["0", "0", "0", "5", "10"])),
                     vat_rate=Decimal(v))
            for i, (a, d, u, p, v) in enumerate(picked, start=1)]


def _ensure_company_details(ka: Kundenakte) -> None:
    namespace = ka.plugin_settings(PLUGIN)
    if not str(getattr(namespace, "company_name", "") or "").strip():
        for key, value in DEMO_COMPANY.items():
            setattr(namespace, key, value)


def load_demo_vouchers(ka: Kundenakte, seed: int = 15) -> int:
    """Give every line-less demo voucher lines and add the showcase chain; returns vouchers touched."""
    _ensure_company_details(ka)
    rnd = random.Random(seed)
    touched = 0
    with ka.db.read() as s:
        ids = list(s.scalars(select(Document.id).where(Document.type_key.in_(LINE_TYPES), Document.archived_at.is_(None))
                             .order_by(Document.id)))
    for doc_id in ids:
        with ka.db.write() as s:
            doc = s.get(Document, doc_id)
            if doc is None or load_lines(s, doc_id) or (doc.data or {}).get("_locked"):
                continue
            author = s.get(User, doc.author_id) if doc.author_id else None
            if author is None:
                continue
            save_lines(ka, s, acl.viewer_for(s, author), doc_id, _lines(rnd, rnd.randint(1, 4)), expected_version=None)
            touched += 1
    touched += _showcase(ka, rnd)
    return touched


def _showcase(ka: Kundenakte, rnd: random.Random) -> int:
    today = ka.clock.today()
    with ka.db.write() as s:
        lea = s.scalar(select(User).where(User.login == "lea.mueller"))
        contact = s.scalar(select(Contact).join(Company).where(Company.name == "DOCHOUSE GmbH").order_by(Contact.id))
        if lea is None or contact is None:
            return 0
        viewer = acl.viewer_for(s, lea)
        quote = create_document(ka, s, viewer, "quote", DocumentInput(
            title="Einführung Kundenakte bei DOCHOUSE", contact_id=contact.id, document_date=(today - dt.timedelta(days=30)).isoformat(),
            data={"valid_until": (today - dt.timedelta(days=2)).isoformat(), "reference": "Anfrage vom Messestand"}, readers=["*"]))
        quote_id = quote.id
    with ka.db.write() as s:
        save_lines(ka, s, viewer, quote_id, [
            LineItem(1, "KA-LIZ", CATALOGUE[0][1], Decimal(12), "Stk", Decimal("240.00"), Decimal(10), Decimal(19)),
            LineItem(2, "KA-EIN", CATALOGUE[1][1], Decimal(16), "Std", Decimal("95.00"), Decimal(0), Decimal(19)),
            LineItem(3, "KA-SCH", CATALOGUE[2][1], Decimal(2), "Tag", Decimal("980.00"), Decimal(0), Decimal(19)),
            LineItem(4, "BUCH-01", CATALOGUE[4][1], Decimal(12), "Stk", Decimal("24.90"), Decimal(0), Decimal(7)),
        ], expected_version=None)
    with ka.db.write() as s:
        order = create_followup(ka, s, viewer, quote_id, "order_confirmation")
        delivery = create_followup(ka, s, viewer, order.id, "delivery_note")
        invoice = create_followup(ka, s, viewer, delivery.id, "invoice")
        invoice_id = invoice.id
    with ka.db.write() as s:
        finalise_voucher(ka, s, viewer, invoice_id)  # PDF with ZUGFeRD, read-only from now on
    made = 4
    # an open invoice (due in the future) and an overdue one, both finalised; a part payment on the overdue one
    # The part payment is a share of the invoice's total (its random lines decide the amount).
    for title, age, paid in (("Supportpaket 2027", 3, None), ("Anpassung Vorlagen", 45, Decimal("0.4"))):
        with ka.db.write() as s:
            doc = create_document(ka, s, viewer, "invoice", DocumentInput(
                title=title, contact_id=contact.id, document_date=(today - dt.timedelta(days=age)).isoformat(),
                data={"payment_days": 14, "service_date": (today - dt.timedelta(days=age + 2)).isoformat()}, readers=["*"]))
            doc_id = doc.id
        with ka.db.write() as s:
            save_lines(ka, s, viewer, doc_id, _lines(rnd, 2), expected_version=None)
        with ka.db.write() as s:
            finalise_voucher(ka, s, viewer, doc_id)
            if paid is not None:
                gross = Decimal(s.get(Document, doc_id).amount or 0)  # type: ignore[union-attr]
                record_payment(ka, s, viewer, doc_id, paid_on=today - dt.timedelta(days=10), amount=round_money(gross * paid))
        made += 1
    return made
