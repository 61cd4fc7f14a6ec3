"""WSGI entry point for gunicorn: ``gunicorn kundenakte.web.wsgi:app``."""

from kundenakte.web.app import create_app

app = create_app()
