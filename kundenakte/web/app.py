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
from kundenakte.core.runtime import Kundenakte

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def _locale() -> str:
    user = current_user
    if getattr(user, "is_authenticated", False) and getattr(user, "language", "") in ("de", "en"):
        return user.language
    return current_app_settings_language()


def current_app_settings_language() -> str:
    from flask import current_app

    return current_app.extensions["kundenakte"].settings.default_language


def create_app(test_config: Mapping[str, Any] | None = None, *, ka: Kundenakte | None = None) -> Flask:
    """Build the app; ``test_config`` overrides settings (``KUNDENAKTE_*`` names, lower case)."""
    if ka is None:
        overrides = dict(test_config or {})
        extra_plugins = overrides.pop("extra_plugins", ())
        ka = Kundenakte(load_settings(overrides), extra_plugins=extra_plugins)
    settings = ka.settings
    app = Flask(__name__, static_folder=str(HERE / "static"), template_folder=str(HERE / "templates"))
    app.extensions["kundenakte"] = ka
    app.config.update(
        SECRET_KEY=instance_secret(settings),
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024 + 1024 * 1024,  # room for the form fields
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=settings.testing,
        BABEL_DEFAULT_LOCALE=settings.default_language,
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
    )

    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=_locale)

    # Plugins' template folders come first so that they can override the core's pages; every loaded
    # plugin's folders are known from the start and skipped per request while it is disabled.
    from kundenakte.web import plugin_templates

    plugin_templates.install(app, ka, str(HERE / "templates"))

    from kundenakte.web.context import db

    from kundenakte.web import (auth, companies, contact_import, contacts, context, documents, errors, overview, pages, search,
                               settings)

    auth.init_app(app)
    context.init_app(app)
    errors.init_app(app)
    for module in (pages, contacts, companies, overview, documents, search, settings, contact_import):
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
        return response

    return app
