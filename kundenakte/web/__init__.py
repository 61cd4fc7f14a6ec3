"""The web UI: ``create_app`` builds the Flask application."""

from kundenakte.web.app import create_app
from kundenakte.web.context import current_ka

__all__ = ["create_app", "current_ka"]
