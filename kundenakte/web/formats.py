"""The request's locale applied to :mod:`kundenakte.core.formatting`, as Jinja filters.

Filters: ``money``, ``number`` (optional places), ``percent``, ``date``, ``datetime``. Python code
in the web layer calls these functions or the core ones with an explicit locale.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import get_locale

from kundenakte.core import formatting


def current_locale() -> str:
    """The request's UI locale ("de" or "en"); German outside a request."""
    if not has_request_context():
        return formatting.DEFAULT_LOCALE
    locale = get_locale()
    return str(locale) if locale is not None else formatting.DEFAULT_LOCALE


def money(value: Any) -> str:
    return formatting.format_money(value, current_locale())


def number(value: Any, places: int | None = None) -> str:
    return formatting.format_decimal(value, current_locale(), places)


def percent(value: Any, places: int | None = None) -> str:
    return formatting.format_percent(value, current_locale(), places)


def date(value: Any) -> str:
    return formatting.format_date(value, current_locale())


def datetime(value: Any) -> str:
    return formatting.format_datetime(value, current_locale())


#: The Jinja filters, registered by ``kundenakte.web.pages`` (a blueprint every app has).
FILTERS = {"money": money, "number": number, "percent": percent, "date": date, "datetime": datetime}
