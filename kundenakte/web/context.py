"""Per-request access to the instance, the database session and the viewer's rights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar, cast

import flask_login
from flask import Flask, current_app, g, request
from flask_babel import get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.runtime import Kundenakte
from kundenakte.web.navigation import sidebar

READ_METHODS = {"GET", "HEAD", "OPTIONS"}

View = TypeVar("View", bound=Callable[..., Any])


def login_required(view: View) -> View:
    """Flask-Login's ``login_required`` with its type kept: a view behind it stays type-checked.

    Flask-Login's decorator is unannotated, so every view it wraps would become untyped.
    """
    return cast(View, flask_login.login_required(view))


def current_ka() -> Kundenakte:
    return current_app.extensions["kundenakte"]


def db() -> Session:
    """The request's session: it reads first and takes the write lock only at its first write
    (``Database.request_session``), so a request holds SQLite's lock only while it writes."""
    if "db" not in g:
        g.db = current_ka().db.request_session()
    return g.db


def restart_as_writer() -> None:
    """Prepare to run the view again after a ``WriteRace``: the request's session rolls back and
    takes the write lock from its start; uploaded files are read again from their beginning."""
    session = g.get("db")
    if session is not None:
        current_ka().db.restart_as_writer(session)
    for _name, parts in request.files.lists():
        for part in parts:
            part.stream.seek(0)


def viewer() -> acl.Viewer:
    """The current user's rights, read from the database once per request."""
    if "viewer" not in g:
        user = current_user._get_current_object() if current_user.is_authenticated else None
        g.viewer = acl.viewer_for(db(), user) if user is not None else acl.NOBODY
    return g.viewer


def disabled_plugins() -> frozenset[str]:
    return current_ka().disabled_plugins(db())


def language() -> str:
    user = current_user
    if getattr(user, "is_authenticated", False) and getattr(user, "language", "") in ("de", "en"):
        return user.language
    return current_ka().settings.default_language


def _translations() -> Any:
    # Flask-Babel finds its per-request catalogue through several context lookups on every call; a
    # page calls gettext dozens of times, so the catalogue is looked up once and kept on ``g``.
    translations = g.get("_translations")
    if translations is None:
        translations = g._translations = get_translations()
    return translations


def _make_gettext(lookup: Callable[[], Any]) -> Callable[..., str]:
    """Jinja's new-style ``_()``/``gettext()`` without its per-call overhead.

    Same contract as ``jinja2.ext``'s: the translation is trusted markup when autoescaping, the
    variables are escaped into it, and formatting happens only when there are variables.
    """

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
        translated = lookup().ugettext(string)
        if eval_ctx.autoescape:
            translated = Markup(translated)
        return translated % variables if variables else translated

    return gettext


def resolve_picker(kind: str, raw_id: Any, text: Any) -> tuple[int | None, str | None]:
    """What a submitted type-ahead (``macros/fields.html`` ``picker``) means: ``(id or None, error)``.

    ``kind`` is ``"contact"`` or ``"company"``. The plugin API's door to the core's pickers: a
    chosen id stands while the visible text still shows its name; text typed without picking (or
    without JavaScript) must name exactly one entry by the list filters' rules, else the German
    error says what to do.
    """
    from kundenakte.web import pickers

    value, error = pickers.resolve(db(), kind, raw_id, str(text or ""))
    return (int(value) if value else None), error


def init_app(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    global_gettext = _make_gettext(_translations)
    app.jinja_env.globals.update(_=global_gettext, gettext=global_gettext)

    @app.context_processor
    def _inject() -> dict[str, Any]:
        ka = current_ka()
        # A gettext bound to this request's catalogue: pages call it dozens of times.
        catalogue = _translations()
        gettext = _make_gettext(lambda: catalogue)
        common = {"ka": ka, "lang": language(), "sidebar": sidebar, "_": gettext, "gettext": gettext}
        if not current_user.is_authenticated:
            return common | {"nav_links": []}
        from kundenakte.web.menus import menu_url

        links = [replace(item, url=menu_url(item)) for _p, item in ka.collect("navigation_links", db(), viewer=viewer())]
        return common | {"nav_links": sorted((m for m in links if m.url), key=lambda m: (m.order, m.label))}
