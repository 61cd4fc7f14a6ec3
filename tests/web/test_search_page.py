"""Suche: results through the ACL, escaped text with <mark> highlights, facets, errors, suggestions."""

from __future__ import annotations

from kundenakte.core.documents import DocumentInput, create_document
from tests.web.conftest import login


def make_docs(ka, people, world):  # type: ignore[no-untyped-def]
    with ka.db.write() as s:
        create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(
            title="Pumpe <script>alert(1)</script>", contact_id=world.lea, folder_ids=[people.folders["Schriftverkehr"]],
            data={"subject": "Rote Pumpe", "details": "Die rote Pumpe <b>leckt</b> am Flansch"}))
    ka.search.flush()


def test_results_highlights_and_acl(client, ka, people, world):  # type: ignore[no-untyped-def]
    make_docs(ka, people, world)
    login(client, "owner")
    page = client.get("/suche?q=pumpe").get_data(as_text=True)
    assert "Angebot Pumpe" in page and "Pumpe &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page and "<b>leckt</b>" not in page
    assert "<mark>" in page
    assert "Testnotiz" in page and "Schriftverkehr" in page  # type and folder facets
    narrowed = client.get("/suche?q=pumpe&ordner=Schriftverkehr").get_data(as_text=True)
    assert "Pumpe &lt;script&gt;" in narrowed and "Angebot Pumpe" not in narrowed
    assert "Keine Treffer" in client.get("/suche?q=pumpe&typ=gibtsnicht").get_data(as_text=True)
    login(client, "outsider")
    page = client.get("/suche?q=pumpe").get_data(as_text=True)
    assert "Angebot Pumpe" not in page and "Pumpe &lt;script" not in page and "Keine Treffer" in page


def test_malformed_query_empty_query_and_paging(client, ka, people, world):  # type: ignore[no-untyped-def]
    login(client, "owner")
    for q in ('"offen', "(pumpe", "title:", "AND", "*", "pumpe)", "\\", "a" * 2000):
        response = client.get("/suche", query_string={"q": q})
        assert response.status_code == 200, q
    assert "Suchbegriff" in client.get("/suche").get_data(as_text=True)
    assert client.get("/suche?q=pumpe&seite=abc").status_code == 200
    assert client.get("/suche?q=pumpe&seite=999").status_code == 200


def test_master_data_shortcuts_and_suggestions(client, ka, people, world):  # type: ignore[no-untyped-def]
    make_docs(ka, people, world)
    login(client, "owner")
    page = client.get("/suche?q=dochouse").get_data(as_text=True)
    assert f'href="/unternehmen/{world.dochouse}"' in page
    response = client.get("/suche/vorschlaege?q=pum")
    assert response.status_code == 200 and response.is_json and isinstance(response.get_json(), list)
    assert any("Pumpe" in title for title in response.get_json())
    assert client.get("/suche/vorschlaege?q=").get_json() == []
    login(client, "outsider")
    assert client.get("/suche/vorschlaege?q=pum").get_json() == []


def test_deep_pages_get_a_message_not_a_scan(client, ka, people, world):  # type: ignore[no-untyped-def]
    make_docs(ka, people, world)
    login(client, "owner")
    page = client.get("/suche?q=Angebot&seite=51").get_data(as_text=True)
    assert "höchstens die ersten 1000 Treffer" in page


def test_archived_option_and_hint_through_the_acl(client, ka, people, world):  # type: ignore[no-untyped-def]
    from kundenakte.core.retention import archive_due_documents

    with ka.db.write() as s:
        for title, readers in [("Kolben alt eins", ["*"]), ("Kolben alt zwei", ["*"]), ("Kolben alt geheim", [])]:
            create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(
                title=title, contact_id=world.lea, retention_days=0, readers=readers, data={"subject": "Kolben"}))
        create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(
            title="Kolben neu", contact_id=world.lea, readers=["*"], data={"subject": "Kolben"}))
    assert len(archive_due_documents(ka)) == 3
    ka.search.flush()
    login(client, "reader")
    page = client.get("/suche?q=kolben").get_data(as_text=True)
    assert "Kolben neu" in page and "Kolben alt" not in page
    # two archived documents the reader may read match as well; the third is not theirs
    assert "2 archivierte Dokumente passen ebenfalls" in page
    assert "/suche?q=kolben&amp;archiviert=1" in page and "archivierte einbeziehen" in page
    page = client.get("/suche?q=kolben&archiviert=1").get_data(as_text=True)
    assert "Kolben alt eins" in page and "Kolben alt zwei" in page and "Kolben alt geheim" not in page
    assert "passen ebenfalls" not in page and 'name="archiviert" value="1" checked' in page
    assert "archiviert=1" in page.split('class="facets"')[1]  # facet links keep the option
    login(client, "owner")
    assert "3 archivierte Dokumente passen ebenfalls" in client.get("/suche?q=kolben").get_data(as_text=True)
    assert "1 archiviertes Dokument passt ebenfalls" in client.get("/suche?q=geheim").get_data(as_text=True)
    assert "passen ebenfalls" not in client.get("/suche?q=pumpe").get_data(as_text=True)
