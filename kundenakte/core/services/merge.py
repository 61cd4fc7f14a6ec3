"""Merging two contacts into one, and undoing it from its audit entry.

``merge_contacts`` keeps one contact (the *survivor*) and removes the other:

* per field the caller picks whose value wins (``choices``: field name -> "keep" or "remove",
  for notes also "both"; fields not named keep the survivor's value, or take the other's where
  the survivor has none, and two different notes are both kept);
* e-mail addresses, phone numbers and postal addresses of both are united, each value once
  (``points.value_key``); the choices "email", "phone" and "address" say whose preferred entry
  stays preferred ("address" also whose "company address" setting wins);
* every reference to the removed contact moves to the survivor: each document's ``contact_id``
  and each contact field of a document's type (``Field(kind="contact")`` in ``Document.data``).
  Plugins keep no contact ids of their own (their rows refer to documents). A document keeps
  its company, its author, its responsible user and its ACL: who may read or change it is decided
  per document (core/acl.py), so moving it changes nobody's access;
* the removed contact is deleted; one audit entry ``merged`` on the survivor holds everything
  needed to undo: the removed contact's full row, the survivor's values before and after, the
  choices, the moved documents and data fields, and the removed contact's contact points and
  postal addresses. A second entry ``merged_away`` on the removed id points to it.

``undo_merge`` restores the removed contact and its entries under their old ids (ids are never
reused: ``NEVER_REUSE_IDS`` in core/models.py), moves its documents back and gives the survivor its old
values – each only where nobody changed it since (what was changed is listed as a conflict and
left as it is). The index follows through the mapper events (core/models.py) as for every write.

Who may merge (and undo): an active admin; any other active user only if they may edit every
document the merge moves – contacts themselves are open to every active user (web/contacts.py),
but moving a document's contact is a change of that document, which core/acl.py decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, DateTime, func, not_, or_, select
from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.documents import after_commit
from kundenakte.core.models import AuditEntry, Company, Contact, ContactPoint, Document, PostalAddress, User, utcnow
from kundenakte.core.services import points
from kundenakte.core.services.contacts import CONTACT_FIELDS, CONTACT_LISTS, LABELS, update_contact
from kundenakte.core.services.errors import Forbidden, NotFound
from kundenakte.core.validation import N_, Message, ValidationError

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

KEEP, REMOVE, BOTH = "keep", "remove", "both"
ADDRESS_COLUMNS = ("use_company_address", "street", "postal_code", "city", "country")
# (choice name, columns it sets, German label); the order of the merge dialog. "email", "phone" and
# "address" choose the preferred entry: the lists themselves are always united.
MERGE_FIELDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("gender", ("gender",), LABELS["gender"]),
    ("title", ("title",), LABELS["title"]),
    ("first_name", ("first_name",), LABELS["first_name"]),
    ("last_name", ("last_name",), LABELS["last_name"]),
    ("nickname", ("nickname",), LABELS["nickname"]),
    ("salutation_override", ("salutation_override",), LABELS["salutation_override"]),
    ("language", ("language",), LABELS["language"]),
    ("birthday", ("birthday",), LABELS["birthday"]),
    ("company_id", ("company_id",), LABELS["company_id"]),
    ("department", ("department",), LABELS["department"]),
    ("position", ("position",), LABELS["position"]),
    ("email", ("email",), "Bevorzugte E-Mail"),
    ("phone", ("phone",), "Bevorzugtes Telefon"),
    ("address", ADDRESS_COLUMNS, "Anschrift"),
    ("account_manager_id", ("account_manager_id",), LABELS["account_manager_id"]),
    ("notes", ("notes",), LABELS["notes"]),
)
FIELD_COLUMNS = {name: columns for name, columns, _label in MERGE_FIELDS}
# Fields whose two texts may both be kept, one after the other (nothing of either is lost).
JOINABLE = frozenset({"notes"})
# The survivor's columns a merge may change and an undo sets back (the lists separately).
SCALARS = tuple(c for c in CONTACT_FIELDS if c not in CONTACT_LISTS and c not in ("email", "phone", *ADDRESS_COLUMNS[1:]))
# Values that count as "nothing there": the other contact's value fills them by default.
_EMPTY: tuple[Any, ...] = (None, "", "unknown")


class MergeError(ValidationError):
    """The merge or undo cannot be done; ``errors[""]`` says why in German."""

    def __init__(self, message: Message) -> None:
        super().__init__({"": message})
        self.message = message


# -- rows as JSON and back ---------------------------------------------------------------------------


def _columns(model: Any) -> list[Any]:
    return list(model.__table__.columns)


def row_snapshot(row: Any) -> dict[str, Any]:
    """Every column of ``row`` as JSON values (dates and times in ISO form)."""
    out: dict[str, Any] = {}
    for column in _columns(type(row)):
        value = getattr(row, column.key)
        out[column.key] = value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
    return out


def _from_snapshot(model: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in _columns(model):
        if column.key not in values:
            continue
        value = values[column.key]
        if value is not None and isinstance(column.type, DateTime):
            value = dt.datetime.fromisoformat(value)
        elif value is not None and isinstance(column.type, Date):
            value = dt.date.fromisoformat(value)
        out[column.key] = value
    return out


# -- what a merge would do ----------------------------------------------------------------------------


def _value(contact: Contact, name: str) -> Any:
    columns = FIELD_COLUMNS[name]
    if len(columns) == 1:
        return getattr(contact, columns[0])
    return {c: getattr(contact, c) for c in columns}


def _is_empty(name: str, value: Any) -> bool:
    if name == "address":
        return not any(value[c] for c in ("street", "postal_code", "city"))
    return value in _EMPTY


def default_choices(keep: Contact, remove: Contact) -> dict[str, str]:
    """The survivor's value, except where it has none and the other contact has one; two notes are both kept."""
    choices = {}
    for name, _cols, _label in MERGE_FIELDS:
        mine, theirs = _value(keep, name), _value(remove, name)
        if name in JOINABLE and not _is_empty(name, mine) and not _is_empty(name, theirs) and mine != theirs:
            choices[name] = BOTH
        else:
            choices[name] = REMOVE if _is_empty(name, mine) and not _is_empty(name, theirs) else KEEP
    return choices


