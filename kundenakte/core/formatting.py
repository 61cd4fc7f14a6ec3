"""Numbers, money, percentages and dates for people: shown and read through Babel, per locale.

This is the only place that turns a number or date into text for a person or reads a number a
person typed; the web layer passes the request's locale (Flask-Babel's ``get_locale()``).

* Money is rounded once, kaufmännisch (``ROUND_HALF_UP``, ties away from zero) to the cent, before
  Babel formats it; Babel's own rounding is half-even and would show 0,125 € as 0,12 €.
* Reading is Babel's ``parse_decimal(strict=True)``: in German "1.234" is 1234 and "1,5" is 1.5;
  input that the locale's rules do not produce ("1.5" in German) is refused with the readings
  Babel suggests, never guessed.
* ``locale=None`` in :func:`parse_decimal` means machine input (JSON API, importer, stored data):
  digits with an optional sign and an optional dot as decimal point, nothing else.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import Any

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

__all__ = [
    "CENT",
    "DEFAULT_LOCALE",
    "NumberInputError",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_money",
    "format_percent",
    "parse_decimal",
    "round_money",
    "to_decimal",
]

CENT = Decimal("0.01")
DEFAULT_LOCALE = "de"
DEFAULT_CURRENCY = "EUR"

LocaleLike = str | Locale | None

# Characters people type or paste that Babel's strict reader does not know.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2212": "-"})
_MACHINE = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")


class NumberInputError(ValueError):
    """A typed number could not be read; ``str()`` is the German message for the user.

    ``kind`` is ``"invalid"`` or ``"ambiguous"`` (the locale's rules allow more than one reading;
    ``suggestions`` holds them, written as the user should type them).
    """

    def __init__(self, kind: str, text: str, suggestions: tuple[str, ...] = (), example: str = "1234.56") -> None:
        self.kind = kind
        self.text = text
        self.suggestions = suggestions
        if kind == "ambiguous" and suggestions:
            readings = " oder ".join(f"„{s}“" for s in suggestions)
            message = f"„{text}“ ist mehrdeutig – bitte {readings} eingeben."
        else:
            message = f"Bitte eine Zahl angeben, z. B. {example}."
        super().__init__(message)


def _locale(locale: LocaleLike) -> Locale:
    if isinstance(locale, Locale):
        return locale
    return Locale.parse(locale or DEFAULT_LOCALE, sep="_" if "_" in (locale or "") else "-")


def to_decimal(value: Any) -> Decimal | None:
    """A stored or computed number as Decimal (a float by its shortest repr), or None if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def round_money(amount: Decimal) -> Decimal:
    """Round to cents, ties away from zero (kaufmännisches Runden); never "-0.00"."""
    with localcontext(Context(prec=200)):
        rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded else Decimal("0.00")


def _no_negative_zero(number: Decimal) -> Decimal:
    return number if number else abs(number)


def format_money(value: Any, locale: LocaleLike = None, currency: str = DEFAULT_CURRENCY) -> str:
    """``Decimal("1234.565")`` → ``"1.234,57 €"`` (de) / ``"€1,234.57"`` (en); blank for None."""
    number = to_decimal(value)
    if number is None:
        return "" if value in (None, "") else str(value)
    return babel_numbers.format_currency(round_money(number), currency, locale=_locale(locale))


def _rounded(number: Decimal, places: int | None) -> Decimal:
    """``number`` rounded half up to ``places`` (unchanged for None); exact for any size."""
    if places is None:
        return number
    with localcontext(Context(prec=200)):
        return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_decimal(value: Any, locale: LocaleLike = None, places: int | None = None) -> str:
    """A number with the locale's separators; its own digits, or ``places`` rounded half up."""
    number = to_decimal(value)
    if number is None:
        return "" if value in (None, "") else str(value)
    number = _no_negative_zero(_rounded(number, places))
    # A pattern with exactly the value's fraction digits: Babel neither rounds nor drops a zero.
    exponent = number.as_tuple().exponent
    digits = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(number, format=pattern, locale=_locale(locale))


