"""Contract terms, renewals and notice deadlines (Kündigungsfristen), without a database.

Conventions
-----------

Dates are whole days; ``end`` is the *last* day of the contract (a one-year contract from
2026-01-01 has ``end = 2026-12-31``). ``end is None`` means an indefinite contract.

**Terms and renewals** (§ 187 (2), § 188 (2) second case, § 188 (3) BGB). A term that starts on day
S and lasts n months ends on the day before the day with S's number n months later; if that month
has no such day, it ends on the month's last day. An auto-renewal appends a new term that starts the
day after the previous end, so a term 2027-03-01 … +1 year ends on 2028-02-29 (leap year) and a
monthly term from 2026-01-31 ends on 2026-02-28. Days and weeks simply count (7 days per week).
Years are 12 months.

**Notice periods** (§ 187 (1), § 188 (2) first case, § 188 (3) BGB). Notice received on day D
starts the period on D + 1; n months end on the day with D's number n months later, or on the last
day of that month if it has no such day (31 Jan + 1 month = 28/29 Feb). Notice on D ends the
contract on E when that period has run out by E. The **deadline** for an end date E is the *latest*
D that still works, i.e. the largest D with ``D + period ≤ E``. Counting back from E therefore gives:

* days/weeks: ``E − n`` days / ``E − 7n`` days;
* months/years: the same day number n months earlier, clamped to that month's last day — and when
  E is the last day of its month, the last day of the month n months earlier. So 3 months to
  31 May → 28 Feb (29 Feb 2028), 3 months to 30 June → 31 March, 1 month to 28 Feb → 31 Jan.

**Which end dates are possible** (``notice_to``):

* contracts with an ``end``: only term ends. A fixed-term contract cannot be terminated ordinarily
  before its term runs out (§ 620 BGB), so ``notice_to`` is only consulted for indefinite
  contracts. With auto-renewal the notice must arrive by the current term's deadline, otherwise the
  contract renews and the next term's end is the next possible end.
* indefinite contracts: ``end_of_month`` → month ends, ``end_of_quarter`` → calendar quarter ends
  (31 Mar, 30 Jun, 30 Sep, 31 Dec), ``any_day`` → every day; the earliest such date that notice
  given today still reaches. ``end_of_term`` has no meaning without a term: the functions return
  ``None`` and :func:`validate_contract` reports it.
* a non-renewing contract ends on ``end`` by itself; its deadline is still shown while it lies
  ahead (some parties want written notice anyway), and is ``None`` once passed or once the
  contract has ended.

``auto_renewal`` is ignored for indefinite contracts (flagged by :func:`validate_contract`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "NOTICE_TO",
    "UNITS",
    "Contract",
    "ContractTerms",
    "add_months",
    "current_term_end",
    "is_deadline_near",
    "is_ended",
    "last_day_of_month",
    "latest_notice_date",
    "next_possible_end",
    "notice_deadline",
    "notice_period_end",
    "term_end",
    "validate_contract",
]

Unit = Literal["days", "weeks", "months", "years"]
NoticeTo = Literal["end_of_term", "end_of_month", "end_of_quarter", "any_day"]
Period = tuple[int, str]

UNITS: dict[str, str] = {"days": "Tage", "weeks": "Wochen", "months": "Monate", "years": "Jahre"}
NOTICE_TO: dict[str, str] = {
    "end_of_term": "zum Laufzeitende",
    "end_of_month": "zum Monatsende",
    "end_of_quarter": "zum Quartalsende",
    "any_day": "jederzeit",
}

# Daily renewals over a long-running contract are the worst case; this bound only stops a loop
# on corrupt data.
_MAX_RENEWALS = 200_000


class ContractTerms(Protocol):
    """What the deadline functions read; ORM objects or adapters only need these attributes."""

    @property
    def start(self) -> dt.date: ...
    @property
    def end(self) -> dt.date | None: ...
    @property
    def notice_period(self) -> Sequence[object]: ...
    @property
    def notice_to(self) -> str: ...
    @property
    def auto_renewal(self) -> Sequence[object] | None: ...


@dataclass(frozen=True)
class Contract:
    start: dt.date
    end: dt.date | None
    notice_period: tuple[int, Unit]
    notice_to: NoticeTo = "end_of_term"
    auto_renewal: tuple[int, Unit] | None = None


# --------------------------------------------------------------------------------------------
# Calendar arithmetic


def last_day_of_month(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day number ``months`` later (or earlier), clamped: 31 Jan + 1 → 28/29 Feb."""
    year, month = _shift_month(day.year, day.month, months)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _end_of_quarter(day: dt.date) -> dt.date:
    quarter_month = ((day.month - 1) // 3 + 1) * 3
    return last_day_of_month(day.replace(day=1, month=quarter_month))


def _period(value: Sequence[object] | None, what: str) -> tuple[int, str]:
    if value is None or isinstance(value, str) or len(value) != 2:
        raise ValueError(f"{what} must be (amount, unit), got {value!r}")
    amount, unit = value
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"{what}: amount must be an int >= 0, got {amount!r}")
    if unit not in UNITS:
        raise ValueError(f"{what}: unit must be one of {', '.join(UNITS)}, got {unit!r}")
    return amount, str(unit)


