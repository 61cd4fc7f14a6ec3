"""The voucher pages: the line item editor inside the document form, finalising, payments, PDF preview."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, flash, g, has_request_context, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import NotFound, ReadOnly, get_readable, load_for_write
from kundenakte.core.formatting import NumberInputError, parse_decimal
from kundenakte.core.models import Document
from kundenakte.plugins.sales.chain import allowed_followups
from kundenakte.plugins.sales.finalise import finalise_voucher, is_finalised
from kundenakte.plugins.sales.numbering import VOUCHER_TYPES
from kundenakte.plugins.sales.payments import STATUS_LABELS, payment_state, record_payment
from kundenakte.plugins.sales.service import create_followup, load_lines, replace_lines, store_totals
from kundenakte.plugins.sales.totals import COMMON_UNITS, LineItem, compute_totals, parse_line_items
from kundenakte.plugins.sales.types import INVOICE_TYPES, LINE_TYPES, PRINTABLE_TYPES
from kundenakte.web import formats
from kundenakte.web.context import current_ka, db, login_required, viewer
from kundenakte.web.errors import MESSAGES

bp = Blueprint("sales", __name__, template_folder="templates", static_folder="static", static_url_path="/vertrieb-static")
LINE_FIELDS = ("position", "article", "description", "quantity", "unit", "unit_price", "discount_percent", "vat_rate")
# A row counts as filled when one of these has text; VAT rate, unit and position always have a value.
_CONTENT_FIELDS = ("article", "description", "quantity", "unit_price", "discount_percent")
FORM_MARKER = "sales_lines"
EMPTY_ROWS = 1
VAT_CHOICES = ("19", "7", "0")


# -- the line editor inside the core's document form (DocumentType.form_template) -------------------

def _rows_from_form() -> list[dict[str, str]]:
    columns = {name: request.form.getlist(name) for name in LINE_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    removed = set(request.form.getlist("line_remove"))
    rows = []
    for i in range(count):
        row = {name: (columns[name][i] if i < len(columns[name]) else "") for name in LINE_FIELDS}
        if str(i) in removed:
            continue
        if not any(row[name].strip() for name in _CONTENT_FIELDS):
            continue  # the spare row
        rows.append(row)
    return rows


def _ordered(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows in the order of their typed positions (reordering without JavaScript), stable otherwise."""
    def key(item: tuple[int, dict[str, str]]) -> tuple[int, int]:
        index, row = item
        text = row.get("position", "").strip()
        return (int(text) if text.isdigit() else index + 1, index)

    return [row for _i, row in sorted(enumerate(rows), key=key)]


def _row_of(item: LineItem) -> dict[str, str]:
    # Shown as the user types them back: in the UI's number format, every stored digit kept.
    return {"position": str(item.position), "article": item.article, "description": item.description,
            "quantity": formats.number(item.quantity.normalize()), "unit": item.unit,
            "unit_price": formats.number(item.unit_price, 2) if item.unit_price == item.unit_price.quantize(Decimal("0.01"))
            else formats.number(item.unit_price.normalize()),
            "discount_percent": formats.number(item.discount_percent.normalize()) if item.discount_percent else "",
            "vat_rate": str(int(item.vat_rate)) if item.vat_rate == int(item.vat_rate) else formats.number(item.vat_rate)}


def editor_context(doc: Document | None) -> dict[str, Any]:
    """Rows, per-row errors and totals for ``sales/lines_editor.html`` (typed rows after a failed save)."""
    if request.method == "POST" and request.form.get(FORM_MARKER):
        rows = _rows_from_form()
    elif doc is not None and doc.id is not None:
        rows = [_row_of(i) for i in load_lines(db(), doc.id)]
    else:
        rows = []
    items, _errors = parse_line_items(rows, locale=formats.current_locale())
    totals = compute_totals(items)
    blank = dict.fromkeys(LINE_FIELDS, "")
    blank["vat_rate"] = "19"
    return {"rows": rows, "spare": [blank] * EMPTY_ROWS, "row_errors": getattr(g, "sales_line_errors", {}),
            "totals": totals, "units": COMMON_UNITS, "vat_choices": VAT_CHOICES, "marker": FORM_MARKER}


