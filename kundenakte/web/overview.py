"""Übersicht: everything about a company or contact on one page, one section per document area.

The page state lives in the query string (``ansicht=meine``, ``f_<section>=<filter>``,
``p_<section>=<page>``), so every view is a plain link that works without JavaScript; with htmx a
filter or page click reloads only its section from ``…/uebersicht/abschnitt/<key>``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from kundenakte.core.formatting import format_date, format_money
from kundenakte.core.models import Company, Contact, User
from kundenakte.core.overview import SectionView, build_overview, build_section, find_section
from kundenakte.web.context import current_ka, db, login_required, viewer
from kundenakte.web.pages import id_url

bp = Blueprint("overview", __name__)

KEY_MAX = 80


@dataclass
class State:
    mine: bool = False
    filters: dict[str, str] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> State:
        state = cls(mine=args.get("ansicht") == "meine")
        for name, value in args.items():
            if len(name) > KEY_MAX + 2 or len(value) > KEY_MAX:
                continue
            if name.startswith("f_"):
                state.filters[name[2:]] = value
            elif name.startswith("p_") and value.isdigit():
                state.pages[name[2:]] = max(1, min(int(value), 100_000))
        return state

    def query(self, *, key: str | None = None, filter_value: str | None = None, page: int | None = None,
              mine: bool | None = None) -> str:
        filters = dict(self.filters)
        pages = dict(self.pages)
        if key is not None:
            if filter_value is not None:
                filters[key] = filter_value
                pages.pop(key, None)
            if page is not None:
                pages[key] = page
        use_mine = self.mine if mine is None else mine
        if mine is not None and mine != self.mine:
            pages = {}
        params: list[tuple[str, Any]] = []
        if use_mine:
            params.append(("ansicht", "meine"))
        params += [(f"f_{k}", v) for k, v in sorted(filters.items())]
        params += [(f"p_{k}", v) for k, v in sorted(pages.items()) if v > 1]
        return urlencode(params)


@dataclass
class Subject:
    """The company or contact an overview is about, and how to link its views."""

    kind: str  # "company" | "contact"
    obj: Any  # Company | Contact

    @property
    def scope(self) -> dict[str, Any]:
        return {"company_id": self.obj.id} if self.kind == "company" else {"contact_id": self.obj.id}

    @property
    def title(self) -> str:
        return str(self.obj.name if self.kind == "company" else self.obj.full_name)

    @cached_property
    def _page_base(self) -> str:
        return url_for(f"overview.{self.kind}", **{f"{self.kind}_id": self.obj.id})

    @cached_property
    def _section_base(self) -> str:
        # Every filter and pager link of every section is built from this (dozens per page).
        return url_for(f"overview.{self.kind}_section", key="KEY", **{f"{self.kind}_id": self.obj.id})

    def page_url(self, query: str = "") -> str:
        return self._page_base + ("?" + query if query else "")

    def section_url(self, key: str, query: str = "") -> str:
        base = self._section_base.replace("/KEY", "/" + quote(key, safe=""))
        return base + ("?" + query if query else "")

    def detail_url(self) -> str:
        endpoint = "companies.view" if self.kind == "company" else "contacts.view"
        return url_for(endpoint, **{f"{self.kind}_id": self.obj.id})


def column_label(view: SectionView, name: str, lang: str) -> str:
    for doctype in view.types.values():
        fld = doctype.field(name)
        if fld is not None:
            return fld.label_en if lang == "en" and fld.label_en else fld.label
    return name


def cell(view: SectionView, document: Any, name: str, lang: str) -> str:
    """A declared field's value as text for the section table, formatted by the field's kind."""
    value = (document.data or {}).get(name)
    doctype = view.types.get(document.type_key)
    fld = doctype.field(name) if doctype is not None else None
    if value is None or value == "" or fld is None:
        return "" if value is None else str(value)
    if fld.kind == "money":
        return format_money(value, lang)
    if fld.kind == "date":
        return format_date(value, lang)
    if fld.kind == "choice":
        choice = next((c for c in fld.choices if c.value == value), None)
        return (choice.label_en if lang == "en" and choice.label_en else choice.label) if choice else str(value)
    if fld.kind == "boolean":
        return "ja" if value else "nein"
    if fld.kind == "user":
        user = db().get(User, value) if str(value).isdigit() else None
        return user.display_name if user is not None else ""
    if fld.kind == "richtext":
        return ""
    return str(value)[:120]


def _esc(value: Any) -> str:
    return html.escape(value if isinstance(value, str) else str(value))


def section_rows(view: SectionView, company_page: bool, lang: str) -> Markup:
    """The ``<tr>`` rows of a section table.

    Built here rather than in ``_section.html``: an overview shows up to a hundred rows, and the
    Jinja loop with its per-cell calls was most of the page's time (bench/overview_bench.py).
    Every value goes through ``_esc`` (the same five characters markupsafe escapes).
    """
    doc_link = id_url("documents.view", "doc_id")
    contact_link = id_url("contacts.view", "contact_id")
    section = view.section
    multi_type = len(view.types) > 1
    out: list[str] = []
    for d in view.rows:
        doctype = view.types.get(d.type_key)
        parts = [f'<tr><td class="nowrap">{_esc(format_date(d.document_date, lang))}</td>'
                 f'<td><a href="{_esc(doc_link(d.id))}">{_esc(d.title)}</a></td>']
        if multi_type:
            parts.append(f'<td class="hide-sm">{_esc(doctype.label_for(lang) if doctype else d.type_key)}</td>')
        for name in section.columns:
            parts.append(f'<td class="hide-sm">{_esc(cell(view, d, name, lang))}</td>')
        status = doctype.status(d.status) if doctype else None
        badge = (status.label_en if lang == "en" and status.label_en else status.label) if status else d.status
        done = " badge-done" if status is not None and status.closed else ""
        parts.append(f'<td><span class="badge{done}">{_esc(badge)}</span></td>' if badge else "<td></td>")
        if company_page:
            link = f'<a href="{_esc(contact_link(d.contact_id))}">{_esc(d.contact_name)}</a>' if d.contact_id else ""
            parts.append(f'<td class="hide-sm">{link}</td>')
        parts.append(f'<td class="hide-sm">{_esc(d.responsible_name)}</td>')
        if section.show_sum:
            parts.append(f'<td class="num nowrap">{_esc(format_money(d.amount, lang))}</td>')
        parts.append("</tr>")
        out.append("".join(parts))
    return Markup("\n".join(out))


def section_filters(view: SectionView, links: dict[str, Any], lang: str) -> Markup:
    """The radio filter of a section: a plain link per value (no JS) that htmx turns into a reload
    of just this section. Built here for the same reason as :func:`section_rows`."""
    target = _esc(f"#section-{view.key}")
    out: list[str] = []
    for flt in view.section.filters:
        page_url, part_url = (_esc(u) for u in links["filters"][flt.value])
        checked = flt.value == view.active
        label = flt.label_en if lang == "en" and flt.label_en else flt.label
        out.append(
            f'<a href="{page_url}" hx-get="{part_url}" hx-target="{target}" hx-swap="outerHTML" '
            f'hx-push-url="{page_url}" role="radio" aria-checked="{"true" if checked else "false"}" '
            f'class="radio{" checked" if checked else ""}"><span class="dot" aria-hidden="true"></span>'
            f'{_esc(label)} <span class="count">{view.counts.get(flt.value, 0)}</span></a>'
        )
    return Markup("\n".join(out))


@bp.app_context_processor
def _overview_helpers() -> dict[str, Any]:
    return {"overview_cell": cell, "overview_column_label": column_label, "overview_rows": section_rows,
            "overview_filters": section_filters}


def _subject(kind: str, ident: int) -> Subject:
    obj = db().get(Company if kind == "company" else Contact, ident)
    if obj is None or viewer().sees_nothing:
        abort(404)
    return Subject(kind, obj)


def _links(subject: Subject, state: State, view: SectionView) -> dict[str, Any]:
    """Per filter value and pager step: the full-page link (no JS) and the section link (htmx)."""
    key = view.key

    def both(**change: Any) -> tuple[str, str]:
        query = state.query(key=key, **change)
        return subject.page_url(query), subject.section_url(key, query)

    return {
        "filters": {f.value: both(filter_value=f.value) for f in view.section.filters},
        "prev": both(filter_value=view.active, page=view.page - 1) if view.page > 1 else None,
        "next": both(filter_value=view.active, page=view.page + 1) if view.page < view.pages else None,
    }


def _render_page(subject: Subject) -> ResponseReturnValue:
    state = State.from_args(request.args)
    ka = current_ka()
    views = build_overview(ka, db(), viewer(), mine=state.mine, filters=state.filters, page=state.pages,
                           cache=ka.overview_cache, **subject.scope)
    return render_template(
        "overview/page.html",
        subject=subject,
        state=state,
        sections=[(v, _links(subject, state, v)) for v in views],
        mine_url=subject.page_url(state.query(mine=True)),
        all_url=subject.page_url(state.query(mine=False)),
    )


def _render_section(subject: Subject, key: str) -> ResponseReturnValue:
    if len(key) > KEY_MAX:
        abort(404)
    state = State.from_args(request.args)
    if request.args.get("filter"):
        state.filters[key] = request.args["filter"][:KEY_MAX]
    if request.args.get("page", "").isdigit():
        state.pages[key] = max(1, min(int(request.args["page"]), 100_000))
    ka = current_ka()
    section = find_section(ka, db(), key)
    if section is None:
        abort(404)
    if not request.headers.get("HX-Request"):
        # A plain link (no JavaScript): show the whole page in the same state.
        return redirect(subject.page_url(state.query()))
    view = build_section(ka, db(), viewer(), section, mine=state.mine, filter_value=state.filters.get(key),
                         page=state.pages.get(key, 1), cache=ka.overview_cache, **subject.scope)
    section_html = render_template("overview/_section.html", subject=subject, view=view, links=_links(subject, state, view))
    scope_html = render_template("overview/_scope.html", state=state, oob=True,
                                 mine_url=subject.page_url(state.query(mine=True)),
                                 all_url=subject.page_url(state.query(mine=False)))
    return section_html + scope_html


@bp.route("/unternehmen/<int:company_id>/uebersicht")
@login_required
def company(company_id: int) -> ResponseReturnValue:
    return _render_page(_subject("company", company_id))


@bp.route("/kontakte/<int:contact_id>/uebersicht")
@login_required
def contact(contact_id: int) -> ResponseReturnValue:
    return _render_page(_subject("contact", contact_id))


@bp.route("/unternehmen/<int:company_id>/uebersicht/abschnitt/<key>")
@login_required
def company_section(company_id: int, key: str) -> ResponseReturnValue:
    return _render_section(_subject("company", company_id), key)


@bp.route("/kontakte/<int:contact_id>/uebersicht/abschnitt/<key>")
@login_required
def contact_section(contact_id: int, key: str) -> ResponseReturnValue:
    return _render_section(_subject("contact", contact_id), key)
