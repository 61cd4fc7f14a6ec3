"""Declarations of the master-data text fields: one per column, lengths read from the column.

Web forms, the API's schemas (``web/api/schemas.py`` turns them into JSON Schema) and the importer
all take their rules from here; :meth:`TextField.check` is the one check of a typed value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kundenakte.core.validation import N_, Message, column_limits, is_email, is_web_address, too_long

TEXT_KINDS = ("text", "email", "web")


@dataclass(frozen=True)
class TextField:
    """A text column as input: German ``label``, ``kind`` (text, email, web), the message when it is required."""

    name: str
    label: str
    max_length: int
    kind: str = "text"
    required: str = ""  # msgid of the message for an empty value; "" when the field is optional

    def check(self, value: str) -> Message | None:
        """The German message for a (stripped) value this field refuses, else None."""
        if "\x00" in value:
            return N_("Der Text enthält ein unzulässiges Steuerzeichen.")
        if len(value) > self.max_length:
            return too_long(self.max_length)
        if not value:
            return N_(self.required) if self.required else None
        if self.kind == "email" and not is_email(value):
            return N_("Bitte eine gültige E-Mail-Adresse angeben.")
        if self.kind == "web" and not is_web_address(value):
            return N_("Bitte eine gültige Webadresse angeben.")
        return None


def text_fields(model: Any, declared: Iterable[tuple[str, str, str, str]]) -> tuple[TextField, ...]:
    """``(name, label, kind, required message)`` per column; the length comes from the column."""
    limits = column_limits(model)
    return tuple(TextField(name, label, limits[name], kind, required) for name, label, kind, required in declared)


def check_texts(fields: Iterable[TextField], values: Mapping[str, Any], *, partial: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """Stripped text values and the errors of every field at once (``partial``: only the given fields)."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        if partial and f.name not in values:
            continue
        raw = values.get(f.name)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            errors[f.name] = N_("Erwartet wird ein Text.")
            continue
        value = raw.strip()
        problem = f.check(value)
        if problem:
            errors[f.name] = problem
        cleaned[f.name] = value
    return cleaned, errors