def _as_months(amount: int, unit: str) -> int | None:
    if unit == "months":
        return amount
    if unit == "years":
        return amount * 12
    return None


def _as_days(amount: int, unit: str) -> int:
    return amount * 7 if unit == "weeks" else amount


def notice_period_end(given_on: dt.date, period: Sequence[object]) -> dt.date:
    """Last day of a notice period for notice received on ``given_on`` (§ 188 (2) first case)."""
    amount, unit = _period(period, "notice_period")
    months = _as_months(amount, unit)
    if months is not None:
        return add_months(given_on, months)
    return given_on + dt.timedelta(days=_as_days(amount, unit))


def latest_notice_date(end: dt.date, period: Sequence[object]) -> dt.date:
    """Latest day notice may be received so that the contract ends on ``end``.

    This is the largest D with ``notice_period_end(D, period) <= end``.
    """
    amount, unit = _period(period, "notice_period")
    months = _as_months(amount, unit)
    if months is None:
        return end - dt.timedelta(days=_as_days(amount, unit))
    if end == last_day_of_month(end):
        # Every day of the earlier month up to its last one reaches this month's end via clamping.
        return last_day_of_month(add_months(end.replace(day=1), -months))
    return add_months(end, -months)


def term_end(term_start: dt.date, period: Sequence[object]) -> dt.date:
    """Last day of a term that begins on ``term_start`` (§ 188 (2) second case, (3))."""
    amount, unit = _period(period, "auto_renewal")
    if amount < 1:
        raise ValueError("a term must last at least one unit")
    months = _as_months(amount, unit)
    if months is None:
        return term_start + dt.timedelta(days=_as_days(amount, unit) - 1)
    year, month = _shift_month(term_start.year, term_start.month, months)
    days_in_month = calendar.monthrange(year, month)[1]
    if term_start.day > days_in_month:
        return dt.date(year, month, days_in_month)
    return dt.date(year, month, term_start.day) - dt.timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Contract questions


def _check(contract: ContractTerms) -> None:
    _period(contract.notice_period, "notice_period")
    if contract.notice_to not in NOTICE_TO:
        raise ValueError(f"notice_to must be one of {', '.join(NOTICE_TO)}, got {contract.notice_to!r}")
    if contract.end is not None and contract.end < contract.start:
        raise ValueError("end lies before start")
    if contract.auto_renewal is not None:
        amount, _ = _period(contract.auto_renewal, "auto_renewal")
        if amount < 1:
            raise ValueError("auto_renewal amount must be at least 1")


def _renews(contract: ContractTerms) -> bool:
    return contract.end is not None and contract.auto_renewal is not None


def _next_term_end(previous_end: dt.date, contract: ContractTerms) -> dt.date:
    assert contract.auto_renewal is not None
    return term_end(previous_end + dt.timedelta(days=1), contract.auto_renewal)


