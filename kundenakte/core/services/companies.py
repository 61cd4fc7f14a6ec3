"""The one writer of companies: create, update (address copies follow), delete, bulk insert for imports.

Every writer (web form, API, importer, demo data) comes here; the rules (lengths from the columns,
the e-mail and web rules, the required name, a known account manager) are checked once, with every
field error at once (:class:`ValidationError`). The folded filter columns and the index queue are
kept by mapper events (``core/models.py``); the bulk insert, which bypasses them, does both itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from kundenakte.core.models import Company, Contact, Document, utcnow
from kundenakte.core.services import points
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
    ("vat_id", "USt-IdNr.", "text", ""),
    ("register_court", "Registergericht", "text", ""),
    ("register_number", "Registernummer", "text", ""),
    ("notes", "Notizen", "text", ""),
))
COMPANY_LISTS = ("emails", "phones", "websites", "addresses")
_COMPANY_CHANNELS = ("email", "phone", "web")
COMPANY_FIELDS = tuple(f.name for f in COMPANY_TEXT) + ("account_manager_id",) + COMPANY_LISTS
# EU VAT ids: country code and 2-12 letters/digits (DE: nine digits); spaces are dropped.
_VAT_ID = re.compile(r"^(DE\d{9}|(?!DE)[A-Z]{2}[0-9A-Z+*]{2,12})$")
DEFAULT_COUNTRY = "Deutschland"


def company_errors(values: Mapping[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """The checks that need no database: cleaned text values, lists and every field error."""
    cleaned, errors = check_texts(COMPANY_TEXT, values, partial=partial)
    vat_id = cleaned.get("vat_id")
    if vat_id:
        vat_id = re.sub(r"[\s.-]", "", vat_id).upper()
        cleaned["vat_id"] = vat_id
        if "vat_id" not in errors and not _VAT_ID.match(vat_id):
            errors["vat_id"] = N_("Bitte eine USt-IdNr. wie DE123456789 angeben.")
    if any(k in values for k in COMPANY_LISTS):
        cleaned.update(points.clean_lists({k: v for k, v in values.items() if k in COMPANY_LISTS}, errors))
    return cleaned, errors


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
    lists = {k: cleaned.pop(k) for k in COMPANY_LISTS if k in cleaned}
    company = Company(**cleaned)
    _apply_lists(company, values, cleaned, lists)
    saved(session, company, "company", company.name, by=by, via=via)
    return company


def update_company(session: Session, company: Company, values: Mapping[str, Any], *, by: int | None,
                   via: str | None = None, now: dt.datetime | None = None) -> Company:
    """Change the given fields; contacts using the company's address get the new one."""
    cleaned = clean_company(session, values, partial=True)
    lists = {k: cleaned.pop(k) for k in COMPANY_LISTS if k in cleaned}
    before = tuple(getattr(company, k) for k in ADDRESS)
    for key, value in cleaned.items():
        setattr(company, key, value)
    _apply_lists(company, values, cleaned, lists)
    if tuple(getattr(company, k) for k in ADDRESS) != before:
        propagate_company_address(session, company)
    saved(session, company, "company", company.name, by=by, via=via, fields=sorted([*cleaned, *lists]), now=now)
    return company


def _apply_lists(company: Company, values: Mapping[str, Any], cleaned: Mapping[str, Any],
                 lists: dict[str, list[dict[str, Any]]]) -> None:
    """Lists (or today's single keys) into the company's entries; the preferred ones into its columns."""
    points.scalar_lists(company, cleaned, lists, _COMPANY_CHANNELS)
    points.scalar_address(company, cleaned, lists, "work")
    points.replace_lists(company, lists)
    if lists.get("addresses") or "addresses" in values:
        points.copy_preferred_address(company)


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
    full = []
    for row in rows:
        values = {k: v for k, v in row.items() if k not in COMPANY_LISTS}
        values.update(points.scalars_from_lists(row, _COMPANY_CHANNELS, address=True))
        full.append(dict(values, name_folded=fold(values["name"]), city_folded=fold(values.get("city") or ""),
                         created_at=values.get("created_at") or now, updated_at=values.get("updated_at") or now))
    ids = bulk_insert(session, table_of(Company), full, is_sqlite)
    points.insert_children(session, "company_id", ids, rows)
    queue_rows(session, "company", ids)
    return ids


