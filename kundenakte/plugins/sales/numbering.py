"""Voucher number patterns (e.g. ``AN-2026-00042``) and the sales voucher type keys.

A pattern is a restricted ``str.format`` template. It may use only the fields ``{prefix}``,
``{year}`` and ``{counter}``, no conversions (``!r``), no attribute or index access
(``{counter.__class__}``, ``{prefix[0]}``) and no nested fields; integer fields allow only a
zero-padded width (``{counter:05d}``, ``{year:04}``). Validation uses ``string.Formatter().parse``,
the same tokenizer ``str.format`` uses, so nothing the validator did not see can be evaluated.

Allocation (implemented by the integrator, described here so that both halves agree)
------------------------------------------------------------------------------------

Numbers must be unique and gap-free per voucher type (GoBD expects a traceable sequence for
invoices). One counter row per ``(voucher_type, scope_year)``::

    CREATE TABLE sales_number_counter (
        voucher_type VARCHAR(32) NOT NULL,
        scope_year   INTEGER     NOT NULL,   -- 0 when the pattern has no {year}, see counter_scope()
        last_value   INTEGER     NOT NULL,
        PRIMARY KEY (voucher_type, scope_year)
    );

Inside the same transaction that inserts the voucher:

* PostgreSQL: ``INSERT ... ON CONFLICT DO NOTHING`` the row with ``last_value = 0``, then
  ``SELECT last_value FROM sales_number_counter WHERE voucher_type = :t AND scope_year = :y
  FOR UPDATE``, ``UPDATE ... SET last_value = last_value + 1``, format the number with the new
  value, insert the voucher, commit. The row lock serializes concurrent allocations; a rollback
  releases the number again, so no gaps appear.
* SQLite: the write transaction already starts with ``BEGIN IMMEDIATE``
  (``Database.write()``), which takes the database write lock up front, so read-increment-write
  in that transaction is serialized the same way.

Keep a unique index on ``(voucher_type, number)`` as the last line of defence.

Because the counter restarts per year only when the pattern contains ``{year}``
(:func:`counter_scope`), a pattern without the year can never repeat a number.
"""

from __future__ import annotations

import re
import string
from typing import Literal

__all__ = [
    "ALLOWED_FIELDS",
    "DEFAULT_PATTERN",
    "DEFAULT_PREFIXES",
    "VOUCHER_TYPES",
    "counter_scope",
    "default_pattern_for",
    "format_voucher_number",
    "scope_year",
    "validate_pattern",
    "validate_prefix",
]

#: Type key → German label. The keys are the stable identifiers used in data and URLs.
VOUCHER_TYPES: dict[str, str] = {
    "opportunity": "Opportunity",
    "price_info": "Preisinformation",
    "quote": "Angebot",
    "order_confirmation": "Auftragsbestätigung",
    "purchase_order": "Bestellung",
    "credit_note": "Gutschrift",
    "delivery_note": "Lieferschein",
    "invoice": "Rechnung",
}

DEFAULT_PREFIXES: dict[str, str] = {
    "opportunity": "OP",
    "price_info": "PI",
    "quote": "AN",
    "order_confirmation": "AB",
    "purchase_order": "BE",
    "credit_note": "GS",
    "delivery_note": "LS",
    "invoice": "RE",
}

DEFAULT_PATTERN = "{prefix}-{year}-{counter:05d}"

ALLOWED_FIELDS = ("prefix", "year", "counter")
MAX_PATTERN_LENGTH = 60
MAX_WIDTH = 12
MAX_PREFIX_LENGTH = 10

# "05d", "5", "d", "" – zero flag and width only; fill/align/sign/grouping are not needed and
# every extra feature is one more way to produce surprising numbers.
_INT_SPEC = re.compile(r"(0?)([1-9]\d?)?(d?)")
_PREFIX_CHARS = re.compile(r"[A-Za-z0-9ÄÖÜäöü_-]+")
# Literal text ends up in file names and e-mail subjects: letters, digits and simple separators.
_LITERAL_CHARS = re.compile(r"[A-Za-z0-9ÄÖÜäöü _./#-]*")


def default_pattern_for(voucher_type: str) -> str:
    """The pattern a voucher type uses until an admin configures another one."""
    if voucher_type not in VOUCHER_TYPES:
        raise ValueError(f"unknown voucher type {voucher_type!r}")
    return DEFAULT_PATTERN


