from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kundenakte.plugins.contracts.deadlines import (
    Contract,
    add_months,
    current_term_end,
    is_deadline_near,
    is_ended,
    last_day_of_month,
    latest_notice_date,
    next_possible_end,
    notice_deadline,
    notice_period_end,
    term_end,
    validate_contract,
)

d = dt.date


# --------------------------------------------------------------------------------------------
# calendar arithmetic


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (d(2026, 1, 31), 1, d(2026, 2, 28)),
        (d(2028, 1, 31), 1, d(2028, 2, 29)),
        (d(2028, 2, 29), 12, d(2029, 2, 28)),
        (d(2026, 3, 31), -1, d(2026, 2, 28)),
        (d(2026, 5, 31), -3, d(2026, 2, 28)),
        (d(2026, 1, 15), -13, d(2024, 12, 15)),
        (d(2026, 12, 31), 2, d(2027, 2, 28)),
        (d(2026, 8, 31), 1, d(2026, 9, 30)),
    ],
)
def test_add_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


def test_last_day_of_month() -> None:
    assert last_day_of_month(d(2028, 2, 3)) == d(2028, 2, 29)
    assert last_day_of_month(d(2100, 2, 3)) == d(2100, 2, 28)  # not a leap year


@pytest.mark.parametrize(
    ("end", "period", "expected"),
    [
        # The brief's example: 3 months to 31 May.
        (d(2026, 5, 31), (3, "months"), d(2026, 2, 28)),
        (d(2028, 5, 31), (3, "months"), d(2028, 2, 29)),
        # Month ends count back to month ends, even when the earlier month is longer.
        (d(2026, 6, 30), (3, "months"), d(2026, 3, 31)),
        (d(2026, 2, 28), (1, "months"), d(2026, 1, 31)),
        (d(2026, 4, 30), (1, "months"), d(2026, 3, 31)),
        (d(2029, 2, 28), (1, "years"), d(2028, 2, 29)),
        (d(2026, 12, 31), (1, "years"), d(2025, 12, 31)),
        # Other days count back to the same day number, clamped.
        (d(2026, 6, 15), (1, "months"), d(2026, 5, 15)),
        (d(2026, 3, 30), (1, "months"), d(2026, 2, 28)),
        (d(2028, 3, 30), (1, "months"), d(2028, 2, 29)),
        (d(2026, 5, 30), (1, "months"), d(2026, 4, 30)),
        # Days and weeks simply count.
        (d(2026, 12, 31), (6, "weeks"), d(2026, 11, 19)),
        (d(2026, 12, 31), (14, "days"), d(2026, 12, 17)),
        (d(2028, 3, 1), (1, "days"), d(2028, 2, 29)),
        (d(2026, 12, 31), (0, "months"), d(2026, 12, 31)),
    ],
)
def test_latest_notice_date(end: dt.date, period: tuple[int, str], expected: dt.date) -> None:
    assert latest_notice_date(end, period) == expected
    # Notice on the deadline still works, one day later no longer does.
    assert notice_period_end(expected, period) <= end
    assert notice_period_end(expected + dt.timedelta(days=1), period) > end


def test_notice_period_end() -> None:
    assert notice_period_end(d(2026, 1, 31), (1, "months")) == d(2026, 2, 28)
    assert notice_period_end(d(2026, 2, 28), (3, "months")) == d(2026, 5, 28)
    assert notice_period_end(d(2026, 1, 1), (2, "weeks")) == d(2026, 1, 15)
    assert notice_period_end(d(2026, 1, 1), (30, "days")) == d(2026, 1, 31)


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (d(2026, 1, 1), (1, "years"), d(2026, 12, 31)),
        (d(2027, 3, 1), (1, "years"), d(2028, 2, 29)),
        (d(2028, 3, 1), (1, "years"), d(2029, 2, 28)),
        (d(2026, 1, 31), (1, "months"), d(2026, 2, 28)),
        (d(2028, 1, 31), (1, "months"), d(2028, 2, 29)),
        (d(2028, 1, 30), (1, "months"), d(2028, 2, 29)),
        (d(2028, 1, 29), (1, "months"), d(2028, 2, 28)),
        (d(2026, 1, 15), (1, "months"), d(2026, 2, 14)),
        (d(2026, 2, 1), (1, "months"), d(2026, 2, 28)),
        (d(2026, 1, 1), (2, "weeks"), d(2026, 1, 14)),
        (d(2026, 1, 1), (10, "days"), d(2026, 1, 10)),
    ],
)
def test_term_end(start: dt.date, period: tuple[int, str], expected: dt.date) -> None:
    assert term_end(start, period) == expected


