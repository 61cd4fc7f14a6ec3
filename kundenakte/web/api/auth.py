"""Bearer-token authentication and the API's error answers.

Every API request (except the public OpenAPI document) must carry ``Authorization: Bearer <token>``.
The token names a user; the request's viewer is then computed by ``acl.viewer_for`` — the same
function the UI uses — and put into ``g.viewer``, where ``kundenakte.web.context.viewer()`` finds it.
The browser's login cookie is never consulted here, so a cookie session alone gets 401.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from kundenakte.core import acl, tokens
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import Conflict, Forbidden, NotFound, ReadOnly
from kundenakte.core.models import User
from kundenakte.core.services.errors import InUse
from kundenakte.core.storage import UploadTooLarge
from kundenakte.core.throttle import API_ADDRESS
from kundenakte.search.base import QueryError
from kundenakte.web.api.schemas import ApiError
from kundenakte.web.context import current_ka, db

log = logging.getLogger(__name__)

# Endpoints that answer without a token.
PUBLIC_ENDPOINTS = {"api.openapi_document"}

HTTP_CODES = {
    400: ("bad_request", "Die Anfrage war unvollständig oder fehlerhaft."),
    401: ("unauthorized", "Bitte mit einem gültigen API-Token anmelden (Authorization: Bearer …)."),
    403: ("forbidden", "Für diese Aktion fehlen Ihnen die Rechte."),
    404: ("not_found", "Das Objekt gibt es nicht oder Sie dürfen es nicht sehen."),
    405: ("method_not_allowed", "Diese Methode ist hier nicht möglich."),
    409: ("conflict", "Jemand anderes hat inzwischen gespeichert."),
    413: ("payload_too_large", "Die Anfrage ist zu groß."),
    415: ("unsupported_media_type", "Dieses Format wird hier nicht angenommen."),
    422: ("validation_failed", "Die Eingaben sind nicht gültig."),
    429: ("too_many_requests", "Zu viele ungültige API-Tokens von dieser Adresse. Bitte später erneut versuchen."),
    500: ("internal_error", "Etwas ist schiefgegangen. Der Fehler wurde protokolliert."),
}


def error(status: int, message: str | None = None, **kwargs: Any) -> ApiError:
    code, default = HTTP_CODES.get(status, ("error", ""))
    return ApiError(status, code, message or default, **kwargs)


def not_found() -> ApiError:
    return error(404)


API_MAX_FAILURES = API_ADDRESS.limit


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    return value or None


def authenticate_request() -> None:
    """The blueprint's ``before_request``: a valid token or 401; sets ``g.viewer`` and ``g.api_user``."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    secret = _bearer()
    if secret is None:
        raise error(401)
    # The token is checked first: a valid one is never refused because others sent bad tokens
    # from the same address (everyone behind one proxy). Only an address's further unknown
    # tokens wait; guessing one is hopeless (256 bits), but each costs a hash and a query.
    user_id = tokens.authenticate(current_ka(), secret)
    user = db().get(User, user_id) if user_id is not None else None
    viewer = acl.viewer_for(db(), user)
    if user is None or viewer.sees_nothing:
        throttle = current_ka().throttle
        key = throttle.api_key(request.remote_addr)
        if throttle.blocked(key) is not None:
            g.api_retry_after = throttle.retry_after(key)
            raise error(429)
        throttle.fail(key)
        raise error(401, "Das API-Token ist ungültig, widerrufen oder der Benutzer ist deaktiviert.")
    g.viewer = viewer
    g.api_user = user


def _rollback() -> None:
    session = g.get("db")
    if session is not None:
        session.rollback()


def answer(exc: ApiError) -> tuple[Response, int]:
    _rollback()
    response = jsonify(exc.body())
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kundenakte"'
    if exc.status == 429:
        response.headers["Retry-After"] = str(g.get("api_retry_after") or API_ADDRESS.window_s)
    return response, exc.status


def _translate(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, NotFound):
        return error(404)
    if isinstance(exc, Forbidden):
        return error(403, "Sie dürfen dieses Objekt lesen, aber nicht ändern.")
    if isinstance(exc, Conflict):
        return error(409, str(exc), current_version=exc.current_version)
    if isinstance(exc, InUse):
        return error(409, str(exc))
    if isinstance(exc, StaleDataError):
        return error(409, "Das Dokument wurde inzwischen von jemand anderem gespeichert.")
    if isinstance(exc, ReadOnly):
        return ApiError(409, "read_only", str(exc) or "Archivierte oder versendete Dokumente können nicht mehr geändert werden.")
    if isinstance(exc, ValidationError):
        fields = {("type" if k == "type_key" else k): v for k, v in exc.errors.items()}
        return error(422, fields=fields)
    if isinstance(exc, QueryError):
        return ApiError(400, "invalid_query", str(exc) or "Die Suchanfrage ist nicht verständlich.")
    if isinstance(exc, UploadTooLarge):
        return error(413, str(exc))
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        if status == 413:
            return error(413)
        return error(status) if status in HTTP_CODES else ApiError(status, "error", exc.description or "")
    log.exception("API: unhandled error", exc_info=exc)
    return error(500)


def _any(exc: Exception) -> ResponseReturnValue:
    return answer(_translate(exc))


def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_blueprint(bp: Blueprint) -> None:
    """Called once, at import (a blueprint cannot change after its first registration)."""
    bp.before_request(authenticate_request)
    bp.register_error_handler(Exception, _any)
    bp.after_request(_no_store)


from kundenakte.web.api import bp as _bp  # noqa: E402

init_blueprint(_bp)
