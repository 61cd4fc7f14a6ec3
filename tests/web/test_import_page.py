"""Einstellungen → Kontakte importieren: the CLI's importer behind a dry run and a confirmation, admins only."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kundenakte.core.models import Company, Contact, IndexQueue
from kundenakte.core.services.companies import create_company
from kundenakte.core.services.contacts import create_contact
from tests.web.conftest import login, post

URL = "/einstellungen/import"
DATA = Path(__file__).resolve().parents[1] / "exchange" / "data"
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')

# Two cards: a new person with umlauts, and Lea Müller, who exists already (same e-mail) and gets a phone.
VCARD = """BEGIN:VCARD\r
VERSION:3.0\r
N:Weiß;Jürgen;;Dr.;\r
FN:Dr. Jürgen Weiß\r
ORG:Müller & Söhne GmbH\r
EMAIL;TYPE=WORK:juergen.weiss@mueller-soehne.example\r
ADR;TYPE=WORK:;;Hauptstraße 5;München;;80331;Deutschland\r
TEL;TYPE=CELL:0170 123\r
TEL;TYPE=HOME:089 4711\r
X-ANNIVERSARY:2019-05-01\r
PHOTO;VALUE=uri:https://example.org/weiss.jpg\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
N:Müller;Lea;;;\r
FN:Lea Müller\r
ORG:DOCHOUSE GmbH\r
EMAIL:LEA@dochouse.example\r
TEL;TYPE=work:+49 751 123\r
END:VCARD\r
""".encode("utf-8")


@pytest.fixture
def lea(ka, people) -> int:  # type: ignore[no-untyped-def]
    with ka.db.write() as s:  # through the services, as every contact is written (lists and their copies)
        company = create_company(s, {"name": "DOCHOUSE GmbH", "street": "Lindenstraße 17", "postal_code": "88212",
                                     "city": "Ravensburg"}, by=None)
        s.flush()
        contact = create_contact(s, {"first_name": "Lea", "last_name": "Müller", "company_id": company.id,
                                     "email": "lea@dochouse.example", "use_company_address": True}, by=None)
        s.flush()
        return contact.id


def _counts(ka) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(m)) or 0)  # type: ignore[return-value]
                     for m in (Contact, Company, IndexQueue))


def _temp_files(ka) -> list[str]:  # type: ignore[no-untyped-def]
    folder = ka.settings.instance / "tmp" / "kontakte-import"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _check(client, data: bytes, filename: str = "kontakte.vcf", mapping: str = "auto", update: bool = True):  # type: ignore[no-untyped-def]
    form: dict[str, Any] = {"action": "check", "mapping": mapping, "file": (io.BytesIO(data), filename)}
    if update:
        form["update"] = "1"
    return post(client, URL, form, content_type="multipart/form-data")


def _count(page: str, key: str) -> int:
    match = re.search(rf'data-count="{key}">(\d+)<', page)
    assert match, f"no count {key}"
    return int(match.group(1))


def _token(page: str) -> str:
    match = TOKEN_RE.search(page)
    assert match, "no import token on the page"
    return match.group(1)


def test_import_is_for_admins_only(client, people, lea) -> None:  # type: ignore[no-untyped-def]
    login(client, "owner")
    assert "/einstellungen/import" not in client.get("/einstellungen").get_data(as_text=True)
    assert client.get(URL).status_code == 403
    before = _counts(people.ka)
    assert _check(client, VCARD).status_code == 403
    assert post(client, URL, {"action": "import", "token": "x"}).status_code == 403
    assert _counts(people.ka) == before and _temp_files(people.ka) == []
    login(client, "admin")
    assert 'href="/einstellungen/import"' in client.get("/einstellungen").get_data(as_text=True)
    page = client.get(URL).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page and 'type="file"' in page
    assert 'value="outlook"' in page and 'value="google"' in page and 'value="kundenakte"' in page
    assert 'name="update" value="1" checked' in page and ">Prüfen<" in page and "<script>" not in page
    # no CSRF token, no import (Flask-WTF)
    response = client.post(URL, data={"action": "check", "file": (io.BytesIO(VCARD), "k.vcf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and _counts(people.ka) == before


def test_vcard_dry_run_then_import(client, people, lea) -> None:  # type: ignore[no-untyped-def]
    ka = people.ka
    login(client, "admin")
    before = _counts(ka)
    response = _check(client, VCARD)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert (_count(page, "total"), _count(page, "create"), _count(page, "update"), _count(page, "skip")) == (2, 1, 1, 0)
    assert _count(page, "companies") == 1
    assert "Dr. Jürgen Weiß" in page and "Müller &amp; Söhne GmbH" in page
    assert f"Dublette: gleiche E-Mail wie Kontakt #{lea} – ändert Telefonnummern" in page
    assert "Firma „Müller &amp; Söhne GmbH“ wird angelegt" in page
    # what the card carries but Kundenakte does not keep is named for that record
    assert _count(page, "not-kept") == 1
    assert re.search(r'data-not-kept="Karte 1 \(Zeile 1\)">nicht übernommen: X-ANNIVERSARY, PHOTO<', page)
    assert 'data-not-kept="Karte 2 (Zeile 13)"></td>' in page
    # the dry run wrote nothing; the file waits in the temp folder, not in a hidden field
    assert _counts(ka) == before
    assert len(_temp_files(ka)) == 1
    assert "BEGIN:VCARD" not in page
    token = _token(page)

    response = post(client, URL, {"action": "import", "token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert (_count(page, "created"), _count(page, "updated"), _count(page, "skipped"), _count(page, "companies")) == (1, 1, 0, 1)
    assert "Import abgeschlossen" in page and "weichen deshalb vom Probelauf ab" not in page
    assert "Karte 1 (Zeile 1) (Jürgen Weiß): nicht übernommen: X-ANNIVERSARY, PHOTO" in page
    contacts, companies, _queue = _counts(ka)
    assert (contacts, companies) == (before[0] + 1, before[1] + 1)
    with ka.db.read() as s:
        weiss = s.scalar(select(Contact).where(Contact.last_name == "Weiß"))
        assert weiss is not None and weiss.first_name == "Jürgen" and weiss.title == "Dr."
        assert weiss.company.name == "Müller & Söhne GmbH" and weiss.company.city == "München"
        assert [(p.value, p.kind) for p in weiss.phones] == [("0170 123", "mobile"), ("089 4711", "home")]
        assert s.get(Contact, lea).phone == "+49 751 123"
    assert _temp_files(ka) == []

    # a second click (or a reload) imports nothing twice
    response = post(client, URL, {"action": "import", "token": token})
    assert response.status_code == 422 and "nicht mehr vorhanden" in response.get_data(as_text=True)
    assert _counts(ka)[:2] == (contacts, companies)


def test_without_update_the_duplicate_is_skipped(client, people, lea) -> None:  # type: ignore[no-untyped-def]
    ka = people.ka
    login(client, "admin")
    page = _check(client, VCARD, update=False).get_data(as_text=True)
    assert (_count(page, "create"), _count(page, "update"), _count(page, "skip")) == (1, 0, 1)
    assert "nicht aktualisiert (Telefonnummern)" in page
    assert "vorhandene Kontakte bleiben unverändert" in page
    response = post(client, URL, {"action": "import", "token": _token(page)})
    page = response.get_data(as_text=True)
    assert (_count(page, "created"), _count(page, "updated"), _count(page, "skipped")) == (1, 0, 1)
    with ka.db.read() as s:
        assert s.get(Contact, lea).phone == ""
    # everything a duplicate: nothing to import, no file kept
    page = _check(client, VCARD, update=False).get_data(as_text=True)
    assert (_count(page, "create"), _count(page, "update"), _count(page, "skip")) == (0, 0, 2)
    assert 'name="token"' not in page and "Nichts zu importieren" in page
    assert _temp_files(ka) == []


def test_outlook_csv(client, people) -> None:  # type: ignore[no-untyped-def]
    ka = people.ka
    login(client, "admin")
    before = _counts(ka)
    data = (DATA / "outlook_de.csv").read_bytes()  # cp1252, as Outlook writes it
    page = _check(client, data, "Kontakte.CSV", mapping="outlook").get_data(as_text=True)
    assert (_count(page, "create"), _count(page, "update"), _count(page, "skip"), _count(page, "company")) == (4, 0, 0, 1)
    # the row with a company and no person becomes a company (the documented rule)
    assert "Firma ohne Ansprechpartner – wird als Firma angelegt" in page and "Öztürk" in page and "Schäfer" in page
    assert "nicht übernommen: Region geschäftlich" in page
    assert 'value="outlook" selected' in page or "Spaltenzuordnung: Outlook" in page
    assert _counts(ka) == before
    page = post(client, URL, {"action": "import", "token": _token(page)}).get_data(as_text=True)
    assert (_count(page, "created"), _count(page, "updated"), _count(page, "skipped"), _count(page, "companies")) == (4, 0, 0, 3)
    assert _counts(ka)[:2] == (before[0] + 4, before[1] + 3)
    assert _temp_files(ka) == []
    # automatic detection finds the same preset; now all of them are duplicates
    page = _check(client, data, "Kontakte.CSV").get_data(as_text=True)
    assert _count(page, "skip") == 5


@pytest.mark.parametrize("content, filename, message", [
    (b"", "leer.vcf", "Die Datei ist leer."),
    (b"  \r\n\r\n", "leer.csv", "Die Datei ist leer."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "foto.csv", "keine vCard- oder CSV-Datei"),
    (b"PK\x03\x04\x14\x00\x06\x00" + os.urandom(2000), "kontakte.xlsx", "Excel-Tabelle"),
    (b"Spalte A;Spalte B\r\n1;2\r\n", "liste.csv", "CSV-Format nicht erkannt"),
    (b"Vorname;Nachname;E-Mail-Adresse\r\n", "kopf.csv", "enthält keine Kontakte"),
])
def test_unreadable_files_are_reported_at_the_form(client, people, lea, content, filename, message) -> None:  # type: ignore[no-untyped-def]
    ka = people.ka
    login(client, "admin")
    before = _counts(ka)
    response = _check(client, content, filename, mapping="google" if filename == "foto.csv" else "auto", update=False)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page and 'class="field-error" id="e-file"' in page
    assert "--mapping" not in page
    # the form again, with the chosen options
    assert 'type="file"' in page and 'name="update" value="1" checked' not in page
    if filename == "foto.csv":
        assert 'value="google" selected' in page
    assert _counts(ka) == before and _temp_files(ka) == []


def test_no_file_and_bad_options(client, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")
    response = post(client, URL, {"action": "check", "mapping": "outlook", "update": "1"}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Bitte eine Datei auswählen." in page and 'value="outlook" selected' in page
    response = _check(client, VCARD, mapping="../../etc")
    assert response.status_code == 422 and "Bitte eine Spaltenzuordnung wählen." in response.get_data(as_text=True)


def test_file_too_large(client, app, people) -> None:  # type: ignore[no-untyped-def]
    ka = people.ka
    ka.settings.max_upload_mb = 1
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # as create_app sets it: the limit plus room for fields
    login(client, "admin")
    before = _counts(ka)
    big = VCARD * (1024 * 1024 // len(VCARD) + 200)  # a little over 1 MB: the page's own check
    response = _check(client, big, mapping="google", update=False)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Die Datei ist zu groß (höchstens 1 MB)." in page
    assert 'value="google" selected' in page
    huge = b"x" * (3 * 1024 * 1024)  # beyond MAX_CONTENT_LENGTH: Werkzeug refuses before the view
    response = _check(client, huge, "huge.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "Die Datei ist zu groß (höchstens 1 MB)." in page and 'type="file"' in page
    assert _counts(ka) == before and _temp_files(ka) == []
    # other users get the plain error page
    login(client, "owner")
    response = _check(client, huge, "huge.csv")
    assert response.status_code == 413 and 'type="file"' not in response.get_data(as_text=True)


def test_hostile_names_are_escaped(client, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")
    card = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:<script>alert(1)</script>;<img src=x onerror=alert(2)>;;;\r\n"
            "ORG:<b>Evil</b> GmbH\r\nEMAIL:\"><script>alert(3)</script>@evil.example\r\n"
            "X-KUNDENAKTE-ACCOUNT-MANAGER:<script>alert(4)</script>\r\nEND:VCARD\r\n").encode()
    page = _check(client, card, "<script>.vcf").get_data(as_text=True)
    assert _count(page, "create") == 1
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Evil" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;Evil&lt;/b&gt; GmbH" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


def test_token_is_bound_to_the_user_and_untamperable(client, people, lea) -> None:  # type: ignore[no-untyped-def]
    ka = people.ka
    login(client, "admin")
    token = _token(_check(client, VCARD).get_data(as_text=True))
    before = _counts(ka)
    for bad in ("", "kaputt", token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
        response = post(client, URL, {"action": "import", "token": bad})
        assert response.status_code == 422 and "nicht mehr vorhanden" in response.get_data(as_text=True)
    with ka.db.write() as s:
        from kundenakte.core.users import create_user
        from tests.conftest import password_hash

        create_user(s, "admin2", "x", display_name="Admin 2", is_admin=True, password_hash=password_hash())
    login(client, "admin2")
    response = post(client, URL, {"action": "import", "token": token})
    assert response.status_code == 422
    assert _counts(ka) == before and len(_temp_files(ka)) == 1  # still there for its owner
    login(client, "admin")
    assert post(client, URL, {"action": "import", "token": token}).status_code == 200
    assert _counts(ka)[0] == before[0] + 1 and _temp_files(ka) == []


def test_abandoned_dry_runs_are_swept(client, people, lea) -> None:  # type: ignore[no-untyped-def]
    ka = people.ka
    login(client, "admin")
    token = _token(_check(client, VCARD).get_data(as_text=True))
    folder = ka.settings.instance / "tmp" / "kontakte-import"
    (old,) = list(folder.iterdir())
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    _check(client, VCARD)  # a fresh dry run stays
    assert len(_temp_files(ka)) == 1 and not old.exists()
    response = post(client, URL, {"action": "import", "token": token})
    assert response.status_code == 422 and "nicht mehr vorhanden" in response.get_data(as_text=True)
    client.get(URL)
    assert len(_temp_files(ka)) == 1


def test_english_ui(client, people, lea) -> None:  # type: ignore[no-untyped-def]
    from kundenakte.core.models import User

    with people.ka.db.write() as s:
        s.get(User, people.users["admin"]).language = "en"
    login(client, "admin")
    page = client.get(URL).get_data(as_text=True)
    assert "Import contacts" in page and ">Check<" in page and "update existing contacts" in page
    page = _check(client, b"").get_data(as_text=True)
    assert "The file is empty." in page
