"""Per-request access to the instance, the database session and the viewer's rights."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.runtime import Kundenakte

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def current_ka() -> Kundenakte:
    return current_app.extensions["kundenakte"]


def db() -> Session:
    """The request's session: a write session (BEGIN IMMEDIATE on SQLite) for changing methods."""
    if "db" not in g:
        g.db = current_ka().db.session(write=request.method not in READ_METHODS)
    return g.db


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


def init_app(app: Flask) -> None:
    @app.context_processor
    def _inject() -> dict[str, Any]:
        ka = current_ka()
        if not current_user.is_authenticated:
            return {"ka": ka, "nav_links": [], "lang": language()}
        links = [item for _p, item in ka.collect("navigation_links", db(), viewer=viewer())]
        return {"ka": ka, "nav_links": sorted(links, key=lambda m: (m.order, m.label)), "lang": language()}
