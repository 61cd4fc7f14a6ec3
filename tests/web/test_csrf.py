"""Every changing route of the running app (core and plugins' blueprints) refuses a request without a CSRF token."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import MetaData, select, text

from tests.web.conftest import login

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
SAMPLE = {"int": "1", "float": "1.0", "uuid": "00000000-0000-0000-0000-000000000000", "path": "x/y"}


def concrete_path(rule: Any) -> str:
    """The rule's path with a plausible value for every variable part (ids that exist in the test data)."""

    def value(match: re.Match[str]) -> str:
        converter = (match.group(1) or "default").split("(")[0]
        return SAMPLE.get(converter, "testtypes")

    return re.sub(r"<(?:([a-zA-Z_]+(?:\([^)]*\))?):)?[a-zA-Z_]+>", value, rule.rule)


def database_digest(ka: Any) -> str:
    """A digest of every table's rows: equal before and after means nothing changed."""
    meta = MetaData()
    digest = hashlib.sha256()
    with ka.db.engine.connect() as conn:
        meta.reflect(bind=conn)
        for table in sorted(meta.tables.values(), key=lambda t: t.name):
            if table.name in ("alembic_version",):
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
        conn.execute(text("select 1"))
    return digest.hexdigest()


def test_every_changing_route_requires_the_token(app, client, ka, people, world):  # type: ignore[no-untyped-def]
    assert app.config["WTF_CSRF_ENABLED"] is True
    login(client, "admin")  # admins may reach every view, so only the missing token can stop them
    before = database_digest(ka)
    checked: list[str] = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            continue
        for method in sorted((rule.methods or set()) & CHANGING):
            path = concrete_path(rule)
            data = {"name": "CSRF", "title": "CSRF", "last_name": "CSRF", "enabled": "0", "login": "csrf",
                    "password": "geheim-123", "password2": "geheim-123", "display_name": "CSRF"}
            response = client.open(path, method=method, data=data)
            assert response.status_code == 400, f"{method} {path} ({rule.endpoint}) answered {response.status_code}"
            checked.append(f"{method} {rule.rule}")
    assert after_matches(before, ka), "a request without a CSRF token changed the database"
    # the core's forms are among the checked routes; plugins' blueprints are enumerated the same way
    for expected in ("POST /kontakte/neu", "POST /unternehmen/<int:company_id>/bearbeiten", "POST /einstellungen/plugins/<name>",
                     "POST /abmelden"):
        assert expected in checked, expected
    # still logged in: the refused logout did not log out
    assert client.get("/kontakte").status_code == 200


def after_matches(before: str, ka: Any) -> bool:
    return database_digest(ka) == before


def test_same_request_with_token_works(client, ka, people):  # type: ignore[no-untyped-def]
    token = login(client, "admin")
    response = client.post("/einstellungen/ordner", data={"name": "Mit Token", "csrf_token": token})
    assert response.status_code == 302
    response = client.post("/einstellungen/ordner", data={"name": "Ohne Token"})
    assert response.status_code == 400 and "Das Formular ist abgelaufen" in response.get_data(as_text=True)
    response = client.post("/einstellungen/ordner", data={"name": "Header"}, headers={"X-CSRFToken": token})
    assert response.status_code == 302  # htmx requests carry the token in this header (static/app.js)
