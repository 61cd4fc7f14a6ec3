from __future__ import annotations

import pytest

from kundenakte.plugins.communication.salutation import closing, letter_salutation, short_salutation

MUELLER = {"gender": "female", "title": "Dr.", "first_name": "Anna", "last_name": "Müller", "language": "de"}
SCHMIDT = {"gender": "male", "title": "", "first_name": "Jan", "last_name": "Schmidt"}
BERGER = {"gender": "diverse", "first_name": "Alex", "last_name": "Berger"}


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        (MUELLER, "Sehr geehrte Frau Dr. Müller,"),
        (SCHMIDT, "Sehr geehrter Herr Schmidt,"),
        ({**SCHMIDT, "title": "Prof. Dr."}, "Sehr geehrter Herr Prof. Dr. Schmidt,"),
        (BERGER, "Guten Tag Alex Berger,"),
        ({**BERGER, "gender": "unknown"}, "Guten Tag Alex Berger,"),
        ({"gender": "diverse", "last_name": "Berger"}, "Guten Tag Berger,"),
        ({"last_name": "Berger"}, "Guten Tag Berger,"),
        ({**BERGER, "title": "Dr."}, "Guten Tag Dr. Alex Berger,"),
        (None, "Sehr geehrte Damen und Herren,"),
        ({}, "Sehr geehrte Damen und Herren,"),
        ({"gender": "female", "first_name": "", "last_name": ""}, "Sehr geehrte Damen und Herren,"),
        # Without a surname "Sehr geehrte Frau Anna" would be wrong; fall back to the neutral form.
        ({"gender": "female", "first_name": "Anna"}, "Guten Tag Anna,"),
    ],
)
def test_german_letter_salutation(recipient: dict | None, expected: str) -> None:
    assert letter_salutation(recipient) == expected


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        (MUELLER, "Dear Dr Müller,"),
        ({**SCHMIDT, "title": "Prof. Dr."}, "Dear Professor Schmidt,"),
        ({**MUELLER, "title": ""}, "Dear Ms Müller,"),
        (SCHMIDT, "Dear Mr Schmidt,"),
        (BERGER, "Dear Alex Berger,"),
        ({**BERGER, "title": "Dr."}, "Dear Dr Berger,"),
        (None, "Dear Sir or Madam,"),
    ],
)
def test_english_letter_salutation(recipient: dict | None, expected: str) -> None:
    assert letter_salutation(recipient, language="en") == expected


def test_recipient_language_is_used_by_default() -> None:
    assert letter_salutation({**SCHMIDT, "language": "en"}) == "Dear Mr Schmidt,"
    assert letter_salutation({**SCHMIDT, "language": "en"}, language="de") == "Sehr geehrter Herr Schmidt,"
    assert letter_salutation({**SCHMIDT, "language": "fr"}) == "Sehr geehrter Herr Schmidt,"


def test_override_wins_verbatim() -> None:
    override = "Liebe Anna,"
    assert letter_salutation({**MUELLER, "salutation_override": override}) == override
    assert letter_salutation({**MUELLER, "salutation_override": override}, language="en") == override
    assert letter_salutation({**MUELLER, "salutation_override": "   "}) == "Sehr geehrte Frau Dr. Müller,"
    # The override is a letter opening, not a form of address for running text.
    assert short_salutation({**MUELLER, "salutation_override": override}) == "Frau Dr. Müller"


@pytest.mark.parametrize(
    ("recipient", "language", "expected"),
    [
        (MUELLER, None, "Frau Dr. Müller"),
        (SCHMIDT, None, "Herr Schmidt"),
        (BERGER, None, "Alex Berger"),
        ({**MUELLER, "title": ""}, "en", "Ms Müller"),
        (SCHMIDT, "en", "Mr Schmidt"),
        (MUELLER, "en", "Dr Müller"),
        (BERGER, "en", "Alex Berger"),
        (None, None, ""),
        ({}, None, ""),
    ],
)
def test_short_salutation(recipient: dict | None, language: str | None, expected: str) -> None:
    assert short_salutation(recipient, language=language) == expected


def test_missing_and_odd_values_are_handled() -> None:
    assert letter_salutation({"gender": None, "last_name": None, "first_name": 5}) == "Sehr geehrte Damen und Herren,"
    assert letter_salutation({"gender": "FEMALE", "last_name": " Müller "}) == "Sehr geehrte Frau Müller,"
    # Line breaks from the contact record must not reach a header built from the salutation.
    assert short_salutation({"gender": "male", "last_name": "Schmidt\r\nBcc: x@example.com"}) == (
        "Herr Schmidt Bcc: x@example.com"
    )


def test_closing() -> None:
    assert closing("de") == "Mit freundlichen Grüßen"
    assert closing("en") == "Kind regards"
    assert closing() == "Mit freundlichen Grüßen"
    assert closing("fr") == "Mit freundlichen Grüßen"
