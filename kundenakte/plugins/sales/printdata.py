"""What a printed voucher and its e-invoice say, gathered once from the stored voucher.

The PDF (``pdf``) and the e-invoice XML (``einvoice``) are both made from one ``VoucherPrint``,
so the printed totals and the XML totals cannot differ: both are the stored lines run through
``totals.compute_totals`` (per-line rounding, VAT per rate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kundenakte.core.models import Company, Contact, Document, PostalAddress
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
    extra: str = ""  # Adresszusatz (c/o, Gebäude): above the street, as DIN 5008 places it
    # Which stored address this is (``letter_address``): "company", "own" or "" (none stored).
    source: str = ""
    kind: str = ""  # the address entry's kind (work, home, other)
    source_name: str = ""  # whose address: the company's or the contact's name

    @property
    def country_code(self) -> str | None:
        return country_code(self.country)

    @property
    def address_lines(self) -> list[str]:
        lines = [self.name]
        if self.contact and self.contact != self.name:
            lines.append(self.contact)
        lines += [self.extra, self.street, f"{self.postcode} {self.city}".strip()]
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


def _preferred(addresses: Sequence[PostalAddress]) -> PostalAddress | None:
    return next((a for a in addresses if a.preferred), addresses[0] if addresses else None)


def _address_of(owner: Contact | Company) -> dict[str, str] | None:
    """The owner's address for letters: its preferred entry, else its (copied) columns, else None."""
    chosen = _preferred(owner.addresses)
    if chosen is not None:
        return {"street": chosen.street, "extra": chosen.extra, "postcode": chosen.postal_code, "city": chosen.city,
                "country": chosen.country, "kind": chosen.kind}
    if any((owner.street, owner.postal_code, owner.city)):
        return {"street": owner.street, "extra": "", "postcode": owner.postal_code, "city": owner.city,
                "country": owner.country, "kind": "work"}
    return None


def letter_address(contact: Contact | None, company: Company | None) -> Party:
    """The address block of a voucher for this contact and company, saying which address it is.

    A contact that uses its company's address gets the company's (preferred) address; otherwise its
    own preferred address; a contact without one falls back to the company's. With a company the
    block names the company and the contact below it.
    """
    if contact is not None and company is None:
        company = contact.company
    chosen: dict[str, str] | None = None
    source, source_name = "", ""
    if contact is not None and not (contact.use_company_address and company is not None):
        chosen = _address_of(contact)
        source, source_name = ("own", contact.full_name) if chosen else ("", "")
    if chosen is None and company is not None:
        chosen = _address_of(company)
        source, source_name = ("company", company.name) if chosen else ("", "")
    address = chosen or {"street": "", "extra": "", "postcode": "", "city": "", "country": "", "kind": ""}
    if company is not None:
        return Party(name=company.name, contact=contact.full_name if contact else "", street=address["street"],
                     extra=address["extra"], postcode=address["postcode"], city=address["city"],
                     country=address["country"] or company.country, email=(contact.email if contact else "") or company.email,
                     source=source, kind=address["kind"], source_name=source_name, vat_id=company.vat_id or "")
    if contact is not None:
        return Party(name=contact.full_name, street=address["street"], extra=address["extra"], postcode=address["postcode"],
                     city=address["city"], country=address["country"], email=contact.email, source=source,
                     kind=address["kind"], source_name=source_name)
    return Party(name="")


def _buyer(document: Document) -> Party:
    return letter_address(document.contact, document.company)


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