# --------------------------------------------------------------------------------------------
# current_term_end


def test_current_term_end_indefinite_is_none() -> None:
    contract = Contract(d(2020, 1, 1), None, (1, "months"), "end_of_month")
    assert current_term_end(contract, d(2026, 1, 1)) is None


def test_current_term_end_without_renewal_returns_end_even_when_past() -> None:
    contract = Contract(d(2025, 1, 1), d(2025, 12, 31), (3, "months"))
    assert current_term_end(contract, d(2025, 6, 1)) == d(2025, 12, 31)
    assert current_term_end(contract, d(2026, 6, 1)) == d(2025, 12, 31)
    assert is_ended(contract, d(2026, 1, 1))
    assert not is_ended(contract, d(2025, 12, 31))


def test_current_term_end_rolls_several_times() -> None:
    contract = Contract(d(2020, 1, 1), d(2020, 12, 31), (3, "months"), auto_renewal=(1, "years"))
    assert current_term_end(contract, d(2020, 6, 1)) == d(2020, 12, 31)
    assert current_term_end(contract, d(2026, 3, 15)) == d(2026, 12, 31)
    assert current_term_end(contract, d(2026, 12, 31)) == d(2026, 12, 31)  # the end day is still in the term
    assert current_term_end(contract, d(2027, 1, 1)) == d(2027, 12, 31)
    assert not is_ended(contract, d(2030, 1, 1))


def test_current_term_end_rolls_into_leap_february() -> None:
    contract = Contract(d(2025, 3, 1), d(2026, 2, 28), (1, "months"), auto_renewal=(1, "years"))
    assert current_term_end(contract, d(2027, 6, 1)) == d(2028, 2, 29)
    assert current_term_end(contract, d(2028, 3, 1)) == d(2029, 2, 28)


def test_current_term_end_monthly_renewal_stays_on_month_ends() -> None:
    contract = Contract(d(2025, 2, 1), d(2026, 1, 31), (1, "months"), auto_renewal=(1, "months"))
    assert current_term_end(contract, d(2026, 2, 10)) == d(2026, 2, 28)
    assert current_term_end(contract, d(2026, 3, 10)) == d(2026, 3, 31)
    assert current_term_end(contract, d(2026, 4, 15)) == d(2026, 4, 30)


def test_current_term_end_mid_month_half_year_renewal() -> None:
    contract = Contract(d(2025, 1, 15), d(2026, 1, 14), (1, "months"), auto_renewal=(6, "months"))
    assert current_term_end(contract, d(2026, 1, 15)) == d(2026, 7, 14)
    assert current_term_end(contract, d(2026, 8, 1)) == d(2027, 1, 14)


# --------------------------------------------------------------------------------------------
# notice_deadline: fixed terms


def test_end_of_term_with_yearly_renewal() -> None:
    contract = Contract(d(2025, 1, 1), d(2026, 12, 31), (3, "months"), auto_renewal=(1, "years"))
    assert notice_deadline(contract, d(2026, 6, 1)) == d(2026, 9, 30)
    assert notice_deadline(contract, d(2026, 9, 30)) == d(2026, 9, 30)  # the last day itself
    # One day late: the contract renews, the next chance is a year later.
    assert notice_deadline(contract, d(2026, 10, 1)) == d(2027, 9, 30)
    assert next_possible_end(contract, d(2026, 10, 1)) == d(2027, 12, 31)
    # Several renewals later.
    assert notice_deadline(contract, d(2031, 11, 11)) == d(2032, 9, 30)


