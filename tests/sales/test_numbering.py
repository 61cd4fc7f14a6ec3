from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kundenakte.plugins.sales.numbering import (
    DEFAULT_PATTERN,
    DEFAULT_PREFIXES,
    VOUCHER_TYPES,
    counter_scope,
    default_pattern_for,
    format_voucher_number,
    scope_year,
    validate_pattern,
    validate_prefix,
)


def test_default_pattern() -> None:
    assert validate_pattern(DEFAULT_PATTERN) == []
    assert format_voucher_number(DEFAULT_PATTERN, prefix="AN", year=2026, counter=42) == "AN-2026-00042"


def test_default_prefixes() -> None:
    assert DEFAULT_PREFIXES == {
        "opportunity": "OP",
        "price_info": "PI",
        "quote": "AN",
        "order_confirmation": "AB",
        "purchase_order": "BE",
        "credit_note": "GS",
        "delivery_note": "LS",
        "invoice": "RE",
    }
    assert set(VOUCHER_TYPES) == set(DEFAULT_PREFIXES)
    assert VOUCHER_TYPES["order_confirmation"] == "Auftragsbestätigung"
    assert all(validate_prefix(p) == [] for p in DEFAULT_PREFIXES.values())
    assert len(set(DEFAULT_PREFIXES.values())) == len(DEFAULT_PREFIXES)


def test_default_pattern_for() -> None:
    assert default_pattern_for("invoice") == DEFAULT_PATTERN
    with pytest.raises(ValueError):
        default_pattern_for("bill")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{prefix}{year}{counter:04d}", "RE20260042"),
        ("{prefix}-{counter}", "RE-42"),
        ("{year}/{counter:06}", "2026/000042"),
        ("{counter}", "42"),
        ("R {year}.{counter:3d}", "R 2026. 42"),
        ("{prefix}_{{{counter}}}", "RE_{42}"),
        ("#{counter:05d}", "#00042"),
    ],
)
def test_format_number_variants(pattern: str, expected: str) -> None:
    assert validate_pattern(pattern) == []
    assert format_voucher_number(pattern, prefix="RE", year=2026, counter=42) == expected


def test_counter_wider_than_padding_is_not_truncated() -> None:
    assert format_voucher_number(DEFAULT_PATTERN, prefix="RE", year=2026, counter=1234567) == "RE-2026-1234567"


def test_must_contain_counter() -> None:
    assert validate_pattern("{prefix}-{year}") == ["Das Nummernformat muss den Platzhalter {counter} enthalten."]
    assert validate_pattern("RE-2026") == ["Das Nummernformat muss den Platzhalter {counter} enthalten."]
    # Escaped braces are text, not a placeholder.
    assert "Das Nummernformat muss den Platzhalter {counter} enthalten." in validate_pattern("{{counter}}")


def test_counter_only_once() -> None:
    assert validate_pattern("{counter}-{counter}") == ["Der Platzhalter {counter} darf nur einmal vorkommen."]


@pytest.mark.parametrize(
    "pattern",
    [
        "{counter.__class__}",
        "{counter.__class__.__init__.__globals__}",
        "{prefix[0]}{counter}",
        "{prefix.upper}{counter}",
        "{0}{counter}",
        "{}{counter}",
        "{customer}{counter}",
        "{Counter}",
        "{ counter }",
    ],
)
def test_rejects_unknown_fields_and_attribute_access(pattern: str) -> None:
    errors = validate_pattern(pattern)
    assert any(e.startswith("Unbekannter Platzhalter") for e in errors), errors
    with pytest.raises(ValueError):
        format_voucher_number(pattern, prefix="RE", year=2026, counter=1)


@pytest.mark.parametrize(
    "pattern",
    [
        "{counter!r}",
        "{counter!s}",
        "{prefix!a}{counter}",
        "{prefix:>10}{counter}",
        "{counter:x}",
        "{counter:,}",
        "{counter:+05d}",
        "{counter:<5}",
        "{counter:0}",
        "{counter:05.2f}",
        "{counter:{year}}",
        "{counter:0{year}d}",
        "{counter:099d}",
        "{counter:013d}",
        "{year:%Y}{counter}",
    ],
)
def test_rejects_format_spec_tricks(pattern: str) -> None:
    assert validate_pattern(pattern) != []
    with pytest.raises(ValueError):
        format_voucher_number(pattern, prefix="RE", year=2026, counter=1)


@pytest.mark.parametrize("pattern", ["{counter", "counter}", "{prefix}-{counter}}", "{{counter}", ""])
def test_rejects_broken_braces_and_empty(pattern: str) -> None:
    assert validate_pattern(pattern) != []


def test_rejects_odd_literal_characters_and_length() -> None:
    assert validate_pattern("RE\n{counter}") != []
    assert validate_pattern("RE<script>{counter}") != []
    assert validate_pattern("X" * 60 + "{counter}") == ["Das Nummernformat darf höchstens 60 Zeichen lang sein."]


def test_errors_are_german_and_unique() -> None:
    errors = validate_pattern("<<{x}>>{x}")
    assert len(errors) == len(set(errors))
    assert "Das Nummernformat muss den Platzhalter {counter} enthalten." in errors


def test_format_number_guards_inputs() -> None:
    with pytest.raises(ValueError):
        format_voucher_number(DEFAULT_PATTERN, prefix="RE", year=2026, counter=0)
    with pytest.raises(ValueError):
        format_voucher_number(DEFAULT_PATTERN, prefix="RE", year=2026, counter=-1)
    with pytest.raises(ValueError):
        format_voucher_number(DEFAULT_PATTERN, prefix="RE", year=26, counter=1)
    with pytest.raises(ValueError):
        format_voucher_number(DEFAULT_PATTERN, prefix="RE", year=2026, counter=True)
    with pytest.raises(ValueError):
        format_voucher_number(DEFAULT_PATTERN, prefix="R E", year=2026, counter=1)
    with pytest.raises(ValueError):
        format_voucher_number(DEFAULT_PATTERN, prefix="{counter}", year=2026, counter=1)


def test_validate_prefix() -> None:
    assert validate_prefix("") == []
    assert validate_prefix("RE-Ü_1") == []
    assert validate_prefix("ABCDEFGHIJK") == ["Das Präfix darf höchstens 10 Zeichen lang sein."]
    assert validate_prefix("R/E") == ["Das Präfix darf nur Buchstaben, Ziffern, „-“ und „_“ enthalten."]


def test_counter_scope() -> None:
    assert counter_scope(DEFAULT_PATTERN) == "year"
    assert counter_scope("{prefix}-{counter:06d}") == "global"
    assert scope_year(DEFAULT_PATTERN, 2026) == 2026
    assert scope_year("{prefix}-{counter:06d}", 2026) == 0


@given(
    prefix=st.sampled_from(sorted(DEFAULT_PREFIXES.values())),
    year=st.integers(2000, 2099),
    counters=st.lists(st.integers(1, 10**7), min_size=2, max_size=20, unique=True),
)
def test_property_distinct_counters_give_distinct_numbers(prefix: str, year: int, counters: list[int]) -> None:
    numbers = [format_voucher_number(DEFAULT_PATTERN, prefix=prefix, year=year, counter=c) for c in counters]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith(f"{prefix}-{year}-") for n in numbers)


@given(st.text(max_size=30))
def test_property_validated_patterns_format_safely(pattern: str) -> None:
    if validate_pattern(pattern) == []:
        result = format_voucher_number(pattern, prefix="RE", year=2026, counter=7)
        assert "7" in result
        assert len(result) <= 60 + 12
