"""The one writer of contacts: create, update, delete, and the importer's bulk writes.

The rules are checked once, with every field error at once (:class:`ValidationError`): lengths
from the columns, the product's e-mail rule, the required last name, gender and language from
their choices, a known company and account manager. A contact that uses its company's address
keeps a copy of it (``core/directory.copy_company_address``), so the PLZ/Ort filters stay
indexed; without a company there is nothing to copy and the typed address is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kundenakte.core.models import GENDERS, Company, Contact, Document, utcnow
from kundenakte.core.services import points
from kundenakte.core.services.addresses import copy_company_address
from kundenakte.core.services.fields import TextField, check_texts, text_fields
from kundenakte.core.services.master import bulk_insert, delete_unreferenced, queue_rows, saved, table_of, user_exists
from kundenakte.core.text import fold
from kundenakte.core.validation import N_, ValidationError

CONTACT_TEXT: tuple[TextField, ...] = text_fields(Contact, (
    ("title", "Titel", "text", ""),
    ("first_name", "Vorname", "text", ""),
    ("last_name", "Nachname", "text", N_("Bitte einen Nachnamen angeben.")),
    ("salutation_override", "Briefanrede", "text", ""),
    ("position", "Position", "text", ""),
    ("email", "E-Mail", "email", ""),
    ("phone", "Telefon", "text", ""),
    ("street", "Straße", "text", ""),
    ("postal_code", "PLZ", "text", ""),
    ("city", "Ort", "text", ""),
    ("country", "Land", "text", ""),
    ("nickname", "Spitzname", "text", ""),
    ("department", "Abteilung", "text", ""),
    ("notes", "Notizen", "text", ""),
))
LANGUAGES = ("de", "en")
CHOICES: dict[str, tuple[str, ...]] = {"gender": GENDERS, "language": LANGUAGES}
DEFAULTS: dict[str, Any] = {"gender": "unknown", "language": "de", "use_company_address": True, "company_id": None,
                            "account_manager_id": None}
CONTACT_FIELDS = tuple(f.name for f in CONTACT_TEXT) + tuple(DEFAULTS) + ("birthday", "emails", "phones", "websites",
                                                                         "addresses")
LABELS = {f.name: f.label for f in CONTACT_TEXT} | {
    "gender": "Geschlecht", "language": "Sprache", "use_company_address": "Firmenadresse verwenden",
    "company_id": "Firma", "account_manager_id": "Kundenbetreuer", "birthday": "Geburtstag",
    "emails": "E-Mail-Adressen", "phones": "Telefonnummern", "websites": "Webadressen", "addresses": "Adressen",
}
CONTACT_LISTS = ("emails", "phones", "websites", "addresses")  # a contact has no single web column
_CONTACT_CHANNELS = ("email", "phone")


def clean_birthday(value: Any) -> tuple[dt.date | None, str | None]:
    """A date, an ISO text (``1970-04-01``) or None; a birthday in the future or before 1900 is refused."""
    if value in (None, ""):
        return None, None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            return None, N_("Bitte ein Datum angeben (JJJJ-MM-TT).")
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        return None, N_("Bitte ein Datum angeben (JJJJ-MM-TT).")
    if value.year < 1900 or value > dt.date.today():
        return None, N_("Der Geburtstag muss zwischen 1900 und heute liegen.")
    return value, None


def contact_errors(values: Mapping[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """The checks that need no database (texts and choices): cleaned values and every field error."""
    cleaned, errors = check_texts(CONTACT_TEXT, values, partial=partial)
    for key, allowed in CHOICES.items():
        if key in values or not partial:
            value = values.get(key, DEFAULTS[key])
            if value not in allowed:
                errors[key] = N_("Bitte einen der angebotenen Werte wählen.")
            cleaned[key] = value
    if "use_company_address" in values or not partial:
        value = values.get("use_company_address", DEFAULTS["use_company_address"])
        if not isinstance(value, bool):
            errors["use_company_address"] = N_("Erwartet wird true oder false.")
        cleaned["use_company_address"] = value
    if "birthday" in values or not partial:
        birthday, problem = clean_birthday(values.get("birthday"))
        if problem:
            errors["birthday"] = problem
        cleaned["birthday"] = birthday
    if any(key in values for key in CONTACT_LISTS):
        lists = points.clean_lists({k: v for k, v in values.items() if k in CONTACT_LISTS}, errors)
        cleaned.update(lists)
    return cleaned, errors


def clean_contact(session: Session, values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """``values`` checked and cleaned; raises ValidationError with every field error at once."""
    cleaned, errors = contact_errors(values, partial=partial)
    for key in values:
        if key not in CONTACT_FIELDS:
            errors[key] = N_("Unbekanntes Feld.")
    for key in ("company_id", "account_manager_id"):
        if key in values or not partial:
            cleaned[key] = values.get(key)
    company_id = cleaned.get("company_id")
    if company_id is not None and (not isinstance(company_id, int) or isinstance(company_id, bool)
                                   or session.get(Company, company_id) is None):
        errors["company_id"] = N_("Unbekanntes Unternehmen.")
    manager = cleaned.get("account_manager_id")
    if manager is not None and not user_exists(session, manager):
        errors["account_manager_id"] = N_("Unbekannter Benutzer.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _apply(session: Session, contact: Contact, cleaned: Mapping[str, Any]) -> None:
    lists = {k: cleaned[k] for k in CONTACT_LISTS if k in cleaned}
    for key, value in cleaned.items():
        if key not in CONTACT_LISTS:
            setattr(contact, key, value)
    if contact.use_company_address and contact.company_id is None:
        contact.use_company_address = False  # nothing to copy from: keep the typed address
    points.scalar_lists(contact, cleaned, lists, _CONTACT_CHANNELS)
    if not contact.use_company_address:
        points.scalar_address(contact, cleaned, lists, "work" if contact.company_id else "home")
    points.replace_lists(contact, lists)
    if contact.use_company_address:
        copy_company_address(session, contact)
        return
    if not contact.addresses and any((contact.street, contact.postal_code, contact.city, contact.country)):
        # The copy of the company's address becomes the contact's own when it stops using it.
        points.replace_lists(contact, {"addresses": [{
            "kind": "work" if contact.company_id else "home", "street": contact.street or "", "extra": "",
            "postal_code": contact.postal_code or "", "city": contact.city or "", "country": contact.country or "",
            "preferred": True}]})
    points.copy_preferred_address(contact)


def create_contact(session: Session, values: Mapping[str, Any], *, by: int | None, via: str | None = None) -> Contact:
    """A new contact from ``values`` (missing fields take their defaults), with its audit entry."""
    cleaned = clean_contact(session, values)
    contact = Contact(last_name=cleaned["last_name"])
    _apply(session, contact, cleaned)
    saved(session, contact, "contact", contact.full_name, by=by, via=via)
    return contact


def update_contact(session: Session, contact: Contact, values: Mapping[str, Any], *, by: int | None,
                   via: str | None = None, now: dt.datetime | None = None) -> Contact:
    """Change the given fields (the rest stays), with an audit entry naming them."""
    cleaned = clean_contact(session, values, partial=True)
    _apply(session, contact, cleaned)
    saved(session, contact, "contact", contact.full_name, by=by, via=via, fields=sorted(cleaned), now=now)
    return contact


def delete_contact(session: Session, contact: Contact, *, by: int | None, via: str | None = None) -> None:
    """Delete a contact no document refers to; InUse otherwise."""
    delete_unreferenced(session, contact, "contact", contact.full_name, [Document.contact_id],
                        "Dem Kontakt sind noch Dokumente zugeordnet.", by=by, via=via)


# -- the importer's bulk path ---------------------------------------------------------------------------
# Core statements, no ORM bookkeeping: an import writes thousands of rows per transaction. Values
# come from the importer's plan, which checked every record with ``contact_errors`` first.


def insert_contacts(session: Session, rows: list[dict[str, Any]], *, is_sqlite: bool) -> list[int]:
    """Bulk-insert cleaned contacts; returns their ids in order; folds and queues them as the mapper would."""
    now = utcnow()
    full = []
    for row in rows:
        values = {k: v for k, v in row.items() if k not in CONTACT_LISTS}
        values.update(points.scalars_from_lists(row, _CONTACT_CHANNELS, address=not values.get("use_company_address", True)))
        values["name_folded"] = fold(f"{values.get('first_name', '')} {values['last_name']}")
        values["city_folded"] = fold(values.get("city") or "")
        values["created_at"] = values["updated_at"] = now
        full.append(values)
    ids = bulk_insert(session, table_of(Contact), full, is_sqlite)
    points.insert_children(session, "contact_id", ids, rows)
    queue_rows(session, "contact", ids)
    return ids


def update_contacts(session: Session, changes: list[tuple[int, dict[str, Any]]]) -> None:
    """Bulk-update contacts (id, changed columns); keeps the folded columns and queues them.

    A list key in a change replaces that contact's list (and the preferred copy) like the ORM path.
    """
    table = table_of(Contact)
    now = utcnow()
    changes = [(ident, _with_list_scalars(session, ident, values)) for ident, values in changes]
    ids = [ident for ident, _ in changes]
    current = {}
    if any({"first_name", "last_name", "city"} & set(values) for _, values in changes):
        for start in range(0, len(ids), 500):
            for row in session.execute(select(Contact.id, Contact.first_name, Contact.last_name, Contact.city)
                                       .where(Contact.id.in_(ids[start:start + 500]))):
                current[row.id] = row
    for ident, values in changes:
        row_values = dict(values, updated_at=now)
        old = current.get(ident)
        if old is not None:
            first = values.get("first_name", old.first_name)
            last = values.get("last_name", old.last_name)
            row_values["name_folded"] = fold(f"{first} {last}")
            row_values["city_folded"] = fold(values.get("city", old.city))
        row_values = {k: v for k, v in row_values.items() if k not in CONTACT_LISTS}
        session.execute(update(table).where(table.c.id == ident).values(**row_values))
    queue_rows(session, "contact", ids)


def _with_list_scalars(session: Session, ident: int, values: dict[str, Any]) -> dict[str, Any]:
    lists = {k: values[k] for k in CONTACT_LISTS if k in values}
    if not lists:
        return values
    use_company = values.get("use_company_address")
    if use_company is None:
        use_company = bool(session.scalar(select(Contact.use_company_address).where(Contact.id == ident)))
    points.delete_children(session, "contact_id", ident, lists)
    points.insert_children(session, "contact_id", [ident], [lists])
    return {**values, **points.scalars_from_lists(lists, _CONTACT_CHANNELS, address=not use_company)}