def test_three_months_to_31_may_and_leap_year() -> None:
    contract = Contract(d(2025, 6, 1), d(2026, 5, 31), (3, "months"), auto_renewal=(1, "years"))
    assert notice_deadline(contract, d(2026, 1, 10)) == d(2026, 2, 28)
    assert notice_deadline(contract, d(2027, 12, 1)) == d(2028, 2, 29)
    assert next_possible_end(contract, d(2027, 12, 1)) == d(2028, 5, 31)
    assert notice_deadline(contract, d(2028, 3, 1)) == d(2029, 2, 28)


def test_notice_longer_than_renewal_skips_several_terms() -> None:
    contract = Contract(d(2025, 2, 1), d(2026, 1, 31), (3, "months"), auto_renewal=(1, "months"))
    # Jan 31 needs notice by Oct 31, Feb 28 by Nov 30, Mar 31 by Dec 31, Apr 30 by Jan 31.
    assert next_possible_end(contract, d(2026, 1, 10)) == d(2026, 4, 30)
    assert notice_deadline(contract, d(2026, 1, 10)) == d(2026, 1, 31)
    assert notice_deadline(contract, d(2026, 2, 1)) == d(2026, 2, 28)


def test_weeks_and_days_to_end_of_term() -> None:
    weeks = Contract(d(2025, 7, 1), d(2026, 6, 30), (4, "weeks"), auto_renewal=(1, "years"))
    assert notice_deadline(weeks, d(2026, 1, 1)) == d(2026, 6, 2)
    days = Contract(d(2026, 1, 1), d(2026, 12, 31), (30, "days"), auto_renewal=(1, "years"))
    assert notice_deadline(days, d(2026, 1, 1)) == d(2026, 12, 1)
    zero = Contract(d(2026, 1, 1), d(2026, 12, 31), (0, "days"), auto_renewal=(1, "years"))
    assert notice_deadline(zero, d(2026, 12, 31)) == d(2026, 12, 31)


def test_fixed_term_ignores_notice_to_grid() -> None:
    # A fixed-term contract ends only at its term end (§ 620 BGB), whatever notice_to says.
    contract = Contract(d(2026, 1, 1), d(2026, 12, 31), (1, "months"), "end_of_month", auto_renewal=(1, "years"))
    assert next_possible_end(contract, d(2026, 2, 1)) == d(2026, 12, 31)
    assert notice_deadline(contract, d(2026, 2, 1)) == d(2026, 11, 30)


def test_non_renewing_contract() -> None:
    contract = Contract(d(2026, 1, 1), d(2026, 12, 31), (3, "months"))
    assert notice_deadline(contract, d(2026, 6, 1)) == d(2026, 9, 30)
    # Deadline passed: it ends on Dec 31 anyway, nothing to remind of.
    assert notice_deadline(contract, d(2026, 10, 1)) is None
    assert next_possible_end(contract, d(2026, 10, 1)) == d(2026, 12, 31)


def test_contract_already_ended() -> None:
    contract = Contract(d(2024, 1, 1), d(2024, 12, 31), (1, "months"))
    today = d(2026, 3, 1)
    assert next_possible_end(contract, today) is None
    assert notice_deadline(contract, today) is None
    assert not is_deadline_near(contract, today)


# --------------------------------------------------------------------------------------------
# notice_deadline: indefinite contracts


