"""Einstellungen: own settings for everyone; users, groups, folders and plugins for admins only."""

from __future__ import annotations

from sqlalchemy import select

from kundenakte.core.models import Folder, Group, PluginState, User
from tests.conftest import PASSWORD
from tests.web.conftest import login, post

ADMIN_PAGES = ("/einstellungen/benutzer", "/einstellungen/benutzer/neu", "/einstellungen/benutzer/1",
               "/einstellungen/gruppen", "/einstellungen/gruppen/neu", "/einstellungen/ordner", "/einstellungen/plugins")


def test_admin_pages_are_forbidden_for_others(client, people):  # type: ignore[no-untyped-def]
    login(client, "owner")
    page = client.get("/einstellungen").get_data(as_text=True)
    assert "Meine Einstellungen" in page and "/einstellungen/benutzer" not in page
    assert "Kommunikation – Vorlagen" in page  # a plugin's settings_links entry
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == 403, url
    for url in ("/einstellungen/benutzer/neu", "/einstellungen/ordner", "/einstellungen/plugins/testtypes"):
        assert post(client, url, {"login": "x", "name": "x", "enabled": "0"}).status_code == 403, url
    with people.ka.db.read() as s:
        assert s.scalar(select(Folder).where(Folder.name == "x")) is None


def test_own_settings_language_signature_password(client, people):  # type: ignore[no-untyped-def]
    login(client, "owner")
    response = post(client, "/einstellungen/profil", {"action": "profile", "display_name": "Olga Owner",
                                                      "language": "en", "signature": "Mit freundlichen Grüßen\nOlga"})
    assert response.status_code == 302
    page = client.get("/kontakte").get_data(as_text=True)
    assert '<html lang="en">' in page and ">Contacts<" in page and ">Companies<" in page and ">Settings<" in page
    response = post(client, "/einstellungen/profil", {"action": "password", "current_password": "falsch",
                                                      "new_password": "kurz", "new_password2": "anders"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "bisherige Passwort ist falsch" in page or "current password is wrong" in page
    response = post(client, "/einstellungen/profil", {"action": "password", "current_password": PASSWORD,
                                                      "new_password": "ganz-neu-456", "new_password2": "ganz-neu-456"})
    assert response.status_code == 302
    with people.ka.db.read() as s:
        owner = s.get(User, people.users["owner"])
        assert owner.language == "en" and owner.display_name == "Olga Owner" and owner.signature.endswith("Olga")
    login(client, "owner", "ganz-neu-456")


def test_admin_manages_users(client, people):  # type: ignore[no-untyped-def]
    login(client, "admin")
    assert "Outsider" in client.get("/einstellungen/benutzer").get_data(as_text=True)
    response = post(client, "/einstellungen/benutzer/neu", {"login": "owner", "display_name": "Doppelt",
                                                             "password": "geheim-123", "password2": "geheim-123"})
    assert response.status_code == 422 and 'value="Doppelt"' in response.get_data(as_text=True)
    response = post(client, "/einstellungen/benutzer/neu", {"login": "lea", "display_name": "Lea Müller",
                                                             "email": "lea@example.org", "password": "lea-geheim-1",
                                                             "password2": "lea-geheim-1", "active": "1", "language": "de"})
    assert response.status_code == 302
    with people.ka.db.read() as s:
        lea = s.scalar(select(User).where(User.login == "lea"))
        assert lea.active and not lea.is_admin and lea.display_name == "Lea Müller"
    response = post(client, f"/einstellungen/benutzer/{lea.id}", {"display_name": "Lea M.", "phone": "0751 1",
                                                                   "language": "en", "is_admin": "1"})
    assert response.status_code == 302
    with people.ka.db.read() as s:
        lea = s.get(User, lea.id)
        assert (lea.display_name, lea.phone, lea.language, lea.is_admin, lea.active) == ("Lea M.", "0751 1", "en", True, False)
    # an admin cannot lock themselves out
    response = post(client, f"/einstellungen/benutzer/{people.users['admin']}", {"display_name": "Admin", "active": "1"})
    assert response.status_code == 422
    assert post(client, f"/einstellungen/benutzer/{people.users['reader']}/passwort",
                {"password": "neu-fuer-reader", "password2": "neu-fuer-reader"}).status_code == 302
    login(client, "reader", "neu-fuer-reader")


def test_admin_manages_groups_and_folders(client, people):  # type: ignore[no-untyped-def]
    login(client, "admin")
    vertrieb = people.groups["Vertrieb"]
    response = post(client, "/einstellungen/gruppen/neu", {"name": "Vertrieb Süd", "parent_id": str(vertrieb),
                                                           "members": [str(people.users["owner"]), str(people.users["reader"])]})
    assert response.status_code == 302
    with people.ka.db.read() as s:
        sued = s.scalar(select(Group).where(Group.name == "Vertrieb Süd"))
        assert sued.parent_id == vertrieb and {u.login for u in sued.members} == {"owner", "reader"}
    assert "g:%d" % vertrieb in people.viewer("owner").principals  # members inherit the parent's rights
    # a group cannot sit inside its own sub group
    response = post(client, f"/einstellungen/gruppen/{vertrieb}", {"name": "Vertrieb", "parent_id": str(sued.id)})
    assert response.status_code == 422
    response = post(client, "/einstellungen/ordner", {"name": "Verträge 2026", "parent_id": str(people.folders["Schriftverkehr"])})
    assert response.status_code == 302
    response = post(client, "/einstellungen/ordner", {"name": "Verträge 2026", "parent_id": str(people.folders["Schriftverkehr"])})
    assert response.status_code == 422
    page = client.get("/einstellungen/ordner").get_data(as_text=True)
    assert "Verträge 2026" in page and "DOCHOUSE 4" in page
    response = post(client, f"/einstellungen/ordner/{people.folders['DOCHOUSE 4']}", {"name": "DOCHOUSE 5"})
    assert response.status_code == 302
    with people.ka.db.read() as s:
        assert s.get(Folder, people.folders["DOCHOUSE 4"]).name == "DOCHOUSE 5"


def test_plugins_disable_hides_entries_and_keeps_data(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "admin")
    page = client.get("/einstellungen/plugins").get_data(as_text=True)
    assert "testtypes" in page and "Testnotiz" in page and "Daten bleiben erhalten" in page
    assert f"/dokumente/neu/testnote?contact_id={world.lea}" in client.get(f"/kontakte/{world.lea}").get_data(as_text=True)
    assert post(client, "/einstellungen/plugins/testtypes", {"enabled": "0"}).status_code == 302
    with people.ka.db.read() as s:
        assert s.get(PluginState, "testtypes").enabled is False
    page = client.get(f"/kontakte/{world.lea}").get_data(as_text=True)
    assert "/dokumente/neu/testnote" not in page
    assert "Kommunikation (weitere Arten)" not in client.get(f"/unternehmen/{world.dochouse}/uebersicht").get_data(as_text=True)
    assert post(client, "/einstellungen/plugins/testtypes", {"enabled": "1"}).status_code == 302
    assert "Angebot Pumpe" in client.get(f"/unternehmen/{world.dochouse}/uebersicht").get_data(as_text=True)
    assert post(client, "/einstellungen/plugins/gibtsnicht", {"enabled": "0"}).status_code == 404
