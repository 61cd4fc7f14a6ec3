"""Blueprint: companies (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("companies", __name__)
