"""The smaller points of the second security round: cookie attributes, CSRF tokens that expire after a
working day (with the typed content kept), ``Cache-Control: no-store`` on signed-in pages, the body
read before the request's first statement, and the app behind a trusted proxy."""

from __future__ import annotations

import time
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from kundenakte.core.models import Contact
from kundenakte.web.app import CSRF_TIME_LIMIT_S
from tests.conftest import PASSWORD
from tests.web.conftest import TOKEN_RE, csrf_token, login, post


def _token_aged(app: Any, client: Any, hours: float, page: str = "/") -> str:
    """A CSRF token of this client's session, signed ``hours`` ago."""

    class Aged(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - hours * 3600)

    csrf_token(client, page)  # makes sure the session holds its raw token
    with client.session_transaction() as sess:
        raw = sess["csrf_token"]
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=Aged).dumps(raw)


def test_session_and_remember_cookies_are_lax_and_httponly(client: Any, people: Any) -> None:
    token = csrf_token(client, "/anmelden")
    response = client.post("/anmelden", data={"login": "owner", "password": PASSWORD, "csrf_token": token, "remember": "1"})
    cookies = {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "SameSite=Lax" in cookies[name] and "HttpOnly" in cookies[name], cookies[name]


def test_signed_in_pages_are_not_stored_static_files_are(client: Any, people: Any) -> None:
    login(client, "owner")
    for url in ("/", "/kontakte", "/einstellungen/profil"):
        assert client.get(url).headers.get("Cache-Control") == "no-store", url
    static = client.get("/static/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_csrf_tokens_last_a_working_day(app: Any, client: Any, people: Any) -> None:
    assert app.config["WTF_CSRF_TIME_LIMIT"] == CSRF_TIME_LIMIT_S == 12 * 3600
    login(client, "owner")
    response = client.post("/kontakte/neu", data={"csrf_token": _token_aged(app, client, 11), "last_name": "Vormittag"})
    assert response.status_code == 302


def test_an_expired_form_keeps_what_was_typed(app: Any, client: Any, ka: Any, people: Any) -> None:
    login(client, "owner")
    typed = {"first_name": "Jörg", "last_name": "Spät & Söhne <b>", "emails-0-value": "joerg@example.org", "addresses-0-city": "Ulm"}
    response = client.post("/kontakte/neu", data={"csrf_token": _token_aged(app, client, 13), **typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "länger als 12 Stunden geöffnet" in page and "Ihre Eingaben sind nicht verloren" in page
    for value in ("Jörg", "Spät &amp; Söhne &lt;b&gt;", "joerg@example.org", "Ulm"):
        assert f'value="{value}"' in page, value
    assert 'action="/kontakte/neu"' in page
    with ka.db.read() as s:
        assert s.scalar(select(Contact.id).where(Contact.last_name == typed["last_name"])) is None  # nothing saved yet

    # "Erneut senden" posts the same content with the page's fresh token
    fresh = TOKEN_RE.search(page).group(1)  # type: ignore[union-attr]
    again = client.post("/kontakte/neu", data={"csrf_token": fresh, **typed})
    assert again.status_code == 302
    with ka.db.read() as s:
        assert s.scalar(select(Contact.first_name).where(Contact.last_name == typed["last_name"])) == "Jörg"


def test_an_expired_token_of_another_session_gets_no_resend_page(app: Any, client: Any, people: Any) -> None:
    """A forged post carrying someone else's (expired) token must not be turned into a one-click form."""
    attacker = app.test_client()
    login(attacker, "reader")
    foreign = _token_aged(app, attacker, 13)
    login(client, "owner")
    response = client.post("/kontakte/neu", data={"csrf_token": foreign, "last_name": "Untergeschoben"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Untergeschoben" not in page and "Erneut senden" not in page


def test_an_expired_login_form_keeps_the_name(app: Any, client: Any, people: Any) -> None:
    response = client.post("/anmelden", data={"csrf_token": _token_aged(app, client, 13, "/anmelden"), "login": "owner",
                                              "password": PASSWORD})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Bitte melden Sie sich erneut an" in page and 'value="owner"' in page
    assert PASSWORD not in page


def test_password_fields_are_asked_again_not_echoed(app: Any, client: Any, people: Any) -> None:
    login(client, "owner")
    response = client.post("/einstellungen/profil", data={
        "csrf_token": _token_aged(app, client, 13), "action": "password", "current_password": PASSWORD,
        "new_password": "ganz-neu-123", "new_password2": "ganz-neu-123"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and PASSWORD not in page and "ganz-neu-123" not in page
    assert 'type="password" name="new_password"' in page and 'value="password"' in page


def test_a_trusted_proxy_names_the_client(ka: Any, people: Any) -> None:
    """With KUNDENAKTE_TRUSTED_PROXIES=1 the throttle counts the client from X-Forwarded-For."""
    from kundenakte.web.app import create_app

    ka.settings.trusted_proxies = 1
    app = create_app(ka=ka)
    app.config.update(TESTING=True)
    behind = {"REMOTE_ADDR": "127.0.0.1"}
    attacker = app.test_client()
    token = csrf_token(attacker, "/anmelden")
    for n in range(6):
        attacker.post("/anmelden", data={"login": "owner", "password": f"x{n}", "csrf_token": token},
                      headers={"X-Forwarded-For": "203.0.113.9"}, environ_base=behind)
    blocked = attacker.post("/anmelden", data={"login": "owner", "password": PASSWORD, "csrf_token": token},
                            headers={"X-Forwarded-For": "203.0.113.9"}, environ_base=behind)
    assert blocked.status_code == 429
    colleague = app.test_client()
    token = csrf_token(colleague, "/anmelden")
    response = colleague.post("/anmelden", data={"login": "owner", "password": PASSWORD, "csrf_token": token},
                              headers={"X-Forwarded-For": "198.51.100.4"}, environ_base=behind)
    assert response.status_code == 302
