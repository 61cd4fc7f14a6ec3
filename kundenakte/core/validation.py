"""The one validation error and the field rules every writer shares.

:class:`ValidationError` carries every field error of one input at once; the services raise it, the
web shows each message beside its field (keeping what was typed), the API answers 422 with the
same messages, the importer reports them per row. The messages are German :class:`Message` strings
that remember their msgid and parameters, so the web can show them in the interface's language.

This module imports nothing else of the core: document types, services and the API's schemas all
build on it without import cycles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import String, Table


class Message(str):
    """A German sentence (the ``str`` value) that keeps its msgid and parameters for translation."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Message:
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self


def N_(msgid: str, **params: Any) -> Message:
    """A translatable German message; ``make translations`` extracts the keyword ``N_`` (gettext's "mark now, translate later")."""
    return Message(msgid, **params)


class ValidationError(Exception):
    """Every field error at once: ``errors`` maps a field name to a sentence a user understands."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


# -- the shared rules ----------------------------------------------------------------------------------

# One e-mail rule for the whole product: something@something.tld without spaces. Stricter checks
# (RFC 5322) refuse addresses mail servers accept; delivery is the real test.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_EMAIL = re.compile(EMAIL_PATTERN)
WEB_PATTERN = r"^(https?://)?[^\s/]+\.[^\s]+$"
_WEB = re.compile(WEB_PATTERN)


def is_email(text: str) -> bool:
    """True for a plausible e-mail address (the product's one rule; "" is not an address)."""
    return bool(_EMAIL.match(text))


def is_web_address(text: str) -> bool:
    return bool(_WEB.match(text))


def too_long(limit: int) -> Message:
    return N_("Höchstens %(n)s Zeichen.", n=limit)


def email_error(text: str) -> Message | None:
    """The message for a non-empty text that is no e-mail address, else None."""
    return N_("Bitte eine gültige E-Mail-Adresse angeben.") if text and not is_email(text) else None


def column_limits(model: Any) -> dict[str, int]:
    """Maximum lengths of a mapped class's string columns, read from the columns themselves."""
    table = cast(Table, model.__table__)
    return {c.name: int(c.type.length) for c in table.columns if isinstance(c.type, String) and c.type.length}
