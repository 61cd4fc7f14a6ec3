"""The example plugin Reklamationen through the core, the JSON API and the web pages.

It appears (type, "…" menu, overview section, placeholders), works (create with validation), is
searchable (article words, ``seriennummer:``), respects the ACL and disappears when disabled, with
its data kept and back after enabling it again.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib.metadata import entry_points
from typing import Any

import pytest
from sqlalchemy import select

from kundenakte.core.categories import categories
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Document
from kundenakte.core.overview import build_overview
from kundenakte.core.users import set_plugin_enabled
from tests.api import api_app, api_as  # noqa: F401 - fixtures
from tests.example_plugin import (  # noqa: F401 - fixtures
    ARTICLE,
    DEFECT,
    OTHER_SERIAL,
    PLUGIN,
    SERIAL,
    complaints,
    reklamation,
)
from tests.web.conftest import login, post

pytestmark = pytest.mark.usefixtures("reklamation")


# -- helpers ---------------------------------------------------------------------------------------------


def web(api_app: Any, who: str) -> Any:
    """A browser-like client (cookie session, CSRF) logged in as ``who``."""
    client = api_app.test_client()
    login(client, who)
    return client


def html(response: Any, status: int = 200) -> str:
    text = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, text[:800])
    return text


def set_enabled(ka: Any, enabled: bool) -> None:
    with ka.db.write() as s:
        set_plugin_enabled(s, PLUGIN, enabled, user_id=None)


def section_html(page: str, key: str = "complaints") -> str | None:
    match = re.search(rf'<section class="card overview-section" id="section-{key}".*?</section>', page, re.S)
    return match.group(0) if match else None


def section_total(page: str) -> int:
    section = section_html(page)
    assert section is not None, "no Reklamationen section"
    match = re.search(r'<h2 id="h-complaints">Reklamationen <span class="count"[^>]*>(\d+)</span>', section)
    assert match, section[:500]
    return int(match.group(1))


def menu_links(page: str) -> dict[str, list[str]]:
    """The "…" menu as {heading: [hrefs]}."""
    groups: dict[str, list[str]] = {}
    for block in re.findall(r'<div class="menu-group"[^>]*>(.*?)</div>\s*(?=<div class="menu-group"|</div>)', page, re.S):
        heading = re.search(r'<div class="menu-heading">([^<]*)', block)
        groups[heading.group(1) if heading else ""] = re.findall(r'href="([^"]+)"', block)
    return groups


def search_ids(api: Any, query: str) -> list[int]:
    response = api.get("/search", query_string={"q": query})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [item["document"]["id"] for item in response.get_json()["items"]]


# -- it appears ------------------------------------------------------------------------------------------


def test_loaded_through_its_entry_point_like_any_third_party_plugin(ka, reklamation):
    ep = next(ep for ep in entry_points(group="kundenakte.plugins") if ep.name == PLUGIN)
    assert ep.value == "kundenakte_reklamation" and ep.dist is not None and ep.dist.name == "kundenakte-reklamation"
    report = ka.plugins.reports[PLUGIN]
    assert report.loaded and not report.builtin and not report.error, report
    assert report.types == ["complaint"]

    doctype = ka.types.get("complaint")
    assert doctype is not None and doctype.plugin == PLUGIN and doctype is not reklamation.COMPLAINT
    assert (doctype.label, doctype.label_en, doctype.category) == ("Reklamation", "Complaint", "complaints")
    category = categories(ka)["complaints"]  # its own category, declared through register_categories
    assert (category.plugin, category.label, category.label_en) == (PLUGIN, "Reklamationen", "Complaints")
    fields = {f.name: f for f in doctype.fields}
    assert list(fields) == ["article", "serial_number", "defect", "resolution"]
    assert fields["article"].required and fields["article"].searchable and fields["article"].in_list
    assert fields["serial_number"].searchable and fields["defect"].searchable and fields["defect"].kind == "longtext"
    assert fields["resolution"].kind == "longtext" and not fields["resolution"].searchable
    assert [(s.value, s.label, s.closed) for s in doctype.statuses] == [
        ("open", "offen", False), ("in_progress", "in Bearbeitung", False), ("done", "erledigt", True)]
    assert doctype.open_statuses == ("open", "in_progress")


def test_listed_in_api_types_with_fields_and_statuses(ka, people, api_as):
    items = {t["key"]: t for t in api_as("outsider").get("/types").get_json()["items"]}
    complaint = items["complaint"]
    assert complaint["plugin"] == PLUGIN and complaint["category"] == "complaints" and complaint["label"] == "Reklamation"
    assert [(f["name"], f["kind"], f["required"]) for f in complaint["fields"]] == [
        ("article", "text", True), ("serial_number", "text", False), ("defect", "longtext", False),
        ("resolution", "longtext", False)]
    assert [s["label"] for s in complaint["statuses"]] == ["offen", "in Bearbeitung", "erledigt"]
    assert "article" in complaint["data_schema"].get("required", [])


def test_menu_entry_on_contact_and_company_pages(ka, people, complaints, api_app):
    client = web(api_app, "outsider")  # the menu is for everyone; the documents are filtered
    page = html(client.get(f"/kontakte/{complaints.lea}"))
    groups = menu_links(page)
    assert "Reklamationen" in groups, groups
    url = f"/dokumente/neu/complaint?contact_id={complaints.lea}&amp;company_id={complaints.company}"
    assert groups["Reklamationen"] == [url]
    assert "Complaints" not in groups  # the German heading of its declared category, not one made up from the key
    assert ">Reklamation</a>" in page

    company_groups = menu_links(html(client.get(f"/unternehmen/{complaints.company}")))
    assert company_groups.get("Reklamationen") == [f"/dokumente/neu/complaint?company_id={complaints.company}"]

    form = html(client.get(url.replace("&amp;", "&")))
    assert 'id="f-data-article"' in form and 'id="f-data-serial-number"' in form and 'id="f-data-resolution"' in form
    assert re.search(r'<option value="%d"[^>]*selected' % complaints.lea, form)  # pre-filled contact
    for label in ("offen", "in Bearbeitung", "erledigt"):
        assert f">{label}</option>" in form


def test_overview_section_with_filters_and_counts(ka, people, complaints, api_app):
    with ka.db.read() as s:
        views = {v.key: v for v in build_overview(ka, s, people.viewer("owner"), company_id=complaints.company)}
    view = views["complaints"]
    assert view.section.label == "Reklamationen" and view.section.plugin == PLUGIN
    assert [f.label for f in view.section.filters] == ["alle", "offen", "in Bearbeitung", "erledigt"]
    assert view.counts == {"all": 3, "open": 1, "in_progress": 1, "done": 1}
    assert not any(k.startswith("kategorie_complaints") for k in views)  # no generic fallback section besides

    client = web(api_app, "owner")
    page = html(client.get(f"/unternehmen/{complaints.company}/uebersicht"))
    section = section_html(page)
    assert section is not None and section_total(page) == 3
    for label in ("alle", "offen", "in Bearbeitung", "erledigt"):
        assert re.search(rf'<span class="dot" aria-hidden="true"></span>{label}\s*<span class="count">', section), label
    assert "Kreiselpumpe KP-200" in section and "SN-4711-X" in section  # declared columns
    assert "Artikel" in section and "Seriennummer" in section

    # the filter "in Bearbeitung" through the htmx section route
    part = html(client.get(f"/unternehmen/{complaints.company}/uebersicht/abschnitt/complaints?filter=in_progress",
                           headers={"HX-Request": "true"}))
    assert "Ventil schließt nicht" in part and "Pumpe verliert Wasser" not in part
    contact_page = html(client.get(f"/kontakte/{complaints.lea}/uebersicht"))
    assert section_total(contact_page) == 2  # the company-only complaint is not the contact's


# -- it works ----------------------------------------------------------------------------------------------


def test_core_validation_reports_every_field_error(ka, people, complaints):
    with ka.db.write() as s, pytest.raises(ValidationError) as exc:
        create_document(ka, s, people.viewer("owner"), "complaint",
                        DocumentInput(title="", contact_id=complaints.lea, status="kaputt",
                                      data={"serial_number": "SN-1", "colour": "rot"}))
    assert set(exc.value.errors) == {"title", "status", "data.article", "data.colour"}
    assert exc.value.errors["data.article"] == "Dieses Feld ist ein Pflichtfeld."


def test_create_and_change_through_the_api(ka, people, complaints, api_as):
    api = api_as("owner")
    response = api.post("/documents", json={
        "type": "complaint", "title": "Display flackert", "contact_id": complaints.tom,
        "data": {"article": "Steuergerät ST-9", "serial_number": "SN-9000", "defect": "Display flackert nach 10 Minuten"},
    })
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["type"] == "complaint" and doc["status"] == "open" and doc["company_id"] == complaints.company
    assert doc["data"] == {"article": "Steuergerät ST-9", "serial_number": "SN-9000",
                           "defect": "Display flackert nach 10 Minuten", "resolution": None}

    changed = api.patch(f"/documents/{doc['id']}", json={
        "version": doc["version"], "status": "done", "data": {"resolution": "Gerät getauscht."}})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["status"] == "done" and changed.get_json()["data"]["resolution"] == "Gerät getauscht."
    assert changed.get_json()["data"]["article"] == "Steuergerät ST-9"  # partial update keeps the rest

    with ka.db.read() as s:
        before = s.query(Document).count()
    missing = api.post("/documents", json={"type": "complaint", "title": "Ohne Artikel", "data": {"serial_number": "SN-1"}})
    assert missing.status_code == 422, missing.get_json()
    body = missing.get_json()
    assert body["error"] == "validation_failed" and any("article" in key for key in body["fields"]), body
    bad_status = api.post("/documents", json={"type": "complaint", "title": "x", "status": "verloren", "data": {"article": "a"}})
    assert bad_status.status_code == 422
    with ka.db.read() as s:
        assert s.query(Document).count() == before  # nothing written


def test_create_through_the_web_form_with_field_errors(ka, people, complaints, api_app):
    client = web(api_app, "owner")
    form = {"title": "Gehäuse gerissen", "contact_id": str(complaints.tom), "status": "open",
            "data.article": "", "data.serial_number": "SN-5555", "data.defect": "Riss am Gehäuse"}
    page = html(post(client, "/dokumente/neu/complaint", form), 422)
    assert re.search(r'id="f-data-article-error"[^>]*>Dieses Feld ist ein Pflichtfeld\.<', page)
    assert 'value="SN-5555"' in page and "Riss am Gehäuse" in page  # what was typed stays
    with ka.db.read() as s:
        assert s.scalar(select(Document).where(Document.title == "Gehäuse gerissen")) is None

    response = post(client, "/dokumente/neu/complaint", {**form, "data.article": "Schaltschrank SK-3"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    view = html(client.get(response.headers["Location"]))
    assert "Schaltschrank SK-3" in view and "SN-5555" in view and "offen" in view
    with ka.db.read() as s:
        doc = s.scalar(select(Document).where(Document.title == "Gehäuse gerissen"))
        assert doc.type_key == "complaint" and doc.data["article"] == "Schaltschrank SK-3"
        assert doc.company_id == complaints.company and doc.retention_days == 6 * 365


def test_placeholders_offered_and_resolved_in_a_template(ka, people, complaints, api_app, monkeypatch):
    from kundenakte.plugins.communication import templates_service as svc

    assert {"reklamation.hotline", "reklamation.frist"} <= svc.allowed_placeholders(ka)
    picker = html(web(api_app, "owner").get("/einstellungen/kommunikation/neu"))
    assert "<code>{{ reklamation.hotline }}</code>" in picker and "Service-Hotline" in picker
    values = {"name": "Eingangsbestätigung Reklamation", "base_type": "email", "readers": ["*"],
              "subject": "Ihre Reklamation – Antwort bis {{ reklamation.frist }}",
              "body": "<p>Unsere Service-Hotline: {{ reklamation.hotline }}</p>"}
    with ka.db.write() as s:
        template_id = svc.save_template(ka, s, people.viewer("owner"), values).id
    with ka.db.write() as s:
        doc = svc.create_from_template(ka, s, people.viewer("owner"), template_id, complaints.lea)
        content, subject = doc.content, doc.data["subject"]
    assert "Unsere Service-Hotline: 0800 123 45 67" in content
    due = ka.clock.today() + dt.timedelta(days=14)
    assert subject == f"Ihre Reklamation – Antwort bis {due:%d.%m.%Y}"



def test_own_settings_are_read_at_start_and_checked(ka, people, complaints, tmp_path, database, monkeypatch):
    """``register_settings``: KUNDENAKTE_REKLAMATION_* typed, validated at start, used by the placeholders."""
    from kundenakte.core.config import ConfigError
    from kundenakte.plugins.communication import templates_service as svc
    from tests.conftest import make_ka

    assert ka.plugin_settings(PLUGIN).hotline == "0800 123 45 67" and ka.plugin_settings(PLUGIN).response_days == 14
    values = {"name": "Antwort", "base_type": "email", "readers": ["*"], "subject": "Antwort bis {{ reklamation.frist }}",
              "body": "<p>Hotline: {{ reklamation.hotline }}</p>"}
    with ka.db.write() as s:
        template_id = svc.save_template(ka, s, people.viewer("owner"), values).id

    monkeypatch.setenv("KUNDENAKTE_REKLAMATION_HOTLINE", "+49 751 99 88 77")
    monkeypatch.setenv("KUNDENAKTE_REKLAMATION_RESPONSE_DAYS", "3")
    restarted = make_ka(tmp_path, database)  # the same database, as after a restart with the new values
    try:
        assert restarted.plugin_settings(PLUGIN).response_days == 3
        with restarted.db.write() as s:
            doc = svc.create_from_template(restarted, s, people.viewer("owner"), template_id, complaints.lea)
            content, subject = doc.content, doc.data["subject"]
        assert "Hotline: +49 751 99 88 77" in content
        assert subject == f"Antwort bis {restarted.clock.today() + dt.timedelta(days=3):%d.%m.%Y}"
    finally:
        restarted.close()

    monkeypatch.setenv("KUNDENAKTE_REKLAMATION_RESPONSE_DAYS", "zwei Wochen")
    with pytest.raises(ConfigError, match="KUNDENAKTE_REKLAMATION_RESPONSE_DAYS must be a whole number"):
        make_ka(tmp_path, database)
    monkeypatch.setenv("KUNDENAKTE_REKLAMATION_RESPONSE_DAYS", "0")
    with pytest.raises(ConfigError, match="KUNDENAKTE_REKLAMATION_RESPONSE_DAYS must be 1 or more"):
        make_ka(tmp_path, database)


def test_own_api_operation_counts_readable_complaints_only(ka, people, complaints, api_as, api_app):
    """``register_api_operations``: GET /api/v1/complaints/summary, ACL-filtered, in the OpenAPI document."""
    assert api_as("owner").get("/complaints/summary").get_json() == {
        "total": 3, "open": 2, "by_status": {"open": 1, "in_progress": 1, "done": 1}}
    assert api_as("outsider").get("/complaints/summary").get_json() == {"total": 1, "open": 0, "by_status": {"done": 1}}
    assert api_as(None).get("/complaints/summary").status_code == 401
    doc = api_app.test_client().get("/api/v1/openapi.json").get_json()
    operation = doc["paths"]["/complaints/summary"]["get"]
    assert operation["tags"] == ["Reklamationen"] and operation["operationId"] == "reklamation.complaint_summary"
    assert "ComplaintSummary" in doc["components"]["schemas"]
    with ka.db.write() as s:
        set_plugin_enabled(s, PLUGIN, False, user_id=None)
    assert api_as("owner").get("/complaints/summary").status_code == 404
    assert "/complaints/summary" not in api_app.test_client().get("/api/v1/openapi.json").get_json()["paths"]


# -- it is searchable --------------------------------------------------------------------------------------


def test_index_entry_carries_the_serial_number_field(ka, people, complaints):
    with ka.db.read() as s:
        record = ka.search.document_record(s.get(Document, complaints.pump))
        other = ka.search.document_record(s.get(Document, complaints.done))
    assert record.category == "complaints" and record.extra["seriennummer"] == SERIAL
    assert record.extra["article"] == ARTICLE and record.extra["defect"] == DEFECT
    assert "seriennummer" not in other.extra  # no serial number, no field


def test_found_by_article_word_and_serial_number_in_api_and_page(ka, people, complaints, api_as, api_app):
    ka.search.flush()
    api = api_as("owner")
    assert search_ids(api, "Kreiselpumpe") == [complaints.pump]
    assert search_ids(api, "Gleitringdichtung") == [complaints.pump]  # the defect is searchable too
    assert search_ids(api, SERIAL) == [complaints.pump]
    assert search_ids(api, OTHER_SERIAL) == [complaints.valve]
    facets = api.get("/search", query_string={"q": "Kreiselpumpe"}).get_json()["facets"]
    assert facets.get("type", {}).get("complaint") == 1

    client = web(api_app, "owner")
    for query in ("Kreiselpumpe", SERIAL):
        page = html(client.get("/suche", query_string={"q": query}))
        assert "Pumpe verliert Wasser" in page and f'href="/dokumente/{complaints.pump}"' in page, query
        assert "Ventil schließt nicht" not in page
    assert "Reklamation" in html(client.get("/suche", query_string={"q": "Kreiselpumpe"}))  # type facet label


def test_found_by_the_seriennummer_field(ka, people, complaints, api_as, api_app):
    ka.search.flush()
    api = api_as("owner")
    assert search_ids(api, f"seriennummer:{SERIAL}") == [complaints.pump]
    assert search_ids(api, f"seriennummer:{OTHER_SERIAL}") == [complaints.valve]
    assert search_ids(api, "seriennummer:SN-0000-Z") == []
    assert search_ids(api, f"seriennummer:{ARTICLE.split()[1]}") == []  # the field, not the whole text
    assert search_ids(api_as("reader"), f"seriennummer:{SERIAL}") == [complaints.pump]
    assert search_ids(api_as("reader"), f"seriennummer:{OTHER_SERIAL}") == []  # not readable for reader
    page = html(web(api_app, "owner").get("/suche", query_string={"q": f"seriennummer:{SERIAL}"}))
    assert f'href="/dokumente/{complaints.pump}"' in page and "Ventil schließt nicht" not in page


# -- it respects the ACL -----------------------------------------------------------------------------------


def test_outsider_neither_reads_nor_finds_nor_counts_it(ka, people, complaints, api_as, api_app):
    ka.search.flush()
    outsider = api_as("outsider")
    for doc_id in (complaints.pump, complaints.valve):
        assert outsider.get(f"/documents/{doc_id}").status_code == 404
        assert outsider.patch(f"/documents/{doc_id}", json={"version": 1, "status": "done"}).status_code == 404
    listed = outsider.get("/documents", query_string={"type": "complaint"}).get_json()
    assert [d["id"] for d in listed["items"]] == [complaints.done] and listed["total"] == 1
    for query in ("Kreiselpumpe", SERIAL, f"seriennummer:{SERIAL}", "Absperrventil"):
        result = outsider.get("/search", query_string={"q": query}).get_json()
        assert result["total"] == 0 and result["items"] == [], query
    assert search_ids(outsider, "Flanschdichtung") == [complaints.done]  # what it may read it finds

    reader = api_as("reader")  # named reader of the pump complaint only
    assert reader.get(f"/documents/{complaints.pump}").status_code == 200
    assert reader.get(f"/documents/{complaints.valve}").status_code == 404
    assert search_ids(reader, SERIAL) == [complaints.pump]
    assert search_ids(reader, OTHER_SERIAL) == []

    client = web(api_app, "outsider")
    for doc_id in (complaints.pump, complaints.valve):
        assert client.get(f"/dokumente/{doc_id}").status_code == 404
        assert client.get(f"/dokumente/{doc_id}/bearbeiten").status_code == 404
    for query in ("Kreiselpumpe", SERIAL, f"seriennummer:{SERIAL}"):
        page = html(client.get("/suche", query_string={"q": query}))
        assert "Pumpe verliert Wasser" not in page and f"/dokumente/{complaints.pump}" not in page
    contact_page = html(client.get(f"/kontakte/{complaints.lea}"))
    assert "Pumpe verliert Wasser" not in contact_page and "Ventil schließt nicht" not in contact_page
    overview = html(client.get(f"/unternehmen/{complaints.company}/uebersicht"))
    assert section_total(overview) == 1  # only the complaint readable by everyone
    section = section_html(overview)
    assert "Pumpe verliert Wasser" not in section and "Lieferung beschädigt" in section
    counts = dict(re.findall(r'</span>([^<]+?)\s*<span class="count">(\d+)</span>', section))
    assert counts == {"alle": "1", "offen": "0", "in Bearbeitung": "0", "erledigt": "1"}, counts
    with ka.db.read() as s:
        views = {v.key: v for v in build_overview(ka, s, people.viewer("outsider"), contact_id=complaints.lea)}
    assert views["complaints"].overall == 0 and views["complaints"].rows == []
    with ka.db.read() as s:
        views = {v.key: v for v in build_overview(ka, s, people.viewer("nobody"), company_id=complaints.company)}
    assert views["complaints"].overall == 0  # an inactive user reads nothing


# -- it disappears when disabled, its data stays -----------------------------------------------------------


def test_disabled_plugin_disappears_and_comes_back_with_its_data(ka, people, complaints, api_as, api_app):
    from kundenakte.plugins.communication import templates_service as svc
    from kundenakte.plugins.communication.rendering import validate_template

    ka.search.flush()
    with ka.db.read() as s:
        stored = dict(s.get(Document, complaints.pump).data)
    api = api_as("owner")
    client = web(api_app, "owner")
    set_enabled(ka, False)

    assert "complaint" not in {t["key"] for t in api.get("/types").get_json()["items"]}
    assert "complaint" not in {t.key for t in ka.enabled_types()}
    created = api.post("/documents", json={"type": "complaint", "title": "x", "data": {"article": "y"}})
    assert created.status_code == 422 and "type" in created.get_json()["fields"]
    with ka.db.write() as s, pytest.raises(ValidationError):
        create_document(ka, s, people.viewer("owner"), "complaint", DocumentInput(title="x", data={"article": "y"}))

    assert "Reklamationen" not in menu_links(html(client.get(f"/kontakte/{complaints.lea}")))
    assert "Reklamationen" not in menu_links(html(client.get(f"/unternehmen/{complaints.company}")))
    assert "/dokumente/neu/complaint" not in html(client.get(f"/kontakte/{complaints.lea}"))
    assert client.get(f"/dokumente/neu/complaint?contact_id={complaints.lea}").status_code == 404
    assert post(client, "/dokumente/neu/complaint", {"title": "x", "data.article": "y"}).status_code == 404
    overview = html(client.get(f"/unternehmen/{complaints.company}/uebersicht"))
    assert section_html(overview) is None and "Reklamationen" not in overview
    assert not any(key.endswith("complaints") for key in re.findall(r'id="section-([^"]+)"', overview))
    with ka.db.read() as s:
        assert "complaints" not in {v.key for v in build_overview(ka, s, people.viewer("owner"), company_id=complaints.company)}
    assert "reklamation.hotline" not in svc.allowed_placeholders(ka)
    assert validate_template("{{ reklamation.hotline }}", svc.allowed_placeholders(ka))  # now unknown

    with ka.db.read() as s:  # the data is still stored, untouched
        doc = s.get(Document, complaints.pump)
        assert doc is not None and doc.type_key == "complaint" and doc.data == stored
        assert s.query(Document).filter(Document.type_key == "complaint").count() == 3

    set_enabled(ka, True)
    assert "complaint" in {t["key"] for t in api.get("/types").get_json()["items"]}
    assert menu_links(html(client.get(f"/kontakte/{complaints.lea}")))["Reklamationen"]
    assert section_total(html(client.get(f"/unternehmen/{complaints.company}/uebersicht"))) == 3
    fetched = api.get(f"/documents/{complaints.pump}").get_json()
    assert fetched["data"] == stored and fetched["status"] == "open"
    ka.search.flush()
    assert search_ids(api, SERIAL) == [complaints.pump]
    again = api.post("/documents", json={"type": "complaint", "title": "Wieder da", "data": {"article": "Pumpe P-1"}})
    assert again.status_code == 201, again.get_json()
    assert "reklamation.hotline" in svc.allowed_placeholders(ka)
