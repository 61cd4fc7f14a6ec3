"""Personal API tokens: created in the user's settings, shown once, stored only as a SHA-256 hash.

A token is ``ka_`` followed by 43 URL-safe characters (32 random bytes). The database keeps its
SHA-256 hex digest, so a leaked database does not leak usable tokens; with 256 bits of entropy a
plain (unsalted) hash is enough, and looking a token up by its hash needs no comparison in Python
that could leak timing. A token works while it is not revoked and its user is active; the user's
rights are read fresh through ``acl.viewer_for`` on every request, so a token never carries rights
of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kundenakte.core import audit
from kundenakte.core.models import ApiToken, User, utcnow

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

PREFIX = "ka_"
MAX_NAME = 120
MAX_TOKEN_LENGTH = 200
# ``last_used_at`` is written at most this often per token, so reading through the API does not
# turn every GET into a write transaction.
TOUCH_INTERVAL = dt.timedelta(seconds=60)


class TokenError(ValueError):
    """A token cannot be created as asked; ``str(exc)`` is shown to the user."""


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def create_token(session: Session, user_id: int, name: str, *, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for the user; returns the row and the secret, which is never stored or shown again."""
    name = " ".join(str(name or "").split())
    if not name:
        raise TokenError("Bitte eine Bezeichnung angeben.")
    if len(name) > MAX_NAME:
        raise TokenError(f"Höchstens {MAX_NAME} Zeichen.")
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise TokenError("Unbekannter oder deaktivierter Benutzer.")
    secret = new_secret()
    token = ApiToken(user_id=user_id, name=name, token_hash=hash_token(secret), created_at=now or utcnow())
    session.add(token)
    session.flush()
    audit.record(session, user_id, "token_created", "api_token", token.id, name=name)
    return token, secret


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """The user's tokens, active ones first, newest first."""
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return sorted(rows, key=lambda t: t.revoked_at is not None)


def revoke_token(session: Session, user_id: int, token_id: int, *, now: dt.datetime | None = None) -> bool:
    """Revoke one of the user's own tokens; False when it is not theirs or does not exist."""
    token = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))
    if token is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        audit.record(session, user_id, "token_revoked", "api_token", token.id, name=token.name)
    return True


def _plausible(secret: str) -> bool:
    return secret.startswith(PREFIX) and 10 < len(secret) <= MAX_TOKEN_LENGTH and secret.isascii()


def verify_token(session: Session, secret: str) -> ApiToken | None:
    """The live token a secret names: not revoked, its user active; else None (read-only)."""
    if not _plausible(secret):
        return None
    return session.scalar(
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None), User.active.is_(True))
    )


def authenticate(ka: Kundenakte, secret: str) -> int | None:
    """The user id a bearer secret stands for, or None; records ``last_used_at`` (throttled).

    Runs in sessions of its own, before the request's session begins, so that a GET stays a read
    transaction and the occasional ``last_used_at`` write never waits for the request's own lock.
    """
    if not _plausible(secret):
        return None
    with ka.db.read() as session:
        token = verify_token(session, secret)
        if token is None:
            return None
        token_id, user_id, last_used = token.id, token.user_id, token.last_used_at
    now = ka.clock.now()
    if last_used is None or now - last_used >= TOUCH_INTERVAL:
        with ka.db.write() as session:
            session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return user_id
