"""Blueprint: document pages (new, view, edit, delete, attachments), derived from the type declaration.

Every load goes through ``kundenakte.core.documents`` / ``kundenakte.core.attachments``, which ask
``core.acl``; a document the viewer may not read answers 404 exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError

from kundenakte.core import acl, audit
from kundenakte.core.attachments import INLINE_IMAGE_TYPES, add_attachment, attach_blob, open_attachment, remove_attachment
from kundenakte.core.doctypes import DocumentType, Field, ValidationError, parse_date
from kundenakte.core.documents import (
    Conflict,
    DocumentInput,
    Forbidden,
    NotFound,
    ReadOnly,
    create_document,
    delete_document,
    get_readable,
    notices,
    proposed_access,
    update_document,
)
from kundenakte.core.formatting import parse_decimal
from kundenakte.core.html import sanitize_html
from kundenakte.core.models import Attachment, Company, Contact, Document, Folder, Group, User
from kundenakte.core.storage import UploadTooLarge
from kundenakte.web import formats, pickers, uploads
from kundenakte.web.context import current_ka, db, language, login_required, viewer
from kundenakte.web.errors import MESSAGES, message_text, render_error
from kundenakte.web.menus import for_display, menu_url
from kundenakte.web.uploads import PendingUpload

bp = Blueprint("documents", __name__)

HISTORY_LIMIT = 10
# Up to this many companies (contacts) the form offers a plain <select> of all of them; above it a
# type-ahead (web/pickers.py), since a select of 100,000 companies is megabytes of HTML.
PICKER_THRESHOLD = 200
ACTION_LABELS = {
    "created": "angelegt",
    "changed": "geändert",
    "archived": "archiviert",
    "deleted": "gelöscht",
    "sent": "versendet",
    "attachment_added": "Anhang hinzugefügt",
    "attachment_removed": "Anhang entfernt",
    "locked": "abgeschlossen",
}
GENERAL_LABELS = {
    "title": "Titel",
    "company_id": "Unternehmen",
    "contact_id": "Kontakt",
    "document_date": "Datum",
    "status": "Status",
    "responsible_id": "Verantwortlich",
    "folder_ids": "Ordner",
    "retention_days": "Aufbewahrungsfrist",
    "readers": "Leser",
    "editors": "Bearbeiter",
    "content": "Inhalt",
    "attachments": "Dateianhänge",
    "parent_id": "Übergeordnetes Dokument",
    "type_key": "Dokumenttyp",
}


def format_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{formats.number(size / 1024, 1)} KB"
    return f"{formats.number(size / (1024 * 1024), 1)} MB"


bp.add_app_template_filter(format_size, "doc_size")


def content_disposition(kind: str, filename: str) -> str:
    """``attachment; filename="…"; filename*=UTF-8''…`` (RFC 6266 / RFC 5987) for any file name."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r'[^A-Za-z0-9._ ()+,-]', "_", fallback).strip() or "datei"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _maybe_url(endpoint: str, **values: Any) -> str | None:
    """A link to another area's page when that page exists (areas are built independently)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# -- lookups ----------------------------------------------------------------------------------


def _doctype_or_404(type_key: str) -> DocumentType:
    doctype = current_ka().types.get(type_key)
    if doctype is None or doctype.plugin in current_ka().disabled_plugins(db()):
        abort(404)
    return doctype


def _int_or_none(raw: Any) -> int | None:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


@dataclass
class Options:
    """Everything the form's selects offer.

    ``companies``/``contacts`` are None when there are more than ``PICKER_THRESHOLD``: the form
    then shows type-aheads, and ``picked`` holds the text each of them shows (by field name).
    """

    companies: list[tuple[int, str]] | None
    contacts: list[tuple[int, str, int | None]] | None
    users: list[tuple[int, str]]
    groups: list[tuple[int, str]]
    folders: list[tuple[int, str]]
    picked: dict[str, str] = field(default_factory=dict)

    @property
    def principals(self) -> list[tuple[str, str]]:
        return (
            [("*", "Alle (*)")]
            + [(f"g:{gid}", f"Gruppe: {name}") for gid, name in self.groups]
            + [(f"u:{uid}", name) for uid, name in self.users]
        )


def _options(selected_users: Collection[int] = ()) -> Options:
    s = db()
    folders = {f.id: f for f in s.scalars(select(Folder))}

    def path(folder: Folder) -> str:
        parts, seen = [folder.name], {folder.id}
        while folder.parent_id is not None and folder.parent_id in folders and folder.parent_id not in seen:
            folder = folders[folder.parent_id]
            seen.add(folder.id)
            parts.append(folder.name)
        return " / ".join(reversed(parts))

    users = s.execute(select(User.id, User.display_name, User.active).order_by(User.display_name)).all()
    # One row more than a select may show tells "too many" without counting the table.
    limit = PICKER_THRESHOLD
    companies = s.execute(select(Company.id, Company.name).order_by(Company.name, Company.id).limit(limit + 1)).all()
    contacts = s.execute(
        select(Contact.id, Contact.title, Contact.first_name, Contact.last_name, Contact.company_id,
               Company.name.label("company_name"))
        .outerjoin(Company, Company.id == Contact.company_id)
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
        .limit(limit + 1)
    ).all()

    def contact_label(c: Any) -> str:
        name = " ".join(p for p in (c.title, c.first_name, c.last_name) if p)  # Contact.full_name
        return name + (f" ({c.company_name})" if c.company_name else "")

    return Options(
        companies=[(c.id, c.name) for c in companies] if len(companies) <= limit else None,
        contacts=[(c.id, contact_label(c), c.company_id) for c in contacts] if len(contacts) <= limit else None,
        users=[(u.id, u.display_name) for u in users if u.active or u.id in selected_users],
        groups=[(g.id, g.name) for g in s.execute(select(Group.id, Group.name).order_by(Group.name))],
        folders=sorted(((fid, path(f)) for fid, f in folders.items()), key=lambda x: x[1].lower()),
    )


# -- form values ------------------------------------------------------------------------------
# A form is a plain dict of what the inputs show: strings, lists of strings, and "data" for the
# type's fields. It is built from defaults, from a document or from the request, so a re-rendered
# form shows exactly what the user typed.


def _field_input_value(f: Field, value: Any) -> Any:
    if value is None:
        return False if f.kind == "boolean" else ""
    if f.kind == "boolean":
        return bool(value)
    if f.kind == "money":
        return formats.number(value, 2)
    if f.kind == "decimal":
        return formats.number(value)
    if f.kind == "richtext":
        return sanitize_html(str(value))
    return str(value)


def _form_defaults(doctype: DocumentType, *, contact_id: int | None, company_id: int | None, parent_id: int | None) -> dict[str, Any]:
    s = db()
    contact = s.get(Contact, contact_id) if contact_id else None
    if contact_id and contact is None:
        contact_id = None
    if contact is not None and contact.company_id:
        company_id = contact.company_id
    if company_id and s.get(Company, company_id) is None:
        company_id = None
    folder_ids = []
    if doctype.default_folders:
        folder_ids = [str(i) for i in s.scalars(select(Folder.id).where(Folder.name.in_(doctype.default_folders)))]
    return {
        "title": "",
        "company_id": str(company_id or ""),
        "contact_id": str(contact_id or ""),
        "document_date": current_ka().clock.today().isoformat(),
        "status": doctype.default_status,
        "responsible_id": str(viewer().user_id or ""),
        "parent_id": str(parent_id or ""),
        "folder_ids": folder_ids,
        "retention_days": "" if doctype.retention_days is None else str(doctype.retention_days),
        "readers": list(doctype.default_readers),
        "editors": list(doctype.default_editors),
        "content": "",
        "data": {f.name: _field_input_value(f, _prefill(f)) for f in doctype.fields},
    }


def _prefill(f: Field) -> Any:
    """A new document's start value: ``?data.<field>=…`` (a plugin's menu entry) or the default.

    Only text-like fields take a prefill; it is what the form shows, validated on save like input.
    """
    raw = request.args.get(f"data.{f.name}")
    if raw is not None and not f.computed and f.kind in ("text", "longtext"):
        return raw[: f.max_length]
    return f.default


def _form_from_doc(doc: Document, doctype: DocumentType | None) -> dict[str, Any]:
    data = doc.data or {}
    return {
        "title": doc.title,
        "company_id": str(doc.company_id or ""),
        "contact_id": str(doc.contact_id or ""),
        "document_date": doc.document_date.isoformat() if doc.document_date else "",
        "status": doc.status or "",
        "responsible_id": str(doc.responsible_id or ""),
        "parent_id": str(doc.parent_id or ""),
        "folder_ids": [str(f.id) for f in doc.folders],
        "retention_days": "" if doc.retention_days is None else str(doc.retention_days),
        "readers": sorted(e.principal for e in doc.acl if e.role == "read"),
        "editors": sorted(e.principal for e in doc.acl if e.role == "edit"),
        "content": doc.content or "",
        "data": {f.name: _field_input_value(f, data.get(f.name)) for f in (doctype.fields if doctype else ())},
    }


def _form_from_request(doctype: DocumentType) -> dict[str, Any]:
    form = request.form
    data: dict[str, Any] = {}
    for f in doctype.fields:
        key = f"data.{f.name}"
        if f.kind == "boolean":
            data[f.name] = key in form
        elif f.kind == "richtext":
            # The core keeps richtext field values as given; HTML is only ever stored sanitised.
            data[f.name] = sanitize_html(form.get(key, ""))
        else:
            data[f.name] = form.get(key, "")
    return {
        "title": form.get("title", ""),
        "company_id": form.get("company_id", ""),
        "contact_id": form.get("contact_id", ""),
        "document_date": form.get("document_date", ""),
        "status": form.get("status", ""),
        "responsible_id": form.get("responsible_id", ""),
        "parent_id": form.get("parent_id", ""),
        "folder_ids": [v for v in form.getlist("folder_ids") if v],
        "retention_days": form.get("retention_days", ""),
        "readers": [v for v in form.getlist("readers") if v],
        "editors": [v for v in form.getlist("editors") if v],
        "content": sanitize_html(form.get("content", "")),
        "data": data,
    }


def _input_from_form(values: dict[str, Any], doctype: DocumentType, *, creating: bool) -> DocumentInput:
    data = {f.name: values["data"].get(f.name) for f in doctype.fields}
    fields: dict[str, Any] = {
        "title": values["title"],
        "company_id": values["company_id"] or None,
        "contact_id": values["contact_id"] or None,
        "document_date": values["document_date"],
        "content": values["content"],
        "data": data,
        "folder_ids": values["folder_ids"],
        "retention_days": values["retention_days"],
        "readers": values["readers"],
        "editors": values["editors"],
        "responsible_id": values["responsible_id"] or None,
    }
    if doctype.statuses and not doctype.status_managed:
        fields["status"] = values["status"]
    if creating:
        fields["parent_id"] = values["parent_id"] or None
    inp = DocumentInput.from_mapping(fields)
    inp.locale = formats.current_locale()  # numbers in a form are typed in the UI's language
    return inp


# -- type-ahead pickers -----------------------------------------------------------------------
# Above PICKER_THRESHOLD rows the company and contact fields are type-aheads: a hidden input with the
# id under the field's usual name (so the values above are built the same way) and a visible text
# input named "<field>:text". Only the type-ahead sends that text; a form without it is unchanged.


def _picker_fields(doctype: DocumentType) -> list[tuple[str, str]]:
    """(form field name, "company" | "contact") of every field that may be a type-ahead."""
    return [("company_id", "company"), ("contact_id", "contact")] + [
        (f"data.{f.name}", "contact") for f in doctype.fields if f.kind == "contact" and not f.computed
    ]


def _picker_value(values: dict[str, Any], name: str) -> Any:
    return values["data"].get(name[5:]) if name.startswith("data.") else values.get(name)


def _set_picker_value(values: dict[str, Any], name: str, value: str) -> None:
    if name.startswith("data."):
        values["data"][name[5:]] = value
    else:
        values[name] = value


def _resolve_pickers(values: dict[str, Any], doctype: DocumentType) -> dict[str, str]:
    """Turn what the type-aheads show into ids (in ``values``); an error per unclear field.

    The typed texts stay in ``values["picker_texts"]``, so a re-rendered form shows them again.
    """
    errors: dict[str, str] = {}
    texts: dict[str, str] = {}
    for name, kind in _picker_fields(doctype):
        key = name + pickers.TEXT_SUFFIX
        if key not in request.form:
            continue
        text = pickers.form_text(request.form.get(key))
        texts[name] = text
        value, error = pickers.resolve(db(), kind, _picker_value(values, name), text)
        _set_picker_value(values, name, value)
        if error:
            errors[name] = error
    values["picker_texts"] = texts
    return errors


def _picked_texts(values: dict[str, Any], doctype: DocumentType, opts: Options) -> dict[str, str]:
    """The text each type-ahead shows: the chosen entry's name, else what the user typed."""
    typed = values.get("picker_texts") or {}
    out: dict[str, str] = {}
    for name, kind in _picker_fields(doctype):
        if (opts.companies if kind == "company" else opts.contacts) is not None:
            continue  # a select
        out[name] = pickers.chosen_label(db(), kind, _picker_value(values, name)) or typed.get(name, "")
    return out


