"""Kontakte: the filtered list, the contact page with its "…" menu, and the create/edit form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kundenakte.core import acl
from kundenakte.core.categories import categories, category_for
from kundenakte.core.contributions import MenuItem
from kundenakte.core.directory import (
    ContactFilter,
    account_managers,
    filter_contacts,
    parse_user_id,
    user_names,
)
from kundenakte.core.models import GENDERS, Company, Contact, Document
from kundenakte.core.services import ValidationError, clean_contact, create_contact, update_contact
from kundenakte.core.services.contacts import CONTACT_FIELDS, CONTACT_TEXT
from kundenakte.core.text import fold
from kundenakte.core.validation import N_
from kundenakte.web import entry_rows, pickers
from kundenakte.web.context import current_ka, db, language, login_required, viewer
from kundenakte.web.errors import field_messages
from kundenakte.web.master_forms import save_form
from kundenakte.web.menus import menu_url
from kundenakte.web.pages import Pager, int_arg, new_document_url

bp = Blueprint("contacts", __name__)

PER_PAGE = 50
DOCS_PER_PAGE = 20
GENDER_LABELS = {"female": N_("Frau"), "male": N_("Herr"), "diverse": N_("Divers"), "unknown": N_("keine Angabe")}
LANGUAGES = (("de", N_("Deutsch")), ("en", N_("Englisch")))
# Menu items without a group are shown under this category (declared by the defaults plugin).
MORE = "more"


# -- the "…" menu ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuEntry:
    label: str
    url: str
    method: str = "get"
    dialog: bool = False


def action_groups(hook: str, *, contact: Contact | None = None, company: Company | None = None) -> list[tuple[str, list[MenuEntry]]]:
    """The "…" menu of a contact or company page: plugins' entries plus every uncovered type.

    A document type with ``in_contact_menu`` that no plugin entry offers still gets an entry under
    its category, so a third-party type is creatable without writing a menu hook.
    """
    ka = current_ka()
    session = db()
    lang = language()
    subject: dict[str, Any] = {"contact": contact} if contact is not None else {"company": company}
    enabled = {t.key: t for t in ka.enabled_types(session)}
    items: list[MenuItem] = []
    for plugin, item in ka.collect(hook, session, viewer=viewer(), **subject):
        if not isinstance(item, MenuItem) or (item.type_key and item.type_key not in enabled):
            continue
        if not item.type_key and not item.url and not item.endpoint:
            continue
        items.append(replace(item, plugin=item.plugin or plugin))
    covered = {i.type_key for i in items if i.type_key}
    for doctype in enabled.values():
        if doctype.in_contact_menu and doctype.key not in covered:
            items.append(MenuItem(label=doctype.label, label_en=doctype.label_en, type_key=doctype.key, group=doctype.category,
                                  order=doctype.menu_order, plugin=doctype.plugin))
    contact_id = contact.id if contact is not None else None
    company_id = contact.company_id if contact is not None else (company.id if company is not None else None)
    known = categories(ka, session)
    grouped: dict[str, list[MenuItem]] = {}
    for item in items:
        grouped.setdefault(category_for(known, item.group or MORE).key, []).append(item)

    def group_rank(key: str) -> tuple[int, int, str]:
        return (category_for(known, key).order, min(i.order for i in grouped[key]), key)

    result: list[tuple[str, list[MenuEntry]]] = []
    for key in sorted(grouped, key=group_rank):
        entries = []
        for item in sorted(grouped[key], key=lambda i: (i.order, i.label)):
            url = menu_url(item) or new_document_url(item.type_key, contact_id=contact_id, company_id=company_id)
            method = "post" if item.method == "post" else "get"
            entries.append(MenuEntry(item.label_for(lang), url, method, dialog=item.dialog and method == "get"))
        result.append((category_for(known, key).label_for(lang), entries))
    return result


# -- list ------------------------------------------------------------------------------------------


def _filter_from_args(args: Mapping[str, str]) -> ContactFilter:
    def text(name: str) -> str:
        return (args.get(name) or "").strip()[:200]

    return ContactFilter(
        name=text("name"),
        postal_code=text("plz"),
        company=text("unternehmen"),
        city=text("ort"),
        account_manager_id=parse_user_id(args.get("betreuer")),
        email_phone=text("erreichbar"),
    )


@bp.route("/kontakte")
@login_required
def index() -> ResponseReturnValue:
    f = _filter_from_args(request.args)
    page = int_arg("seite")
    rows, total = filter_contacts(db(), f, page=page, per_page=PER_PAGE)
    users = account_managers(db())
    return render_template(
        "contacts/index.html",
        f=f,
        rows=rows,
        pager=Pager(page, PER_PAGE, total),
        managers=user_names(db(), [r.account_manager_id for r in rows], known=users),
        users=users,
    )


# -- detail ----------------------------------------------------------------------------------------


def load_contact(contact_id: int) -> Contact:
    contact = db().scalar(
        select(Contact).where(Contact.id == contact_id).options(selectinload(Contact.company), selectinload(Contact.account_manager))
    )
    if contact is None or viewer().sees_nothing:
        abort(404)
    return contact


def readable_documents(scope: Any, *, archived: bool, page: int, per_page: int = DOCS_PER_PAGE) -> tuple[list[Document], Pager]:
    """Documents in a scope (a condition on Document) the viewer may read, newest first."""
    conditions = [scope, acl.readable_clause(viewer())]
    if not archived:
        conditions.append(Document.archived_at.is_(None))
    total = db().scalar(select(func.count()).select_from(Document).where(*conditions)) or 0
    pager = Pager(page, per_page, int(total))
    page = min(page, pager.pages)
    pager = Pager(page, per_page, int(total))
    docs = list(
        db().scalars(
            select(Document)
            .where(*conditions)
            .options(selectinload(Document.responsible), selectinload(Document.contact))
            .order_by(Document.document_date.desc(), Document.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    ) if total else []
    return docs, pager


@bp.route("/kontakte/<int:contact_id>")
@login_required
def view(contact_id: int) -> ResponseReturnValue:
    contact = load_contact(contact_id)
    archived = request.args.get("archiviert") == "1"
    docs, pager = readable_documents(Document.contact_id == contact.id, archived=archived, page=int_arg("seite"))
    return render_template(
        "contacts/view.html",
        contact=contact,
        documents=docs,
        pager=pager,
        archived=archived,
        menu=action_groups("contact_actions", contact=contact),
        types={t.key: t for t in current_ka().types.all()},
        gender_labels=GENDER_LABELS,
        entries=entry_rows.view_entries(contact, entry_rows.CONTACT_LISTS),
        company_address=entry_rows.company_address(contact.company) if contact.company else None,
    )


# -- create / edit ---------------------------------------------------------------------------------

# The single columns that copy the preferred entry (email, phone, street, …) are not inputs: the
# form sends the lists, and the service copies the preferred entry into them.
_COPIES = {"email", "phone", "street", "postal_code", "city", "country"}
TEXT_FIELDS = tuple(f.name for f in CONTACT_TEXT if f.name not in _COPIES)


def contact_values(contact: Contact | None) -> dict[str, Any]:
    """The form's values: every text field, the choices, the birthday as ISO text and the lists' rows."""
    if contact is None:
        return {"gender": "unknown", "language": "de", "use_company_address": True, "company": "", "company_id": "",
                "account_manager_id": "", "birthday": "", "rows": {spec.key: [] for spec in entry_rows.CONTACT_LISTS}
                } | {k: "" for k in TEXT_FIELDS}
    values: dict[str, Any] = {k: getattr(contact, k) or "" for k in TEXT_FIELDS}
    values.update(gender=contact.gender, language=contact.language, use_company_address=contact.use_company_address,
                  company=contact.company.name if contact.company else "", company_id=contact.company_id or "",
                  account_manager_id=contact.account_manager_id or "",
                  birthday=contact.birthday.isoformat() if contact.birthday else "",
                  rows=entry_rows.stored_rows(contact, entry_rows.CONTACT_LISTS))
    return values


def resolve_company(name: str, hinted_id: Any) -> tuple[int | None, str | None]:
    """The company a typed name means: the hinted one if its name matches, else the unique exact match."""
    name = name.strip()
    if not name:
        return None, None
    hint = parse_user_id(hinted_id)
    if hint is not None:
        company = db().get(Company, hint)
        if company is not None and fold(company.name) == fold(name):
            return company.id, None
    ids = list(db().scalars(select(Company.id).where(Company.name_folded == fold(name)).limit(2)))
    if len(ids) == 1:
        return ids[0], None
    if not ids:
        return None, _("Dieses Unternehmen gibt es nicht. Bitte zuerst anlegen oder den Namen genau angeben.")
    return None, _("Mehrere Unternehmen heißen so. Bitte den Kontakt über die Unternehmensseite anlegen.")


def read_contact_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The form as typed (to show again), the values for the contact service, and the form's own errors.

    The rules are the service's (``core/services/contacts.py``); the form only turns a typed company
    name into its id, a chosen user into an id and its rows into the service's lists.
    """
    shown: dict[str, Any] = {k: (form.get(k) or "").strip() for k in TEXT_FIELDS}
    shown["gender"] = form.get("gender") if form.get("gender") in GENDERS else "unknown"
    shown["language"] = form.get("language") if form.get("language") in ("de", "en") else "de"
    shown["use_company_address"] = bool(form.get("use_company_address"))
    shown["company"] = (form.get("company") or "").strip()
    shown["birthday"] = (form.get("birthday") or "").strip()
    shown["rows"] = entry_rows.read_rows(form, entry_rows.CONTACT_LISTS)
    errors: dict[str, str] = {}
    shown["company_id"], company_error = resolve_company(shown["company"], form.get("company_id"))
    if company_error:
        errors["company"] = company_error
    manager = form.get("account_manager_id") or ""
    shown["account_manager_id"] = parse_user_id(manager)
    if manager and shown["account_manager_id"] is None:
        shown["account_manager_id"] = manager  # the service refuses it as an unknown user
    values = {k: shown[k] for k in CONTACT_FIELDS if k in shown}
    values.update(entry_rows.service_lists(shown["rows"]))
    if company_error:
        values["company_id"] = None
        values["use_company_address"] = False
    return shown, values, errors


