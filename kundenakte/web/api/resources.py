"""The API's resources: companies, contacts, documents, attachments, search, folders, types, templates, me.

Every document read goes through ``acl.readable_clause`` / ``documents.get_readable``; every write
through the core services, which check the rights before they change anything. The request's
session is committed only when the whole operation succeeded; any error rolls it back (auth.answer).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Response, g, jsonify, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kundenakte.core import acl, services
from kundenakte.core.attachments import add_attachment, open_attachment
from kundenakte.core.directory import (
    CompanyFilter,
    ContactFilter,
    filter_companies,
    filter_contacts,
)
from kundenakte.core.doctypes import DocumentType
from kundenakte.core.documents import (
    DocumentInput,
    NotFound,
    create_document,
    delete_document,
    get_readable,
    update_document,
)
from kundenakte.core.models import Attachment, Company, Contact, Document, Folder, User
from kundenakte.core.services.points import points_of
from kundenakte.web.api.auth import error, not_found
from kundenakte.web.api.openapi import operation
from kundenakte.web.api.schemas import (
    ATTACHMENT,
    COMPANY,
    COMPANY_FILTERS,
    COMPANY_SUMMARY,
    CONTACT,
    CONTACT_FILTERS,
    CONTACT_SUMMARY,
    DOCUMENT,
    DOCUMENT_FILTERS,
    FOLDER,
    SEARCH_PARAMS,
    Model,
    data_model,
    data_schema,
    document_create_model,
    document_update_model,
    invalid,
    page_params,
)
from kundenakte.web.context import current_ka, db, viewer

_Row = TypeVar("_Row", Company, Contact)

JSON_LIMIT = 1024 * 1024  # bytes of a JSON body
DEFAULT_PER_PAGE = 50


# -- plumbing ----------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} ist in JSON nicht erlaubt.")


def read_json() -> dict[str, Any]:
    """The request's JSON object: 415 for another type, 413 over 1 MiB, 400 when malformed.

    Parsed once per request: a view repeated after a write race (web/app.py) gets the same body.
    """
    if "api_json" not in g:
        g.api_json = _parse_json()
    return copy.deepcopy(g.api_json)


def _parse_json() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise error(415, "Erwartet wird Content-Type: application/json.")
    length = request.content_length
    if length is not None and length > JSON_LIMIT:
        raise error(413, "Der JSON-Inhalt ist größer als 1 MiB.")
    # A body of known size was read before the request began (web/app.py, _read_body_first).
    raw = request.get_data(cache=True) if length is not None else request.stream.read(JSON_LIMIT + 1)
    if len(raw) > JSON_LIMIT:
        raise error(413, "Der JSON-Inhalt ist größer als 1 MiB.")
    if not raw.strip():
        raise error(400, "Die Anfrage enthält kein JSON.")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise error(400, "Der Inhalt ist kein gültiges JSON.") from None
    if not isinstance(body, dict):
        raise invalid({}, "Erwartet wird ein JSON-Objekt.")
    return body


def ts(value: dt.datetime | None) -> str | None:
    """Stored datetimes are naive UTC; the API says so (RFC 3339 with Z)."""
    return None if value is None else value.replace(microsecond=value.microsecond).isoformat() + "Z"


def paging(args: dict[str, Any]) -> tuple[int, int]:
    return int(args.get("page") or 1), int(args.get("per_page") or DEFAULT_PER_PAGE)


def page_body(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    last = max(1, math.ceil(total / per_page))

    def link(number: int) -> str:
        args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
        args.update(page=str(number), per_page=str(per_page))
        return f"{request.path}?{urlencode(args)}"

    return {
        "items": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "links": {
            "self": link(page),
            "first": link(1),
            "last": link(last),
            "next": link(page + 1) if page < last else None,
            "prev": link(min(page - 1, last)) if page > 1 else None,
        },
    }


def created(body: dict[str, Any], location: str) -> Response:
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = location
    return response


def no_content() -> tuple[str, int]:
    return "", 204


# -- serialisation -------------------------------------------------------------------------------------


def company_json(c: Company) -> dict[str, Any]:
    """The company as COMPANY declares it (the same declaration validates input and makes the schema)."""
    return COMPANY.output(c, **points_of(c))


def row_json(row: Any, model: Model) -> dict[str, Any]:
    """A list row (a query result row) as the summary ``model`` declares it."""
    return model.output(row._mapping)


def contact_json(c: Contact) -> dict[str, Any]:
    """The contact as CONTACT declares it, its lists in the services' input shape."""
    return CONTACT.output(c, **points_of(c))