def validate_pattern(pattern: str) -> list[str]:
    """German error messages for a number pattern; an empty list means the pattern is usable."""
    errors: list[str] = []
    if not isinstance(pattern, str) or not pattern.strip():
        return ["Das Nummernformat darf nicht leer sein."]
    if len(pattern) > MAX_PATTERN_LENGTH:
        errors.append(f"Das Nummernformat darf höchstens {MAX_PATTERN_LENGTH} Zeichen lang sein.")
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        return errors + [
            "Geschweifte Klammern passen nicht zusammen; eine einzelne Klammer als Text bitte als "
            "„{{“ bzw. „}}“ schreiben."
        ]
    counter_count = 0
    for literal, field_name, format_spec, conversion in parts:
        if literal and not _LITERAL_CHARS.fullmatch(literal.replace("{", "").replace("}", "")):
            errors.append(
                "Außerhalb der Platzhalter sind nur Buchstaben, Ziffern, Leerzeichen und "
                "die Zeichen - _ . / # erlaubt."
            )
        if field_name is None:
            continue
        if field_name not in ALLOWED_FIELDS:
            shown = field_name or "{}"
            errors.append(
                f"Unbekannter Platzhalter „{shown}“; erlaubt sind nur {{prefix}}, {{year}} und {{counter}}."
            )
            continue
        if conversion is not None:
            errors.append(f"Umwandlungen wie „!{conversion}“ sind im Platzhalter {{{field_name}}} nicht erlaubt.")
        if format_spec:
            if field_name == "prefix":
                errors.append("Der Platzhalter {prefix} erlaubt keine Formatangabe.")
            else:
                match = _INT_SPEC.fullmatch(format_spec)
                if match is None or (match.group(1) and not match.group(2)):
                    errors.append(
                        f"Ungültige Formatangabe „{format_spec}“ bei {{{field_name}}}; erlaubt ist nur eine "
                        "Stellenzahl mit führenden Nullen, z. B. „{counter:05d}“."
                    )
                elif match.group(2) and int(match.group(2)) > MAX_WIDTH:
                    errors.append(f"Die Stellenzahl bei {{{field_name}}} darf höchstens {MAX_WIDTH} sein.")
        if field_name == "counter":
            counter_count += 1
    if counter_count == 0:
        errors.append("Das Nummernformat muss den Platzhalter {counter} enthalten.")
    elif counter_count > 1:
        errors.append("Der Platzhalter {counter} darf nur einmal vorkommen.")
    # Keep messages unique and in first-seen order (one bad literal may repeat).
    return list(dict.fromkeys(errors))


def validate_prefix(prefix: str) -> list[str]:
    """German error messages for a configured prefix."""
    if not prefix:
        return []  # an empty prefix is allowed, e.g. for plain "{year}{counter:04d}"
    errors = []
    if len(prefix) > MAX_PREFIX_LENGTH:
        errors.append(f"Das Präfix darf höchstens {MAX_PREFIX_LENGTH} Zeichen lang sein.")
    if not _PREFIX_CHARS.fullmatch(prefix):
        errors.append("Das Präfix darf nur Buchstaben, Ziffern, „-“ und „_“ enthalten.")
    return errors


def counter_scope(pattern: str) -> Literal["year", "global"]:
    """``"year"`` when the counter restarts every year (pattern shows the year), else ``"global"``."""
    for _, field_name, _, _ in string.Formatter().parse(pattern):
        if field_name == "year":
            return "year"
    return "global"


def scope_year(pattern: str, year: int) -> int:
    """The ``scope_year`` of the counter row to lock: ``year``, or 0 for a never-restarting counter."""
    return year if counter_scope(pattern) == "year" else 0


def format_voucher_number(pattern: str, *, prefix: str, year: int, counter: int) -> str:
    """Render a voucher number, e.g. ``("{prefix}-{year}-{counter:05d}", "AN", 2026, 42)`` → ``AN-2026-00042``.

    Raises ``ValueError`` for an invalid pattern or prefix, or a counter below 1: this is the last
    check before a number is written to a legal document.
    """
    problems = validate_pattern(pattern) + validate_prefix(prefix)
    if problems:
        raise ValueError("; ".join(problems))
    if isinstance(counter, bool) or not isinstance(counter, int) or counter < 1:
        raise ValueError(f"counter must be a positive int, got {counter!r}")
    if isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999:
        raise ValueError(f"year must be a four-digit int, got {year!r}")
    return pattern.format(prefix=prefix, year=year, counter=counter)