def validate_contract(contract: ContractTerms) -> list[str]:
    """German messages for contract data the deadline functions cannot work with sensibly."""
    errors: list[str] = []
    if contract.end is not None and contract.end < contract.start:
        errors.append("Das Vertragsende liegt vor dem Vertragsbeginn.")
    try:
        _period(contract.notice_period, "notice_period")
    except ValueError:
        errors.append("Die Kündigungsfrist braucht eine ganze Zahl ≥ 0 und eine Einheit (Tage, Wochen, Monate, Jahre).")
    if contract.notice_to not in NOTICE_TO:
        errors.append("Unbekannter Kündigungstermin.")
    if contract.auto_renewal is not None:
        try:
            amount, _ = _period(contract.auto_renewal, "auto_renewal")
            if amount < 1:
                raise ValueError
        except ValueError:
            errors.append("Die automatische Verlängerung braucht eine ganze Zahl ≥ 1 und eine Einheit.")
        if contract.end is None:
            errors.append("Eine automatische Verlängerung setzt ein Vertragsende voraus.")
    if contract.end is None and contract.notice_to == "end_of_term":
        errors.append(
            "Ein unbefristeter Vertrag hat kein Laufzeitende; bitte „zum Monatsende“, "
            "„zum Quartalsende“ oder „jederzeit“ wählen."
        )
    return errors


def current_term_end(contract: ContractTerms, today: dt.date) -> dt.date | None:
    """End of the term running on ``today``.

    ``None`` for indefinite contracts. A renewing contract is rolled forward term by term until the
    end is ``>= today``. A non-renewing contract returns its ``end`` even when that has passed (the
    final end date is what a list shows; :func:`is_ended` tells whether it is over).
    """
    _check(contract)
    if contract.end is None:
        return None
    end = contract.end
    if contract.auto_renewal is None:
        return end
    for _ in range(_MAX_RENEWALS):
        if end >= today:
            return end
        end = _next_term_end(end, contract)
    raise ValueError("too many renewals; check the contract dates")


def is_ended(contract: ContractTerms, today: dt.date) -> bool:
    """A non-renewing contract whose last day lies before ``today``."""
    _check(contract)
    return contract.end is not None and contract.auto_renewal is None and contract.end < today


def next_possible_end(contract: ContractTerms, today: dt.date) -> dt.date | None:
    """Earliest day the contract can end if notice is given from ``today`` on.

    For a non-renewing contract that is its ``end`` (it ends then anyway); ``None`` once it has
    ended and for indefinite ``end_of_term`` contracts.
    """
    _check(contract)
    period = contract.notice_period
    if contract.end is not None:
        end = current_term_end(contract, today)
        assert end is not None
        if not _renews(contract):
            return None if end < today else end
        for _ in range(_MAX_RENEWALS):
            if latest_notice_date(end, period) >= today:
                return end
            end = _next_term_end(end, contract)
        raise ValueError("too many renewals; check the contract dates")

    if contract.notice_to == "end_of_term":
        return None
    # Monotonic: every end date at or after this one has a deadline >= today (see module docstring).
    earliest = max(notice_period_end(today, period), contract.start)
    if contract.notice_to == "end_of_month":
        return last_day_of_month(earliest)
    if contract.notice_to == "end_of_quarter":
        return _end_of_quarter(earliest)
    return earliest


def notice_deadline(contract: ContractTerms, today: dt.date) -> dt.date | None:
    """Last day on which notice can still be given to end the contract at the next possible date.

    ``None`` when there is nothing to give notice for: the contract has ended, a non-renewing
    contract's deadline has passed, or an indefinite contract is set to ``end_of_term``.
    """
    end = next_possible_end(contract, today)
    if end is None:
        return None
    deadline = latest_notice_date(end, contract.notice_period)
    return deadline if deadline >= today else None


def is_deadline_near(contract: ContractTerms, today: dt.date, within_days: int = 60) -> bool:
    """Whether the notice deadline falls within the next ``within_days`` days (today included)."""
    deadline = notice_deadline(contract, today)
    return deadline is not None and (deadline - today).days <= within_days