def check_contact_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Typed values, cleaned values and every error (the form's and the service's) at once.

    The form shows every field of the contact, so every field is sent: what the form shows is
    what gets stored (a list replaces the stored one).
    """
    shown, values, errors = read_contact_form(form)
    try:
        given = set(values)
        values = {k: v for k, v in clean_contact(db(), values).items() if k in given}
    except ValidationError as exc:
        errors = field_messages(exc.errors) | errors
    return shown, values, errors


def _form_page(contact: Contact | None, values: dict[str, Any], errors: dict[str, str], *,
               added: str = "") -> ResponseReturnValue:
    return render_template(
        "contacts/form.html",
        contact=contact,
        values=values,
        errors=errors,
        lists={view.key: view for view in entry_rows.list_views(entry_rows.CONTACT_LISTS, values["rows"], errors,
                                                                   added=added)},
        users=account_managers(db()),
        genders=[(g, _(GENDER_LABELS[g])) for g in GENDERS],
        languages=[(key, _(label)) for key, label in LANGUAGES],
    ), (422 if errors else 200)


def _post(contact: Contact | None, write: Any, done: Any) -> ResponseReturnValue:
    """Save the posted form, or (its "weitere Zeile" button) show it again with one more empty row."""
    added = request.form.get("add_row", "")
    if added:
        shown, _values, _errors = read_contact_form(request.form)
        return _form_page(contact, shown, {}, added=added)
    return save_form(check_contact_form, _form_page, contact, write, done, "contacts.view", "contact_id")


@bp.route("/kontakte/neu", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    if viewer().sees_nothing:
        abort(403)
    if request.method == "GET":
        values = contact_values(None)
        company_id = parse_user_id(request.args.get("company_id"))
        company = db().get(Company, company_id) if company_id else None
        if company is not None:
            values.update(company=company.name, company_id=company.id, account_manager_id=company.account_manager_id or "")
        return _form_page(None, values, {})
    return _post(None, lambda values: create_contact(db(), values, by=viewer().user_id),
                 lambda contact: _("Kontakt %(name)s angelegt.", name=contact.full_name))


@bp.route("/kontakte/<int:contact_id>/bearbeiten", methods=["GET", "POST"])
@login_required
def edit(contact_id: int) -> ResponseReturnValue:
    contact = load_contact(contact_id)
    if request.method == "GET":
        return _form_page(contact, contact_values(contact), {})
    return _post(contact, lambda values: update_contact(db(), contact, values, by=viewer().user_id),
                 lambda _contact: _("Kontakt gespeichert."))


# -- type-ahead ------------------------------------------------------------------------------------


@bp.route("/kontakte/vorschlaege")
@login_required
def picker_suggestions() -> ResponseReturnValue:
    """Contacts for the document form's type-ahead: at most 20, "Nachname, Vorname – Firma" (web/pickers.py)."""
    return pickers.suggestions_response(pickers.contact_suggestions)
