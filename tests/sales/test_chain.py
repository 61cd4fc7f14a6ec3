from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kundenakte.plugins.sales.chain import (
    FOLLOWUPS,
    STATUS_LABELS,
    STATUSES,
    allowed_followups,
    allowed_status_transitions,
    can_transition,
    check_followup,
    check_status_transition,
    copy_lines_for_followup,
)
from kundenakte.plugins.sales.numbering import VOUCHER_TYPES
from kundenakte.plugins.sales.totals import LineItem, compute_totals


def lines() -> list[LineItem]:
    return [
        LineItem(1, "A-1", "Beratung", D("3"), "Std", D("95.00"), D("0"), D("19")),
        LineItem(2, "", "Fachbuch", D("1"), "Stk", D("0.005"), D("10"), D("7")),
        LineItem(3, "", "Optionale Position", D("0"), "Stk", D("10"), D("0"), D("19")),
    ]


# --------------------------------------------------------------------------------------------
# follow-ups


@pytest.mark.parametrize(
    ("source", "targets"),
    [
        ("opportunity", ["quote"]),
        ("price_info", ["quote"]),
        ("quote", ["order_confirmation", "invoice"]),
        ("order_confirmation", ["delivery_note", "invoice"]),
        ("delivery_note", ["invoice"]),
        ("invoice", ["credit_note"]),
        ("credit_note", []),
        ("purchase_order", []),
    ],
)
def test_allowed_followups(source: str, targets: list[str]) -> None:
    assert allowed_followups(source) == targets


def test_every_type_has_an_entry_and_targets_are_known() -> None:
    assert set(FOLLOWUPS) == set(VOUCHER_TYPES)
    assert all(t in VOUCHER_TYPES for targets in FOLLOWUPS.values() for t in targets)


def test_chain_has_no_cycles() -> None:
    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(FOLLOWUPS[start])
        while todo:
            t = todo.pop()
            if t not in seen:
                seen.add(t)
                todo.extend(FOLLOWUPS[t])
        return seen

    assert all(t not in reachable(t) for t in FOLLOWUPS)


def test_full_chain_quote_to_credit_note() -> None:
    path = ["quote", "order_confirmation", "delivery_note", "invoice", "credit_note"]
    for source, target in zip(path, path[1:]):
        assert check_followup(source, target) is None


def test_unknown_type_fails_loudly() -> None:
    with pytest.raises(ValueError):
        allowed_followups("rechnung")
    with pytest.raises(ValueError):
        copy_lines_for_followup(lines(), "bill")


def test_check_followup_message() -> None:
    assert check_followup("credit_note", "invoice") == (
        "Aus einem Beleg vom Typ „Gutschrift“ kann kein Beleg vom Typ „Rechnung“ erstellt werden."
    )
    assert check_followup("delivery_note", "quote") is not None


def test_credit_note_negates_quantities_only() -> None:
    source = lines()
    copies = copy_lines_for_followup(source, "credit_note", source_type="invoice")
    assert [c.quantity for c in copies] == [D("-3"), D("-1"), D("0")]
    assert str(copies[2].quantity) == "0"  # no "-0"
    for original, copy in zip(source, copies):
        assert (copy.unit_price, copy.discount_percent, copy.vat_rate, copy.position, copy.description) == (
            original.unit_price,
            original.discount_percent,
            original.vat_rate,
            original.position,
            original.description,
        )


def test_credit_note_totals_are_exact_negation() -> None:
    invoice = compute_totals(lines())
    credit = compute_totals(copy_lines_for_followup(lines(), "credit_note"))
    assert (credit.net, credit.vat_total, credit.gross) == (-invoice.net, -invoice.vat_total, -invoice.gross)
    assert {r: (-b, -t) for r, (b, t) in invoice.vat_by_rate.items()} == credit.vat_by_rate


