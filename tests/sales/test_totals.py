from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kundenakte.plugins.sales.totals import (
    LineItem,
    compute_totals,
    line_net,
    parse_line_items,
    round_cents,
)


def item(quantity: str, price: str, vat: str = "19", discount: str = "0", position: int = 1) -> LineItem:
    return LineItem(
        position=position,
        article="",
        description="Artikel",
        quantity=D(quantity),
        unit="Stk",
        unit_price=D(price),
        discount_percent=D(discount),
        vat_rate=D(vat),
    )


def row(**overrides: str) -> dict[str, str]:
    base = {
        "position": "",
        "article": "A-1",
        "description": "Beratung",
        "quantity": "1",
        "unit": "Std",
        "unit_price": "100",
        "discount_percent": "",
        "vat_rate": "19",
    }
    base.update(overrides)
    return base


# --------------------------------------------------------------------------------------------
# compute_totals


def test_three_times_ten_cents_at_19_percent() -> None:
    totals = compute_totals([item("3", "0.10", "19")])
    assert totals.net == D("0.30")
    # 0.30 × 19 % = 0.057 → 0.06
    assert totals.vat_by_rate == {D("19"): (D("0.30"), D("0.06"))}
    assert totals.vat_total == D("0.06")
    assert totals.gross == D("0.36")


def test_three_times_ten_cents_at_7_percent() -> None:
    totals = compute_totals([item("3", "0.10", "7")])
    # 0.30 × 7 % = 0.021 → 0.02
    assert totals.vat_by_rate == {D("7"): (D("0.30"), D("0.02"))}
    assert totals.gross == D("0.32")


def test_vat_is_computed_per_rate_not_per_line() -> None:
    # Per line 0.03 × 19 % = 0.0057 → 0.01 each, 0.03 in all; per rate 0.09 × 19 % = 0.0171 → 0.02.
    totals = compute_totals([item("1", "0.03", position=p) for p in (1, 2, 3)])
    assert totals.vat_by_rate[D("19")] == (D("0.09"), D("0.02"))
    assert totals.gross == D("0.11")


def test_line_net_is_rounded_half_up_per_line() -> None:
    # 1/3 hour at 100 € = 33.33 €; three such lines show 99.99 €, not 100.00 €.
    third = item("0.3333", "100")
    assert line_net(third) == D("33.33")
    totals = compute_totals([third, third, third])
    assert totals.net == D("99.99")
    assert totals.line_nets == (D("33.33"),) * 3


def test_half_cent_rounds_up() -> None:
    assert line_net(item("1", "0.005")) == D("0.01")
    assert line_net(item("1", "0.0049")) == D("0.00")
    assert line_net(item("1", "2.345")) == D("2.35")


def test_discount() -> None:
    assert line_net(item("2", "49.99", discount="10")) == D("89.98")  # 89.982
    assert line_net(item("1", "0.15", discount="50")) == D("0.08")  # 0.075 → 0.08
    assert line_net(item("7", "13.37", discount="33.33")) == D("62.40")  # 62.396453


def test_full_discount_yields_zero() -> None:
    totals = compute_totals([item("5", "99.99", discount="100")])
    assert totals.net == D("0.00")
    assert totals.vat_by_rate == {D("19"): (D("0.00"), D("0.00"))}
    assert totals.gross == D("0.00")
    assert str(totals.gross) == "0.00"


def test_zero_percent_vat_is_listed_separately() -> None:
    totals = compute_totals([item("1", "100", "0"), item("1", "100", "19", position=2), item("2", "10", "7", position=3)])
    assert list(totals.vat_by_rate) == [D("19"), D("7"), D("0")]
    assert totals.vat_by_rate[D("0")] == (D("100.00"), D("0.00"))
    assert totals.vat_by_rate[D("7")] == (D("20.00"), D("1.40"))
    assert totals.net == D("220.00")
    assert totals.vat_total == D("20.40")
    assert totals.gross == D("240.40")


def test_equal_rates_with_different_exponents_share_one_bucket() -> None:
    totals = compute_totals([item("1", "10", "19"), item("1", "10", "19.00", position=2)])
    assert list(totals.vat_by_rate) == [D("19")]
    assert str(next(iter(totals.vat_by_rate))) == "19"
    assert totals.vat_by_rate[D("19")] == (D("20.00"), D("3.80"))


def test_credit_note_with_negative_quantities() -> None:
    totals = compute_totals([item("-3", "0.10", "19")])
    assert totals.net == D("-0.30")
    assert totals.vat_by_rate[D("19")] == (D("-0.30"), D("-0.06"))
    assert totals.gross == D("-0.36")


def test_negative_ties_round_away_from_zero() -> None:
    assert line_net(item("-1", "0.005")) == D("-0.01")
    assert line_net(item("1", "-2.345")) == D("-2.35")


