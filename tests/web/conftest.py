"""Helpers for the web tests: log in through the real /anmelden form and post with its CSRF token."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import PASSWORD

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
META_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client: Any, url: str = "/") -> str:
    page = client.get(url).get_data(as_text=True)
    match = TOKEN_RE.search(page) or META_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client: Any, login_name: str, password: str = PASSWORD) -> str:
    """Log in like a browser (GET the form, POST it with its token); returns the session's CSRF token."""
    if client.get("/anmelden").status_code == 302:  # someone is logged in: log out like the user menu does
        client.post("/abmelden", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client, "/anmelden")
    response = client.post("/anmelden", data={"login": login_name, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return csrf_token(client, "/")


def post(client: Any, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST a form with the session's CSRF token, as the page's form would."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_token(client, "/"))
    return client.post(url, data=payload, **kwargs)


@pytest.fixture
def app(ka):  # type: ignore[no-untyped-def]
    """The app with CSRF protection on, exactly as in production."""
    from kundenakte.web.app import create_app

    flask_app = create_app(ka=ka)
    flask_app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return flask_app


class World:
    """A small customer file: DOCHOUSE with two contacts, another company, and some test notes."""

    def __init__(self, ka: Any, people: Any) -> None:
        from kundenakte.core.documents import DocumentInput, create_document
        from kundenakte.core.models import Company, Contact

        users = people.users
        with ka.db.write() as s:
            dochouse = Company(name="DOCHOUSE GmbH", street="Lindenstraße 17", postal_code="88212", city="Ravensburg",
                               account_manager_id=users["owner"])
            other = Company(name="Dock & Hafen KG", postal_code="20095", city="Hamburg", account_manager_id=users["reader"])
            s.add_all([dochouse, other])
            s.flush()
            lea = Contact(first_name="Lea", last_name="Müller", company_id=dochouse.id, postal_code="88212",
                          city="Ravensburg", account_manager_id=users["owner"], email="lea@dochouse.example",
                          street="Lindenstraße 17")
            jonas = Contact(first_name="Jonas", last_name="Öztürk", company_id=dochouse.id, postal_code="88212",
                            city="Ravensburg", account_manager_id=users["reader"])
            anna = Contact(first_name="Anna", last_name="Hafen", company_id=other.id, postal_code="20095", city="Hamburg",
                           account_manager_id=users["owner"])
            s.add_all([lea, jonas, anna])
            s.flush()
            self.dochouse, self.other, self.lea, self.jonas, self.anna = dochouse.id, other.id, lea.id, jonas.id, anna.id

            def note(login: str, title: str, **kw: Any) -> int:
                inp = DocumentInput(title=title, data={"subject": "Betreff", **kw.pop("data", {})}, **kw)
                return create_document(ka, s, people.viewer(login), "testnote", inp).id

            self.shared = note("owner", "Angebot Pumpe", contact_id=lea.id, status="open", data={"price": "120.00"},
                               readers=[f"u:{users['reader']}"])
            self.private = note("owner", "Geheime Notiz", contact_id=lea.id, status="done")
            self.company_doc = note("editor", "Rahmenvertrag Entwurf", company_id=dochouse.id, status="open")
            archived = note("owner", "Alte Notiz", contact_id=lea.id, status="done")
            s.flush()
            from kundenakte.core.models import Document

            doc = s.get(Document, archived)
            doc.archived_at = doc.created_at
            self.archived = archived


@pytest.fixture
def world(ka, people):  # type: ignore[no-untyped-def]
    return World(ka, people)
