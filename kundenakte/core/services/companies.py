"""The one writer of companies: create, update (address copies follow), delete, bulk insert for imports.

Every writer (web form, API, importer, demo data) comes here; the rules (lengths from the columns,
the e-mail and web rules, the required name, a known account manager) are checked once, with every
field error at once (:class:`ValidationError`). The folded filter columns and the index queue are
kept by mapper events (``core/models.py``); the bulk insert, which bypasses them, does both itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from kundenakte.core.models import Company, Contact, Document, utcnow
from kundenakte.core.services.addresses import ADDRESS, propagate_company_address
from kundenakte.core.services.fields import TextField, check_texts, text_fields
from kundenakte.core.services.master import bulk_insert, delete_unreferenced, queue_rows, saved, table_of, user_exists
from kundenakte.core.text import fold
from kundenakte.core.validation import N_, ValidationError

COMPANY_TEXT: tuple[TextField, ...] = text_fields(Company, (
    ("name", "Firma", "text", N_("Bitte einen Namen angeben.")),
    ("street", "Straße", "text", ""),
    ("postal_code", "PLZ", "text", ""),
    ("city", "Ort", "text", ""),
    ("country", "Land", "text", ""),
    ("phone", "Telefon", "text", ""),
    ("email", "E-Mail", "email", ""),
    ("web", "Web", "web", ""),
))
COMPANY_FIELDS = tuple(f.name for f in COMPANY_TEXT) + ("account_manager_id",)
DEFAULT_COUNTRY = "Deutschland"


def company_errors(values: Mapping[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """The checks that need no database: cleaned text values and every field error."""
    return check_texts(COMPANY_TEXT, values, partial=partial)


def clean_company(session: Session, values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """``values`` checked and cleaned; raises ValidationError with every field error at once.

    Unknown keys are refused (a typo must not be dropped silently).
    """
    cleaned, errors = company_errors(values, partial=partial)
    for key in values:
        if key not in COMPANY_FIELDS:
            errors[key] = N_("Unbekanntes Feld.")
    if "account_manager_id" in values or not partial:
        manager = values.get("account_manager_id")
        if manager is not None and not user_exists(session, manager):
            errors["account_manager_id"] = N_("Unbekannter Benutzer.")
        cleaned["account_manager_id"] = manager
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_company(session: Session, values: Mapping[str, Any], *, by: int | None, via: str | None = None) -> Company:
    """A new company from ``values`` (country defaults to Deutschland), with its audit entry."""
    cleaned = clean_company(session, values)
    if not cleaned.get("country"):
        cleaned["country"] = DEFAULT_COUNTRY if "country" not in values else ""
    company = Company(**cleaned)
    saved(session, company, "company", company.name, by=by, via=via)
    return company


def update_company(session: Session, company: Company, values: Mapping[str, Any], *, by: int | None,
                   via: str | None = None, now: dt.datetime | None = None) -> Company:
    """Change the given fields; contacts using the company's address get the new one."""
    cleaned = clean_company(session, values, partial=True)
    address_changed = any(k in cleaned and getattr(company, k) != cleaned[k] for k in ADDRESS)
    for key, value in cleaned.items():
        setattr(company, key, value)
    if address_changed:
        propagate_company_address(session, company)
    saved(session, company, "company", company.name, by=by, via=via, fields=sorted(cleaned), now=now)
    return company


def delete_company(session: Session, company: Company, *, by: int | None, via: str | None = None) -> None:
    """Delete a company no contact or document refers to; InUse otherwise."""
    delete_unreferenced(session, company, "company", company.name, [Document.company_id, Contact.company_id],
                        "Dem Unternehmen sind noch Kontakte oder Dokumente zugeordnet.", by=by, via=via)


def insert_companies(session: Session, rows: list[dict[str, Any]], *, is_sqlite: bool) -> list[int]:
    """Bulk-insert already cleaned companies (the importer's path); returns their ids in order.

    Core statements bypass the mapper events, so the folded columns and the index queue rows are
    written here, in the same transaction.
    """
    now = utcnow()
    full = [dict(row, name_folded=fold(row["name"]), city_folded=fold(row.get("city") or ""),
                 created_at=row.get("created_at") or now, updated_at=row.get("updated_at") or now) for row in rows]
    ids = bulk_insert(session, table_of(Company), full, is_sqlite)
    queue_rows(session, "company", ids)
    return ids


