"""Einstellungen → Kommunikation → Postfächer, the Posteingang, the thread page and .eml/.msg upload."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from kundenakte.core import acl
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import Forbidden, NotFound, ReadOnly, get_readable
from kundenakte.core.models import Company, Contact, Document, User
from kundenakte.core.storage import UploadTooLarge
from kundenakte.plugins.communication.inbound import accounts, filing, loop
from kundenakte.plugins.communication.inbound.fetch import FetchError, fetch_account
from kundenakte.plugins.communication.inbound.models import InboundMessage, MailAccount
from kundenakte.plugins.communication.inbound.upload import UploadError, file_upload
from kundenakte.web.context import current_ka, db, login_required, resolve_picker, viewer

bp = Blueprint("communication_inbound", __name__, template_folder="../templates", static_folder="static",
               static_url_path="/kommunikation/inbound-static")

PAGE_SIZE = 50


@bp.record_once
def _start_fetch_loop(state: BlueprintSetupState) -> None:
    # Like the outbox retry loop: every web process fetches its instance's due mailboxes.
    loop.start(state.app.extensions["kundenakte"])


@bp.before_app_request
def _keep_fetch_loop_running() -> None:
    loop.ensure_running(current_ka())


def _require_admin() -> None:
    if not viewer().sees_all:
        abort(403)


# -- Postfächer (admins) -------------------------------------------------------------------------


@bp.route("/einstellungen/kommunikation/postfaecher")
@login_required
def account_list() -> str:
    _require_admin()
    rows = list(db().scalars(select(MailAccount).order_by(MailAccount.name, MailAccount.id)))
    failed = list(db().scalars(select(InboundMessage).where(InboundMessage.state == "failed")
                               .order_by(InboundMessage.id.desc()).limit(50)))
    return render_template("communication/inbound/account_list.html", accounts=rows, failed=failed)


@bp.route("/einstellungen/kommunikation/postfaecher/neu", methods=["GET", "POST"])
@bp.route("/einstellungen/kommunikation/postfaecher/<int:account_id>", methods=["GET", "POST"])
@login_required
def account_form(account_id: int | None = None) -> Any:
    _require_admin()
    account = db().get(MailAccount, account_id) if account_id is not None else None
    if account_id is not None and account is None:
        abort(404)
    values = accounts.form_values(account) if request.method == "GET" else accounts.values_from_form(request.form)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            saved = accounts.save_account(current_ka(), db(), viewer(), values, account=account)
            db().commit()
            flash(_("Postfach gespeichert."))
            return redirect(url_for("communication_inbound.account_form", account_id=saved.id))
        except accounts.AccountError as exc:
            db().rollback()
            errors = exc.errors
    values.pop("password", None)  # never sent back to the browser
    users = list(db().scalars(select(User).where(User.active.is_(True)).order_by(User.display_name)))
    return render_template("communication/inbound/account_form.html", account=account, values=values, errors=errors,
                           users=users, principals=accounts.principal_choices(db())), (400 if errors else 200)


@bp.route("/einstellungen/kommunikation/postfaecher/<int:account_id>/abrufen", methods=["POST"])
@login_required
def account_fetch(account_id: int) -> Response:
    _require_admin()
    ka = current_ka()
    db().rollback()  # the fetch writes in its own transactions
    try:
        summary = fetch_account(ka, account_id)
        flash(_("Abgerufen: %(summary)s", summary=str(summary)))
    except FetchError as exc:
        flash(_("Abruf fehlgeschlagen: %(error)s", error=str(exc)), "error")
    return redirect(url_for("communication_inbound.account_form", account_id=account_id))


@bp.route("/einstellungen/kommunikation/postfaecher/<int:account_id>/loeschen", methods=["POST"])
@login_required
def account_delete(account_id: int) -> Response:
    _require_admin()
    account = db().get(MailAccount, account_id)
    if account is None:
        abort(404)
    accounts.delete_account(db(), viewer(), account)
    db().commit()
    flash(_("Postfach gelöscht; die abgelegten E-Mails bleiben."))
    return redirect(url_for("communication_inbound.account_list"))


# -- Posteingang ---------------------------------------------------------------------------------


def unassigned_query(v: acl.Viewer) -> Any:
    """Inbound mails the viewer may read that are filed at no contact and no company."""
    filed = select(InboundMessage.document_id).where(InboundMessage.document_id.is_not(None),
                                                      InboundMessage.state == "imported")
    return (select(Document).where(Document.type_key == "email", Document.contact_id.is_(None),
                                   Document.company_id.is_(None), Document.archived_at.is_(None),
                                   Document.id.in_(filed), acl.readable_clause(v)))


@bp.route("/kommunikation/posteingang")
@login_required
def inbox() -> str:
    page = max(1, request.args.get("seite", 1, type=int) or 1)
    docs = list(db().scalars(unassigned_query(viewer()).order_by(Document.document_date.desc(), Document.id.desc())
                             .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    more = len(docs) > PAGE_SIZE
    return render_template("communication/inbound/inbox.html", documents=docs[:PAGE_SIZE], page=page, more=more,
                           can_edit={d.id: acl.can_edit(db(), viewer(), d.id) for d in docs[:PAGE_SIZE]})


@bp.route("/kommunikation/posteingang/<int:document_id>/zuordnen", methods=["POST"])
@login_required
def assign(document_id: int) -> Response:
    ka = current_ka()
    try:
        doc = get_readable(db(), viewer(), document_id)
    except NotFound:
        abort(404)
    contact_id, contact_error = _picked("contact")
    company_id, company_error = _picked("company")
    if contact_error or company_error:
        flash(contact_error or company_error or "", "error")
        return redirect(url_for("communication_inbound.inbox"))
    try:
        if request.form.get("create_contact"):
            if not acl.can_edit(db(), viewer(), doc.id):
                raise Forbidden()
            contact = filing.contact_from_sender(db(), viewer(), doc)
            contact_id, company_id = contact.id, contact.company_id
        if contact_id is None and company_id is None:
            flash(_("Bitte einen Kontakt oder ein Unternehmen wählen."), "error")
            return redirect(url_for("communication_inbound.inbox"))
        if contact_id is not None:
            contact_row = db().get(Contact, contact_id)
            company_id = contact_row.company_id if contact_row is not None else company_id
        filing.assign(ka, db(), viewer(), doc.id, contact_id=contact_id, company_id=company_id)
        db().commit()
    except Forbidden:
        abort(403)
    except ReadOnly as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("communication_inbound.inbox"))
    except ValidationError as exc:
        db().rollback()
        flash("; ".join(exc.errors.values()), "error")
        return redirect(url_for("communication_inbound.inbox"))
    flash(_("E-Mail zugeordnet."))
    return redirect(url_for("communication_inbound.inbox"))


def _picked(kind: str) -> tuple[int | None, str | None]:
    """The contact or company a row's type-ahead names (a bare number still works: "Nr.")."""
    name = f"{kind}_id"
    text = request.form.get(name + ":text")
    if text is None:  # the plain number field of older pages and scripts
        return request.form.get(name, type=int), None
    if text.strip().isdigit() and not request.form.get(name):
        return int(text.strip()), None
    return resolve_picker(kind, request.form.get(name), text)


