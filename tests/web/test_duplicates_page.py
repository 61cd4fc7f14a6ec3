"""Kontakte → Dubletten and the merge dialog, through the real forms (CSRF on), without a browser."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from kundenakte.core import services
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import AuditEntry, Contact, Document, User
from tests.web.conftest import login, post


def _pair(ka: Any, people: Any) -> tuple[int, int, int]:
    owner = people.users["owner"]
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "Süßwaren Groß KG", "postal_code": "97070", "city": "Würzburg"}, by=owner).id
        keep = services.create_contact(s, {"first_name": "Jörg", "last_name": "Maier", "company_id": company,
                                           "notes": "Kunde seit 2019", "email": "joerg@gross.example"}, by=owner).id
        remove = services.create_contact(s, {"first_name": "Joerg", "last_name": "Meyer", "company_id": company,
                                             "phone": "0931 12345", "title": "Dr.", "notes": "Mag keine Anrufe",
                                             "emails": [{"value": "j.meyer@privat.example", "kind": "home"}]}, by=owner).id
    with ka.db.write() as s:  # a document only its author (the editor) and admins may touch
        doc = create_document(ka, s, people.viewer("editor"), "testnote",
                              DocumentInput(title="Vertraulich", contact_id=remove, data={"subject": "x"}))
    return keep, remove, doc.id


def test_list_dialog_preview_merge_and_undo(ka: Any, people: Any, client: Any) -> None:
    keep, remove, doc_id = _pair(ka, people)
    login(client, "admin")
    page = client.get("/kontakte").get_data(as_text=True)
    assert 'href="/kontakte/dubletten"' in page
    page = client.get("/kontakte/dubletten").get_data(as_text=True)
    assert "ähnlicher Name, gleiches Unternehmen" in page
    assert f"/kontakte/zusammenfuehren?behalten={keep}&amp;entfernen={remove}" in page

    url = f"/kontakte/zusammenfuehren?behalten={keep}&entfernen={remove}"
    page = client.get(url).get_data(as_text=True)
    # One radio pair per differing field; the survivor's title is empty, so the other's is preselected.
    assert re.search(r'name="title" value="remove" checked', page)
    assert re.search(r'name="first_name" value="keep" checked', page)
    assert 'name="aktion" value="vorschau"' in page and 'value="zusammenfuehren"' not in page
    assert re.search(r'name="notes" value="both" checked', page)  # two different notes: both kept by default

    choices = {"title": "remove", "first_name": "remove", "last_name": "keep", "phone": "remove"}
    response = post(client, url, {**choices, "aktion": "vorschau"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>Joerg</strong>" in page and "<strong>Maier</strong>" in page and "<strong>0931 12345</strong>" in page
    assert 'name="first_name" value="remove"' in page and 'value="zusammenfuehren"' in page
    assert "joerg@gross.example" in page and "j.meyer@privat.example" in page  # the united list in the preview
    with ka.db.read() as s:
        assert s.get(Contact, remove) is not None  # a preview writes nothing

    response = post(client, url, {**choices, "aktion": "zusammenfuehren"})
    assert response.status_code == 302
    result_url = response.headers["Location"]
    with ka.db.read() as s:
        assert s.get(Contact, remove) is None
        survivor = s.get(Contact, keep)
        assert (survivor.first_name, survivor.last_name, survivor.title, survivor.phone) == ("Joerg", "Maier", "Dr.", "0931 12345")
        assert survivor.notes == "Kunde seit 2019\n\nMag keine Anrufe" and survivor.email == "joerg@gross.example"
        assert sorted(p.value for p in survivor.emails) == ["j.meyer@privat.example", "joerg@gross.example"]
        assert s.get(Document, doc_id).contact_id == keep
        audit_id = s.scalar(select(AuditEntry.id).where(AuditEntry.action == "merged"))
    assert result_url.endswith(f"/kontakte/zusammenfuehrung/{audit_id}")
    page = client.get(result_url).get_data(as_text=True)
    assert "Rückgängig machen" in page and "Joerg Meyer" in page
    page = client.get(f"/kontakte/{keep}").get_data(as_text=True)
    assert "mit diesem Kontakt zusammengeführt" in page and result_url.split("localhost")[-1] in page

    response = post(client, f"/kontakte/zusammenfuehrung/{audit_id}/rueckgaengig")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/kontakte/{remove}")
    with ka.db.read() as s:
        assert s.get(Contact, remove).title == "Dr."
        assert s.get(Contact, keep).first_name == "Jörg" and s.get(Contact, keep).phone == ""
        assert s.get(Contact, keep).notes == "Kunde seit 2019" and [p.value for p in s.get(Contact, keep).emails] == [
            "joerg@gross.example"]
        assert s.get(Document, doc_id).contact_id == remove
    page = client.get(result_url).get_data(as_text=True)
    assert "rückgängig gemacht" in page and "Rückgängig machen</button>" not in page
    response = post(client, f"/kontakte/zusammenfuehrung/{audit_id}/rueckgaengig")  # a second time: refused, nothing lost
    assert response.status_code == 302
    assert "bereits rückgängig" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_user_without_rights_on_the_documents_cannot_merge(ka: Any, people: Any, client: Any) -> None:
    keep, remove, _doc = _pair(ka, people)
    login(client, "owner")
    url = f"/kontakte/zusammenfuehren?behalten={keep}&entfernen={remove}"
    page = client.get(url).get_data(as_text=True)
    assert "Ihnen fehlen Bearbeitungsrechte" in page
    # The editor's document is unreadable for the owner: the dialog does not count it (counts follow the ACL).
    assert "0 Dokumente werden dem verbleibenden Kontakt zugeordnet" in page and "1 Dokument wird" not in page
    response = post(client, url, {"aktion": "zusammenfuehren"})
    assert response.status_code == 422
    assert "Zum Zusammenführen fehlen Ihnen Bearbeitungsrechte an Dokumenten dieser Kontakte." in response.get_data(as_text=True)
    with ka.db.read() as s:
        assert s.get(Contact, remove) is not None
    assert client.get("/kontakte/zusammenfuehren?behalten=1&entfernen=999999").status_code == 404
    assert client.get("/kontakte/zusammenfuehrung/999999").status_code == 404
    assert client.get(f"/kontakte/zusammenfuehren?behalten={keep}&entfernen={2**70}").status_code == 404  # no overflow


def test_the_pages_speak_english(ka: Any, people: Any, client: Any) -> None:
    keep, remove, _doc = _pair(ka, people)
    with ka.db.write() as s:
        s.get(User, people.users["admin"]).language = "en"
    login(client, "admin")
    page = client.get("/kontakte/dubletten").get_data(as_text=True)
    assert "similar name, same company" in page and "Merge" in page and "Zusammenführen" not in page
    page = client.get(f"/kontakte/zusammenfuehren?behalten={keep}&entfernen={remove}").get_data(as_text=True)
    assert "Merge contacts" in page and "Preview" in page and "Letter salutation" in page
