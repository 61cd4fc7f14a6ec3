"""Contact export to vCard 3.0/4.0 or CSV (our own headers, formula injection neutralised).

Contacts are read in pages of ``PAGE`` rows with their company and account managers, so an export
of many thousands of contacts does not hold them all as ORM objects at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kundenakte.core.exchange import ContactRecord
from kundenakte.core.exchange.csvio import write_csv
from kundenakte.core.exchange.vcard import dump_vcards
from kundenakte.core.models import Company, Contact

PAGE = 1000


def record_from_contact(contact: Contact) -> ContactRecord:
    company = contact.company
    rec = ContactRecord(
        last_name=contact.last_name or "",
        first_name=contact.first_name or "",
        title=contact.title or "",
        gender=contact.gender or "unknown",
        salutation_override=contact.salutation_override or "",
        language=contact.language or "",
        position=contact.position or "",
        email=contact.email or "",
        phone=contact.phone or "",
        use_company_address=bool(contact.use_company_address),
        street=contact.street or "",
        postal_code=contact.postal_code or "",
        city=contact.city or "",
        country=contact.country or "",
        account_manager=contact.account_manager.login if contact.account_manager else "",
        source=f"Kontakt #{contact.id}",
    )
    if company is not None:
        rec.company_name = company.name or ""
        rec.company_street = company.street or ""
        rec.company_postal_code = company.postal_code or ""
        rec.company_city = company.city or ""
        rec.company_country = company.country or ""
        rec.company_phone = company.phone or ""
        rec.company_email = company.email or ""
        rec.company_web = company.web or ""
        rec.company_account_manager = company.account_manager.login if company.account_manager else ""
    return rec


def iter_records(session: Session, ids: list[int] | None = None) -> Iterator[ContactRecord]:
    """Every contact (or those with ``ids``) as a record, by id."""
    last = 0
    while True:
        stmt = (
            select(Contact)
            .where(Contact.id > last)
            .order_by(Contact.id)
            .limit(PAGE)
            .options(
                selectinload(Contact.company).selectinload(Company.account_manager),
                selectinload(Contact.account_manager),
            )
        )
        if ids is not None:
            stmt = stmt.where(Contact.id.in_(ids))
        page = list(session.scalars(stmt))
        if not page:
            return
        for contact in page:
            yield record_from_contact(contact)
        last = page[-1].id
        session.expunge_all()


def export_contacts(ka: Any, path: str | Path, *, fmt: str = "vcard", version: str = "4.0",
                    ids: list[int] | None = None) -> int:
    """Write the contacts to ``path``; returns how many. ``fmt`` is "vcard" or "csv".

    vCard: UTF-8 without BOM, CRLF. CSV: UTF-8 with BOM, ``;``, CRLF (what German Excel opens).
    """
    if fmt not in ("vcard", "csv"):
        raise ValueError(f"Unbekanntes Format: {fmt}")
    if fmt == "vcard" and version not in ("3.0", "4.0"):
        raise ValueError(f"vCard-Version {version} wird nicht unterstützt (3.0 oder 4.0)")
    path = Path(path)
    with ka.db.read() as session:
        records = iter_records(session, ids)
        if fmt == "csv":
            with path.open("w", encoding="utf-8-sig", newline="") as out:
                return write_csv(records, out)
        n = 0
        with path.open("w", encoding="utf-8", newline="") as out:
            for card in dump_vcards(records, version):
                out.write(card)
                n += 1
        return n
