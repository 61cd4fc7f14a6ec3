"""Error pages in the app's layout; a forbidden document answers exactly like a missing one."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException

from kundenakte.core.documents import Forbidden, NotFound
from kundenakte.core.validation import Message

MESSAGES = {
    400: ("Ungültige Anfrage", "Die Anfrage war unvollständig oder fehlerhaft."),
    403: ("Keine Berechtigung", "Für diese Aktion fehlen Ihnen die Rechte."),
    404: ("Nicht gefunden", "Diese Seite oder dieses Dokument gibt es nicht oder Sie dürfen es nicht sehen."),
    405: ("Nicht erlaubt", "Diese Aktion ist hier nicht möglich."),
    409: ("Konflikt", "Jemand anderes hat inzwischen gespeichert."),
    413: ("Datei zu groß", "Die hochgeladene Datei überschreitet die erlaubte Größe."),
    429: ("Zu viele Versuche", "Bitte warten Sie einen Moment und versuchen Sie es erneut."),
    500: ("Interner Fehler", "Etwas ist schiefgegangen. Der Fehler wurde protokolliert."),
}


def message_text(text: Any) -> str:
    """A core or plugin sentence in the request's language: a ``Message`` (``N_``) is translated."""
    return _(text.msgid, **text.params) if isinstance(text, Message) else str(text)


def field_messages(errors: Mapping[str, str]) -> dict[str, str]:
    """A ValidationError's messages in the request's language (the services word them in German)."""
    return {key: _(text.msgid, **text.params) if isinstance(text, Message) else text for key, text in errors.items()}


def render_error(code: int, detail: str = "") -> ResponseReturnValue:
    title, text = MESSAGES.get(code, (str(code), ""))
    if request.path.startswith("/api/"):
        return jsonify({"error": title, "message": detail or text, "status": code}), code
    return render_template("error.html", code=code, title=title, text=detail or text), code


EXPIRED = "The CSRF token has expired."


def _genuine_expired_token() -> bool:
    """True when the form's token was issued to this very session and only its age is over.

    Only then may the typed content be offered for sending again: a forged cross-site post has no
    token of the victim's session, so it gets the plain error page and nothing to click.
    """
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    data = request.form.get(field) or request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
    raw = session.get(field)
    if not data or not isinstance(raw, str):
        return False
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    try:
        token = URLSafeTimedSerializer(secret or "", salt="wtf-csrf-token").loads(data)  # no max_age: the age failed
    except BadData:
        return False
    return isinstance(token, str) and hmac.compare_digest(raw, token)


def form_expired() -> ResponseReturnValue:
    """An expired form: its content again, with a fresh token, one click from being sent."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    message = _("Das Formular war länger als 12 Stunden geöffnet und ist aus Sicherheitsgründen abgelaufen. "
                "Ihre Eingaben sind nicht verloren.")
    if request.endpoint == "auth.login":
        return render_template("login.html", error=message + " " + _("Bitte melden Sie sich erneut an."),
                               login=request.form.get("login", "")[:200], remember=bool(request.form.get("remember"))), 400
    hidden = [(k, v) for k, v in request.form.items(multi=True) if k != field and "password" not in k]
    passwords = sorted({k for k in request.form if "password" in k})
    files = sorted({k for k, f in request.files.items(multi=True) if f.filename})
    return render_template("form_expired.html", message=message, hidden=hidden, passwords=passwords, files=files,
                           action=request.full_path if request.query_string else request.path), 400


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if code == 400 and "CSRF" in (exc.description or ""):
            if (exc.description == EXPIRED and not request.path.startswith("/api/")
                    and "HX-Request" not in request.headers and _genuine_expired_token()):
                return form_expired()
            return render_error(400, "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.")
        return render_error(code)

    @app.errorhandler(NotFound)
    def _not_found(_exc: NotFound) -> ResponseReturnValue:
        return render_error(404)

    @app.errorhandler(Forbidden)
    def _forbidden(_exc: Forbidden) -> ResponseReturnValue:
        return render_error(403)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        app.logger.exception("unhandled error", exc_info=exc)
        return render_error(500)