@dataclass(frozen=True)
class FieldChoice:
    """One line of the merge dialog."""

    name: str
    label: str
    keep_value: Any
    remove_value: Any
    choice: str

    @property
    def differs(self) -> bool:
        return bool(self.keep_value != self.remove_value)

    @property
    def joinable(self) -> bool:
        return self.name in JOINABLE


def merge_plan(session: Session, keep: Contact, remove: Contact, choices: Mapping[str, str] | None = None) -> list[FieldChoice]:
    """The dialog's lines: both values per field and the current choice (defaults filled in)."""
    wanted = default_choices(keep, remove) | dict(clean_choices(choices or {}))
    return [FieldChoice(name, label, _value(keep, name), _value(remove, name), wanted[name])
            for name, _cols, label in MERGE_FIELDS]


def clean_choices(choices: Mapping[str, str]) -> dict[str, str]:
    """``choices`` checked: known fields, "keep" or "remove" ("both" for notes); ValidationError otherwise."""
    unknown = sorted(set(choices) - set(FIELD_COLUMNS))
    if unknown:
        raise ValidationError({k: N_("Unbekanntes Feld.") for k in unknown})
    bad = sorted(k for k, v in choices.items() if v not in (KEEP, REMOVE) and not (v == BOTH and k in JOINABLE))
    if bad:
        raise ValidationError({k: N_("Bitte einen der angebotenen Werte wählen.") for k in bad})
    return dict(choices)


