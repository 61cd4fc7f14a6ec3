"""Shared helpers of the API tests: an app with the API registered (CSRF on, as in production),
bearer tokens for the cast of ``tests.conftest.People`` and a small customer file."""

from __future__ import annotations

from typing import Any

import pytest

from kundenakte.core import tokens


def api_app_for(ka: Any) -> Any:
    from kundenakte.web.api import register
    from kundenakte.web.app import create_app

    app = create_app(ka=ka)
    register(app)  # a no-op once app.py registers the API itself
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return app


def make_token(ka: Any, user_id: int, name: str = "Test") -> str:
    with ka.db.write() as s:
        _row, secret = tokens.create_token(s, user_id, name)
    return secret


class Api:
    """A test client that sends one user's bearer token with every request."""

    def __init__(self, client: Any, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def open(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = self._headers(kwargs)
        return self.client.open("/api/v1" + url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kw: Any) -> Any:
        return self.open("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.open("POST", url, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.open("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.open("DELETE", url, **kw)


class ApiWorld:
    """DOCHOUSE with two contacts, another company, and test notes with different readers."""

    def __init__(self, ka: Any, people: Any) -> None:
        from kundenakte.core.documents import DocumentInput, create_document
        from kundenakte.core.models import Company, Contact, Document

        users = people.users
        with ka.db.write() as s:
            dochouse = Company(name="DOCHOUSE GmbH", street="Lindenstraße 17", postal_code="88212", city="Ravensburg",
                               account_manager_id=users["owner"])
            other = Company(name="Dock & Hafen KG", postal_code="20095", city="Hamburg", account_manager_id=users["reader"])
            s.add_all([dochouse, other])
            s.flush()
            lea = Contact(first_name="Lea", last_name="Müller", company_id=dochouse.id, postal_code="88212",
                          city="Ravensburg", account_manager_id=users["owner"], email="lea@dochouse.example")
            jonas = Contact(first_name="Jonas", last_name="Öztürk", company_id=dochouse.id, postal_code="88212",
                            city="Ravensburg", account_manager_id=users["reader"])
            anna = Contact(first_name="Anna", last_name="Hafen", company_id=other.id, postal_code="20095", city="Hamburg")
            s.add_all([lea, jonas, anna])
            s.flush()
            self.dochouse, self.other, self.lea, self.jonas, self.anna = dochouse.id, other.id, lea.id, jonas.id, anna.id

            def note(login: str, title: str, **kw: Any) -> int:
                inp = DocumentInput(title=title, data={"subject": "Betreff", **kw.pop("data", {})}, **kw)
                return create_document(ka, s, people.viewer(login), "testnote", inp).id

            self.shared = note("owner", "Angebot Pumpe", contact_id=lea.id, status="open", data={"price": "120.00"},
                               readers=[f"u:{users['reader']}"], editors=[f"u:{users['editor']}"])
            self.private = note("owner", "Geheime Notiz Zitronenfalter", contact_id=lea.id, status="done")
            self.company_doc = note("editor", "Rahmenvertrag Entwurf", company_id=dochouse.id, status="open")
            archived = note("owner", "Alte Notiz", contact_id=lea.id, status="done")
            s.flush()
            doc = s.get(Document, archived)
            doc.archived_at = doc.created_at
            self.archived = archived
        self.ka = ka
        self.people = people


@pytest.fixture
def api_app(ka: Any) -> Any:
    return api_app_for(ka)


@pytest.fixture
def world(ka: Any, people: Any) -> ApiWorld:
    return ApiWorld(ka, people)


@pytest.fixture
def api_as(ka: Any, people: Any, api_app: Any) -> Any:
    """``api_as("owner")``: a client with a fresh token of that user."""

    def make(login: str | None) -> Api:
        token = make_token(ka, people.users[login]) if login else None
        return Api(api_app.test_client(), token)

    return make