def test_indefinite_end_of_month() -> None:
    contract = Contract(d(2024, 1, 1), None, (1, "months"), "end_of_month")
    assert next_possible_end(contract, d(2026, 1, 15)) == d(2026, 2, 28)
    assert notice_deadline(contract, d(2026, 1, 15)) == d(2026, 1, 31)
    assert notice_deadline(contract, d(2026, 1, 31)) == d(2026, 1, 31)
    assert next_possible_end(contract, d(2026, 2, 1)) == d(2026, 3, 31)
    assert notice_deadline(contract, d(2026, 2, 1)) == d(2026, 2, 28)


def test_indefinite_end_of_month_leap_year() -> None:
    contract = Contract(d(2024, 1, 1), None, (3, "months"), "end_of_month")
    assert next_possible_end(contract, d(2028, 2, 10)) == d(2028, 5, 31)
    assert notice_deadline(contract, d(2028, 2, 10)) == d(2028, 2, 29)
    assert notice_deadline(contract, d(2028, 2, 29)) == d(2028, 2, 29)
    assert next_possible_end(contract, d(2028, 3, 1)) == d(2028, 6, 30)
    assert notice_deadline(contract, d(2028, 3, 1)) == d(2028, 3, 31)


def test_indefinite_end_of_quarter_months() -> None:
    contract = Contract(d(2020, 1, 1), None, (3, "months"), "end_of_quarter")
    assert next_possible_end(contract, d(2026, 3, 31)) == d(2026, 6, 30)
    assert notice_deadline(contract, d(2026, 3, 31)) == d(2026, 3, 31)
    assert next_possible_end(contract, d(2026, 4, 1)) == d(2026, 9, 30)
    assert notice_deadline(contract, d(2026, 4, 1)) == d(2026, 6, 30)
    assert next_possible_end(contract, d(2026, 10, 15)) == d(2027, 3, 31)
    assert notice_deadline(contract, d(2026, 10, 15)) == d(2026, 12, 31)


def test_indefinite_six_weeks_to_end_of_quarter() -> None:
    contract = Contract(d(2020, 1, 1), None, (6, "weeks"), "end_of_quarter")
    assert notice_deadline(contract, d(2026, 2, 15)) == d(2026, 2, 17)
    assert next_possible_end(contract, d(2026, 2, 18)) == d(2026, 6, 30)
    assert notice_deadline(contract, d(2026, 2, 18)) == d(2026, 5, 19)


def test_indefinite_any_day() -> None:
    days = Contract(d(2020, 1, 1), None, (14, "days"), "any_day")
    assert next_possible_end(days, d(2026, 3, 10)) == d(2026, 3, 24)
    assert notice_deadline(days, d(2026, 3, 10)) == d(2026, 3, 10)
    # Clamping makes notice on Jan 31 reach Feb 28 as well, so the deadline is a day later.
    months = Contract(d(2020, 1, 1), None, (1, "months"), "any_day")
    assert next_possible_end(months, d(2026, 1, 30)) == d(2026, 2, 28)
    assert notice_deadline(months, d(2026, 1, 30)) == d(2026, 1, 31)


def test_indefinite_not_started_yet() -> None:
    contract = Contract(d(2026, 6, 1), None, (1, "months"), "end_of_month")
    assert next_possible_end(contract, d(2026, 1, 10)) == d(2026, 6, 30)
    assert notice_deadline(contract, d(2026, 1, 10)) == d(2026, 5, 31)


def test_indefinite_end_of_term_has_no_deadline() -> None:
    contract = Contract(d(2020, 1, 1), None, (3, "months"), "end_of_term")
    assert next_possible_end(contract, d(2026, 1, 1)) is None
    assert notice_deadline(contract, d(2026, 1, 1)) is None
    assert not is_deadline_near(contract, d(2026, 1, 1))


def test_indefinite_ignores_auto_renewal() -> None:
    contract = Contract(d(2020, 1, 1), None, (1, "months"), "end_of_month", auto_renewal=(1, "years"))
    assert notice_deadline(contract, d(2026, 1, 15)) == d(2026, 1, 31)
    assert current_term_end(contract, d(2026, 1, 15)) is None