# -- thread --------------------------------------------------------------------------------------


@bp.route("/kommunikation/<int:document_id>/verlauf")
@login_required
def thread(document_id: int) -> str:
    try:
        doc = get_readable(db(), viewer(), document_id)
    except NotFound:
        abort(404)
    root = doc
    seen = {root.id}
    while root.parent_id is not None and root.parent_id not in seen:
        try:
            root = get_readable(db(), viewer(), root.parent_id)
        except NotFound:
            break
        seen.add(root.id)
    items: list[tuple[int, Document]] = []

    def walk(node: Document, depth: int) -> None:
        items.append((depth, node))
        children = db().scalars(select(Document).where(Document.parent_id == node.id, Document.type_key == "email",
                                                       acl.readable_clause(viewer())).order_by(Document.created_at))
        for child in children:
            if child.id not in {d.id for _x, d in items} and len(items) < 200:
                walk(child, depth + 1)

    walk(root, 0)
    return render_template("communication/inbound/thread.html", current=doc, items=items)


# -- upload of .eml / .msg -----------------------------------------------------------------------


@bp.route("/kontakte/<int:contact_id>/e-mail-ablegen", methods=["GET", "POST"])
@bp.route("/unternehmen/<int:company_id>/e-mail-ablegen", methods=["GET", "POST"])
@login_required
def upload(contact_id: int | None = None, company_id: int | None = None) -> Any:
    contact = db().get(Contact, contact_id) if contact_id is not None else None
    company = db().get(Company, company_id) if company_id is not None else (contact.company if contact else None)
    if (contact_id is not None and contact is None) or (company_id is not None and company is None):
        abort(404)
    if viewer().sees_nothing:
        abort(403)
    errors: dict[str, str] = {}
    if request.method == "POST":
        files = [f for f in request.files.getlist("files") if f and f.filename]
        if not files:
            errors["files"] = _("Bitte eine .eml- oder .msg-Datei wählen.")
        filed_ids: list[int] = []
        for upload_file in files:
            try:
                with db().begin_nested():
                    result = file_upload(current_ka(), db(), viewer(), upload_file.stream.read(),
                                         upload_file.filename or "", contact=contact, company=company)
                filed_ids.append(result)
            except (UploadError, UploadTooLarge) as exc:
                errors["files"] = f"{upload_file.filename}: {exc}"
                break
        if not errors:
            db().commit()
            flash(_("%(count)s E-Mail(s) abgelegt.", count=len(filed_ids)))
            if contact is not None:
                return redirect(url_for("contacts.view", contact_id=contact.id))
            assert company is not None
            return redirect(url_for("companies.view", company_id=company.id))
        db().rollback()
    return render_template("communication/inbound/upload.html", contact=contact, company=company,
                           errors=errors), (400 if errors else 200)
