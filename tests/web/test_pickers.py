"""Company and contact pickers of the document form: a select while the table is small, a type-ahead above.

The type-ahead keeps the select's field name for the id (a hidden input) and adds a text input
"<name>:text"; its suggestions come from /unternehmen/vorschlaege/auswahl and /kontakte/vorschlaege
with the list filters' matching rules. On both databases, through the real login and CSRF token.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select

from kundenakte.core.models import Company, Contact, Document
from kundenakte.web import documents, pickers
from tests.web.conftest import login, post

COMPANIES = "/unternehmen/vorschlaege/auswahl"
CONTACTS = "/kontakte/vorschlaege"
FORM = "/dokumente/neu/testnote"


@pytest.fixture
def master(ka: Any) -> dict[str, int]:
    with ka.db.write() as s:
        companies = {
            "mueller": Company(name="Müller & Söhne GmbH"),
            "mueller2": Company(name="Mueller Bau AG"),
            "hochbau": Company(name="Hochbau Nord KG"),
            "percent": Company(name="100% Bio GmbH"),
            "digits": Company(name="1000 Bio GmbH"),
            "under": Company(name="a_b Handel"),
            "axb": Company(name="axb Handel"),
            "evil": Company(name="<script>alert(1)</script> AG"),
        }
        s.add_all(companies.values())
        s.flush()
        contacts = {
            "lea": Contact(first_name="Lea", last_name="Müller", company_id=companies["mueller"].id),
            "jonas": Contact(first_name="Jonas", last_name="Öztürk", company_id=companies["hochbau"].id),
            "solo": Contact(first_name="", last_name="Ohnefirma"),
        }
        s.add_all(contacts.values())
        s.flush()
        return {k: v.id for k, v in companies.items()} | {k: v.id for k, v in contacts.items()}


@pytest.fixture
def typeahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Type-aheads with a handful of rows: a threshold of 1 instead of 200."""
    monkeypatch.setattr(documents, "PICKER_THRESHOLD", 1)


def suggest(client: Any, url: str, q: str, **args: Any) -> dict[str, Any]:
    response = client.get(url, query_string={"q": q, **args})
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def labels(client: Any, url: str, q: str) -> list[str]:
    return [r["label"] for r in suggest(client, url, q)["results"]]


