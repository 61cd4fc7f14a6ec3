"""The hardening battery: leak matrix, ACL model check, hostile input, crash safety, template budget,
id reuse, display names, template grants, follow-ups and sanitizer URLs.

Every part counts what it tried in :data:`FIGURES`; ``tests/hardening/conftest.py`` prints one
figure line per part at the end of the run (``bench/hardening.py`` collects them).
"""

from __future__ import annotations

import os
from collections import Counter

from tests.sizing import full

# name -> count; e.g. FIGURES["leak.cells"] += 1. Only the hardening tests write it.
FIGURES: Counter[str] = Counter()
# Human-readable problems found (a leak, an executed payload, a 5xx ...): printed in the summary.
PROBLEMS: list[str] = []

# ``pytest --full`` sets it too (tests/conftest.py), also after this module was imported.
FULL = full()


def env_int(name: str, ci: int, full: int) -> int:
    """A count from the environment, else the CI default (or the full-battery default)."""
    value = os.environ.get(name)
    if value and value.isdigit():
        return int(value)
    return full if FULL else ci


def flush_index(ka: object) -> None:
    """Index the whole queue now (the tests run with ``index_async=False``)."""
    while ka.search.flush():  # type: ignore[attr-defined]
        pass
