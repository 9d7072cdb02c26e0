from __future__ import annotations

import pytest

from switchboard.security import (
    InvalidTokenError,
    constant_time_equals,
    generate_token,
    hash_token,
    mask,
    verify_token,
)
from switchboard.security.passwords import hash_password, needs_rehash, verify_password
from switchboard.spec.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        ("sk-abcdefghijklmnopqrstuvwxyz", "sk-\u2026wxyz"),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz", "sk-proj-\u2026wxyz"),
        ("sk-ant-api03-abcdefghijklmnopqrstu-vwxyz", "sk-ant-api03-\u2026wxyz"),
        ("AIzaSyabcdefghijklmnopqrstuvwxyz", "AIza\u2026wxyz"),
        ("abcdefghijklmnop1234", "\u20261234"),  # unknown shape: no prefix kept
        ("sk-short12345", "\u20262345"),  # too short after the prefix: prefix dropped
        ("tiny", "\u2026"),  # too short to show anything
        ("", ""),
    ],
)
def test_mask(secret: str, masked: str) -> None:
    assert mask(secret) == masked


def test_mask_never_reveals_the_middle() -> None:
    secret = "sk-proj-SECRETMIDDLEPART-abcd"
    assert "SECRETMIDDLE" not in mask(secret)


def test_password_hash_and_verify() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "wrong horse")
    assert not verify_password("not-a-hash", "correct horse")
    assert not needs_rehash(stored)
    assert needs_rehash("not-a-hash")


def test_short_password_refused() -> None:
    with pytest.raises(InvalidRequestError, match="at least 8"):
        hash_password("short")


def test_tokens() -> None:
    new = generate_token()
    assert new.token.startswith("sb-") and len(new.token) == 46
    assert new.token_hash == hash_token(new.token) and len(new.token_hash) == 64
    assert new.token not in new.hint and new.hint.endswith(new.token[-4:])
    assert verify_token(new.token, new.token_hash)
    assert not verify_token(generate_token().token, new.token_hash)
    assert not verify_token("sb-nope", new.token_hash)
    assert generate_token().token != new.token
    with pytest.raises(InvalidTokenError, match="tokens create"):
        hash_token("sk-not-ours")


def test_constant_time_equals() -> None:
    assert constant_time_equals("abc", "abc")
    assert not constant_time_equals("abc", "abd")
