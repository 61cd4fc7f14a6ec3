"""Creating, changing, archiving and deleting documents: validation, permission, audit, events.

Every write checks permission before it changes anything, validates against the type's
declaration (all field errors at once), queues the index update in the same transaction and fires
the ``document_*`` events only once the transaction has committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kundenakte.core import acl, audit
from kundenakte.core.doctypes import DocumentType, ValidationError, parse_date, validate_data
from kundenakte.core.html import sanitize_html
from kundenakte.core.models import Company, Contact, Document, DocumentAcl, Folder, IndexQueue, User
from kundenakte.core.unit_of_work import unit_of

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte


# Larger ids cannot exist and would overflow the database driver (a 500 instead of a 404).
MAX_ID = 2**63 - 1


class NotFound(Exception):
    """The document does not exist or the viewer may not read it (indistinguishable on purpose)."""


class Forbidden(Exception):
    """The viewer may read the document but not change it."""


class Conflict(Exception):
    """Someone else saved the document since the viewer loaded it."""

    def __init__(self, current_version: int) -> None:
        super().__init__("Das Dokument wurde inzwischen von jemand anderem gespeichert.")
        self.current_version = current_version


class ReadOnly(Exception):
    """Archived (or sent) documents cannot be changed."""


@dataclass
class DocumentInput:
    """What a form or API call submits; unset fields keep their current value on update."""

    title: str | None = None
    company_id: int | None = None
    contact_id: int | None = None
    document_date: Any = None
    status: str | None = None
    content: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    folder_ids: list[int] | None = None
    retention_days: Any = None
    readers: list[str] | None = None
    editors: list[str] | None = None
    responsible_id: int | None = None
    parent_id: int | None = None
    # Which of the above were submitted; None means "all of them" (a complete form or create call).
    given: set[str] | None = None
    # The locale the numbers in ``data`` were typed in (a web form); None: machine input (API, import).
    locale: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DocumentInput:
        known = {f for f in cls.__dataclass_fields__ if f not in ("given", "locale")}
        unknown = set(values) - known
        if unknown:
            raise ValidationError({k: "Unbekanntes Feld." for k in sorted(unknown)})
        inp = cls(**{k: v for k, v in values.items()})
        inp.given = set(values)
        return inp


# Access someone other than the creating user proposed for a new draft (a template's "Leser der
# erstellten Dokumente"). Kept in the draft's data, shown prefilled in its Zugriff section and
# granted only when the creating user saves that section; any explicit ACL change drops it.
PROPOSED_ACCESS = "_proposed_access"


def propose_access(doc: Document, *, source: str, readers: Iterable[str], editors: Iterable[str]) -> None:
    """Attach an access proposal to a draft; nothing is granted by this."""
    readers, editors = sorted(set(readers)), sorted(set(editors))
    data = dict(doc.data or {})
    if readers or editors:
        data[PROPOSED_ACCESS] = {"source": source, "readers": readers, "editors": editors}
    else:
        data.pop(PROPOSED_ACCESS, None)
    doc.data = data


def proposed_access(doc: Document) -> dict[str, Any] | None:
    """The draft's pending proposal (``source``, ``readers``, ``editors``), or None."""
    proposal = (doc.data or {}).get(PROPOSED_ACCESS)
    return proposal if isinstance(proposal, dict) else None


def queue_index(session: Session, key: str) -> None:
    """Queue an index entry by hand; rarely needed: every change of a document, contact or company
    row (and a folder rename) is queued by the mapper events in ``core/models.py``."""
    session.add(IndexQueue(object_key=key))


def after_commit(ka: Kundenakte, session: Session, hook: str, **kwargs: Any) -> None:
    """Call ``hook`` on the enabled plugins (with ``ka`` and ``kwargs``) once this transaction commits.

    Never called for a rolled-back transaction. Plugins fire their own hookspecs (``add_hookspecs``)
    this way too.
    """
    unit_of(session).events.append((hook, kwargs))


_after_commit = after_commit  # the name plugins used before it was public


