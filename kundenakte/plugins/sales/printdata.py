"""What a printed voucher and its e-invoice say, gathered once from the stored voucher.

The PDF (``pdf``) and the e-invoice XML (``einvoice``) are both made from one ``VoucherPrint``,
so the printed totals and the XML totals cannot differ: both are the stored lines run through
``totals.compute_totals`` (per-line rounding, VAT per rate).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kundenakte.core.models import Contact, Document
from kundenakte.plugins.sales.numbering import VOUCHER_TYPES
from kundenakte.plugins.sales.service import load_lines
from kundenakte.plugins.sales.settings import CompanyDetails, company_details
from kundenakte.plugins.sales.totals import LineItem, Totals, compute_totals

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

# Country names people type into the address (the core stores free text) → ISO 3166-1 alpha-2.
COUNTRY_CODES = {
    "": "DE", "deutschland": "DE", "germany": "DE", "österreich": "AT", "austria": "AT", "schweiz": "CH",
    "switzerland": "CH", "frankreich": "FR", "france": "FR", "niederlande": "NL", "netherlands": "NL",
    "belgien": "BE", "luxemburg": "LU", "italien": "IT", "spanien": "ES", "polen": "PL", "dänemark": "DK",
    "tschechien": "CZ",
}


def country_code(name: str) -> str | None:
    text = (name or "").strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return COUNTRY_CODES.get(text.lower())


@dataclass(frozen=True)
class Party:
    name: str
    contact: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""  # as typed
    email: str = ""
    vat_id: str = ""  # the buyer's USt-IdNr. (the company's), "" when not known

    @property
    def country_code(self) -> str | None:
        return country_code(self.country)

    @property
    def address_lines(self) -> list[str]:
        lines = [self.name]
        if self.contact and self.contact != self.name:
            lines.append(self.contact)
        lines += [self.street, f"{self.postcode} {self.city}".strip()]
        if self.country_code not in (None, "DE"):
            lines.append(self.country.upper())
        return [line for line in lines if line]


@dataclass(frozen=True)
class VoucherPrint:
    type_key: str
    type_label: str
    number: str
    title: str
    date: dt.date
    seller: CompanyDetails
    buyer: Party
    lines: tuple[LineItem, ...]
    totals: Totals
    reference: str = ""
    leitweg_id: str = ""
    service_date: dt.date | None = None
    service_end: dt.date | None = None
    due_date: dt.date | None = None
    payment_days: int | None = None
    payment_terms: str = ""
    valid_until: dt.date | None = None
    invoice_number: str = ""
    invoice_date: dt.date | None = None
    contact_person: str = ""
    intro: str = ""
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def is_invoice(self) -> bool:
        return self.type_key in ("invoice", "credit_note")

    @property
    def shows_prices(self) -> bool:
        return self.type_key != "delivery_note"


def _date(raw: object) -> dt.date | None:
    if isinstance(raw, dt.date):
        return raw
    return dt.date.fromisoformat(str(raw)) if raw else None


def _buyer(document: Document) -> Party:
    company = document.company
    contact: Contact | None = document.contact
    if contact is not None and company is None:
        company = contact.company
    if company is not None:
        use_own = contact is not None and not contact.use_company_address and contact.street
        src = contact if use_own else company
        assert src is not None
        return Party(name=company.name, contact=contact.full_name if contact else "", street=src.street,
                     postcode=src.postal_code, city=src.city, country=src.country or company.country,
                     email=(contact.email if contact else "") or company.email, vat_id=company.vat_id or "")
    if contact is not None:
        return Party(name=contact.full_name, street=contact.street, postcode=contact.postal_code, city=contact.city,
                     country=contact.country, email=contact.email)
    return Party(name="")


def voucher_print(ka: Kundenakte, session: Session, document: Document) -> VoucherPrint:
    data = document.data or {}
    lines = tuple(load_lines(session, document.id))
    invoice_date = None
    if document.type_key == "credit_note" and document.parent_id is not None:
        parent = session.get(Document, document.parent_id)
        invoice_date = parent.document_date if parent is not None else None
    days = data.get("payment_days")
    return VoucherPrint(
        type_key=document.type_key,
        type_label=VOUCHER_TYPES.get(document.type_key, document.type_key),
        number=str(data.get("number") or ""),
        title=document.title,
        date=document.document_date or ka.clock.today(),
        seller=company_details(ka),
        buyer=_buyer(document),
        lines=lines,
        totals=compute_totals(lines),
        reference=str(data.get("reference") or ""),
        leitweg_id=str(data.get("leitweg_id") or "").strip(),
        service_date=_date(data.get("service_date")),
        service_end=_date(data.get("service_end")),
        due_date=_date(data.get("due_date")),
        payment_days=int(days) if days not in (None, "") else None,
        payment_terms=str(data.get("payment_terms") or ""),
        valid_until=_date(data.get("valid_until")),
        invoice_number=str(data.get("invoice_number") or ""),
        invoice_date=invoice_date,
        contact_person=document.responsible.display_name if document.responsible else "",
    )
