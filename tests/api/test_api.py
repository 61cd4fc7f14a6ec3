"""The JSON API: every resource, ACL denials, bad input with nothing written, optimistic locking, files."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import func, select

from kundenakte.core.models import ApiToken, Attachment, AuditEntry, Company, Contact, Document
from tests.api import api_app, api_as, world  # noqa: F401 - fixtures

# -- helpers ---------------------------------------------------------------------------------------------


def counts(ka: Any) -> dict[str, int]:
    """How many rows the tables an API write could touch hold (to prove "nothing written")."""
    with ka.db.read() as s:
        out = {m.__name__: int(s.scalar(select(func.count()).select_from(m)) or 0)
               for m in (Company, Contact, Document, Attachment)}
        # Token creation by the fixtures is audited too; only the API's own writes count here.
        out["AuditEntry"] = int(s.scalar(select(func.count()).select_from(AuditEntry)
                                         .where(AuditEntry.object_type != "api_token")) or 0)
        out["versions"] = int(s.scalar(select(func.sum(Document.version))) or 0)
        return out


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert isinstance(body, dict) and body["error"] and body["message"], body
    return body


# -- authentication ----------------------------------------------------------------------------------------


def test_requests_without_token_are_401_and_cookie_sessions_are_refused(ka, people, api_app):
    from tests.web.conftest import login

    client = api_app.test_client()
    body = error_of(client.get("/api/v1/me"), 401)
    assert "Token" in body["message"]
    login(client, "owner")  # a logged-in browser session does not count for the API
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/documents").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer ka_unknown-token-value"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic b3duZXI6Z2VoZWlt"}).status_code == 401
    response = client.get("/api/v1/me")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_me(api_as, people):
    response = api_as("nested").get("/me")
    assert response.status_code == 200
    me = response.get_json()
    assert me["login"] == "nested" and not me["is_admin"]
    assert {f"g:{people.groups['Vertrieb']}", f"g:{people.groups['Vertrieb Nord']}", "*"} <= set(me["principals"])
    assert "Set-Cookie" not in response.headers


def test_api_posts_need_no_csrf_token(api_as):
    # The app runs with CSRF on; the API is exempt because it never uses cookies.
    response = api_as("owner").post("/companies", json={"name": "Ohne CSRF GmbH"})
    assert response.status_code == 201, response.get_json()


# -- companies and contacts ------------------------------------------------------------------------------------


def test_company_crud_and_wildcard_filters(ka, people, world, api_as):
    api = api_as("owner")
    listing = api.get("/companies?name=dochouse*").get_json()
    assert [c["name"] for c in listing["items"]] == ["DOCHOUSE GmbH"] and listing["total"] == 1
    assert api.get("/companies?name=dochouse").get_json()["total"] == 0  # no * means exact
    assert api.get("/companies?name=DOCHOUSE GMBH").get_json()["total"] == 1
    assert api.get("/companies?postal_code=88*").get_json()["total"] == 1
    assert api.get(f"/companies?account_manager_id={people.users['reader']}").get_json()["total"] == 1
    assert api.get("/companies?city=hamburg").get_json()["items"][0]["name"] == "Dock & Hafen KG"

    created = api.post("/companies", json={"name": "  Müller Bau AG ", "city": "Köln", "email": "info@mueller.example",
                                           "account_manager_id": people.users["owner"]})
    assert created.status_code == 201
    company = created.get_json()
    assert company["name"] == "Müller Bau AG" and company["country"] == "Deutschland"
    assert created.headers["Location"].endswith(f"/api/v1/companies/{company['id']}")
    assert api.get("/companies?name=mueller*").get_json()["total"] == 1  # umlaut folding as in the UI
    assert api.get(f"/companies/{company['id']}").get_json()["city"] == "Köln"

    changed = api.patch(f"/companies/{company['id']}", json={"city": "Bonn"})
    assert changed.status_code == 200 and changed.get_json()["city"] == "Bonn"
    assert changed.get_json()["name"] == "Müller Bau AG"

    # Deleting master data is for admins, and only while nothing refers to it.
    error_of(api.delete(f"/companies/{company['id']}"), 403)
    admin = api_as("admin")
    error_of(admin.delete(f"/companies/{world.dochouse}"), 409)
    assert admin.delete(f"/companies/{company['id']}").status_code == 204
    error_of(api.get(f"/companies/{company['id']}"), 404)


def test_company_address_change_reaches_contacts_using_it(ka, world, api_as):
    api = api_as("owner")
    assert api.patch(f"/contacts/{world.jonas}", json={"use_company_address": True}).status_code == 200
    api.patch(f"/companies/{world.dochouse}", json={"postal_code": "88214", "city": "Ravensburg-Süd"})
    jonas = api.get(f"/contacts/{world.jonas}").get_json()
    assert (jonas["postal_code"], jonas["city"]) == ("88214", "Ravensburg-Süd")


def test_contact_crud_pagination_and_filters(ka, people, world, api_as):
    api = api_as("reader")
    assert api.get("/contacts?name=müller").get_json()["items"][0]["id"] == world.lea
    assert api.get("/contacts?name=lea*").get_json()["total"] == 1
    assert api.get("/contacts?name=lea").get_json()["total"] == 0  # without * the whole name or a word must match
    assert api.get("/contacts?name=mue*").get_json()["total"] == 1
    assert api.get("/contacts?company=dochouse*").get_json()["total"] == 2
    assert api.get("/contacts?postal_code=20095").get_json()["total"] == 1
    assert api.get("/contacts?city=RAVENSBURG").get_json()["total"] == 2
    assert api.get(f"/contacts?account_manager_id={people.users['reader']}").get_json()["total"] == 1

    page1 = api.get("/contacts?per_page=2").get_json()
    assert page1["total"] == 3 and len(page1["items"]) == 2 and page1["links"]["prev"] is None
    page2 = api.get(page1["links"]["next"].removeprefix("/api/v1")).get_json()
    assert page2["page"] == 2 and len(page2["items"]) == 1 and page2["links"]["next"] is None
    assert {c["id"] for c in page1["items"] + page2["items"]} == {world.lea, world.jonas, world.anna}
    error_of(api.get("/contacts?per_page=201"), 422)
    error_of(api.get("/contacts?page=0"), 422)
    error_of(api.get("/contacts?account_manager_id=abc"), 422)

    created = api.post("/contacts", json={"first_name": "Eva", "last_name": "Schäfer", "company_id": world.other,
                                          "gender": "female", "use_company_address": True})
    assert created.status_code == 201
    eva = created.get_json()
    assert eva["postal_code"] == "20095" and eva["city"] == "Hamburg"  # copied from the company
    patched = api.patch(f"/contacts/{eva['id']}", json={"position": "Einkauf", "company_id": None})
    assert patched.status_code == 200
    assert patched.get_json()["company_id"] is None and patched.get_json()["use_company_address"] is False
    error_of(api.delete(f"/contacts/{eva['id']}"), 403)
    assert api_as("admin").delete(f"/contacts/{eva['id']}").status_code == 204
    error_of(api_as("admin").delete(f"/contacts/{world.lea}"), 409)  # documents refer to her


def test_contact_and_company_bad_input(ka, people, world, api_as):
    api = api_as("owner")
    before = counts(ka)
    body = error_of(api.post("/contacts", json={"first_name": "Ohne Nachname"}), 422)
    assert body["fields"] == {"last_name": "Dieses Feld ist ein Pflichtfeld."}
    body = error_of(api.post("/contacts", json={"last_name": "X", "company_id": 999999}), 422)
    assert "company_id" in body["fields"]
    body = error_of(api.post("/companies", json={"name": "X", "email": "kein-at", "web": "nope", "fax": "1"}), 422)
    assert set(body["fields"]) == {"email", "web", "fax"} and body["fields"]["fax"] == "Unbekanntes Feld."
    body = error_of(api.post("/companies", json={"name": 42}), 422)
    assert body["fields"]["name"] == "Erwartet wird ein Text."
    error_of(api.post("/companies", json={"name": "X", "account_manager_id": "1"}), 422)
    error_of(api.post("/companies", json={"name": "A\u0000B"}), 422)
    error_of(api.patch(f"/companies/{world.dochouse}", json={"name": ""}), 422)
    error_of(api.patch(f"/contacts/{world.lea}", json={"gender": "robot"}), 422)
    assert counts(ka) == before


# -- documents ------------------------------------------------------------------------------------------


def test_document_create_get_patch_delete(ka, people, world, api_as):
    api = api_as("owner")
    body = {
        "type": "testnote", "title": "Anruf", "contact_id": world.lea, "document_date": "2024-03-01", "status": "open",
        "content": "<p>Hallo<script>x</script></p>", "folder_ids": [people.folders["Schriftverkehr"]],
        "retention_days": 30, "readers": [f"g:{people.groups['Vertrieb']}"], "editors": [f"u:{people.users['editor']}"],
        "data": {"subject": "Rückruf", "price": 12.5, "minutes": 15, "direction": "in", "urgent": True, "due": "2024-03-10"},
    }
    response = api.post("/documents", json=body)
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["type"] == "testnote" and doc["company_id"] == world.dochouse  # taken from the contact
    assert doc["data"]["price"] == "12.50" and doc["amount"] == "12.50" and doc["due_date"] == "2024-03-10"
    assert "<script>" not in doc["content"]
    assert doc["readers"] == [f"g:{people.groups['Vertrieb']}"] and doc["editors"] == [f"u:{people.users['editor']}"]
    assert doc["folder_ids"] == [people.folders["Schriftverkehr"]] and doc["archive_due"] == "2024-03-31"
    assert api.get(f"/documents/{doc['id']}").get_json() == doc
    # The nested group member reads it; the editor may change it.
    assert api_as("nested").get(f"/documents/{doc['id']}").status_code == 200

    patched = api_as("editor").patch(f"/documents/{doc['id']}", json={"version": doc["version"], "status": "done",
                                                                     "data": {"minutes": 20}})
    assert patched.status_code == 200, patched.get_json()
    new = patched.get_json()
    assert new["status"] == "done" and new["data"]["minutes"] == 20 and new["data"]["subject"] == "Rückruf"
    assert new["version"] == doc["version"] + 1 and new["title"] == "Anruf"

    error_of(api_as("grouped").delete(f"/documents/{doc['id']}"), 403)  # reader, not editor
    assert api.delete(f"/documents/{doc['id']}").status_code == 204
    error_of(api.get(f"/documents/{doc['id']}"), 404)


def test_document_list_filters_and_acl(ka, people, world, api_as):
    owner = api_as("owner").get("/documents").get_json()
    assert {d["id"] for d in owner["items"]} == {world.shared, world.private}  # archived excluded by default
    archived = api_as("owner").get("/documents?include_archived=true").get_json()
    assert world.archived in {d["id"] for d in archived["items"]}
    reader = api_as("reader").get("/documents").get_json()
    assert [d["id"] for d in reader["items"]] == [world.shared] and reader["total"] == 1
    outsider = api_as("outsider").get("/documents?include_archived=1").get_json()
    assert outsider == {**outsider, "items": [], "total": 0}
    admin = api_as("admin")
    assert admin.get("/documents").get_json()["total"] == 3
    assert admin.get("/documents?status=open").get_json()["total"] == 2
    assert admin.get(f"/documents?company_id={world.dochouse}").get_json()["total"] == 3
    assert admin.get(f"/documents?contact_id={world.lea}").get_json()["total"] == 2
    assert admin.get("/documents?type=testnote&per_page=1").get_json()["links"]["next"] is not None
    assert admin.get("/documents?type=email").get_json()["total"] == 0
    error_of(admin.get("/documents?include_archived=vielleicht"), 422)


def test_unreadable_document_answers_like_a_missing_one(ka, people, world, api_as):
    outsider = api_as("outsider")
    missing = outsider.get("/documents/999999")
    hidden = outsider.get(f"/documents/{world.private}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    before = counts(ka)
    for response in (
        outsider.patch(f"/documents/{world.private}", json={"version": 1, "title": "Gehackt"}),
        outsider.delete(f"/documents/{world.private}"),
        outsider.get(f"/documents/{world.private}/attachments"),
        outsider.post(f"/documents/{world.private}/attachments", data={"file": (io.BytesIO(b"x"), "x.txt")}),
    ):
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["error"] == "not_found"
    assert counts(ka) == before
    with ka.db.read() as s:
        assert s.get(Document, world.private).title == "Geheime Notiz Zitronenfalter"
    # A reader who may not edit gets 403 (the document is visible to them), and nothing changes.
    error_of(api_as("reader").patch(f"/documents/{world.shared}", json={"version": 1, "title": "X"}), 403)
    with ka.db.read() as s:
        assert s.get(Document, world.shared).title == "Angebot Pumpe"


def test_optimistic_locking(ka, people, world, api_as):
    owner, editor = api_as("owner"), api_as("editor")
    doc = owner.get(f"/documents/{world.shared}").get_json()
    first = editor.patch(f"/documents/{world.shared}", json={"version": doc["version"], "title": "Erste Änderung"})
    assert first.status_code == 200
    second = owner.patch(f"/documents/{world.shared}", json={"version": doc["version"], "title": "Zweite Änderung"})
    body = error_of(second, 409)
    assert body["current_version"] == first.get_json()["version"]
    with ka.db.read() as s:
        assert s.get(Document, world.shared).title == "Erste Änderung"
    body = error_of(owner.patch(f"/documents/{world.shared}", json={"title": "Ohne Version"}), 422)
    assert "version" in body["fields"]


def test_archived_document_is_read_only(ka, world, api_as):
    doc = api_as("owner").get(f"/documents/{world.archived}").get_json()
    body = error_of(api_as("owner").patch(f"/documents/{world.archived}", json={"version": doc["version"], "title": "X"}), 409)
    assert body["error"] == "read_only"


def test_document_bad_input_writes_nothing(ka, people, world, api_as):
    api = api_as("owner")
    before = counts(ka)
    cases: list[tuple[Any, int, set[str]]] = [
        ({"title": "Ohne Typ"}, 422, {"type"}),
        ({"type": "gibtsnicht", "title": "X"}, 422, {"type"}),
        ({"type": 5, "title": "X"}, 422, {"type"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s"}, "colour": "red"}, 422, {"colour"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s", "nope": 1}}, 422, {"data.nope"}),
        ({"type": "testnote", "title": "X", "data": {}}, 422, {"data.subject"}),
        ({"type": "testnote", "title": 12, "data": {"subject": "s"}}, 422, {"title"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s", "minutes": "viele"}}, 422, {"data.minutes"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s", "minutes": 601}}, 422, {"data.minutes"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s", "urgent": "ja"}}, 422, {"data.urgent"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s", "direction": "up"}}, 422, {"data.direction"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s", "price": 1e20}}, 422, {"data.price"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s"}, "company_id": "1"}, 422, {"company_id"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s"}, "company_id": 2**40}, 422, {"company_id"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s"}, "readers": ["jeder"]}, 422, {"readers"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s"}, "readers": "*"}, 422, {"readers"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s"}, "document_date": "9999-12-31"}, 422, {"document_date"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s"}, "status": "irgendwas"}, 422, {"status"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s"}, "folder_ids": [999]}, 422, {"folder_ids"}),
        ({"type": "testnote", "title": "X", "data": {"subject": "s"}, "readers": ["u:99999"]}, 422, {"readers"}),
        ([1, 2, 3], 422, set()),
    ]
    for payload, status, fields in cases:
        body = error_of(api.post("/documents", json=payload), status)
        assert set(body.get("fields", {})) == fields, (payload, body)
    # Malformed JSON, wrong media type, empty body, NaN, oversized body.
    error_of(api.post("/documents", data='{"type": "testnote",', content_type="application/json"), 400)
    error_of(api.post("/documents", data=b"\xff\xfe{", content_type="application/json"), 400)
    error_of(api.post("/documents", data="", content_type="application/json"), 400)
    error_of(api.post("/documents", data='{"type": "testnote", "title": NaN}', content_type="application/json"), 400)
    error_of(api.post("/documents", data="type=testnote", content_type="application/x-www-form-urlencoded"), 415)
    huge = json.dumps({"type": "testnote", "title": "X", "content": "a" * (1024 * 1024), "data": {"subject": "s"}})
    error_of(api.post("/documents", data=huge, content_type="application/json"), 413)
    error_of(api.post("/companies", data=json.dumps({"name": "x" * (1024 * 1024 + 10)}), content_type="application/json"), 413)
    # The same for changes.
    error_of(api.patch(f"/documents/{world.shared}", json={"version": "1", "title": "X"}), 422)
    error_of(api.patch(f"/documents/{world.shared}", json={"version": 1, "data": {"price": "abc"}}), 422)
    error_of(api.patch(f"/documents/{world.shared}", json={"version": 1, "type": "email"}), 422)
    assert counts(ka) == before
    with ka.db.read() as s:
        assert s.get(Document, world.shared).title == "Angebot Pumpe"


def test_huge_ids_in_paths_are_404(api_as):
    api = api_as("admin")
    for url in ("/documents/99999999999999999999", "/companies/4294967296", "/attachments/99999999999/content"):
        assert api.get(url).status_code == 404


# -- attachments ----------------------------------------------------------------------------------------


def test_attachment_upload_list_and_download(ka, people, world, api_as):
    editor = api_as("editor")
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 40
    response = editor.post(f"/documents/{world.shared}/attachments",
                           data={"file": (io.BytesIO(payload), "../../Angebot \u202eFDP.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    att = response.get_json()
    assert att["mime_type"] == "application/pdf" and att["size"] == len(payload)
    assert "/" not in att["filename"] and "\u202e" not in att["filename"]
    items = api_as("reader").get(f"/documents/{world.shared}/attachments").get_json()["items"]
    assert [a["id"] for a in items] == [att["id"]]
    download = api_as("reader").get(f"/attachments/{att['id']}/content")
    assert download.status_code == 200 and download.data == payload
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    # Someone who cannot read the document gets the same 404 as for a missing file.
    hidden = api_as("outsider").get(f"/attachments/{att['id']}/content")
    missing = api_as("outsider").get("/attachments/999999/content")
    assert hidden.status_code == missing.status_code == 404 and hidden.get_json() == missing.get_json()
    # The attachment bumped the version (the document changed).
    assert api_as("owner").get(f"/documents/{world.shared}").get_json()["version"] == 2


def test_attachment_upload_refusals_write_nothing(ka, people, world, api_as):
    before = counts(ka)
    files = list((ka.settings.files_dir).rglob("*")) if ka.settings.files_dir.exists() else []
    error_of(api_as("reader").post(f"/documents/{world.shared}/attachments",
                                   data={"file": (io.BytesIO(b"hello"), "a.txt")}), 403)
    error_of(api_as("editor").post(f"/documents/{world.shared}/attachments", json={"file": "x"}), 415)
    error_of(api_as("editor").post(f"/documents/{world.shared}/attachments",
                                   data={"file": (io.BytesIO(b"x"), "a.txt"), "note": "x"}), 422)
    error_of(api_as("editor").post(f"/documents/{world.shared}/attachments", data={"other": "x"},
                                   content_type="multipart/form-data"), 422)
    error_of(api_as("owner").post(f"/documents/{world.archived}/attachments",
                                  data={"file": (io.BytesIO(b"x"), "a.txt")}), 409)
    assert counts(ka) == before
    blobs = [p for p in ka.settings.files_dir.rglob("*") if p.is_file() and "tmp" not in p.parts] \
        if ka.settings.files_dir.exists() else []
    assert len(blobs) == len([p for p in files if p.is_file() and "tmp" not in p.parts])


def test_attachment_too_large_is_413_and_leaves_nothing(ka, people, world, api_as):
    ka.storage.max_bytes = 1000
    before = counts(ka)
    response = api_as("editor").post(f"/documents/{world.shared}/attachments",
                                     data={"file": (io.BytesIO(b"x" * 5000), "gross.bin")})
    error_of(response, 413)
    assert counts(ka) == before
    assert not [p for p in ka.settings.files_dir.rglob("*") if p.is_file() and "tmp" not in p.parts]


# -- search, folders, types --------------------------------------------------------------------------------


def test_search_through_the_acl(ka, people, world, api_as):
    ka.search.flush()
    owner = api_as("owner").get("/search?q=Zitronenfalter").get_json()
    assert [h["document"]["id"] for h in owner["items"]] == [world.private] and owner["total"] == 1
    assert all(set(h) == {"highlights", "document"} for h in owner["items"])  # no score: no corpus statistics out
    for login in ("outsider", "reader"):
        result = api_as(login).get("/search?q=Zitronenfalter").get_json()
        assert result["items"] == [] and result["total"] == 0
    assert [h["document"]["id"] for h in api_as("reader").get("/search?q=Pumpe").get_json()["items"]] == [world.shared]
    body = error_of(api_as("owner").get('/search?q="offen'), 400)
    assert body["error"] == "invalid_query" and body["message"]
    error_of(api_as("owner").get("/search"), 422)
    error_of(api_as("owner").get("/search?q=x&per_page=101"), 422)


def test_revoked_read_right_is_effective_in_search_at_once(ka, people, world, api_as):
    ka.search.flush()
    reader = api_as("reader")
    assert reader.get("/search?q=Pumpe").get_json()["total"] == 1
    owner = api_as("owner")
    version = owner.get(f"/documents/{world.shared}").get_json()["version"]
    assert owner.patch(f"/documents/{world.shared}", json={"version": version, "readers": []}).status_code == 200
    assert reader.get("/search?q=Pumpe").get_json()["total"] == 0  # before the index catches up
    assert reader.get(f"/documents/{world.shared}").status_code == 404


def test_folders_and_types(ka, people, api_as):
    api = api_as("reader")
    folders = api.get("/folders").get_json()["items"]
    assert {f["name"] for f in folders} == {"DOCHOUSE 4", "Schriftverkehr"}
    types = {t["key"]: t for t in api.get("/types").get_json()["items"]}
    note = types["testnote"]
    assert [f["name"] for f in note["fields"]][:2] == ["subject", "details"]
    assert note["data_schema"]["properties"]["direction"]["enum"] == ["in", "out", None]
    assert note["data_schema"]["required"] == ["subject"]
    assert [s["value"] for s in note["statuses"]] == ["open", "done"]
    with ka.db.write() as s:
        from kundenakte.core.users import set_plugin_enabled

        set_plugin_enabled(s, "testtypes", False, user_id=people.users["admin"])
    assert "testnote" not in {t["key"] for t in api.get("/types").get_json()["items"]}
    error_of(api.post("/documents", json={"type": "testnote", "title": "X", "data": {"subject": "s"}}), 422)


# -- templates -------------------------------------------------------------------------------------------


def test_templates_list_and_create_document(ka, people, world, api_as):
    from kundenakte.plugins.communication.templates_service import save_template

    with ka.db.write() as s:
        visible = save_template(ka, s, people.viewer("owner"), {
            "name": "Angebotsanschreiben", "base_type": "letter", "subject": "Ihr Angebot",
            "body": "<p>anbei unser Angebot für {{ unternehmen.name }}.</p>", "readers": ["*"],
        }).id
        private = save_template(ka, s, people.viewer("owner"), {"name": "Privat", "base_type": "letter", "body": "<p>x</p>"}).id
        ka_file = ka.storage.put_bytes(b"Anlage-Inhalt", session=s, filename="agb.txt")
        from kundenakte.plugins.communication.models import CommTemplate, CommTemplateFile

        template = s.get(CommTemplate, visible)
        template.files.append(CommTemplateFile(filename="agb.txt", mime_type="text/plain", size=ka_file.size,
                                               sha256=ka_file.sha256))
    reader = api_as("reader")
    names = [t["name"] for t in reader.get("/templates").get_json()["items"]]
    assert names == ["Angebotsanschreiben"]
    assert {t["name"] for t in api_as("owner").get("/templates").get_json()["items"]} == {"Angebotsanschreiben", "Privat"}

    response = reader.post(f"/templates/{visible}/create-document", json={"contact_id": world.lea})
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["type"] == "letter" and doc["status"] == "draft" and doc["contact_id"] == world.lea
    assert "DOCHOUSE GmbH" in doc["content"] and doc["author_id"] == people.users["reader"]
    assert [a["filename"] for a in doc["attachments"]] == ["agb.txt"]
    assert reader.get(doc["links"]["self"].removeprefix("/api/v1")).status_code == 200

    before = counts(ka)
    error_of(reader.post(f"/templates/{private}/create-document", json={"contact_id": world.lea}), 404)
    error_of(reader.post("/templates/999999/create-document", json={"contact_id": world.lea}), 404)
    error_of(reader.post(f"/templates/{visible}/create-document", json={"contact_id": 999999}), 422)
    error_of(reader.post(f"/templates/{visible}/create-document", json={"contact": world.lea}), 422)
    error_of(reader.post(f"/templates/{visible}/create-document", json={"contact_id": "x"}), 422)
    assert counts(ka) == before


def test_tokens_table_untouched_by_reads_within_a_minute(ka, people, api_as):
    api = api_as("owner")
    api.get("/me")
    with ka.db.read() as s:
        first = s.scalar(select(ApiToken.last_used_at))
    api.get("/me")
    with ka.db.read() as s:
        assert s.scalar(select(ApiToken.last_used_at)) == first


def test_templates_expose_language_variants_and_the_fallback_notice(ka, people, world, api_as):
    from kundenakte.core.models import Contact
    from kundenakte.plugins.communication.templates_service import save_template

    with ka.db.write() as s:
        both = save_template(ka, s, people.viewer("owner"), {
            "name": "Zweisprachig", "base_type": "email", "subject": "Ihr Angebot", "body": "<p>anbei unser Angebot.</p>",
            "variants": {"en": {"subject": "Your quote", "body": "<p>please find our quote.</p>"}}, "readers": ["*"],
        }).id
        s.get(Contact, world.jonas).language = "en"
    api = api_as("reader")
    (item,) = [t for t in api.get("/templates").get_json()["items"] if t["id"] == both]
    assert item["language"] == "de" and item["subject"] == "Ihr Angebot"
    assert item["variants"] == {"de": {"subject": "Ihr Angebot", "body": "<p>anbei unser Angebot.</p>", "appendix": ""},
                                "en": {"subject": "Your quote", "body": "<p>please find our quote.</p>", "appendix": ""}}
    english = api.post(f"/templates/{both}/create-document", json={"contact_id": world.jonas}).get_json()
    assert english["data"]["subject"] == "Your quote" and "_notices" not in english["data"]
    with ka.db.write() as s:
        save_template(ka, s, people.viewer("owner"), {"name": "Zweisprachig", "base_type": "email", "readers": ["*"],
                                                      "subject": "Ihr Angebot", "body": "<p>anbei</p>"}, template_id=both)
    german = api.post(f"/templates/{both}/create-document", json={"contact_id": world.jonas}).get_json()
    assert german["data"]["subject"] == "Ihr Angebot"
    assert german["data"]["_notices"] == [
        "Keine englische Fassung der Vorlage „Zweisprachig“ vorhanden – deutsche Fassung verwendet."]
    company = api.post(f"/templates/{both}/create-document", json={"company_id": world.dochouse})
    assert company.status_code == 201 and company.get_json()["contact_id"] is None
    assert company.get_json()["company_id"] == world.dochouse
    error_of(api.post(f"/templates/{both}/create-document", json={"company_id": world.other, "contact_id": world.lea}), 422)