def load_for_write(session: Session, viewer: acl.Viewer, document_id: int, *, check_read_only: bool = True) -> Document:
    """The document if the viewer may change it: NotFound (unreadable == missing), Forbidden, ReadOnly.

    Every write path (documents, attachments, plugins' actions) starts here, before changing anything.
    """
    doc = session.get(Document, document_id) if 0 < document_id <= MAX_ID else None
    if doc is None or not acl.can_read(session, viewer, document_id):
        raise NotFound()
    if not acl.can_edit(session, viewer, document_id):
        raise Forbidden()
    if check_read_only and (doc.archived_at is not None or (doc.data or {}).get("_locked")):
        raise ReadOnly("Archivierte oder versendete Dokumente können nicht mehr geändert werden.")
    return doc


def _optional_int(value: Any, name: str, errors: dict[str, str]) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[name] = "Ungültige Auswahl."
        return None


def _apply(
    ka: Kundenakte,
    session: Session,
    viewer: acl.Viewer,
    doc: Document,
    doctype: DocumentType,
    inp: DocumentInput,
    *,
    creating: bool,
) -> None:
    """Validate everything first, then change the row; raise ValidationError with all errors."""
    errors: dict[str, str] = {}
    given = inp.given if inp.given is not None else set(DocumentInput.__dataclass_fields__)

    title = doc.title
    if creating or "title" in given:
        title = (inp.title or "").strip()
        if not title:
            errors["title"] = "Bitte einen Titel angeben."
        elif len(title) > 300:
            errors["title"] = "Höchstens 300 Zeichen."

    company_id = doc.company_id
    contact_id = doc.contact_id
    if creating or "company_id" in given:
        company_id = _optional_int(inp.company_id, "company_id", errors)
        if company_id is not None and session.get(Company, company_id) is None:
            errors["company_id"] = "Unbekanntes Unternehmen."
    if creating or "contact_id" in given:
        contact_id = _optional_int(inp.contact_id, "contact_id", errors)
        contact = session.get(Contact, contact_id) if contact_id is not None else None
        if contact_id is not None and contact is None:
            errors["contact_id"] = "Unbekannter Kontakt."
        elif contact is not None:
            if company_id is None:
                company_id = contact.company_id
            elif contact.company_id not in (None, company_id):
                errors["contact_id"] = "Der Kontakt gehört zu einem anderen Unternehmen."

    document_date = doc.document_date
    if creating or "document_date" in given:
        if inp.document_date in (None, ""):
            document_date = ka.clock.today()
        else:
            try:
                document_date = parse_date(inp.document_date)
            except ValueError as exc:
                errors["document_date"] = str(exc)

    status = doc.status
    if creating or "status" in given:
        status = inp.status or (doc.status if not creating else doctype.default_status)
        if doctype.statuses and doctype.status(status) is None:
            errors["status"] = "Bitte einen der angebotenen Status wählen."

    retention = doc.retention_days
    if creating or "retention_days" in given:
        raw = inp.retention_days
        if raw in (None, ""):
            retention = doctype.retention_days if creating else None
        else:
            try:
                retention = int(raw)
                if retention < 0 or retention > 365 * 100:
                    raise ValueError
            except (TypeError, ValueError):
                errors["retention_days"] = "Bitte eine Anzahl Tage zwischen 0 und 36500 angeben."

    responsible_id = doc.responsible_id
    if creating or "responsible_id" in given:
        responsible_id = _optional_int(inp.responsible_id, "responsible_id", errors)
        if responsible_id is not None and session.get(User, responsible_id) is None:
            errors["responsible_id"] = "Unbekannter Benutzer."
        if creating and responsible_id is None:
            responsible_id = viewer.user_id

    parent_id = doc.parent_id
    if creating or "parent_id" in given:
        parent_id = _optional_int(inp.parent_id, "parent_id", errors)
        if parent_id is not None and not acl.can_read(session, viewer, parent_id):
            errors["parent_id"] = "Unbekanntes Dokument."

    folders: list[Folder] | None = None
    if creating or "folder_ids" in given:
        ids = [int(i) for i in (inp.folder_ids or []) if str(i).strip()]
        if not ids and creating and doctype.default_folders:
            ids = list(session.scalars(select(Folder.id).where(Folder.name.in_(doctype.default_folders))))
        folders = list(session.scalars(select(Folder).where(Folder.id.in_(ids)))) if ids else []
        if len(folders) != len(set(ids)):
            errors["folder_ids"] = "Unbekannter Ordner."

    acl_rows: list[tuple[str, str]] | None = None
    if creating or "readers" in given or "editors" in given:
        readers = inp.readers if inp.readers is not None else ([] if not creating else list(doctype.default_readers))
        editors = inp.editors if inp.editors is not None else ([] if not creating else list(doctype.default_editors))
        try:
            acl_rows = _acl_rows(session, readers, editors)
        except ValueError as exc:
            errors["readers"] = str(exc)

    data = dict(doc.data or {})
    if acl_rows is not None and not creating:
        data.pop(PROPOSED_ACCESS, None)  # the user has decided who gets access
    if creating or "data" in given:
        users = set(session.scalars(select(User.id)))
        try:
            cleaned = validate_data(doctype, inp.data or {}, known_users=users, partial=not creating, locale=inp.locale)
            data.update(cleaned)
        except ValidationError as exc:
            errors.update({f"data.{k}": v for k, v in exc.errors.items()})

    if errors:
        raise ValidationError(errors)

    doc.title = title
    doc.company_id = company_id
    doc.contact_id = contact_id
    doc.document_date = document_date
    doc.status = status
    doc.retention_days = retention
    doc.responsible_id = responsible_id
    doc.parent_id = parent_id
    doc.data = data
    if creating or "content" in given:
        doc.content = sanitize_html(inp.content)
    if folders is not None:
        doc.folders = folders
    if acl_rows is not None:
        doc.acl = [DocumentAcl(principal=p, role=r) for p, r in acl_rows]
    doc.amount = _mirror_amount(doctype, data)
    doc.due_date = _mirror_due(doctype, data)
    doc.archive_due = archive_due_date(doc)


