"""Password hashing (scrypt, through Werkzeug) in one place."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(stored_hash: str, password: str) -> bool:
    if not stored_hash:
        return False
    return check_password_hash(stored_hash, password)