def format_percent(value: Any, locale: LocaleLike = None, places: int | None = None) -> str:
    """A rate given in percent (``19`` for 19 %) → ``"19 %"`` (de) / ``"19%"`` (en)."""
    number = to_decimal(value)
    if number is None:
        return "" if value in (None, "") else str(value)
    with localcontext(Context(prec=200)):
        fraction = _no_negative_zero(_rounded(number, places)) / 100
    return babel_numbers.format_percent(fraction, locale=_locale(locale), decimal_quantization=False)


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def format_date(value: Any, locale: LocaleLike = None, style: str = "medium") -> str:
    """``date(2026, 3, 5)`` → ``"05.03.2026"`` (de) / ``"Mar 5, 2026"`` (en); ISO strings too.

    ``style="long"`` writes the month out: ``"5. März 2026"`` / ``"March 5, 2026"``.
    """
    day = _as_date(value)
    if day is None:
        return "" if value in (None, "") else str(value)
    if isinstance(day, dt.datetime):
        day = day.date()
    return babel_dates.format_date(day, style, locale=_locale(locale))


def format_datetime(value: Any, locale: LocaleLike = None) -> str:
    """Date and minute: ``"05.03.2026 09:05"`` (de) / ``"Mar 5, 2026 9:05 AM"`` (en).

    The time is shown as stored (the application stores UTC and says so where it matters); no
    time zone conversion happens here.
    """
    if not isinstance(value, dt.datetime):
        return format_date(value, locale)
    loc = _locale(locale)
    return f"{babel_dates.format_date(value.date(), 'medium', locale=loc)} {babel_dates.format_time(value.time(), 'short', locale=loc)}"


def parse_decimal(raw: Any, locale: LocaleLike = None, suffixes: Iterable[str] = ()) -> Decimal:
    """Read one number a person typed in ``locale`` (``None``: machine input, see module docstring).

    ``Decimal`` and ``int`` pass through, a ``float`` is read from its shortest repr. One of
    ``suffixes`` (a unit such as "€" or "%") may follow the number. Raises
    :class:`NumberInputError` (a ``ValueError``) with a German message otherwise.
    """
    if isinstance(raw, bool) or raw is None:
        raise NumberInputError("invalid", str(raw))
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise NumberInputError("invalid", str(raw))
        return raw
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise NumberInputError("invalid", repr(raw))
        return _no_negative_zero(Decimal(repr(raw)))
    if not isinstance(raw, str):
        raise NumberInputError("invalid", str(raw))
    text = raw.translate(_SPACES).strip()
    for suffix in suffixes:
        if text.upper().endswith(suffix.upper()):
            text = text[: -len(suffix)].rstrip()
            break
    if locale is None:
        if not _MACHINE.fullmatch(text):
            raise NumberInputError("invalid", text)
        return _no_negative_zero(Decimal(text))
    loc = _locale(locale)
    example = format_decimal(Decimal("1234.56"), loc)
    symbols = babel_numbers.get_decimal_symbol(loc) + babel_numbers.get_group_symbol(loc)
    # Babel reads exponents and NaN as numbers; nobody types those into a price.
    if not text or any(not (ch.isdigit() and ch.isascii()) and ch not in symbols + "+-" for ch in text):
        raise NumberInputError("invalid", text, example=example)
    try:
        number = babel_numbers.parse_decimal(text, locale=loc, strict=True)
    except babel_numbers.NumberFormatError as exc:
        suggestions = tuple(s for s in (exc.suggestions or ()) if s != text)
        raise NumberInputError("ambiguous" if suggestions else "invalid", text, suggestions, example) from None
    if not number.is_finite():
        raise NumberInputError("invalid", text, example=example)
    return _no_negative_zero(number)
