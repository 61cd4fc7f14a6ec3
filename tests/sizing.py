"""CI-sized or full test batteries: one switch for the slow parts of the suite.

``pytest --full`` (or ``KUNDENAKTE_HARDENING_FULL=1``, the older spelling ``bench/hardening.py``
sets) runs every slow battery at full size: the hardening counts, the axe-core walk over every page
type in both languages, a phone screenshot of every page type. Without it each battery runs the
CI-sized part, which still checks every rule on a deterministic selection (see each module).
"""

from __future__ import annotations

import datetime as dt
import os

FULL_ENV = "KUNDENAKTE_HARDENING_FULL"


def full() -> bool:
    """True when the full batteries were asked for (``--full`` sets the variable at configure time)."""
    return os.environ.get(FULL_ENV) == "1"


def rotation(parts: int, env: str) -> int:
    """Which of ``parts`` slices a CI-sized run takes: ``env`` when set, else the ISO week number.

    The same slice for a whole week (a failure reproduces on rerun), a different one the next, so
    every slice is checked within ``parts`` weeks.
    """
    value = os.environ.get(env, "")
    if value.isdigit():
        return int(value) % parts
    return dt.date.today().isocalendar().week % parts
