"""The errors the services raise: one validation error for every field problem, and "still in use"."""

from __future__ import annotations

from kundenakte.core.documents import Conflict, Forbidden, NotFound, ReadOnly
from kundenakte.core.users import UserError
from kundenakte.core.validation import N_, Message, ValidationError


class InUse(Exception):
    """The row cannot be deleted while others refer to it; the message says what, in German."""


__all__ = ["Conflict", "Forbidden", "InUse", "Message", "NotFound", "ReadOnly", "UserError", "ValidationError", "N_"]
