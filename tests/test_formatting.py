"""kundenakte.core.formatting: every number, amount, rate and date a person sees or types."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kundenakte.core.formatting import (
    NumberInputError,
    format_date,
    format_datetime,
    format_decimal,
    format_money,
    format_percent,
    parse_decimal,
    round_money,
)

NB = "\u00a0"  # CLDR keeps an amount and its unit on one line


@pytest.mark.parametrize(
    ("value", "de", "en"),
    [
        (D("1234.56"), f"1.234,56{NB}€", "€1,234.56"),
        (D("0.125"), f"0,13{NB}€", "€0.13"),  # kaufmännisch: half up, not Babel's half-even
        (D("0.135"), f"0,14{NB}€", "€0.14"),
        (D("2.675"), f"2,68{NB}€", "€2.68"),
        (D("-0.125"), f"-0,13{NB}€", "-€0.13"),  # ties away from zero: a credit note mirrors the invoice
        (D("-0.001"), f"0,00{NB}€", "€0.00"),  # no "-0,00 €"
        (D("999.995"), f"1.000,00{NB}€", "€1,000.00"),
        (D("1234567890.1"), f"1.234.567.890,10{NB}€", "€1,234,567,890.10"),
        ("120.00", f"120,00{NB}€", "€120.00"),  # stored JSON form
        (0.1, f"0,10{NB}€", "€0.10"),
        (7, f"7,00{NB}€", "€7.00"),
        (None, "", ""),
        ("", "", ""),
    ],
)
def test_format_money(value: object, de: str, en: str) -> None:
    assert format_money(value, "de") == de
    assert format_money(value, "en") == en


def test_one_rounding_rule_for_money() -> None:
    assert round_money(D("0.125")) == D("0.13")
    assert round_money(D("-0.125")) == D("-0.13")
    assert str(round_money(D("-0.004"))) == "0.00"
    # The sales totals use the very same function.
    from kundenakte.plugins.sales.totals import round_cents

    assert round_cents is round_money


@pytest.mark.parametrize(
    ("value", "places", "de", "en"),
    [
        (D("1234.5"), None, "1.234,5", "1,234.5"),
        (D("0.3333"), None, "0,3333", "0.3333"),
        (D("1.500"), None, "1,500", "1.500"),  # the value's own digits are kept
        (D("-12"), None, "-12", "-12"),
        (D("2.5"), 0, "3", "3"),
        (D("0.125"), 2, "0,13", "0.13"),
        (D("1E+3"), None, "1.000", "1,000"),
        (D("-0"), None, "0", "0"),
        (1536 / 1024, 1, "1,5", "1.5"),
    ],
)
def test_format_decimal(value: object, places: int | None, de: str, en: str) -> None:
    assert format_decimal(value, "de", places) == de
    assert format_decimal(value, "en", places) == en


@pytest.mark.parametrize(
    ("value", "de", "en"),
    [(D("19"), f"19{NB}%", "19%"), (D("7.5"), f"7,5{NB}%", "7.5%"), (0, f"0{NB}%", "0%")],
)
def test_format_percent(value: object, de: str, en: str) -> None:
    assert format_percent(value, "de") == de
    assert format_percent(value, "en") == en


def test_format_dates() -> None:
    day = dt.date(2026, 3, 5)
    assert format_date(day, "de") == "05.03.2026"
    assert format_date(day, "en") == "Mar 5, 2026"
    assert format_date("2026-03-05", "de") == "05.03.2026"
    assert format_date(dt.datetime(2026, 3, 5, 23, 59), "de") == "05.03.2026"
    assert format_date(None, "de") == ""
    moment = dt.datetime(2026, 3, 5, 9, 5)
    assert format_datetime(moment, "de") == "05.03.2026 09:05"
    assert format_datetime(moment, "en").replace("\u202f", " ") == "Mar 5, 2026 9:05 AM"


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [
        ("1.234", "de", "1234"),
        ("1,5", "de", "1.5"),
        ("1.234,56", "de", "1234.56"),
        ("1234,56", "de", "1234.56"),
        ("1.234.567,8", "de", "1234567.8"),
        (",5", "de", "0.5"),
        ("  42 ", "de", "42"),
        ("\u22123,5", "de", "-3.5"),
        ("+7", "de", "7"),
        ("-0", "de", "0"),
        ("1.234", "en", "1.234"),
        ("1,234.56", "en", "1234.56"),
        ("1234.56", "en", "1234.56"),
        ("1234.56", None, "1234.56"),
        ("-0.5", None, "-0.5"),
        (3, "de", "3"),
        (D("1.10"), "de", "1.10"),
        (0.1, "de", "0.1"),  # a JSON float: shortest repr, never the binary value
        (1e20, None, "1E+20"),  # too big is the caller's range check, not "not a number"
    ],
)
def test_parse_decimal_accepts(text: object, locale: str | None, value: str) -> None:
    number = parse_decimal(text, locale)
    assert number == D(value) and str(number) == value


@pytest.mark.parametrize(
    ("text", "locale", "suggestions"),
    [
        ("1.5", "de", ("15", "1,5")),
        ("1234.56", "de", ("123.456", "1.234,56")),
        ("12.34,56", "de", ("1.234,56", "12,3456")),
        ("1,5", "en", ("15", "1.5")),
    ],
)
def test_parse_decimal_names_the_readings_of_ambiguous_input(text: str, locale: str, suggestions: tuple[str, ...]) -> None:
    with pytest.raises(NumberInputError) as info:
        parse_decimal(text, locale)
    assert info.value.kind == "ambiguous"
    assert info.value.suggestions == suggestions
    message = str(info.value)
    assert f"„{text}“ ist mehrdeutig" in message and all(f"„{s}“" in message for s in suggestions)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1e3", "NaN", "Infinity", "1 234", "--1", "12 €", True, None, D("NaN"), [1], float("nan"), float("inf")],
)
@pytest.mark.parametrize("locale", ["de", "en", None])
def test_parse_decimal_rejects(text: object, locale: str | None) -> None:
    with pytest.raises(NumberInputError) as info:
        parse_decimal(text, locale)
    assert info.value.kind == "invalid"
    assert str(info.value).startswith("Bitte eine Zahl angeben, z. B. ")


def test_parse_decimal_example_is_in_the_locale() -> None:
    for locale, example in (("de", "1.234,56"), ("en", "1,234.56"), (None, "1234.56")):
        with pytest.raises(NumberInputError, match=re.escape(f"z. B. {example}.")):
            parse_decimal("x", locale)


def test_parse_decimal_suffixes() -> None:
    assert parse_decimal("12,50 €", "de", ("€", "EUR")) == D("12.50")
    assert parse_decimal("12,50EUR", "de", ("€", "EUR")) == D("12.50")
    assert parse_decimal("19 %", "de", ("%",)) == D("19")


amounts = st.decimals(min_value=D("-1e12"), max_value=D("1e12"), places=2, allow_nan=False, allow_infinity=False)


@given(amounts, st.sampled_from(["de", "en"]))
def test_property_money_round_trips(amount: D, locale: str) -> None:
    text = format_money(amount, locale)
    assert parse_decimal(text.replace("€", ""), locale) == amount


@given(st.decimals(min_value=D("-1e9"), max_value=D("1e9"), places=4, allow_nan=False, allow_infinity=False),
       st.sampled_from(["de", "en"]))
def test_property_number_round_trips(number: D, locale: str) -> None:
    text = format_decimal(number, locale)
    parsed = parse_decimal(text, locale)
    assert parsed == number and str(parsed) == str(number if number else abs(number))


# -- one formatter -------------------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "kundenakte"
# Names and idioms of the formatters and parsers that kundenakte.core.formatting replaced, and the
# ways of formatting numbers or dates by hand that would start a second one.
FORBIDDEN = [
    (re.compile(r"\bdef (money|date_de|format_money|format_number|format_eur|format_date|format_decimal|"
                r"format_percent|format_datetime|parse_decimal|parse_decimal_de)\b"), "a second formatter or parser"),
    (re.compile(r"\b(parse_decimal_de|format_eur|date_de|doc_money|doc_date|doc_number)\b"), "an old formatter's name"),
    (re.compile(r"strftime\("), "strftime (use the date/datetime filters or kundenakte.core.formatting)"),
    (re.compile(r"[:%][,.]?\.?\d*[,_]?\.\d+f\b"), "a float format spec ({:.2f}, %.2f)"),
    (re.compile(r"""replace\(\s*["']\.["']\s*,\s*["'],["']\s*\)"""), "swapping separators by hand"),
]
# The one formatter, and places that format for machines, not people.
ALLOWED = {
    Path("core/formatting.py"),
    Path("web/formats.py"),  # the request-locale wrappers (def money/number/date/…)
}


def test_no_second_formatter_is_left() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix not in (".py", ".html", ".txt") or "translations" in path.parts:
            continue
        rel = path.relative_to(PACKAGE)
        if rel in ALLOWED:
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pattern, what in FORBIDDEN:
                if pattern.search(line):
                    offenders.append(f"{rel}:{lineno}: {what}: {line.strip()}")
    assert offenders == []
