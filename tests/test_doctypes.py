from decimal import Decimal

import pytest

from kundenakte.core.doctypes import DocumentType, Field, TypeRegistry, ValidationError, validate_data
from kundenakte.core.formatting import parse_decimal
from tests.testplugin import NOTE


def test_valid_values_are_cleaned_for_every_field_kind():
    data = validate_data(
        NOTE,
        {
            "subject": "  Rückruf  ", "details": "x\ny", "body": "<p>hi</p>", "due": "31.12.2026",
            "price": "1.234,50", "ratio": "0,5", "minutes": "15", "direction": "in", "owner": "3",
            "person": "7", "urgent": "on",
        },
        known_users={3}, known_contacts={7}, locale="de",
    )
    assert data == {
        "subject": "Rückruf", "details": "x\ny", "body": "<p>hi</p>", "due": "2026-12-31",
        "price": "1234.50", "ratio": "0.5", "minutes": 15, "direction": "in", "owner": 3,
        "person": 7, "urgent": True,
    }


def test_every_error_is_reported_at_once():
    with pytest.raises(ValidationError) as info:
        validate_data(
            NOTE,
            {"subject": "", "due": "32.13.2026", "price": "zwölf", "minutes": "1,5", "direction": "sideways",
             "owner": "99", "typo": "x"},
            known_users={1}, locale="de",
        )
    errors = info.value.errors
    assert errors["subject"] == "Dieses Feld ist ein Pflichtfeld."
    assert "gültiges Datum" in errors["due"]
    assert "Zahl" in errors["price"]
    assert "ganze Zahl" in errors["minutes"]
    assert "angebotenen" in errors["direction"]
    assert "Unbekannter Benutzer" in errors["owner"]
    assert errors["typo"] == "Unbekanntes Feld."
    assert len(errors) == 7


@pytest.mark.parametrize("raw,message", [
    ("-1", "kleiner"), ("12,345", "zwei Nachkommastellen"), ("1e5", "Zahl"), ("", None),
])
def test_money_rules(raw, message):
    if message is None:
        assert validate_data(NOTE, {"subject": "x", "price": raw}, locale="de")["price"] is None
        return
    with pytest.raises(ValidationError) as info:
        validate_data(NOTE, {"subject": "x", "price": raw}, locale="de")
    assert message in info.value.errors["price"]


def test_integer_bounds_and_text_length():
    with pytest.raises(ValidationError) as info:
        validate_data(NOTE, {"subject": "x" * 51, "minutes": "601"})
    assert "50 Zeichen" in info.value.errors["subject"]
    assert "größer" in info.value.errors["minutes"]


def test_machine_input_reads_only_dot_decimals():
    # API, importer and stored data: no locale, so no thousands separators to misread.
    assert validate_data(NOTE, {"subject": "x", "price": "1234.5", "ratio": 0.5})["price"] == "1234.50"
    with pytest.raises(ValidationError) as info:
        validate_data(NOTE, {"subject": "x", "price": "1.234,50"})
    assert info.value.errors["price"] == "Bitte eine Zahl angeben, z. B. 1234.56."


@pytest.mark.parametrize("raw,locale,expected", [
    ("1.234,56", "de", Decimal("1234.56")), ("1234,56", "de", Decimal("1234.56")), ("1.234", "de", Decimal("1234")),
    ("1.234.567", "de", Decimal("1234567")), (3, "de", Decimal("3")), ("1,234.56", "en", Decimal("1234.56")),
    ("1234.56", None, Decimal("1234.56")), ("1.5", None, Decimal("1.5")),
])
def test_parse_decimal(raw, locale, expected):
    assert parse_decimal(raw, locale) == expected


def test_money_field_accepts_a_trailing_euro_sign():
    assert validate_data(NOTE, {"subject": "x", "price": "12 €"}, locale="de")["price"] == "12.00"


def test_bad_declarations_are_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        Field("x", "colour", "X")
    with pytest.raises(ValueError, match="needs choices"):
        Field("x", "choice", "X")
    with pytest.raises(ValueError, match="twice"):
        DocumentType("t", "T", "T", "tasks", fields=(Field("a", "text", "A"), Field("a", "text", "A")))
    registry = TypeRegistry([NOTE])
    with pytest.raises(ValueError, match="declared by"):
        registry.add(NOTE)


def test_partial_validation_only_touches_given_fields():
    assert validate_data(NOTE, {"minutes": "5"}, partial=True) == {"minutes": 5}


def test_out_of_range_dates_and_amounts_are_refused_not_crashing():
    with pytest.raises(ValidationError) as info:
        validate_data(NOTE, {"subject": "x", "due": "31.12.9999", "price": "1.000.000.000.000"}, locale="de")
    assert "zwischen 1000 und 2999" in info.value.errors["due"]
    assert "zu groß" in info.value.errors["price"]


def test_richtext_is_sanitised_for_every_writer():
    cleaned = validate_data(NOTE, {"subject": "x", "body": '<p>a<img src=x onerror="alert(1)"></p>'})["body"]
    assert cleaned == "<p>a<img></p>"  # handler and unsafe source gone