def _acl_rows(session: Session, readers: Iterable[str], editors: Iterable[str]) -> list[tuple[str, str]]:
    rows: dict[str, str] = {}
    for raw in readers:
        if str(raw).strip():
            rows[acl.parse_principal(str(raw))] = "read"
    for raw in editors:
        if str(raw).strip():
            rows[acl.parse_principal(str(raw))] = "edit"
    from kundenakte.core.models import Group

    user_ids = {int(p[2:]) for p in rows if p.startswith("u:")}
    group_ids = {int(p[2:]) for p in rows if p.startswith("g:")}
    if user_ids and len(set(session.scalars(select(User.id).where(User.id.in_(user_ids))))) != len(user_ids):
        raise ValueError("Unbekannter Benutzer in Leser/Bearbeiter.")
    if group_ids and len(set(session.scalars(select(Group.id).where(Group.id.in_(group_ids))))) != len(group_ids):
        raise ValueError("Unbekannte Gruppe in Leser/Bearbeiter.")
    return sorted(rows.items())


def _mirror_amount(doctype: DocumentType, data: Mapping[str, Any]) -> Any:
    from decimal import Decimal

    if not doctype.amount_field:
        return None
    value = data.get(doctype.amount_field)
    return Decimal(str(value)) if value not in (None, "") else None


def _mirror_due(doctype: DocumentType, data: Mapping[str, Any]) -> dt.date | None:
    if not doctype.due_field:
        return None
    value = data.get(doctype.due_field)
    return dt.date.fromisoformat(value) if value else None


def archive_due_date(doc: Document) -> dt.date | None:
    """The day a document's retention period ends; counted from its date (or creation)."""
    if doc.retention_days is None:
        return None
    start = doc.document_date or (doc.created_at.date() if doc.created_at else dt.date.today())
    return start + dt.timedelta(days=doc.retention_days)


def create_document(ka: Kundenakte, session: Session, viewer: acl.Viewer, type_key: str, inp: DocumentInput) -> Document:
    """Create a document of an enabled type for the viewer; the caller commits."""
    if viewer.sees_nothing:
        raise Forbidden()
    doctype = ka.types.get(type_key)
    if doctype is None or doctype.plugin in ka.disabled_plugins(session):
        raise ValidationError({"type_key": "Unbekannter Dokumenttyp."})
    now = ka.clock.now()
    doc = Document(type_key=type_key, author_id=viewer.user_id, version=1, created_at=now, updated_at=now, data={})
    _apply(ka, session, viewer, doc, doctype, inp, creating=True)
    session.add(doc)
    ka.plugins.call("prepare_document", disabled=ka.disabled_plugins(session), strict=True, ka=ka, session=session, document=doc,
                    created=True)
    session.flush()  # the mapper events queue the index (core/models.py)
    audit.record(session, viewer.user_id, "created", "document", doc.id, type=type_key, title=doc.title)
    _after_commit(ka, session, "document_saved", document_id=doc.id, created=True, user_id=viewer.user_id)
    return doc


