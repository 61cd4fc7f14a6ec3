"""The documents filed to a project (children through ``Document.parent_id``), ACL-filtered."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from kundenakte.core import acl
from kundenakte.core.documents import get_readable
from kundenakte.core.models import Document
from kundenakte.web.context import current_ka, db, login_required, viewer

bp = Blueprint("projects", __name__, template_folder="templates")


@bp.route("/projekte/<int:document_id>/dokumente")
@login_required
def documents(document_id: int) -> ResponseReturnValue:
    project = get_readable(db(), viewer(), document_id)
    children = list(
        db().scalars(
            select(Document)
            .where(Document.parent_id == project.id, acl.readable_clause(viewer()))
            .order_by(Document.document_date.desc(), Document.id.desc())
        )
    )
    return render_template("projects/documents.html", project=project, children=children, types=current_ka().types)
