"""Contact export to vCard 3.0/4.0 or CSV in the layouts of Outlook (de/en) and Google Contacts.

vCard carries everything (our ``X-KUNDENAKTE-*`` extensions hold what vCard has no property for),
so a vCard export imports back without loss. A CSV layout holds what the target program holds;
what a contact has beyond that is named per contact in ``lost`` (the CLI and the web page show it).

Contacts are read in pages of ``PAGE`` rows with their company and account managers, so an export
of many thousands of contacts does not hold them all as ORM objects at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kundenakte.core.exchange import Address, ContactRecord, Point
from kundenakte.core.exchange.csvio import LAYOUTS, google_counts, write_csv
from kundenakte.core.exchange.vcard import dump_vcards
from kundenakte.core.models import Company, Contact
from kundenakte.core.services.points import points_of

PAGE = 1000
ENCODINGS = {"outlook-de": "cp1252", "outlook-en": "cp1252", "google": "utf-8", "kundenakte": "utf-8-sig"}


def _lists(row: Contact) -> dict[str, list[Any]]:
    """The contact's e-mails, phones, websites (as points) and own addresses, in their stored order."""
    found = points_of(row)
    out: dict[str, list[Any]] = {key: [Point(p["value"], p["kind"], bool(p["preferred"])) for p in found[key]]
                                 for key in ("emails", "phones", "websites")}
    out["addresses"] = [Address(a["kind"], a["street"], a["extra"], a["postal_code"], a["city"], a["country"],
                                bool(a["preferred"])) for a in found["addresses"]]
    return out


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
        use_company_address=bool(contact.use_company_address),
        account_manager=contact.account_manager.login if contact.account_manager else "",
        birthday=contact.birthday,
        nickname=contact.nickname or "",
        department=contact.department or "",
        notes=contact.notes or "",
        source=f"Kontakt #{contact.id}",
    )
    lists = _lists(contact)
    rec.emails, rec.phones, rec.websites = lists["emails"], lists["phones"], lists["websites"]
    rec.addresses = lists["addresses"]
    rec.sync()
    if company is not None:
        rec.company_name = company.name or ""
        address = next((a for a in company.addresses if a.preferred), company.addresses[0] if company.addresses else None)
        if address is not None:  # the preferred address with its Adresszusatz (the columns lack it)
            rec.company_street = "\n".join(x for x in (address.street, address.extra) if x)
            rec.company_postal_code, rec.company_city = address.postal_code, address.city
            rec.company_country = address.country
        else:
            rec.company_street, rec.company_postal_code = company.street or "", company.postal_code or ""
            rec.company_city, rec.company_country = company.city or "", company.country or ""
        rec.company_phone = company.phone or ""
        rec.company_email = company.email or ""
        rec.company_web = company.web or ""
        rec.company_account_manager = company.account_manager.login if company.account_manager else ""
        rec.company_vat_id = company.vat_id or ""
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
                selectinload(Contact.company).selectinload(Company.addresses),
                selectinload(Contact.account_manager),
                selectinload(Contact.points),
                selectinload(Contact.addresses),
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
                    layout: str = "outlook-de", ids: list[int] | None = None,
                    lost: dict[str, list[str]] | None = None) -> int:
    """Write the contacts to ``path``; returns how many. ``fmt`` is "vcard" or "csv".

    vCard: UTF-8 without BOM, CRLF. CSV: ``layout`` "outlook-de"/"outlook-en" (cp1252) or "google"
    (UTF-8), see :mod:`csvio`. ``lost`` receives per contact ("Kontakt #3") what the layout cannot hold.
    """
    if fmt not in ("vcard", "csv"):
        raise ValueError(f"Unbekanntes Format: {fmt}")
    if fmt == "vcard" and version not in ("3.0", "4.0"):
        raise ValueError(f"vCard-Version {version} wird nicht unterstützt (3.0 oder 4.0)")
    if fmt == "csv" and layout not in (*LAYOUTS, "kundenakte"):
        raise ValueError(f"Unbekanntes CSV-Layout: {layout} ({', '.join(LAYOUTS)})")
    path = Path(path)
    with ka.db.read() as session:
        if fmt == "csv":
            columns = (1, 1, 1, 1)
            if layout == "google":  # Google's layout has as many numbered columns as the fullest contact needs
                for rec in iter_records(session, ids):
                    columns = tuple(max(a, b) for a, b in zip(columns, google_counts(rec), strict=True))  # type: ignore[assignment]
            with path.open("w", encoding=ENCODINGS[layout], newline="") as out:
                return write_csv(iter_records(session, ids), out, layout=layout, google_columns=columns, lost=lost)
        n = 0
        with path.open("w", encoding="utf-8", newline="") as out:
            for card in dump_vcards(iter_records(session, ids), version):
                out.write(card)
                n += 1
        return n
