"""Unternehmen: the filtered list (with its "Übersicht" links), the company page and its form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kundenakte.core.directory import (
    CompanyFilter,
    account_managers,
    filter_companies,
    parse_user_id,
    user_names,
)
from kundenakte.core.models import Company, Contact, Document
from kundenakte.core.services import COMPANY_TEXT, ValidationError, clean_company, create_company, update_company
from kundenakte.web import pickers
from kundenakte.web.contacts import action_groups, readable_documents
from kundenakte.web.context import current_ka, db, login_required, viewer
from kundenakte.web.errors import field_messages
from kundenakte.web.master_forms import save_form
from kundenakte.web.pages import Pager, int_arg

bp = Blueprint("companies", __name__)

PER_PAGE = 50
CONTACTS_PER_PAGE = 50
TEXT_FIELDS = tuple(f.name for f in COMPANY_TEXT if f.name not in ("vat_id", "register_court", "register_number", "notes"))


def _filter_from_args(args: Mapping[str, str]) -> CompanyFilter:
    def text(name: str) -> str:
        return (args.get(name) or "").strip()[:200]

    return CompanyFilter(name=text("name"), postal_code=text("plz"), city=text("ort"),
                         account_manager_id=parse_user_id(args.get("betreuer")))


@bp.route("/unternehmen")
@login_required
def index() -> ResponseReturnValue:
    f = _filter_from_args(request.args)
    page = int_arg("seite")
    rows, total = filter_companies(db(), f, page=page, per_page=PER_PAGE)
    users = account_managers(db())
    return render_template(
        "companies/index.html",
        f=f,
        rows=rows,
        pager=Pager(page, PER_PAGE, total),
        managers=user_names(db(), [r.account_manager_id for r in rows], known=users),
        users=users,
    )


@bp.route("/unternehmen/vorschlaege")
@login_required
def suggestions() -> ResponseReturnValue:
    """Company names for the contact form's autocomplete (a prefix match on the folded name)."""
    q = pickers.query_text(request.args.get("q")).replace("*", "")
    if len(q) < 2:
        return jsonify([])
    found, _total = pickers.company_suggestions(db(), q + "*", 10)  # the list filter's matching rule
    return jsonify([entry["label"] for entry in found])


def load_company(company_id: int) -> Company:
    company = db().scalar(select(Company).where(Company.id == company_id).options(selectinload(Company.account_manager)))
    if company is None or viewer().sees_nothing:
        abort(404)
    return company


@bp.route("/unternehmen/<int:company_id>")
@login_required
def view(company_id: int) -> ResponseReturnValue:
    company = load_company(company_id)
    contact_page = int_arg("kontakte_seite")
    contact_rows, contact_total = _company_contacts(company.id, contact_page)
    archived = request.args.get("archiviert") == "1"
    docs, pager = readable_documents(Document.company_id == company.id, archived=archived, page=int_arg("seite"))
    return render_template(
        "companies/view.html",
        company=company,
        contacts=contact_rows,
        contact_pager=Pager(contact_page, CONTACTS_PER_PAGE, contact_total),
        documents=docs,
        pager=pager,
        archived=archived,
        menu=action_groups("company_actions", company=company),
        types={t.key: t for t in current_ka().types.all()},
    )


def _company_contacts(company_id: int, page: int) -> tuple[list[Any], int]:
    total = db().scalar(select(func.count()).select_from(Contact).where(Contact.company_id == company_id)) or 0
    rows = db().execute(
        select(Contact.id, Contact.title, Contact.first_name, Contact.last_name, Contact.position, Contact.email, Contact.phone)
        .where(Contact.company_id == company_id)
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
        .limit(CONTACTS_PER_PAGE)
        .offset((page - 1) * CONTACTS_PER_PAGE)
    ).all()
    return list(rows), int(total)


# -- create / edit ---------------------------------------------------------------------------------


def company_values(company: Company | None) -> dict[str, Any]:
    if company is None:
        return {k: "" for k in TEXT_FIELDS} | {"country": "Deutschland", "account_manager_id": ""}
    return {k: getattr(company, k) or "" for k in TEXT_FIELDS} | {"account_manager_id": company.account_manager_id or ""}


def check_company_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The form as typed, the values cleaned by the company service, and every error at once."""
    shown: dict[str, Any] = {k: (form.get(k) or "").strip() for k in TEXT_FIELDS}
    manager = form.get("account_manager_id") or ""
    shown["account_manager_id"] = parse_user_id(manager) if parse_user_id(manager) is not None else (manager or None)
    try:
        return shown, {k: v for k, v in clean_company(db(), shown).items() if k in shown}, {}
    except ValidationError as exc:
        return shown, shown, field_messages(exc.errors)


def _form_page(company: Company | None, values: dict[str, Any], errors: dict[str, str]) -> ResponseReturnValue:
    return render_template("companies/form.html", company=company, values=values, errors=errors,
                           users=account_managers(db())), (422 if errors else 200)


@bp.route("/unternehmen/neu", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    if viewer().sees_nothing:
        abort(403)
    if request.method == "GET":
        return _form_page(None, company_values(None), {})
    return save_form(check_company_form, _form_page, None, lambda values: create_company(db(), values, by=viewer().user_id),
                     lambda company: _("Unternehmen %(name)s angelegt.", name=company.name), "companies.view", "company_id")


@bp.route("/unternehmen/<int:company_id>/bearbeiten", methods=["GET", "POST"])
@login_required
def edit(company_id: int) -> ResponseReturnValue:
    company = load_company(company_id)
    if request.method == "GET":
        return _form_page(company, company_values(company), {})
    return save_form(check_company_form, _form_page, company,
                     lambda values: update_company(db(), company, values, by=viewer().user_id),
                     lambda _company: _("Unternehmen gespeichert."), "companies.view", "company_id")


# -- type-ahead ------------------------------------------------------------------------------------


@bp.route("/unternehmen/vorschlaege/auswahl")
@login_required
def picker_suggestions() -> ResponseReturnValue:
    """Companies with their ids for the document form's type-ahead, at most 20 (web/pickers.py).

    ``/unternehmen/vorschlaege`` answers plain names for the contact form's free-text field.
    """
    return pickers.suggestions_response(pickers.company_suggestions)
