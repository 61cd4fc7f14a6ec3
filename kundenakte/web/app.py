"""The Flask application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, abort, g, request
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from kundenakte.core.config import instance_secret, load_settings
from kundenakte.core.db import WriteRace
from kundenakte.core.runtime import Kundenakte

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
# A form stays usable for a working day; an older token gets the "send again" page (errors.py).
CSRF_TIME_LIMIT_S = 12 * 3600
# Non-form bodies up to this size (the API's JSON) are read before anything touches the database.
BODY_PREREAD_LIMIT = 1024 * 1024
FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def _locale() -> str:
    user = current_user
    if getattr(user, "is_authenticated", False) and getattr(user, "language", "") in ("de", "en"):
        return str(user.language)
    return current_app_settings_language()


def current_app_settings_language() -> str:
    from flask import current_app

    language: str = current_app.extensions["kundenakte"].settings.default_language
    return language


class KundenakteFlask(Flask):
    """Flask, plus one retry of a view whose first write found its reads outdated (SQLite).

    The request's session reads without the write lock and takes it at its first write; when
    another connection committed in between, the session raises ``WriteRace`` before writing and
    the view runs once more inside a write transaction from its start (core/db.py). The request
    body was read completely before (``_read_body_first``), so the repetition waits for nobody.
    """

    def dispatch_request(self) -> Any:
        try:
            return super().dispatch_request()
        except WriteRace:
            from kundenakte.web.context import restart_as_writer

            restart_as_writer()
            return super().dispatch_request()


def create_app(test_config: Mapping[str, Any] | None = None, *, ka: Kundenakte | None = None) -> Flask:
    """Build the app; ``test_config`` overrides settings (``KUNDENAKTE_*`` names, lower case)."""
    if ka is None:
        overrides = dict(test_config or {})
        extra_plugins = overrides.pop("extra_plugins", ())
        ka = Kundenakte(load_settings(overrides), extra_plugins=extra_plugins)
    settings = ka.settings
    app = KundenakteFlask(__name__, static_folder=str(HERE / "static"), template_folder=str(HERE / "templates"))
    app.extensions["kundenakte"] = ka
    app.config.update(
        SECRET_KEY=instance_secret(settings),
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024 + 1024 * 1024,  # room for the form fields
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=CSRF_TIME_LIMIT_S,
        TESTING=settings.testing,
        BABEL_DEFAULT_LOCALE=settings.default_language,
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
    )

    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the given number of proxies' X-Forwarded-For/-Proto entries are believed.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]

    from kundenakte.web.context import READ_METHODS

    @app.before_request
    def _read_body_first() -> None:
        # Registered before everything else: the whole body is in before the first statement of
        # the request runs, so no transaction ever waits for a slow client (web and API alike).
        if request.method in READ_METHODS:
            return
        if request.mimetype in FORM_TYPES:
            request.form  # noqa: B018 - parses the body (files into temporary files); 413 above the limit
        elif request.content_length is not None and request.content_length <= BODY_PREREAD_LIMIT:
            request.get_data(cache=True)

    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=_locale)

    # Plugins' template folders come first so that they can override the core's pages; every loaded
    # plugin's folders are known from the start and skipped per request while it is disabled.
    from kundenakte.web import plugin_templates

    plugin_templates.install(app, ka, str(HERE / "templates"))

    from kundenakte.web.context import db

    from kundenakte.web import (auth, companies, contact_import, contacts, context, documents, duplicates, errors, overview, pages,
                               search, settings as settings_pages)

    auth.init_app(app)
    context.init_app(app)
    errors.init_app(app)
    for module in (pages, contacts, companies, overview, documents, search, settings_pages, contact_import, duplicates):
        app.register_blueprint(module.bp)

    from kundenakte.web.api import register as register_api

    register_api(app)

    # Every loaded plugin's blueprints, also of a plugin disabled right now: Flask cannot add a
    # blueprint once the app served a request, and enabling a plugin must need no restart.
    plugin_of_blueprint: dict[str, str] = {}
    for plugin, bp in ka.plugins.collect("register_blueprints"):
        try:
            app.register_blueprint(bp)
            plugin_of_blueprint[bp.name] = plugin
        except Exception:
            log.exception("blueprint of plugin %s could not be registered", plugin)

    @app.before_request
    def _hide_disabled_plugins() -> None:
        # Blueprints are registered once; a plugin switched off later must vanish from its URLs too.
        plugin = plugin_of_blueprint.get(request.blueprint or "")
        if plugin and plugin in ka.disabled_plugins(db()):
            abort(404)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static" and response.mimetype == "text/html" and current_user.is_authenticated:
            # A signed-in page must not outlive the session in a browser's or proxy's cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