def test_mixed_positive_and_negative_lines() -> None:
    totals = compute_totals([item("1", "100"), item("1", "-20", position=2)])
    assert totals.net == D("80.00")
    assert totals.vat_total == D("15.20")
    assert totals.gross == D("95.20")


def test_large_numbers_stay_exact() -> None:
    # 28 significant digits is Decimal's default precision; this product has more.
    big = item("999999999999.9999", "999999999999.9999")
    assert line_net(big) == D("999999999999999800000000.0000").quantize(D("0.01"))
    totals = compute_totals([big])
    assert totals.vat_by_rate[D("19")][1] == D("189999999999999962000000.00")
    assert totals.gross == totals.net + totals.vat_total


def test_empty_voucher() -> None:
    totals = compute_totals([])
    assert (totals.net, totals.vat_total, totals.gross) == (D("0.00"), D("0.00"), D("0.00"))
    assert totals.vat_by_rate == {}


def test_line_item_rejects_float_and_bad_ranges() -> None:
    with pytest.raises(TypeError):
        LineItem(1, "", "x", 1.5, "Stk", D("1"), D("0"), D("19"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        item("1", "1", discount="100.01")
    with pytest.raises(ValueError):
        item("1", "1", vat="-7")
    with pytest.raises(ValueError):
        item("NaN", "1")


def test_round_cents_never_returns_negative_zero() -> None:
    assert str(round_cents(D("-0.004"))) == "0.00"


amounts = st.decimals(min_value=D("-99999999"), max_value=D("99999999"), places=4, allow_nan=False, allow_infinity=False)
line_items = st.builds(
    LineItem,
    position=st.integers(1, 999),
    article=st.just(""),
    description=st.just("x"),
    quantity=amounts,
    unit=st.just("Stk"),
    unit_price=amounts,
    discount_percent=st.decimals(min_value=0, max_value=100, places=2),
    vat_rate=st.sampled_from([D("19"), D("7"), D("0"), D("19.0"), D("5.5")]),
)


@settings(max_examples=300)
@given(st.lists(line_items, max_size=12))
def test_property_gross_is_net_plus_vat_and_cents_everywhere(items: list[LineItem]) -> None:
    totals = compute_totals(items)
    assert totals.gross == totals.net + totals.vat_total
    assert totals.net == sum(totals.line_nets, D("0"))
    assert totals.net == sum((base for base, _ in totals.vat_by_rate.values()), D("0"))
    assert totals.vat_total == sum((tax for _, tax in totals.vat_by_rate.values()), D("0"))
    for amount in (*totals.line_nets, totals.net, totals.vat_total, totals.gross):
        assert amount.as_tuple().exponent == -2
    for base, tax in totals.vat_by_rate.values():
        assert base.as_tuple().exponent == -2 and tax.as_tuple().exponent == -2


@settings(max_examples=200)
@given(st.lists(line_items, max_size=8))
def test_property_negated_quantities_negate_totals(items: list[LineItem]) -> None:
    from dataclasses import replace

    negated = [replace(i, quantity=-i.quantity) for i in items]
    a, b = compute_totals(items), compute_totals(negated)
    assert b.net == -a.net and b.vat_total == -a.vat_total and b.gross == -a.gross


@given(line_items)
def test_property_line_net_within_half_cent_of_exact(line: LineItem) -> None:
    exact = line.quantity * line.unit_price * (1 - line.discount_percent / 100)
    assert abs(line_net(line) - exact) <= D("0.005")


# Formatting and reading single numbers: tests/test_formatting.py (kundenakte.core.formatting).


# --------------------------------------------------------------------------------------------
# parse_line_items


def test_parse_line_items_happy_path() -> None:
    items, errors = parse_line_items(
        [
            row(quantity="1,5", unit_price="1.234,56 €", discount_percent="10 %", vat_rate="19 %"),
            row(position="7", article="", description="Versand", quantity="1", unit="", unit_price="4,90", vat_rate="7"),
        ]
    )
    assert errors == {}
    first, second = items
    assert first == LineItem(1, "A-1", "Beratung", D("1.5"), "Std", D("1234.56"), D("10"), D("19"))
    assert second.position == 7 and second.unit == "Stk" and second.vat_rate == D("7")
    assert line_net(first) == D("1666.66")  # 1.5 × 1234.56 × 0.9 = 1666.656


def test_parse_line_items_error_messages() -> None:
    items, errors = parse_line_items(
        [
            row(quantity="viel"),
            row(discount_percent="120"),
            row(discount_percent="-1"),
            row(vat_rate="16"),
            row(vat_rate="neunzehn"),
            row(unit_price="", quantity=""),
            row(article="", description=" "),
            row(unit_price="gratis"),
        ]
    )
    assert items == []
    assert errors[0] == {"quantity": "Menge muss eine Zahl sein"}
    assert errors[1] == {"discount_percent": "Rabatt muss zwischen 0 und 100 % liegen"}
    assert errors[2] == {"discount_percent": "Rabatt muss zwischen 0 und 100 % liegen"}
    assert errors[3] == {"vat_rate": "Unbekannter Steuersatz"}
    assert errors[4] == {"vat_rate": "Steuersatz muss eine Zahl sein"}
    assert errors[5] == {"quantity": "Menge fehlt", "unit_price": "Einzelpreis fehlt"}
    assert errors[6] == {"description": "Bezeichnung fehlt"}
    assert errors[7] == {"unit_price": "Einzelpreis muss eine Zahl sein"}


def test_parse_line_items_keeps_good_rows_and_indexes_errors_by_row() -> None:
    items, errors = parse_line_items([row(), row(quantity="x"), row()])
    assert [i.position for i in items] == [1, 3]
    assert list(errors) == [1]


def test_parse_line_items_ambiguous_number_message() -> None:
    _, errors = parse_line_items([row(quantity="1.5")])
    message = errors[0]["quantity"]
    assert message.startswith("Menge: ") and "mehrdeutig" in message and "„1,5“" in message and "„15“" in message


def test_parse_line_items_reads_the_form_locale() -> None:
    items, errors = parse_line_items([row(quantity="1.500", unit_price="1,234.5")], locale="en")
    assert errors == {} and (items[0].quantity, items[0].unit_price) == (D("1.500"), D("1234.5"))
    items, errors = parse_line_items([row(quantity="1.500")])  # German: a thousands separator
    assert errors == {} and items[0].quantity == D("1500")


def test_parse_line_items_skips_blank_rows() -> None:
    items, errors = parse_line_items([row(), {"quantity": " ", "description": ""}, {}])
    assert len(items) == 1 and errors == {}


def test_parse_line_items_positions() -> None:
    _, errors = parse_line_items([row(position="1"), row(position="1"), row(position="0"), row(position="a")])
    assert errors == {
        1: {"position": "Position ist doppelt vergeben"},
        2: {"position": "Position muss eine positive ganze Zahl sein"},
        3: {"position": "Position muss eine positive ganze Zahl sein"},
    }


def test_parse_line_items_credit_note_quantities_and_negative_prices() -> None:
    items, errors = parse_line_items([row(quantity="-2"), row(unit_price="-50,00")])
    assert errors == {}
    assert items[0].quantity == D("-2") and items[1].unit_price == D("-50.00")


def test_parse_line_items_limits() -> None:
    _, errors = parse_line_items(
        [
            row(quantity="0,12345"),
            row(unit_price="1.000.000.000.000"),
            row(unit="x" * 21),
            row(discount_percent="12,345"),
            row(quantity="1,50000"),
        ]
    )
    assert errors[0] == {"quantity": "Menge darf höchstens 4 Nachkommastellen haben"}
    assert errors[1] == {"unit_price": "Einzelpreis ist zu groß"}
    assert "unit" in errors[2]
    assert errors[3] == {"discount_percent": "Rabatt darf höchstens 2 Nachkommastellen haben"}
    assert 4 not in errors  # trailing zeros are not extra precision


def test_parse_line_items_custom_vat_rates_and_normalization() -> None:
    items, errors = parse_line_items([row(vat_rate="16,00"), row(vat_rate="5")], allowed_vat_rates=[D("16"), D("5")])
    assert errors == {}
    assert [str(i.vat_rate) for i in items] == ["16", "5"]
    _, errors = parse_line_items([row(vat_rate="19")], allowed_vat_rates=[D("16")])
    assert errors == {0: {"vat_rate": "Unbekannter Steuersatz"}}


def test_parse_line_items_accepts_json_numbers() -> None:
    items, errors = parse_line_items([{"description": "x", "quantity": 2, "unit_price": 9.99, "vat_rate": 7}])
    assert errors == {}
    assert items[0].unit_price == D("9.99")


field_values = st.one_of(
    st.none(), st.integers(), st.text(alphabet="0123456789.,-+ €%ae", max_size=10), st.text(max_size=6)
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.sampled_from(list(row())), field_values, max_size=8), max_size=4))
def test_property_parse_line_items_never_raises(raw: list[dict[str, object]]) -> None:
    items, errors = parse_line_items(raw)
    assert len(items) + len(errors) <= len(raw)
    for index, field_errors in errors.items():
        assert 0 <= index < len(raw) and field_errors
        assert all(isinstance(m, str) and m for m in field_errors.values())
    compute_totals(items)
