"""Building vouchers for the sales tests through the real services."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Attachment, Company, Contact
from kundenakte.plugins.sales.service import save_lines
from kundenakte.plugins.sales.totals import LineItem


def item(pos: int, qty: str, price: str, vat: str, discount: str = "0", text: str = "Beratung", unit: str = "Std") -> LineItem:
    return LineItem(position=pos, article=f"ART-{pos}", description=f"{text} {pos}", quantity=Decimal(qty), unit=unit,
                    unit_price=Decimal(price), discount_percent=Decimal(discount), vat_rate=Decimal(vat))


STANDARD_LINES = [
    item(1, "3", "120.00", "19", text="Einrichtung Kundenakte"),
    item(2, "2.5", "95.50", "19", discount="10", text="Schulung vor Ort"),
    item(3, "4", "12.99", "7", unit="Stk", text="Handbuch gedruckt"),
]


def customer(ka: Any, *, street: str = "Lindenstraße 17") -> tuple[int, int]:
    with ka.db.write() as s:
        company = Company(name="DOCHOUSE GmbH", street=street, postal_code="88212", city="Ravensburg", email="info@dochouse.de")
        s.add(company)
        s.flush()
        contact = Contact(first_name="Jana", last_name="Berger", company_id=company.id, email="j.berger@dochouse.de")
        s.add(contact)
        s.flush()
        return company.id, contact.id


def voucher(ka: Any, viewer: Any, type_key: str, lines: list[LineItem] | None = None, *, company_id: int | None = None,
            contact_id: int | None = None, data: dict[str, Any] | None = None, title: str = "Kundenakte Einführung") -> int:
    with ka.db.write() as s:
        doc = create_document(ka, s, viewer, type_key, DocumentInput(
            title=title, document_date="2026-11-20", company_id=company_id, contact_id=contact_id, data=data or {}))
        # Through the plugin service: the lines, then the totals in the document's own save.
        save_lines(ka, s, viewer, doc.id, STANDARD_LINES if lines is None else lines, expected_version=None)
        return doc.id


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def attachment_bytes(ka: Any, att: Attachment) -> bytes:
    with ka.storage.open(att.sha256) as fh:
        return fh.read()