# -- rendering --------------------------------------------------------------------------------


def _posted_list(name: str) -> list[str]:
    """A posted field's values; none when the body was refused (413) and never parsed."""
    if request.method != "POST":
        return []
    try:
        return request.form.getlist(name)
    except RequestEntityTooLarge:
        return []


def _render_form(
    doctype: DocumentType,
    values: dict[str, Any],
    *,
    doc: Document | None = None,
    errors: dict[str, str] | None = None,
    pending: Sequence[PendingUpload] = (),
    conflict: dict[str, Any] | None = None,
    version: int | None = None,
    status: int = 200,
) -> tuple[str, int]:
    errors = errors or {}
    known = {"title", "company_id", "contact_id", "document_date", "status", "responsible_id", "folder_ids",
             "retention_days", "readers", "editors", "content", "attachments", "parent_id"}
    known.update(f"data.{f.name}" for f in doctype.fields)
    loose = {k: v for k, v in errors.items() if k not in known}
    selected = {_int_or_none(values.get("responsible_id"))} | {
        _int_or_none(values["data"].get(f.name)) for f in doctype.fields if f.kind == "user"
    }
    opts = _options({u for u in selected if u})
    opts.picked = _picked_texts(values, doctype, opts)
    attachments = [a for a in (doc.attachments if doc else []) if not a.inline]
    html = render_template(
        "documents/form.html",
        doctype=doctype,
        doc=doc,
        values=values,
        errors=errors,
        loose_errors={GENERAL_LABELS.get(k, k): v for k, v in loose.items()},
        opts=opts,
        pending=pending,
        attachments=attachments,
        removed=set(_posted_list("remove_attachment")),
        conflict=conflict,
        version=version if version is not None else (doc.version if doc else None),
        upload_url=url_for("documents.upload_image", doc_id=doc.id) if doc else "",
        proposal=_proposal_view(doc),
        discard=bool(doc) and _discardable(doc),  # type: ignore[arg-type]
        toolbar_actions=[(item, menu_url(item)) for item in _document_actions(doc, True)[1]] if doc else [],
        display=_display_value,
        # A new document is asked about as an unsaved instance of its type (never added to the session).
        notices=_notices(doc if doc else Document(type_key=doctype.key, data={})),
        stored_notices=notices(doc) if doc is not None else [],
        max_upload_bytes=current_ka().storage.max_bytes,
        max_upload_mb=uploads.limit_mb(current_ka().storage.max_bytes),
        max_body_bytes=current_app.config.get("MAX_CONTENT_LENGTH") or 0,
    )
    return html, status


