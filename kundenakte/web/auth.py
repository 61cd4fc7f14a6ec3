"""Login and logout (Flask-Login), with throttled failed logins."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import select

from kundenakte.core import acl, audit
from kundenakte.core.models import User
from kundenakte.core.passwords import verify_password
from kundenakte.web.context import current_ka, db

bp = Blueprint("auth", __name__)

MAX_FAILURES = 5
WINDOW_S = 300.0


class LoginUser(UserMixin):
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

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._user, name)


class Throttle:
    """Failures per key (login name, client address) within a sliding window; shared by login and API."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                q = self._failures[key]
                while q and now - q[0] > self.window_s:
                    q.popleft()
                if len(q) >= self.max_failures:
                    return True
        return False

    def fail(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures[key].append(time.monotonic())

    def reset(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("pages.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target


@bp.route("/anmelden", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    throttle: Throttle = current_ka().__dict__.setdefault("_login_throttle", Throttle())
    error = ""
    login_name = request.form.get("login", "").strip()
    if request.method == "POST":
        keys = (f"login:{login_name.lower()}", f"addr:{request.remote_addr}")
        if throttle.blocked(*keys):
            return render_template("login.html", error="Zu viele Fehlversuche. Bitte warten Sie einige Minuten.", login=login_name), 429
        user = db().scalar(select(User).where(User.login == login_name))
        if user is not None and user.active and verify_password(user.password_hash, request.form.get("password", "")):
            throttle.reset(*keys)
            login_user(LoginUser(user), remember=bool(request.form.get("remember")))
            audit.record(db(), user.id, "login", "user", user.id)
            db().commit()
            return redirect(_safe_next(request.args.get("next")))
        throttle.fail(*keys)
        error = "Anmeldename oder Passwort ist falsch."
    return render_template("login.html", error=error, login=login_name), (401 if error else 200)


@bp.route("/abmelden", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    flash("Sie wurden abgemeldet.")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    from kundenakte.web.app import login_manager

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Bitte melden Sie sich an."

    @login_manager.user_loader
    def _load(user_id: str):  # type: ignore[no-untyped-def]
        if not user_id.isdigit():
            return None
        user, rights = acl.load_viewer(db(), int(user_id))
        if user is None or not user.active:
            return None
        g.viewer = rights  # read together with the user; context.viewer() finds it
        return LoginUser(user)

    app.register_blueprint(bp)
