"""Contacts that use their company's address keep a copy of it, so the PLZ/Ort filters stay indexed.

Only the contact and company services call these (creating or changing a contact, changing a
company's address).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundenakte.core.models import Company, Contact

ADDRESS = ("street", "postal_code", "city", "country")


def copy_company_address(session: Session, contact: Contact) -> None:
    """Copy the company's address into a contact that uses it (nothing to do otherwise)."""
    if not contact.use_company_address or contact.company_id is None:
        return
    company = session.get(Company, contact.company_id)
    if company is None:
        return
    _copy(company, contact)


def propagate_company_address(session: Session, company: Company) -> int:
    """After a company's address changed: update the copies of the contacts that use it."""
    count = 0
    for contact in session.scalars(
        select(Contact).where(Contact.company_id == company.id, Contact.use_company_address.is_(True))
    ):
        _copy(company, contact)
        count += 1
    return count


def _copy(company: Company, contact: Contact) -> None:
    contact.street = company.street
    contact.postal_code = company.postal_code
    contact.city = company.city
    contact.country = company.country
