"""Login and logout (Flask-Login) with revocable sessions and the shared throttle.

A session and a remember-me cookie name the user as ``"<id>:<session generation>"``
(``LoginUser.get_id``); the user loader refuses any other generation than the stored one, so
raising it (core/users.py ``end_sessions``: logout, password change, deactivation, "alle
Sitzungen beenden") ends every session and remember-me cookie of that user on their next request.
Failed logins are counted in the database (core/throttle.py), per (login name, address) and per
address, never per name alone: nobody can lock the real user out by failing for their name.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user
from sqlalchemy import select

from kundenakte.core import acl, audit
from kundenakte.core.models import User
from kundenakte.core.passwords import hash_password, verify_password
from kundenakte.core.throttle import MAX_LOGIN
from kundenakte.core.users import end_sessions
from kundenakte.web.context import current_ka, db, login_required

bp = Blueprint("auth", __name__)

# The login name echoed back into the form after a failure: enough for any real name.
ECHO_LOGIN = 200


class LoginUser(UserMixin):  # type: ignore[misc]  # Flask-Login is unannotated: its base is Any
    """What Flask-Login keeps per request; rights are always read fresh through the ACL module."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.login = user.login
        self.display_name = user.display_name
        self.is_admin = user.is_admin
        self.language = user.language
        self.active = user.active
        self._user = user

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # Read from the row, not cached: after end_sessions() the current browser is re-bound to
        # the new generation (keep_this_session).
        return f"{self.id}:{self._user.session_generation}"

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._user, name)


def parse_session_id(value: str) -> tuple[int, int] | None:
    """``"<id>:<generation>"`` as stored in a session or remember-me cookie, else None."""
    ident, sep, generation = str(value).partition(":")
    if not sep or not (ident.isdigit() and generation.isdigit()) or len(ident) > 12 or len(generation) > 12:
        return None
    return int(ident), int(generation)


def keep_this_session(user: User) -> None:
    """Re-bind the current browser to the user's new session generation (own password change, own
    "alle Sitzungen beenden"), renewing its remember-me cookie if it had one. Call after commit."""
    cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    login_user(LoginUser(user), remember=cookie in request.cookies)


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("pages.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target


@functools.cache
def _equaliser_hash() -> str:
    return hash_password("kundenakte: no such account")


@bp.route("/anmelden", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    error = ""
    login_name = request.form.get("login", "").strip()
    shown = login_name[:ECHO_LOGIN]
    remember = bool(request.form.get("remember"))
    if request.method == "POST":
        throttle = current_ka().throttle
        pair, address = throttle.login_keys(login_name, request.remote_addr)
        blocked = throttle.blocked(pair, address)
        if blocked is not None:
            response = render_template("login.html", error=_("Zu viele Fehlversuche. Bitte warten Sie einige Minuten."),
                                       login=shown, remember=remember)
            return response, 429, {"Retry-After": str(throttle.retry_after(blocked))}
        user = None
        if 0 < len(login_name) <= MAX_LOGIN:
            user = db().scalar(select(User).where(User.login == login_name))
        password = request.form.get("password", "")
        if user is not None and user.active:
            valid = verify_password(user.password_hash, password)
        else:  # the same work as for a real account: the answer's timing must not tell that a name exists
            verify_password(_equaliser_hash(), password)
            valid = False
        if valid and user is not None:
            # A short transaction of its own: the request's session only read, so it can never have
            # to repeat the view (and its password check) under the write lock (core/db.py).
            # The address's own count stays: a valid account must not reset a password sprayer's.
            with current_ka().db.write() as session:
                throttle.reset(session, pair)
                audit.record(session, user.id, "login", "user", user.id)
            login_user(LoginUser(user), remember=remember)
            return redirect(_safe_next(request.args.get("next")))
        throttle.fail(pair, address)
        error = _("Anmeldename oder Passwort ist falsch.")
    return render_template("login.html", error=error, login=shown, remember=remember), (401 if error else 200)


@bp.route("/abmelden", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    # Logging out ends every session of the user, also cookies copied from this browser before.
    user = db().get(User, current_user.id)
    if user is not None:
        end_sessions(db(), user, by=user.id, reason="logout")
        db().commit()
    logout_user()
    flash(_("Sie wurden abgemeldet."))
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    from kundenakte.web.app import login_manager

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Bitte melden Sie sich an."

    def _load(session_id: str) -> LoginUser | None:
        parsed = parse_session_id(session_id)
        if parsed is None:
            return None
        user_id, generation = parsed
        user, rights = acl.load_viewer(db(), user_id)
        if user is None or not user.active or user.session_generation != generation:
            return None
        g.viewer = rights  # read together with the user; context.viewer() finds it
        return LoginUser(user)

    login_manager.user_loader(_load)
    app.register_blueprint(bp)
