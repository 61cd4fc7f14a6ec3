"""Every file of the third-party corpus (tests/exchange/corpus, sources in its README.md) is read
without silent loss: each field the file carries is either kept – its value is found in the record –
or named in the record's ``not_kept``. A table per file is printed (fields in the file, kept, reported).

"Found in the record" is checked independently of the parsers' bookkeeping: every word of a kept
field's value must occur in the record's data, so a parser that consumes a field but drops its
value fails here. Fields that only describe other fields (FN, LABEL, "E-mail Type", Google's
"Address 1 - Formatted") or the file (VERSION, PRODID) are listed as derived and checked for
nothing but being derived.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest

from kundenakte.core.exchange import SALUTATION_WORDS, ContactRecord, read_records
from kundenakte.core.exchange.csvio import _norm, detect_mapping, sniff_delimiter
from kundenakte.core.exchange.csvlayouts import OUTLOOK_DE_NAMES, OUTLOOK_DEFAULTS_DE, OUTLOOK_DEFAULTS_EN
from kundenakte.core.exchange.vcard import decode_bytes, iter_cards, unescape

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".vcf", ".csv"))

DERIVED_VCARD = {"VERSION", "PRODID", "REV", "FN", "LABEL", "X-ABLABEL", "X-MS-OL-DEFAULT-POSTAL-ADDRESS", "KIND",
                 "X-ABSHOWAS"}
CHECKED_APART = {"GENDER", "X-GENDER", "BDAY", "LANG"}  # values that change form (F -> female, dates)
_DERIVED_CSV = re.compile(r"( - (type|label|formatted)|type|typ|display name|angezeigter name)$")
DERIVED_CSV = {_norm(x) for x in ("Name", "File As", "Display Name", "Labels", "Group Membership")}
DATE_COLUMNS = {_norm(x) for x in ("Birthday", "Geburtstag", "Birth Year", "Birth Month", "Birth Day")}
GENDER_COLUMNS = {_norm(x) for x in ("Gender", "Geschlecht")}
OUTLOOK_DEFAULT_VALUES = {_norm(v) for v in (*OUTLOOK_DEFAULTS_EN.values(), *OUTLOOK_DEFAULTS_DE.values())}
OUTLOOK_DEFAULT_COLUMNS = {_norm(c) for c in OUTLOOK_DEFAULTS_EN} | {_norm(OUTLOOK_DE_NAMES[c]) for c in OUTLOOK_DEFAULTS_EN}


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _record_words(rec: ContactRecord) -> set[str]:
    parts: list[str] = [str(v) for v in rec.__dict__.values() if isinstance(v, str)]
    for items in (rec.emails, rec.phones, rec.websites):
        parts += [p.value for p in items]
    for a in rec.addresses:
        parts += [a.street, a.extra, a.postal_code, a.city, a.country]
    if rec.gender:
        parts.append(" ".join(w for w, g in SALUTATION_WORDS.items() if g == rec.gender))
    return _words(" ".join(parts))


def _fields_of_file(path: Path, data: bytes) -> list[list[tuple[str, str]]]:
    """Per record: (field name, value) of every field with a value, as the file has them."""
    if path.suffix == ".vcf":
        return [[(p.name, p.value) for p in props if p.value.strip()] for _, props in iter_cards(decode_bytes(data))]
    text = decode_bytes(data)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text)))
    headers = [h.strip().lstrip("\ufeff") for h in rows[0]]
    return [[(h, v) for h, v in zip(headers, row, strict=False) if v.strip()] for row in rows[1:] if any(c.strip() for c in row)]


def _check(path: Path, fields: list[tuple[str, str]], rec: ContactRecord) -> tuple[list[str], list[str], list[str]]:
    """(kept, derived, problems) of one record."""
    vcard = path.suffix == ".vcf"
    reported = {x.split(" (")[0] for x in rec.not_kept}
    partly = {x.split(" (")[0] for x in rec.not_kept if " (" in x}
    words = _record_words(rec)
    kept, derived, problems = [], [], []
    for name, raw in fields:
        value = unescape(raw) if vcard else raw
        key = name if vcard else _norm(name)
        if name in reported and name not in partly:
            continue
        if vcard and (key in DERIVED_VCARD or key.startswith("X-KUNDENAKTE-FORMAT")) or not vcard and (
                key in DERIVED_CSV or _DERIVED_CSV.search(key)
                or (key in OUTLOOK_DEFAULT_COLUMNS and _norm(value) in OUTLOOK_DEFAULT_VALUES)):
            derived.append(name)
            continue
        if vcard and key in CHECKED_APART or not vcard and (key in DATE_COLUMNS or key in GENDER_COLUMNS):
            ok = {"GENDER": bool(rec.gender), "X-GENDER": bool(rec.gender), "LANG": bool(rec.language)}.get(
                key, isinstance(rec.birthday, date) or bool(rec.gender) or bool(rec.language))
            (kept if ok else problems).append(name)
            continue
        missing = _words(value.replace("mailto:", " ").replace("tel:", " ")) - words
        if missing and not (name in partly and len(missing) < len(_words(value))):
            problems.append(f"{name}: {sorted(missing)[:5]} fehlt")
        else:
            kept.append(name)
    return kept, derived, problems


def test_corpus_has_the_families_the_issue_names() -> None:
    names = " ".join(p.name for p in FILES).lower()
    for family in ("android", "iphone", "gmail", "outlook-2003", "outlook-2007", "thunderbird", "lotus", "evolution",
                   "black_berry", "rfc2426", "rfc6350", "utf-16", "tb_plain", "gmail.csv"):
        assert family in names, family
    assert (CORPUS / "README.md").is_file()
    readme = (CORPUS / "README.md").read_text("utf-8")
    for path in FILES:
        assert path.name in readme, f"{path.name}: source and licence missing in README.md"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file_every_field_kept_or_reported(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = path.read_bytes()
    if path.suffix == ".csv":
        text = decode_bytes(data)
        detect_mapping(next(csv.reader([text.split("\n", 1)[0]], delimiter=sniff_delimiter(text))))
    records = read_records(data, filename=path.name)
    per_record = _fields_of_file(path, data)
    assert len(records) == len(per_record) and records
    lines = [f"\n{path.relative_to(CORPUS)}: {len(records)} Datensätze"]
    failures = []
    for n, (rec, fields) in enumerate(zip(records, per_record, strict=True), 1):
        kept, derived, problems = _check(path, fields, rec)
        lines.append(f"  #{n} im File: {len(fields):3}  übernommen: {', '.join(dict.fromkeys(kept)) or '-'}")
        if derived:
            lines.append(f"      abgeleitet: {', '.join(dict.fromkeys(derived))}")
        lines.append(f"      nicht übernommen (gemeldet): {', '.join(rec.not_kept) or '-'}")
        if problems:
            failures.append(f"{path.name} #{n}: weder übernommen noch gemeldet: {problems}")
    with capsys.disabled():
        print("\n".join(lines))
    assert not failures, failures
