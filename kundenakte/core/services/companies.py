"""The one writer of companies: create, update (address copies follow), delete, bulk insert for imports.

Every writer (web form, API, importer, demo data) comes here; the rules (lengths from the columns,
the e-mail and web rules, the required name, a known account manager) are checked once, with every
field error at once (:class:`ValidationError`). The folded filter columns and the index queue are
kept by mapper events (``core/models.py``); the bulk insert, which bypasses them, does both itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from kundenakte.core import audit
from kundenakte.core.models import Company, Contact, Document, IndexQueue, User, utcnow
from kundenakte.core.services.addresses import ADDRESS, propagate_company_address
from kundenakte.core.services.errors import InUse
from kundenakte.core.services.fields import TextField, check_texts, text_fields
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


def user_exists(session: Session, user_id: Any) -> bool:
    return isinstance(user_id, int) and not isinstance(user_id, bool) and session.get(User, user_id) is not None


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
    session.add(company)
    session.flush()
    audit.record(session, by, "created", "company", company.id, name=company.name, **_via(via))
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
    if now is not None:
        company.updated_at = now
    audit.record(session, by, "changed", "company", company.id, name=company.name, fields=sorted(cleaned), **_via(via))
    return company


def delete_company(session: Session, company: Company, *, by: int | None, via: str | None = None) -> None:
    """Delete a company no contact or document refers to; InUse otherwise."""
    linked = session.scalar(select(func.count()).select_from(Document).where(Document.company_id == company.id)) or 0
    linked += session.scalar(select(func.count()).select_from(Contact).where(Contact.company_id == company.id)) or 0
    if linked:
        raise InUse("Dem Unternehmen sind noch Kontakte oder Dokumente zugeordnet.")
    audit.record(session, by, "deleted", "company", company.id, name=company.name, **_via(via))
    session.delete(company)


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


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]], is_sqlite: bool) -> list[int]:
    """Bulk INSERT; returns the new ids in the order of ``rows``.

    PostgreSQL: multi-row INSERT … RETURNING in parameter order ("insertmanyvalues"). SQLite would
    fall back to one statement per row for ordered RETURNING, so there the ids are assigned here:
    the write transaction began with BEGIN IMMEDIATE, so no other writer can take ids meanwhile.
    """
    if not rows:
        return []
    if is_sqlite:
        first = int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
        ids = list(range(first, first + len(rows)))
        session.execute(insert(table), [dict(row, id=i) for row, i in zip(rows, ids, strict=True)])
        return ids
    return list(session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def queue_rows(session: Session, kind: str, ids: list[int | None] | list[int]) -> None:
    """Index queue rows for rows written by Core statements (mapper events queue all others)."""
    now = utcnow()
    rows = [{"object_key": f"{kind}:{i}", "queued_at": now} for i in ids if i is not None]
    if rows:
        session.execute(insert(table_of(IndexQueue)), rows)


def table_of(model: Any) -> Table:
    """A mapped class's table; every model here is mapped to exactly one ``Table``."""
    return cast(Table, model.__table__)


def _via(via: str | None) -> dict[str, str]:
    return {"via": via} if via else {}