def lists_of(contact: Contact) -> dict[str, list[dict[str, Any]]]:
    """The contact's e-mails, phones, websites and addresses in the service's input shape.

    A value only in the single column (a bulk import wrote no list entry for it) counts as the
    preferred entry, so a merge carries it over like any other.
    """
    current = points.points_of(contact)
    out: dict[str, list[dict[str, Any]]] = {}
    for key, channel in (("emails", "email"), ("phones", "phone")):
        entries = [dict(e) for e in current[key]]
        scalar = (getattr(contact, channel) or "").strip()
        if scalar and all(points.value_key(channel, e["value"]) != points.value_key(channel, scalar) for e in entries):
            entries = [{"value": scalar, "kind": "work", "preferred": True}] + [dict(e, preferred=False) for e in entries]
        out[key] = entries
    addresses = [dict(a) for a in current["addresses"]]
    if not addresses and not contact.use_company_address and any((contact.street, contact.postal_code, contact.city)):
        addresses = [{"kind": "work" if contact.company_id else "home", "street": contact.street or "", "extra": "",
                      "postal_code": contact.postal_code or "", "city": contact.city or "", "country": contact.country or "",
                      "preferred": True}]
    out["addresses"] = addresses
    out["websites"] = [dict(e) for e in current["websites"]]  # a contact has no single web column
    return out


def _entry_key(key: str, entry: Mapping[str, Any]) -> str:
    if key == "addresses":
        return "|".join(str(entry.get(k, "")).strip().casefold() for k in points.ADDRESS_TEXT)
    return points.value_key(points.CHANNELS[key], entry["value"])


def united_lists(keep: Mapping[str, list[dict[str, Any]]], remove: Mapping[str, list[dict[str, Any]]],
                 preferred_from: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Both contacts' lists as one, each value once (the survivor's first); ``preferred_from`` per list
    key names whose preferred entry stays preferred ("keep" or "remove")."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key in CONTACT_LISTS:
        entries: dict[str, dict[str, Any]] = {}
        for entry in [*keep.get(key, []), *remove.get(key, [])]:
            entries.setdefault(_entry_key(key, entry), dict(entry, preferred=False))
        side = remove if preferred_from.get(key) == REMOVE else keep
        chosen = points.preferred_of(side.get(key, [])) or points.preferred_of(keep.get(key, []) or remove.get(key, []))
        if chosen is not None:
            entries[_entry_key(key, chosen)]["preferred"] = True
        out[key] = list(entries.values())
    return out


def merged_lists(keep: Contact, remove: Contact, wanted: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The survivor's e-mails, phones and addresses after the merge (the dialog's preview shows them)."""
    preferred_from = {"emails": wanted.get("email", KEEP), "phones": wanted.get("phone", KEEP),
                      "addresses": wanted.get("address", KEEP)}
    return united_lists(lists_of(keep), lists_of(remove), preferred_from)


def _merged_values(keep: Contact, remove: Contact, wanted: Mapping[str, str]) -> dict[str, Any]:
    """The survivor's new values (only what changes) for ``update_contact``."""
    values: dict[str, Any] = {}
    for name, columns, _label in MERGE_FIELDS:
        if name in ("email", "phone"):
            continue  # the lists below carry them
        for column in columns:
            if column not in SCALARS:
                continue
            mine, theirs = getattr(keep, column), getattr(remove, column)
            if wanted[name] == BOTH and mine and theirs and mine != theirs:
                values[column] = f"{mine}\n\n{theirs}"
            elif wanted[name] == REMOVE and mine != theirs:
                values[column] = theirs
    before, merged = lists_of(keep), merged_lists(keep, remove, wanted)
    for key in CONTACT_LISTS:
        if merged[key] != before[key]:
            values[key] = merged[key]
    return values


def contact_fields(ka: Kundenakte) -> dict[str, tuple[str, ...]]:
    """Per document type: its fields that hold a contact id (``Field(kind="contact")``)."""
    out = {}
    for doctype in ka.types.all():
        names = tuple(f.name for f in doctype.fields if f.kind == "contact")
        if names:
            out[doctype.key] = names
    return out


def _referring(ka: Kundenakte, session: Session, contact_id: int) -> tuple[list[Document], list[tuple[Document, str]]]:
    """Documents whose contact is ``contact_id``, and (document, field) pairs whose data names it."""
    by_contact = list(session.scalars(select(Document).where(Document.contact_id == contact_id).order_by(Document.id)))
    fields = contact_fields(ka)
    in_data: list[tuple[Document, str]] = []
    if fields:
        # JSON is queried differently on each database; these types' documents are few, so they are read.
        for doc in session.scalars(select(Document).where(Document.type_key.in_(sorted(fields))).order_by(Document.id)):
            for name in fields[doc.type_key]:
                if _same_id((doc.data or {}).get(name), contact_id):
                    in_data.append((doc, name))
    return by_contact, in_data


