"""Export -> import into an empty instance -> export again gives the identical file, for vCard 4.0
and 3.0 and for each CSV layout; the exports parse with an independent vCard parser (vobject) and
with Python's csv module in the layout the target program expects."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import vobject
from sqlalchemy import delete

from kundenakte.core.exchange import read_records
from kundenakte.core.exchange.csvlayouts import GOOGLE_HEAD, OUTLOOK_DE, OUTLOOK_EN
from kundenakte.core.exchange.exporter import export_contacts
from kundenakte.core.exchange.importer import apply_import, plan_import
from kundenakte.core.models import Company, Contact
from tests.exchange.people import INJECTION, add_people

CASES = [("vcard", "4.0", "outlook-de", "vcf"), ("vcard", "3.0", "outlook-de", "vcf"),
         ("csv", "4.0", "outlook-de", "csv"), ("csv", "4.0", "outlook-en", "csv"), ("csv", "4.0", "google", "csv")]


def _wipe(ka) -> None:  # type: ignore[no-untyped-def]
    with ka.db.write() as s:
        s.execute(delete(Contact))
        s.execute(delete(Company))


def _import(ka, path: Path) -> None:  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        plan = plan_import(s, read_records(path.read_bytes(), filename=path.name))
    assert {i.action for i in plan.items} == {"create"}, [i.describe() for i in plan.items]
    apply_import(ka, plan)


@pytest.mark.parametrize(("fmt", "version", "layout", "suffix"), CASES, ids=lambda x: str(x))
def test_export_import_export_is_identical(ka, tmp_path: Path, fmt: str, version: str, layout: str, suffix: str) -> None:  # type: ignore[no-untyped-def]
    add_people(ka)
    first, second = tmp_path / f"first.{suffix}", tmp_path / f"second.{suffix}"
    lost: dict[str, list[str]] = {}
    assert export_contacts(ka, first, fmt=fmt, version=version, layout=layout, lost=lost) == 5
    _wipe(ka)
    _import(ka, first)
    assert export_contacts(ka, second, fmt=fmt, version=version, layout=layout) == 5
    assert first.read_bytes() == second.read_bytes()
    if fmt == "vcard":
        assert lost == {}  # vCard holds everything
    elif layout.startswith("outlook"):
        # Outlook's CSV has no nickname, no letter salutation, no company e-mail: said, not hidden
        assert "Spitzname" in lost["Kontakt #1"] and "Firma E-Mail" in lost["Kontakt #1"]
    else:
        assert "Geschlecht" in lost["Kontakt #1"] and "Firma Telefon" in lost["Kontakt #1"]


@pytest.mark.parametrize("version", ["4.0", "3.0"])
def test_vcard_export_parses_with_vobject(ka, tmp_path: Path, version: str) -> None:  # type: ignore[no-untyped-def]
    add_people(ka)
    target = tmp_path / "k.vcf"
    export_contacts(ka, target, fmt="vcard", version=version)
    cards = list(vobject.readComponents(target.read_text("utf-8")))
    assert len(cards) == 5
    vogel = next(c for c in cards if c.n.value.family == "Vogel")
    assert vogel.version.value == version
    assert [e.value for e in vogel.contents["email"]] == ["k.vogel@dochouse.example", "katrin@privat.example",
                                                           "kv@other.example"]
    assert [t.value for t in vogel.contents["tel"]] == ["+49 931 2", "+49 170 123456", "0931 99", "+49 931 3"]
    assert vogel.nickname.value == "Kati" and vogel.note.value.startswith("Erste Zeile\nzweite Zeile; mit")
    assert vogel.org.value == ["DOCHOUSE GmbH", "Geschäftsleitung"]
    streets = sorted(a.value.street for a in vogel.contents["adr"])
    assert streets == ["Industriestraße 3", "Sonnenweg 5"]  # the company's (used) and her own
    injected = next(c for c in cards if c.n.value.family == INJECTION)
    assert injected.fn.value == "Prof. Dr. " + INJECTION


@pytest.mark.parametrize(("layout", "encoding", "headers"), [("outlook-de", "cp1252", OUTLOOK_DE),
                                                            ("outlook-en", "cp1252", OUTLOOK_EN)])
def test_outlook_export_is_outlooks_layout(ka, tmp_path: Path, layout: str, encoding: str, headers: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    add_people(ka)
    target = tmp_path / "k.csv"
    export_contacts(ka, target, fmt="csv", layout=layout)
    raw = target.read_bytes()
    assert b"\r\n" in raw and not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode(encoding), newline="")))
    assert rows[0] == list(headers) and len(rows) == 6
    assert all(len(r) == 92 for r in rows)
    by_last = {r[headers.index("Nachname" if layout == "outlook-de" else "Last Name")]: dict(zip(headers, r, strict=True))
               for r in rows[1:]}
    vogel = by_last["Vogel"]
    if layout == "outlook-de":
        assert (vogel["E-Mail-Adresse"], vogel["E-Mail 2: Adresse"], vogel["E-Mail 3: Adresse"]) == (
            "k.vogel@dochouse.example", "katrin@privat.example", "kv@other.example")
        assert (vogel["Telefon geschäftlich"], vogel["Mobiltelefon"], vogel["Telefon privat"], vogel["Fax geschäftlich"]) == (
            "+49 931 2", "+49 170 123456", "0931 99", "+49 931 3")
        assert vogel["Straße geschäftlich"] == "Industriestraße 3" and vogel["Straße privat"] == "Sonnenweg 5"
        assert vogel["Geburtstag"] == "1.4.1970" and vogel["Abteilung"] == "Geschäftsleitung"
        assert vogel["Geschlecht"] == "Weiblich" and vogel["Telefon Firma"] == "+49 931 1"
    else:
        assert vogel["Birthday"] == "4/1/1970" and vogel["Business Phone"] == "+49 931 2"
        assert vogel["Gender"] == "Female" and vogel["Home Street"] == "Sonnenweg 5"


def test_google_export_is_googles_current_layout(ka, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_people(ka)
    target = tmp_path / "k.csv"
    export_contacts(ka, target, fmt="csv", layout="google")
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8"), newline="")))
    header = list(rows[0])
    assert header[:len(GOOGLE_HEAD)] == list(GOOGLE_HEAD)
    assert header[len(GOOGLE_HEAD):len(GOOGLE_HEAD) + 2] == ["E-mail 1 - Label", "E-mail 1 - Value"]
    assert "E-mail 3 - Value" in header and "E-mail 4 - Value" not in header  # as many as the fullest contact needs
    assert "Phone 4 - Value" in header and "Address 2 - Street" in header
    vogel = next(r for r in rows if r["Last Name"] == "Vogel")
    assert (vogel["E-mail 1 - Label"], vogel["E-mail 1 - Value"]) == ("* Work", "k.vogel@dochouse.example")
    assert (vogel["E-mail 2 - Label"], vogel["Phone 2 - Label"], vogel["Phone 4 - Label"]) == ("Home", "Mobile", "Work Fax")
    assert vogel["Birthday"] == "1970-04-01" and vogel["Nickname"] == "Kati"
    assert vogel["Phone 1 - Value"] == "+49 931 2"  # a phone number without an apostrophe
