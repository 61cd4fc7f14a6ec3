"""Einstellungen → API-Tokens: every user creates, lists and revokes their own personal tokens.

These are ordinary cookie-session pages, so every POST carries the CSRF token (unlike the API itself).
A new token's secret is shown once, in the answer to the POST that created it, and never again.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from kundenakte.core import tokens
from kundenakte.web.context import current_ka, db, login_required, viewer

bp = Blueprint("api_tokens", __name__, url_prefix="/einstellungen/api-tokens")


def _user_id() -> int:
    user_id = viewer().user_id
    if user_id is None or viewer().sees_nothing:
        abort(403)
    return user_id


def _page(*, secret: str = "", name: str = "", error: str = "", status: int = 200) -> tuple[str, int]:
    rows = tokens.list_tokens(db(), _user_id())
    return render_template("settings/tokens.html", tokens=rows, secret=secret, name=name, error=error,
                           api_base=url_for("api.openapi_document").rsplit("/", 1)[0]), status


@bp.route("", methods=["GET"])
@login_required
def index() -> ResponseReturnValue:
    return _page()


@bp.route("", methods=["POST"])
@login_required
def create() -> ResponseReturnValue:
    user_id = _user_id()
    name = request.form.get("name", "")
    try:
        _token, secret = tokens.create_token(db(), user_id, name, now=current_ka().clock.now())
    except tokens.TokenError as exc:
        db().rollback()
        return _page(name=name, error=str(exc), status=422)
    db().commit()
    # Shown once, right here; the database keeps only its hash.
    response = _page(secret=secret, name="")
    return response[0], 200, {"Cache-Control": "no-store"}


@bp.route("/<int:token_id>/widerrufen", methods=["POST"])
@login_required
def revoke(token_id: int) -> ResponseReturnValue:
    if token_id > 2**31 - 1 or not tokens.revoke_token(db(), _user_id(), token_id, now=current_ka().clock.now()):
        abort(404)
    db().commit()
    flash("Das Token wurde widerrufen. Es funktioniert ab sofort nicht mehr.", "success")
    return redirect(url_for("api_tokens.index"))