def _same_id(value: Any, ident: int) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip() == str(ident)


def _require_rights(session: Session, viewer: acl.Viewer, document_ids: set[int]) -> None:
    if viewer.sees_nothing:
        raise Forbidden()
    if viewer.sees_all or not document_ids:
        return
    ids = sorted(document_ids)
    blocked = 0
    for start in range(0, len(ids), 900):
        blocked += int(session.scalar(select(func.count()).select_from(Document).where(
            Document.id.in_(ids[start:start + 900]), not_(acl.editable_clause(viewer)))) or 0)
    if blocked:
        # No count: it would include documents the viewer may not even read (and so tell how many exist).
        raise Forbidden(N_("Zum Zusammenführen fehlen Ihnen Bearbeitungsrechte an Dokumenten dieser Kontakte. Bitte "
                           "wenden Sie sich an eine Administratorin oder einen Administrator."))


def may_merge(ka: Kundenakte, session: Session, viewer: acl.Viewer, remove_id: int) -> bool:
    """Whether ``viewer`` may merge the contact ``remove_id`` away (see the module docstring)."""
    by_contact, in_data = _referring(ka, session, remove_id)
    try:
        _require_rights(session, viewer, {d.id for d in by_contact} | {d.id for d, _ in in_data})
    except Forbidden:
        return False
    return True


# -- merge --------------------------------------------------------------------------------------------


@dataclass
class MergeResult:
    audit_id: int
    survivor_id: int
    removed_id: int
    documents: list[int] = field(default_factory=list)


def _load_pair(session: Session, keep_id: int, remove_id: int) -> tuple[Contact, Contact]:
    if keep_id == remove_id:
        raise MergeError(N_("Ein Kontakt kann nicht mit sich selbst zusammengeführt werden."))
    # Row locks on PostgreSQL: a concurrent merge or a new document for either contact waits for us.
    rows = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_((keep_id, remove_id))).with_for_update())}
    if keep_id not in rows or remove_id not in rows:
        raise NotFound()
    return rows[keep_id], rows[remove_id]


def _survivor_state(contact: Contact) -> dict[str, Any]:
    state = {k: v for k, v in row_snapshot(contact).items() if k in SCALARS}
    state.update(lists_of(contact))
    return state


def merge_contacts(ka: Kundenakte, session: Session, keep_id: int, remove_id: int, choices: Mapping[str, str] | None = None,
                   *, viewer: acl.Viewer) -> MergeResult:
    """Merge contact ``remove_id`` into ``keep_id`` (see the module docstring); the caller commits."""
    keep, remove = _load_pair(session, keep_id, remove_id)
    wanted = default_choices(keep, remove) | clean_choices(choices or {})
    by_contact, in_data = _referring(ka, session, remove_id)
    _require_rights(session, viewer, {d.id for d in by_contact} | {d.id for d, _ in in_data})
    by = viewer.user_id

    snapshot = row_snapshot(remove)
    children = {"points": [row_snapshot(p) for p in remove.points], "addresses": [row_snapshot(a) for a in remove.addresses]}
    before = _survivor_state(keep)
    values = _merged_values(keep, remove, wanted)
    if values:
        update_contact(session, keep, values, by=by, via="merge")

    now = ka.clock.now()
    for doc in by_contact:
        doc.contact_id = keep.id
        doc.updated_at = now
    for doc, name in in_data:
        doc.data = dict(doc.data or {}, **{name: keep.id})
        doc.updated_at = now
    session.flush()  # the documents point to the survivor before the other contact goes
    after = _survivor_state(keep)
    changed = sorted(k for k in after if after[k] != before[k])
    details = {
        "name": keep.full_name,
        "removed_id": remove.id,
        "removed_name": remove.full_name,
        "choices": wanted,
        "changed": changed,
        "before": {k: before[k] for k in changed},
        "after": {k: after[k] for k in changed},
        "removed": snapshot,
        "removed_children": children,
        "documents": [d.id for d in by_contact],
        "data_fields": [[d.id, name] for d, name in in_data],
    }
    entry = AuditEntry(at=utcnow(), user_id=by, action="merged", object_type="contact", object_id=keep.id, details=details)
    session.add(entry)
    session.flush()
    session.add(AuditEntry(at=utcnow(), user_id=by, action="merged_away", object_type="contact", object_id=remove.id,
                           details={"name": remove.full_name, "into": keep.id, "merge_entry": entry.id}))
    touched = sorted({d.id for d in by_contact} | {d.id for d, _ in in_data})
    for doc_id in touched:
        session.add(AuditEntry(at=utcnow(), user_id=by, action="changed", object_type="document", object_id=doc_id,
                               details={"fields": ["contact"], "via": "merge", "merge_entry": entry.id,
                                        "from_contact": remove.id, "to_contact": keep.id}))
        after_commit(ka, session, "document_saved", document_id=doc_id, created=False, user_id=by)
    session.delete(remove)  # its contact points and addresses go with it (ON DELETE CASCADE)
    session.flush()
    return MergeResult(audit_id=entry.id, survivor_id=keep.id, removed_id=remove_id, documents=touched)


