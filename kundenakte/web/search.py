"""Suche: full-text results with highlights, type and folder facets, paging and suggestions.

Only the backend's highlight snippet is rendered as markup (it is escaped text plus ``<mark>``);
every other value goes through Jinja's escaping. A malformed query shows the parser's message.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kundenakte.web.context import current_ka, db, language, login_required, viewer
from kundenakte.web.pages import Pager, int_arg

log = logging.getLogger(__name__)
bp = Blueprint("search", __name__)

PER_PAGE = 20
MAX_QUERY = 500
MAX_FACET_VALUES = 8


def _query_error_class() -> type[Exception] | None:
    try:
        from kundenakte.search.base import QueryError
    except Exception:  # the backend is optional at import time; the page says so
        return None
    return QueryError


def _master_data_hits(q: str) -> tuple[list[Any], list[Any]]:
    """Contacts and companies whose words start like the query: a shortcut above the documents.

    Answered by the master-data index (contacts and companies are shared master data: every active
    user sees them), so its cost does not grow with the number of contacts.
    """
    words = q.replace('"', " ").split()
    if not (1 <= len(words) <= 3) or any(ch in q for ch in ':()*?~^'):
        return [], []
    return current_ka().search.master_data(db(), " ".join(words), limit=5)


def _archived_more(q: str, types: list[str], folders: list[str], total: int) -> int:
    """How many archived documents the viewer may read would match as well.

    The same ACL-filtered search with archived documents included, minus the current total: every
    document counted is one the viewer could open (never a raw count of the index).
    """
    wider = current_ka().search.search(db(), viewer(), q, types=types, folders=folders, include_archived=True,
                                       page=1, per_page=1)
    return max(0, int(wider.total) - total)


@bp.route("/suche")
@login_required
def index() -> ResponseReturnValue:
    q = (request.args.get("q") or "").strip()[:MAX_QUERY]
    types = [t for t in request.args.getlist("typ") if t][:20]
    folders = [f for f in request.args.getlist("ordner") if f][:20]
    page = int_arg("seite", maximum=500)
    archived = request.args.get("archiviert") == "1"
    ka = current_ka()
    context: dict[str, Any] = {"q": q, "types": types, "folders": folders, "result": None, "error": "",
                               "type_labels": {t.key: t.label_for(language()) for t in ka.types.all()},
                               "contacts": [], "companies": [], "pager": None, "max_facets": MAX_FACET_VALUES,
                               "archived": archived, "archived_more": 0}
    if q:
        query_error = _query_error_class()
        try:
            result = ka.search.search(db(), viewer(), q, types=types, folders=folders, include_archived=archived,
                                      page=page, per_page=PER_PAGE)
            if not archived:
                context["archived_more"] = _archived_more(q, types, folders, result.total)
        except Exception as exc:
            if query_error is not None and isinstance(exc, query_error):
                context["error"] = str(exc) or _("Die Suchanfrage ist fehlerhaft.")
            else:
                log.exception("search failed")
                context["error"] = _("Die Suche ist gerade nicht verfügbar. Bitte versuchen Sie es später erneut.")
            result = None
        if result is not None:
            context["result"] = result
            context["pager"] = Pager(result.page, result.per_page, result.total)
        if page == 1 and not types and not folders and not context["error"]:
            context["contacts"], context["companies"] = _master_data_hits(q)
    return render_template("search/index.html", **context)


@bp.route("/suche/vorschlaege")
@login_required
def suggestions() -> ResponseReturnValue:
    q = (request.args.get("q") or "").strip()[:100]
    if len(q) < 2:
        return jsonify([])
    try:
        titles = current_ka().search.suggest(db(), viewer(), q, limit=8)
    except Exception:  # suggestions are a convenience: never an error page
        log.exception("suggestions failed")
        titles = []
    return jsonify([str(t) for t in titles])
