"""Every page in English: no German left in the interface's own words (issue 18's translation walk).

The demo data (a German firm's file, loaded by ``core/demo.py`` and the plugins' ``demo_data``) is
walked through every GET route of the app that the seeded rows can fill: each route with its
arguments from those rows (every document type, every document of the demo's first company, its
contact, users, groups, folders, attachments). On each page the interface's own words are read —
headings, labels, table heads, buttons, menu entries, options, legends, placeholders, titles and
ARIA labels, not the user's data around them — and compared with two references:

* the German catalogue: a text that is a German msgid with an English translation was shown
  untranslated (built too early, outside a request, or in the wrong language);
* German words of the interface that are not English: a text made of German the catalogue does
  not know (a literal that was never marked for translation).

The test fails listing every page and text; ``--full`` walks every document of the demo file
instead of one per type.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from kundenakte.core.models import Attachment, Company, Contact, Document, Folder, Group, User
from tests.web.conftest import login

CATALOGUE = Path(__file__).resolve().parents[2] / "kundenakte/web/translations/en/LC_MESSAGES/messages.po"
# German words of the interface that never are English ones (nouns capitalised as shown).
GERMAN = set("""
Speichern Abbrechen Bearbeiten Löschen Zurück Allgemein Zugriff Verlauf Anhänge Dateianhänge Betreff Neues Neue
Neuer Suche Suchen Einstellungen Benutzer Gruppen Ordner Kontakte Kontakt Unternehmen Vorlage Vorlagen Ablage
Aufbewahrungsfrist Leser Bearbeiter Posteingang Aufgaben Aufgabe Verträge Vertrag Übersicht Datum Titel Art
Verantwortlich Betrag Anmelden Abmelden Straße PLZ Ort Land Telefon Firma Herr Frau Deutsch Englisch weiter zurück
Seite alle offen erledigt Entwurf versendet Rechnung Rechnungen Angebot Angebote Zahlung bezahlt fällig Positionen
Menge Einheit Einzelpreis Rabatt Summe hinzufügen entfernen bevorzugt geschäftlich privat mobil andere Geburtstag
Notizen Abteilung Spitzname Anrede Briefanrede Kundenbetreuer Zuordnen Hochladen Herunterladen Schließen Öffnen
Abschließen Vorschau Gesamt Netto Brutto Steuer Fällig Beschreibung Inhalt Ansprechpartner Wiedervorlage Erledigt
Absender Empfänger Sprache Passwort Kennwort Anzeigen Ausblenden Filtern Zurücksetzen Zusammenführen Dubletten
Importieren Exportieren Prüfen Ergebnis Treffer Ergebnisse Nachname Vorname Geschlecht Bemerkung
""".split())
SELECTOR_TAGS = {"label", "th", "button", "legend", "option", "h1", "h2", "h3", "h4", "summary", "caption", "dt"}
ATTRIBUTES = ("placeholder", "title", "aria-label")
WORD = re.compile(r"[A-Za-zÄÖÜäöüß]+")


class _Chrome(HTMLParser):
    """Texts of the interface's own elements and attributes (scripts and styles skipped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._stack: list[tuple[str, list[str]]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "textarea"):
            self._skip += 1
        values = dict(attrs)
        for name in ATTRIBUTES:
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(str(values["value"]))
        menu = tag == "a" and any(c in (values.get("class") or "") for c in ("menu", "nav", "button", "tab"))
        if tag in SELECTOR_TAGS or menu or (tag == "a" and values.get("role") == "menuitem"):
            self._stack.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "textarea"):
            self._skip = max(0, self._skip - 1)
        if self._stack and self._stack[-1][0] == tag:
            _tag, parts = self._stack.pop()
            text = " ".join(" ".join(parts).split())
            if text:
                self.texts.append(text)

    def handle_data(self, data: str) -> None:
        if not self._skip and self._stack:
            self._stack[-1][1].append(data)


def _german_msgids() -> set[str]:
    with open(CATALOGUE, "rb") as fh:
        catalogue = read_po(fh)
    return {m.id for m in catalogue if isinstance(m.id, str) and m.id and m.string and m.string != m.id
            and (" " in m.id or len(m.id) >= 8) and "%" not in m.id}


