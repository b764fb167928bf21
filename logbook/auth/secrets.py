"""Password and PIN hashing (argon2id) and session tokens: pure, no database."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Module-level so tests can swap in cheaper parameters; verifying reads the
# parameters from the stored hash, so hashes made either way keep working.
HASHER = PasswordHasher()
MIN_PASSWORD = 10
PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")


def check_password_policy(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if len(password) < MIN_PASSWORD:
        return f"at least {MIN_PASSWORD} characters"
    if len(password) > 1024:
        return "at most 1024 characters"
    return None


def check_pin_policy(pin: str) -> str | None:
    if not PIN_PATTERN.match(pin):
        return "4 to 8 digits"
    if len(set(pin)) == 1:
        return "not all the same digit"
    return None


def hash_secret(secret: str) -> str:
    return HASHER.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """True if ``secret`` matches; with no stored hash, still spends the time of a check."""
    try:
        return HASHER.verify(stored_hash or _dummy_hash(), secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough to keep a database
    # leak from yielding usable sessions.
    return hashlib.sha256(token.encode()).hexdigest()


_dummy: list[str] = []


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(HASHER.hash("timing-equaliser-not-a-real-secret"))
    return _dummy[0]