# -- undo ---------------------------------------------------------------------------------------------


@dataclass
class UndoResult:
    contact_id: int
    survivor_id: int
    documents: list[int] = field(default_factory=list)
    # What was changed since the merge and therefore left as it is (German sentences).
    conflicts: list[str] = field(default_factory=list)


def merge_entry(session: Session, audit_id: int) -> AuditEntry:
    """The ``merged`` audit entry ``audit_id``; NotFound for any other."""
    entry = session.get(AuditEntry, audit_id) if 0 < audit_id < 2**63 else None
    if entry is None or entry.action != "merged" or entry.object_type != "contact":
        raise NotFound()
    return entry


def undo_entry(session: Session, entry: AuditEntry) -> AuditEntry | None:
    """The entry that undid the merge ``entry``, if any."""
    for other in session.scalars(select(AuditEntry).where(
            AuditEntry.action == "merge_undone", AuditEntry.object_type == "contact",
            AuditEntry.object_id == entry.object_id).order_by(AuditEntry.id)):
        if (other.details or {}).get("merge_entry") == entry.id:
            return other
    return None


def _restore_removed(session: Session, details: Mapping[str, Any], now: dt.datetime, conflicts: list[str]) -> Contact:
    values = _from_snapshot(Contact, details["removed"])
    if values.get("company_id") is not None and session.get(Company, values["company_id"]) is None:
        values["company_id"] = None
        values["use_company_address"] = False
        conflicts.append(N_("Das Unternehmen des Kontakts gibt es nicht mehr."))
    if values.get("account_manager_id") is not None and session.get(User, values["account_manager_id"]) is None:
        values["account_manager_id"] = None
    values["updated_at"] = now
    restored = Contact(**values)
    children = details.get("removed_children", {})
    # Under their old ids too: nothing else can have taken them (NEVER_REUSE_IDS).
    restored.points = [ContactPoint(**_from_snapshot(ContactPoint, p)) for p in children.get("points", [])]
    restored.addresses = [PostalAddress(**_from_snapshot(PostalAddress, a)) for a in children.get("addresses", [])]
    session.add(restored)
    session.flush()
    return restored


def _reset_survivor(session: Session, survivor: Contact, details: Mapping[str, Any], by: int | None,
                    conflicts: list[str]) -> None:
    before, after = details.get("before", {}), details.get("after", {})
    current = _survivor_state(survivor)
    reset: dict[str, Any] = {}
    for key in details.get("changed", []):
        if current.get(key) == after.get(key):
            reset[key] = before.get(key)
        else:
            conflicts.append(N_("Seit der Zusammenführung am verbleibenden Kontakt geändert und daher belassen: %(field)s.",
                                field=LABELS.get(key, key)))
    lists = {k: reset.pop(k) for k in CONTACT_LISTS if k in reset}
    reset = _from_snapshot(Contact, reset)
    if reset.get("company_id") is not None and session.get(Company, reset["company_id"]) is None:
        reset.pop("company_id")
    if reset.get("account_manager_id") is not None and session.get(User, reset["account_manager_id"]) is None:
        reset.pop("account_manager_id")
    reset.update(lists)
    if reset:
        update_contact(session, survivor, reset, by=by, via="merge-undo")