def _problems(texts: list[str], msgids: set[str], data: set[str]) -> list[str]:
    found = []
    for text in texts:
        if text in data:
            continue  # the user's own words (a title, a name) in a heading
        if text in msgids:
            found.append(f"untranslated: {text!r}")
            continue
        words = [w for w in WORD.findall(text) if w in GERMAN]
        if words and not any(d and len(d) > 3 and d in text for d in data):
            found.append(f"German {words}: {text!r}")
    return found


def _routes(app: Any, values: dict[str, list[Any]]) -> list[str]:
    """Every GET route (no API, no static files, no downloads) with every filling of its arguments."""
    urls: list[str] = []
    skipped: list[str] = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint == "static" or rule.rule.startswith("/api"):
                continue
            if any(part in rule.rule for part in ("/herunterladen", "/download", "/datei", ".pdf", ".json", "/export",
                                                   "vorschlaege", "/static/", "abmelden", "/ics", ".xml")):
                continue
            fillings: list[dict[str, Any]] = [{}]
            for arg in sorted(rule.arguments):
                options = values.get(arg)
                if not options:
                    fillings = []
                    break
                fillings = [dict(f, **{arg: v}) for f in fillings for v in options]
            if not fillings:
                skipped.append(rule.rule)
                continue
            for filling in fillings[:40]:
                try:
                    urls.append(url_for(rule.endpoint, **filling))
                except Exception:  # a converter refusing the value: not a page of this data
                    continue
    return sorted(set(urls))


@pytest.mark.sqlite_only
def test_every_page_in_english_has_no_german_interface_text(ka: Any, client: Any, request: pytest.FixtureRequest) -> None:
    from kundenakte.core.demo import DEMO_PASSWORD, load_demo
    from kundenakte.core.users import update_user

    load_demo(ka, companies=3)
    ka.search.flush()
    full = bool(request.config.getoption("--full", default=False))
    with ka.db.write() as s:
        admin = s.scalars(select(User).where(User.login == "admin")).one()
        lea = s.scalars(select(User).where(User.login == "lea.mueller")).one()
        update_user(s, admin, by=admin.id, language="en")
        company = s.scalars(select(Company).where(Company.name == "DOCHOUSE GmbH")).one()
        contact = s.scalars(select(Contact).where(Contact.company_id == company.id).order_by(Contact.id)).first()
        docs = list(s.scalars(select(Document).where(Document.company_id == company.id).order_by(Document.id)))
        if not full:
            docs = list({d.type_key: d for d in reversed(docs)}.values())
        doc_ids = [d.id for d in docs]
        attachments = [a.id for a in s.scalars(select(Attachment).where(Attachment.document_id.in_(doc_ids)))][:5]
        values: dict[str, list[Any]] = {
            "contact_id": [contact.id] if contact else [], "company_id": [company.id],
            "doc_id": doc_ids, "document_id": doc_ids, "type_key": [t.key for t in ka.types.all()],
            "user_id": [lea.id], "group_id": list(s.scalars(select(Group.id)))[:1],
            "folder_id": list(s.scalars(select(Folder.id)))[:1], "attachment_id": attachments,
        }
        data = {d.title for d in docs} | {company.name} | ({contact.full_name, contact.last_name} if contact else set())
        data |= {u.display_name for u in s.scalars(select(User))} | {g.name for g in s.scalars(select(Group))}
        data |= {f.name for f in s.scalars(select(Folder))}
        data |= {a.filename for a in s.scalars(select(Attachment))}  # file names are the user's words too
    msgids = _german_msgids()
    login(client, "admin", DEMO_PASSWORD)
    problems: dict[str, list[str]] = {}
    visited = 0
    for url in _routes(client.application, values):
        response = client.get(url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        visited += 1
        parser = _Chrome()
        parser.feed(response.get_data(as_text=True))
        found = _problems(parser.texts, msgids, data)
        if found:
            problems[url] = sorted(set(found))
    print(f"\ntranslation walk: {visited} English pages, {sum(len(v) for v in problems.values())} German texts")
    assert visited > 40
    assert not problems, "\n".join(f"{url}\n  " + "\n  ".join(found) for url, found in sorted(problems.items()))
