"""Blueprint: settings (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("settings", __name__)