# --------------------------------------------------------------------------------------------
# is_deadline_near


def test_is_deadline_near() -> None:
    contract = Contract(d(2025, 1, 1), d(2026, 12, 31), (3, "months"), auto_renewal=(1, "years"))
    # Deadline 2026-09-30.
    assert is_deadline_near(contract, d(2026, 8, 1))  # exactly 60 days ahead
    assert not is_deadline_near(contract, d(2026, 7, 31))  # 61 days
    assert is_deadline_near(contract, d(2026, 7, 31), within_days=90)
    assert is_deadline_near(contract, d(2026, 9, 30))  # today is the last day
    assert not is_deadline_near(contract, d(2026, 10, 1))  # rolled on to 2027-09-30
    assert not is_deadline_near(contract, d(2026, 9, 1), within_days=0)
    assert is_deadline_near(contract, d(2026, 9, 30), within_days=0)


# --------------------------------------------------------------------------------------------
# validation


def test_validate_contract_messages() -> None:
    assert validate_contract(Contract(d(2026, 1, 1), d(2026, 12, 31), (3, "months"), auto_renewal=(1, "years"))) == []
    assert validate_contract(Contract(d(2026, 1, 1), None, (3, "months"), "end_of_month")) == []
    errors = validate_contract(
        Contract(d(2026, 1, 1), None, (-1, "fortnights"), "end_of_term", auto_renewal=(0, "years"))  # type: ignore[arg-type]
    )
    assert errors == [
        "Die Kündigungsfrist braucht eine ganze Zahl ≥ 0 und eine Einheit (Tage, Wochen, Monate, Jahre).",
        "Die automatische Verlängerung braucht eine ganze Zahl ≥ 1 und eine Einheit.",
        "Eine automatische Verlängerung setzt ein Vertragsende voraus.",
        "Ein unbefristeter Vertrag hat kein Laufzeitende; bitte „zum Monatsende“, „zum Quartalsende“ oder „jederzeit“ wählen.",
    ]
    assert validate_contract(Contract(d(2026, 1, 1), d(2025, 12, 31), (1, "months"))) == [
        "Das Vertragsende liegt vor dem Vertragsbeginn."
    ]
    assert validate_contract(Contract(d(2026, 1, 1), d(2026, 12, 31), (1, "months"), "someday")) == [  # type: ignore[arg-type]
        "Unbekannter Kündigungstermin."
    ]


@pytest.mark.parametrize(
    "contract",
    [
        Contract(d(2026, 1, 1), d(2025, 1, 1), (1, "months")),
        Contract(d(2026, 1, 1), d(2026, 12, 31), (1, "month")),  # type: ignore[arg-type]
        Contract(d(2026, 1, 1), d(2026, 12, 31), (-1, "months")),
        Contract(d(2026, 1, 1), d(2026, 12, 31), (1.5, "months")),  # type: ignore[arg-type]
        Contract(d(2026, 1, 1), d(2026, 12, 31), (1, "months"), auto_renewal=(0, "years")),
        Contract(d(2026, 1, 1), d(2026, 12, 31), (1, "months"), "sometimes"),  # type: ignore[arg-type]
    ],
)
def test_invalid_contracts_raise(contract: Contract) -> None:
    with pytest.raises(ValueError):
        notice_deadline(contract, d(2026, 6, 1))


def test_accepts_json_lists_and_duck_typed_objects() -> None:
    class Row:
        start = d(2026, 1, 1)
        end = d(2026, 12, 31)
        notice_period = [3, "months"]
        notice_to = "end_of_term"
        auto_renewal = [1, "years"]

    assert notice_deadline(Row(), d(2026, 1, 1)) == d(2026, 9, 30)


# --------------------------------------------------------------------------------------------
# properties

