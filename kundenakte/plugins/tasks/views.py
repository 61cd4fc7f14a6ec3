"""Meine Aufgaben and the "Erledigt" action."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from kundenakte.core.documents import Conflict, DocumentInput, Forbidden, NotFound, ReadOnly, update_document
from kundenakte.plugins.tasks.queries import my_tasks
from kundenakte.web.context import current_ka, db, login_required, viewer

bp = Blueprint("tasks", __name__, template_folder="templates")


@bp.route("/aufgaben")
@login_required
def mine() -> ResponseReturnValue:
    ka = current_ka()
    include_done = request.args.get("alle") == "1"
    tasks = my_tasks(db(), viewer(), ka.clock.today(), include_done=include_done)
    return render_template("tasks/mine.html", tasks=tasks, today=ka.clock.today(), include_done=include_done)


@bp.route("/aufgaben/<int:document_id>/erledigt", methods=["POST"])
@login_required
def done(document_id: int) -> ResponseReturnValue:
    ka = current_ka()
    try:
        update_document(ka, db(), viewer(), document_id, DocumentInput.from_mapping({"status": "done"}), expected_version=None)
    except NotFound:
        abort(404)
    except (Forbidden, ReadOnly):
        abort(403)
    except Conflict:
        abort(409)
    db().commit()
    flash("Aufgabe erledigt.")
    return redirect(request.referrer if (request.referrer or "").startswith(request.host_url) else url_for("tasks.mine"))