def _principal_labels() -> dict[str, str]:
    s = db()
    labels = {"*": "Alle"}
    labels.update({f"u:{uid}": name for uid, name in s.execute(select(User.id, User.display_name))})
    labels.update({f"g:{gid}": f"Gruppe: {name}" for gid, name in s.execute(select(Group.id, Group.name))})
    return labels


def _proposal_view(doc: Document | None) -> dict[str, Any] | None:
    """A draft's pending access proposal with names, for the form's and the view's notice."""
    proposal = proposed_access(doc) if doc is not None else None
    if not proposal:
        return None
    labels = _principal_labels()
    return {
        "source": str(proposal.get("source") or ""),
        "readers": [labels.get(p, p) for p in proposal.get("readers", [])],
        "editors": [labels.get(p, p) for p in proposal.get("editors", [])],
    }


def _with_proposal(values: dict[str, Any], doc: Document) -> dict[str, Any]:
    """Form values with a pending proposal preselected in Zugriff (the user sees and decides)."""
    proposal = proposed_access(doc)
    if proposal:
        values["readers"] = sorted(set(values["readers"]) | set(proposal.get("readers", [])))
        values["editors"] = sorted(set(values["editors"]) | set(proposal.get("editors", [])))
    return values


def _display_value(f: Field, value: Any) -> str:
    """A stored field value as text for the read view and the conflict table (not for richtext)."""
    if value in (None, ""):
        return ""
    if f.kind == "money":
        return formats.money(value)
    if f.kind == "decimal":
        return formats.number(value)
    if f.kind == "date":
        return formats.date(value)
    if f.kind == "datetime":
        try:
            return formats.datetime(dt.datetime.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if f.kind == "boolean":
        return "Ja" if value else "Nein"
    if f.kind == "choice":
        return next((c.label for c in f.choices if c.value == str(value)), str(value))
    if f.kind == "user":
        user = db().get(User, _int_or_none(value) or 0)
        return user.display_name if user else f"#{value}"
    if f.kind == "contact":
        contact = db().get(Contact, _int_or_none(value) or 0)
        return contact.full_name if contact else f"#{value}"
    return str(value)


def _describe_form(values: dict[str, Any], doctype: DocumentType) -> dict[str, str]:
    """Form values as text a person compares (names instead of ids), keyed by a German label."""
    s = db()
    labels = _principal_labels()

    def name(model: Any, raw: Any, attr: str) -> str:
        obj = s.get(model, _int_or_none(raw) or 0)
        return getattr(obj, attr) if obj is not None else ""

    folders = dict(s.execute(select(Folder.id, Folder.name)).all())
    out = {
        "Titel": values["title"].strip(),
        "Unternehmen": name(Company, values["company_id"], "name"),
        "Kontakt": name(Contact, values["contact_id"], "full_name"),
        "Datum": formats.date(values["document_date"]) if values["document_date"] else "",
        "Verantwortlich": name(User, values["responsible_id"], "display_name"),
        "Ordner": ", ".join(sorted(folders.get(_int_or_none(i) or 0, "?") for i in values["folder_ids"])),
        "Aufbewahrungsfrist": values["retention_days"].strip(),
        "Leser": ", ".join(sorted(labels.get(p, p) for p in values["readers"])),
        "Bearbeiter": ", ".join(sorted(labels.get(p, p) for p in values["editors"])),
        "Inhalt": sanitize_html(values["content"]),
    }
    if doctype.statuses:
        status = doctype.status(values["status"])
        out["Status"] = status.label if status else values["status"]
    for f in doctype.fields:
        raw = values["data"].get(f.name)
        if f.kind == "richtext":
            out[f.label] = sanitize_html(str(raw or ""))
            continue
        if f.kind in ("money", "decimal", "integer") and raw not in (None, ""):
            try:
                raw = parse_decimal(raw, formats.current_locale())
            except ValueError:
                pass
        if f.kind == "date" and raw:
            try:
                raw = parse_date(raw).isoformat()
            except ValueError:
                pass
        out[f.label] = _display_value(f, raw) if f.kind != "boolean" else ("Ja" if raw else "Nein")
    return out


def _conflict_info(doc: Document, doctype: DocumentType, mine: dict[str, Any]) -> dict[str, Any]:
    theirs = _describe_form(_form_from_doc(doc, doctype), doctype)
    yours = _describe_form(mine, doctype)
    rows = [(label, yours.get(label, ""), theirs.get(label, "")) for label in theirs if yours.get(label, "") != theirs[label]]
    entries = [e for e in audit.history(db(), "document", doc.id) if e.action != "created"][-5:]
    users = dict(db().execute(select(User.id, User.display_name)).all())
    recent = [(e.at, users.get(e.user_id, "unbekannt") if e.user_id is not None else "unbekannt",
               ACTION_LABELS.get(e.action, e.action)) for e in reversed(entries)]
    return {"rows": rows, "recent": recent, "version": doc.version}


# -- routes -----------------------------------------------------------------------------------


@bp.errorhandler(Forbidden)
def _forbidden(_exc: Forbidden) -> ResponseReturnValue:
    # The viewer may read the document (else NotFound): saying "no right" reveals nothing new.
    title, text = MESSAGES[403]
    return render_template("error.html", code=403, title=title, text=text), 403


@bp.errorhandler(ReadOnly)
def _read_only(exc: ReadOnly) -> ResponseReturnValue:
    doc_id = request.view_args.get("doc_id") if request.view_args else None
    return render_template("documents/readonly.html", message=str(exc) or None, doc_id=doc_id), 409


def _attach_pending(doc: Document, pending: Sequence[PendingUpload]) -> dict[str, str]:
    """Create the rows for carried uploads; an error when a blob vanished meanwhile (gc)."""
    missing = []
    for upload in pending:
        try:
            attach_blob(current_ka(), db(), viewer(), doc, upload.blob, upload.filename)
        except FileNotFoundError:
            missing.append(upload.filename)
    if missing:
        return {"attachments": "Nicht mehr vorhanden, bitte erneut hochladen: " + ", ".join(missing)}
    return {}


def _too_large_form(doctype: DocumentType, values: dict[str, Any], exc: uploads.FileTooLarge, *,
                    doc: Document | None = None, version: int | None = None) -> tuple[str, int]:
    """The form again, everything typed kept, the error at the file field naming the limit."""
    # Tokens of files carried from an earlier attempt stay valid; only this request's files went.
    carried = [u for u in (uploads.verify(t, viewer().user_id) for t in request.form.getlist("upload_token")) if u]
    message = _("Die Datei %(name)s ist zu groß (höchstens %(n)s MB). Alles andere ist erhalten; bitte wählen Sie eine kleinere Datei.",
                name=exc.filename, n=uploads.limit_mb(exc.limit_bytes))
    return _render_form(doctype, values, doc=doc, errors={"attachments": message}, pending=carried, version=version, status=413)


@bp.errorhandler(413)
def _body_too_large(exc: Any) -> ResponseReturnValue:
    """A body beyond MAX_CONTENT_LENGTH never reaches the view (nothing of it could be read): the
    form again, as the import page does, the error at the file field naming the limit."""
    if request.endpoint not in ("documents.new", "documents.edit") or not current_user.is_authenticated:
        return render_error(413)
    args = request.view_args or {}
    ka = current_ka()
    message = _("Die Dateien sind zusammen zu groß (höchstens %(n)s MB). Die Eingaben dieses Versuchs konnten nicht "
                "übertragen werden; bitte wählen Sie kleinere Dateien.", n=uploads.limit_mb())
    if request.endpoint == "documents.new":
        doctype = ka.types.get(str(args.get("type_key", "")))
        if doctype is None:
            return render_error(413)
        values = _form_defaults(doctype, contact_id=None, company_id=None, parent_id=None)
        return _render_form(doctype, values, errors={"attachments": message}, status=413)
    s, v = db(), viewer()
    doc = get_readable(s, v, int(args.get("doc_id", 0)))
    doctype = ka.types.get(doc.type_key)
    if doctype is None or not acl.can_edit(s, v, doc.id):
        return render_error(413)
    return _render_form(doctype, _form_from_doc(doc, doctype), doc=doc, errors={"attachments": message}, status=413)


MAX_TAKEN_OVER = 20


def _taken_over(raw_ids: Sequence[str]) -> list[PendingUpload]:
    """Files of other documents offered for a new one (``?anhang_aus=<attachment id>``, e.g. a voucher's
    PDF for "Per E-Mail senden"): only what the viewer may read now; attached on save like an upload,
    with its own audit entry (the content is stored once)."""
    s, v = db(), viewer()
    out: list[PendingUpload] = []
    for raw in raw_ids[:MAX_TAKEN_OVER]:
        ident = _int_or_none(raw)
        att = s.get(Attachment, ident) if ident else None
        if att is None or att.inline or not acl.can_read(s, v, att.document_id):
            continue  # unreadable == missing: the page does not say whether it exists
        upload = PendingUpload(att.sha256, att.filename, att.mime_type, att.size)
        out.append(PendingUpload(att.sha256, att.filename, att.mime_type, att.size, uploads.sign(upload, v.user_id)))
    return out


@bp.route("/dokumente/neu/<type_key>", methods=["GET", "POST"])
@login_required
def new(type_key: str) -> ResponseReturnValue:
    doctype = _doctype_or_404(type_key)
    if request.method == "GET":
        values = _form_defaults(
            doctype,
            contact_id=_int_or_none(request.args.get("contact_id")),
            company_id=_int_or_none(request.args.get("company_id")),
            parent_id=_int_or_none(request.args.get("parent_id")),
        )
        return _render_form(doctype, values, pending=_taken_over(request.args.getlist("anhang_aus")))

    values = _form_from_request(doctype)
    try:
        pending = uploads.receive(viewer().user_id)
    except uploads.FileTooLarge as exc:
        return _too_large_form(doctype, values, exc)
    picker_errors = _resolve_pickers(values, doctype)
    ka, s = current_ka(), db()
    try:
        doc = create_document(ka, s, viewer(), type_key, _input_from_form(values, doctype, creating=True))
        if picker_errors:
            raise ValidationError(picker_errors)
        errors = _attach_pending(doc, pending)
        if errors:
            raise ValidationError(errors)
        s.commit()
    except ValidationError as exc:
        s.rollback()
        return _render_form(doctype, values, errors=picker_errors | exc.errors, pending=pending, status=422)
    flash("Dokument angelegt.")
    return redirect(url_for("documents.view", doc_id=doc.id))


def _document_actions(doc: Document, editable: bool) -> tuple[list[Any], list[Any]]:
    """The plugins' actions for a document: (entries of the "…" menu, buttons of the toolbar)."""
    s, v, ka = db(), viewer(), current_ka()
    items = for_display(
        (item for _plugin, item in ka.collect("document_actions", s, document=doc, viewer=v, can_edit=editable) if item),
        language(),
    )
    return [i for i in items if not i.toolbar], [i for i in items if i.toolbar]


def _notices(doc: Document | None) -> list[str]:
    """What plugins say the user must know about this document (page_notices)."""
    ka = current_ka()
    return [message_text(n) for _p, n in ka.collect("page_notices", db(), ka=ka, viewer=viewer(), page="document", document=doc)
            if n]


def _history_row(entry: Any, users: dict[int, str]) -> tuple[Any, str, str, str]:
    """(time, who, what, detail) of one audit entry; a plugin's entry may carry its own sentence."""
    details = entry.details or {}
    text = details.get("text")
    what = str(text) if isinstance(text, str) and text else ACTION_LABELS.get(entry.action, entry.action)
    who = users.get(entry.user_id, "") if entry.user_id else ""
    return entry.at, who or "System", what, str(details.get("filename", "") or "")


@bp.get("/dokumente/<int:doc_id>")
@login_required
def view(doc_id: int) -> ResponseReturnValue:
    s, v, ka = db(), viewer(), current_ka()
    doc = get_readable(s, v, doc_id)
    doctype = ka.types.get(doc.type_key)
    editable = acl.can_edit(s, v, doc.id)
    data = doc.data or {}
    fields = []
    for f in doctype.fields if doctype else ():
        value = data.get(f.name)
        if f.kind == "richtext":
            fields.append((f, sanitize_html(str(value or "")), True))
        else:
            fields.append((f, _display_value(f, value), False))
    labels = _principal_labels()
    readers = [labels.get(e.principal, e.principal) for e in sorted(doc.acl, key=lambda e: e.principal) if e.role == "read"]
    editors = [labels.get(e.principal, e.principal) for e in sorted(doc.acl, key=lambda e: e.principal) if e.role == "edit"]
    actions, toolbar = _document_actions(doc, editable)
    entries = audit.history(s, "document", doc.id)[-HISTORY_LIMIT:]
    users = dict(s.execute(select(User.id, User.display_name)).all())
    history = [_history_row(e, users) for e in reversed(entries)]
    status = doctype.status(doc.status) if doctype and doc.status else None
    read_only = doc.archived or bool(data.get("_locked"))
    return render_template(
        "documents/view.html",
        doc=doc,
        doctype=doctype,
        fields=fields,
        status_label=status.label if status else doc.status,
        readers=readers,
        editors=editors,
        attachments=[a for a in doc.attachments if not a.inline],
        history=history,
        actions=actions,
        toolbar_actions=toolbar,
        notices=_notices(doc),
        can_edit=editable and not read_only,
        can_delete=editable,
        read_only=read_only,
        company_url=_maybe_url("companies.view", company_id=doc.company_id) if doc.company_id else None,
        contact_url=_maybe_url("contacts.view", contact_id=doc.contact_id) if doc.contact_id else None,
        new_url=lambda item: url_for(
            "documents.new", type_key=item.type_key, contact_id=doc.contact_id or None,
            company_id=doc.company_id or None, parent_id=doc.id,
        ),
        content=sanitize_html(doc.content),
        proposal=_proposal_view(doc) if editable and not read_only else None,
        stored_notices=notices(doc),
    )


@bp.route("/dokumente/<int:doc_id>/bearbeiten", methods=["GET", "POST"])
@login_required
def edit(doc_id: int) -> ResponseReturnValue:
    s, v, ka = db(), viewer(), current_ka()
    doc = get_readable(s, v, doc_id)
    if not acl.can_edit(s, v, doc.id):
        raise Forbidden()
    if doc.archived or (doc.data or {}).get("_locked"):
        raise ReadOnly("Archivierte oder versendete Dokumente können nicht mehr geändert werden.")
    doctype = ka.types.get(doc.type_key)
    if doctype is None:
        abort(404)
    if request.method == "GET":
        return _render_form(doctype, _with_proposal(_form_from_doc(doc, doctype), doc), doc=doc)

    if request.form.get("discard") and _discardable(doc):
        return _discard(doc)
    values = _form_from_request(doctype)
    expected = _int_or_none(request.form.get("version"))
    if expected is None:
        abort(400)
    try:
        pending = uploads.receive(v.user_id)
    except uploads.FileTooLarge as exc:
        return _too_large_form(doctype, values, exc, doc=doc, version=expected)
    picker_errors = _resolve_pickers(values, doctype)
    try:
        updated = update_document(ka, s, v, doc_id, _input_from_form(values, doctype, creating=False), expected_version=expected)
        if picker_errors:
            raise ValidationError(picker_errors)
        for raw in request.form.getlist("remove_attachment"):
            att_id = _int_or_none(raw)
            if att_id is not None and any(a.id == att_id for a in updated.attachments):
                remove_attachment(ka, s, v, doc_id, att_id)
        errors = _attach_pending(updated, pending)
        if errors:
            raise ValidationError(errors)
        s.commit()
    except ValidationError as exc:
        s.rollback()
        doc = get_readable(s, v, doc_id)
        return _render_form(doctype, values, doc=doc, errors=picker_errors | exc.errors, pending=pending, version=expected,
                            status=422)
    except Conflict:
        s.rollback()
        doc = get_readable(s, v, doc_id)
        info = _conflict_info(doc, doctype, values)
        # The form now carries the current version: saving again is a conscious overwrite.
        return _render_form(doctype, values, doc=doc, errors=picker_errors, pending=pending, conflict=info,
                            version=doc.version, status=409)
    flash("Gespeichert.")
    # A toolbar action of a plugin ("Senden") saves first, then goes on to its own page.
    then = request.form.get("then", "")
    if then and _local_path(then) and any(menu_url(item) == then for item in _document_actions(updated, True)[1]):
        return redirect(then)
    return redirect(url_for("documents.view", doc_id=doc_id))


def _local_path(target: str) -> bool:
    parts = urlsplit(target)
    return target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc


def _discardable(doc: Document) -> bool:
    """A draft opened with ``?verwerfen=1`` (just created from a template) that nobody saved yet:
    "Abbrechen" deletes it instead of leaving an unwanted draft behind."""
    flag = request.values.get("verwerfen") == "1"
    return flag and doc.version == 1 and doc.author_id == viewer().user_id


def _discard(doc: Document) -> ResponseReturnValue:
    target = (
        (_maybe_url("contacts.view", contact_id=doc.contact_id) if doc.contact_id else None)
        or (_maybe_url("companies.view", company_id=doc.company_id) if doc.company_id else None)
        or url_for("pages.home")
    )
    delete_document(current_ka(), db(), viewer(), doc.id)
    db().commit()
    flash("Der Entwurf wurde verworfen.")
    return redirect(target)


@bp.post("/dokumente/<int:doc_id>/loeschen")
@login_required
def delete(doc_id: int) -> ResponseReturnValue:
    s = db()
    doc = get_readable(s, viewer(), doc_id)
    title = doc.title
    # Back to where the document was filed, so the user sees the list it has left.
    target = (
        (_maybe_url("contacts.view", contact_id=doc.contact_id) if doc.contact_id else None)
        or (_maybe_url("companies.view", company_id=doc.company_id) if doc.company_id else None)
        or url_for("pages.home")
    )
    delete_document(current_ka(), s, viewer(), doc_id)
    s.commit()
    flash(f"„{title}“ wurde gelöscht.")
    return redirect(target)


@bp.get("/dokumente/<int:doc_id>/anhang/<int:attachment_id>")
@login_required
def download(doc_id: int, attachment_id: int) -> ResponseReturnValue:
    att, stream = open_attachment(current_ka(), db(), viewer(), doc_id, attachment_id)
    inline = att.mime_type in INLINE_IMAGE_TYPES and (att.inline or request.args.get("inline") == "1")
    response: Response = send_file(stream, mimetype=att.mime_type, conditional=True, max_age=0,
                                   etag=att.sha256, last_modified=att.created_at)
    response.headers["Content-Disposition"] = content_disposition("inline" if inline else "attachment", att.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A stored file is never a page of ours: no script, no plugins, even when opened directly.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/dokumente/<int:doc_id>/anhang/<int:attachment_id>/entfernen")
@login_required
def remove(doc_id: int, attachment_id: int) -> ResponseReturnValue:
    s = db()
    get_readable(s, viewer(), doc_id)
    remove_attachment(current_ka(), s, viewer(), doc_id, attachment_id)
    s.commit()
    flash("Anhang entfernt.")
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        target = url_for("documents.view", doc_id=doc_id)
    return redirect(target)


@bp.post("/dokumente/<int:doc_id>/bilder")
@login_required
def upload_image(doc_id: int) -> ResponseReturnValue:
    """An image pasted or chosen in the editor: stored as an inline attachment, answered with its URL."""
    s, v, ka = db(), viewer(), current_ka()
    try:
        doc = get_readable(s, v, doc_id)
    except NotFound:
        return jsonify({"error": "Nicht gefunden."}), 404
    part = request.files.get("image")
    if part is None or not part.filename:
        return jsonify({"error": "Keine Datei."}), 400
    try:
        att = add_attachment(ka, s, v, doc, part.stream, part.filename, inline=True)
    except Forbidden:
        return jsonify({"error": "Keine Berechtigung."}), 403
    except ReadOnly as exc:
        return jsonify({"error": str(exc)}), 409
    except UploadTooLarge as exc:
        s.rollback()
        return jsonify({"error": str(exc)}), 413
    if att.mime_type not in INLINE_IMAGE_TYPES:
        s.rollback()  # also removes the blob just stored
        return jsonify({"error": "Nur PNG-, JPEG-, GIF- oder WebP-Bilder."}), 400
    s.commit()
    return jsonify({"url": url_for("documents.download", doc_id=doc_id, attachment_id=att.id, inline=1)})


__all__ = ["bp", "content_disposition"]
