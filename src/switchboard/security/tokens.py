"""API tokens: ``sb-`` + 256 random bits, shown once, stored as a SHA-256 digest.

Why a fast hash is right here (and Argon2 is not): a slow hash protects *low-entropy*
secrets (passwords) from guessing. A token has 256 bits from the OS CSPRNG, so inverting
its SHA-256 is infeasible no matter how fast the hash is — and a deterministic digest lets
every API request find its token by an indexed equality lookup instead of verifying a
memory-hard hash per request. Comparisons are constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from switchboard.security.errors import InvalidTokenError

TOKEN_PREFIX = "sb-"
_TOKEN_BYTES = 32
_SHAPE = re.compile(r"^sb-[A-Za-z0-9_-]{40,64}$")


@dataclass(frozen=True, slots=True)
class NewToken:
    """A freshly generated token. ``token`` is shown to the user once, never stored."""

    token: str
    token_hash: str
    hint: str  # "sb-…wxyz", safe to store and display


def generate_token() -> NewToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    return NewToken(token, hash_token(token), f"{TOKEN_PREFIX}\u2026{token[-4:]}")


def looks_like_token(value: str) -> bool:
    return bool(_SHAPE.match(value))


def hash_token(token: str) -> str:
    """Hex SHA-256 of the token (what the database stores and indexes)."""
    if not looks_like_token(token):
        raise InvalidTokenError(
            "not a Switchboard API token (expected 'sb-' followed by 43 URL-safe "
            "characters); create one with `switchboard tokens create`"
        )
    return checked_token_digest(token)


def checked_token_digest(token: str) -> str:
    """``hash_token`` for a caller that has just checked ``looks_like_token`` itself (the
    bearer check on every API call: one regular-expression match, not two)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def verify_token(token: str, stored_hash: str) -> bool:
    """Constant-time check of ``token`` against a stored digest."""
    if not looks_like_token(token):
        return False
    return constant_time_equals(hash_token(token), stored_hash)


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
