"""Blueprint: documents (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("documents", __name__)