def attachment_json(a: Attachment) -> dict[str, Any]:
    return ATTACHMENT.output(a, links={"content": url_for("api.attachment_content", attachment_id=a.id)})


def document_json(doc: Document) -> dict[str, Any]:
    """The document as DOCUMENT declares it; what is not a column is given here."""
    acl_rows = sorted(doc.acl, key=lambda e: e.principal)
    return DOCUMENT.output(
        doc,
        type=doc.type_key,
        data={k: (str(v) if isinstance(v, Decimal) else v) for k, v in (doc.data or {}).items()},
        archived=doc.archived_at is not None,
        folder_ids=sorted(f.id for f in doc.folders),
        readers=[e.principal for e in acl_rows if e.role != "edit"],
        editors=[e.principal for e in acl_rows if e.role == "edit"],
        attachments=[attachment_json(a) for a in doc.attachments if not a.inline],
        links={
            "self": url_for("api.get_document", document_id=doc.id),
            "attachments": url_for("api.list_attachments", document_id=doc.id),
        },
    )


DOC_LOAD = (selectinload(Document.folders), selectinload(Document.acl), selectinload(Document.attachments))


# -- me ------------------------------------------------------------------------------------------------


@operation("GET", "/me", summary="Der angemeldete Benutzer und seine Berechtigten", tag="Benutzer", response="Me")
def me() -> ResponseReturnValue:
    user: User = g.api_user
    return jsonify({
        "id": user.id, "login": user.login, "display_name": user.display_name, "email": user.email or "",
        "is_admin": bool(user.is_admin), "language": user.language,
        "groups": [{"id": grp.id, "name": grp.name} for grp in sorted(user.groups, key=lambda x: x.name)],
        "principals": sorted(viewer().principals),
    })


# -- companies -----------------------------------------------------------------------------------------


@operation("GET", "/companies", summary="Unternehmen suchen und blättern", tag="Unternehmen",
           params=COMPANY_FILTERS + page_params(), response="CompanyPage")
def list_companies(args: dict[str, Any]) -> ResponseReturnValue:
    """Filter wie in der Oberfläche: * ist Platzhalter, sonst exakter Vergleich (Groß/Klein und Umlaute egal)."""
    page, per_page = paging(args)
    f = CompanyFilter(name=args.get("name", ""), postal_code=args.get("postal_code", ""), city=args.get("city", ""),
                      account_manager_id=args.get("account_manager_id"))
    rows, total = filter_companies(db(), f, page=page, per_page=per_page)
    return jsonify(page_body([row_json(r, COMPANY_SUMMARY) for r in rows], total, page, per_page))


def _load(model: type[_Row], ident: int) -> _Row:
    row = db().get(model, ident)
    if row is None:
        raise not_found()
    return row


def _load_company(company_id: int) -> Company:
    return _load(Company, company_id)


@operation("POST", "/companies", summary="Unternehmen anlegen", tag="Unternehmen", body="CompanyCreate", ok=201,
           response="Company")
def create_company() -> ResponseReturnValue:
    company = services.create_company(db(), COMPANY.validate(read_json()), by=viewer().user_id, via="api")
    db().commit()
    return created(company_json(company), url_for("api.get_company", company_id=company.id))


@operation("GET", "/companies/{company_id}", summary="Ein Unternehmen", tag="Unternehmen", response="Company")
def get_company(company_id: int) -> ResponseReturnValue:
    return jsonify(company_json(_load_company(company_id)))


@operation("PATCH", "/companies/{company_id}", summary="Unternehmen ändern", tag="Unternehmen", body="CompanyUpdate",
           response="Company")
