"""Issue 17 through the API: several e-mails, phones, websites and addresses, and the new fields.

One declaration per field: the services' (CONTACT_TEXT, COMPANY_TEXT, their lists) drives the
API's input check, its answers and the OpenAPI document; checked here on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from kundenakte.core.models import AuditEntry, Company, Contact, ContactPoint, PostalAddress
from kundenakte.core.services import COMPANY_TEXT, CONTACT_TEXT
from kundenakte.core.services.companies import COMPANY_LISTS
from kundenakte.core.services.contacts import CONTACT_LISTS
from tests.api import api_app, api_as, world  # noqa: F401 - fixtures
from tests.api.test_api import error_of


def rows(ka: Any) -> dict[str, int]:
    with ka.db.read() as s:
        return {m.__name__: int(s.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Company, Contact, ContactPoint, PostalAddress, AuditEntry)}


def test_contact_lists_and_new_fields_round_trip(ka, people, world, api_as):  # type: ignore[no-untyped-def]
    api = api_as("owner")
    body = {
        "first_name": "Eva", "last_name": "Schäfer", "company_id": world.dochouse, "use_company_address": False,
        "nickname": "Evi", "department": "Einkauf", "notes": "Mag keine Anrufe vor 9 Uhr.", "birthday": "1980-02-29",
        "emails": [{"value": "eva@dochouse.example", "kind": "work"},
                   {"value": "eva@privat.example", "kind": "home", "preferred": True}],
        "phones": [{"value": "+49 751 1234", "kind": "work"}, {"value": "0171 555", "kind": "mobile"}],
        "addresses": [{"kind": "home", "street": "Marktplatz 3", "postal_code": "88212", "city": "Ravensburg",
                       "preferred": True}],
    }
    response = api.post("/contacts", json=body)
    assert response.status_code == 201, response.get_json()
    eva = api.get(response.headers["Location"].removeprefix("/api/v1")).get_json()
    assert eva == response.get_json()
    assert (eva["nickname"], eva["department"], eva["notes"], eva["birthday"]) == (
        "Evi", "Einkauf", "Mag keine Anrufe vor 9 Uhr.", "1980-02-29")
    assert eva["emails"] == [{"value": "eva@dochouse.example", "kind": "work", "preferred": False},
                             {"value": "eva@privat.example", "kind": "home", "preferred": True}]
    assert eva["email"] == "eva@privat.example"  # the preferred entry's copy
    assert [(p["value"], p["kind"], p["preferred"]) for p in eva["phones"]] == [
        ("+49 751 1234", "work", True), ("0171 555", "mobile", False)]
    assert eva["phone"] == "+49 751 1234"  # none marked: the first
    assert eva["addresses"] == [{"kind": "home", "street": "Marktplatz 3", "extra": "", "postal_code": "88212",
                                 "city": "Ravensburg", "country": "", "preferred": True}]
    assert (eva["street"], eva["city"]) == ("Marktplatz 3", "Ravensburg")

    # PATCH: a given list replaces the stored one; lists not named stay.
    patched = api.patch(f"/contacts/{eva['id']}", json={"emails": [{"value": "eva.neu@dochouse.example"}],
                                                        "birthday": None})
    assert patched.status_code == 200, patched.get_json()
    after = api.get(f"/contacts/{eva['id']}").get_json()
    assert after == patched.get_json()
    assert after["emails"] == [{"value": "eva.neu@dochouse.example", "kind": "work", "preferred": True}]
    assert after["email"] == "eva.neu@dochouse.example" and after["birthday"] is None
    assert after["phones"] == eva["phones"] and after["addresses"] == eva["addresses"]
    # Today's single key still works: it sets the preferred entry.
    single = api.patch(f"/contacts/{eva['id']}", json={"phone": "0751 999"}).get_json()
    assert single["phone"] == "0751 999" and single["phones"][0] == {"value": "0751 999", "kind": "work", "preferred": True}
    # The list rows show the preferred copies.
    item = next(i for i in api.get("/contacts?name=eva*").get_json()["items"] if i["id"] == eva["id"])
    assert item["email"] == "eva.neu@dochouse.example" and item["phone"] == "0751 999"


def test_company_lists_and_new_fields_round_trip(ka, people, world, api_as):  # type: ignore[no-untyped-def]
    api = api_as("owner")
    response = api.post("/companies", json={
        "name": "Seewerk AG", "vat_id": "de 123 456 789", "register_court": "Amtsgericht Ulm",
        "register_number": "HRB 1234", "notes": "Rahmenvertrag bis 2027.",
        "websites": [{"value": "https://seewerk.example", "kind": "work"}],
        "emails": [{"value": "info@seewerk.example"}],
        "addresses": [{"kind": "work", "street": "Hafenstraße 1", "postal_code": "88045", "city": "Friedrichshafen"},
                      {"kind": "other", "street": "Lager 2", "city": "Meckenbeuren"}],
    })
    assert response.status_code == 201, response.get_json()
    seewerk = response.get_json()
    assert seewerk["vat_id"] == "DE123456789"  # the service's normal form
    assert (seewerk["register_court"], seewerk["register_number"], seewerk["notes"]) == (
        "Amtsgericht Ulm", "HRB 1234", "Rahmenvertrag bis 2027.")
    assert seewerk["websites"] == [{"value": "https://seewerk.example", "kind": "work", "preferred": True}]
    assert seewerk["web"] == "https://seewerk.example" and seewerk["email"] == "info@seewerk.example"
    assert [a["city"] for a in seewerk["addresses"]] == ["Friedrichshafen", "Meckenbeuren"]
    assert seewerk["city"] == "Friedrichshafen" and seewerk["phones"] == []
    patched = api.patch(f"/companies/{seewerk['id']}", json={
        "addresses": [{"kind": "work", "street": "Lager 2", "city": "Meckenbeuren", "preferred": True}]}).get_json()
    assert patched["city"] == "Meckenbeuren" and len(patched["addresses"]) == 1
    assert api.get(f"/companies/{seewerk['id']}").get_json() == patched


def test_list_errors_are_german_and_keyed_per_entry(ka, people, world, api_as):  # type: ignore[no-untyped-def]
    api = api_as("owner")
    before = rows(ka)
    body = error_of(api.post("/contacts", json={"last_name": "X", "emails": [
        {"value": "ok@example.de"}, {"value": "kaputt"}, {"value": "b@example.de", "kind": "robot", "fax": 1}]}), 422)
    assert body["fields"] == {
        "emails.1.value": "Bitte eine gültige E-Mail-Adresse angeben.",
        "emails.2.kind": "Bitte einen der angebotenen Werte wählen.",
        "emails.2.fax": "Unbekanntes Feld.",
    }
    body = error_of(api.post("/companies", json={"name": "X", "phones": [{"value": 42}, "0751"],
                                                 "websites": [{"value": "kein web"}]}), 422)
    assert body["fields"] == {"phones.0.value": "Erwartet wird ein Text.", "phones.1": "Erwartet wird ein Eintrag mit Wert und Art.",
                              "websites.0.value": "Bitte eine gültige Webadresse angeben."}
    body = error_of(api.patch(f"/contacts/{world.lea}", json={
        "phones": [{"value": "030 1", "preferred": True}, {"value": "030 2", "preferred": True}],
        "addresses": [{"kind": "home"}], "birthday": "2999-01-01"}), 422)
    assert body["fields"] == {"phones": "Nur ein Eintrag kann bevorzugt sein.", "addresses.0": "Die Adresse ist leer.",
                              "birthday": "Der Geburtstag muss zwischen 1900 und heute liegen."}
    body = error_of(api.post("/companies", json={"name": "X", "vat_id": "123"}), 422)
    assert body["fields"] == {"vat_id": "Bitte eine USt-IdNr. wie DE123456789 angeben."}
    body = error_of(api.post("/contacts", json={"last_name": "X", "emails": "a@b.de"}), 422)
    assert body["fields"] == {"emails": "Erwartet wird eine Liste."}
    assert rows(ka) == before  # nothing written, no audit entry


def test_one_declaration_drives_input_output_and_openapi(ka, people, world, api_as):  # type: ignore[no-untyped-def]
    api = api_as("owner")
    schemas = api.get("/openapi.json").get_json()["components"]["schemas"]
    for name, texts, lists, path in (("Contact", CONTACT_TEXT, CONTACT_LISTS, f"/contacts/{world.lea}"),
                                     ("Company", COMPANY_TEXT, COMPANY_LISTS, f"/companies/{world.dochouse}")):
        declared = {f.name for f in texts} | set(lists)
        answer = api.get(path).get_json()
        assert declared <= set(answer), declared - set(answer)
        assert set(answer) == set(schemas[name]["properties"]) == set(schemas[name]["required"])
        assert declared <= set(schemas[f"{name}Create"]["properties"])
        for f in texts:
            assert schemas[f"{name}Create"]["properties"][f.name]["maxLength"] == f.max_length, f.name
        for key in lists:
            item = schemas[f"{name}Create"]["properties"][key]["items"]
            assert item["additionalProperties"] is False and "preferred" in item["properties"]
    assert schemas["ContactCreate"]["properties"]["emails"]["items"]["properties"]["kind"]["enum"] == ["work", "home", "other"]
    assert "fax" in schemas["CompanyCreate"]["properties"]["phones"]["items"]["properties"]["kind"]["enum"]
    assert "websites" in schemas["ContactCreate"]["properties"]  # the service's lists, contacts and companies alike


def test_document_attachment_and_folder_answers_are_their_declarations(ka, people, world, api_as):  # type: ignore[no-untyped-def]
    """The hand-written output schemas are gone: DOCUMENT, ATTACHMENT and FOLDER make answer and schema."""
    import io

    from kundenakte.web.api.schemas import ATTACHMENT, DOCUMENT, DOCUMENT_INPUT_PROPS, FOLDER

    api = api_as("owner")
    schemas = api.get("/openapi.json").get_json()["components"]["schemas"]
    uploaded = api.post(f"/documents/{world.shared}/attachments", data={"file": (io.BytesIO(b"Hallo"), "gruss.txt")},
                        content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    doc = api.get(f"/documents/{world.shared}").get_json()
    declared = [p.name for p in DOCUMENT.props]
    assert sorted(doc) == sorted(declared)  # every declared key, nothing else (Flask sorts the keys)
    assert {p.name for p in DOCUMENT_INPUT_PROPS} <= set(doc)  # the input's fields come back
    assert set(schemas["Document_testnote"]["properties"]) == set(declared) == set(schemas["Document_testnote"]["required"])
    assert schemas["Document_testnote"]["properties"]["data"] == {"$ref": "#/components/schemas/Data_testnoteOut"}
    assert doc["status"] == "open" and doc["data"]["price"] == "120.00"
    (att,) = doc["attachments"]
    assert sorted(att) == sorted(p.name for p in ATTACHMENT.props) and att["filename"] == "gruss.txt" and att["size"] == 5
    assert set(schemas["Attachment"]["required"]) == set(att)
    folders = api.get("/folders").get_json()["items"]
    assert folders and all(sorted(f) == sorted(p.name for p in FOLDER.props) for f in folders)
    assert set(schemas["Folder"]["properties"]) == {"id", "name", "parent_id"}
