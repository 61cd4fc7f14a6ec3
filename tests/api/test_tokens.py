"""Personal API tokens: shown once, stored hashed, revocable, dead with a deactivated user."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from kundenakte.core import tokens
from kundenakte.core.models import ApiToken, User
from tests.api import Api, api_app, make_token  # noqa: F401 - fixture
from tests.web.conftest import csrf_token, login, post

SECRET_RE = re.compile(r"data-token>(ka_[A-Za-z0-9_\-]+)<")


def test_secret_is_stored_only_as_its_hash(ka, people):
    with ka.db.write() as s:
        row, secret = tokens.create_token(s, people.users["owner"], "  Export   Buchhaltung ")
        assert row.name == "Export Buchhaltung"
    assert secret.startswith("ka_") and len(secret) > 40
    with ka.db.read() as s:
        stored = s.scalar(select(ApiToken))
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (stored.token_hash, stored.name)
        assert tokens.verify_token(s, secret).id == stored.id
        assert tokens.verify_token(s, secret + "x") is None
        assert tokens.verify_token(s, "") is None
    with ka.db.write() as s, pytest.raises(tokens.TokenError):
        tokens.create_token(s, people.users["owner"], "   ")
    with ka.db.write() as s, pytest.raises(tokens.TokenError):
        tokens.create_token(s, people.users["nobody"], "inaktiv")  # deactivated users get none


def test_last_used_is_recorded(ka, people, api_app):
    secret = make_token(ka, people.users["owner"])
    with ka.db.read() as s:
        assert s.scalar(select(ApiToken.last_used_at)) is None
    assert Api(api_app.test_client(), secret).get("/me").status_code == 200
    with ka.db.read() as s:
        assert s.scalar(select(ApiToken.last_used_at)) is not None


def test_revocation_is_effective_on_the_next_request(ka, people, api_app):
    secret = make_token(ka, people.users["owner"])
    api = Api(api_app.test_client(), secret)
    assert api.get("/documents").status_code == 200
    with ka.db.write() as s:
        token_id = s.scalar(select(ApiToken.id))
        assert not tokens.revoke_token(s, people.users["reader"], token_id)  # not theirs
    assert api.get("/documents").status_code == 200
    with ka.db.write() as s:
        assert tokens.revoke_token(s, people.users["owner"], token_id)
    response = api.get("/documents")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert api.post("/companies", json={"name": "Nach Widerruf"}).status_code == 401


def test_deactivated_users_token_is_401(ka, people, api_app):
    secret = make_token(ka, people.users["editor"])
    api = Api(api_app.test_client(), secret)
    assert api.get("/me").status_code == 200
    with ka.db.write() as s:
        s.get(User, people.users["editor"]).active = False
    assert api.get("/me").status_code == 401
    with ka.db.write() as s:
        s.get(User, people.users["editor"]).active = True
    assert api.get("/me").status_code == 200  # the token itself was never revoked


def test_settings_page_creates_lists_and_revokes(ka, people, api_app):
    client = api_app.test_client()
    assert client.get("/einstellungen/api-tokens").status_code == 302  # login first
    login(client, "owner")
    page = client.get("/einstellungen/api-tokens")
    assert page.status_code == 200 and "Noch keine Tokens" in page.get_data(as_text=True)

    # Without the CSRF token the form is refused and nothing is created.
    assert client.post("/einstellungen/api-tokens", data={"name": "Ohne CSRF"}).status_code == 400
    assert post(client, "/einstellungen/api-tokens", {"name": ""}).status_code == 422
    with ka.db.read() as s:
        assert s.scalar(select(ApiToken)) is None

    created = post(client, "/einstellungen/api-tokens", {"name": "Skript"})
    assert created.status_code == 200
    html = created.get_data(as_text=True)
    secret = SECRET_RE.search(html).group(1)
    assert "Skript" in html and created.headers["Cache-Control"] == "no-store"
    listing = client.get("/einstellungen/api-tokens").get_data(as_text=True)
    assert "Skript" in listing and secret not in listing  # shown once only

    api = Api(api_app.test_client(), secret)
    assert api.get("/me").get_json()["login"] == "owner"
    with ka.db.read() as s:
        token_id = s.scalar(select(ApiToken.id))

    # Someone else cannot revoke it; a revoke without CSRF is refused.
    other = api_app.test_client()
    login(other, "reader")
    assert post(other, f"/einstellungen/api-tokens/{token_id}/widerrufen").status_code == 404
    assert client.post(f"/einstellungen/api-tokens/{token_id}/widerrufen").status_code == 400
    assert api.get("/me").status_code == 200

    revoked = post(client, f"/einstellungen/api-tokens/{token_id}/widerrufen")
    assert revoked.status_code == 302
    assert "widerrufen am" in client.get("/einstellungen/api-tokens").get_data(as_text=True)
    assert api.get("/me").status_code == 401
    assert csrf_token(client, "/einstellungen/api-tokens")


def test_a_burst_of_wrong_tokens_is_throttled_per_address(ka, people, api_app):
    from kundenakte.web.api.auth import API_MAX_FAILURES

    secret = make_token(ka, people.users["owner"])
    client = api_app.test_client()
    wrong = Api(client, "ka_" + "x" * 43)
    answers = [wrong.get("/documents").status_code for _ in range(API_MAX_FAILURES)]
    assert answers == [401] * API_MAX_FAILURES
    blocked = wrong.get("/documents")
    assert blocked.status_code == 429 and blocked.get_json()["error"] == "too_many_requests"
    assert int(blocked.headers["Retry-After"]) > 0
    # a valid token is checked first and never refused because of others' bad tokens from the same
    # address (everyone behind one proxy); the bad ones keep waiting; another address is not affected
    assert Api(client, secret).get("/documents").status_code == 200
    assert wrong.get("/documents").status_code == 429
    other = Api(api_app.test_client(), "ka_" + "y" * 43)
    assert other.get("/documents", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 401
