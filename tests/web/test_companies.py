"""Unternehmen: filter list with Übersicht links, company page, create and edit."""

from __future__ import annotations

from sqlalchemy import select

from kundenakte.core.models import Company, Contact
from tests.web.conftest import login, post


def test_list_filter_and_overview_links(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "reader")
    page = client.get("/unternehmen?name=doc*").get_data(as_text=True)
    assert "DOCHOUSE GmbH" in page and "Dock &amp; Hafen KG" in page
    assert f'href="/unternehmen/{world.dochouse}/uebersicht"' in page and ">Übersicht<" in page
    page = client.get("/unternehmen?name=*house*&ort=RAVENSBURG&plz=88212").get_data(as_text=True)
    assert "DOCHOUSE GmbH" in page and "Hafen" not in page
    page = client.get(f"/unternehmen?betreuer={people.users['reader']}").get_data(as_text=True)
    assert "Dock &amp; Hafen KG" in page and "DOCHOUSE" not in page
    assert "Keine Unternehmen gefunden" in client.get("/unternehmen?name=doc").get_data(as_text=True)


def test_company_page_contacts_documents_and_menu(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "outsider")
    page = client.get(f"/unternehmen/{world.dochouse}").get_data(as_text=True)
    assert "Müller, Lea" in page and "Öztürk, Jonas" in page and "Hafen, Anna" not in page
    assert "Rahmenvertrag Entwurf" not in page and "Angebot Pumpe" not in page  # nothing readable for the outsider
    assert f"/dokumente/neu/testnote?company_id={world.dochouse}" in page  # the company menu's fallback entry
    assert f"/kontakte/neu?company_id={world.dochouse}" in page
    login(client, "editor")
    page = client.get(f"/unternehmen/{world.dochouse}").get_data(as_text=True)
    assert "Rahmenvertrag Entwurf" in page and "Geheime Notiz" not in page
    assert client.get("/unternehmen/424242").status_code == 404


def test_create_and_edit_company_propagates_address(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "owner")
    response = post(client, "/unternehmen/neu", {"name": "", "emails-0-value": "x@", "websites-0-value": "nicht da",
                                               "addresses-0-city": "Ulm"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Bitte einen Namen angeben." in page and 'value="Ulm"' in page
    assert "Bitte eine gültige E-Mail-Adresse angeben." in page and "Bitte eine gültige Webadresse angeben." in page
    response = post(client, "/unternehmen/neu", {"name": "Müller & Söhne", "addresses-0-city": "Ulm",
                                               "addresses-0-postal_code": "89073"})
    assert response.status_code == 302
    with people.ka.db.read() as s:
        created = s.scalar(select(Company).where(Company.name == "Müller & Söhne"))
        assert created.name_folded == "mueller & soehne" and created.city_folded == "ulm"
    with people.ka.db.write() as s:
        s.get(Contact, world.lea).use_company_address = True
        s.get(Contact, world.jonas).use_company_address = False
    response = post(client, f"/unternehmen/{world.dochouse}/bearbeiten", {
        "name": "DOCHOUSE GmbH", "addresses-0-street": "Neue Straße 1", "addresses-0-postal_code": "88214",
        "addresses-0-city": "Ravensburg", "addresses-0-country": "Deutschland", "account_manager_id": str(people.users["owner"])})
    assert response.status_code == 302
    with people.ka.db.read() as s:
        assert s.get(Contact, world.lea).postal_code == "88214"
        assert s.get(Contact, world.jonas).postal_code == "88212"
    page = client.get("/kontakte?plz=88214").get_data(as_text=True)
    assert "Müller, Lea" in page and "Öztürk" not in page
