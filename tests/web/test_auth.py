"""Logging in and out through the real forms."""

from __future__ import annotations

from tests.web.conftest import csrf_token, login, post


def test_pages_need_login_and_next_is_kept(client, people):  # type: ignore[no-untyped-def]
    for url in ("/", "/kontakte", "/unternehmen", "/suche?q=x", "/einstellungen", "/kontakte/1/uebersicht"):
        response = client.get(url)
        assert response.status_code == 302 and "/anmelden" in response.headers["Location"], url
    token = csrf_token(client, "/anmelden")
    response = client.post("/anmelden?next=/kontakte", data={"login": "owner", "password": "geheim-123", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/kontakte"


def test_wrong_password_inactive_user_and_foreign_next(client, people):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/anmelden")
    response = client.post("/anmelden", data={"login": "owner", "password": "falsch", "csrf_token": token})
    assert response.status_code == 401 and "Anmeldename oder Passwort ist falsch" in response.get_data(as_text=True)
    response = client.post("/anmelden", data={"login": "nobody", "password": "geheim-123", "csrf_token": token})
    assert response.status_code == 401
    response = client.post("/anmelden?next=//evil.example/x", data={"login": "owner", "password": "geheim-123",
                                                                   "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_layout_navigation_search_box_and_logout(client, people):  # type: ignore[no-untyped-def]
    login(client, "owner")
    page = client.get("/").get_data(as_text=True)
    for label in ("Kontakte", "Unternehmen", "Suche", "Einstellungen", "Aufgaben", "Meine zuletzt bearbeiteten Dokumente"):
        assert label in page, label
    assert 'action="/suche"' in page and 'name="q"' in page
    assert "<script>" not in page.replace(" ", "")  # no inline scripts (CSP script-src 'self')
    assert client.get("/abmelden").status_code == 405  # logging out changes state: POST only
    response = post(client, "/abmelden")
    assert response.status_code == 302
    assert client.get("/kontakte").status_code == 302


def test_static_assets_are_served(client):  # type: ignore[no-untyped-def]
    for path in ("/static/app.css", "/static/app.js", "/static/vendor/htmx/htmx.min.js"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.data) > 1000, path
        response.close()


def test_unknown_names_cost_a_password_check_too(client, people, monkeypatch):  # type: ignore[no-untyped-def]
    """No timing difference tells whether a login name exists: both paths verify a password hash."""
    import kundenakte.web.auth as auth

    calls: list[str] = []
    real = auth.verify_password

    def counting(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    for name in ("owner", "gibt-es-nicht"):
        client.post("/anmelden", data={"login": name, "password": "falsch-falsch",
                                       "csrf_token": csrf_token(client, "/anmelden")})
    assert len(calls) == 2 and all(calls)