def hidden_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input type="hidden" id="[^"]+" name="{re.escape(name)}" value="([^"]*)"', html)
    return unescape(match.group(1)) if match else None


def text_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input type="text" id="[^"]+" name="{re.escape(name)}:text" value="([^"]*)"', html)
    return unescape(match.group(1)) if match else None


def base_form(people: Any, **overrides: Any) -> dict[str, Any]:
    form = {"title": "Telefonat", "document_date": "2024-03-05", "status": "open",
            "responsible_id": str(people.users["owner"]), "data.subject": "Rückruf"}
    form.update(overrides)
    return form


# -- select or type-ahead --------------------------------------------------------------------------


def test_small_tables_keep_the_selects(client, people, master):  # type: ignore[no-untyped-def]
    login(client, "owner")
    html = client.get(FORM).get_data(as_text=True)
    assert re.search(r'<select id="f-company-id" name="company_id"', html)
    assert re.search(r'<select id="f-contact-id" name="contact_id"', html)
    assert re.search(r'<select id="f-data-person" name="data.person"', html)
    assert "picker-text" not in html and ":text" not in html
    assert f'<option value="{master["lea"]}" data-group="{master["mueller"]}"' in html
    assert "Lea Müller (Müller &amp; Söhne GmbH)" in html  # the select's labels are as before


def test_the_real_threshold(ka, client, people):  # type: ignore[no-untyped-def]
    assert documents.PICKER_THRESHOLD == 200
    with ka.db.write() as s:
        s.add_all(Company(name=f"Firma {i:04d}") for i in range(documents.PICKER_THRESHOLD))
        s.add(Contact(first_name="Eva", last_name="Einzig"))
    login(client, "owner")
    html = client.get(FORM).get_data(as_text=True)
    assert re.search(r'<select id="f-company-id" name="company_id"', html)  # exactly 200: still a select
    assert "Firma 0199" in html

    with ka.db.write() as s:
        s.add(Company(name="Firma 0200"))
    html = client.get(FORM).get_data(as_text=True)
    assert '<select id="f-company-id"' not in html
    assert hidden_value(html, "company_id") == ""
    assert text_value(html, "company_id") == ""
    assert f'data-picker="{COMPANIES}"' in html and 'aria-controls="f-company-id-list"' in html
    assert "Firma 0" not in html  # no company is listed any more
    assert re.search(r'<select id="f-contact-id" name="contact_id"', html)  # one contact: still a select
    assert "Eva Einzig" in html


def test_prefilled_contact_shows_names(client, people, master, typeahead):  # type: ignore[no-untyped-def]
    login(client, "owner")
    html = client.get(f"{FORM}?contact_id={master['lea']}").get_data(as_text=True)
    assert '<select id="f-company-id"' not in html and '<select id="f-contact-id"' not in html
    assert hidden_value(html, "contact_id") == str(master["lea"])
    assert text_value(html, "contact_id") == "Müller, Lea – Müller & Söhne GmbH"
    assert hidden_value(html, "company_id") == str(master["mueller"])  # taken from the contact
    assert text_value(html, "company_id") == "Müller & Söhne GmbH"
    assert 'value="Müller &amp; Söhne GmbH"' in html  # escaped in the attribute
    assert 'data-fills="f-company-id"' in html
    # a contact field of the type is a type-ahead as well
    assert hidden_value(html, "data.person") == "" and text_value(html, "data.person") == ""
    # a pre-filled company alone
    html = client.get(f"{FORM}?company_id={master['hochbau']}").get_data(as_text=True)
    assert hidden_value(html, "company_id") == str(master["hochbau"])
    assert text_value(html, "company_id") == "Hochbau Nord KG"
    assert hidden_value(html, "contact_id") == "" and text_value(html, "contact_id") == ""


def test_evil_names_are_escaped_in_the_form(client, people, master, typeahead):  # type: ignore[no-untyped-def]
    login(client, "owner")
    html = client.get(f"{FORM}?company_id={master['evil']}").get_data(as_text=True)
    assert text_value(html, "company_id") == "<script>alert(1)</script> AG"
    assert "<script>alert(1)" not in html


# -- suggestions -----------------------------------------------------------------------------------


def test_company_suggestions_match_like_the_list_filter(client, people, master):  # type: ignore[no-untyped-def]
    login(client, "reader")  # master data: any signed-in user, no document rights needed
    # umlauts and case: "mül", "MUEL" and "Mueller" all find both spellings
    for q in ("mül", "MUEL", "Mueller", "müller"):
        assert labels(client, COMPANIES, q) == ["Müller & Söhne GmbH", "Mueller Bau AG"], q  # by folded name
    assert labels(client, COMPANIES, "Müller & Söhne GmbH") == ["Müller & Söhne GmbH"]
    # "*" is the wildcard, anywhere
    assert labels(client, COMPANIES, "*bau*") == ["Hochbau Nord KG", "Mueller Bau AG"]
    assert labels(client, COMPANIES, "*kg") == ["Hochbau Nord KG"]
    assert labels(client, COMPANIES, "h*nord*") == ["Hochbau Nord KG"]
    # a typed % or _ matches only itself
    assert labels(client, COMPANIES, "100%") == ["100% Bio GmbH"]
    assert labels(client, COMPANIES, "a_b") == ["a_b Handel"]
    assert labels(client, COMPANIES, "%") == []
    # ids come along
    data = suggest(client, COMPANIES, "hoch")
    assert data == {"results": [{"id": master["hochbau"], "label": "Hochbau Nord KG"}], "total": 1}
    # nothing typed (or only wildcards): nothing suggested
    for q in ("", "   ", "*", "**"):
        assert suggest(client, COMPANIES, q) == {"results": [], "total": 0}


def test_contact_suggestions_show_name_and_company(client, people, master):  # type: ignore[no-untyped-def]
    login(client, "reader")
    data = suggest(client, CONTACTS, "mül")
    assert data["results"] == [{"id": master["lea"], "label": "Müller, Lea – Müller & Söhne GmbH",
                                "company_id": master["mueller"], "company": "Müller & Söhne GmbH"}]
    assert labels(client, CONTACTS, "OEZ") == ["Öztürk, Jonas – Hochbau Nord KG"]  # from the last name's start
    assert labels(client, CONTACTS, "lea") == ["Müller, Lea – Müller & Söhne GmbH"]  # from the first name
    assert labels(client, CONTACTS, "*türk") == ["Öztürk, Jonas – Hochbau Nord KG"]
    assert suggest(client, CONTACTS, "ohne")["results"] == [
        {"id": master["solo"], "label": "Ohnefirma", "company_id": None, "company": ""}]
    assert labels(client, CONTACTS, "l_a") == []


def test_at_most_twenty_and_capped_input(ka, client, people):  # type: ignore[no-untyped-def]
    with ka.db.write() as s:
        s.add_all(Company(name=f"Serienfirma {i:02d}") for i in range(25))
        s.add_all(Contact(first_name=f"Vorname{i:02d}", last_name="Serie") for i in range(25))
    login(client, "owner")
    data = suggest(client, COMPANIES, "serien")
    assert len(data["results"]) == pickers.LIMIT == 20 and data["total"] == 25
    assert [r["label"] for r in data["results"]] == [f"Serienfirma {i:02d}" for i in range(20)]
    assert len(suggest(client, CONTACTS, "serie")["results"]) == 20
    # a smaller limit is honoured, a larger one is not
    assert len(suggest(client, COMPANIES, "serien", limit=5)["results"]) == 5
    assert len(suggest(client, COMPANIES, "serien", limit=1000)["results"]) == 20
    assert len(suggest(client, COMPANIES, "serien", limit="x")["results"]) == 20
    # the query is cut to 100 characters: a long one is no error (and here matches nothing)
    assert suggest(client, COMPANIES, "serien" + "x" * 5000) == {"results": [], "total": 0}
    assert len(suggest(client, COMPANIES, "s" + "*" * 300)["results"]) == 20


def test_suggestions_are_escaped(client, people, master):  # type: ignore[no-untyped-def]
    login(client, "owner")
    response = client.get(COMPANIES, query_string={"q": "<script>"})
    raw = response.get_data(as_text=True)
    assert "<" not in raw and ">" not in raw and "\\u003cscript\\u003e" in raw
    assert json.loads(raw)["results"][0]["label"] == "<script>alert(1)</script> AG"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "&" not in client.get(COMPANIES, query_string={"q": "müller & s"}).get_data(as_text=True)


def test_anonymous_gets_no_suggestions(client, people, master):  # type: ignore[no-untyped-def]
    for url in (COMPANIES, CONTACTS):
        response = client.get(url, query_string={"q": "mü"})
        assert response.status_code in (302, 401)
        assert "/anmelden" in response.headers.get("Location", "/anmelden")
        body = response.get_data(as_text=True)
        assert "Müller" not in body and "results" not in body


# -- saving through the type-ahead -----------------------------------------------------------------


def test_create_through_the_typeahead(ka, client, people, master, typeahead):  # type: ignore[no-untyped-def]
    login(client, "owner")
    assert text_value(client.get(FORM).get_data(as_text=True), "company_id") == ""
    # what app.js submits after picking: the id under the field's name, the label as text
    form = base_form(people, **{
        "company_id": str(master["mueller"]), "company_id:text": "Müller & Söhne GmbH",
        "contact_id": str(master["lea"]), "contact_id:text": "Müller, Lea – Müller & Söhne GmbH",
        "data.person": str(master["lea"]), "data.person:text": "Müller, Lea – Müller & Söhne GmbH",
    })
    response = post(client, FORM, form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with ka.db.read() as s:
        doc = s.scalar(select(Document).order_by(Document.id.desc()))
        assert (doc.company_id, doc.contact_id, doc.data["person"]) == (master["mueller"], master["lea"], master["lea"])


def test_typed_text_without_picking(ka, client, people, master, typeahead):  # type: ignore[no-untyped-def]
    login(client, "owner")
    # an exact name (as the list filter matches it) names one company: taken
    response = post(client, FORM, base_form(people, title="Getippt", company_id="", **{"company_id:text": "hochbau nord kg"}))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with ka.db.read() as s:
        assert s.scalar(select(Document.company_id).where(Document.title == "Getippt")) == master["hochbau"]
    # a stale id whose name the text no longer shows: the text decides
    response = post(client, FORM, base_form(people, title="Umgetippt", company_id=str(master["mueller"]),
                                            **{"company_id:text": "Hochbau Nord KG"}))
    assert response.status_code == 302
    with ka.db.read() as s:
        assert s.scalar(select(Document.company_id).where(Document.title == "Umgetippt")) == master["hochbau"]
    # an emptied text means "no company", even when the id is still there
    response = post(client, FORM, base_form(people, title="Geleert", company_id=str(master["mueller"]), **{"company_id:text": ""}))
    assert response.status_code == 302
    with ka.db.read() as s:
        assert s.scalar(select(Document.company_id).where(Document.title == "Geleert")) is None
    # unknown or ambiguous text: an error at the field, the typed text kept, nothing saved
    for text, message in (("Gibtsnicht GmbH", "Kein Unternehmen dieses Namens gefunden"), ("*bau*", "Mehrere Einträge passen")):
        response = post(client, FORM, base_form(people, title="Unklar", company_id="", **{"company_id:text": text}))
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html and 'id="f-company-id-error"' in html
        assert text_value(html, "company_id") == text and hidden_value(html, "company_id") == ""
    response = post(client, FORM, base_form(people, title="Unklar", contact_id="", **{"contact_id:text": "Niemand"}))
    assert response.status_code == 422 and "Kein Kontakt dieses Namens gefunden" in response.get_data(as_text=True)
    with ka.db.read() as s:
        assert s.scalar(select(Document.id).where(Document.title == "Unklar")) is None


def test_validation_error_keeps_the_chosen_entries(ka, client, people, master, typeahead):  # type: ignore[no-untyped-def]
    login(client, "owner")
    form = base_form(people, title="", **{
        "company_id": str(master["mueller"]), "company_id:text": "Müller & Söhne GmbH",
        "contact_id": str(master["lea"]), "contact_id:text": "Müller, Lea – Müller & Söhne GmbH",
    })
    response = post(client, FORM, form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-title-error"' in html
    assert hidden_value(html, "company_id") == str(master["mueller"])
    assert text_value(html, "company_id") == "Müller & Söhne GmbH"
    assert hidden_value(html, "contact_id") == str(master["lea"])
    assert text_value(html, "contact_id") == "Müller, Lea – Müller & Söhne GmbH"
    # submitted again as re-rendered (the title now given): saved with both
    form.update(title="Jetzt mit Titel", company_id=hidden_value(html, "company_id"),
                contact_id=hidden_value(html, "contact_id"), **{"company_id:text": text_value(html, "company_id"),
                                                                  "contact_id:text": text_value(html, "contact_id")})
    assert post(client, FORM, form).status_code == 302
    with ka.db.read() as s:
        doc = s.scalar(select(Document).where(Document.title == "Jetzt mit Titel"))
        assert (doc.company_id, doc.contact_id) == (master["mueller"], master["lea"])
    # the core's own check still speaks: a contact of another company
    form.update(title="Falsch", contact_id=str(master["jonas"]), **{"contact_id:text": "Öztürk, Jonas – Hochbau Nord KG"})
    response = post(client, FORM, form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "gehört zu einem anderen Unternehmen" in html
    assert text_value(html, "contact_id") == "Öztürk, Jonas – Hochbau Nord KG"
    assert hidden_value(html, "contact_id") == str(master["jonas"])


def test_long_names_are_picked_whole(ka, client, people, master, typeahead):  # type: ignore[no-untyped-def]
    long_name = "Gesellschaft für " + "sehr " * 30 + "lange Namen mbH"  # > 100 characters, the query's cap
    with ka.db.write() as s:
        company = Company(name=long_name)
        s.add(company)
        s.flush()
        s.add(Contact(first_name="Langer", last_name="Name", company_id=company.id))
        s.flush()
        company_id = company.id
        contact_id = s.scalar(select(Contact.id).where(Contact.company_id == company_id))
    login(client, "owner")
    assert labels(client, COMPANIES, long_name[:100]) == [long_name]
    form = base_form(people, title="Lang", company_id=str(company_id), contact_id=str(contact_id),
                     **{"company_id:text": long_name, "contact_id:text": f"Name, Langer – {long_name}"})
    assert post(client, FORM, form).status_code == 302
    with ka.db.read() as s:
        doc = s.scalar(select(Document).where(Document.title == "Lang"))
        assert (doc.company_id, doc.contact_id) == (company_id, contact_id)


def test_edit_shows_and_changes_through_the_typeahead(ka, client, people, master, typeahead):  # type: ignore[no-untyped-def]
    login(client, "owner")
    response = post(client, FORM, base_form(people, title="Bearbeiten", company_id=str(master["hochbau"])))
    assert response.status_code == 302  # a plain id (as the select posts it) still works
    doc_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    html = client.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    assert hidden_value(html, "company_id") == str(master["hochbau"])
    assert text_value(html, "company_id") == "Hochbau Nord KG"
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = base_form(people, title="Bearbeiten", version=version, company_id=str(master["mueller"]),
                     **{"company_id:text": "Müller & Söhne GmbH"})
    assert post(client, f"/dokumente/{doc_id}/bearbeiten", form).status_code == 302
    with ka.db.read() as s:
        assert s.get(Document, doc_id).company_id == master["mueller"]


def test_typeahead_texts_in_english(ka, client, people, master, typeahead):  # type: ignore[no-untyped-def]
    from kundenakte.core.models import User

    with ka.db.write() as s:
        s.get(User, people.users["owner"]).language = "en"
    login(client, "owner")
    html = client.get(FORM).get_data(as_text=True)
    assert 'placeholder="Type a name …"' in html and 'data-empty-text="No results."' in html
    assert "Type a name and pick a suggestion; * stands for any characters." in html
    response = post(client, FORM, base_form(people, company_id="", **{"company_id:text": "*bau*"}))
    assert response.status_code == 422
    assert "Several entries match. Please pick a suggestion from the list." in response.get_data(as_text=True)
