"""Kontakte → Dubletten: the groups of probable duplicates, the merge dialog (per field, preview,
confirm) and the merge's result page with its undo button. Works without script: every step is a
plain form.

The rules live in the services (core/services/duplicates.py and merge.py): who may merge, what
moves, what the audit entry keeps. This module only shows them and passes the choices on.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select

from kundenakte.core import acl
from kundenakte.core.documents import MAX_ID
from kundenakte.core.models import Company, Contact, Document, User
from kundenakte.core.services import Forbidden, NotFound, ValidationError
from kundenakte.core.services.duplicates import find_duplicates
from kundenakte.core.services.merge import (
    BOTH,
    KEEP,
    MERGE_FIELDS,
    REMOVE,
    FieldChoice,
    may_merge,
    merge_contacts,
    merge_entry,
    merge_plan,
    merged_lists,
    merges_of,
    undo_entry,
    undo_merge,
)
from kundenakte.core.validation import N_
from kundenakte.web import formats
from kundenakte.web.context import current_ka, db, login_required, viewer
from kundenakte.web.errors import field_messages
from kundenakte.web.pages import Pager, int_arg

bp = Blueprint("duplicates", __name__)

GROUPS_PER_PAGE = 30
GENDER_LABELS = {"female": N_("Frau"), "male": N_("Herr"), "diverse": N_("Divers"), "unknown": N_("keine Angabe")}
LANGUAGE_LABELS = {"de": N_("Deutsch"), "en": N_("Englisch")}
# The merge fields' labels (core/services/merge.py) as msgids, so the catalogue has them all.
FIELD_LABELS = (N_("Geschlecht"), N_("Titel"), N_("Vorname"), N_("Nachname"), N_("Briefanrede"), N_("Sprache"), N_("Firma"),
                N_("Position"), N_("E-Mail"), N_("Telefon"), N_("Anschrift"), N_("Kundenbetreuer"), N_("Straße"), N_("PLZ"),
                N_("Ort"), N_("Land"), N_("Firmenadresse verwenden"), N_("Spitzname"), N_("Geburtstag"), N_("Abteilung"),
                N_("Notizen"), N_("Bevorzugte E-Mail"), N_("Bevorzugtes Telefon"), N_("E-Mail-Adressen"),
                N_("Telefonnummern"), N_("Adressen"))


def _require_user() -> acl.Viewer:
    current = viewer()
    if current.sees_nothing:
        abort(403)
    return current


@bp.route("/kontakte/dubletten")
@login_required
def index() -> ResponseReturnValue:
    _require_user()
    groups = find_duplicates(db())
    page = int_arg("seite")
    pager = Pager(page, GROUPS_PER_PAGE, len(groups))
    page = min(page, pager.pages)
    pager = Pager(page, GROUPS_PER_PAGE, len(groups))
    shown = groups[(page - 1) * GROUPS_PER_PAGE: page * GROUPS_PER_PAGE]
    ids = sorted({i for g in shown for i in g.contact_ids})
    contacts = {c.id: c for c in db().scalars(select(Contact).where(Contact.id.in_(ids)))} if ids else {}
    companies = _company_names({c.company_id for c in contacts.values()})
    return render_template("duplicates/index.html", groups=shown, pager=pager, contacts=contacts, companies=companies)


def _company_names(ids: set[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    return {row.id: row.name for row in db().execute(select(Company.id, Company.name).where(Company.id.in_(wanted)))}


def _display(choice: FieldChoice, value: Any) -> str:
    """A field's value as the dialog shows it (names for ids, labels for keys)."""
    if choice.name == "company_id":
        return _company_names({value}).get(value, "") if value else ""
    if choice.name == "account_manager_id":
        user = db().get(User, value) if value else None
        return user.display_name if user else ""
    if choice.name == "gender":
        return str(_(GENDER_LABELS.get(value, str(value))))
    if choice.name == "language":
        return str(_(LANGUAGE_LABELS.get(value, str(value))))
    if choice.name == "birthday":
        return formats.date(value) if value else ""
    if choice.name == "address":
        lines = [value["street"], " ".join(x for x in (value["postal_code"], value["city"]) if x), value["country"]]
        text = ", ".join(x for x in lines if x)
        if value["use_company_address"]:
            text += " (" + _("Adresse des Unternehmens") + ")"
        return text
    return str(value or "")


def _pair() -> tuple[Contact, Contact]:
    keep_id, remove_id = request.values.get("behalten", type=int), request.values.get("entfernen", type=int)
    if keep_id is None or remove_id is None or keep_id == remove_id or not (0 < keep_id <= MAX_ID and 0 < remove_id <= MAX_ID):
        abort(404)
    keep, remove = db().get(Contact, keep_id), db().get(Contact, remove_id)
    if keep is None or remove is None:
        abort(404)
    return keep, remove