def _id(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def address_note(contact_id: Any, company_id: Any) -> str:
    """Which address the voucher prints ("Anschrift: bevorzugte Adresse (privat) von Anna Vogel")."""
    from kundenakte.core.models import Company, Contact
    from kundenakte.core.services.points import kind_label
    from kundenakte.plugins.sales.printdata import letter_address

    s = db()
    contact_key, company_key = _id(contact_id), _id(company_id)
    contact = s.get(Contact, contact_key) if contact_key else None
    company = s.get(Company, company_key) if company_key else None
    if contact is None and company is None:
        return ""
    party = letter_address(contact, company)
    kind = _(kind_label(party.kind).msgid) if party.kind else ""
    if party.source == "own":
        return str(_("Anschrift: bevorzugte Adresse (%(kind)s) von %(name)s", kind=kind, name=party.source_name))
    if party.source == "company":
        if contact is not None and contact.use_company_address:
            return str(_("Anschrift: Firmenadresse von %(company)s (%(name)s verwendet die Adresse des Unternehmens)",
                         company=party.source_name, name=contact.full_name))
        return str(_("Anschrift: Firmenadresse von %(company)s", company=party.source_name))
    return str(_("Anschrift: keine Adresse gespeichert"))


@bp.app_context_processor
def _editor_helpers() -> dict[str, Any]:
    return {"sales_editor": editor_context, "sales_voucher_view": voucher_view_context, "sales_address_note": address_note}


def apply_form_lines(session: Session, document: Document) -> None:
    """Within the document save (``prepare_document``): store the lines the voucher form submitted.

    Only a web form that carries the editor (its marker field) changes lines; API and import saves
    keep them. Errors refuse the whole save with the typed rows kept (``g.sales_line_errors``).
    """
    if not has_request_context() or request.method != "POST" or not request.form.get(FORM_MARKER):
        return
    if document.type_key not in LINE_TYPES:
        return
    rows = _ordered(_rows_from_form())
    for number, row in enumerate(rows, start=1):
        row["position"] = str(number)
    items, errors = parse_line_items(rows, locale=formats.current_locale())
    if errors:
        g.sales_line_errors = errors
        first = min(errors)
        detail = "; ".join(errors[first].values())
        raise ValidationError({_("Positionen"): _("Zeile %(row)d: %(detail)s", row=first + 1, detail=detail)})
    if document.id is None:
        session.flush()  # a new voucher needs its id for its lines
    # Inside the core's save (prepare_document runs on_prepare first, from the lines stored before):
    # the totals of the lines just submitted go into the document being saved.
    store_totals(document, replace_lines(session, document, items))


# -- the voucher part of the document page (DocumentType.view_template) ------------------------------

def voucher_view_context(doc: Document) -> dict[str, Any]:
    s, ka = db(), current_ka()
    items = load_lines(s, doc.id)
    context: dict[str, Any] = {"lines": items, "totals": compute_totals(items), "finalised": is_finalised(doc),
                               "printable": doc.type_key in PRINTABLE_TYPES, "payment": None,
                               "can_edit": acl.can_edit(s, viewer(), doc.id) and doc.archived_at is None}
    if doc.type_key in INVOICE_TYPES:
        context["payment"] = payment_state(s, doc, ka.clock.today())
    return context


# -- actions --------------------------------------------------------------------------------------

def _error_page(code: int, text: str, back: str) -> tuple[str, int]:
    title, _text = MESSAGES[code]
    return render_template("error.html", code=code, title=title, text=text, back_url=back), code


@bp.route("/vertrieb/<int:document_id>/positionen")
@login_required
def lines(document_id: int) -> ResponseReturnValue:
    """The old separate line page: the editor now lives in the voucher form."""
    doc = get_readable(db(), viewer(), document_id)
    if doc.type_key not in LINE_TYPES:
        abort(404)
    return redirect(url_for("documents.edit", doc_id=doc.id) + "#positionen")


@bp.post("/vertrieb/<int:document_id>/abschliessen")
@login_required
def finalise(document_id: int) -> Any:
    ka, s = current_ka(), db()
    try:
        finalise_voucher(ka, s, viewer(), document_id)
    except ValidationError as exc:
        s.rollback()
        g.sales_finalise_errors = exc.errors
        doc = get_readable(s, viewer(), document_id)
        return render_template("sales/finalise_failed.html", doc=doc, errors=exc.errors), 422
    except ReadOnly:
        s.rollback()
        return _error_page(409, _("Der Beleg ist bereits abgeschlossen oder archiviert."), url_for("documents.view", doc_id=document_id))
    s.commit()
    flash(_("Beleg abgeschlossen: Das PDF ist als Anhang gespeichert, der Beleg kann nicht mehr geändert werden."))
    return redirect(url_for("documents.view", doc_id=document_id))


@bp.get("/vertrieb/<int:document_id>/vorschau.pdf")
@login_required
def preview(document_id: int) -> Any:
    """The PDF as it would be stored, without storing it (for checking before "Abschließen")."""
    from kundenakte.plugins.sales.pdf import render_pdf
    from kundenakte.plugins.sales.printdata import voucher_print

    ka, s = current_ka(), db()
    doc = get_readable(s, viewer(), document_id)
    if doc.type_key not in PRINTABLE_TYPES:
        abort(404)
    body = render_pdf(ka, voucher_print(ka, s, doc))
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename=vorschau.pdf", "Cache-Control": "no-store"})


@bp.route("/vertrieb/<int:document_id>/zahlung", methods=["GET", "POST"])
@login_required
def payment(document_id: int) -> Any:
    """ "Bezahlt am": book a payment (also on a finalised invoice; the invoice itself stays unchanged)."""
    ka, s, v = current_ka(), db(), viewer()
    doc = load_for_write(s, v, document_id, check_read_only=False)
    if doc.type_key not in INVOICE_TYPES:
        abort(404)
    state = payment_state(s, doc, ka.clock.today())
    values = {"paid_on": ka.clock.today().isoformat(), "amount": formats.number(state.open, 2)}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"paid_on": request.form.get("paid_on", ""), "amount": request.form.get("amount", "")}
        paid_on: dt.date | None = None
        amount: Decimal | None = None
        try:
            paid_on = dt.date.fromisoformat(values["paid_on"].strip())
        except ValueError:
            errors["paid_on"] = _("Bitte ein Datum angeben.")
        try:
            amount = parse_decimal(values["amount"], formats.current_locale(), ("€", "EUR"))
        except NumberInputError as exc:
            errors["amount"] = str(exc) if exc.kind == "ambiguous" else _("Bitte einen Betrag angeben, z. B. 1.234,56.")
        if not errors and paid_on is not None:
            try:
                record_payment(ka, s, v, document_id, paid_on=paid_on, amount=amount)
                s.commit()
                flash(_("Zahlung gespeichert."))
                return redirect(url_for("documents.view", doc_id=document_id))
            except ValidationError as exc:
                s.rollback()
                errors = exc.errors
    return render_template("sales/payment.html", doc=doc, state=state, values=values, errors=errors,
                           status_labels=STATUS_LABELS), (422 if errors else 200)


