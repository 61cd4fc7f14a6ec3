"""The JSON API under ``/api/v1``: personal bearer tokens, the same services and ACL as the UI.

Register it with ``register(app)``; that also adds the "Einstellungen → API-Tokens" pages.

CSRF: the blueprint is exempt from Flask-WTF's CSRF check on purpose. CSRF works by making a
victim's browser send its *cookies* along with a forged request; this API never looks at cookies.
Every request must carry ``Authorization: Bearer <token>`` (``auth.authenticate_request``), the
viewer is computed from that token alone and a logged-in browser session is ignored, so a forged
cross-site request has no credentials a browser would attach by itself. The token pages
(``token_views``) are ordinary cookie-session forms and stay CSRF-protected.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def register(app: Flask) -> None:
    """Register the API and the token settings pages on ``app`` (idempotent)."""
    if "api" in app.blueprints:
        return
    from kundenakte.web.api import auth, openapi, resources, token_views  # noqa: F401 - routes register on import
    from kundenakte.web.app import csrf

    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.register_blueprint(token_views.bp)
    openapi.install_plugin_operations(app)


__all__ = ["bp", "register"]
