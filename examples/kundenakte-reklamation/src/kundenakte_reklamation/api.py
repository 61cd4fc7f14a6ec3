"""The plugin's JSON API operation: ``GET /api/v1/complaints/summary``.

Counts only the complaints the token's user may read (``acl.readable_clause``), like every list of
the core's API.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import func, select

from kundenakte.core import acl
from kundenakte.core.models import Document
from kundenakte.web.api.extend import ApiOperation, db, viewer

SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["total", "open", "by_status"],
    "additionalProperties": False,
    "properties": {
        "total": {"type": "integer", "minimum": 0},
        "open": {"type": "integer", "minimum": 0, "description": "Noch nicht erledigte Reklamationen."},
        "by_status": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
    },
}


def complaint_summary() -> Any:
    """Lesbare, nicht archivierte Reklamationen je Status."""
    from kundenakte_reklamation import COMPLAINT

    rows = db().execute(
        select(Document.status, func.count())
        .where(Document.type_key == COMPLAINT.key, Document.archived_at.is_(None), acl.readable_clause(viewer()))
        .group_by(Document.status)
    ).all()
    by_status = {status or "": int(count) for status, count in rows}
    open_count = sum(n for status, n in by_status.items() if status in COMPLAINT.open_statuses)
    return jsonify({"total": sum(by_status.values()), "open": open_count, "by_status": by_status})


OPERATIONS = [
    ApiOperation("GET", "/complaints/summary", complaint_summary, summary="Reklamationen je Status",
                 tag="Reklamationen", response="ComplaintSummary", schemas={"ComplaintSummary": SUMMARY_SCHEMA}),
]
