"""Mailbox passwords at rest: Fernet (cryptography) with a key derived from the instance secret.

The key is HKDF-SHA256 of ``core.config.instance_secret`` with a purpose label, so the session
secret itself never encrypts anything and a changed secret makes stored passwords unreadable
(the admin enters them again) rather than wrong.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kundenakte.core.config import instance_secret

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

_INFO = b"kundenakte inbound mail account password v1"


class PasswordUnreadable(Exception):
    """The stored password was encrypted with another instance secret."""


def _fernet(ka: Kundenakte) -> Fernet:
    secret = instance_secret(ka.settings).encode("utf-8")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_password(ka: Kundenakte, password: str) -> str:
    return _fernet(ka).encrypt(password.encode("utf-8")).decode("ascii")


def decrypt_password(ka: Kundenakte, token: str) -> str:
    try:
        return _fernet(ka).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise PasswordUnreadable("Das gespeicherte Passwort ist nicht lesbar; bitte neu eingeben.") from exc
