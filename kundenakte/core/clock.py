"""The instance's idea of "today": real by default, settable in tests for retention and deadlines."""

from __future__ import annotations

import datetime as dt


class Clock:
    def __init__(self, fixed: dt.datetime | None = None) -> None:
        self.fixed = fixed

    def now(self) -> dt.datetime:
        """Naive UTC, as stored in the database."""
        if self.fixed is not None:
            return self.fixed
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def today(self) -> dt.date:
        return self.now().date()

    def set(self, when: dt.datetime | dt.date | None) -> None:
        if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
            when = dt.datetime.combine(when, dt.time(12, 0))
        self.fixed = when
