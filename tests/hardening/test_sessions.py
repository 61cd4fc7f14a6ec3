"""Sessions that end: copied session and remember-me cookies replayed after each way a session ends.

A "stolen" copy of the victim's cookies is taken while they work; after logout, an own password
change, an administrator's password reset, deactivation (and reactivation), an administrator's
"alle Sitzungen beenden" and the user's own button on the profile, the copy — the session cookie
alone and the remember-me cookie alone — must get the login page, on SQLite and PostgreSQL.
The browser that acted stays signed in where it should (own password change, own button). API
tokens keep their own revocation. In the real browser: cookies copied between two contexts, and
the cookies' attributes (HttpOnly, SameSite=Lax) as Chromium stores them.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from sqlalchemy import select

from kundenakte.core.models import User
from tests.api import Api, api_app_for, make_token
from tests.conftest import PASSWORD
from tests.hardening import FIGURES, PROBLEMS
from tests.web.conftest import csrf_token, post

REMEMBER = "remember_token"


@pytest.fixture
def app(ka: Any) -> Any:
    flask_app = api_app_for(ka)  # CSRF on, as in production
    return flask_app


def _sign_in(app: Any, login: str, *, remember: bool = True) -> Any:
    client = app.test_client()
    token = csrf_token(client, "/anmelden")
    data = {"login": login, "password": PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "1"
    response = client.post("/anmelden", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def _stolen(client: Any) -> dict[str, str]:
    cookies = {name: client.get_cookie(name) for name in ("session", REMEMBER)}
    assert all(cookies.values()), cookies
    return {name: cookie.value for name, cookie in cookies.items()}


def _replay(app: Any, name: str, value: str) -> int:
    """GET a page with only this cookie, like a thief's browser would."""
    thief = app.test_client()
    thief.set_cookie(name, value)
    response = thief.get("/kontakte")
    if response.status_code == 302:
        assert "/anmelden" in response.headers["Location"]
    return response.status_code


def _works(app: Any, stolen: dict[str, str]) -> None:
    for name, value in stolen.items():
        assert _replay(app, name, value) == 200, f"the copied {name} should work before the session ends"


def _refused(app: Any, stolen: dict[str, str], event: str) -> None:
    for name, value in stolen.items():
        status = _replay(app, name, value)
        FIGURES["sessions.replays"] += 1
        if status != 302:
            FIGURES["sessions.accepted"] += 1
            PROBLEMS.append(f"sessions: copied {name} still works after {event} ({status})")
        assert status == 302, f"copied {name} after {event}: {status}"


def _uid(ka: Any, login: str) -> int:
    with ka.db.read() as s:
        return s.scalar(select(User.id).where(User.login == login))


def _logout(app: Any, victim: Any, admin: Any, ka: Any) -> None:
    assert post(victim, "/abmelden").status_code == 302


def _own_password(app: Any, victim: Any, admin: Any, ka: Any) -> None:
    response = post(victim, "/einstellungen/profil", {"action": "password", "current_password": PASSWORD,
                                                       "new_password": "neues-geheim-1", "new_password2": "neues-geheim-1"})
    assert response.status_code == 302
    # the browser that changed the password stays signed in, with a renewed remember-me cookie
    assert victim.get("/kontakte").status_code == 200
    assert _replay(app, REMEMBER, victim.get_cookie(REMEMBER).value) == 200


def _admin_password(app: Any, victim: Any, admin: Any, ka: Any) -> None:
    uid = _uid(ka, "owner")
    response = post(admin, f"/einstellungen/benutzer/{uid}/passwort", {"password": "neues-geheim-2",
                                                                        "password2": "neues-geheim-2"})
    assert response.status_code == 302
    assert victim.get("/kontakte").status_code == 302


def _user_form(uid: int, active: bool) -> dict[str, str]:
    data = {"display_name": "Owner", "email": "owner@example.org", "phone": "", "signature": "", "language": "de"}
    if active:
        data["active"] = "1"
    return data


def _deactivate(app: Any, victim: Any, admin: Any, ka: Any) -> None:
    uid = _uid(ka, "owner")
    assert post(admin, f"/einstellungen/benutzer/{uid}", _user_form(uid, active=False)).status_code == 302
    # reactivated: the old cookies stay dead, a new login works
    assert post(admin, f"/einstellungen/benutzer/{uid}", _user_form(uid, active=True)).status_code == 302


