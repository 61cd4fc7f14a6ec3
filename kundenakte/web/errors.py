"""Error pages in the app's layout; a forbidden document answers exactly like a missing one."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from kundenakte.core.documents import Forbidden, NotFound

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


def render_error(code: int, detail: str = ""):  # type: ignore[no-untyped-def]
    title, text = MESSAGES.get(code, (str(code), ""))
    if request.path.startswith("/api/"):
        return jsonify({"error": title, "message": detail or text, "status": code}), code
    return render_template("error.html", code=code, title=title, text=detail or text), code


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = exc.code or 500
        if code == 400 and "CSRF" in (exc.description or ""):
            return render_error(400, "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.")
        return render_error(code)

    @app.errorhandler(NotFound)
    def _not_found(_exc: NotFound):  # type: ignore[no-untyped-def]
        return render_error(404)

    @app.errorhandler(Forbidden)
    def _forbidden(_exc: Forbidden):  # type: ignore[no-untyped-def]
        return render_error(403)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error", exc_info=exc)
        return render_error(500)
