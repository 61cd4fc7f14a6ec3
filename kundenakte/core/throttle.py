"""Throttling of failed logins and unknown API tokens, stored in the database.

Counts live in the ``auth_throttle`` table, so every gunicorn worker and every host of an instance
shares them, and nothing grows in a process's memory. A row is keyed by an HMAC (the instance's
secret key) of the rule, the normalised login name and the client address: the key has a fixed
size whatever was typed into the login field, and a copy of the database does not reveal which
names were tried (people type passwords into the name field). Each row counts the failures of one
fixed window and expires with it; expired rows are pruned, so the table holds at most the keys
that failed within the last window.

The rules (documented in docs/deploy.md):

* ``LOGIN_PAIR``: failures per (login name, address). Blocks further attempts for that name from
  that address only, so someone failing for ``admin`` from one address never refuses the real
  admin signing in from another.
* ``LOGIN_ADDRESS``: failures per address over all names, high enough for an office behind one NAT;
  it stops one address from spraying passwords over many names.
* ``API_ADDRESS``: unknown API tokens per address. A valid token is checked first and never
  refused (core of web/api/auth.py); only an address's further unknown tokens wait.

IPv6 addresses count per /64 network (one host usually owns a whole /64).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kundenakte.core.models import AuthThrottle

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

# Logins are at most 80 characters (core/users.py); anything longer cannot name a user.
MAX_LOGIN = 80
PRUNE_EVERY_S = 60.0


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window: dt.timedelta

    @property
    def window_s(self) -> int:
        return int(self.window.total_seconds())


LOGIN_PAIR = Rule("login-pair", 5, dt.timedelta(minutes=5))
LOGIN_ADDRESS = Rule("login-address", 100, dt.timedelta(minutes=15))
API_ADDRESS = Rule("api-address", 30, dt.timedelta(minutes=5))


def normalise_login(login: str) -> str:
    """The form of a login name that counts: trimmed, case-folded, at most ``MAX_LOGIN`` characters."""
    text = unicodedata.normalize("NFKC", login[: MAX_LOGIN * 4]).strip().casefold()
    return text[:MAX_LOGIN]


def normalise_address(address: str | None) -> str:
    """IPv4 as is, IPv6 as its /64 network; anything unparsable as a bounded string."""
    raw = (address or "").strip()
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(frozen=True)
class Key:
    rule: Rule
    digest: str


class Throttle:
    """The instance's throttle; one per ``Kundenakte`` (``ka.throttle``), stateless apart from pruning."""

    def __init__(self, ka: Kundenakte, secret: Callable[[], str]) -> None:
        self.ka = ka
        self._secret_source = secret
        self._secret: bytes | None = None
        self._pruned_at = 0.0
        self._prune_lock = threading.Lock()

    # -- keys ----------------------------------------------------------------------------------

    def key(self, rule: Rule, *parts: str) -> Key:
        if self._secret is None:  # read on first use: CLI commands that never throttle create no key file
            self._secret = self._secret_source().encode("utf-8")
        message = "\x1f".join((rule.name, *parts)).encode("utf-8", "surrogatepass")
        return Key(rule, hmac.new(self._secret, message, hashlib.sha256).hexdigest())

    def login_keys(self, login: str, address: str | None) -> tuple[Key, Key]:
        """The (login name, address) key and the address key of a login attempt."""
        addr = normalise_address(address)
        return self.key(LOGIN_PAIR, normalise_login(login), addr), self.key(LOGIN_ADDRESS, addr)

    def api_key(self, address: str | None) -> Key:
        return self.key(API_ADDRESS, normalise_address(address))

    # -- counting ------------------------------------------------------------------------------

    def blocked(self, *keys: Key) -> Key | None:
        """The first key that reached its rule's limit within its current window, else None."""
        now = self.ka.clock.now()
        by_digest = {k.digest: k for k in keys}
        with self.ka.db.read() as session:
            rows = session.execute(
                select(AuthThrottle.key, AuthThrottle.failures)
                .where(AuthThrottle.key.in_(list(by_digest)), AuthThrottle.expires_at > now)
            ).all()
        for digest, failures in rows:
            key = by_digest[digest]
            if failures >= key.rule.limit:
                return key
        return None

    def fail(self, *keys: Key) -> None:
        """Count one failure for every key, in one short write transaction of its own."""
        now = self.ka.clock.now()
        with self.ka.db.write() as session:
            dialect = session.get_bind().dialect.name
            table = cast(Table, AuthThrottle.__table__)
            for key in keys:
                insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
                expired = table.c.expires_at <= now
                stmt = insert.values(key=key.digest, failures=1, window_start=now, expires_at=now + key.rule.window)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[table.c.key],
                    set_={
                        "failures": case((expired, 1), else_=table.c.failures + 1),
                        "window_start": case((expired, stmt.excluded.window_start), else_=table.c.window_start),
                        "expires_at": case((expired, stmt.excluded.expires_at), else_=table.c.expires_at),
                    },
                )
                session.execute(stmt)
            if self._prune_due():
                session.execute(delete(AuthThrottle).where(AuthThrottle.expires_at <= now))

    def reset(self, session: Session, *keys: Key) -> None:
        """Forget keys (a successful login) in the caller's transaction."""
        session.execute(delete(AuthThrottle).where(AuthThrottle.key.in_([k.digest for k in keys])))

    def retry_after(self, key: Key) -> int:
        """Seconds until the key's window ends (for ``Retry-After``); at least 1."""
        with self.ka.db.read() as session:
            expires = session.scalar(select(AuthThrottle.expires_at).where(AuthThrottle.key == key.digest))
        if expires is None:
            return 1
        return max(1, int((expires - self.ka.clock.now()).total_seconds()) + 1)

    def prune(self) -> int:
        """Delete expired rows now; returns how many."""
        with self.ka.db.write() as session:
            result = session.execute(delete(AuthThrottle).where(AuthThrottle.expires_at <= self.ka.clock.now()))
        return int(getattr(result, "rowcount", 0) or 0)

    def _prune_due(self) -> bool:
        with self._prune_lock:
            now = time.monotonic()
            if now - self._pruned_at < PRUNE_EVERY_S:
                return False
            self._pruned_at = now
            return True


