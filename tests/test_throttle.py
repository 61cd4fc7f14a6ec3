"""The database throttle's rules on both databases: keys, windows, expiry and pruning (core/throttle.py).

The gunicorn-level behaviour (memory, several workers, several addresses) is in
tests/hardening/test_throttle.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from kundenakte.core.models import AuthThrottle
from kundenakte.core.throttle import LOGIN_ADDRESS, LOGIN_PAIR, normalise_address, normalise_login


def _rows(ka: Any) -> int:
    with ka.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuthThrottle)) or 0)


def test_names_and_addresses_are_normalised_and_keys_fixed_size(ka: Any) -> None:
    assert normalise_login("  Admin ") == normalise_login("ADMIN") == "admin"
    assert normalise_login("x" * 500_000) == "x" * 80
    assert normalise_address("2001:db8:1:2:aaaa::1") == normalise_address("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert normalise_address("::ffff:192.0.2.7") == "192.0.2.7"
    assert normalise_address("198.51.100.3") == "198.51.100.3"
    pair, address = ka.throttle.login_keys("x" * 100_000, "198.51.100.3")
    assert len(pair.digest) == len(address.digest) == 64
    assert ka.throttle.login_keys("Admin", "10.0.0.1")[0] == ka.throttle.login_keys(" admin", "10.0.0.1")[0]
    assert ka.throttle.login_keys("admin", "10.0.0.1")[0] != ka.throttle.login_keys("admin", "10.0.0.2")[0]


def test_a_window_blocks_then_expires_and_restarts(ka: Any) -> None:
    start = dt.datetime(2026, 12, 1, 8, 0)
    ka.clock.set(start)
    pair, address = ka.throttle.login_keys("admin", "203.0.113.5")
    for _ in range(LOGIN_PAIR.limit - 1):
        ka.throttle.fail(pair, address)
    assert ka.throttle.blocked(pair, address) is None
    ka.throttle.fail(pair, address)
    assert ka.throttle.blocked(pair, address) == pair
    assert 0 < ka.throttle.retry_after(pair) <= LOGIN_PAIR.window_s + 1
    # another address for the same name is not affected
    other_pair, other_address = ka.throttle.login_keys("admin", "203.0.113.6")
    assert ka.throttle.blocked(other_pair, other_address) is None

    ka.clock.set(start + LOGIN_PAIR.window + dt.timedelta(seconds=1))
    assert ka.throttle.blocked(pair, address) is None  # the pair's window is over
    ka.throttle.fail(pair, address)  # ... and counting starts again at one
    with ka.db.read() as s:
        failures = dict(s.execute(select(AuthThrottle.key, AuthThrottle.failures)).all())
    assert failures[pair.digest] == 1
    assert failures[address.digest] == LOGIN_PAIR.limit + 1  # the address window (15 min) runs on


def test_the_address_limit_covers_many_names(ka: Any) -> None:
    ka.clock.set(dt.datetime(2026, 12, 1, 9, 0))
    address = ka.throttle.login_keys("", "192.0.2.99")[1]
    for n in range(LOGIN_ADDRESS.limit):
        ka.throttle.fail(*ka.throttle.login_keys(f"name-{n}", "192.0.2.99"))
    fresh_pair = ka.throttle.login_keys("never-tried", "192.0.2.99")[0]
    assert ka.throttle.blocked(fresh_pair, address) == address


def test_expired_rows_are_pruned(ka: Any) -> None:
    start = dt.datetime(2026, 12, 1, 10, 0)
    ka.clock.set(start)
    for n in range(20):
        ka.throttle.fail(ka.throttle.api_key(f"198.51.100.{n}"))
    assert _rows(ka) == 20
    ka.clock.set(start + dt.timedelta(hours=1))
    assert ka.throttle.prune() == 20 and _rows(ka) == 0
