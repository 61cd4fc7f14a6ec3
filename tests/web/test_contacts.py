"""Kontakte: filter list, contact page with documents and "…" menu, create and edit."""

from __future__ import annotations

import re

from sqlalchemy import select

from kundenakte.core.models import Contact
from tests.web.conftest import login, post


def test_filter_list_like_the_manual(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "owner")
    page = client.get(f"/kontakte?plz=88212&unternehmen=doc*&betreuer={people.users['owner']}").get_data(as_text=True)
    assert f'href="/kontakte/{world.lea}"' in page and "Müller" in page
    assert "Öztürk" not in page and "Hafen, Anna" not in page
    assert "DOCHOUSE GmbH" in page and "1 Kontakt gefunden" in page
    everyone = client.get("/kontakte").get_data(as_text=True)
    assert all(name in everyone for name in ("Müller", "Öztürk", "Hafen"))
    assert "Keine Kontakte gefunden" in client.get("/kontakte?name=niemand").get_data(as_text=True)
    assert "Müller" in client.get("/kontakte?name=MUELLER&ort=ravensburg").get_data(as_text=True)


def test_bad_filter_input_never_fails(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "owner")
    for query in ("betreuer=abc", "betreuer=99999999999999999999", "seite=-4", "seite=x", "seite=999999999",
                  "plz=%25", "unternehmen=%5C", "name=" + "x" * 5000, "unternehmen=***", "ort=_%25_"):
        assert client.get("/kontakte?" + query).status_code == 200, query
        assert client.get("/unternehmen?" + query.replace("unternehmen=", "name=")).status_code == 200, query


def test_contact_page_shows_only_readable_documents(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "reader")
    page = client.get(f"/kontakte/{world.lea}").get_data(as_text=True)
    assert "Lea Müller" in page and "lea@dochouse.example" in page
    assert "Angebot Pumpe" in page and f'href="/dokumente/{world.shared}"' in page
    assert "Geheime Notiz" not in page and "Alte Notiz" not in page
    login(client, "owner")
    page = client.get(f"/kontakte/{world.lea}").get_data(as_text=True)
    assert "Geheime Notiz" in page and "Alte Notiz" not in page and "archivierte anzeigen" in page
    page = client.get(f"/kontakte/{world.lea}?archiviert=1").get_data(as_text=True)
    assert "Alte Notiz" in page and "archivierte ausblenden" in page
    assert client.get("/kontakte/999999").status_code == 404


def test_action_menu_groups_plugins_and_fallback(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "owner")
    page = client.get(f"/kontakte/{world.lea}").get_data(as_text=True)
    menu = page[page.index('class="menu action-menu"'):]
    headings = re.findall(r'<div class="menu-heading">([^<]+)</div>', menu)
    assert headings[:5] == ["Kommunikation", "Aufgaben", "Vertrieb", "Verträge", "Projekte"]
    # the test type has no menu hook: the core adds it under its category
    link = f"/dokumente/neu/testnote?contact_id={world.lea}&amp;company_id={world.dochouse}"
    assert link in menu and ">Testnotiz<" in menu
    assert f"/dokumente/neu/task?contact_id={world.lea}" in menu  # a plugin's entry with type_key
    assert f"/kontakte/{world.lea}/uebersicht" in page


def test_create_contact_keeps_input_on_errors(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "owner")
    assert client.get("/kontakte/neu").status_code == 200
    response = post(client, "/kontakte/neu", {"first_name": "Karl", "last_name": "", "emails-0-value": "kein-mail",
                                              "company": "Gibt es nicht", "position": "Einkauf <b>"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte einen Nachnamen angeben." in page and "Bitte eine gültige E-Mail-Adresse angeben." in page
    assert "Dieses Unternehmen gibt es nicht" in page
    assert 'value="Karl"' in page and 'value="kein-mail"' in page and 'value="Einkauf &lt;b&gt;"' in page
    response = post(client, "/kontakte/neu", {"first_name": "Karl", "last_name": "Weiß", "company": "dochouse gmbh",
                                              "use_company_address": "1", "emails-0-value": "karl@example.org",
                                              "account_manager_id": str(people.users["reader"])})
    assert response.status_code == 302
    with people.ka.db.read() as s:
        karl = s.scalar(select(Contact).where(Contact.last_name == "Weiß"))
        assert karl.company_id == world.dochouse and karl.postal_code == "88212" and karl.city == "Ravensburg"
        assert karl.name_folded == "karl weiss" and karl.account_manager_id == people.users["reader"]
    assert response.headers["Location"] == f"/kontakte/{karl.id}"
    assert "Karl Weiß" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_edit_contact(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "reader")
    page = client.get(f"/kontakte/{world.jonas}/bearbeiten").get_data(as_text=True)
    assert 'value="Öztürk"' in page and 'value="DOCHOUSE GmbH"' in page
    response = post(client, f"/kontakte/{world.jonas}/bearbeiten", {
        "first_name": "Jonas", "last_name": "Öztürk", "company": "", "addresses-0-street": "Marktplatz 1",
        "addresses-0-postal_code": "10115", "addresses-0-city": "Berlin", "position": "Leitung Einkauf"})
    assert response.status_code == 302
    with people.ka.db.read() as s:
        jonas = s.get(Contact, world.jonas)
        assert (jonas.company_id, jonas.city, jonas.city_folded, jonas.position) == (None, "Berlin", "berlin", "Leitung Einkauf")
    assert post(client, "/kontakte/999999/bearbeiten", {"last_name": "X"}).status_code == 404