def _admin_ends_sessions(app: Any, victim: Any, admin: Any, ka: Any) -> None:
    uid = _uid(ka, "owner")
    page = admin.get("/einstellungen/benutzer").get_data(as_text=True)
    assert f'/einstellungen/benutzer/{uid}/sitzungen-beenden' in page and "Alle Sitzungen beenden" in page
    response = post(admin, f"/einstellungen/benutzer/{uid}/sitzungen-beenden", {"next": "list"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/einstellungen/benutzer")
    assert victim.get("/kontakte").status_code == 302
    assert admin.get("/einstellungen/benutzer").status_code == 200  # the admin's own session is untouched


def _own_button(app: Any, victim: Any, admin: Any, ka: Any) -> None:
    assert "Alle Sitzungen beenden" in victim.get("/einstellungen/profil").get_data(as_text=True)
    assert post(victim, "/einstellungen/profil", {"action": "end_sessions"}).status_code == 302
    assert victim.get("/kontakte").status_code == 200  # this browser stays


EVENTS: dict[str, Callable[..., None]] = {
    "logout": _logout,
    "own password change": _own_password,
    "admin password reset": _admin_password,
    "deactivation": _deactivate,
    "alle Sitzungen beenden (admin)": _admin_ends_sessions,
    "alle Sitzungen beenden (own profile)": _own_button,
}


@pytest.mark.parametrize("event", list(EVENTS))
def test_copied_cookies_are_refused_after_the_session_ends(app: Any, ka: Any, people: Any, event: str) -> None:
    token = make_token(ka, people.users["owner"])
    victim = _sign_in(app, "owner")
    stolen = _stolen(victim)
    _works(app, stolen)
    admin = _sign_in(app, "admin", remember=False)
    EVENTS[event](app, victim, admin, ka)
    _refused(app, stolen, event)
    # API tokens have their own revocation and are not touched
    assert Api(app.test_client(), token).get("/me").status_code == 200
    # and the user can sign in again (with the password they have now)
    password = {"own password change": "neues-geheim-1", "admin password reset": "neues-geheim-2"}.get(event, PASSWORD)
    client = app.test_client()
    response = client.post("/anmelden", data={"login": "owner", "password": password,
                                              "csrf_token": csrf_token(client, "/anmelden")})
    assert response.status_code == 302


def test_a_session_without_generation_is_refused(app: Any, people: Any) -> None:
    """Sessions from before the upgrade (a bare user id) and forged shapes never sign anyone in."""
    for value in (str(people.users["owner"]), f"{people.users['owner']}:", f"{people.users['owner']}:x", "x:0", ""):
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = value
        assert client.get("/kontakte").status_code == 302, value
        FIGURES["sessions.replays"] += 1


@pytest.mark.sqlite_only
@pytest.mark.timeout(120)
def test_cookies_copied_between_browsers_die_with_the_session(chromium: Any, live_server: str, people: Any) -> None:
    from playwright.sync_api import expect

    victim = chromium.new_context(locale="de-DE")
    thief = chromium.new_context(locale="de-DE")
    remembered = chromium.new_context(locale="de-DE")
    try:
        page = victim.new_page()
        page.goto(f"{live_server}/anmelden")
        page.get_by_label("Anmeldename").fill("owner")
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_label("Angemeldet bleiben").check()
        page.get_by_role("button", name="Anmelden").click()
        expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_visible()

        cookies = {c["name"]: c for c in victim.cookies()}
        for name in ("session", REMEMBER):
            assert cookies[name]["httpOnly"] is True and cookies[name]["sameSite"] == "Lax", cookies[name]
        FIGURES["sessions.cookie_attributes"] += 2
        thief.add_cookies([cookies["session"]])
        remembered.add_cookies([cookies[REMEMBER]])
        for context in (thief, remembered):
            other = context.new_page()
            other.goto(f"{live_server}/kontakte")
            expect(other.get_by_role("navigation", name="Hauptnavigation")).to_be_visible()
            other.close()

        page.locator(".user-menu .menu-button").click()
        page.get_by_role("menuitem", name="Abmelden").click()
        expect(page.get_by_label("Anmeldename")).to_be_visible()

        for context in (thief, remembered):
            other = context.new_page()
            other.goto(f"{live_server}/kontakte")
            expect(other.get_by_label("Anmeldename")).to_be_visible()
            assert "/anmelden" in other.url
            other.close()
            FIGURES["sessions.replays"] += 1
            FIGURES["sessions.browser"] += 1
    finally:
        for context in (victim, thief, remembered):
            context.close()
