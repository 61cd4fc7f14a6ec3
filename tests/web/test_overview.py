"""Übersicht pages: sections with counts, per-section reload (htmx), "nur meine", ACL."""

from __future__ import annotations

import re

from tests.web.conftest import login

FALLBACK = "kategorie_communication"  # the test type is in no plugin's section: the core's fallback shows it


def section_html(page: str, key: str) -> str:
    start = page.index(f'id="section-{key}"')
    return page[start:page.index("</section>", start)]


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'class="radio[^"]*".*?<span class="dot" aria-hidden="true"></span>([^<]+?)\s*<span class="count">(\d+)</span>',
                       html, re.S)
    return {label.strip(): int(n) for label, n in found}


def test_company_overview_sections_and_counts(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "owner")
    page = client.get(f"/unternehmen/{world.dochouse}/uebersicht").get_data(as_text=True)
    for heading in ("Kommunikation", "Aufgaben", "Verträge", "Vertrieb", "Projekte"):
        assert heading in page, heading
    fallback = section_html(page, FALLBACK)
    assert "Kommunikation (weitere Arten)" in fallback
    assert counts(fallback) == {"alle": 2, "offen": 1, "erledigt": 1}  # archived and the editor's are not counted
    assert "Angebot Pumpe" in fallback and "Geheime Notiz" in fallback and "Alte Notiz" not in fallback
    assert "Rahmenvertrag Entwurf" not in page
    assert "120,00\u00a0€" in fallback  # the sum of the active filter
    contact_page = client.get(f"/kontakte/{world.jonas}/uebersicht").get_data(as_text=True)
    assert counts(section_html(contact_page, FALLBACK)) == {"alle": 0, "offen": 0, "erledigt": 0}


def test_other_users_see_neither_rows_nor_counts(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "outsider")
    page = client.get(f"/unternehmen/{world.dochouse}/uebersicht").get_data(as_text=True)
    fallback = section_html(page, FALLBACK)
    assert counts(fallback) == {"alle": 0, "offen": 0, "erledigt": 0}
    assert "Angebot Pumpe" not in page and "Geheime Notiz" not in page and "Rahmenvertrag" not in page
    login(client, "reader")
    page = client.get(f"/unternehmen/{world.dochouse}/uebersicht").get_data(as_text=True)
    assert counts(section_html(page, FALLBACK)) == {"alle": 1, "offen": 1, "erledigt": 0}
    login(client, "grouped")
    assert "Rahmenvertrag" not in client.get(f"/unternehmen/{world.dochouse}/uebersicht").get_data(as_text=True)


def test_section_reload_filter_and_mine(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "owner")
    base = f"/unternehmen/{world.dochouse}/uebersicht"
    response = client.get(f"{base}/abschnitt/{FALLBACK}?filter=closed", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith("<section") and "<html" not in html
    assert "Geheime Notiz" in html and "Angebot Pumpe" not in html
    assert f'hx-get="{base}/abschnitt/{FALLBACK}?f_{FALLBACK}=open"' in html  # radio links reload the section
    assert f'href="{base}?f_{FALLBACK}=open"' in html  # and work as plain links
    # without htmx the same URL shows the whole page in that state
    response = client.get(f"{base}/abschnitt/{FALLBACK}?filter=closed")
    assert response.status_code == 302 and response.headers["Location"] == f"{base}?f_{FALLBACK}=closed"
    page = client.get(f"{base}?f_{FALLBACK}=closed").get_data(as_text=True)
    assert "Geheime Notiz" in section_html(page, FALLBACK) and "Angebot Pumpe" not in section_html(page, FALLBACK)
    login(client, "admin")
    everything = section_html(client.get(base).get_data(as_text=True), FALLBACK)
    mine = section_html(client.get(base + "?ansicht=meine").get_data(as_text=True), FALLBACK)
    assert counts(everything)["alle"] == 3 and counts(mine)["alle"] == 0


def test_bad_input_and_missing_objects(client, people, world):  # type: ignore[no-untyped-def]
    login(client, "owner")
    base = f"/unternehmen/{world.dochouse}/uebersicht"
    for query in ("f_kategorie_communication=<b>", "p_kategorie_communication=-1", "p_tasks=abc", "ansicht=x",
                  "f_" + "x" * 500 + "=1", "p_kategorie_communication=99999999999999"):
        assert client.get(f"{base}?{query}").status_code == 200, query
    assert client.get(f"{base}/abschnitt/{FALLBACK}?page=abc&filter=%00", headers={"HX-Request": "1"}).status_code == 200
    assert client.get(f"{base}/abschnitt/unbekannt", headers={"HX-Request": "1"}).status_code == 404
    assert client.get("/unternehmen/987654/uebersicht").status_code == 404
    assert client.get("/kontakte/987654/uebersicht").status_code == 404
