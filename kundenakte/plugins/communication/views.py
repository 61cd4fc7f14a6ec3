"""Einstellungen → Kommunikation (Vorlagen), the "Vorlage auswählen" dialog and "Senden"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy import select

from kundenakte.core import acl
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import Forbidden, NotFound, ReadOnly, get_readable
from kundenakte.core.models import Company, Contact, Folder, User
from kundenakte.core.storage import UploadTooLarge
from kundenakte.core.validation import N_
from kundenakte.plugins.communication import outbox, retry
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.composition import AUTOMATIC_PARTS_HELP
from kundenakte.plugins.communication.models import CommTemplate
from kundenakte.plugins.communication.rendering import PLACEHOLDERS
from kundenakte.plugins.communication.types import TEMPLATE_BASE_TYPES
from kundenakte.web.context import current_ka, db, language, login_required, viewer

bp = Blueprint("communication", __name__, template_folder="templates", static_folder="static",
               static_url_path="/kommunikation/static")


@bp.record_once
def _start_mail_retry(state: BlueprintSetupState) -> None:
    # Called once per app by create_app: every web process retries its instance's outbox.
    retry.start(state.app.extensions["kundenakte"])


@bp.before_app_request
def _keep_mail_retry_running() -> None:
    # With gunicorn --preload the app is built before the fork, and threads do not survive a fork.
    retry.ensure_running(current_ka())


@bp.context_processor
def _composition_help() -> dict[str, str]:
    # The placeholder help of the template form says which parts are added automatically.
    return {"automatic_parts_help": AUTOMATIC_PARTS_HELP}


@bp.app_context_processor
def _recipient_choices() -> dict[str, Any]:
    # For the mail form's form_template: the contact's addresses, looked up only when it is drawn.
    from kundenakte.plugins.communication.recipients import recipient_choices

    return {"communication_recipients": lambda values: recipient_choices(db(), values)}


BASE_TYPE_LABELS = {"email": N_("E-Mail"), "letter": N_("Brief"), "short_letter": N_("Kurzbrief")}
LIST_FIELDS = ("folders", "doc_readers", "doc_editors", "readers", "editors")


def _placeholders() -> list[dict[str, str]]:
    items = [{"path": p.key, "label": p.label_de, "group": p.group} for p in PLACEHOLDERS]
    for _plugin, ph in current_ka().collect("register_placeholders", db()):
        items.append({"path": ph.path, "label": ph.label, "group": ph.group})
    return items


def _form_values(template: CommTemplate | None) -> dict[str, Any]:
    """What the form shows: the request's input after a POST (nothing typed is lost), else the template.

    Language variants travel as ``variants.<lang>.<field>``; plain ``subject``/``body``/``appendix``
    (older forms, tests) mean the default language's.
    """
    if request.method == "POST":
        values: dict[str, Any] = {k: v for k, v in request.form.items() if k != "csrf_token" and not k.startswith("variants.")}
        for key in LIST_FIELDS:
            values[key] = [v for v in request.form.getlist(key) if v.strip()]
        variants: dict[str, dict[str, str]] = {lang: {} for lang in svc.LANGUAGES}
        for key, value in request.form.items():
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "variants" and parts[1] in variants and parts[2] in svc.VARIANT_FIELDS:
                variants[parts[1]][parts[2]] = value
        chosen = str(values.get("language") or "")
        default = chosen if chosen in svc.LANGUAGES else svc.DEFAULT_LANGUAGE
        for field in svc.VARIANT_FIELDS:
            if field in values and not variants[default].get(field):
                variants[default][field] = values.pop(field)
        values["variants"] = variants
        return values
    if template is None:
        return {"base_type": "email", "kind": "email", "sender_format": "name_address", "sender_mode": "current_user",
                "retention_days": "720", "readers": ["*"], "editors": [], "folders": [], "doc_readers": [],
                "doc_editors": [], "language": svc.DEFAULT_LANGUAGE, "variants": {}}
    variants = {lang: {"subject": v.subject, "body": v.body, "appendix": v.appendix}
                for lang, v in svc.template_variants(template).items()}
    return {
        "name": template.name, "base_type": template.base_type,
        "kind": svc.kind_choice_for(current_ka(), template.kind or "", db()),
        "language": template.language or svc.DEFAULT_LANGUAGE, "variants": variants,
        "display_title": template.display_title, "sender_format": template.sender_format,
        "sender_mode": template.sender_mode, "sender_user_id": template.sender_user_id or "",
        "folders": [str(f) for f in template.folders or []],
        "retention_days": "" if template.retention_days is None else str(template.retention_days),
        "doc_readers": list(template.doc_readers or []), "doc_editors": list(template.doc_editors or []),
        "readers": list(template.readers or []), "editors": list(template.editors or []),
    }


def _principal_choices() -> list[tuple[str, str]]:
    from kundenakte.plugins.communication.inbound.accounts import principal_choices

    return principal_choices(db())


@bp.route("/einstellungen/kommunikation")
@login_required
def template_list() -> ResponseReturnValue:
    templates = svc.visible_templates(db(), viewer())
    kinds = {key: label for key, label, _group in svc.kind_choices(current_ka(), db(), language())}
    return render_template("communication/template_list.html", templates=templates, labels=BASE_TYPE_LABELS,
                           kinds=kinds, languages=svc.LANGUAGES, variants=svc.template_variants,
                           can_change=lambda t: svc.can_change(viewer(), t))


@bp.route("/einstellungen/kommunikation/neu", methods=["GET", "POST"])
@bp.route("/einstellungen/kommunikation/<int:template_id>", methods=["GET", "POST"])
@login_required
def template_form(template_id: int | None = None) -> ResponseReturnValue:
    ka = current_ka()
    template = None
    if template_id is not None:
        try:
            template = svc.get_visible(db(), viewer(), template_id)
        except NotFound:
            abort(404)
    editable = template is None or svc.can_change(viewer(), template)
    values = _form_values(template)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not editable:
            abort(403)
        try:
            saved = svc.save_template(ka, db(), viewer(), values, template_id=template_id)
            for upload in request.files.getlist("files"):
                if upload and upload.filename:
                    svc.add_template_file(ka, db(), viewer(), saved, upload.stream, upload.filename)
            for raw in request.form.getlist("remove_file"):
                if raw.isdigit():
                    svc.remove_template_file(db(), viewer(), saved, int(raw))
            db().commit()
            flash("Vorlage gespeichert.")
            return redirect(url_for("communication.template_form", template_id=saved.id))
        except ValidationError as exc:
            db().rollback()
            errors = exc.errors
            status = 400
        except UploadTooLarge as exc:
            db().rollback()
            errors = {"files": str(exc)}
            status = 400
        except Forbidden:
            abort(403)
    folders = list(db().scalars(select(Folder).order_by(Folder.name)))
    users = list(db().scalars(select(User).where(User.active.is_(True)).order_by(User.display_name)))
    kinds: list[tuple[str, str, str]] = list(svc.kind_choices(current_ka(), db(), language()))
    kind = str(values.get("kind") or "")
    if kind and kind not in {k for k, _label, _group in kinds}:
        # An older template's free text that names no type: offered as it is, so saving keeps it.
        kinds.insert(0, (kind, f"{kind} (bisheriger Wert)", ""))
    chosen = values.get("language")
    languages = [chosen if chosen in svc.LANGUAGES else svc.DEFAULT_LANGUAGE]
    languages += [lang for lang in svc.LANGUAGES if lang not in languages]
    return render_template(
        "communication/template_form.html", template=template, values=values, errors=errors, editable=editable,
        base_types=[(k, gettext(BASE_TYPE_LABELS[k])) for k in TEMPLATE_BASE_TYPES], sender_formats=svc.SENDER_FORMATS,
        sender_modes=svc.SENDER_MODES, folders=folders, users=users, principals=_principal_choices(),
        placeholders=_placeholders(), kinds=[(key, label) for key, label, _group in kinds], languages=languages,
        language_labels=svc.LANGUAGES,
        variant_fields=svc.VARIANT_FIELDS,
    ), status


@bp.route("/einstellungen/kommunikation/<int:template_id>/loeschen", methods=["POST"])
@login_required
def template_delete(template_id: int) -> ResponseReturnValue:
    try:
        svc.delete_template(db(), viewer(), template_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    db().commit()
    flash("Vorlage gelöscht.")
    return redirect(url_for("communication.template_list"))


@bp.route("/kommunikation/vorlage", methods=["GET", "POST"])
@login_required
def choose_template() -> ResponseReturnValue:
    """"Vorlage auswählen" for a contact, or for a company (then optionally one of its contacts).

    A page of its own (without JavaScript, and as the fallback); the "…" menus open its
    ``[data-dialog-content]`` in a dialog (MenuItem.dialog).
    """
    company_id = request.values.get("company_id", type=int)
    company = db().get(Company, company_id) if company_id else None
    if company_id and company is None:
        abort(404)
    contact_id = request.values.get("contact_id", type=int)
    contact = db().get(Contact, contact_id) if contact_id else None
    if contact_id and contact is None:
        abort(404)
    query = request.values.get("q", "")
    error = ""
    status = 200
    if request.method == "POST":
        template_id = request.form.get("template_id", type=int)
        if template_id is None:
            error = "Bitte eine Vorlage auswählen."
            status = 400
        else:
            try:
                doc = svc.create_from_template(current_ka(), db(), viewer(), template_id, contact_id,
                                               company.id if company is not None else None)
                db().commit()
                # "Abbrechen" in this first edit discards the draft again (verwerfen=1).
                return redirect(url_for("documents.edit", doc_id=doc.id, verwerfen=1))
            except NotFound:
                db().rollback()
                abort(404)
            except Forbidden:
                db().rollback()
                abort(403)
            except ValidationError as exc:
                db().rollback()
                error = " ".join(exc.errors.values())
                status = 400
    templates = svc.search_templates(db(), viewer(), query)
    company_contacts: list[Contact] = []
    if company is not None:
        company_contacts = list(db().scalars(
            select(Contact).where(Contact.company_id == company.id).order_by(Contact.last_name, Contact.first_name,
                                                                             Contact.id).limit(CONTACT_CHOICES + 1)))
    if contact is not None and company is None:
        back = (url_for("contacts.view", contact_id=contact.id), contact.full_name)
    elif company is not None:
        back = (url_for("companies.view", company_id=company.id), company.name)
    else:
        back = (url_for("pages.home"), "Start")
    return render_template("communication/choose.html", templates=templates, contact=contact, company=company,
                           company_contacts=company_contacts[:CONTACT_CHOICES],
                           more_contacts=len(company_contacts) > CONTACT_CHOICES, query=query, error=error,
                           labels=BASE_TYPE_LABELS, summary=svc.summary, variants=svc.template_variants,
                           languages=svc.LANGUAGES, back=back), status


# A company's contacts offered in the chooser; beyond that, pick the template from the contact's page.
CONTACT_CHOICES = 200


def _send_page(document_id: int, *, error: str = "", status: int = 200) -> ResponseReturnValue:
    """The confirmation before sending: recipient, subject, attachments, and whether mail really leaves."""
    ka, s, v = current_ka(), db(), viewer()
    doc = get_readable(s, v, document_id)
    if doc.type_key != "email":
        abort(404)
    data = doc.data or {}
    return render_template(
        "communication/send_confirm.html", doc=doc, to_email=str(data.get("to_email") or ""),
        to_name=str(data.get("to_name") or ""), subject=str(data.get("subject") or ""),
        attachments=[a for a in doc.attachments if not a.inline], sending=outbox.sending_configured(ka),
        sendable=doc.status in outbox.QUEUEABLE and acl.can_edit(s, v, doc.id), error=error,
    ), status


@bp.get("/kommunikation/<int:document_id>/senden")
@login_required
def confirm_send(document_id: int) -> ResponseReturnValue:
    try:
        return _send_page(document_id)
    except NotFound:
        abort(404)


@bp.route("/kommunikation/<int:document_id>/senden", methods=["POST"])
@login_required
def send(document_id: int) -> ResponseReturnValue:
    ka = current_ka()
    try:
        outbox.queue_email(ka, db(), viewer(), document_id)
        db().commit()
    except NotFound:
        db().rollback()
        abort(404)
    except Forbidden:
        db().rollback()
        abort(403)
    except (ValidationError, ReadOnly) as exc:
        db().rollback()
        # Sent from another tab meanwhile, a missing address …: said on the document, nothing sent twice.
        flash(" ".join(exc.errors.values()) if isinstance(exc, ValidationError) else str(exc))
        return redirect(url_for("documents.view", doc_id=document_id))
    # One immediate attempt; a temporary failure stays queued for the retry loop (retry.py) and cron.
    summary = outbox.deliver_queued(ka, document_id=document_id, limit=1, recover=False)
    if document_id in summary.sent:
        flash("Die E-Mail wurde versendet.")
    elif document_id in summary.filed:
        flash("Die E-Mail wurde nicht versendet, sondern als Datei abgelegt: Es ist kein Mailserver eingerichtet.")
    elif document_id in summary.failed:
        with ka.db.read() as s:
            entry = outbox.outbox_entry_for(s, document_id)
            flash(f"Versand fehlgeschlagen: {entry.last_error if entry else ''}")
    elif document_id in summary.uncertain:
        flash("Unklar, ob die E-Mail angekommen ist; sie wird nicht automatisch erneut gesendet.")
    else:
        flash("Die E-Mail ist in der Warteschlange und wird später erneut versucht.")
    return redirect(url_for("documents.view", doc_id=document_id))