@bp.get("/vertrieb/<int:document_id>/anhang/<int:attachment_id>/e-rechnung")
@login_required
def received(document_id: int, attachment_id: int) -> Any:
    """A received XRechnung / ZUGFeRD attachment as a readable invoice (seller, buyer, lines, totals)."""
    from kundenakte.core.attachments import open_attachment
    from kundenakte.plugins.sales.receiving import read_received

    ka, s = current_ka(), db()
    doc = get_readable(s, viewer(), document_id)
    att, stream = open_attachment(ka, s, viewer(), document_id, attachment_id)
    with stream:
        data = stream.read()
    return render_template("sales/received.html", doc=doc, att=att, result=read_received(data))


@bp.route("/vertrieb/<int:document_id>/folgebeleg/<target>", methods=["POST"])
@login_required
def followup(document_id: int, target: str) -> ResponseReturnValue:
    ka = current_ka()
    try:
        doc = create_followup(ka, db(), viewer(), document_id, target)
    except NotFound:
        db().rollback()
        abort(404)
    except ValidationError as exc:
        # The menu offers only allowed follow-ups: anything else is a bad request, said in German.
        db().rollback()
        return _error_page(400, " ".join(exc.errors.values()), f"/dokumente/{document_id}")
    db().commit()
    flash("Folgebeleg angelegt.")
    return redirect(f"/dokumente/{doc.id}")


__all__ = ["VOUCHER_TYPES", "allowed_followups", "apply_form_lines", "bp", "editor_context"]
