"""Type-ahead pickers for companies and contacts (the document form on large tables).

The document form offers a plain ``<select>`` while a table is small; above
``documents.PICKER_THRESHOLD`` rows it shows a text input with the chosen entry's name, a hidden
input carrying the id under the select's field name, and a list filled from the suggestion
endpoints (``/unternehmen/vorschlaege/auswahl``, ``/kontakte/vorschlaege``) as the user types.

Matching is the list filters' (``core.directory``): case- and umlaut-insensitive, ``*`` the only
wildcard, a typed ``%`` or ``_`` only itself. A query without a ``*`` of its own is a prefix
("Mül" means "Mül*"), as a type-ahead is expected to behave. Contacts and companies are master data
every signed-in user may see: no document ACL is involved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_babel import gettext as _
from jinja2.utils import htmlsafe_json_dumps
from sqlalchemy import select
from sqlalchemy.orm import Session

from kundenakte.core.directory import CompanyFilter, ContactFilter, filter_companies, filter_contacts
from kundenakte.core.models import Company, Contact
from kundenakte.web.context import db, viewer

MAX_QUERY = 100  # characters of a query (longer input is cut, never an error)
MAX_TEXT = 500  # characters of a submitted picker text (a contact's label may be longer than a query)
LIMIT = 20  # entries per answer at most
TEXT_SUFFIX = ":text"  # the visible input's name is the field's name plus this


def query_text(raw: Any) -> str:
    return str(raw or "").strip()[:MAX_QUERY].strip()


def form_text(raw: Any) -> str:
    return str(raw or "").strip()[:MAX_TEXT].strip()


def typeahead_pattern(q: str) -> str:
    """What the user typed as a filter pattern: a prefix unless it has a ``*`` of its own."""
    return q if "*" in q else q + "*"


def company_label(name: str | None) -> str:
    return name or ""


def contact_label(first_name: str | None, last_name: str | None, company: str | None) -> str:
    """"Nachname, Vorname – Firma" (parts that are empty left out)."""
    name = ", ".join(p for p in (last_name or "", first_name or "") if p)
    return f"{name} – {company}" if company else name


def company_suggestions(session: Session, pattern: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    rows, total = filter_companies(session, CompanyFilter(name=pattern), per_page=limit)
    return [{"id": r.id, "label": company_label(r.name)} for r in rows], total


def contact_suggestions(session: Session, pattern: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    rows, total = filter_contacts(session, ContactFilter(name=pattern), per_page=limit)
    return [
        {"id": r.id, "label": contact_label(r.first_name, r.last_name, r.company_name),
         "company_id": r.company_id, "company": r.company_name or ""}
        for r in rows
    ], total


Finder = Callable[[Session, str, int], tuple[list[dict[str, Any]], int]]


def _limit(raw: Any) -> int:
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 4:
        return LIMIT
    return max(1, min(int(text), LIMIT))


def suggestions_response(find: Finder) -> Response:
    """``{"results": [{"id", "label", …}], "total": n}`` for ``?q=…&limit=…``, HTML-safe JSON."""
    q = query_text(request.args.get("q"))
    results: list[dict[str, Any]] = []
    total = 0
    if q.replace("*", "").strip() and not viewer().sees_nothing:
        results, total = find(db(), typeahead_pattern(q), _limit(request.args.get("limit")))
    # htmlsafe: "<", ">", "&" and "'" as \u escapes, so the answer is inert even if sniffed as HTML.
    body = htmlsafe_json_dumps({"results": results, "total": total})
    response = Response(str(body), mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- the document form ---------------------------------------------------------------------------


def _id(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and 0 < len(text) <= 12 and int(text) > 0 else None


def chosen_label(session: Session, kind: str, raw_id: Any) -> str:
    """The name a picker shows for a chosen id; "" when there is none (or it does not exist)."""
    ident = _id(raw_id)
    if ident is None:
        return ""
    if kind == "company":
        return company_label(session.scalar(select(Company.name).where(Company.id == ident)))
    row = session.execute(
        select(Contact.first_name, Contact.last_name, Company.name)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Contact.id == ident)
    ).first()
    return contact_label(row[0], row[1], row[2]) if row else ""


def resolve(session: Session, kind: str, raw_id: Any, text: str) -> tuple[str, str | None]:
    """What a submitted picker means: ``(id or "", error)``.

    The visible text decides: empty means "none"; the chosen id stands while the text still shows
    its name; other text (typed without picking, or without JavaScript) must name exactly one entry
    by the list filters' rules.
    """
    text = form_text(text)
    if not text:
        return "", None
    if _id(raw_id) is not None and chosen_label(session, kind, raw_id).strip() == text:
        return str(_id(raw_id)), None
    find = company_suggestions if kind == "company" else contact_suggestions
    found, total = find(session, query_text(text), 2)
    if total == 1 and found:
        return str(found[0]["id"]), None
    if not found:
        if kind == "company":
            return "", _("Kein Unternehmen dieses Namens gefunden. Bitte einen Vorschlag aus der Liste wählen.")
        return "", _("Kein Kontakt dieses Namens gefunden. Bitte einen Vorschlag aus der Liste wählen.")
    return "", _("Mehrere Einträge passen. Bitte einen Vorschlag aus der Liste wählen.")
