"""The start page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("pages", __name__)


@bp.route("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    return render_template("home.html")


@bp.route("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return {"status": "ok"}