def _posted_choices() -> dict[str, str]:
    return {name: request.form[name] for name, _c, _l in MERGE_FIELDS if request.form.get(name) in (KEEP, REMOVE, BOTH)}


def _document_count(contact_id: int) -> int:
    """The removed contact's documents the viewer may read (whoever may merge may read them all)."""
    return int(db().scalar(select(func.count()).select_from(Document).where(
        Document.contact_id == contact_id, acl.readable_clause(viewer()))) or 0)


@bp.route("/kontakte/zusammenfuehren", methods=["GET", "POST"])
@login_required
def merge() -> ResponseReturnValue:
    current = _require_user()
    keep, remove = _pair()
    choices = _posted_choices() if request.method == "POST" else {}
    action = request.form.get("aktion", "") if request.method == "POST" else ""
    error = ""
    if action == "zusammenfuehren":
        try:
            result = merge_contacts(current_ka(), db(), keep.id, remove.id, choices, viewer=current)
        except Forbidden as exc:
            db().rollback()
            error = field_messages({"": exc.args[0]})[""] if exc.args else _("Für diese Aktion fehlen Ihnen die Rechte.")
        except ValidationError as exc:
            db().rollback()
            error = " ".join(field_messages(exc.errors).values())
        except NotFound:
            abort(404)
        else:
            db().commit()
            flash(_("Die Kontakte wurden zusammengeführt."), "success")
            return redirect(url_for("duplicates.result", audit_id=result.audit_id))
    try:
        lines = merge_plan(db(), keep, remove, choices)
    except ValidationError:
        abort(400)
    rows = [(line, _display(line, line.keep_value), _display(line, line.remove_value)) for line in lines]
    lists = merged_lists(keep, remove, {line.name: line.choice for line in lines})
    allowed = may_merge(current_ka(), db(), current, remove.id)
    preview = action in ("vorschau", "zusammenfuehren") and not error
    return render_template(
        "duplicates/merge.html", keep=keep, remove=remove, rows=rows, lists=lists, preview=preview, error=error, allowed=allowed,
        documents=_document_count(remove.id), companies=_company_names({keep.company_id, remove.company_id}),
    ), (422 if error else 200)


def _summary(entry: Any) -> dict[str, Any]:
    details = entry.details or {}
    labels = {column: label for _n, columns, label in MERGE_FIELDS for column in columns}
    return {
        "removed_id": details.get("removed_id"),
        "removed_name": details.get("removed_name", ""),
        "documents": len(details.get("documents", [])) + len(details.get("data_fields", [])),
        "changed": sorted({_(labels.get(c, c)) for c in details.get("changed", [])}),
    }


@bp.route("/kontakte/zusammenfuehrung/<int:audit_id>")
@login_required
def result(audit_id: int) -> ResponseReturnValue:
    _require_user()
    try:
        entry = merge_entry(db(), audit_id)
    except NotFound:
        abort(404)
    survivor = db().get(Contact, entry.object_id) if entry.object_id else None
    undone = undo_entry(db(), entry)
    return render_template("duplicates/result.html", entry=entry, survivor=survivor, summary=_summary(entry), undone=undone,
                           author=db().get(User, entry.user_id) if entry.user_id else None)


@bp.route("/kontakte/zusammenfuehrung/<int:audit_id>/rueckgaengig", methods=["POST"])
@login_required
def undo(audit_id: int) -> ResponseReturnValue:
    current = _require_user()
    try:
        outcome = undo_merge(current_ka(), db(), audit_id, viewer=current)
    except NotFound:
        abort(404)
    except Forbidden as exc:
        db().rollback()
        flash(field_messages({"": exc.args[0]})[""] if exc.args else _("Für diese Aktion fehlen Ihnen die Rechte."), "error")
        return redirect(url_for("duplicates.result", audit_id=audit_id))
    except ValidationError as exc:
        db().rollback()
        flash(" ".join(field_messages(exc.errors).values()), "error")
        return redirect(url_for("duplicates.result", audit_id=audit_id))
    db().commit()
    flash(_("Die Zusammenführung wurde rückgängig gemacht."), "success")
    for conflict in field_messages({str(i): text for i, text in enumerate(outcome.conflicts)}).values():
        flash(conflict, "info")  # what changed since the merge stays as it is
    return redirect(url_for("contacts.view", contact_id=outcome.contact_id))


def _contact_merges(contact_id: int) -> list[Any]:
    """The merges into a contact that can be undone (for its page)."""
    if viewer().sees_nothing:
        return []
    return merges_of(db(), contact_id)


@bp.record_once
def _install(state: Any) -> None:
    app: Flask = state.app
    app.jinja_env.globals["contact_merges"] = _contact_merges