def update_document(
    ka: Kundenakte,
    session: Session,
    viewer: acl.Viewer,
    document_id: int,
    inp: DocumentInput,
    *,
    expected_version: int | None,
) -> Document:
    """Change a document the viewer may edit; a stale ``expected_version`` raises Conflict."""
    doc = load_for_write(session, viewer, document_id)
    if expected_version is not None and doc.version != int(expected_version):
        raise Conflict(doc.version)
    doctype = ka.types.get(doc.type_key)
    if doctype is None:
        raise ValidationError({"type_key": "Der Dokumenttyp ist nicht verfügbar (Plugin deaktiviert)."})
    before = {"title": doc.title, "status": doc.status}
    disabled = ka.disabled_plugins(session)
    # One UPDATE per save (one version step): no flush until every change, plugins' included, is made.
    with session.no_autoflush:
        _apply(ka, session, viewer, doc, doctype, inp, creating=False)
        doc.updated_at = ka.clock.now()  # also makes the row dirty, so the version check always runs
        ka.plugins.call("prepare_document", disabled=disabled, strict=True, ka=ka, session=session, document=doc, created=False)
    try:
        session.flush()
    except StaleDataError:
        # Another transaction committed a new version between our read and our write.
        session.rollback()
        raise Conflict(int(session.scalar(select(Document.version).where(Document.id == document_id)) or 0)) from None
    changed = sorted(inp.given) if inp.given is not None else ["*"]
    audit.record(session, viewer.user_id, "changed", "document", doc.id, fields=changed, before=before)
    _after_commit(ka, session, "document_saved", document_id=doc.id, created=False, user_id=viewer.user_id)
    return doc


def set_document_state(
    ka: Kundenakte,
    session: Session,
    doc: Document,
    *,
    status: str | None = None,
    data_changes: Mapping[str, Any] | None = None,
    by: int | None,
    audit_action: str | None = "changed",
    **audit_details: Any,
) -> Document:
    """Change a document's status and/or data outside its form: the public write path for plugins.

    For states a plugin's own workflow sets (a mail's delivery status, a voucher's totals): no
    permission check (the caller decided; ``load_for_write`` is the check for a user's action),
    no field validation. ``data_changes`` sets keys, a value of None removes the key; the amount and
    due-date columns follow the type's mirrored fields. The index is queued and ``document_saved``
    fires after the commit, as for every save. ``audit_action`` names the audit entry ("changed"
    with the changed keys by default); None when the caller records a more specific entry itself.
    """
    if data_changes:
        data = dict(doc.data or {})
        for key, value in data_changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        doc.data = data
        doctype = ka.types.get(doc.type_key)
        if doctype is not None and doctype.amount_field and doctype.amount_field in data_changes:
            doc.amount = _mirror_amount(doctype, data)
        if doctype is not None and doctype.due_field and doctype.due_field in data_changes:
            doc.due_date = _mirror_due(doctype, data)
    if status is not None:
        doc.status = status
    doc.updated_at = ka.clock.now()  # the row changes, so the mapper events queue the index
    if audit_action is not None:
        details: dict[str, Any] = {"status": status} if status is not None else {}
        details.update(fields=sorted(data_changes or {}), **audit_details)
        audit.record(session, by, audit_action, "document", doc.id, **details)
    after_commit(ka, session, "document_saved", document_id=doc.id, created=False, user_id=by)
    return doc


def delete_document(ka: Kundenakte, session: Session, viewer: acl.Viewer, document_id: int) -> None:
    doc = load_for_write(session, viewer, document_id, check_read_only=False)
    shas = [a.sha256 for a in doc.attachments]
    audit.record(session, viewer.user_id, "deleted", "document", doc.id, type=doc.type_key, title=doc.title)
    session.delete(doc)
    _after_commit(ka, session, "document_deleted", document_id=document_id, user_id=viewer.user_id)
    unit_of(session).blobs_to_check.extend(shas)


def get_readable(session: Session, viewer: acl.Viewer, document_id: int) -> Document:
    """Load one document the viewer may read, else NotFound (never reveal that it exists)."""
    if not 0 < document_id <= MAX_ID:
        raise NotFound()
    doc = session.scalar(select(Document).where(Document.id == document_id, acl.readable_clause(viewer)))
    if doc is None:
        raise NotFound()
    return doc