def update_company(company_id: int) -> ResponseReturnValue:
    company = _load_company(company_id)
    services.update_company(db(), company, COMPANY.validate(read_json(), partial=True), by=viewer().user_id, via="api",
                            now=current_ka().clock.now())
    db().commit()
    return jsonify(company_json(company))


def _require_admin(what: str) -> None:
    if not viewer().sees_all:
        raise error(403, f"{what} dürfen nur Administratoren löschen.")


@operation("DELETE", "/companies/{company_id}", summary="Unternehmen löschen (Administratoren)", tag="Unternehmen",
           ok=204, errors=(403, 409))
def delete_company(company_id: int) -> ResponseReturnValue:
    """Nur für Administratoren und nur, solange keine Kontakte oder Dokumente auf das Unternehmen verweisen."""
    company = _load_company(company_id)
    _require_admin("Unternehmen")
    services.delete_company(db(), company, by=viewer().user_id, via="api")  # InUse answers 409
    db().commit()
    return no_content()


# -- contacts ------------------------------------------------------------------------------------------


@operation("GET", "/contacts", summary="Kontakte suchen und blättern", tag="Kontakte",
           params=CONTACT_FILTERS + page_params(), response="ContactPage")
def list_contacts(args: dict[str, Any]) -> ResponseReturnValue:
    """Filter wie in der Oberfläche: * ist Platzhalter; ein Name passt auch ab einem späteren Wortanfang."""
    page, per_page = paging(args)
    f = ContactFilter(name=args.get("name", ""), postal_code=args.get("postal_code", ""), company=args.get("company", ""),
                      city=args.get("city", ""), account_manager_id=args.get("account_manager_id"))
    rows, total = filter_contacts(db(), f, page=page, per_page=per_page)
    return jsonify(page_body([row_json(r, CONTACT_SUMMARY) for r in rows], total, page, per_page))


def _load_contact(contact_id: int) -> Contact:
    return _load(Contact, contact_id)


@operation("POST", "/contacts", summary="Kontakt anlegen", tag="Kontakte", body="ContactCreate", ok=201, response="Contact")
def create_contact() -> ResponseReturnValue:
    contact = services.create_contact(db(), CONTACT.validate(read_json()), by=viewer().user_id, via="api")
    db().commit()
    return created(contact_json(contact), url_for("api.get_contact", contact_id=contact.id))


@operation("GET", "/contacts/{contact_id}", summary="Ein Kontakt", tag="Kontakte", response="Contact")
def get_contact(contact_id: int) -> ResponseReturnValue:
    return jsonify(contact_json(_load_contact(contact_id)))


@operation("PATCH", "/contacts/{contact_id}", summary="Kontakt ändern", tag="Kontakte", body="ContactUpdate",
           response="Contact")
def update_contact(contact_id: int) -> ResponseReturnValue:
    contact = _load_contact(contact_id)
    services.update_contact(db(), contact, CONTACT.validate(read_json(), partial=True), by=viewer().user_id, via="api",
                            now=current_ka().clock.now())
    db().commit()
    return jsonify(contact_json(contact))


@operation("DELETE", "/contacts/{contact_id}", summary="Kontakt löschen (Administratoren)", tag="Kontakte", ok=204,
           errors=(403, 409))
def delete_contact(contact_id: int) -> ResponseReturnValue:
    """Nur für Administratoren und nur, solange keine Dokumente auf den Kontakt verweisen."""
    contact = _load_contact(contact_id)
    _require_admin("Kontakte")
    services.delete_contact(db(), contact, by=viewer().user_id, via="api")  # InUse answers 409
    db().commit()
    return no_content()


# -- documents -----------------------------------------------------------------------------------------


@operation("GET", "/documents", summary="Lesbare Dokumente auflisten", tag="Dokumente",
           params=DOCUMENT_FILTERS + page_params(), response="DocumentPage")
