"""The line item editor and follow-up vouchers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue

from kundenakte.core import acl
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import Conflict, Forbidden, NotFound, ReadOnly, get_readable
from kundenakte.plugins.sales.service import create_followup, load_lines, save_lines
from kundenakte.plugins.sales.totals import compute_totals, parse_line_items
from kundenakte.plugins.sales.types import LINE_TYPES
from kundenakte.web import formats
from kundenakte.web.context import current_ka, db, login_required, viewer
from kundenakte.web.errors import MESSAGES

bp = Blueprint("sales", __name__, template_folder="templates")
LINE_FIELDS = ("position", "article", "description", "quantity", "unit", "unit_price", "discount_percent", "vat_rate")
EMPTY_ROWS = 3


def _rows_from_form() -> list[dict[str, str]]:
    columns = {name: request.form.getlist(name) for name in LINE_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    return [{name: (columns[name][i] if i < len(columns[name]) else "") for name in LINE_FIELDS} for i in range(count)]


@bp.route("/vertrieb/<int:document_id>/positionen", methods=["GET", "POST"])
@login_required
def lines(document_id: int) -> ResponseReturnValue:
    ka = current_ka()
    doc = get_readable(db(), viewer(), document_id)
    if doc.type_key not in LINE_TYPES:
        abort(404)
    can_edit = acl.can_edit(db(), viewer(), document_id) and doc.archived_at is None
    errors: dict[int, dict[str, str]] = {}
    if request.method == "POST":
        if not can_edit:
            abort(403)
        raw = _rows_from_form()
        items, errors = parse_line_items(raw, locale=formats.current_locale())
        if not errors:
            try:
                save_lines(ka, db(), viewer(), document_id, items, expected_version=request.form.get("version", type=int))
                db().commit()
                flash("Positionen gespeichert.")
                return redirect(f"/vertrieb/{document_id}/positionen")
            except Conflict:
                db().rollback()
                errors = {-1: {"version": "Jemand anderes hat den Beleg inzwischen gespeichert. Bitte neu laden."}}
            except (Forbidden, ReadOnly):
                abort(403)
        rows = raw
        status = 409 if -1 in errors else 400
    else:
        rows = [
            # Shown as the user types them back: in the UI's number format, every stored digit kept.
            {"position": str(i.position), "article": i.article, "description": i.description,
             "quantity": formats.number(i.quantity), "unit": i.unit, "unit_price": formats.number(i.unit_price),
             "discount_percent": formats.number(i.discount_percent), "vat_rate": formats.number(i.vat_rate)}
            for i in load_lines(db(), document_id)
        ]
        status = 200
    rows = rows + [dict.fromkeys(LINE_FIELDS, "") for _ in range(EMPTY_ROWS)]
    totals = compute_totals(load_lines(db(), document_id))
    return render_template("sales/lines.html", doc=doc, rows=rows, errors=errors, totals=totals,
                           can_edit=can_edit), status


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
        title, _text = MESSAGES[400]
        return render_template("error.html", code=400, title=title, text=" ".join(exc.errors.values()),
                               back_url=f"/dokumente/{document_id}"), 400
    db().commit()
    flash("Folgebeleg angelegt.")
    return redirect(f"/dokumente/{doc.id}")
