"""The start page, the health check and small helpers shared by the list and detail pages."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from kundenakte.core import acl
from kundenakte.core.models import Document
from kundenakte.web import entry_rows, formats
from kundenakte.web.context import current_ka, db, login_required, viewer

bp = Blueprint("pages", __name__)


@dataclass(frozen=True)
class Pager:
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


def int_arg(name: str, default: int = 1, *, maximum: int = 100_000) -> int:
    """A positive int from the query string; malformed input falls back instead of failing."""
    raw = request.args.get(name, "")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return max(1, min(value, maximum))


def url_with(**changes: Any) -> str:
    """The current URL with some query parameters replaced (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    query = urlencode(args, doseq=True)
    return request.path + ("?" + query if query else "")


def new_document_url(type_key: str, *, contact_id: int | None = None, company_id: int | None = None) -> str:
    """Link to the new-document form of a type, pre-filled with contact and company."""
    params: dict[str, Any] = {k: v for k, v in (("contact_id", contact_id), ("company_id", company_id)) if v}
    try:
        return url_for("documents.new", type_key=type_key, **params)
    except BuildError:  # the document pages may not be registered (yet)
        query = urlencode(params)
        return f"/dokumente/neu/{type_key}" + ("?" + query if query else "")


# An id no real row has; its digits mark where the id goes in a URL built once per request.
_ID_SENTINEL = 987654321987


def id_url(endpoint: str, param: str) -> Callable[[Any], str]:
    """``url_for(endpoint, param=id)`` for many ids: built once per request, then plain formatting.

    Lists and overviews link hundreds of rows; werkzeug's URL building per row was a fifth of
    such a page (bench/overview_bench.py).
    """
    builders = g.setdefault("_id_urls", {})
    builder = builders.get((endpoint, param))
    if builder is None:
        values: dict[str, Any] = {param: _ID_SENTINEL}
        prefix, _, suffix = url_for(endpoint, **values).partition(str(_ID_SENTINEL))

        def builder(ident: Any) -> str:
            return f"{prefix}{int(ident)}{suffix}"

        builders[(endpoint, param)] = builder
    return builder  # type: ignore[no-any-return]


def document_url(document_id: int) -> str:
    try:
        return id_url("documents.view", "doc_id")(document_id)
    except BuildError:  # the document pages may not be registered (yet)
        return f"/dokumente/{document_id}"


def contact_url(contact_id: int) -> str:
    return id_url("contacts.view", "contact_id")(contact_id)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"document_url": document_url, "contact_url": contact_url, "new_document_url": new_document_url,
            "url_with": url_with}


for _name, _filter in formats.FILTERS.items():
    bp.add_app_template_filter(_filter, _name)
bp.add_app_template_filter(entry_rows.tel_href, "tel_href")


def recent_documents(limit: int = 10) -> list[Document]:
    """The viewer's own documents (author or responsible), most recently changed first."""
    v = viewer()
    if v.user_id is None:
        return []
    stmt = (
        select(Document)
        .where(
            acl.readable_clause(v),
            Document.archived_at.is_(None),
            or_(Document.author_id == v.user_id, Document.responsible_id == v.user_id),
        )
        .options(selectinload(Document.company), selectinload(Document.contact))
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .limit(limit)
    )
    return list(db().scalars(stmt))


@bp.route("/")
@login_required
def home() -> ResponseReturnValue:
    ka = current_ka()
    types = {t.key: t for t in ka.types.all()}
    return render_template("home.html", documents=recent_documents(), types=types)


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    return {"status": "ok"}