def list_documents(args: dict[str, Any]) -> ResponseReturnValue:
    """Nur Dokumente, die Sie lesen dürfen; Anzahl und Seiten zählen nur diese. Neueste zuerst."""
    page, per_page = paging(args)
    conditions = [acl.readable_clause(viewer())]
    if args.get("type"):
        conditions.append(Document.type_key == args["type"])
    if args.get("company_id"):
        conditions.append(Document.company_id == args["company_id"])
    if args.get("contact_id"):
        conditions.append(Document.contact_id == args["contact_id"])
    if args.get("status"):
        conditions.append(Document.status == args["status"])
    if not args.get("include_archived"):
        conditions.append(Document.archived_at.is_(None))
    total = int(db().scalar(select(func.count()).select_from(Document).where(*conditions)) or 0)
    docs = list(db().scalars(
        select(Document).where(*conditions).options(*DOC_LOAD)
        .order_by(Document.document_date.desc(), Document.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    )) if total else []
    return jsonify(page_body([document_json(d) for d in docs], total, page, per_page))


def _known_type(body: dict[str, Any]) -> DocumentType:
    key = body.get("type")
    if key is None:
        raise invalid({"type": "Dieses Feld ist ein Pflichtfeld."})
    if not isinstance(key, str):
        raise invalid({"type": "Erwartet wird ein Text."})
    enabled = {t.key: t for t in current_ka().enabled_types(db())}
    if key not in enabled:
        raise invalid({"type": "Unbekannter Dokumenttyp."})
    return enabled[key]


@operation("POST", "/documents", summary="Dokument anlegen", tag="Dokumente", body="DocumentCreate", ok=201,
           response="Document", errors=(403,))
def create_document_view() -> ResponseReturnValue:
    """``data`` enthält die Felder des Dokumenttyps (siehe /types); unbekannte Felder ergeben 422."""
    body = read_json()
    doctype = _known_type(body)
    values = document_create_model(doctype).validate(body)
    values.pop("type")
    doc = create_document(current_ka(), db(), viewer(), doctype.key, DocumentInput.from_mapping(values))
    db().commit()
    return created(document_json(doc), url_for("api.get_document", document_id=doc.id))


@operation("GET", "/documents/{document_id}", summary="Ein Dokument", tag="Dokumente", response="Document")
def get_document(document_id: int) -> ResponseReturnValue:
    return jsonify(document_json(get_readable(db(), viewer(), document_id)))


@operation("PATCH", "/documents/{document_id}", summary="Dokument ändern (mit Versionsprüfung)", tag="Dokumente",
           body="DocumentUpdate", response="Document", errors=(403, 409))
def update_document_view(document_id: int) -> ResponseReturnValue:
    """``version`` ist die zuletzt gelesene Version; hat inzwischen jemand gespeichert, kommt 409 mit
    ``current_version``. Nicht genannte Felder bleiben unverändert."""
    doc = get_readable(db(), viewer(), document_id)
    body = read_json()
    model = document_update_model(current_ka().types.get(doc.type_key))
    values = model.validate(body, partial=True)
    if "version" not in values:
        raise invalid({"version": "Bitte die zuletzt gelesene Version angeben."})
    version = values.pop("version")
    doc = update_document(current_ka(), db(), viewer(), document_id, DocumentInput.from_mapping(values),
                          expected_version=version)
    db().commit()
    return jsonify(document_json(doc))


@operation("DELETE", "/documents/{document_id}", summary="Dokument löschen", tag="Dokumente", ok=204, errors=(403,))
def delete_document_view(document_id: int) -> ResponseReturnValue:
    delete_document(current_ka(), db(), viewer(), document_id)
    db().commit()
    return no_content()


# -- attachments ---------------------------------------------------------------------------------------


@operation("GET", "/documents/{document_id}/attachments", summary="Dateien eines Dokuments", tag="Dateien",
           response="AttachmentList")
def list_attachments(document_id: int) -> ResponseReturnValue:
    doc = get_readable(db(), viewer(), document_id)
    return jsonify({"items": [attachment_json(a) for a in doc.attachments if not a.inline]})


@operation("POST", "/documents/{document_id}/attachments", summary="Datei hochladen", tag="Dateien",
           body="AttachmentUpload", body_type="multipart/form-data", ok=201, response="Attachment", errors=(403, 409))
def upload_attachment(document_id: int) -> ResponseReturnValue:
    """Ein Teil ``file`` (multipart/form-data); der Dateityp wird aus dem Inhalt bestimmt."""
    doc = get_readable(db(), viewer(), document_id)
    if request.mimetype != "multipart/form-data":
        raise error(415, "Erwartet wird multipart/form-data mit dem Teil „file“.")
    unknown = {k: "Unbekanntes Feld." for k in list(request.form) + list(request.files) if k != "file"}
    if unknown:
        raise invalid(unknown)
    parts = request.files.getlist("file")
    if len(parts) != 1:
        raise invalid({"file": "Bitte genau eine Datei im Teil „file“ senden."})
    part = parts[0]
    att = add_attachment(current_ka(), db(), viewer(), doc, part.stream, part.filename or "")
    db().commit()
    return created(attachment_json(att), url_for("api.attachment_content", attachment_id=att.id))


@operation("GET", "/attachments/{attachment_id}/content", summary="Datei herunterladen", tag="Dateien",
           response={"type": "string", "format": "binary"}, response_type="application/octet-stream")
def attachment_content(attachment_id: int) -> ResponseReturnValue:
    document_id = db().scalar(select(Attachment.document_id).where(Attachment.id == attachment_id))
    if document_id is None:
        raise NotFound()
    att, stream = open_attachment(current_ka(), db(), viewer(), document_id, attachment_id)
    return send_file(stream, mimetype=att.mime_type or "application/octet-stream", as_attachment=True,
                     download_name=att.filename, max_age=0, etag=att.sha256)


# -- search, folders, types ----------------------------------------------------------------------------


@operation("GET", "/search", summary="Volltextsuche in lesbaren Dokumenten", tag="Suche",
           params=SEARCH_PARAMS + page_params(20, 100), response="SearchResult", errors=(400,))
def search(args: dict[str, Any]) -> ResponseReturnValue:
    """Treffer werden beim Abfragen gegen die Rechte geprüft; eine unverständliche Anfrage ergibt 400."""
    page = int(args.get("page") or 1)
    per_page = int(args.get("per_page") or 20)
    types = (args["type"],) if args.get("type") else ()
    result = current_ka().search.search(db(), viewer(), args["q"], types=types,
                                        include_archived=bool(args.get("include_archived")), page=page, per_page=per_page)
    return jsonify({
        # No score: ranking happens on the server, and a number next to each hit would only invite
        # comparisons across searches.
        "items": [{"highlights": h.highlights, "document": document_json(h.document)}
                  for h in result.hits],
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "facets": result.facets,
    })


@operation("GET", "/folders", summary="Ablage-Ordner", tag="Ablage", response="FolderList")
def list_folders() -> ResponseReturnValue:
    rows = db().scalars(select(Folder).order_by(Folder.name, Folder.id))
    return jsonify({"items": [FOLDER.output(f) for f in rows]})


@operation("GET", "/types", summary="Aktivierte Dokumenttypen mit ihren Feldern", tag="Dokumente", response="TypeList")
def list_types() -> ResponseReturnValue:
    items = []
    for t in sorted(current_ka().enabled_types(db()), key=lambda t: (t.category, t.menu_order, t.key)):
        items.append({
            "key": t.key, "label": t.label, "label_en": t.label_en, "category": t.category, "plugin": t.plugin,
            "retention_days": t.retention_days, "default_folders": list(t.default_folders),
            "fields": [{
                "name": f.name, "kind": f.kind, "label": f.label, "label_en": f.label_en, "required": f.required,
                "computed": f.computed, "help": f.help, "max_length": f.max_length,
                "min_value": None if f.min_value is None else str(f.min_value),
                "max_value": None if f.max_value is None else str(f.max_value),
                "choices": [{"value": c.value, "label": c.label, "label_en": c.label_en} for c in f.choices],
            } for f in t.fields],
            "statuses": [{"value": s.value, "label": s.label, "label_en": s.label_en, "closed": s.closed} for s in t.statuses],
            "data_schema": data_schema(data_model(t), output=False),
        })
    return jsonify({"items": items})