dates = st.dates(min_value=d(2020, 1, 1), max_value=d(2032, 12, 31))
notice_periods = st.one_of(
    st.tuples(st.integers(0, 24), st.just("months")),
    st.tuples(st.integers(0, 2), st.just("years")),
    st.tuples(st.integers(0, 60), st.just("weeks")),
    st.tuples(st.integers(0, 400), st.just("days")),
)
renewals = st.one_of(
    st.tuples(st.integers(1, 24), st.just("months")),
    st.tuples(st.integers(1, 3), st.just("years")),
)


@settings(max_examples=300)
@given(dates, notice_periods)
def test_property_latest_notice_date_is_the_largest_working_day(end: dt.date, period: tuple[int, str]) -> None:
    deadline = latest_notice_date(end, period)
    assert notice_period_end(deadline, period) <= end
    # Brute force: no later day works either (the period end never moves backwards).
    for offset in range(1, 40):
        assert notice_period_end(deadline + dt.timedelta(days=offset), period) > end


def _on_grid(day: dt.date, notice_to: str) -> bool:
    if notice_to == "any_day":
        return True
    if notice_to == "end_of_month":
        return day == last_day_of_month(day)
    return day == last_day_of_month(day) and day.month % 3 == 0


@settings(max_examples=200)
@given(dates, notice_periods, st.sampled_from(["end_of_month", "end_of_quarter", "any_day"]), dates)
def test_property_indefinite_deadline_is_earliest_reachable_end(
    start: dt.date, period: tuple[int, str], notice_to: str, today: dt.date
) -> None:
    contract = Contract(start, None, period, notice_to)  # type: ignore[arg-type]
    end = next_possible_end(contract, today)
    deadline = notice_deadline(contract, today)
    assert end is not None and deadline is not None
    assert _on_grid(end, notice_to) and end >= start
    assert today <= deadline
    assert notice_period_end(deadline, period) <= end < notice_period_end(deadline + dt.timedelta(days=1), period)
    # No earlier possible end date could still be reached by notice given today.
    day = max(today, start)
    while day < end:
        if _on_grid(day, notice_to):
            assert latest_notice_date(day, period) < today
        day += dt.timedelta(days=1)


@settings(max_examples=200)
@given(dates, st.integers(0, 3000), notice_periods, renewals, dates)
def test_property_renewing_contract_deadline(
    start: dt.date, length: int, period: tuple[int, str], renewal: tuple[int, str], today: dt.date
) -> None:
    contract = Contract(start, start + dt.timedelta(days=length), period, auto_renewal=renewal)
    # All term ends up to a few years past today, computed independently by stepping terms.
    ends = [contract.end]
    while ends[-1] < today + dt.timedelta(days=3 * 366 + 800):
        ends.append(term_end(ends[-1] + dt.timedelta(days=1), renewal))

    current = current_term_end(contract, today)
    assert current in ends and current >= today
    index = ends.index(current)
    assert index == 0 or ends[index - 1] < today

    end = next_possible_end(contract, today)
    deadline = notice_deadline(contract, today)
    assert end in ends and deadline is not None
    assert today <= deadline and deadline == latest_notice_date(end, period)
    for earlier in ends[: ends.index(end)]:
        assert earlier < today or latest_notice_date(earlier, period) < today
    assert is_deadline_near(contract, today, within_days=(deadline - today).days)
    assert not is_deadline_near(contract, today, within_days=(deadline - today).days - 1)


@given(dates, st.integers(0, 800), notice_periods, dates)
def test_property_non_renewing_contract(start: dt.date, length: int, period: tuple[int, str], today: dt.date) -> None:
    contract = Contract(start, start + dt.timedelta(days=length), period)
    assert contract.end is not None
    deadline = notice_deadline(contract, today)
    if today > contract.end:
        assert deadline is None and next_possible_end(contract, today) is None and is_ended(contract, today)
    else:
        assert next_possible_end(contract, today) == contract.end
        expected = latest_notice_date(contract.end, period)
        assert deadline == (expected if expected >= today else None)