def undo_merge(ka: Kundenakte, session: Session, audit_id: int, *, viewer: acl.Viewer) -> UndoResult:
    """Undo the merge recorded in ``audit_id`` (see the module docstring); the caller commits."""
    entry = merge_entry(session, audit_id)
    details = dict(entry.details or {})
    removed_id = int(details["removed_id"])
    survivor_id = int(entry.object_id or 0)
    if undo_entry(session, entry) is not None or session.get(Contact, removed_id) is not None:
        raise MergeError(N_("Diese Zusammenführung wurde bereits rückgängig gemacht."))
    survivor = session.get(Contact, survivor_id)
    doc_ids = [int(i) for i in details.get("documents", [])]
    data_fields = [(int(i), str(name)) for i, name in details.get("data_fields", [])]
    wanted_ids = sorted(set(doc_ids) | {i for i, _ in data_fields})
    docs = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(wanted_ids)))} if wanted_ids else {}
    back = [docs[i] for i in doc_ids if i in docs and docs[i].contact_id == survivor_id]
    back_data = [(docs[i], name) for i, name in data_fields if i in docs and _same_id((docs[i].data or {}).get(name), survivor_id)]
    _require_rights(session, viewer, {d.id for d in back} | {d.id for d, _ in back_data})
    by = viewer.user_id
    conflicts: list[str] = []
    now = ka.clock.now()

    restored = _restore_removed(session, details, now, conflicts)
    if survivor is None:
        conflicts.append(N_("Den verbleibenden Kontakt gibt es nicht mehr; seine Werte wurden nicht zurückgesetzt."))
    else:
        _reset_survivor(session, survivor, details, by, conflicts)
    moved_elsewhere = len(set(doc_ids)) - len(back)
    if moved_elsewhere:
        conflicts.append(N_("%(n)s Dokument(e) wurden seitdem gelöscht oder einem anderen Kontakt zugeordnet und bleiben dort.",
                            n=moved_elsewhere))

    for doc in back:
        doc.contact_id = removed_id
        doc.updated_at = now
    for doc, name in back_data:
        doc.data = dict(doc.data or {}, **{name: removed_id})
        doc.updated_at = now
    session.flush()
    undo = AuditEntry(at=utcnow(), user_id=by, action="merge_undone", object_type="contact", object_id=survivor_id,
                      details={"merge_entry": entry.id, "restored_id": removed_id, "conflicts": list(conflicts)})
    session.add(undo)
    session.add(AuditEntry(at=utcnow(), user_id=by, action="restored", object_type="contact", object_id=removed_id,
                           details={"name": restored.full_name, "merge_entry": entry.id}))
    touched = sorted({d.id for d in back} | {d.id for d, _ in back_data})
    for doc_id in touched:
        session.add(AuditEntry(at=utcnow(), user_id=by, action="changed", object_type="document", object_id=doc_id,
                               details={"fields": ["contact"], "via": "merge-undo", "merge_entry": entry.id,
                                        "from_contact": survivor_id, "to_contact": removed_id}))
        after_commit(ka, session, "document_saved", document_id=doc_id, created=False, user_id=by)
    session.flush()
    return UndoResult(contact_id=removed_id, survivor_id=survivor_id, documents=touched, conflicts=conflicts)


def merges_of(session: Session, contact_id: int) -> list[AuditEntry]:
    """The merges into ``contact_id`` that are not undone, newest first (for its page's undo button)."""
    entries = list(session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "contact", AuditEntry.object_id == contact_id,
        or_(AuditEntry.action == "merged", AuditEntry.action == "merge_undone")).order_by(AuditEntry.id.desc())))
    undone = {(e.details or {}).get("merge_entry") for e in entries if e.action == "merge_undone"}
    return [e for e in entries if e.action == "merged" and e.id not in undone]