@pytest.mark.parametrize("target", ["delivery_note", "invoice", "order_confirmation", "quote"])
def test_other_followups_copy_unchanged(target: str) -> None:
    source = lines()
    copies = copy_lines_for_followup(source, target)
    assert copies == source
    assert all(c is not s for c, s in zip(copies, source))


def test_delivery_note_keeps_prices_for_the_invoice() -> None:
    note = copy_lines_for_followup(lines(), "delivery_note", source_type="order_confirmation")
    invoice = copy_lines_for_followup(note, "invoice", source_type="delivery_note")
    assert compute_totals(invoice) == compute_totals(lines())


def test_copy_checks_transition_when_source_given() -> None:
    with pytest.raises(ValueError, match="Gutschrift"):
        copy_lines_for_followup(lines(), "credit_note", source_type="quote")


def test_copy_of_empty_list() -> None:
    assert copy_lines_for_followup([], "quote", source_type="opportunity") == []


@given(st.lists(st.decimals(min_value=-1000, max_value=1000, places=3), max_size=10))
def test_property_credit_note_of_credit_note_quantities_round_trip(quantities: list[D]) -> None:
    items = [LineItem(i + 1, "", "x", q, "Stk", D("1.99"), D("0"), D("19")) for i, q in enumerate(quantities)]
    twice = copy_lines_for_followup(copy_lines_for_followup(items, "credit_note"), "credit_note")
    assert [i.quantity for i in twice] == quantities


# --------------------------------------------------------------------------------------------
# status machine


def test_status_labels() -> None:
    assert STATUS_LABELS == {"open": "offen", "won": "gewonnen", "lost": "verloren", "discontinued": "eingestellt"}
    assert set(STATUSES) == set(STATUS_LABELS)


@pytest.mark.parametrize(
    ("current", "user_targets", "admin_targets"),
    [
        ("open", ["won", "lost", "discontinued"], ["won", "lost", "discontinued"]),
        ("lost", ["open"], ["open"]),
        ("discontinued", ["open"], ["open"]),
        ("won", [], ["open"]),
    ],
)
def test_allowed_status_transitions(current: str, user_targets: list[str], admin_targets: list[str]) -> None:
    assert allowed_status_transitions(current) == user_targets
    assert allowed_status_transitions(current, is_admin=True) == admin_targets


def test_can_transition() -> None:
    assert can_transition("open", "won")
    assert not can_transition("lost", "won")  # reopen first
    assert not can_transition("won", "open")
    assert can_transition("won", "open", is_admin=True)
    assert not can_transition("won", "lost", is_admin=True)
    assert not can_transition("open", "open")


def test_check_status_transition_messages() -> None:
    assert check_status_transition("open", "open") is None
    assert check_status_transition("won", "won") is None
    assert check_status_transition("open", "lost") is None
    assert check_status_transition("won", "open") == (
        "Ein gewonnener Beleg kann nur von einem Administrator wieder geöffnet werden."
    )
    assert check_status_transition("won", "open", is_admin=True) is None
    assert check_status_transition("won", "lost", is_admin=True) == (
        "Der Status kann nicht von „gewonnen“ auf „verloren“ geändert werden."
    )
    assert check_status_transition("lost", "won") == "Der Status kann nicht von „verloren“ auf „gewonnen“ geändert werden."


def test_unknown_status_fails_loudly() -> None:
    with pytest.raises(ValueError):
        allowed_status_transitions("offen")
    with pytest.raises(ValueError):
        check_status_transition("open", "paid")


@given(st.sampled_from(STATUSES), st.sampled_from(STATUSES), st.booleans())
def test_property_status_rules_consistent(current: str, target: str, is_admin: bool) -> None:
    allowed = can_transition(current, target, is_admin=is_admin)
    assert (check_status_transition(current, target, is_admin=is_admin) is None) == (allowed or current == target)
    # Admins can do everything a user can.
    if can_transition(current, target):
        assert can_transition(current, target, is_admin=True)
    # Every status can get back to "open" (for admins), so nothing is a dead end by accident.
    assert current == "open" or "open" in allowed_status_transitions(current, is_admin=True)
