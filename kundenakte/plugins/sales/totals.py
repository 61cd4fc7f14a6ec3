"""Line items and invoice totals for sales vouchers, in ``decimal.Decimal`` only.

Rounding follows common German invoicing practice:

* every line's net amount (quantity × unit price × (1 − discount/100)) is rounded to cents
  ``ROUND_HALF_UP`` because the invoice prints it and the printed lines must add up;
* the tax base per VAT rate is the sum of those rounded line nets, and the tax per rate is rounded
  once to cents (``ROUND_HALF_UP``) – § 14 (4) Nr. 8 UStG requires the tax per rate, and rounding
  per rate instead of per line avoids cent drift on long invoices;
* gross = net total + sum of the per-rate taxes, so the identity holds exactly.

``ROUND_HALF_UP`` in :mod:`decimal` rounds ties away from zero, so a credit note with negated
quantities yields exactly the negated totals of the invoice.

Number input (``parse_line_items``)
-----------------------------------

Numbers are read by :func:`kundenakte.core.formatting.parse_decimal` in the form's locale (German:
``1.234,56``, ``1234,56``, ``1.500`` is fifteen hundred; "1.5" is refused naming both readings), with
a trailing unit symbol (``€``/``EUR`` for prices, ``%`` for discount and VAT) allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation, localcontext
from typing import Any

from kundenakte.core.formatting import CENT, NumberInputError, parse_decimal
from kundenakte.core.formatting import round_money as round_cents

__all__ = [
    "CENT",
    "COMMON_UNITS",
    "DEFAULT_VAT_RATES",
    "LineItem",
    "Totals",
    "compute_totals",
    "line_net",
    "parse_line_items",
    "round_cents",
]


#: VAT rates accepted by default (German standard, reduced, exempt/zero-rated).
DEFAULT_VAT_RATES: frozenset[Decimal] = frozenset({Decimal("19"), Decimal("7"), Decimal("0")})

#: Suggestions for the unit field; any short text is accepted.
COMMON_UNITS: tuple[str, ...] = ("Stk", "Std", "Tag", "kg", "m", "m²", "l", "pauschal")

DEFAULT_UNIT = "Stk"
MAX_UNIT_LENGTH = 20

# Limits keep values storable (e.g. Numeric(18, 4)) and stop absurd inputs early.
_FIELD_LIMITS: dict[str, tuple[int | None, int]] = {
    # field: (max integer digits, max fraction digits); percentages get a range check instead.
    "quantity": (12, 4),
    "unit_price": (12, 4),
    "discount_percent": (None, 2),
    "vat_rate": (None, 2),
}

_FIELD_LABELS = {
    "position": "Position",
    "article": "Artikel",
    "description": "Bezeichnung",
    "quantity": "Menge",
    "unit": "Einheit",
    "unit_price": "Einzelpreis",
    "discount_percent": "Rabatt",
    "vat_rate": "Steuersatz",
}

_FIELD_SUFFIXES = {
    "quantity": (),
    "unit_price": ("€", "EUR"),
    "discount_percent": ("%",),
    "vat_rate": ("%",),
}


def _check_decimal(name: str, value: Any) -> None:
    # bool is an int subclass and float is inexact: both are programming errors here.
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be finite, got {value}")


@dataclass(frozen=True)
class LineItem:
    """One voucher line. All amounts are net EUR; ``discount_percent`` is 0..100."""

    position: int
    article: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal

    def __post_init__(self) -> None:
        for name in ("quantity", "unit_price", "discount_percent", "vat_rate"):
            _check_decimal(name, getattr(self, name))
        if not Decimal(0) <= self.discount_percent <= Decimal(100):
            raise ValueError(f"discount_percent must be within 0..100, got {self.discount_percent}")
        if self.vat_rate < 0:
            raise ValueError(f"vat_rate must not be negative, got {self.vat_rate}")

    @property
    def net(self) -> Decimal:
        return line_net(self)


@dataclass(frozen=True)
class Totals:
    """Voucher totals; every amount is quantized to cents.

    ``vat_by_rate`` maps the VAT rate (normalized, e.g. ``Decimal("19")``) to ``(base, tax)`` and
    is ordered by rate, highest first, as invoices list them. A 0 % rate is kept: the invoice must
    show tax-free amounts separately.
    """

    net: Decimal
    vat_by_rate: dict[Decimal, tuple[Decimal, Decimal]]
    vat_total: Decimal
    gross: Decimal
    line_nets: tuple[Decimal, ...] = field(default=())


def _exact_context() -> Context:
    # Products of user-sized operands fit easily; trapping Inexact turns silent precision loss
    # (only possible with absurd inputs) into an error instead of a wrong invoice.
    return Context(prec=200, traps=[InvalidOperation, Inexact])


def line_net(item: LineItem) -> Decimal:
    """Net amount of one line, rounded to cents."""
    with localcontext(_exact_context()):
        factor = Decimal(1) - item.discount_percent / Decimal(100)
        exact = item.quantity * item.unit_price * factor
    return round_cents(exact)


def _normalize_rate(rate: Decimal) -> Decimal:
    # 19, 19.0 and 19.00 must land in one bucket and print as "19"; normalize() alone would turn
    # 10 into 1E+1.
    with localcontext(Context(prec=200)):
        if rate == rate.to_integral_value():
            return rate.quantize(Decimal(1))
        return rate.normalize()


def compute_totals(items: Iterable[LineItem]) -> Totals:
    """Net, VAT per rate, VAT total and gross of a voucher (see module docstring for rounding)."""
    items = list(items)
    nets = tuple(line_net(item) for item in items)
    bases: dict[Decimal, Decimal] = {}
    for item, net in zip(items, nets, strict=True):
        rate = _normalize_rate(item.vat_rate)
        bases[rate] = bases.get(rate, Decimal("0.00")) + net
    vat_by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    with localcontext(_exact_context()):
        for rate in sorted(bases, reverse=True):
            base = bases[rate]
            vat_by_rate[rate] = (round_cents(base), round_cents(base * rate / Decimal(100)))
        net_total = round_cents(sum(nets, Decimal("0.00")))
        vat_total = round_cents(sum((tax for _, tax in vat_by_rate.values()), Decimal("0.00")))
        gross = round_cents(net_total + vat_total)
    return Totals(net=net_total, vat_by_rate=vat_by_rate, vat_total=vat_total, gross=gross, line_nets=nets)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_number_field(name: str, raw: Any, locale: str) -> Decimal:
    """Parse and range-check one numeric field; raises ValueError with the German message."""
    label = _FIELD_LABELS[name]
    try:
        value = parse_decimal(raw, locale, _FIELD_SUFFIXES[name])
    except NumberInputError as exc:
        if exc.kind == "ambiguous":
            raise ValueError(f"{label}: {exc}") from None
        raise ValueError(f"{label} muss eine Zahl sein") from None
    max_int, max_frac = _FIELD_LIMITS[name]
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite by construction
    if max_int is not None and value.adjusted() >= max_int:
        raise ValueError(f"{label} ist zu groß")
    if -exponent > max_frac:
        with localcontext(Context(prec=200)):
            trimmed = value.quantize(Decimal(1).scaleb(-max_frac), rounding=ROUND_HALF_UP)
        if trimmed != value:
            raise ValueError(f"{label} darf höchstens {max_frac} Nachkommastellen haben")
        # "1,50000" is fine, but store it at the field's scale.
        value = trimmed
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_line_items(
    raw: Sequence[Mapping[str, Any]],
    *,
    allowed_vat_rates: Iterable[Decimal] = DEFAULT_VAT_RATES,
    locale: str = "de",
) -> tuple[list[LineItem], dict[int, dict[str, str]]]:
    """Turn submitted form rows into line items, collecting German per-field errors.

    Keys per row: ``position``, ``article``, ``description``, ``quantity``, ``unit``,
    ``unit_price``, ``discount_percent``, ``vat_rate`` (values usually strings).

    Numbers are read in ``locale`` (the form's language); JSON numbers pass as they are.

    Returns ``(items, errors)``. ``errors`` maps the row's 0-based index in ``raw`` (positions may
    themselves be missing or invalid, the index always exists) to ``{field: message}``. ``items``
    holds only the rows that parsed cleanly; save nothing while ``errors`` is non-empty.

    Conventions: a row whose fields are all blank is skipped (forms render a spare empty row); a
    missing position becomes index + 1; a blank discount is 0; a blank unit is ``"Stk"``; a line
    needs an article or a description; quantity, unit price and VAT rate are required. Negative
    quantities and prices are allowed (credit notes, discount lines).
    """
    allowed = {_normalize_rate(Decimal(rate)) for rate in allowed_vat_rates}
    items: list[LineItem] = []
    errors: dict[int, dict[str, str]] = {}
    seen_positions: dict[int, int] = {}
    for index, row in enumerate(raw):
        if all(_is_blank(row.get(key)) for key in _FIELD_LABELS):
            continue
        row_errors: dict[str, str] = {}
        values: dict[str, Any] = {}

        position_raw = row.get("position")
        if _is_blank(position_raw):
            values["position"] = index + 1
        else:
            text = _text(position_raw)
            if isinstance(position_raw, bool) or not text.isascii() or not text.isdigit() or int(text) < 1:
                row_errors["position"] = "Position muss eine positive ganze Zahl sein"
            else:
                values["position"] = int(text)
        if "position" in values:
            if values["position"] in seen_positions:
                row_errors["position"] = "Position ist doppelt vergeben"
            else:
                seen_positions[values["position"]] = index

        values["article"] = _text(row.get("article"))
        values["description"] = _text(row.get("description"))
        if not values["article"] and not values["description"]:
            row_errors["description"] = "Bezeichnung fehlt"

        unit = _text(row.get("unit")) or DEFAULT_UNIT
        if len(unit) > MAX_UNIT_LENGTH:
            row_errors["unit"] = f"Einheit ist zu lang (höchstens {MAX_UNIT_LENGTH} Zeichen)"
        values["unit"] = unit

        for name in ("quantity", "unit_price", "discount_percent", "vat_rate"):
            raw_value = row.get(name)
            if _is_blank(raw_value):
                if name == "discount_percent":
                    values[name] = Decimal("0")
                else:
                    row_errors[name] = f"{_FIELD_LABELS[name]} fehlt"
                continue
            try:
                values[name] = _parse_number_field(name, raw_value, locale)
            except ValueError as exc:
                row_errors[name] = str(exc)

        discount = values.get("discount_percent")
        if discount is not None and not Decimal(0) <= discount <= Decimal(100):
            row_errors["discount_percent"] = "Rabatt muss zwischen 0 und 100 % liegen"
        rate = values.get("vat_rate")
        if rate is not None and _normalize_rate(rate) not in allowed:
            row_errors["vat_rate"] = "Unbekannter Steuersatz"

        if row_errors:
            errors[index] = row_errors
            continue
        items.append(
            LineItem(
                position=values["position"],
                article=values["article"],
                description=values["description"],
                quantity=values["quantity"],
                unit=values["unit"],
                unit_price=values["unit_price"],
                discount_percent=values["discount_percent"],
                vat_rate=_normalize_rate(values["vat_rate"]),
            )
        )
    return items, errors
